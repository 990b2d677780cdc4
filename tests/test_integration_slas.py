"""The integration inventory and event SLAs (issue 22 item 3), measured against the data.

Hand-made sync logs with figures worked out here, and the demo's sync log with figures
computed by polars from the warehouse's rows, never by the SQL under test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest

from tests.conftest import REPORT_PERIOD
from workbench.cli import main
from workbench.config import load_project
from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.quality.integration import BREACHED, MET, NO_DATA, event_slas, inventory
from workbench.report.context import open_context
from workbench.report.display import NoData
from workbench.report.integration import sla_table
from workbench.store import open_store

CONFIG = """
integration:
  systems:
    crm: {owner: Sales Operations, primary_api: CRM REST v1, contact: crm@example.com}
    integration: {owner: Integration Team}
  event_slas:
    - {event: contact, from: crm, to: billing, max_latency_ms: 450, max_failure_rate: 0.2,
       max_age_hours: 24}
    - {event: deal, max_latency_ms: 1000}
    - {event: ticket, from: support, to: crm, max_latency_ms: 1000}
sources:
  crm_people:
    system: crm
    object: contacts
    path: crm.csv
    columns: {record_id: id, email: email}
  billing_people:
    system: billing
    object: contacts
    path: billing.csv
    columns: {record_id: id, email: email}
  sync:
    system: integration
    object: sync_events
    path: sync.csv
    columns: {record_id: id, occurred_at: at, source_system: src, target_system: dst,
              object: obj, status: status, latency_ms: ms}
"""

# September 2026: contact crm -> billing, five successes (100..500 ms) and one failure;
# a deal the other way; one contact event each in August and October (outside the period)
SYNC = """\
id,at,src,dst,obj,status,ms
e1,2026-09-02T10:00:00Z,crm,billing,contact,success,300
e2,2026-09-05T10:00:00Z,crm,billing,contact,success,100
e3,2026-09-10T10:00:00Z,crm,billing,contact,failed,9000
e4,2026-09-12T10:00:00Z,crm,billing,contact,success,500
e5,2026-09-20T10:00:00Z,crm,billing,contact,success,200
e6,2026-09-29T12:00:00Z,crm,billing,contact,success,400
e7,2026-09-15T08:00:00Z,billing,crm,deal,success,700
e8,2026-08-31T23:00:00Z,crm,billing,contact,failed,50
e9,2026-10-01T00:00:00Z,crm,billing,contact,failed,50
"""


@pytest.fixture
def synced(make_project, store_of):
    project = make_project(
        CONFIG,
        {
            "crm.csv": "id,email\nc1,a@example.org\n",
            "billing.csv": "id,email\nb1,b@example.org\n",
            "sync.csv": SYNC,
        },
    )
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    return project, store


SEPT = datetime(2026, 9, 1), datetime(2026, 10, 1)


def test_event_slas_are_measured_against_their_limits(synced):
    project, store = synced
    frame = event_slas(project, store, *SEPT, now=datetime(2026, 12, 1, tzinfo=UTC))
    rows = {r["event"]: r for r in frame.iter_rows(named=True)}
    contact = rows["contact crm -> billing"]
    assert contact["syncs"] == 6
    assert contact["failure_rate"] == pytest.approx(1 / 6)
    # successes 100..500: the 95th percentile interpolates 400 + 0.8 x 100
    assert contact["latency_ms"] == pytest.approx(480)
    # newest sync 29 Sep 12:00, period ends 1 Oct 00:00 (now is later): 36 hours
    assert contact["age_hours"] == pytest.approx(36)
    assert contact["status"] == BREACHED and contact["breached"] == "latency, freshness"
    deal = rows["deal"]  # no route given: any direction
    assert (deal["syncs"], deal["latency_ms"], deal["status"]) == (1, 700, MET)
    ticket = rows["ticket support -> crm"]
    assert (ticket["syncs"], ticket["status"], ticket["breached"]) == (0, NO_DATA, "")


def test_the_running_period_is_aged_until_now(synced):
    project, store = synced
    now = datetime(2026, 9, 30, 0, 0, tzinfo=UTC)
    frame = event_slas(project, store, *SEPT, now=now)
    contact = frame.filter(pl.col("event") == "contact crm -> billing").row(0, named=True)
    assert contact["age_hours"] == pytest.approx(12)  # 29 Sep 12:00 -> 30 Sep 00:00
    assert contact["breached"] == "latency"


def test_the_inventory_lists_every_system_and_what_touched_it(synced):
    project, store = synced
    frame = inventory(project, store, *SEPT)
    rows = {r["system"]: r for r in frame.iter_rows(named=True)}
    assert list(rows) == ["crm", "integration", "billing"]  # inventory order, then the rest
    assert rows["crm"]["owner"] == "Sales Operations" and rows["crm"]["in_inventory"]
    assert not rows["billing"]["in_inventory"] and rows["billing"]["owner"] is None
    # every September sync touches crm and billing: 7, one failed
    for system in ("crm", "billing"):
        assert rows[system]["syncs"] == 7
        assert rows[system]["failure_rate"] == pytest.approx(1 / 7)
    # successes 100, 200, 300, 400, 500, 700: 95th percentile 500 + 0.75 x 200
    assert rows["crm"]["latency_ms"] == pytest.approx(650)
    assert rows["integration"]["syncs"] == 0 and rows["integration"]["sources"] == 1
    assert rows["crm"]["sources"] == 1 and rows["crm"]["last_load"] is not None


def test_the_cli_lists_slas_and_names_systems_missing_from_the_inventory(synced, capsys):
    project, store = synced
    store.close()
    args = ["--project", str(project.root), "--period", "2026-09"]
    assert main(["dq", "slas", *args, "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert [r["status"] for r in doc] == [BREACHED, MET, NO_DATA]
    assert main(["dq", "inventory", *args]) == 0
    assert "Not in the inventory (integration.systems): billing." in capsys.readouterr().out


def test_a_wrong_sla_key_is_named_with_its_line(make_project):
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        make_project("integration:\n  event_slas:\n    - {event: contact, max_latency: 5}\n")
    assert "line 3" in str(err.value) and "max_latency" in str(err.value)


def test_the_demo_slas_match_its_sync_log(demo_reports):
    project_dir, reports = demo_reports
    project = load_project(project_dir)
    with open_store(project, read_only=True) as store:
        frame = event_slas(project, store, datetime(2026, 9, 1), datetime(2026, 10, 1))
        log = store.frame("SELECT * FROM core.sync_events")
    assert frame.height == len(project.config.integration.event_slas) >= 3
    sept = log.filter(
        pl.col("occurred_at").is_between(
            datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC), closed="left"
        )
    )
    slas = project.config.integration.event_slas
    for sla, row in zip(slas, frame.iter_rows(named=True), strict=True):
        rows = sept.filter(pl.col("object") == sla.event)
        if sla.source:
            rows = rows.filter(pl.col("source_system") == sla.source)
        if sla.target:
            rows = rows.filter(pl.col("target_system") == sla.target)
        ok = rows.filter(pl.col("status") == "success")["latency_ms"].cast(pl.Float64)
        assert row["syncs"] == rows.height > 0
        assert row["failure_rate"] == pytest.approx((rows["status"] == "failed").mean())
        assert row["latency_ms"] == pytest.approx(ok.quantile(0.95, interpolation="linear"))
        newest = rows["occurred_at"].max()
        age = (datetime(2026, 10, 1, tzinfo=UTC) - newest).total_seconds() / 3600
        assert row["age_hours"] == pytest.approx(age)
        limits_broken = (
            row["latency_ms"] > sla.max_latency_ms
            or (sla.max_failure_rate is not None and row["failure_rate"] > sla.max_failure_rate)
            or (sla.max_age_hours is not None and age > sla.max_age_hours)
        )
        assert (row["status"] == BREACHED) == limits_broken
    # the governance review shows both tables and the breached SLAs as incidents
    html = (reports / "governance_review" / REPORT_PERIOD / "governance_review.html").read_text()
    assert "Integration inventory and event SLAs" in html and "Sales Operations" in html
    breached = frame.filter(pl.col("status") == BREACHED)["event"].to_list()
    assert breached, "the demo's SLAs include one its sync log breaks"
    for event in breached:
        assert f"{event.replace('->', '-&gt;')} in {REPORT_PERIOD}" in html


def test_the_sla_table_shows_latencies_in_whole_ms_with_separators(make_project, store_of):
    # two successful deal syncs of 2,000 and 2,009 ms: the 95th percentile interpolates to
    # 2000 + 0.95 x 9 = 2,008.55 ms, shown as 2,009 ms; the limit of 1,000.4 ms as 1,000 ms
    config = CONFIG.replace(
        "{event: deal, max_latency_ms: 1000}", "{event: deal, max_latency_ms: 1000.4}"
    )
    sync = (
        "id,at,src,dst,obj,status,ms\n"
        "d1,2026-09-02T10:00:00Z,billing,crm,deal,success,2000\n"
        "d2,2026-09-03T10:00:00Z,billing,crm,deal,success,2009\n"
    )
    files = {
        "crm.csv": "id,email\nc1,a@example.org\n",
        "billing.csv": "id,email\n",
        "sync.csv": sync,
    }
    project = make_project(config, files)
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    store.close()
    table = sla_table(open_context(project.root, REPORT_PERIOD))
    assert not isinstance(table, NoData)
    shown = dict(zip(table["event"], table["latency (limit)"], strict=True))
    assert f"{2000 + 0.95 * 9:,.0f}" == "2,009"
    assert shown["deal"] == "2,009 ms at 95% (1,000 ms)"
    assert shown["ticket support -> crm"] == "- at 95% (1,000 ms)"  # no sync of it
