"""What a KPI's level over a window rests on, and its bootstrap replicates.

A :class:`Sample` is one KPI over a set of periods for one segment. Three kinds:

``rows``     medians, quantiles and means: the level is the statistic of every qualifying
             row of the window pooled, resampled by rows;
``rate``     shares (rate, churn, missing mandatory): successes / rows over the window,
             resampled binomially;
``periods``  per-period quantities (counts, sums, per-account values, ltv, duplicate rate):
             the level is the mean of the window's period values, resampled by periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import polars as pl

from workbench.config.kpis import KpiDef, Stat
from workbench.kpi import bootstrap, sql
from workbench.kpi.compute import breaks_down
from workbench.kpi.expressions import check_kpi
from workbench.kpi.periods import whole_periods
from workbench.store import Store

RATES = frozenset({Stat.RATE, Stat.CHURN, Stat.MISSING_MANDATORY})
ROWS = frozenset({Stat.MEDIAN, Stat.QUANTILE, Stat.MEAN})
Kind = Literal["rows", "rate", "periods"]


def kind_of(kpi: KpiDef) -> Kind:
    """How a KPI's window level is formed (see the module docstring)."""
    if kpi.stat in ROWS:
        return "rows"
    return "rate" if kpi.stat in RATES else "periods"


@dataclass(frozen=True)
class Sample:
    """The data behind one KPI level: rows, a share, or period values."""

    kind: Kind
    stat: Stat
    values: np.ndarray
    successes: int = 0
    n: int = 0
    q: float = 0.5

    @property
    def size(self) -> int:
        """Rows (rows, rate) or periods (periods) behind the level."""
        return self.n if self.kind == "rate" else int(self.values.size)

    def level(self) -> float:
        """The KPI's value over the whole sample."""
        if self.size == 0:
            return float("nan")
        if self.kind == "rate":
            return self.successes / self.n
        if self.kind == "periods" or self.stat is Stat.MEAN:
            return float(self.values.mean())
        return bootstrap.quantile_cont(self.values, self.q)

    def replicates(self, samples: int, rng: np.random.Generator) -> np.ndarray:
        """Bootstrap replicates of :meth:`level`."""
        if self.kind == "rate":
            return bootstrap.rate_replicates(self.successes, self.n, samples, rng)
        if self.kind == "periods" or self.stat is Stat.MEAN:
            return bootstrap.mean_replicates(self.values, samples, rng)
        return bootstrap.quantile_replicates(self.values, self.q, samples, rng)


def samples(
    store: Store,
    kpi: KpiDef,
    values: pl.DataFrame,
    start: datetime,
    end: datetime,
    segment: str | None = None,
) -> dict[str, Sample]:
    """One sample per segment value (and ``all``) of a KPI over periods in ``[start, end)``.

    Args:
        values: the KPI's values from :func:`workbench.kpi.compute.compute` (any segment
            breakdown that includes ``segment``).
        segment: the field the values are broken down by, or None for ``all`` only.
    """
    kind = kind_of(kpi)
    window = whole_periods(values, start, end)
    if kind == "rows":
        kpi_id = str(values["kpi"][0]) if values.height else kpi.title
        return _row_samples(store, kpi_id, kpi, start, end, segment)
    out = {}
    for (seg,), part in window.group_by("segment"):
        if kind == "rate":
            n = int(part["n"].sum())
            successes = round(float((part["value"] * part["n"]).sum()))
            out[str(seg)] = Sample(kind, kpi.stat, np.empty(0), successes, n)
        else:
            ordered = part.sort("period_start")["value"].to_numpy()
            out[str(seg)] = Sample(kind, kpi.stat, ordered)
    return out


def _row_samples(
    store: Store, kpi_id: str, kpi: KpiDef, start: datetime, end: datetime, segment: str | None
) -> dict[str, Sample]:
    if not store.table_exists("core", kpi.object):
        return {}
    kpi = check_kpi(kpi, store.columns("core", kpi.object), kpi_id=kpi_id)
    column = sql.segment_column(segment) if segment and breaks_down(store, kpi, segment) else None
    rows = f"""SELECT CAST(seg AS VARCHAR) AS seg, CAST(m AS DOUBLE) AS m
               FROM ({sql.rows_sql(kpi, column)})
               WHERE period >= $start AND period < $end AND m IS NOT NULL"""
    params = {"grain": "day", "start": start, "end": end}
    # the values ordered by segment, and how many each segment has: slices, no strings per row
    m = np.asarray(
        store.arrays(f"SELECT m FROM ({rows}) ORDER BY seg NULLS LAST", params)["m"], dtype=float
    )
    q = 0.5 if kpi.stat is Stat.MEDIAN else float(kpi.q or 0.5)
    out = {sql.ALL: Sample("rows", kpi.stat, m, q=q)}
    if column is not None:
        counts = store.rows(
            f"SELECT seg, count(*) FROM ({rows}) GROUP BY seg ORDER BY seg NULLS LAST", params
        )
        lo = 0
        for value, count in counts:
            name = sql.NO_VALUE if value is None else str(value)
            out[name] = Sample("rows", kpi.stat, m[lo : lo + count], q=q)
            lo += count
    return out
