"""The KPI baseline and ROI reports read as the numbers are: the trend charts' target is the
Targets table's, the DiD of a share reads in percentage points, a level says what it rests
on, and a control limit of a KPI that cannot be negative stops at 0.

A small desk export, launch 2026-05-01, baseline window Feb to Apr 2026 (3 months). Every
expected value is worked out below from the rows as written, never by the package.
"""

from __future__ import annotations

import itertools
import re
import statistics
import textwrap

import plotly.graph_objects as go
import polars as pl
import pytest

from workbench.cli import main
from workbench.report import kpi_baseline
from workbench.report import roi as roi_report
from workbench.report.context import open_context
from workbench.report.display import NoData

CONFIG = """
kpi:
  launch_date: 2026-05-01
  baseline_months: 3
  bootstrap_samples: 200
  definitions:
    answered_share:
      title: Answered tickets
      unit: share
      direction: up
      object: tickets
      time: created_at
      stat: rate
      measure: first_response_at IS NOT NULL
    response_gap:
      title: Response gap to four hours
      direction: down
      object: tickets
      time: created_at
      where: first_response_at IS NOT NULL
      measure: (epoch_us(first_response_at) - epoch_us(created_at)) / 3.6e9 - 4
      stat: mean
sources:
  desk:
    system: support
    object: tickets
    path: tickets.csv
    columns: {record_id: id, segment: seg, created_at: created, first_response_at: first}
"""
ROI = """\
horizon_months: 12
discount_rate: 0.0
costs:
  one_time: [{name: Connector, amount: 1000}]
value_drivers:
  - {name: Hours saved, type: hours_saved, hours_per_month: 10, hourly_rate: 50}
"""
# id, segment, created (UTC), hours to the first response (None: not answered)
TICKETS = [
    ("C1", "canary", "2026-02-10T09:00", 1.0),
    ("C2", "canary", "2026-03-02T09:00", 2.0),
    ("C3", "canary", "2026-03-09T09:00", 3.0),
    ("X1", "canary", "2026-03-16T09:00", None),
    ("K1", "control", "2026-03-03T09:00", 5.0),
    ("K2", "control", "2026-03-10T09:00", 6.0),
    ("X2", "control", "2026-03-17T09:00", None),
    ("K3", "control", "2026-04-14T09:00", None),
    ("C4", "canary", "2026-05-05T09:00", 1.0),
    ("K4", "control", "2026-05-06T09:00", 5.0),
    ("C5", "canary", "2026-06-02T09:00", 1.5),
    ("K5", "control", "2026-06-03T09:00", 5.0),
    ("K6", "control", "2026-06-04T09:00", None),
]
PERIOD = "2026-06"


def _csv() -> str:
    lines = ["id,seg,created,first"]
    for tid, seg, created, hours in TICKETS:
        first = ""
        if hours is not None:
            h, m = int(hours), round((hours % 1) * 60)
            first = f"{created[:11]}{9 + h:02d}:{m:02d}:00Z"
        lines.append(f"{tid},{seg},{created}:00Z,{first}")
    return "\n".join(lines) + "\n"


def _pre(seg: str | None = None) -> list[tuple[str, str, str, float | None]]:
    return [
        t for t in TICKETS if "2026-02" <= t[2][:7] <= "2026-04" and (seg is None or t[1] == seg)
    ]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory):
    """The project loaded and validated once; the tests only read it."""
    root = tmp_path_factory.mktemp("desk")
    (root / "workbench.yaml").write_text(textwrap.dedent(CONFIG))
    (root / "tickets.csv").write_text(_csv())
    (root / "roi.yaml").write_text(ROI)
    for step in ("ingest", "validate"):
        assert main([step, "--project", str(root)]) == 0, step
    return open_context(root, PERIOD)


def test_the_trend_charts_target_is_the_targets_tables(desk) -> None:
    # the baseline pools every answered ticket of the window, canary and control alike:
    # 1, 2, 3, 5, 6 hours -> 3; the pack's target is 10% below it
    pooled = [h for _, _, _, h in _pre() if h is not None]
    level = statistics.median(pooled)
    assert level == 3.0
    # (not the mean of the two groups' medians: (2 + 5.5) / 2 = 3.75)
    by_group = [statistics.median([h for *_, h in _pre(s) if h is not None]) for s in
                ("canary", "control")]  # fmt: skip
    assert sum(by_group) / 2 == 3.75
    target = level * 0.9

    table = kpi_baseline.targets(kpi_baseline.compute(desk), desk)
    assert not isinstance(table, NoData)
    row = table.filter(pl.col("KPI") == "Ticket first response time").row(0, named=True)
    assert (row["baseline"], row["target"]) == ("3 hours", "2.7 hours")

    result = roi_report.compute(desk)
    charts = roi_report.trend_charts(result, desk)
    titles = [c.layout.title.text for c in charts if isinstance(c, go.Figure)]
    chart = charts[titles.index("Ticket first response time: canary vs control")]
    assert isinstance(chart, go.Figure)
    lines = {a.text: a.y for a in chart.layout.annotations if a.text in ("baseline", "target")}
    assert lines["target"] == pytest.approx(target)
    assert lines["baseline"] == pytest.approx(level)


def test_the_did_of_a_share_reads_in_percentage_points(desk) -> None:
    # answered share: canary 3 of 4 before, 2 of 2 after; control 2 of 4 before, 2 of 3 after
    def share(seg: str, pre: bool) -> float:
        rows = [t for t in TICKETS if t[1] == seg and (t[2][:7] < "2026-05") == pre]
        return sum(t[3] is not None for t in rows) / len(rows)

    did = (share("canary", False) - share("canary", True)) - (
        share("control", False) - share("control", True)
    )
    assert did == pytest.approx(0.25 - 1 / 6)
    result = roi_report.compute(desk)
    table = roi_report.did_table(result, desk)
    assert not isinstance(table, NoData)
    row = table.filter(pl.col("KPI") == "Answered tickets").row(0, named=True)
    assert row["DiD"] == f"+{did * 100:.1f} pp" == "+8.3 pp"
    assert re.fullmatch(r"[+-]\d+\.\d pp to [+-]\d+\.\d pp", row["95% interval"])
    assert row["canary before"] == "75.0%"  # levels stay shares
    # the chart is relative to the control's level before the launch, and says so
    chart = roi_report.did_chart(result, desk)
    assert isinstance(chart, go.Figure)
    bars = dict(zip(chart.data[0].y, chart.data[0].x, strict=True))
    assert bars["Answered tickets"] == pytest.approx(did / share("control", True) * 100)
    assert "relative to control's pre-launch level" in chart.layout.xaxis.title.text
    assert "relative to control's pre-launch level" in chart.data[0].hovertemplate


def test_levels_say_how_many_rows_or_periods_they_rest_on(desk) -> None:
    levels = kpi_baseline.levels(kpi_baseline.compute(desk), desk)
    assert not isinstance(levels, NoData)
    found = dict(zip(levels["KPI"], levels["from"], strict=True))
    assert found["Answered tickets"] == f"{len(_pre())} rows" == "8 rows"  # a share
    answered = [t for t in _pre() if t[3] is not None]
    assert found["Ticket first response time"] == f"{len(answered)} rows"  # a median
    assert found["Tickets created"] == "3 periods"  # a count: the mean of Feb, Mar, Apr


def _limits(series: list[float]) -> tuple[float, float, float]:
    centre = sum(series) / len(series)
    mr = sum(abs(b - a) for a, b in itertools.pairwise(series)) / (len(series) - 1)
    return centre, centre - 2.66 * mr, centre + 2.66 * mr


def test_a_lower_control_limit_stops_at_zero_where_the_kpi_cannot_be_negative(desk) -> None:
    result = kpi_baseline.compute(desk)
    months = ("2026-02", "2026-03", "2026-04")
    volume = [float(sum(t[2][:7] == m for t in TICKETS)) for m in months]  # 1, 6, 1
    gap = [
        statistics.mean([t[3] - 4 for t in TICKETS if t[2][:7] == m and t[3] is not None])
        for m in months[:2]  # no ticket of April was answered
    ]  # -3, 0
    centre, lower, upper = _limits(volume)
    assert lower < 0 and _limits(gap)[1] < 0
    levels = result.levels.filter(pl.col("segment") == "all")
    limits = {r["kpi"]: (r["centre"], r["lcl"], r["ucl"]) for r in levels.iter_rows(named=True)}
    # a count cannot go below 0: the limit is the boundary; the upper one is as computed
    assert limits["ticket_volume"] == pytest.approx((centre, 0.0, upper))
    # a share and a duration neither
    assert limits["answered_share"][1] == 0.0
    assert limits["first_response_time_h"][1] == 0.0
    # a KPI without such a unit may be negative: its limit is left as it is
    assert limits["response_gap"] == pytest.approx(_limits(gap))
    table = kpi_baseline.levels(result, desk)
    assert not isinstance(table, NoData)
    shown = dict(zip(table["KPI"], table["control limits"], strict=True))
    assert (
        shown["Tickets created"] == f"0 tickets to {upper:.3g} tickets" == "0 tickets to 16 tickets"
    )
    chart = kpi_baseline.control_charts(result, desk, ["ticket_volume"])
    assert isinstance(chart, go.Figure)
    flat = [t.y[0] for t in chart.data if t.mode == "lines" and len(set(t.y)) == 1]
    assert sorted(flat) == pytest.approx(sorted([0.0, centre, upper]))


def test_a_duration_or_money_kpi_with_a_negative_value_keeps_its_lower_limit(desk) -> None:
    """A KPI of one's own in hours may be a difference (lateness): one negative value says
    its limits have no floor at 0."""
    from workbench.kpi.baseline import floor

    kpis = desk.project.kpis()
    hours, share = kpis["first_response_time_h"], kpis["answered_share"]
    assert floor(hours, pl.Series([3.0, 5.0, None])) == 0.0
    assert floor(hours, pl.Series([3.0, -0.5])) is None
    assert floor(kpis["response_gap"], pl.Series([3.0, 5.0])) is None  # no such unit
    assert floor(share, pl.Series([0.5, 0.7])) == 0.0
