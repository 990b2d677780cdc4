"""The identifiers of a person's rows, normalized by the standardization rules.

A row's identifiers are texts of a few kinds: ``record:source:id`` and ``ref:system:id``
(a person record, and references to it from the same system), normalized ``email:``
addresses (as written and without a ``+alias``; a role mailbox such as ``info@`` identifies
no one) and E.164 ``phone:`` numbers. An erasure finds and removes rows by them; a
tombstone keeps only their salted hashes (:mod:`workbench.tombstones`), and ingest drops
the rows of a new load whose identifiers hash to one (:mod:`workbench.ingest.suppress`).
"""

from __future__ import annotations

import re

import polars as pl

from workbench.config import Project
from workbench.dictionary import FieldType, ObjectSpec
from workbench.standardize import phones, rules

MATCHING = ("record", "email", "ref")  # identifier kinds that remove or suppress a row
_ALIAS = re.compile(r"^([^@+]+)\+[^@]*@")


def email_texts(value: str | None) -> list[str]:
    """``email:`` identifiers of an address: as written (trimmed, lower-cased, a final dot
    dropped as :func:`rules.email` does, and with it too) and without a ``+alias``; none for
    a role mailbox or an empty value."""
    if value is None:
        return []
    written = value.strip().lower()
    text = written.removesuffix(".")  # as rules.email: x.com. is x.com
    if not text or "@" not in text or re.match(f"^({rules.ROLE_MAILBOXES})@", text):
        return []
    forms = {text, _ALIAS.sub(r"\1@", text)}
    if written != text:  # tombstones made before the final dot was dropped hash it with it
        forms |= {written, _ALIAS.sub(r"\1@", written)}
    return sorted(f"email:{form}" for form in forms)


def phone_text(value: str, region: str | None = None) -> str | None:
    number = phones.e164(value, region)
    return None if number is None else f"phone:{number}"


def fields_of(spec: ObjectSpec, kind: FieldType) -> list[str]:
    return [n for n, f in spec.fields.items() if f.type is kind]


def person_object(project: Project) -> str | None:
    """The object whose records are people (the project's pack's), if the project has it."""
    name = project.pack.person_object
    return name if name in project.dictionary.objects else None


def ref_fields(spec: ObjectSpec, person: str | None) -> list[str]:
    """Fields of ``spec`` referring to a person record: ``references: <person>.record_id``,
    or named after the person object (``contact_id`` for ``contacts``)."""
    if person is None:
        return []
    named = f"{person.removesuffix('s')}_id"
    return [
        n
        for n, f in spec.fields.items()
        if f.rules.references == f"{person}.record_id" or n == named
    ]


def time_fields(spec: ObjectSpec) -> list[str]:
    return spec.dated_fields()


def identifiers(
    project: Project, source_name: str, rows: pl.DataFrame, *, phones: bool = False
) -> pl.DataFrame:
    """One row per identifier of each row: ``_load_id``, ``_row_number``, ``kind``, ``text``.

    Person rows give ``record:source:id``, ``ref:system:id``, their emails and (with
    ``phones``) E.164 numbers; other rows their emails and references to person records.
    """
    source = project.source(source_name)
    spec = project.dictionary.object(source.object)
    keys = ["_load_id", "_row_number"]
    parts: list[pl.DataFrame] = []

    def add(kind: str, texts: pl.Expr) -> None:
        frame = rows.select(*keys, texts.alias("text")).drop_nulls("text")
        parts.append(frame.with_columns(pl.lit(kind).alias("kind")))

    person_obj = person_object(project)
    person = source.object == person_obj
    rid = pl.col("record_id").cast(pl.String).str.strip_chars()
    if person:
        add("record", pl.format("record:{}:{}", pl.lit(source_name), rid))
        add("ref", pl.format("ref:{}:{}", pl.lit(source.system), rid))
    for name in ref_fields(spec, person_obj) if not person else []:
        value = pl.col(name).cast(pl.String).str.strip_chars()
        add("ref", pl.format("ref:{}:{}", pl.lit(source.system), value))
    for name in fields_of(spec, FieldType.EMAIL):
        plain = rules.email(pl.col(name).cast(pl.String))
        role = plain.str.contains(f"^({rules.ROLE_MAILBOXES})@") | ~plain.str.contains("@")
        keep = pl.when(~role & (plain != "")).then(plain)
        add("email", pl.format("email:{}", keep))
        add("email", pl.format("email:{}", rules.email_without_alias(keep)))
        # an address with a final dot also as written: tombstones made before rules.email
        # dropped the dot hash it so, and must still find its rows
        written = pl.col(name).cast(pl.String).str.strip_chars().str.to_lowercase()
        dotted = pl.when(~role & (plain != "") & (written != plain)).then(written)
        add("email", pl.format("email:{}", dotted))
        add("email", pl.format("email:{}", rules.email_without_alias(dotted)))
    if phones and person:
        for name in fields_of(spec, FieldType.PHONE):
            field, default = spec.region_field(name), source.options.default_region
            region = rules.phone_region(field, rows.columns, default)
            raw = rows.select(pl.col(name).cast(pl.String), region.alias("r"))
            e164 = rules.phone_e164(raw[name], raw["r"])
            parts.append(
                rows.select(keys)
                .with_columns(("phone:" + e164).alias("text"), pl.lit("phone").alias("kind"))
                .drop_nulls("text")
            )
    schema = {"_load_id": pl.Int64, "_row_number": pl.Int64, "text": pl.String, "kind": pl.String}
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat([p.cast(schema) for p in parts]).unique()  # type: ignore[arg-type]


def shown_fields(spec: ObjectSpec) -> list[str]:
    """What identifies a person to a reader: the record id, names (``identity: name``),
    email addresses and phone numbers, as the dictionary says."""
    names = [n for n, f in spec.fields.items() if f.identity == "name"]
    contact = [*fields_of(spec, FieldType.EMAIL), *fields_of(spec, FieldType.PHONE)]
    return ["record_id", *names, *contact]


def needed_fields(project: Project, source_name: str, *, phones: bool) -> list[str]:
    spec = project.dictionary.object(project.source(source_name).object)
    refs = ref_fields(spec, person_object(project))
    out = ["record_id", *fields_of(spec, FieldType.EMAIL), *refs, *time_fields(spec)]
    if phones:
        regions = [spec.region_field(n) for n in fields_of(spec, FieldType.PHONE)]
        out += [*shown_fields(spec), *(r for r in regions if r is not None)]
    return list(dict.fromkeys(out))
