"""The generic ROI driver (any KPI: improvement x volume x unit value) on the demo, and the
starter roi.yaml on a project without leads or sync events.

Volumes are counted here with polars from the core tables; the improvement is the KPI's
difference-in-differences (tested against an independent computation in test_kpi_demo).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl
import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.errors import ConfigError
from workbench.roi.run import roi
from workbench.store import open_store

ROI = """
horizon_months: 12
discount_rate: 0.0
costs:
  one_time: [{name: build, amount: 1000}]
value_drivers:
  - {name: Faster resolution, type: kpi_change, kpi: resolution_time_h, unit_value: 40}
  - {name: More revenue per account, type: kpi_change, kpi: arpa, unit_value: 0.5}
  - {name: Fewer tickets, type: kpi_change, kpi: ticket_volume, unit_value: 25}
  - {name: Fixed volume, type: kpi_change, kpi: resolution_time_h, volume_per_month: 10,
     unit_value: 2}
"""


@pytest.fixture
def project(demo_copy: Callable[..., Path]) -> Path:
    return demo_copy(300)


def core(root: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).pl()


def month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1)


def months(start: datetime, end: datetime) -> int:
    """Calendar months from start's month up to (not including) the launch month."""
    return (end.year - start.year) * 12 + end.month - start.month


def in_window(frame: pl.DataFrame, column: str, start: datetime, end: datetime) -> pl.DataFrame:
    month = pl.col(column).dt.replace_time_zone(None).dt.truncate("1mo")
    return frame.with_columns(month.alias("month")).filter(
        (pl.col("month") >= month_start(start)) & (pl.col("month") < month_start(end))
    )


def test_any_kpi_is_priced_as_improvement_x_volume_x_unit_value(project: Path) -> None:
    (project / "roi.yaml").write_text(ROI)
    loaded = load_project(project)
    with open_store(loaded, read_only=True) as store:
        result = roi(loaded, store, record=False)
    w = result.comparison.windows
    n = months(w.pre_start, w.launch)
    assert n >= 1 and result.left_out == []

    tickets = core(project, "SELECT created_at, solved_at FROM core.tickets")
    solved = tickets.filter(pl.col("solved_at").is_not_null() & pl.col("created_at").is_not_null())
    solved = in_window(solved, "solved_at", w.pre_start, w.launch)  # the KPI's rows: by solved_at
    invoices = core(
        project,
        "SELECT invoice_date::TIMESTAMP AS invoice_date, customer_id, amount_base "
        "FROM core.invoices WHERE coalesce(status, '') <> 'void'",
    )
    accounts = in_window(invoices, "invoice_date", w.pre_start, w.launch)
    account_months = accounts.select("month", "customer_id").unique().height
    expected_volume = {
        "Faster resolution": solved.height / n,  # tickets solved per month
        "More revenue per account": account_months / n,  # accounts invoiced per month
        "Fewer tickets": 1.0,  # a count KPI is a monthly total already
        "Fixed volume": 10.0,
    }
    did = dict(result.comparison.table.select("kpi", "did").iter_rows())
    improvement = {  # better = positive
        "Faster resolution": -did["resolution_time_h"],
        "More revenue per account": did["arpa"],
        "Fewer tickets": -did["ticket_volume"],
        "Fixed volume": -did["resolution_time_h"],
    }
    unit = {"Faster resolution": 40, "More revenue per account": 0.5, "Fewer tickets": 25,
            "Fixed volume": 2}  # fmt: skip
    rows = {r["driver"]: r for r in result.drivers.iter_rows(named=True)}
    assert set(rows) == set(expected_volume)
    for name, volume in expected_volume.items():
        assert volume > 0, name
        row = rows[name]
        assert row["formula"] == "improvement x volume_per_month x unit_value"
        assert improvement[name] != 0, name  # else the value would not test the volume
        expected = improvement[name] * volume * unit[name]
        assert row["monthly_value"] == pytest.approx(expected, rel=1e-9, abs=1e-9), name
        assert row["monthly_low"] <= row["monthly_value"] <= row["monthly_high"], name
    # the benefits are the drivers' sum over the horizon (no ramp, no discount)
    total = sum(r["monthly_value"] for r in rows.values()) * 12
    assert result.summary["benefits"] == pytest.approx(total)
    assert result.summary["roi"] == pytest.approx((total - 1000) / 1000)


def test_a_kpi_without_a_natural_volume_needs_a_number(project: Path) -> None:
    (project / "roi.yaml").write_text(
        "value_drivers:\n  - {name: d, type: kpi_change, kpi: ltv, unit_value: 1}\n"
    )
    loaded = load_project(project)
    with open_store(loaded, read_only=True) as store, pytest.raises(ConfigError) as err:
        roi(loaded, store, record=False)
    assert "volume_per_month" in err.value.where and "ltv" in err.value.message
    assert "Give volume_per_month as a number" in err.value.fix


def test_the_starter_roi_yaml_works_without_leads_or_sync_events(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A project whose sources load no leads and no sync events (the demo's tables of them
    dropped): the starter's drivers of those KPIs are left out, with a note; the rest is
    priced."""
    starter = resources.files("workbench") / "templates" / "roi.yaml"
    (project / "roi.yaml").write_text(starter.read_text(encoding="utf-8"))
    with duckdb.connect(str(project / "data" / "warehouse.duckdb")) as con:
        con.execute("DROP TABLE core.leads")
        con.execute("DROP TABLE core.sync_events")
    capsys.readouterr()

    assert main(["roi", "--project", str(project)]) == 0

    out = " ".join(capsys.readouterr().out.split())
    assert "Value driver left out: More leads converted: the KPI lead_conversion_rate reads " \
        "leads, which no source of the project loads." in out  # fmt: skip
    assert "Value driver left out: Fewer failed syncs fixed by hand" in out
    with duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True) as con:
        drivers = con.sql("SELECT driver, type FROM roi.drivers ORDER BY driver").fetchall()
        left = con.sql("SELECT value FROM roi.runs WHERE metric = 'drivers_left_out'").fetchall()
    assert drivers == [
        ("No more double data entry", "hours_saved"),
        ("Tickets resolved faster", "kpi_change"),
    ]
    assert left == [(2.0,)]


@pytest.mark.parametrize("missing", ["launch date", "roi.yaml"])
def test_the_roi_report_says_why_there_is_no_roi_yet(
    missing: str, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rendered by papermill: a project without a launch date, or without roi.yaml, gets a
    report whose sections say why, not a failed run."""
    config = project / "workbench.yaml"
    if missing == "launch date":
        lines = config.read_text().splitlines(keepends=True)
        kept = [line for line in lines if not line.strip().startswith("launch_date:")]
        assert len(kept) == len(lines) - 1
        config.write_text("".join(kept))
        why = "No ROI yet: the project has no launch date to compare before and after."
    else:
        (project / "roi.yaml").unlink()
        why = "No ROI yet: the project has no roi.yaml with the integration's costs"
    out = tmp_path / "reports"
    argv = ["report", "roi", "--period", "2026-09", "--project", str(project), "--out", str(out)]

    assert main(argv) == 0, capsys.readouterr().err

    html = (out / "roi" / "2026-09" / "roi.html").read_text(encoding="utf-8")
    text = " ".join(html.replace("&#x27;", "'").replace("&#39;", "'").split())
    assert text.count(why) >= 2  # the headline and the sections
    assert "Traceback" not in html and "ConfigError" not in html
