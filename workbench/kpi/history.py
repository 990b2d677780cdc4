"""KPI values kept as history: every run's values, and restatements of past periods.

``kpi.runs``          one row per computation (when, grain, segment, config hash)
``kpi.values``        the values of every run (kpi, grain, period, segment_by, segment)
``kpi.restatements``  a past value that a later run changed (restated source data)

The latest value of a key is the one of the newest run that has it, so a re-run neither
loses the trend nor hides that a number changed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from workbench.kpi.compute import KpiValues
from workbench.schema import KPI_RUNS, next_id
from workbench.store import Store

KEY = ["kpi", "grain", "period", "segment_by", "segment"]
TOLERANCE = 1e-9  # relative: below this a re-computed value is the same value


def record(store: Store, values: KpiValues, *, config_sha256: str = "") -> int:
    """Store a computation as a new run; returns its id. Changed past values are restated."""
    frame = values.frame
    with store.transaction():
        run_id = next_id(store, KPI_RUNS)
        new_values = frame.with_columns(pl.lit(run_id).alias("run_id"))
        with store.registered("new_values", new_values):
            store.execute(
                """INSERT INTO kpi.restatements
                SELECT n.run_id, n.kpi, n.grain, n.period, n.segment_by, n.segment,
                       o.value, n.value, o.run_id
                FROM new_values n JOIN (
                    SELECT * FROM kpi.values QUALIFY row_number() OVER (
                        PARTITION BY kpi, grain, period, segment_by, segment
                        ORDER BY run_id DESC) = 1) o
                  USING (kpi, grain, period, segment_by, segment)
                WHERE abs(n.value - o.value) > $tol * greatest(abs(o.value), 1e-12)""",
                {"tol": TOLERANCE},
            )
            store.execute(
                """INSERT INTO kpi.values BY NAME
                SELECT run_id, kpi, grain, period, period_start, segment_by, segment, value, n
                FROM new_values"""
            )
        restated = int(
            store.scalar("SELECT count(*) FROM kpi.restatements WHERE run_id = $r", {"r": run_id})
        )
        grain = frame["grain"][0] if frame.height else None
        segment_by = frame["segment_by"][0] if frame.height else None
        store.execute(
            "INSERT INTO kpi.runs VALUES ($r, $at, $g, $s, $c, $k, $v, $x)",
            {
                "r": run_id,
                "at": datetime.now(UTC),
                "g": grain,
                "s": segment_by,
                "c": config_sha256,
                "k": frame["kpi"].n_unique() if frame.height else 0,
                "v": frame.height,
                "x": restated,
            },
        )
    return run_id


def latest(store: Store, *, grain: str = "month", segment_by: str = "all") -> pl.DataFrame:
    """The newest stored value of every KPI, period and segment of a grain and segmentation."""
    if not store.has_rows("kpi", "runs"):
        return pl.DataFrame()
    return store.frame(
        """SELECT * EXCLUDE (rn) FROM (
             SELECT *, row_number() OVER (PARTITION BY kpi, grain, period, segment_by, segment
                                          ORDER BY run_id DESC) AS rn
             FROM kpi.values WHERE grain = $g AND segment_by = $s)
           WHERE rn = 1 ORDER BY kpi, period_start, segment""",
        {"g": grain, "s": segment_by},
    )


def restatements(store: Store) -> pl.DataFrame:
    """Every past KPI value a later run changed, newest first."""
    if not store.has_rows("kpi", "runs"):
        return pl.DataFrame()
    return store.frame("SELECT * FROM kpi.restatements ORDER BY run_id DESC, kpi, period")
