"""Erasure: remove every record of one person, and keep them from coming back.

**How.** This operation composes what each stage forgets (:mod:`workbench.forget`): the
rows of ingest and validation along their lineage (:mod:`.lineage`), identity rows
(:mod:`workbench.resolve.forget`), rejected lines (:mod:`workbench.ingest.forget`) and
reports (:mod:`workbench.report.forget`); it reaches into no stage's tables itself.

**Who.** The person is found (:mod:`.person`) from one identifier (an email, a phone
number, an entity id or one ``source:record_id``): the person records (``contacts``) holding
it, then, through the identity graph (``id.members``), every record of the entities those
records belong to.

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
the salt is generated once and kept in ``meta.settings`` (:mod:`workbench.tombstones`). A
later load drops rows that hash to a tombstone (:mod:`workbench.ingest.suppress`, counted in
the ledger's ``rows_suppressed``).

Reports of periods that may show the person (every period ending after their earliest
record) are marked stale in ``meta.report_runs``; those of them rendered unmasked
(:mod:`workbench.report.forget`), and the unmasked exports the audit trail recorded
(:mod:`.outputs`), are listed, and the report files can be removed. All of it happens in one
transaction, with an audit entry that names no erased value. Then the warehouse is rewritten
into a fresh file (:mod:`.compact`), since DuckDB keeps deleted values in the file's blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from workbench import audit, tombstones
from workbench.config import Project
from workbench.dictionary import ObjectSpec
from workbench.forget import Target, rows_of
from workbench.governance import lineage, outputs
from workbench.governance.compact import CompactResult
from workbench.governance.compact import compact as rewrite
from workbench.governance.person import (
    Kind,
    find_person,
    person_sources,
    person_uids,
    preview,
    raw_phones,
)
from workbench.ingest import forget as ingest_forget
from workbench.ingest.staging import canonical_rows
from workbench.report import forget as report_forget
from workbench.report.forget import ReportFile
from workbench.resolve import forget as resolve_forget
from workbench.resolve.forget import members
from workbench.standardize.identifiers import (
    MATCHING,
    identifiers,
    needed_fields,
    time_fields,
)
from workbench.store import Store, quote_ident

__all__ = ["ErasurePlan", "Kind", "Target", "erase", "find_person", "make_plan", "run"]


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
    reports: list[ReportFile] = field(default_factory=list)  # rendered unmasked
    exports: list[outputs.ExportFile] = field(default_factory=list)  # unmasked, recorded
    copies: list[Path] = field(default_factory=list)  # backups and .bak warehouses
    removed: list[Path] = field(default_factory=list)  # report files removed
    compacted: CompactResult | None = None


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
    plan, texts, earliest = make_plan(project, store, kind, value)
    if dry_run:
        run(store, plan, delete=False)
        plan.stale_reports = report_forget.mark_stale(store, earliest, mark=None)
        plan.reports = report_forget.unmasked_reports(project, store, earliest)
        plan.exports = outputs.unmasked_exports(project, store)
        plan.copies = outputs.warehouse_copies(project)
        return plan
    with store.transaction():
        salt = tombstones.salt_of(store, create=True)
        assert salt is not None
        run(store, plan, delete=True)
        now = datetime.now(UTC)
        tomb, hashes = tombstones.record(store, salt, texts, now)
        plan.tombstone_id = tomb
        reason = f"personal data erased {now:%Y-%m-%d} (tombstone {tomb})"
        plan.stale_reports = report_forget.mark_stale(store, earliest, mark=reason)
        plan.reports = report_forget.unmasked_reports(project, store, earliest)
        plan.exports = outputs.unmasked_exports(project, store)
        plan.copies = outputs.warehouse_copies(project)
        details: dict[str, Any] = {"by": kind, "tombstone_id": tomb, "records": len(plan.records)}
        details |= {"rows": plan.rows, "stale_reports": len(plan.stale_reports)}
        details |= {"unmasked_report_files": len(plan.reports)}
        audit.record(store, "erase", details, project=project)
        tombstones.keep(project, tomb, salt, hashes, now)  # a copy outside the warehouse
    if remove_reports and plan.reports:
        why = {"reason": "erase", "tombstone_id": tomb}
        plan.removed = report_forget.remove_reports(project, store, plan.reports, why)
    if compact and store.path is not None:
        plan.compacted = rewrite(store)
    return plan


def make_plan(
    project: Project, store: Store, kind: Kind, value: str
) -> tuple[ErasurePlan, dict[str, str], datetime | None]:
    """The plan (nothing changed yet), the person's identifier texts (text -> kind) and the
    earliest date of their rows."""
    person = project.person_object()
    records, entities = find_person(store, project, kind, value)
    # the person's own rows, every load: their identifiers make the tombstone
    person_rows: list[tuple[str, pl.DataFrame]] = []
    texts: dict[str, str] = {}
    for name in person_sources(project):
        mine = [r.split(":", 1)[1] for r in records if r.split(":", 1)[0] == name]
        if not mine:
            continue
        rows = canonical_rows(
            store, project, name, needed_fields(project, name, phones=True),
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
        rows = canonical_rows(store, project, name, needed_fields(project, name, phones=False))
        ids = identifiers(project, name, rows)
        hit = ids.filter(pl.col("text").is_in(sorted(matching))).select("_load_id", "_row_number")
        hit_rows = rows.join(hit.unique(), on=["_load_id", "_row_number"])
        if hit_rows.height == 0:
            continue
        keys[name] = sorted(
            f"{name}:{load}:{row}"
            for load, row in hit_rows.select("_load_id", "_row_number").iter_rows()
        )
        if project.source(name).object == person:  # e.g. a record sharing their address
            swept.append((name, hit_rows))
        earliest = _earliest(
            earliest, hit_rows, project.dictionary.object(project.source(name).object)
        )
    unique_ids = sorted(set(records) | person_uids(person_rows + swept))
    entities = sorted(
        set(entities) | members(store, person, "entity_id", by="unique_id", values=unique_ids)
    )
    emails = {t.split(":", 1)[1] for t, k in texts.items() if k == "email"}
    needles = sorted(emails | raw_phones(project, person_rows))
    targets = [
        *lineage.targets(store, project, keys),
        *resolve_forget.targets(store, person, unique_ids, entities),
        *ingest_forget.reject_targets(store, needles),
        *ingest_forget.ledger_targets(store, needles),
    ]
    plan = ErasurePlan(
        records, entities, preview(project, person_rows), targets, identifiers=len(texts)
    )
    return plan, texts, earliest


def run(store: Store, plan: ErasurePlan, *, delete: bool) -> None:
    """Count (``delete=False``) or delete the rows of every target, with the same WHERE and
    parameters; fills ``plan.tables`` and ``plan.rows`` (tables with no rows left out)."""
    for target in plan.targets:
        n = rows_of(store, target, delete=delete)
        if n:
            stored = f"{target.schema}.{target.name}"
            if target.scrub is None:  # scrubbed rows are kept
                plan.tables[stored] = plan.tables.get(stored, 0) + n
            shown = target.shown or stored
            plan.rows[shown] = plan.rows.get(shown, 0) + n


def _record_column(project: Project, source_name: str) -> str:
    fmap = project.source(source_name).columns["record_id"]
    return quote_ident(fmap.from_) if fmap.from_ else "NULL"


def _earliest(current: datetime | None, rows: pl.DataFrame, spec: ObjectSpec) -> datetime | None:
    for name in time_fields(spec):
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
