"""The identifiers of a person's rows, and the salted hashes a tombstone keeps of them.

A row's identifiers are texts of a few kinds: ``record:source:id`` and ``ref:system:id``
(a person record, and references to it from the same system), normalized ``email:``
addresses (as written and without a ``+alias``; a role mailbox such as ``info@`` identifies
no one) and E.164 ``phone:`` numbers. An erasure finds and removes rows by them, and a
tombstone keeps only their salted sha256 (:func:`digest`), with the salt generated once
per warehouse (:func:`salt_of`).
"""

from __future__ import annotations

import hashlib
import re
import secrets

import phonenumbers
import polars as pl

from workbench.config import Project
from workbench.dictionary import FieldType, ObjectSpec
from workbench.standardize import rules
from workbench.store import Store

PERSON = "contacts"
SALT_KEY = "tombstone_salt"
MATCHING = ("record", "email", "ref")  # identifier kinds that remove or suppress a row
DDL = (
    """CREATE TABLE IF NOT EXISTS meta.tombstones (
        tombstone_id BIGINT NOT NULL, kind VARCHAR NOT NULL, hash VARCHAR NOT NULL,
        erased_at TIMESTAMPTZ NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS meta.settings (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
)
_ALIAS = re.compile(r"^([^@+]+)\+[^@]*@")


def email_texts(value: str | None) -> list[str]:
    """``email:`` identifiers of an address: as written (trimmed, lower-cased) and without
    a ``+alias``; none for a role mailbox or an empty value."""
    if value is None:
        return []
    text = value.strip().lower()
    if not text or "@" not in text or re.match(f"^({_role_mailboxes()})@", text):
        return []
    bare = _ALIAS.sub(r"\1@", text)
    return sorted({f"email:{text}", f"email:{bare}"})


def _role_mailboxes() -> str:
    from workbench.resolve.features import ROLE_MAILBOXES  # the resolver's list, one place

    return ROLE_MAILBOXES


def phone_text(value: str, region: str | None = None) -> str | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return "phone:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _fields(spec: ObjectSpec, kind: FieldType) -> list[str]:
    return [n for n, f in spec.fields.items() if f.type is kind]


def _ref_fields(spec: ObjectSpec) -> list[str]:
    return [
        n
        for n, f in spec.fields.items()
        if f.rules.references == f"{PERSON}.record_id" or n == "contact_id"
    ]


def _time_fields(spec: ObjectSpec) -> list[str]:
    return [n for n, f in spec.fields.items() if f.type in (FieldType.DATE, FieldType.TIMESTAMP)]


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

    person = source.object == PERSON
    rid = pl.col("record_id").cast(pl.String).str.strip_chars()
    if person:
        add("record", pl.format("record:{}:{}", pl.lit(source_name), rid))
        add("ref", pl.format("ref:{}:{}", pl.lit(source.system), rid))
    for name in _ref_fields(spec) if not person else []:
        value = pl.col(name).cast(pl.String).str.strip_chars()
        add("ref", pl.format("ref:{}:{}", pl.lit(source.system), value))
    for name in _fields(spec, FieldType.EMAIL):
        plain = rules.email(pl.col(name).cast(pl.String))
        role = plain.str.contains(f"^({_role_mailboxes()})@") | ~plain.str.contains("@")
        keep = pl.when(~role & (plain != "")).then(plain)
        add("email", pl.format("email:{}", keep))
        add("email", pl.format("email:{}", rules.email_without_alias(keep)))
    if phones and person:
        for name in _fields(spec, FieldType.PHONE):
            region = (
                pl.when(pl.col("country").str.contains(r"^[A-Z]{2}$"))
                .then(pl.col("country"))
                .otherwise(pl.lit(source.options.default_region))
                if "country" in rows.columns
                else pl.lit(source.options.default_region, pl.String)
            )
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


def _needed(project: Project, source_name: str, *, phones: bool) -> list[str]:
    spec = project.dictionary.object(project.source(source_name).object)
    out = ["record_id", *_fields(spec, FieldType.EMAIL), *_ref_fields(spec), *_time_fields(spec)]
    if phones:
        out += [*_fields(spec, FieldType.PHONE), "country", "first_name", "last_name"]
    return out


def digest(salt: str, text: str) -> str:
    """The salted sha256 a tombstone keeps of one identifier."""
    return hashlib.sha256(f"{salt}\x1f{text}".encode()).hexdigest()


def salt_of(store: Store, *, create: bool) -> str | None:
    """The warehouse's tombstone salt, generated once."""
    for statement in DDL:
        store.execute(statement)
    salt = store.scalar("SELECT value FROM meta.settings WHERE key = $k", {"k": SALT_KEY})
    if salt is None and create:
        salt = secrets.token_hex(32)
        store.execute("INSERT INTO meta.settings VALUES ($k, $v)", {"k": SALT_KEY, "v": salt})
    return salt
