"""Compute KPI values per period and segment from the core tables.

:func:`compute` runs one query per KPI (see :mod:`workbench.kpi.sql`) and returns a tidy
frame; :mod:`workbench.kpi.history` stores it with the run that made it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import polars as pl

from workbench.config.kpis import KpiDef, Stat
from workbench.dictionary import Dictionary, FieldType
from workbench.errors import ConfigError
from workbench.ingest import ledger
from workbench.kpi import sql
from workbench.kpi.expressions import check_kpi
from workbench.kpi.periods import (
    Grain,
    gap_to_end,
    is_partial,
    label,
    loaded_after,
    short_of_end,
    step,
)
from workbench.store import Store
from workbench.validate.schemas import bound_value

SCHEMA: dict[str, Any] = {
    "kpi": pl.String,
    "grain": pl.String,
    "period": pl.String,
    "period_start": pl.Datetime("us"),
    "segment_by": pl.String,
    "segment": pl.String,
    "value": pl.Float64,
    "n": pl.Int64,
}


@dataclass
class KpiValues:
    """KPI values (one row per KPI, period and segment), notes on KPIs left out, and the
    latest period: the start of the newest period with a validated row up to now (rows in
    the future, staged or quarantined rows never make it; None when there is none), and the
    field the values are broken down by (None: ``all`` only). ``newest`` is the time stamp
    of the newest such row, which says whether the latest period is whole."""

    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    latest: datetime | None = None
    segment: str | None = None
    newest: datetime | None = None  # the time stamp of the newest of those rows (naive UTC)
    usual_gap: timedelta | None = None  # the longest from newest row to end, 3 periods before
    grain: Grain = "month"
    loaded: datetime | None = None  # the earliest latest load of their sources (naive UTC)

    @property
    def latest_partial(self) -> bool:
        """Whether the data stops short of the latest period's end: an export loaded before
        the period ended (:func:`.periods.loaded_after`) whose newest row is dated early
        (:func:`.periods.is_partial`). Its values are not final."""
        if self.latest is None or self.newest is None:
            return False
        if loaded_after(self.latest, self.grain, self.loaded):
            return False
        gap = gap_to_end(self.latest, self.grain, self.newest)
        return is_partial(gap, self.grain, self.usual_gap)


def compute(
    store: Store,
    kpis: dict[str, KpiDef],
    dictionary: Dictionary,
    *,
    grain: Grain = "month",
    segment: str | None = None,
    gross_margin: float = 1.0,
    on_kpi: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> KpiValues:
    """Every KPI's value per period of ``grain``, for the whole population and per segment.

    Args:
        store: the warehouse (reads ``core``, ``stg`` and ``id.members``).
        kpis: the registry (:func:`workbench.config.kpis.registry`).
        dictionary: the data dictionary (required fields for ``missing_mandatory``).
        grain: ``day``, ``week``, ``month`` or ``quarter``.
        segment: a field to break every KPI down by (``region``, ``segment``, ``source``,
            ``system``); rows with segment ``all`` are always there.
        gross_margin: for ``ltv`` (arpa x margin / churn).
        on_kpi: called with each KPI id before it is computed (progress).
        now: the run's clock (default: the current time), for the latest period.

    Returns:
        values with columns kpi, grain, period (label), period_start, segment_by, segment,
        value and n (rows behind the value), notes on KPIs that could not be computed, and
        the latest period (:func:`latest_period`).
    """
    frames: list[pl.DataFrame] = []
    notes: list[str] = []
    by_id: dict[str, pl.DataFrame] = {}
    checked: dict[str, KpiDef] = {}
    for kpi_id, kpi in kpis.items():
        if on_kpi:
            on_kpi(kpi_id)
        if kpi.stat not in (Stat.LTV, Stat.MISSING_MANDATORY) and store.table_exists(
            "core", kpi.object
        ):  # its measure and where as checked and written back, never as typed
            kpi = check_kpi(kpi, store.columns("core", kpi.object), kpi_id=kpi_id)
        checked[kpi_id] = kpi
        frame, note = _one(store, kpi_id, kpi, dictionary, grain, segment, by_id, gross_margin)
        if note:
            notes.append(f"{kpi_id}: {note}")
        if frame is None:
            continue
        by_id[kpi_id] = frame
        frames.append(_tidy(frame, kpi_id, grain, segment))
    values = pl.concat(frames) if frames else pl.DataFrame(schema=SCHEMA)
    # a period that starts after now holds only rows dated in the future: no value
    future = values.filter(pl.col("period_start") > _until(now))
    if future.height:
        values = values.join(future.select("kpi", "period"), on=["kpi", "period"], how="anti")
        shown = ", ".join(sorted(set(future["period"].to_list()))[:3])
        notes.append(
            f"{future['kpi'].n_unique()} KPI(s) left out for period(s) after today ({shown}): "
            "their rows are dated in the future; check the source's time fields"
        )
    dated = [checked[k] for k in by_id]
    latest, newest = latest_period(store, dated, grain, now)
    loaded = ledger.last_loaded(store, sorted({k.object for k in dated if k.object}))
    loaded = loaded.astimezone(UTC).replace(tzinfo=None) if loaded else None
    usual = None  # only asked for when the latest period might be cut: else it is whole
    cut = latest and newest and short_of_end(gap_to_end(latest, grain, newest), grain)
    if cut and latest and not loaded_after(latest, grain, loaded):
        usual = usual_gap(store, dated, grain, latest, now)
    return KpiValues(
        values.sort("kpi", "period_start", "segment"),
        notes,
        latest,
        segment,
        newest=newest,
        usual_gap=usual,
        grain=grain,
        loaded=loaded,
    )


def _until(now: datetime | None) -> datetime:
    """The latest moment a row may be dated (now, plus the day of skew ``max: now`` allows),
    as a naive UTC time like ``period_start``."""
    clock = now or datetime.now(UTC)
    until = bound_value("now", FieldType.TIMESTAMP, clock.replace(tzinfo=clock.tzinfo or UTC))
    return until.astimezone(UTC).replace(tzinfo=None)


def latest_period(
    store: Store, kpis: list[KpiDef], grain: Grain, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """The start of the newest period of ``grain`` in which one of ``kpis`` has a qualifying
    validated row (``core``) dated up to ``now`` (the default period of ``workbench kpi``,
    of target status and of the end of the comparison and baseline windows), and that
    row's time stamp (naive UTC), which says whether the period is whole
    (:func:`.periods.is_partial`). Nones when there is none.

    A time stamp later than ``now`` plus the day of clock skew that validation's ``max:
    now`` allows is ignored (a row dated 2099 must not make 2099-01 the latest period).
    Staged and quarantined rows never count: the missing-mandatory rate, which reads them,
    and LTV, which has no rows of its own, are left out.
    """
    dated = _dated(store, kpis)
    if not dated:
        return None, None
    found = store.rows(sql.latest_sql(dated), {"grain": grain, "until": _until(now)})
    latest, newest = found[0] if found else (None, None)
    if not (isinstance(latest, datetime) and isinstance(newest, datetime)):
        return None, None
    return latest, newest


def usual_gap(
    store: Store, kpis: list[KpiDef], grain: Grain, latest: datetime, now: datetime | None = None
) -> timedelta | None:
    """The longest time from the newest row of each of the three periods before ``latest``
    to its end (None when none of them has rows): how short of its end a whole period's
    data usually stops (:func:`.periods.is_partial`)."""
    dated = _dated(store, kpis)
    if not dated:
        return None
    found = store.rows(
        sql.newest_per_period_sql(dated),
        {"grain": grain, "until": _until(now), "since": latest - step(grain, 3), "before": latest},
    )
    return max((gap_to_end(start, grain, last) for start, last in found), default=None)


def _dated(store: Store, kpis: list[KpiDef]) -> list[KpiDef]:
    """Those of ``kpis`` that date rows of a validated object, their where as checked and
    written back (idempotent for ones already checked)."""
    dated = [
        k
        for k in kpis
        if k.time is not None
        and k.stat not in (Stat.LTV, Stat.MISSING_MANDATORY)
        and store.table_exists("core", k.object)
    ]
    return [check_kpi(k, store.columns("core", k.object), kpi_id=k.title) for k in dated]


def breaks_down(store: Store, kpi: KpiDef, segment: str) -> bool:
    """Whether ``kpi`` can be broken down by ``segment``: its object has that field (LTV and
    the missing-mandatory rate are built from KPIs or objects that may)."""
    if kpi.stat in (Stat.LTV, Stat.MISSING_MANDATORY):
        return True
    column = sql.segment_column(segment)
    if column is None or not store.table_exists("core", kpi.object):
        return column is None
    return column in store.columns("core", kpi.object)


def _one(
    store: Store,
    kpi_id: str,
    kpi: KpiDef,
    dictionary: Dictionary,
    grain: Grain,
    segment: str | None,
    done: dict[str, pl.DataFrame],
    gross_margin: float,
) -> tuple[pl.DataFrame | None, str | None]:
    if kpi.stat is Stat.LTV:
        return _ltv(done, gross_margin)
    if kpi.stat is Stat.MISSING_MANDATORY:
        return _missing_mandatory(store, kpi, dictionary, grain, segment)
    if not store.table_exists("core", kpi.object):
        return None, f"no {kpi.object} validated yet (core.{kpi.object} is missing)"
    column = sql.segment_column(segment)
    note = None
    if segment is not None and not breaks_down(store, kpi, segment):
        note = f"{kpi.object} have no field {segment!r}; shown for the whole population only"
        column = None
    params: dict[str, object] = {"grain": grain}
    if kpi.stat is Stat.CHURN:
        query = sql.churn_sql(kpi, column, grain)
    elif kpi.stat is Stat.DUPLICATE_RATE:
        if not store.has_rows("id", "runs"):
            return None, "identities not resolved yet (run `workbench resolve`)"
        query = sql.duplicate_rate_sql(kpi, column)
        params["object"] = kpi.object
    else:
        query = sql.values_sql(kpi, column)
    try:
        return store.frame(query, params), note
    except duckdb.Error as exc:
        raise ConfigError(
            f"KPI {kpi_id!r} cannot be computed: {str(exc).splitlines()[0]}",
            where=f"workbench.yaml, key kpi.definitions.{kpi_id} (or the built-in definition)",
            fix=f"Check its 'where', 'measure', 'time' and 'per' against the fields of "
            f"{kpi.object} (`workbench dictionary export`).",
        ) from exc


def _ltv(done: dict[str, pl.DataFrame], margin: float) -> tuple[pl.DataFrame | None, str | None]:
    if "arpa" not in done or "churn_rate" not in done:
        return None, "needs the arpa and churn_rate KPIs"
    joined = (
        done["arpa"]
        .join(done["churn_rate"], on=["period", "segment"], suffix="_churn")
        .filter(pl.col("value_churn") > 0)
    )
    return joined.select(
        "period",
        "segment",
        (pl.col("value") * margin / pl.col("value_churn")).alias("value"),
        pl.col("n_churn").alias("n"),
    ), None


def time_field(dictionary: Dictionary, obj: str) -> str | None:
    """The field that places an object's records in time: its first required timestamp or
    date field, else ``created_at`` when it has one."""
    spec = dictionary.object(obj)
    required = [n for n in spec.dated_fields() if spec.fields[n].required]
    if required:
        return required[0]
    return "created_at" if "created_at" in spec.fields else None


def _missing_mandatory(
    store: Store, kpi: KpiDef, dictionary: Dictionary, grain: Grain, segment: str | None
) -> tuple[pl.DataFrame | None, str | None]:
    names = dictionary.object_names if kpi.object == "all" else [kpi.object]
    objects: dict[str, tuple[str | None, list[str], bool]] = {}
    column = sql.segment_column(segment)
    for name in names:
        if not store.table_exists("stg", name):
            continue
        spec = dictionary.object(name)
        time = kpi.time or time_field(dictionary, name)
        has_column = column in (None, "object") or column in store.columns("stg", name)
        objects[name] = (time, [n for n, f in spec.fields.items() if f.required], has_column)
    if not objects:
        return None, "nothing staged yet"
    query, params = sql.missing_mandatory_sql(objects, column)
    return store.frame(query, {"grain": grain, **params}), None


def _tidy(frame: pl.DataFrame, kpi_id: str, grain: Grain, segment: str | None) -> pl.DataFrame:
    frame = frame.filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
    if segment is not None:  # a "(none)" row holding every row of its period copies "all"
        whole = frame.filter(pl.col("segment") == sql.ALL).select("period", all_n="n")
        copies = frame.join(whole, on="period", how="left").select(
            (pl.col("segment") == sql.NO_VALUE) & (pl.col("n") == pl.col("all_n"))
        )
        frame = frame.filter(~copies.to_series().fill_null(False))
    starts = frame["period"].cast(pl.Datetime("us"))
    return pl.DataFrame(
        {
            "kpi": [kpi_id] * frame.height,
            "grain": [grain] * frame.height,
            "period": [label(p, grain) for p in starts.to_list()],
            "period_start": starts,
            "segment_by": [segment or sql.ALL] * frame.height,
            "segment": frame["segment"].cast(pl.String),
            "value": frame["value"].cast(pl.Float64),
            "n": frame["n"].cast(pl.Int64),
        },
        schema=SCHEMA,
    )
