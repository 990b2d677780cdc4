"""The governance pack: an overspent error budget is an open incident of its period."""

from __future__ import annotations

from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.report import governance
from workbench.report.context import open_context
from workbench.report.display import NoData

CONFIG = """
governance: {sync_success_slo: 0.98, latency_slo_ms: 1000, latency_slo_share: 0.9}
sources:
  sync:
    system: ipaas
    object: sync_events
    path: s.csv
    columns: {record_id: id, occurred_at: at, status: st, latency_ms: ms}
"""


def events(month: str, n: int, failed: int, slow: int) -> str:
    rows = []
    for i in range(n):
        status = "failed" if i < failed else "success"
        ms = 5000 if failed <= i < failed + slow else 200
        rows.append(f"{month}-{i:03d},{month}-10T10:00:00Z,{status},{ms}\n")
    return "".join(rows)


def test_an_overspent_error_budget_is_an_incident_of_its_period(make_project, store_of):
    # 2026-08: 1 failure of 100 (budget 2: 50% used); 2026-09: 10 of 100 (500%) and
    # 27 of the 90 successes slower than 1 s (budget 10% of 90 = 9: 300%)
    text = "id,at,st,ms\n" + events("2026-08", 100, 1, 0) + events("2026-09", 100, 10, 27)
    project = make_project(CONFIG, {"s.csv": text})
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    store.close()

    september = open_context(project.root, "2026-09")
    found = governance.incidents(september)
    assert not isinstance(found, NoData)
    assert found.filter(found["kind"] == "error budget overspent")["where"].to_list() == [
        "sync failures in 2026-09: 500% of the month's budget used",
        "sync latency in 2026-09: 300% of the month's budget used",
    ]
    august = governance.incidents(open_context(project.root, "2026-08"))
    assert isinstance(august, NoData) and "No open incident" in august


def test_the_latency_budget_leaves_out_syncs_without_a_latency(make_project, store_of):
    # 2026-09: 20 successful syncs: 2 slower than 1 s, 10 fast, 8 without a latency
    rows = [("slow", "5000")] * 2 + [("fast", "200")] * 10 + [("blank", "")] * 8
    text = "id,at,st,ms\n" + "".join(
        f"{kind}-{i},2026-09-10T10:00:00Z,success,{ms}\n" for i, (kind, ms) in enumerate(rows)
    )
    project = make_project(CONFIG, {"s.csv": text})
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    store.close()
    # budget: 10% of the 12 syncs with a latency may be slow; 2 were: 2 / 1.2 = 166.7%
    # (counting the 8 without one as fast would give 2 / 2 = 100%)
    timed = sum(1 for _, ms in rows if ms)
    slow = sum(1 for _, ms in rows if ms and int(ms) > 1000)
    expected = slow / ((1 - 0.9) * timed)
    table = governance.slo(open_context(project.root, "2026-09"))
    assert not isinstance(table, NoData)
    row = table.row(0, named=True)
    assert row["latency budget used"] == f"{expected * 100:.1f}%" == "166.7%"
    # the latency at the SLO share (90%) is of the 12 too: between 200 (10th) and 5000 (11th)
    assert row["latency at the SLO share (ms)"] == round(200 + 0.9 * (5000 - 200)) == 4520
