"""Finding the person an erasure removes, from one identifier.

The person records (``contacts``) holding an email address, a phone number or a
``source:record_id``, then, through the identity graph (``id.members``, asked of the
resolver: :func:`workbench.resolve.forget.members`), every record of the entities those
records belong to; or, from an entity id, its records.
"""

from __future__ import annotations

import re
from typing import Literal

import polars as pl

from workbench.config import Project
from workbench.dictionary import FieldType
from workbench.errors import GovernanceError
from workbench.ingest.staging import canonical_rows
from workbench.privacy import mask_record
from workbench.record_ids import SEPARATOR, split_unique_id, unique_id
from workbench.resolve.forget import members
from workbench.standardize.identifiers import (
    email_texts,
    fields_of,
    identifiers,
    needed_fields,
    phone_text,
    shown_fields,
)
from workbench.store import Store, quote_ident

Kind = Literal["email", "phone", "entity", "record"]


def person_sources(project: Project) -> list[str]:
    person = project.person_object()
    return [n for n, s in project.config.sources.items() if s.object == person]


def _query(project: Project, kind: Kind, value: str) -> set[str]:
    """The identifier texts that find the person's records."""
    if kind == "email":
        texts = set(email_texts(value))
        if not texts:
            raise GovernanceError(
                f"{value!r} is not a personal email address (empty, malformed or a role "
                "mailbox such as info@ that many people share).",
                where="--email",
                fix="Give the person's own address, or use --record SOURCE:ID.",
            )
        return texts
    if kind == "phone":
        text = phone_text(value)
        if text is None:
            raise GovernanceError(
                f"{value!r} is not a phone number in international form.",
                where="--phone",
                fix="Give it with its country code, e.g. +49 30 1234567.",
            )
        return {text}
    source, record_id = split_unique_id(value)
    if SEPARATOR not in value or source not in person_sources(project):
        raise GovernanceError(
            f"{value!r} is not a person record as SOURCE:ID.",
            where="--record",
            fix=f"Use one of the {project.person_object()} sources: "
            f"{', '.join(person_sources(project))}.",
        )
    return {f"record:{unique_id(source, record_id.strip())}"}


def _seed_rows(store: Store, project: Project, kind: Kind, value: str) -> dict[str, pl.DataFrame]:
    """Person rows (every load) holding the identifier, per source."""
    texts = _query(project, kind, value)
    found: dict[str, pl.DataFrame] = {}
    phones = fields_of(project.dictionary.object(project.person_object()), FieldType.PHONE)
    for name in person_sources(project):
        where, params = "true", None
        if kind == "phone":  # parse only numbers ending in the same digits
            cols = [
                f.from_ for n, f in project.source(name).columns.items()
                if n in phones and f.from_
            ]  # fmt: skip
            if not cols:
                continue
            tail = re.sub(r"\D", "", value)[-6:]
            where = " OR ".join(
                f"right(regexp_replace({quote_ident(c)}, '\\D', '', 'g'), 6) = $tail" for c in cols
            )
            params = {"tail": tail}
        rows = canonical_rows(
            store, project, name, needed_fields(project, name, phones=True), where, params
        )
        ids = identifiers(project, name, rows, phones=kind == "phone")
        hits = ids.filter(pl.col("text").is_in(sorted(texts))).select("_load_id", "_row_number")
        found[name] = rows.join(hits.unique(), on=["_load_id", "_row_number"])
    return found


def find_person(
    store: Store, project: Project, kind: Kind, value: str
) -> tuple[list[str], list[str]]:
    """The person's records (``source:record_id``) and entities, through the identity graph."""
    person = project.person_object()
    if kind == "entity":
        seeds: set[str] = set()
        entities = {value}
    else:
        seeds = person_uids(list(_seed_rows(store, project, kind, value).items()))
        entities = members(store, person, "entity_id", by="unique_id", values=sorted(seeds))
    records = seeds | members(store, person, "unique_id", by="entity_id", values=sorted(entities))
    if not records:
        shown = value if kind in ("entity", "record") else "the given " + kind
        raise GovernanceError(
            f"No record of {shown} was found; nothing to erase.",
            where=f"--{'entity-id' if kind == 'entity' else kind}",
            fix="Check the value (`workbench export entities` lists records and entities).",
        )
    return sorted(records), sorted(entities)


def person_uids(person_rows: list[tuple[str, pl.DataFrame]]) -> set[str]:
    out = set()
    for name, rows in person_rows:
        out |= {f"{name}:{str(r).strip()}" for r in rows["record_id"].to_list() if r is not None}
    return out


def raw_phones(project: Project, person_rows: list[tuple[str, pl.DataFrame]]) -> set[str]:
    """The person's phone numbers as the exports wrote them (lower-cased; six characters or
    more), to find them in rejected export lines."""
    phone_fields = fields_of(project.dictionary.object(project.person_object()), FieldType.PHONE)
    out: set[str] = set()
    for _, rows in person_rows:
        for column in rows.columns:
            if column in phone_fields and rows[column].dtype == pl.String:
                out |= {
                    v.strip().lower()
                    for v in rows[column].drop_nulls().to_list()
                    if len(v.strip()) >= 6
                }
    return out


def preview(project: Project, person_rows: list[tuple[str, pl.DataFrame]]) -> pl.DataFrame:
    """The person's records as a reader recognizes them (see ``shown_fields``), masked;
    fields no record has a value in are left out."""
    spec = project.dictionary.object(project.person_object())
    shown = shown_fields(spec)
    records = []
    for name, rows in person_rows:
        for row in rows.unique(["record_id"]).iter_rows(named=True):
            masked = mask_record({k: row.get(k) for k in shown if k in spec.fields}, spec)
            records.append(
                {"source": name, **{k: None if v is None else str(v) for k, v in masked.items()}}
            )
    if not records:
        return pl.DataFrame(schema={"source": pl.String})
    frame = pl.DataFrame(records)
    empty = [
        c for c in frame.columns if c not in ("source", "record_id") and frame[c].is_null().all()
    ]
    return frame.drop(empty)
