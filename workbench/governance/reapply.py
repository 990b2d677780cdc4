"""Erasing again after a restore: a backup taken before an erasure brings no one back.

:func:`reapply` puts back every tombstone of the project's tombstone file
(:mod:`workbench.tombstones`) the restored warehouse lacks and erases again what it covers:
each person record whose identifiers hash to it, with every row the erasure plan of that
record removes (every load, staging, core, quarantine, identity rows, golden records,
rejected lines; reports marked stale), then any other row that hashes to it, as a load of
an old export would be suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from workbench import tombstones
from workbench.config import Project
from workbench.governance.erasure import make_plan, run
from workbench.governance.lineage import delete_rows
from workbench.ingest.staging import canonical_rows
from workbench.report import forget as report_forget
from workbench.standardize.identifiers import MATCHING, identifiers, needed_fields
from workbench.store import Store
from workbench.tombstones import Tombstone


@dataclass
class Reapplied:
    """What :func:`reapply` did: the tombstones erased again, rows removed per table, reports
    marked stale and anything it could not do."""

    tombstones: list[int] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    stale_reports: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def reapply(project: Project, store: Store) -> Reapplied:
    """Put back into ``store`` every tombstone of the project's file it lacks, and erase
    again the rows those tombstones cover (see the module doc). One transaction."""
    known = tombstones.read(project)
    done = Reapplied()
    if not known:
        return done
    with store.transaction():
        salt, lacking = tombstones.lacking(store, known)
        if not lacking:
            return done
        for t in lacking:
            if t.salt == salt:
                tombstones.put_back(store, t)
            else:
                done.warnings.append(
                    f"Tombstone {t.tombstone_id} was made with another salt (the warehouse "
                    "was created anew since): its rows were erased again, but later loads "
                    "are not checked against it."
                )
            done.tombstones.append(t.tombstone_id)
        _erase_again(project, store, lacking, done)
    return done


def _erase_again(project: Project, store: Store, lacking: list[Tombstone], done: Reapplied) -> None:
    """Find the rows whose identifiers hash to the ``lacking`` tombstones (as
    :func:`workbench.ingest.suppress.suppress` does for a load), run the erasure plan of each
    person record among them, then remove the other rows that hash to them."""
    by_salt: dict[str, set[str]] = {}
    for t in lacking:
        by_salt.setdefault(t.salt, set()).update(h for _, h in t.hashes)
    records: set[str] = set()
    keys = []
    for name in project.config.sources:
        needed = needed_fields(project, name, phones=False)
        rows = canonical_rows(store, project, name, needed)
        ids = identifiers(project, name, rows).filter(pl.col("kind").is_in(MATCHING))
        texts = sorted(
            t
            for t in ids["text"].unique().to_list()
            if any(tombstones.digest(s, t) in hashes for s, hashes in by_salt.items())
        )
        hits = ids.filter(pl.col("text").is_in(texts)).select("_load_id", "_row_number").unique()
        if hits.height == 0:
            continue
        keys.append(hits.select(pl.lit(name).alias("source"), "_load_id", "_row_number"))
        if project.source(name).object == project.person_object():
            found = rows.join(hits, on=["_load_id", "_row_number"])["record_id"].to_list()
            records |= {f"{name}:{str(r).strip()}" for r in found if r is not None}
    erased: set[str] = set()
    earliest: datetime | None = None
    for uid in sorted(records):
        if uid in erased:
            continue
        plan, _, first = make_plan(project, store, "record", uid)
        run(store, plan, delete=True)
        erased |= set(plan.records)
        earliest = first if earliest is None or (first and first < earliest) else earliest
        _add(done.rows, plan.rows)
    if keys:
        _add(done.rows, delete_rows(store, project, pl.concat(keys)))
    numbers = ", ".join(str(t) for t in done.tombstones)
    reason = f"personal data erased again after a restore (tombstone {numbers})"
    done.stale_reports = report_forget.mark_stale(store, earliest, mark=reason)


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for name, n in more.items():
        total[name] = total.get(name, 0) + n
