"""The data-quality report reads well: labelled reason bars, shares as %, runs as runs, and a
sentence instead of an empty chart or table."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from workbench.cli import main
from workbench.report import data_quality
from workbench.report.context import open_context
from workbench.report.display import NoData
from workbench.report.validation_pages import source_checks
from workbench.validate.quarantine import QUARANTINED, SET_ASIDE

CONFIG = """
sources:
  desk:
    system: support
    object: tickets
    path: t.csv
    columns: {record_id: id, priority: priority, created_at: created}
"""
HEADER = "id,priority,created\n"
CLEAN = HEADER + "T1,low,2026-01-02T09:00:00Z\nT2,high,2026-01-03T09:00:00Z\n"
# T3 repeats an id (quarantined); T4's priority is not allowed (set aside)
FAULTY = CLEAN + "T2,low,2026-01-04T09:00:00Z\nT4,hgih,2026-01-05T09:00:00Z\n"


def run(make_project, tmp_path: Path, *exports: str) -> str:
    make_project(CONFIG, {"t.csv": exports[0]})
    for text in exports:
        (tmp_path / "t.csv").write_text(text)
        assert main(["ingest", "--project", str(tmp_path)]) == 0
        assert main(["validate", "--project", str(tmp_path)]) == 0
    return str(tmp_path)


def test_nothing_to_draw_is_said_in_a_sentence(make_project, tmp_path: Path) -> None:
    ctx = open_context(run(make_project, tmp_path, CLEAN), "2026-01")
    found = {
        "quarantine_chart": data_quality.quarantine_chart(ctx),
        "reasons_chart": data_quality.reasons_chart(ctx),
        "reasons": data_quality.reasons(ctx),
        "ingest_rejects": data_quality.ingest_rejects(ctx),
        "reconciliation": data_quality.reconciliation(ctx),
    }
    trend = data_quality.trend_chart(ctx)
    for name, item in found.items():
        assert isinstance(item, NoData) and item.endswith("."), name
    assert isinstance(trend, go.Figure)  # one run, every source at 0%: still a point each


def test_reason_bars_are_labelled(make_project, tmp_path: Path) -> None:
    ctx = open_context(run(make_project, tmp_path, CLEAN, FAULTY), "2026-01")
    fig = data_quality.reasons_chart(ctx)
    trend = data_quality.trend_chart(ctx)
    table = data_quality.summary_table(ctx)
    assert isinstance(fig, go.Figure)
    bars = {t.name: dict(zip(t.y, t.text, strict=True)) for t in fig.data}
    assert bars == {
        QUARANTINED: {"desk · record_id: unique (a later duplicate)": "1"},
        SET_ASIDE: {"desk · priority: one of low, normal, high, urgent": "1"},
    }
    assert fig.layout.yaxis.automargin is True
    assert fig.layout.showlegend is not False
    # runs are categories (no "run 1.5"), shares read as %
    assert isinstance(trend, go.Figure)
    assert list(trend.data[0].x) == ["run 1", "run 2"]
    assert trend.layout.xaxis.type == "category" and "%" in trend.layout.yaxis.tickformat
    assert list(trend.data[0].y) == [0.0, 0.25]
    row = table.row(0, named=True)
    assert (row["rows read"], row["quarantined"], row["quarantined (%)"]) == (4, 1, "25.00%")


def test_check_bounds_read_without_exponents(make_project) -> None:
    project = make_project(
        """
        sources:
          fx:
            system: finance
            object: fx_rates
            path: fx.csv
            columns: {month: month, currency: currency, rate: rate}
        """
    )
    found = {(c.column, c.rule): c for c in source_checks(project, "fx")}
    assert found[("rate", "min")].check == ">= 1e-06"  # its name in quar.failures
    assert found[("rate", "min")].expectation == ">= 0.000001"
    assert found[("rate", "type")].expectation == "readable as decimal"
    assert found[("currency", "regex")].severity == "error"  # a required field's rule


LEDGERS = """
base_currency: EUR
sources:
  crm_deals:
    system: crm
    object: deals
    path: deals.csv
    columns: {record_id: id, status: st, amount: amt, currency: cur, created_at: created,
              closed_at: closed}
  billing_customers:
    system: billing
    object: contacts
    path: customers.csv
    columns: {record_id: id, company_name: firm}
  billing_invoices:
    system: billing
    object: invoices
    path: invoices.csv
    columns: {record_id: id, customer_id: cust, invoice_date: d, amount: amt, currency: cur,
              status: st}
"""
# 14 months, one won deal of EUR 1,000 and one invoice of 1,000 + the difference each;
# two months agree
MONTHS = [f"{2025 + (7 + i) // 12}-{(7 + i) % 12 + 1:02d}" for i in range(14)]
DIFFS = [10, -20, 0, 30, 40, -500, 60, 70, 0, 90, 300, -110, 120, 130]


def test_reconciliation_shows_every_month_in_order_and_marks_the_largest(
    make_project, tmp_path: Path
) -> None:
    assert (MONTHS[0], MONTHS[-1]) == ("2025-08", "2026-09")
    deals = "id,st,amt,cur,created,closed\n" + "".join(
        f"D{i},won,1000,EUR,{m}-01T09:00:00Z,{m}-15T09:00:00Z\n" for i, m in enumerate(MONTHS)
    )
    invoices = "id,cust,d,amt,cur,st\n" + "".join(
        f"I{i},K1,{m}-20,{1000 + d},EUR,paid\n"
        for i, (m, d) in enumerate(zip(MONTHS, DIFFS, strict=True))
    )
    files = {"deals.csv": deals, "invoices.csv": invoices, "customers.csv": "id,firm\nK1,Acme\n"}
    make_project(LEDGERS, files)
    for step in ("ingest", "validate"):
        assert main([step, "--project", str(tmp_path)]) == 0
    table = data_quality.reconciliation(open_context(tmp_path, "2026-09"))
    assert not isinstance(table, NoData)
    assert table["month"].to_list() == MONTHS  # every month, agreeing ones too, in order
    shown = dict(zip(table["month"], table["amount difference"], strict=True))
    assert shown["2026-01"] == "EUR -500.00" and shown["2025-10"] == "EUR 0.00"
    by_size = sorted(range(14), key=lambda i: -abs(DIFFS[i]))[:3]
    marked = {m: r for m, r in zip(table["month"], table["largest difference"], strict=True) if r}
    assert marked == {
        MONTHS[by_size[0]]: "largest",
        MONTHS[by_size[1]]: "2nd largest",
        MONTHS[by_size[2]]: "3rd largest",
    }
    assert marked == {"2026-01": "largest", "2026-06": "2nd largest", "2026-09": "3rd largest"}
