"""The statistics under baselines and DiD, checked against direct computations."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from workbench.config.kpis import KpiDef, Target
from workbench.errors import ConfigError
from workbench.kpi import bootstrap, control, periods
from workbench.kpi.did import t975, trend_check
from workbench.kpi.targets import status


def naive_replicates(x: np.ndarray, stat, samples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([stat(x[rng.integers(0, x.size, x.size)]) for _ in range(samples)])


@pytest.mark.parametrize("q", [0.5, 0.95, 0.3])
def test_quantile_shortcut_has_the_distribution_of_resampling(q):
    x = np.random.default_rng(1).lognormal(3, 0.9, 301)
    fast = bootstrap.quantile_replicates(x, q, 6000, np.random.default_rng(2))
    slow = naive_replicates(x, lambda s: np.quantile(s, q), 6000, 3)
    spread = np.percentile(slow, 97.5) - np.percentile(slow, 2.5)
    for p in (2.5, 25, 50, 75, 97.5):
        assert abs(np.percentile(fast, p) - np.percentile(slow, p)) < 0.08 * spread, p


def test_rate_and_mean_replicates_match_resampling():
    flags = (np.random.default_rng(4).random(500) < 0.07).astype(float)
    fast = bootstrap.rate_replicates(int(flags.sum()), flags.size, 6000, np.random.default_rng(5))
    slow = naive_replicates(flags, np.mean, 6000, 6)
    assert abs(fast.std() - slow.std()) < 0.1 * slow.std()
    assert abs(fast.mean() - flags.mean()) < 0.1 * slow.std()
    values = np.random.default_rng(7).gamma(2.0, 10.0, 200)
    direct = bootstrap.mean_replicates(values, 3000, np.random.default_rng(8))
    assert abs(direct.std() - values.std() / np.sqrt(values.size)) < 0.1 * direct.std()


def test_replicates_are_reproducible_and_order_independent():
    a = bootstrap.rng_for(42, "baseline", "arpa", "all").random(3)
    bootstrap.rng_for(42, "baseline", "other").random(10)
    b = bootstrap.rng_for(42, "baseline", "arpa", "all").random(3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, bootstrap.rng_for(43, "baseline", "arpa", "all").random(3))


def test_quantile_cont_is_the_interpolated_kind():
    # positions (n-1)q: for [1, 2, 3, 10] and q=0.5 that is 1.5 -> 2.5; q=0.95 -> 2.85 -> 3+0.85*7
    x = np.array([10.0, 1.0, 3.0, 2.0])
    assert bootstrap.quantile_cont(x, 0.5) == pytest.approx(2.5)
    assert bootstrap.quantile_cont(x, 0.95) == pytest.approx(3 + 0.85 * 7)


def test_xmr_limits_and_rules():
    base = [10.0, 12.0, 11.0, 13.0, 12.0, 14.0]
    lim = control.limits(base)
    assert lim is not None
    mr = np.mean([2, 1, 2, 1, 2])
    assert lim.centre == pytest.approx(12.0)
    assert lim.upper == pytest.approx(12.0 + 2.66 * mr)
    assert lim.lower == pytest.approx(12.0 - 2.66 * mr)
    # a value outside; then 3 of 4 beyond 1.5 sigma; then a run of 8 above the centre
    sigma = mr / 1.128
    high = 12.0 + 1.6 * sigma
    series = [*base, 30.0, 12.5, high, high, 11.0, high, 12.1, 12.2, 12.3, 12.4, 12.5, 12.6, 12.7]
    rules = control.signals(series, lim)
    assert rules[6] == ["outside"]
    assert "3 of 4" in rules[9]
    assert rules[5] == []
    assert "run of 8" not in rules[-3]  # the 11.0 is still among the last 8
    assert "run of 8" in rules[-1]
    assert control.limits([5.0]) is None


def test_parallel_trend_check():
    slope, t, parallel = trend_check([1.0, 1.1, 0.9, 1.05, 0.95, 1.0])
    assert parallel is True and abs(slope) < 0.05
    slope, t, parallel = trend_check([0.0, 1.0, 2.1, 2.9, 4.0, 5.1])
    assert parallel is False and slope == pytest.approx(1.0, abs=0.05) and t > 10
    assert trend_check([1.0, 2.0]) == (None, None, None)


@pytest.mark.parametrize(
    ("df", "printed"),
    [(1, 12.706), (5, 2.571), (10, 2.228), (30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980)],
)
def test_t975_is_students_t_at_any_degrees_of_freedom(df: int, printed: float) -> None:
    # two-sided 95% critical values as printed in statistics tables
    assert t975(df) == pytest.approx(printed, abs=5e-4)


def test_trend_check_uses_the_exact_t_beyond_30_degrees_of_freedom() -> None:
    # 42 periods (40 degrees of freedom) whose slope's t statistic is exactly 2.0: parallel
    # at Student's t (2.021), though the normal 1.96 would call the trends different
    n = 42
    x = np.arange(n, dtype=float)
    noise = np.resize([1.0, -1.0, -1.0, 1.0], n)  # then made orthogonal to 1 and x
    design = np.column_stack([np.ones(n), x])
    noise = noise - design @ np.linalg.lstsq(design, noise, rcond=None)[0]
    se = np.sqrt((noise @ noise) / (n - 2) / ((x - x.mean()) @ (x - x.mean())))
    slope, t, parallel = trend_check(list(2.0 * se * x + noise))
    assert t == pytest.approx(2.0)
    assert slope == pytest.approx(2.0 * se)
    assert parallel is True
    assert trend_check(list(2.05 * se * x + noise))[2] is False


def _kpi(direction: str) -> KpiDef:
    return KpiDef(
        title="t",
        direction=direction,
        object="leads",
        time="created_at",
        measure="1",
        stat="median",
    )


def test_target_status():
    launch = date(2026, 5, 1)
    down = _kpi("down")
    rel = Target(change=-0.3, within_days=92)  # 2026-08-01
    # target 14; halfway (mid-June) the straight path is at 17
    assert status(down, rel, 20.0, 13.0, datetime(2026, 6, 1), launch)[:2] == ("met", 14.0)
    assert status(down, rel, 20.0, 16.0, datetime(2026, 6, 16), launch)[0] == "on track"
    assert status(down, rel, 20.0, 18.5, datetime(2026, 6, 16), launch)[0] == "off track"
    assert status(down, rel, 20.0, 15.0, datetime(2026, 9, 1), launch)[0] == "missed"
    up = _kpi("up")
    absolute = Target(value=0.15)
    assert status(up, absolute, 0.12, 0.16, datetime(2026, 9, 1), launch)[0] == "met"
    assert status(up, absolute, 0.12, 0.13, datetime(2026, 9, 1), launch)[0] == "on track"
    assert status(up, absolute, 0.12, 0.11, datetime(2026, 9, 1), launch)[0] == "off track"


def test_a_target_not_met_by_its_deadline_is_missed():
    launch = date(2026, 5, 1)
    rel = Target(change=-0.3, within_days=92)  # 14 by 2026-08-01 from a baseline of 20
    down = _kpi("down")
    # July ends on the deadline (periods end exclusive): still judged by the path
    assert status(down, rel, 20.0, 14.5, datetime(2026, 8, 1), launch)[0] == "off track"
    # August ends after it: not met is missed, met stays met
    assert status(down, rel, 20.0, 14.5, datetime(2026, 9, 1), launch)[0] == "missed"
    assert status(down, rel, 20.0, 14.0, datetime(2026, 9, 1), launch)[0] == "met"
    # without a deadline a target is never missed
    assert status(down, Target(change=-0.3), 20.0, 25.0, datetime(2027, 9, 1), launch)[0] == (
        "off track"
    )


def test_period_labels_round_trip():
    assert periods.parse("2026-09") == ("month", date(2026, 9, 1))
    assert periods.parse("2026-Q3") == ("quarter", date(2026, 7, 1))
    assert periods.parse("2026-W01") == ("week", date(2025, 12, 29))
    assert periods.bounds("2026-12")[1:] == (datetime(2026, 12, 1), datetime(2027, 1, 1))
    assert periods.label(datetime(2026, 9, 30, 23), "quarter") == "2026-Q3"
    assert periods.label(date(2026, 1, 1), "week") == "2026-W01"
    assert periods.previous("2026-01") == "2025-12"
    assert periods.last_complete(date(2026, 11, 27)) == "2026-10"
    with pytest.raises(ConfigError, match="not a month label"):
        periods.parse("2026-9", "month")
    with pytest.raises(ConfigError):
        periods.parse("2026-13")


def test_kpi_definition_errors_name_what_is_missing():
    with pytest.raises(ValueError, match="needs 'q'"):
        KpiDef(title="x", direction="up", object="leads", time="t", measure="m", stat="quantile")
    with pytest.raises(ValueError, match="needs a 'measure'"):
        KpiDef(title="x", direction="up", object="leads", time="t", stat="median")
    with pytest.raises(ValueError, match="exactly one"):
        Target(value=1.0, change=0.1)


def test_a_period_straddling_the_launch_counts_on_neither_side():
    """A launch on the 15th: its month mixes before and after, so the DiD compares the
    whole months on each side (hand-worked: +0.10), and the trend check sees those only."""
    from workbench.kpi.did import Windows, did, windows_around

    rows = []
    for month in range(1, 9):  # Jan to Aug 2026
        start = datetime(2026, month, 1)
        treated = 0.9 if month == 5 else (0.3 if month > 5 else 0.2)  # May: half launched
        for segment, rate in (("canary", treated), ("control", 0.2)):
            rows.append(("conv", "month", start, segment, rate, 100))
    values = pl.DataFrame(
        rows, schema=["kpi", "grain", "period_start", "segment", "value", "n"], orient="row"
    )
    kpi = KpiDef(title="c", direction="up", object="leads", time="t", measure="x", stat="rate")
    windows = Windows(datetime(2026, 1, 15), datetime(2026, 5, 15), datetime(2026, 9, 1))
    table, _ = did(None, {"conv": kpi}, values, windows, treated="canary", control="control",
                   column="segment", n_samples=200)  # fmt: skip
    row = table.row(0, named=True)
    # pre: Feb, Mar, Apr (January starts before the window, May straddles the launch)
    assert row["treated_pre"] == pytest.approx(0.2) and row["treated_post"] == pytest.approx(0.3)
    assert row["did"] == pytest.approx(0.1)
    assert row["pre_slope"] == pytest.approx(0.0) and row["parallel"] is True
    # as `workbench roi` builds them: the 4 whole months before the launch month
    around = windows_around(datetime(2026, 5, 15), 4, datetime(2026, 9, 1))
    assert around == Windows(datetime(2026, 1, 1), datetime(2026, 5, 15), datetime(2026, 9, 1))
    table, _ = did(None, {"conv": kpi}, values, around, treated="canary", control="control",
                   column="segment", n_samples=200)  # fmt: skip
    assert table["treated_pre"][0] == pytest.approx(0.2) and table["did"][0] == pytest.approx(0.1)
    weeks = values.with_columns(pl.lit("week").alias("grain"))
    kept = periods.whole_periods(weeks, datetime(2026, 2, 1), datetime(2026, 3, 5))
    # the week from 1 March ends on 8 March, after the window; the one from 1 February fits
    assert kept["period_start"].unique().to_list() == [datetime(2026, 2, 1)]


def test_a_target_is_not_judged_before_the_launch_nor_relative_to_nothing():
    launch = date(2026, 5, 1)
    down, up = _kpi("down"), _kpi("up")
    rel = Target(change=-0.3, within_days=92)
    # April ends on the launch day: the target is not in effect yet, even where the value
    # already reaches it (13 <= 14) or lies off the path
    assert status(down, rel, 20.0, 13.0, datetime(2026, 5, 1), launch)[:2] == (
        "before launch",
        14.0,
    )
    assert status(down, rel, 20.0, 25.0, datetime(2026, 5, 1), launch)[0] == "before launch"
    # the first month after it is judged
    assert status(down, rel, 20.0, 13.0, datetime(2026, 6, 1), launch)[0] == "met"
    # +10% of a conversion rate of 0 is no target: not met by staying at 0
    more = Target(change=0.1)
    assert status(up, more, 0.0, 0.0, datetime(2026, 9, 1), launch)[:2] == (
        "no baseline to change from",
        None,
    )
    assert status(up, more, 0.0, 0.0, datetime(2026, 9, 1), None)[0] == (
        "no baseline to change from"
    )
    # an absolute target on a baseline of 0 is judged as any other
    assert status(up, Target(value=0.05), 0.0, 0.06, datetime(2026, 9, 1), launch)[0] == "met"
