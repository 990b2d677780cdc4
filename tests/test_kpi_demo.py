"""KPIs, baselines, canary vs control and ROI on the demo data, whose effects are known.

The demo generator injects effects into the canary segment after launch (truth/effects.json)
and records the per-cell values it generated; the workbench must find them from the exports.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.kpi import history
from workbench.kpi.run import baseline, compare, measure
from workbench.roi.config import load_roi
from workbench.roi.run import roi
from workbench.store import Store

pytestmark = pytest.mark.slow  # heavy: run by `make test-slow`


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kpi") / "demo"
    assert main(["demo", "--project", str(root), "--contacts", "5000", "--seed", "42"]) == 0
    return root


@pytest.fixture(scope="module")
def comparison(demo: Path):
    project = load_project(demo)
    with Store(project.warehouse_path) as store:
        return compare(project, store)


def test_did_finds_the_injected_effects(comparison) -> None:
    did = {r["kpi"]: r for r in comparison.table.iter_rows(named=True)}
    # lead response time x0.6 and sync failures 4% -> 1.5% in the canary after launch:
    # both fall, and the interval excludes zero
    for kpi in ("lead_response_time_h", "sync_failure_rate"):
        assert did[kpi]["did"] < 0
        assert did[kpi]["ci_high"] < 0, kpi
    # nothing was injected into win rate or latency: their intervals include zero
    for kpi in ("win_rate", "sync_latency_p95_ms", "churn_rate"):
        assert did[kpi]["ci_low"] < 0 < did[kpi]["ci_high"], kpi


def test_post_launch_cells_equal_what_the_generator_made(demo: Path, comparison) -> None:
    observed = json.loads((demo / "truth/effects.json").read_text())["observed"]
    hours = observed["lead_first_response_hours_median"]
    row = comparison.table.filter(pl.col("kpi") == "lead_response_time_h").row(0, named=True)
    assert row["treated_post"] == pytest.approx(hours["canary_post"], abs=1e-6)
    assert row["control_post"] == pytest.approx(hours["control_post"], abs=1e-6)
    sync = observed["sync_failure_rate"]
    row = comparison.table.filter(pl.col("kpi") == "sync_failure_rate").row(0, named=True)
    # a few sync events are quarantined (injected errors), so the rates differ slightly
    assert row["treated_post"] == pytest.approx(sync["canary_post"], abs=0.002)
    assert row["control_post"] == pytest.approx(sync["control_post"], abs=0.002)


def test_did_is_the_difference_of_differences_of_its_cells(comparison) -> None:
    for row in comparison.table.iter_rows(named=True):
        expected = (row["treated_post"] - row["treated_pre"]) - (
            row["control_post"] - row["control_pre"]
        )
        assert row["did"] == pytest.approx(expected)
        assert row["ci_low"] <= row["ci_high"]


def test_roi_is_traceable_to_its_inputs(demo: Path) -> None:
    project = load_project(demo)
    config = load_roi(demo)
    with Store(project.warehouse_path) as store:
        result = roi(project, store, config)
        stored = dict(
            store.rows("SELECT metric, value FROM roi.runs WHERE run_id = $r", {"r": result.run_id})
        )
    s = result.summary
    one_time = sum(c.amount for c in config.costs.one_time)
    recurring = sum(c.amount_per_month for c in config.costs.recurring)
    horizon = config.horizon_months
    assert s["costs"] == pytest.approx(one_time + recurring * horizon)
    # benefits: each driver's monthly value over the horizon, ramped up linearly
    total = 0.0
    for driver, cfg in zip(result.drivers.iter_rows(named=True), config.value_drivers, strict=True):
        months = np.arange(1, horizon + 1)
        ramp = np.minimum(months / cfg.ramp_months, 1) if cfg.ramp_months else np.ones(horizon)
        total += driver["monthly_value"] * ramp.sum()
        inputs = dict(part.split("=") for part in driver["inputs"].split(", "))
        product = np.prod([float(v.replace(",", "")) for v in inputs.values()])
        assert driver["monthly_value"] == pytest.approx(product, rel=1e-3), driver["driver"]
        assert driver["monthly_low"] <= driver["monthly_value"] <= driver["monthly_high"]
    assert s["benefits"] == pytest.approx(total)
    assert s["roi"] == pytest.approx((total - s["costs"]) / s["costs"])
    assert s["roi_low"] < s["roi"] < s["roi_high"]
    assert 0 < s["p_roi_positive"] <= 1
    assert s["npv_low"] < s["npv"] < s["npv_high"]
    assert stored["roi"] == pytest.approx(s["roi"])


def test_baseline_window_levels_and_history(demo: Path) -> None:
    project = load_project(demo)
    with Store(project.warehouse_path) as store:
        result = baseline(project, store)
        assert (result.start.isoformat(), result.end.isoformat()) == (
            "2025-11-01T00:00:00",
            "2026-05-01T00:00:00",
        )
        # the level of a median KPI is the median over every row of the window
        hours = store.frame(
            "SELECT epoch(first_response_at - created_at) / 3600 AS h FROM core.leads "
            "WHERE first_response_at IS NOT NULL AND created_at >= '2025-11-01' "
            "AND created_at < '2026-05-01'"
        )["h"].to_numpy()
        level = result.levels.filter(pl.col("kpi") == "lead_response_time_h").row(0, named=True)
        assert level["level"] == pytest.approx(float(np.median(hours)))
        assert level["ci_low"] < level["level"] < level["ci_high"]
        assert level["size"] == hours.size
        # re-running does not restate anything; changing a past value does
        _, _ = measure(project, store)
        assert history.restatements(store).is_empty()
        store.execute(
            "UPDATE core.leads SET first_response_at = first_response_at + INTERVAL 5 HOUR "
            "WHERE created_at >= '2026-01-01' AND created_at < '2026-02-01'"
        )
        run_id, _ = measure(project, store)
        restated = history.restatements(store)
        assert set(restated["kpi"]) == {"lead_response_time_h"}
        assert set(restated["period"]) == {"2026-01"}
        row = restated.filter(pl.col("segment") == "all").row(0, named=True)
        assert row["new_value"] == pytest.approx(row["old_value"] + 5)
        assert row["run_id"] == run_id
        latest = history.latest(store).filter(
            (pl.col("kpi") == "lead_response_time_h") & (pl.col("period") == "2026-01")
        )
        assert latest["value"][0] == pytest.approx(row["new_value"])


def test_cli_commands_run_on_the_demo(demo: Path, capsys, tmp_path: Path) -> None:
    assert main(["kpi", "list", "--project", str(demo)]) == 0
    assert "lead_response_time_h" in capsys.readouterr().out
    assert main(["kpi", "--period", "2026-09", "--segment", "segment", "--project", str(demo)]) == 0
    text = capsys.readouterr().out
    assert "canary" in text and "2026-09" in text
    assert main(["baseline", "--start", "2025-11", "--end", "2026-04", "--project", str(demo)]) == 0
    assert "Baseline 2025-11..2026-04" in capsys.readouterr().out
    assert main(["roi", "--project", str(demo)]) == 0
    assert "P(ROI > 0)" in capsys.readouterr().out
    out_file = tmp_path / "kpis.csv"
    assert main(["export", "kpis", "--out", str(out_file), "--project", str(demo)]) == 0
    frame = pl.read_csv(out_file)
    assert frame.columns == ["kpi", "period", "segment", "value"]
    assert set(frame["segment"]) == {"all"}
    assert main(["kpi", "--period", "2026-13", "--project", str(demo)]) == 2
    assert "not a period label" in capsys.readouterr().err
