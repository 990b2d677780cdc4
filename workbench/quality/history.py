"""Reading the data-quality history: runs, the latest summary, and what regressed."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from workbench.config.metrics import ENGINE_METRICS, METRICS
from workbench.errors import WorkbenchError
from workbench.quality.metrics import metric_info
from workbench.store import Store

RATE_TOLERANCE = 0.001  # a share must move by more than 0.1 percentage point to count
HOURS_TOLERANCE = 24.0  # freshness: a day older is a regression, time passing is not


@dataclass(frozen=True)
class Change:
    """One metric that moved between two runs."""

    object: str
    source: str
    field: str
    metric: str
    before: float | None
    after: float | None

    @property
    def regression(self) -> bool:
        info = metric_info(self.metric)
        before = self.before if self.before is not None else _perfect(self.metric)
        after = self.after if self.after is not None else _perfect(self.metric)
        if before is None or after is None:
            return False
        tolerance = {"share": RATE_TOLERANCE, "hours": HOURS_TOLERANCE}.get(info.unit, 0.0)
        worse = after < before if info.higher_is_better else after > before
        return worse and abs(after - before) > tolerance


def _perfect(metric: str) -> float | None:
    """Value a check-level metric has when it was not recorded (nothing failed)."""
    return 1.0 if metric.startswith("validity:") else None


def run_ids(store: Store) -> list[int]:
    """Validation runs that recorded metrics, oldest first."""
    if not store.table_exists("dq", "metrics"):
        return []
    return [int(r[0]) for r in store.rows("SELECT DISTINCT run_id FROM dq.metrics ORDER BY 1")]


# the source-level metrics of the summary: the engine's, and the packs' event-log rates
SUMMARY_METRICS = [
    "rows_read", "rows_rejected", "rows_suppressed", "rows_staged", "rows_valid",
    "rows_quarantined", "quarantine_rate", "key_duplicate_rate", "exact_duplicate_rate",
    "missing_mandatory_rate", "freshness_hours",
    *(m for m in METRICS if m not in ENGINE_METRICS),
]  # fmt: skip


def latest_summary(store: Store, run_id: int | None = None) -> pl.DataFrame:
    """One row per source and object of a run (the latest by default) with its metrics.

    Columns: ``source``, ``object``, ``rows_read``, ``rows_rejected``, ``rows_suppressed``,
    ``rows_valid``, ``rows_quarantined``, then one column per source-level metric, the
    average completeness of its fields and the parse rate of its least readable phone field
    (for sources with phones). Per
    source ``rows_read = rows_rejected + rows_suppressed + rows_valid + rows_quarantined``:
    rows read from its current exports (the ledger), rows ingest could not read, rows of
    erased people dropped, then the staged rows validation kept or quarantined. Runs
    recorded before the ledger's counts were kept have no ``rows_rejected`` and
    ``rows_suppressed``, and their ``rows_read`` are the rows staged.
    """
    runs = run_ids(store)
    if not runs:
        raise WorkbenchError(
            "No data-quality run is recorded yet.", fix="Run `workbench validate` first."
        )
    run = run_id if run_id is not None else runs[-1]
    long = store.frame(
        """SELECT source, object, metric, value FROM dq.metrics
           WHERE run_id = $r AND list_contains($summary, metric)
           UNION ALL
           SELECT source, object, 'completeness_avg', avg(value) FROM dq.metrics
           WHERE run_id = $r AND metric = 'completeness' GROUP BY ALL
           UNION ALL
           SELECT source, object, 'phone_parse_rate', min(value) FROM dq.metrics
           WHERE run_id = $r AND metric = 'phone_parse_rate' GROUP BY ALL""",
        {"r": run, "summary": SUMMARY_METRICS},
    )
    wide = long.pivot(on="metric", index=["source", "object"], values="value")
    if "rows_staged" in wide.columns:
        if "rows_read" in wide.columns:
            wide = wide.with_columns(pl.col("rows_read").fill_null(pl.col("rows_staged")))
        else:
            wide = wide.rename({"rows_staged": "rows_read"})
        wide = wide.drop("rows_staged", strict=False)
    first = ["source", "object", "rows_read", "rows_rejected", "rows_suppressed", "rows_valid",
             "rows_quarantined"]  # fmt: skip
    ordered = [c for c in first if c in wide.columns]
    rest = sorted(c for c in wide.columns if c not in ordered)
    return wide.select(ordered + rest).sort("object", "source")


def diff(store: Store, before: int | None = None, after: int | None = None) -> list[Change]:
    """Every metric that changed between two runs (the last two by default)."""
    runs = run_ids(store)
    if len(runs) < 2 and (before is None or after is None):
        raise WorkbenchError(
            "There are fewer than two data-quality runs to compare.",
            fix="Run `workbench validate` again after loading new exports.",
        )
    after = after if after is not None else runs[-1]
    before = before if before is not None else runs[runs.index(after) - 1]
    rows = store.rows(
        """SELECT coalesce(b.object, a.object), coalesce(b.source, a.source),
                  coalesce(b.field, a.field), coalesce(b.metric, a.metric), b.value, a.value
           FROM (SELECT * FROM dq.metrics WHERE run_id = $b) b
           FULL JOIN (SELECT * FROM dq.metrics WHERE run_id = $a) a
             USING (object, source, field, metric)
           WHERE b.value IS DISTINCT FROM a.value
           ORDER BY 1, 2, 4, 3""",
        {"b": before, "a": after},
    )
    return [Change(*r) for r in rows]


# what a per-check history needs beside the ``validity:<check>`` metrics: the rows each
# check ran over (staged), the ingest-level counts, and whether references were checked
CHECK_HISTORY_METRICS = (
    "rows_staged",
    "rows_read",
    "rows_rejected",
    "reject_rate",
    "quarantine_rate",
    "referential_integrity",
)


def check_history(store: Store, *, last: int = 10) -> pl.DataFrame:
    """The check-level metrics of the last ``last`` validation runs, in one query: every
    ``validity:<check>`` (recorded only where the check failed: a check without one passed
    on every row) and :data:`CHECK_HISTORY_METRICS`, with the run's start.

    Columns: ``run_id``, ``started_at`` (None for runs without a record in
    ``meta.validation_runs``), ``object``, ``source``, ``field``, ``metric``, ``value``,
    ``numerator``, ``denominator``; oldest run first.
    """
    runs = run_ids(store)[-last:] if last > 0 else []
    if not runs:
        runs = [-1]  # no run: an empty result of the same columns
    timed = store.table_exists("meta", "validation_runs")
    started = (
        "(SELECT started_at FROM meta.validation_runs v WHERE v.run_id = m.run_id)"
        if timed
        else "CAST(NULL AS TIMESTAMPTZ)"
    )
    return store.frame(
        f"""SELECT m.run_id, {started} AS started_at, m.object, m.source, m.field, m.metric,
                   m.value, m.numerator, m.denominator
            FROM dq.metrics m
            WHERE list_contains($runs, m.run_id)
              AND (m.metric LIKE 'validity:%' OR list_contains($metrics, m.metric))
            ORDER BY m.run_id, m.object, m.source, m.field, m.metric""",
        {"runs": runs, "metrics": list(CHECK_HISTORY_METRICS)},
    )
