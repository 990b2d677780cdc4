"""Erasure: remove every record of one person, and keep them from coming back.

**Who.** The person is found from one identifier (an email, a phone number, an entity id or
one ``source:record_id``): the person records (``contacts``) holding it, then, through the
identity graph (``id.members``), every record of the entities those records belong to.

**What "the person's data" covers.** (1) Every one of those person records, in every load
kept in ``raw``, in staging, core and quarantine; (2) every activity row that identifies
the person: an email-type field equal to one of their email addresses (``leads.email``,
``tickets.requester_email``), or a reference to one of their records in the same system
(a field that ``references: contacts.record_id``, or is named ``contact_id``: deals,
tickets, leads and invoices of that person); (3) their rows of ``id`` (members, pairs,
review queue and decisions, the stored golden record of an entity of several records,
entity events); (4) rejected export lines
(``quar.ingest_rejects``) that contain one of their email addresses or phone numbers.
A role mailbox (``info@``, ``sales@``, ...) is shared by many people and identifies no one:
it is neither used to find rows nor kept. A phone number alone finds the person to erase
but does not remove other rows (households share one).

**Tombstone.** ``meta.tombstones`` keeps only salted sha256 hashes of the erased
identifiers (``record:source:id``, normalized ``email:``, E.164 ``phone:``, ``ref:system:id``);
the salt is generated once and kept in ``meta.settings`` (:mod:`.identifiers`). A later
load drops rows that hash to a tombstone (:func:`suppress`, counted in the ledger's
``rows_suppressed``).

Reports of periods that may show the person (every period ending after their earliest
record) are marked stale in ``meta.report_runs``; those of them rendered unmasked, and the
unmasked exports the audit trail recorded, are listed (:mod:`.outputs`), and the report
files can be removed. All of it happens in one transaction, with an audit entry that names
no erased value. Then the warehouse is rewritten into a fresh file (:mod:`.compact`), since
DuckDB keeps deleted values in the file's blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from workbench import audit
from workbench.config import Project
from workbench.dictionary import FieldType, ObjectSpec
from workbench.errors import GovernanceError
from workbench.governance import outputs
from workbench.governance.identifiers import (
    MATCHING,
    PERSON,
    _fields,
    _needed,
    _time_fields,
    digest,
    email_texts,
    identifiers,
    phone_text,
    salt_of,
)
from workbench.governance.identifiers import SALT_KEY as SALT_KEY  # for callers of this name
from workbench.governance.lineage import canonical_rows, delete_rows
from workbench.privacy import mask_record
from workbench.store import Store, quote_ident, table

if TYPE_CHECKING:
    from workbench.governance.compact import CompactResult

Kind = Literal["email", "phone", "entity", "record"]


@dataclass(frozen=True)
class Target:
    """The rows of one table an erasure removes: ``WHERE where``, ``params`` bound."""

    schema: str
    name: str
    where: str
    params: dict[str, Any]
    shown: str = ""  # the name reported, when not schema.name (a view's, for golden records)


@dataclass
class ErasurePlan:
    """What an erasure removes (or, with ``dry_run``, would remove): the dry run counts the
    rows of ``targets``, the erasure deletes them; both fill ``rows`` and ``tables``."""

    records: list[str]  # the person records, source:record_id
    entities: list[str]
    preview: pl.DataFrame  # the person records, masked
    targets: list[Target] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # rows removed per table, as shown
    tables: dict[str, int] = field(default_factory=dict)  # per stored table (id._golden_...)
    stale_reports: list[str] = field(default_factory=list)
    tombstone_id: int | None = None
    identifiers: int = 0
    reports: list[outputs.ReportFile] = field(default_factory=list)  # rendered unmasked
    exports: list[outputs.ExportFile] = field(default_factory=list)  # unmasked, recorded
    copies: list[Path] = field(default_factory=list)  # backups and .bak warehouses
    removed: list[Path] = field(default_factory=list)  # report files removed
    compacted: CompactResult | None = None


# -- finding the person ------------------------------------------------------------------------
def _person_sources(project: Project) -> list[str]:
    return [n for n, s in project.config.sources.items() if s.object == PERSON]


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
    source, sep, record_id = value.partition(":")
    if not sep or source not in _person_sources(project):
        raise GovernanceError(
            f"{value!r} is not a person record as SOURCE:ID.",
            where="--record",
            fix=f"Use one of the {PERSON} sources: {', '.join(_person_sources(project))}.",
        )
    return {f"record:{source}:{record_id.strip()}"}


def _seed_rows(store: Store, project: Project, kind: Kind, value: str) -> dict[str, pl.DataFrame]:
    """Person rows (every load) holding the identifier, per source."""
    texts = _query(project, kind, value)
    found: dict[str, pl.DataFrame] = {}
    for name in _person_sources(project):
        where, params = "true", None
        if kind == "phone":  # parse only numbers ending in the same digits
            cols = [
                f.from_ for n, f in project.source(name).columns.items()
                if n in _fields(project.dictionary.object(PERSON), FieldType.PHONE) and f.from_
            ]  # fmt: skip
            if not cols:
                continue
            tail = re.sub(r"\D", "", value)[-6:]
            where = " OR ".join(
                f"right(regexp_replace({quote_ident(c)}, '\\D', '', 'g'), 6) = $tail" for c in cols
            )
            params = {"tail": tail}
        rows = canonical_rows(
            store, project, name, _needed(project, name, phones=True), where, params
        )
        ids = identifiers(project, name, rows, phones=kind == "phone")
        hits = ids.filter(pl.col("text").is_in(sorted(texts))).select("_load_id", "_row_number")
        found[name] = rows.join(hits.unique(), on=["_load_id", "_row_number"])
    return found


def find_person(
    store: Store, project: Project, kind: Kind, value: str
) -> tuple[list[str], list[str]]:
    """The person's records (``source:record_id``) and entities, through the identity graph."""
    if kind == "entity":
        seeds: set[str] = set()
        entities = {value}
    else:
        seeds = _person_uids(list(_seed_rows(store, project, kind, value).items()))
        entities = _members(store, "entity_id", by="unique_id", values=sorted(seeds))
    records = seeds | _members(store, "unique_id", by="entity_id", values=sorted(entities))
    if not records:
        shown = value if kind in ("entity", "record") else "the given " + kind
        raise GovernanceError(
            f"No record of {shown} was found; nothing to erase.",
            where=f"--{'entity-id' if kind == 'entity' else kind}",
            fix="Check the value (`workbench export entities` lists records and entities).",
        )
    return sorted(records), sorted(entities)


# -- erasing -----------------------------------------------------------------------------------
def erase(
    project: Project,
    store: Store,
    kind: Kind,
    value: str,
    *,
    dry_run: bool = False,
    remove_reports: bool = False,
    compact: bool = True,
) -> ErasurePlan:
    """Erase the person found by ``kind``/``value`` (see the module doc); with ``dry_run``
    only say what would be removed.

    Both run the same plan: :attr:`ErasurePlan.targets` names every table and the rows of it
    to remove; a dry run counts those rows, the erasure deletes them, and
    :attr:`ErasurePlan.rows` reports either count per table. Both list the report files of
    affected periods rendered unmasked (:attr:`ErasurePlan.reports`) and the unmasked
    exports recorded (:attr:`ErasurePlan.exports`).

    After the erasure has committed, ``remove_reports`` deletes those report files (audit
    entry ``reports_removed``), and ``compact`` rewrites the warehouse so that no byte of
    the erased rows is left in its file; ``store`` is then open on the new file.

    Raises:
        GovernanceError: nothing to erase, or the rewrite failed (the erasure itself is
            committed then; :func:`~workbench.governance.compact.compact` can be run again).
    """
    plan, texts, earliest = _plan(project, store, kind, value)
    if dry_run:
        _run(store, plan, delete=False)
        plan.stale_reports = outputs.mark_stale(store, earliest, mark=None)
        plan.reports = outputs.unmasked_reports(project, store, earliest)
        plan.exports = outputs.unmasked_exports(project, store)
        plan.copies = outputs.warehouse_copies(project)
        return plan
    with store.transaction():
        salt = salt_of(store, create=True)
        assert salt is not None
        _run(store, plan, delete=True)
        tomb = int(store.scalar("SELECT coalesce(max(tombstone_id), 0) + 1 FROM meta.tombstones"))
        now = datetime.now(UTC)
        hashes = pl.DataFrame(
            {"kind": list(texts.values()), "hash": [digest(salt, t) for t in texts]}
        ).unique()
        with store.registered("_wb_tomb", hashes):
            store.execute(
                "INSERT INTO meta.tombstones SELECT $id, kind, hash, $at FROM _wb_tomb",
                {"id": tomb, "at": now},
            )
        plan.tombstone_id = tomb
        reason = f"personal data erased {now:%Y-%m-%d} (tombstone {tomb})"
        plan.stale_reports = outputs.mark_stale(store, earliest, mark=reason)
        plan.reports = outputs.unmasked_reports(project, store, earliest)
        plan.exports = outputs.unmasked_exports(project, store)
        plan.copies = outputs.warehouse_copies(project)
        details: dict[str, Any] = {"by": kind, "tombstone_id": tomb, "records": len(plan.records)}
        details |= {"rows": plan.rows, "stale_reports": len(plan.stale_reports)}
        details |= {"unmasked_report_files": len(plan.reports)}
        audit.record(store, "erase", details, project=project)
        from workbench.governance.tombstones import keep  # a copy outside the warehouse

        keep(project, tomb, salt, hashes.iter_rows(), now)
    if remove_reports and plan.reports:
        why = {"reason": "erase", "tombstone_id": tomb}
        plan.removed = outputs.remove_reports(project, store, plan.reports, why)
    if compact and store.path is not None:
        from workbench.governance.compact import compact as rewrite  # (it imports erasure)

        plan.compacted = rewrite(store)
    return plan


def _plan(
    project: Project, store: Store, kind: Kind, value: str
) -> tuple[ErasurePlan, dict[str, str], datetime | None]:
    """The plan (nothing changed yet), the person's identifier texts (text -> kind) and the
    earliest date of their rows."""
    records, entities = find_person(store, project, kind, value)
    # the person's own rows, every load: their identifiers make the tombstone
    person_rows: list[tuple[str, pl.DataFrame]] = []
    texts: dict[str, str] = {}
    for name in _person_sources(project):
        mine = [r.split(":", 1)[1] for r in records if r.split(":", 1)[0] == name]
        if not mine:
            continue
        rows = canonical_rows(
            store, project, name, _needed(project, name, phones=True),
            "list_contains($ids::VARCHAR[], trim(" + _record_column(project, name) + "))",
            {"ids": mine},
        )  # fmt: skip
        person_rows.append((name, rows))
        for kind_, text in (
            identifiers(project, name, rows, phones=True).select("kind", "text").iter_rows()
        ):
            texts[text] = kind_
    matching = {t for t, k in texts.items() if k in MATCHING}
    # every row, of every source, that identifies the person
    keys: dict[str, list[str]] = {}  # source -> "source:load:row" of its rows
    swept: list[tuple[str, pl.DataFrame]] = []
    earliest: datetime | None = None
    for name in project.config.sources:
        rows = canonical_rows(store, project, name, _needed(project, name, phones=False))
        ids = identifiers(project, name, rows)
        hit = ids.filter(pl.col("text").is_in(sorted(matching))).select("_load_id", "_row_number")
        hit_rows = rows.join(hit.unique(), on=["_load_id", "_row_number"])
        if hit_rows.height == 0:
            continue
        keys[name] = sorted(
            f"{name}:{load}:{row}"
            for load, row in hit_rows.select("_load_id", "_row_number").iter_rows()
        )
        if project.source(name).object == PERSON:  # e.g. a record sharing their address
            swept.append((name, hit_rows))
        earliest = _earliest(
            earliest, hit_rows, project.dictionary.object(project.source(name).object)
        )
    unique_ids = sorted(set(records) | _person_uids(person_rows + swept))
    entities = sorted(
        set(entities) | _members(store, "entity_id", by="unique_id", values=unique_ids)
    )
    needles = sorted(
        {t.split(":", 1)[1] for t, k in texts.items() if k == "email"} | _raw_phones(person_rows)
    )
    targets = [
        *_lineage_targets(store, project, keys),
        *_identity_targets(store, unique_ids, entities),
        *_reject_targets(store, needles),
    ]
    plan = ErasurePlan(
        records, entities, _preview(project, person_rows), targets, identifiers=len(texts)
    )
    return plan, texts, earliest


def _run(store: Store, plan: ErasurePlan, *, delete: bool) -> None:
    """Count (``delete=False``) or delete the rows of every target, with the same WHERE and
    parameters; fills ``plan.tables`` and ``plan.rows`` (tables with no rows left out)."""
    verb = "DELETE" if delete else "SELECT count(*)"
    for target in plan.targets:
        sql = f"{verb} FROM {table(target.schema, target.name)} WHERE {target.where}"
        n = int(store.rows(sql, target.params)[0][0])
        if n:
            stored = f"{target.schema}.{target.name}"
            plan.tables[stored] = plan.tables.get(stored, 0) + n
            shown = target.shown or stored
            plan.rows[shown] = plan.rows.get(shown, 0) + n


def _record_column(project: Project, source_name: str) -> str:
    fmap = project.source(source_name).columns["record_id"]
    return quote_ident(fmap.from_) if fmap.from_ else "NULL"


def _earliest(current: datetime | None, rows: pl.DataFrame, spec: ObjectSpec) -> datetime | None:
    for name in _time_fields(spec):
        if name not in rows.columns:
            continue
        low = rows[name].min()
        if isinstance(low, datetime):
            stamp = low if low.tzinfo else low.replace(tzinfo=UTC)
        elif isinstance(low, date):
            stamp = datetime(low.year, low.month, low.day, tzinfo=UTC)
        else:
            continue
        current = stamp if current is None or stamp < current else current
    return current


def _members(store: Store, column: str, *, by: str, values: list[str]) -> set[str]:
    """``column`` of the person rows of ``id.members`` whose ``by`` is one of ``values``."""
    if not values or not store.table_exists("id", "members"):
        return set()
    sql = f"SELECT DISTINCT {quote_ident(column)} FROM id.members WHERE object = $o "
    sql += f"AND list_contains($v::VARCHAR[], {quote_ident(by)})"
    return {r[0] for r in store.rows(sql, {"o": PERSON, "v": values})}


def _person_uids(person_rows: list[tuple[str, pl.DataFrame]]) -> set[str]:
    out = set()
    for name, rows in person_rows:
        out |= {f"{name}:{str(r).strip()}" for r in rows["record_id"].to_list() if r is not None}
    return out


def _raw_phones(person_rows: list[tuple[str, pl.DataFrame]]) -> set[str]:
    out: set[str] = set()
    for _, rows in person_rows:
        for column in rows.columns:
            if column.startswith("phone") and rows[column].dtype == pl.String:
                out |= {
                    v.strip().lower()
                    for v in rows[column].drop_nulls().to_list()
                    if len(v.strip()) >= 6
                }
    return out


def _preview(project: Project, person_rows: list[tuple[str, pl.DataFrame]]) -> pl.DataFrame:
    spec = project.dictionary.object(PERSON)
    shown = ["record_id", "first_name", "last_name", "email", "phone"]
    records = []
    for name, rows in person_rows:
        for row in rows.unique(["record_id"]).iter_rows(named=True):
            masked = mask_record({k: row.get(k) for k in shown if k in spec.fields}, spec)
            records.append(
                {"source": name, **{k: None if v is None else str(v) for k, v in masked.items()}}
            )
    return pl.DataFrame(records) if records else pl.DataFrame(schema={"source": pl.String})


def _lineage_targets(store: Store, project: Project, keys: dict[str, list[str]]) -> list[Target]:
    """The rows ``keys`` (source -> ``source:load:row``) in ``raw.<source>``, every load, and
    the rows made from them in staging, core and the quarantine."""
    out: list[Target] = []

    def add(schema: str, name: str, source: str, prefix: str, **params: Any) -> None:
        if params["k"] and store.table_exists(schema, name):
            lineage = f"{source} || ':' || {prefix}load_id || ':' || {prefix}row_number"
            out.append(
                Target(schema, name, f"({lineage}) IN (SELECT unnest($k::VARCHAR[]))", params)
            )

    by_object: dict[str, list[str]] = {}
    for name, mine in sorted(keys.items()):
        add("raw", name, "$s::VARCHAR", "_", s=name, k=mine)
        by_object.setdefault(project.source(name).object, []).extend(mine)
    for schema in ("stg", "core"):
        for obj, mine in sorted(by_object.items()):
            add(schema, obj, "_source", "_", k=mine)
    for name in ("rows", "failures"):  # their columns: source, load_id, row_number
        add("quar", name, "source", "", k=[k for mine in keys.values() for k in mine])
    return out


def _identity_targets(store: Store, unique_ids: list[str], entities: list[str]) -> list[Target]:
    """The identity rows of the records ``unique_ids`` and the entities ``entities``."""
    pair = (
        "(list_contains($u::VARCHAR[], unique_id_l) OR list_contains($u::VARCHAR[], unique_id_r))"
    )
    events = (
        "(list_contains($e::VARCHAR[], entity_id) OR list_contains($e::VARCHAR[], other_entity_id))"
    )
    by_record = {"o": PERSON, "u": unique_ids}
    out = []
    for name, where, params in (
        ("members", "object = $o AND list_contains($u::VARCHAR[], unique_id)", by_record),
        ("pairs", f"object = $o AND {pair}", by_record),
        ("review_queue", f"object = $o AND {pair}", by_record),
        ("review_decisions", f"object = $o AND {pair}", by_record),
        ("entity_events", f"object = $o AND {events}", {"o": PERSON, "e": entities}),
        # golden records: the table behind the view, or a table of the earlier layout
        (f"_golden_{PERSON}", "list_contains($e::VARCHAR[], entity_id)", {"e": entities}),
        (f"golden_{PERSON}", "list_contains($e::VARCHAR[], entity_id)", {"e": entities}),
    ):
        if store.table_exists("id", name, views=False):  # reported under the view's name
            out.append(Target("id", name, where, params, shown=f"id.{name.removeprefix('_')}"))
    return out


def _reject_targets(store: Store, needles: list[str]) -> list[Target]:
    """Rejected export lines holding one of ``needles`` (addresses, phone numbers as written)."""
    if not needles or not store.table_exists("quar", "ingest_rejects"):
        return []
    match = "len(list_filter($n::VARCHAR[], lambda x: contains(lower(raw_record), x))) > 0"
    return [Target("quar", "ingest_rejects", match, {"n": needles})]


def _stale(store: Store, earliest: datetime | None, *, mark: str | None) -> list[str]:
    """Report runs of periods ending after ``earliest``; marked stale when ``mark`` is given
    (see :func:`.outputs.mark_stale`, kept here for callers of this name)."""
    return outputs.mark_stale(store, earliest, mark=mark)


# -- suppression at load -----------------------------------------------------------------------
def suppress(store: Store, project: Project, source_name: str, load_id: int) -> int:
    """Drop the rows of a new load that belong to an erased person (their identifiers hash
    to a tombstone); returns how many. Called by the loader inside the load's transaction."""
    if not store.table_exists("meta", "tombstones"):
        return 0
    if not store.scalar("SELECT count(*) FROM meta.tombstones"):
        return 0
    salt = salt_of(store, create=False)
    if salt is None:
        return 0
    rows = canonical_rows(
        store, project, source_name, _needed(project, source_name, phones=False),
        "_load_id = $load", {"load": load_id},
    )  # fmt: skip
    ids = identifiers(project, source_name, rows).filter(pl.col("kind").is_in(MATCHING))
    if ids.height == 0:
        return 0
    distinct = ids["text"].unique().to_list()
    hashed = pl.DataFrame({"text": distinct, "hash": [digest(salt, t) for t in distinct]})
    with store.registered("_wb_hashes", hashed):
        known = {
            r[0]
            for r in store.rows(
                "SELECT h.hash FROM _wb_hashes h JOIN meta.tombstones t ON t.hash = h.hash"
            )
        }
    if not known:
        return 0
    texts = hashed.filter(pl.col("hash").is_in(sorted(known)))["text"]
    hits = (
        ids.filter(pl.col("text").is_in(texts.implode())).select("_load_id", "_row_number").unique()
    )
    keys = hits.select(pl.lit(source_name).alias("source"), "_load_id", "_row_number")
    removed = delete_rows(store, project, keys)
    return removed.get(f"raw.{source_name}", 0)
