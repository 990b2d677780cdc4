"""The KPI stage as the CLI, notebooks and pipeline call it: compute, baseline, compare,
rollout (a staggered rollout's cohorts).

Each function reads the project's KPI settings (``kpi:`` in workbench.yaml), does its work
through the modules of this package, stores the result in ``kpi.*`` with a run id, and
returns it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl

from workbench.config import Project
from workbench.config.kpis import KpiDef
from workbench.errors import ConfigError
from workbench.kpi import history
from workbench.kpi.baseline import baselines, default_window, partial_note, signals
from workbench.kpi.compute import KpiValues, breaks_down, compute
from workbench.kpi.did import Windows, did, windows_around
from workbench.kpi.periods import Grain, step
from workbench.kpi.sql import NO_VALUE
from workbench.kpi.staggered import Cohort, StaggeredResult, rollout_groups, staggered
from workbench.kpi.targets import statuses
from workbench.store import Store


def measure(
    project: Project,
    store: Store,
    *,
    grain: Grain = "month",
    segment: str | None = None,
    on_kpi: Callable[[str], None] | None = None,
    record: bool = True,
    kpis: dict[str, KpiDef] | None = None,
    now: datetime | None = None,
) -> tuple[int, KpiValues]:
    """Compute every KPI (or those of ``kpis``) per period (and segment) and store the values
    as a new run.

    With ``record=False`` nothing is written (a read-only store will do) and the run id is 0.
    ``now`` is the run's clock (default: the current time), which bounds the latest period.
    """
    cfg = project.config.kpi
    values = compute(
        store,
        project.kpis() if kpis is None else kpis,
        project.dictionary,
        grain=grain,
        segment=segment,
        gross_margin=cfg.gross_margin,
        on_kpi=on_kpi,
        now=now,
    )
    if not record:
        return 0, values
    run_id = history.record(store, values, config_sha256=project.config_sha256)
    return run_id, values


@dataclass
class BaselineResult:
    """Baseline levels, later signals and target status, stored under ``run_id``."""

    run_id: int
    start: datetime
    end: datetime
    levels: pl.DataFrame
    signals: pl.DataFrame
    targets: pl.DataFrame
    notes: list[str]
    values: KpiValues
    partial: str | None = None  # the latest month is not complete: what that means here


def baseline(
    project: Project,
    store: Store,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    segment: str | None = None,
    period: str | None = None,
    record: bool = True,
    now: datetime | None = None,
    kpis: dict[str, KpiDef] | None = None,
) -> BaselineResult:
    """Baselines over the window before launch (or ``[start, end)``), XmR signals of the
    periods after it, and target status for ``period`` (default: each KPI's latest period
    up to the latest period with validated data up to ``now``), of every KPI (or those of
    ``kpis``)."""
    cfg = project.config.kpi
    kpis = project.kpis() if kpis is None else kpis
    run_id, values = measure(project, store, segment=segment, record=record, now=now, kpis=kpis)
    if start is None or end is None:
        start, end = default_window(
            values.latest, cfg.launch_date, cfg.baseline_months, values.latest_partial
        )
    partial = partial_note(values.latest, values.newest, end) if values.latest_partial else None
    levels = baselines(
        store,
        kpis,
        values.frame,
        start,
        end,
        segment=segment,
        n_samples=cfg.bootstrap_samples,
        seed=cfg.seed,
    )
    # a month cut short is low or high for now, not for good: no signal of a real shift
    whole = values.frame
    if values.latest_partial:
        whole = whole.filter(pl.col("period_start") != values.latest)
    shifts = signals(whole, levels)
    latest = values.latest  # a month cut short is judged on no target: the one before is
    if latest is not None and values.latest_partial:
        latest -= step("month")
    targets = statuses(kpis, levels, values.frame, period, cfg.launch_date, latest=latest)
    notes = [*values.notes, *([partial] if partial else [])]
    result = BaselineResult(run_id, start, end, levels, shifts, targets, notes, values, partial)
    if not record:
        return result
    with store.transaction():
        for name, frame in (("baselines", levels), ("signals", shifts), ("targets", targets)):
            _append(store, name, frame.with_columns(pl.lit(run_id).alias("run_id")))
    return result


@dataclass
class Comparison:
    """Canary vs control for every KPI, and the DiD replicates behind the intervals."""

    run_id: int
    windows: Windows
    table: pl.DataFrame
    draws: dict[str, np.ndarray]
    notes: list[str]
    values: KpiValues
    cut: str | None = None  # the window after the launch ends before a month cut short


def compare(
    project: Project,
    store: Store,
    *,
    until: datetime | None = None,
    record: bool = True,
    now: datetime | None = None,
) -> Comparison:
    """Difference-in-differences around the launch (``kpi.did``) of every KPI that can be
    broken down by the treatment field (only those are measured).

    The post-launch window ends at ``until``, by default with the latest period with
    validated data up to ``now`` (rows dated in the future never extend it), or before it
    when the data stops short of its end (:attr:`.KpiValues.latest_partial`: an export taken
    mid-month), unless nothing after the launch would be left."""
    cfg = project.config.kpi
    if cfg.launch_date is None:
        raise ConfigError(
            "Canary vs control needs the launch date.",
            where="workbench.yaml, key kpi.launch_date",
            fix="Set kpi.launch_date (e.g. 2026-05-01) and, if the rollout field is not "
            "'segment' with values canary/control, kpi.treatment.",
        )
    column = cfg.treatment.column
    comparable = {k: v for k, v in project.kpis().items() if breaks_down(store, v, column)}
    run_id, values = measure(
        project, store, segment=column, record=record, kpis=comparable, now=now
    )
    launch = datetime(cfg.launch_date.year, cfg.launch_date.month, cfg.launch_date.day)
    if until is None:
        until = _data_end(values, launch) or launch
    windows = windows_around(launch, cfg.baseline_months, until)
    table, draws = did(
        store,
        comparable,
        values.frame,
        windows,
        treated=cfg.treatment.treated,
        control=cfg.treatment.control,
        column=column,
        n_samples=cfg.bootstrap_samples,
        seed=cfg.seed,
    )
    notes = list(values.notes)
    cut = _cut_note(values, windows.post_end)
    notes += [cut] if cut else []
    if table.is_empty():
        notes.append(
            f"no KPI has data for both {cfg.treatment.treated!r} and {cfg.treatment.control!r} "
            f"in {column!r} before and after the launch"
        )
    result = Comparison(run_id, windows, table, draws, notes, values, cut)
    if not record:
        return result
    with store.transaction():
        _append(store, "did", table.with_columns(pl.lit(run_id).alias("run_id")))
    return result


def _data_end(values: KpiValues, launch: datetime | None) -> datetime | None:
    """Where the window after ``launch`` ends by default: after the latest period with
    validated data (None when there is none); before it when the data stops short of its end
    (an export taken mid-month: its values are not final) and a whole month after the
    launch is left."""
    last = values.latest
    if last is None:
        return None
    if launch is not None and values.latest_partial:
        first = datetime(launch.year, launch.month, 1)  # the first whole month after it
        first += step("month", 1 if launch.day > 1 else 0)
        if last >= first + step("month"):
            return last
    return last + step("month")


def _cut_note(values: KpiValues, end: datetime) -> str | None:
    """That the window after the launch ends (at ``end``) before a month cut short, or that
    it holds that month (less than a whole month after the launch would be left without it,
    or ``until`` was given), if the latest month is cut short."""
    if not values.latest_partial or values.latest is None:
        return None
    if end > values.latest:
        return (
            f"The data ends on {values.newest:%d %b %Y}: {values.latest:%b %Y} is not "
            "complete, and the window after the launch includes it: its values are not final."
        )
    return (
        f"The data ends on {values.newest:%d %b %Y}: {values.latest:%b %Y} is not complete, "
        "so the window after the launch ends before it."
    )


def _append(store: Store, name: str, frame: pl.DataFrame) -> None:
    with store.registered("kpi_frame", frame):
        store.execute(f"INSERT INTO kpi.{name} BY NAME SELECT * FROM kpi_frame")


def rollout(
    project: Project,
    store: Store,
    *,
    until: datetime | None = None,
    now: datetime | None = None,
    record: bool = True,
    measured: tuple[int, KpiValues] | None = None,
) -> StaggeredResult:
    """The staggered DiD of every KPI that breaks down by ``kpi.rollout.column`` (see
    :mod:`workbench.kpi.staggered`), each cohort with its baseline, stored in
    ``kpi.rollout`` under the KPI run of its values (``record=False``: nothing is written).
    The data ends with the latest period with validated data up to ``now`` (or at
    ``until``).

    Args:
        measured: a KPI run (its id and values) already broken down by the rollout field
            (:func:`compare`'s, when the rollout and the treatment share a field); the
            values are measured here when it is None or broken down by another field.
    """
    cfg = project.config.kpi
    if cfg.rollout is None:
        raise ConfigError(
            "A staggered rollout needs its launch dates per group.",
            where="workbench.yaml, key kpi.rollout",
            fix="Add kpi.rollout: {column: region, launches: {EMEA: 2026-05-01, "
            "NA: 2026-07-01}} (groups not listed are controls).",
        )
    column = cfg.rollout.column
    where = "workbench.yaml, key kpi.rollout"
    comparable = {k: v for k, v in project.kpis().items() if breaks_down(store, v, column)}
    if not comparable:
        raise ConfigError(
            f"No KPI can be broken down by {column!r}: no loaded object has that field.",
            where=f"{where}.column",
            fix="Name the field that holds the rollout group (e.g. region) of the objects "
            "your KPIs read.",
        )
    if measured is None or measured[1].segment != column:
        measured = measure(project, store, segment=column, record=record, kpis=comparable, now=now)
    run_id, values = measured
    found = rollout_groups(values.frame)
    unknown = [group for group in cfg.rollout.launches if group not in found]
    if unknown:
        raise ConfigError(
            f"No data of the rollout group(s) {', '.join(map(repr, unknown))} in {column!r}.",
            where=f"{where}.launches.{unknown[0]}",
            fix=f"Use the values the data holds: {', '.join(sorted(found)) or '(none)'}.",
        )
    cohorts = [
        Cohort(str(group), datetime(d.year, d.month, d.day))
        for group, d in cfg.rollout.launches.items()
    ]
    if until is None:
        first = min((c.launch for c in cohorts), default=None)
        until = _data_end(values, first) or datetime.now(UTC).replace(tzinfo=None)
    result = staggered(
        store,
        comparable,
        values.frame,
        cohorts,
        column=column,
        baseline_months=cfg.baseline_months,
        until=until,
        n_samples=cfg.bootstrap_samples,
        seed=cfg.seed,
    )
    cut = _cut_note(values, until)
    result.notes[:0] = [*values.notes, *([cut] if cut else [])]
    if (values.frame["segment"] == NO_VALUE).any():
        result.notes.append(f"rows without a {column} value belong to no group (left out)")
    if record and run_id:
        with store.transaction():
            _append(store, "rollout", result.cohorts.with_columns(pl.lit(run_id).alias("run_id")))
    result.run_id = run_id
    return result
