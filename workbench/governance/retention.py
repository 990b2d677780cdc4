"""Retention: delete records older than the project allows, per object.

``retention:`` in ``workbench.yaml`` gives each object a number of days and the date or
timestamp field that dates its records (default: the object's first such field). A record
whose date is older than ``now - days`` is deleted from every load in ``raw`` and from
staging, core and the quarantine (along its lineage); records without a date are kept.
Aggregates already computed (data-quality metrics, KPI runs) are history and stay; identity
tables follow at the next ``workbench resolve``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import polars as pl

from workbench import audit
from workbench.config import Project
from workbench.errors import GovernanceError
from workbench.governance.lineage import delete_rows
from workbench.ingest.staging import canonical_rows
from workbench.store import Store


@dataclass
class RetentionResult:
    """Per object: the rule applied and the rows deleted (or, dry run, to delete)."""

    cutoffs: dict[str, str] = field(default_factory=dict)  # object -> "field < cutoff"
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows
    dry_run: bool = False


def apply(
    project: Project, store: Store, *, dry_run: bool = False, now: datetime | None = None
) -> RetentionResult:
    """Delete (or with ``dry_run`` count) the records older than their object's retention."""
    rules = project.config.retention
    if not rules:
        raise GovernanceError(
            "No retention is configured.",
            where="workbench.yaml, key retention",
            fix="Add e.g. `retention: {tickets: {days: 730}, sync_events: {days: 365}}`.",
        )
    now = now or datetime.now(UTC)
    result = RetentionResult(dry_run=dry_run)
    keys = []
    for obj, rule in rules.items():
        dated = project.dictionary.object(obj).dated_fields()
        time_field = rule.field or dated[0]  # the config checked that there is one
        cutoff = now - timedelta(days=rule.days)
        result.cutoffs[obj] = f"{time_field} < {cutoff:%Y-%m-%d %H:%M} UTC ({rule.days} days)"
        for name, source in project.config.sources.items():
            if source.object != obj or time_field not in source.columns:
                continue
            rows = canonical_rows(store, project, name, [time_field])
            old = rows.filter(_older(rows[time_field], cutoff))
            if old.height:
                keys.append(old.select(pl.lit(name).alias("source"), "_load_id", "_row_number"))
    if not keys:
        return result
    if dry_run:  # the very rows the deletion below removes, counted per table
        result.rows = delete_rows(store, project, pl.concat(keys), dry_run=True)
        return result
    with store.transaction():
        result.rows = delete_rows(store, project, pl.concat(keys))
        details = {"cutoffs": result.cutoffs, "rows": result.rows}
        audit.record(store, "retention", details, project=project)
    return result


def _older(values: pl.Series, cutoff: datetime) -> pl.Series:
    if values.dtype == pl.Date:
        return (values < cutoff.date()).fill_null(False)
    if isinstance(values.dtype, pl.Datetime):
        zoned = values if values.dtype.time_zone else values.dt.replace_time_zone("UTC")  # type: ignore[union-attr]
        return (zoned < cutoff).fill_null(False)
    raise TypeError(f"not a date: {values.dtype}")  # the config allows only date fields
