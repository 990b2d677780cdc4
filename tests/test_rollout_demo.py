"""The demo's staggered rollout (issue 22 item 1): the canary segment gets the integration on
2026-05-01, the wave2 segment on 2026-08-01, control never. Each cohort's baseline and
difference-in-differences, and what each cohort returns, are checked against the same
definitions computed here with polars from the leads export; the reports show them."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.config import load_project
from workbench.roi.run import roi
from workbench.store import Store

pytestmark = pytest.mark.slow  # a 5,000-contact demo: run by `make test-slow`

CANARY, WAVE2 = datetime(2026, 5, 1), datetime(2026, 8, 1)
DATA_END = datetime(2026, 11, 1)  # the demo's activity runs through October 2026
SF = "%Y-%m-%dT%H:%M:%S%.3f%z"


@pytest.fixture(scope="module")
def demo(demo_source: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("rollout") / "demo"
    shutil.copytree(demo_source(5000, 42), target)
    return target


@pytest.fixture(scope="module")
def result(demo: Path):
    project = load_project(demo)
    with Store(project.warehouse_path) as store:
        return roi(project, store)


@pytest.fixture(scope="module")
def leads(demo: Path) -> pl.DataFrame:
    """The leads export with times in naive UTC and the response time in hours."""
    raw = pl.read_csv(demo / "exports/crm/leads.csv", infer_schema=False)

    def utc(column: str) -> pl.Expr:
        parsed = pl.col(column).str.strptime(pl.Datetime("us", "UTC"), SF, strict=False)
        return parsed.dt.replace_time_zone(None)

    return raw.select(
        pl.col("Segment").alias("segment"),
        utc("CreatedDate").alias("created"),
        pl.col("ConvertedDate").is_not_null().alias("converted"),
        ((utc("First_Response__c") - utc("CreatedDate")).dt.total_microseconds() / 3.6e9).alias(
            "hours"
        ),
    )


def _window(frame: pl.DataFrame, segment: str, start: datetime, end: datetime) -> pl.DataFrame:
    return frame.filter(
        (pl.col("segment") == segment) & (pl.col("created") >= start) & (pl.col("created") < end)
    )


Level = Callable[[pl.DataFrame], float]


def _did(leads: pl.DataFrame, cohort: str, level: Level, size: Level) -> dict:
    """A cohort's DiD as the module doc of workbench.kpi.staggered defines it, by hand."""
    pre_start, launch, end, controls = {  # baseline: the 6 months before the launch
        "canary": (datetime(2025, 11, 1), CANARY, WAVE2, ["control", "wave2"]),
        "wave2": (datetime(2026, 2, 1), WAVE2, DATA_END, ["control"]),
    }[cohort]
    pre = {g: _window(leads, g, pre_start, launch) for g in [cohort, *controls]}
    post = {g: _window(leads, g, launch, end) for g in [cohort, *controls]}
    # each control group weighs by its baseline size: the rows the KPI reads
    sizes = np.array([size(pre[g]) for g in controls], dtype=float)
    change = np.array([level(post[g]) - level(pre[g]) for g in controls])
    control_change = float((sizes / sizes.sum()) @ change)
    before, after = level(pre[cohort]), level(post[cohort])
    return {"before": before, "after": after, "did": after - before - control_change}


def _median_hours(frame: pl.DataFrame) -> float:
    return float(np.median(frame["hours"].drop_nulls().to_numpy()))


def _responded(frame: pl.DataFrame) -> float:
    return float(frame["hours"].is_not_null().sum())


def _conversion(frame: pl.DataFrame) -> float:
    return float(frame["converted"].mean())  # type: ignore[arg-type]


def _leads(frame: pl.DataFrame) -> float:
    return float(frame.height)


def test_the_demo_rolls_out_in_two_waves(demo: Path, leads: pl.DataFrame) -> None:
    truth = json.loads((demo / "truth/effects.json").read_text())["rollout"]
    assert truth == {
        "column": "segment",
        "launches": {"canary": "2026-05-01", "wave2": "2026-08-01"},
        "never": "control",
    }
    launches = load_project(demo).config.kpi.rollout
    assert launches is not None and launches.column == "segment"
    assert {g: d.isoformat() for g, d in launches.launches.items()} == truth["launches"]
    shares = leads["segment"].value_counts(normalize=True)
    assert set(shares["segment"]) == {"canary", "wave2", "control"}
    # the wave2 leads answered as slowly as the control ones until August, faster after
    wave2_before = _median_hours(_window(leads, "wave2", CANARY, WAVE2))
    wave2_after = _median_hours(_window(leads, "wave2", WAVE2, DATA_END))
    assert wave2_after < 0.8 * wave2_before


def test_each_cohort_has_its_own_baseline_and_effect(result, leads: pl.DataFrame) -> None:
    """Levels and DiDs equal the hand computation; every lead row of the export loaded."""
    staged = result.rollout
    assert staged is not None
    for kpi, level, size in (("lead_response_time_h", _median_hours, _responded),
                             ("lead_conversion_rate", _conversion, _leads)):  # fmt: skip
        for cohort in ("canary", "wave2"):
            row = staged.cohorts.filter((pl.col("kpi") == kpi) & (pl.col("cohort") == cohort))
            assert row.height == 1, (kpi, cohort)
            got, expected = row.row(0, named=True), _did(leads, cohort, level, size)
            assert got["treated_pre"] == pytest.approx(expected["before"], abs=1e-9)
            assert got["treated_post"] == pytest.approx(expected["after"], abs=1e-9)
            assert got["did"] == pytest.approx(expected["did"], abs=1e-9)
            assert got["baseline_low"] < got["treated_pre"] < got["baseline_high"]
            assert got["ci_low"] < got["did"] < got["ci_high"]
    controls = dict(staged.cohorts.select("cohort", "controls").unique().iter_rows())
    assert controls == {"canary": "control, wave2", "wave2": "control"}


def test_the_injected_effect_is_found_and_no_other(result) -> None:
    """Lead response x0.6 from each launch: the overall effect excludes zero; nothing was
    injected into the win rate: its interval includes zero."""
    overall = {r["kpi"]: r for r in result.rollout.overall.iter_rows(named=True)}
    lead = overall["lead_response_time_h"]
    assert lead["cohorts"] == 2 and lead["ci_high"] < 0
    assert overall["win_rate"]["ci_low"] < 0 < overall["win_rate"]["ci_high"]
    study = result.rollout.event_study.filter(pl.col("kpi") == "lead_response_time_h")
    assert study.filter(pl.col("event_time") == -1)["effect"].to_list() == [0.0]
    after = study.filter(pl.col("event_time") >= 0)["effect"].to_numpy()
    assert after.size and after.mean() < 0


def test_each_cohort_is_priced_on_its_share_of_the_volume(
    result, leads: pl.DataFrame, demo: Path
) -> None:
    """monthly value = the cohort's uplift x leads/month x deal value x win rate x its share
    of the baseline months' leads (counted here), and both are stored with the run."""
    driver = result.drivers.filter(pl.col("kpi") == "lead_conversion_rate").row(0, named=True)
    inputs = {k: v.replace(",", "") for k, v in re.findall(r"(\w+)=([-\d.,e]+)", driver["inputs"])}
    baseline = leads.filter(
        (pl.col("created") >= datetime(2025, 11, 1)) & (pl.col("created") < CANARY)
    )
    assert float(inputs["leads_per_month"]) == pytest.approx(baseline.height / 6, rel=1e-3)
    per_unit = baseline.height / 6 * float(inputs["won_deal_value"]) * float(inputs["win_rate"])
    cohorts = result.cohorts.filter(pl.col("kpi") == "lead_conversion_rate")
    assert sorted(cohorts["cohort"]) == ["canary", "wave2"]
    for r in cohorts.iter_rows(named=True):
        share = baseline.filter(pl.col("segment") == r["cohort"]).height / baseline.height
        did = result.rollout.cohorts.filter(
            (pl.col("kpi") == "lead_conversion_rate") & (pl.col("cohort") == r["cohort"])
        )["did"][0]
        assert r["volume_share"] == pytest.approx(share, abs=1e-12)
        assert r["monthly_value"] == pytest.approx(did * per_unit * share, rel=1e-3)
        assert r["monthly_low"] <= r["monthly_value"] <= r["monthly_high"]
    project = load_project(demo)
    with Store(project.warehouse_path, read_only=True) as store:
        stored = store.scalar(
            "SELECT count(*) FROM roi.cohorts WHERE run_id = $r", {"r": result.run_id}
        )
        rows = store.scalar(
            "SELECT count(*) FROM kpi.rollout WHERE run_id = $r", {"r": result.comparison.run_id}
        )
    assert stored == result.cohorts.height
    assert rows == result.rollout.cohorts.height


def test_a_sync_failure_cohort_is_priced_with_the_failure_driver(result) -> None:
    """The sync failure driver is split too; the groups' shares of the events add to under 1
    (control is never reached) and the failure rate fell in both waves."""
    part = result.cohorts.filter(pl.col("kpi") == "sync_failure_rate")
    assert sorted(part["cohort"]) == ["canary", "wave2"]
    assert 0.4 < float(part["volume_share"].sum()) < 0.75
    assert (part["improvement"] > 0).all()


def test_a_rollout_by_source_reads_the_lineage_column(demo: Path, leads: pl.DataFrame) -> None:
    """`source` names the lineage column `_source`: the volume of the leads' one source is
    every baseline lead (counted here), and readiness counts its rows."""
    from workbench.report.readiness import _group_rows
    from workbench.roi.inputs import kpi_volume

    project = load_project(demo)
    kpi = project.kpis()["lead_conversion_rate"]
    baseline = leads.filter(
        (pl.col("created") >= datetime(2025, 11, 1)) & (pl.col("created") < CANARY)
    )
    with Store(project.warehouse_path, read_only=True) as store:
        volume = kpi_volume(store, kpi, "lead_conversion_rate", datetime(2025, 11, 1), CANARY,
                            ("source", "crm_leads"))  # fmt: skip
        rows = _group_rows(project, store, "source", ["crm_leads", "nowhere"])
    assert volume * 6 == pytest.approx(baseline.height)
    assert rows == {"crm_leads": leads.height, "nowhere": 0}


def test_a_wrong_rollout_costs_its_sections_not_the_roi(demo: Path) -> None:
    project = load_project(demo)
    assert project.config.kpi.rollout is not None
    project.config.kpi.rollout.launches["wave9"] = datetime(2026, 9, 1).date()
    with Store(project.warehouse_path, read_only=True) as store:
        result = roi(project, store, record=False)
    assert result.rollout is None and result.cohorts.is_empty()
    assert result.rollout_problem is not None
    assert "No data of the rollout group(s) 'wave9' in 'segment'." in result.rollout_problem
    assert result.summary["roi"] is not None and result.drivers.height == 3


def test_a_lower_is_better_kpi_is_priced_with_its_sign_turned(result, demo: Path) -> None:
    """Sync failures fell: the improvement is minus the cohort's DiD, and each cohort's value
    is that x cost per failure x events per month x its share of the baseline events
    (counted here from the export; the few quarantined events move the share < 1%)."""
    import gzip

    with gzip.open(demo / "exports/integration/sync_events.ndjson.gz") as handle:
        events = pl.read_ndjson(handle.read())
    created = pl.col("ts").str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.3fZ")
    baseline = events.with_columns(created.dt.replace_time_zone(None).alias("t")).filter(
        (pl.col("t") >= datetime(2025, 11, 1)) & (pl.col("t") < CANARY)
    )
    driver = result.drivers.filter(pl.col("kpi") == "sync_failure_rate").row(0, named=True)
    inputs = {k: float(v.replace(",", "")) for k, v in
              re.findall(r"(\w+)=([-\d.,e]+)", driver["inputs"])}  # fmt: skip
    per_unit = inputs["events_per_month"] * inputs["cost_per_failure"]
    for r in result.cohorts.filter(pl.col("kpi") == "sync_failure_rate").iter_rows(named=True):
        did = result.rollout.cohorts.filter(
            (pl.col("kpi") == "sync_failure_rate") & (pl.col("cohort") == r["cohort"])
        )["did"][0]
        share = baseline.filter(pl.col("segment") == r["cohort"]).height / baseline.height
        assert r["improvement"] == pytest.approx(-did)
        assert r["monthly_value"] == pytest.approx(-did * per_unit * share, rel=0.01)
        assert r["monthly_value"] > 0  # failures fell, so it returns money
