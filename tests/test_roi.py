"""ROI arithmetic against numbers worked out by hand, and roi.yaml validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.errors import ConfigError
from workbench.roi.config import load_roi
from workbench.roi.model import DriverValue, cash_flows, outcome, point_benefits, ramp


def test_roi_payback_and_npv_by_hand() -> None:
    # 1000 up front, 100 a month, 300 a month of benefit, 12 months, 12% a year
    drivers = [DriverValue("hours", "hours_saved", 300.0, np.full(5, 300.0))]
    result = outcome(point_benefits(drivers, 12), 1000.0, 100.0, 0.12)
    assert result.costs == 2200.0
    assert result.benefits[0] == 3600.0
    assert result.roi[0] == pytest.approx((3600 - 2200) / 2200)
    # net 200 a month pays the 1000 back in month 5
    assert result.payback[0] == 5
    npv = -1000 + sum(200 / 1.12 ** (m / 12) for m in range(1, 13))
    assert result.npv[0] == pytest.approx(npv)
    flows = cash_flows(drivers, 1000.0, 100.0, 12, 0.12)
    assert flows["cumulative"].to_list()[:6] == [-1000, -800, -600, -400, -200, 0]
    assert flows["discounted"].sum() == pytest.approx(npv)


def test_no_payback_within_the_horizon_and_ramp() -> None:
    drivers = [DriverValue("small", "hours_saved", 50.0, np.full(3, 50.0), ramp_months=4)]
    assert ramp(6, 4).tolist() == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    result = outcome(point_benefits(drivers, 6), 5000.0, 10.0, 0.0)
    assert np.isnan(result.payback[0])
    assert result.benefits[0] == pytest.approx(50 * (0.25 + 0.5 + 0.75 + 3))
    assert result.npv[0] == pytest.approx(result.benefits[0] - 5000 - 60)


def test_draws_give_one_outcome_each() -> None:
    draws = np.array([0.0, 100.0, 400.0])
    drivers = [DriverValue("d", "hours_saved", 100.0, draws)]
    from workbench.roi.model import benefit_matrix

    result = outcome(benefit_matrix(drivers, 10, 3), 500.0, 0.0, 0.0)
    assert result.roi.tolist() == pytest.approx([-1.0, 1.0, 7.0])
    assert np.isnan(result.payback[0]) and result.payback[1] == 5 and result.payback[2] == 2


def test_roi_yaml_errors_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "roi.yaml").write_text(
        "horizon_months: 24\n"
        "value_drivers:\n"
        "  - {name: x, type: hours_saved, hours_per_month: 10}\n"
        "  - {name: y, type: teleport}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_roi(tmp_path)
    text = err.value.message
    assert "roi.yaml" in text and "line 3" in text and "hourly_rate" in text
    (tmp_path / "roi.yaml").unlink()
    with pytest.raises(ConfigError, match="does not exist"):
        load_roi(tmp_path)


def test_an_unknown_key_of_a_value_driver_gets_a_suggestion(tmp_path: Path) -> None:
    """The driver's keys are those of its type: a misspelt one is named where it is, with
    the key meant (pydantic's location names the type too: not shown)."""
    (tmp_path / "roi.yaml").write_text(
        "value_drivers:\n"
        "  - {name: x, type: hours_saved, hours_per_month: 10, hourly_rate: 50}\n"
        "  - name: y\n"
        "    type: conversion_uplift\n"
        "    deal_value: 5000\n"
    )
    with pytest.raises(ConfigError) as err:
        load_roi(tmp_path)
    text = err.value.message
    assert "line 5: value_drivers.1.deal_value: unknown key." in text
    assert "Did you mean 'won_deal_value'?" in text
    assert "Allowed keys here: kpi, leads_per_month, name, ramp_months, type, win_rate, " in text


def test_a_drivers_share_of_the_benefits_counts_its_ramp() -> None:
    """The headline's share of a driver not yet told from no effect is of the benefits over
    the horizon, as the waterfall shows them: a driver that ramps up over 12 of 12 months
    earns 1/12 + 2/12 + ... + 12/12 = 6.5 months of its full effect."""
    from types import SimpleNamespace

    import polars as pl

    from workbench.report.roi import headline, waterfall
    from workbench.roi.run import RoiResult

    drivers = pl.DataFrame(
        {
            "driver": ["Hours saved", "More leads converted"],
            "monthly_value": [100.0, 100.0],
            "monthly_low": [80.0, -50.0],
            "monthly_high": [120.0, 250.0],
            "ramp_months": [0, 12],
        }
    )
    summary = {
        "horizon_months": 12.0, "roi": 0.5, "roi_low": 0.1, "roi_high": 0.9,
        "p_roi_positive": 0.9, "npv": 1e3, "npv_low": 1e2, "npv_high": 2e3, "payback_month": 5,
        "payback_low": 3.0, "payback_high": 9.0, "one_time_costs": 500.0,
        "recurring_costs_per_month": 10.0,
    }  # fmt: skip
    result = RoiResult(1, summary, drivers, pl.DataFrame(), comparison=SimpleNamespace(cut=None))  # type: ignore[arg-type]
    ctx = SimpleNamespace(project=SimpleNamespace(config=SimpleNamespace(base_currency="EUR")))
    # 1,200 and 650 over the horizon: 650 / 1,850 is 35% (the monthly values said 50%)
    assert headline(result, ctx).endswith("More leads converted (35% of the benefits).")  # type: ignore[arg-type]
    bars = waterfall(result, ctx).data[0]  # type: ignore[arg-type, union-attr]
    assert list(bars.y) == [1200.0, 650.0, -500.0, -120.0, 0]


def test_months_of_a_window_from_a_clamped_month_end() -> None:
    from datetime import datetime

    from workbench.roi.inputs import months_between

    # launch 31 May, 3 baseline months: the start clamps to 28 Feb; 92 days are 3 months
    assert months_between(datetime(2026, 2, 28), datetime(2026, 5, 31)) == 3
    assert months_between(datetime(2026, 3, 1), datetime(2026, 5, 1)) == 2
    assert months_between(datetime(2025, 11, 1), datetime(2026, 5, 1)) == 6
    assert months_between(datetime(2026, 5, 1), datetime(2026, 5, 3)) == 1  # at least one


def test_the_headline_names_drivers_not_yet_told_from_no_effect() -> None:
    """A driver whose interval includes zero is named with its share of the benefits: in
    the demo, conversion was 94% of the benefits with a DiD interval through zero."""
    from types import SimpleNamespace

    import polars as pl

    from workbench.report.roi import headline
    from workbench.roi.run import RoiResult

    drivers = pl.DataFrame(
        {
            "driver": ["More leads converted", "Hours saved", "Faster tickets"],
            "monthly_value": [30_000.0, 8_000.0, 2_000.0],
            "monthly_low": [-1_000.0, 6_000.0, 0.0],
            "monthly_high": [60_000.0, 9_000.0, 4_000.0],
            "ramp_months": [0, 0, 0],
        }
    )
    summary = {
        "horizon_months": 24.0, "roi": 4.6, "roi_low": 1.0, "roi_high": 8.0,
        "p_roi_positive": 0.97, "npv": 1e6, "npv_low": 1e5, "npv_high": 2e6, "payback_month": 5,
        "payback_low": 3.0, "payback_high": 22.0,
    }  # fmt: skip
    whole = SimpleNamespace(cut=None)  # the comparison: no month cut short
    result = RoiResult(1, summary, drivers, pl.DataFrame(), comparison=whole)  # type: ignore[arg-type]
    ctx = SimpleNamespace(project=SimpleNamespace(config=SimpleNamespace(base_currency="EUR")))
    text = headline(result, ctx)  # type: ignore[arg-type]
    # 30,000 of 40,000 is 75%; 2,000 of 40,000 is 5% (a low end of 0 includes zero)
    assert "payback in month 5 (95% interval month 3 to 22)." in text
    assert text.endswith(
        "Not yet told apart from no effect (their 95% interval includes zero), and counted in "
        "these figures: More leads converted (75% of the benefits), Faster tickets (5% of the "
        "benefits)."
    )
    never = {**summary, "payback_month": None}  # the interval is of the draws that pay back
    assert "no payback within it." in headline(
        RoiResult(1, never, drivers, pl.DataFrame(), comparison=whole),  # type: ignore[arg-type]
        ctx,  # type: ignore[arg-type]
    )
    cut = "The data ends on 17 May 2026: May 2026 is not complete, so the window after ..."
    short = SimpleNamespace(cut=cut)
    text = headline(RoiResult(1, summary, drivers, pl.DataFrame(), comparison=short), ctx)  # type: ignore[arg-type]
    assert text.endswith(f"(5% of the benefits). {cut}")
    sure = drivers.with_columns(pl.col("monthly_low").abs() + 1)
    assert "Not yet told" not in headline(
        RoiResult(1, summary, sure, pl.DataFrame(), comparison=whole),  # type: ignore[arg-type]
        ctx,  # type: ignore[arg-type]
    )
