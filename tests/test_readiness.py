"""The readiness checklist (issue 22 item 6): each item flips to ready only when its
evidence appears in the project or the warehouse."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime

import polars as pl

from tests.conftest import REPORT_PERIOD
from workbench.cli import main
from workbench.config import load_project
from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.report.readiness import checklist
from workbench.report.schedule import MARK, installed
from workbench.store import open_store

SYNC_SOURCE = """\
  sync:
    system: integration
    object: sync_events
    path: sync.csv
    columns: {record_id: id, occurred_at: at, source_system: src, target_system: dst,
              object: obj, status: status, latency_ms: ms, segment: seg}
"""

BARE = (
    """
dictionary: d.yaml
sources:
  crm_people:
    system: crm
    object: contacts
    path: crm.csv
    columns: {record_id: id, email: email, nickname: nick, alt_email: alt}
"""
    + SYNC_SOURCE
)

# a field without a description, an email used for matching without a PII class
DICTIONARY = """
objects:
  contacts:
    fields:
      nickname: {type: text}
      alt_email: {type: email, identity: email, description: Second address}
"""

READY = (
    """
quality:
  blocking: {quarantine_rate: 0.1}
kpi:
  launch_date: 2026-05-01
integration:
  systems:
    crm: {owner: Sales Operations, contact: crm@example.com}
    integration: {owner: Integration Team, contact: oncall@example.com}
  event_slas:
    - {event: contact, from: crm, to: billing, max_latency_ms: 2000}
    - {event: deal, max_latency_ms: 2000}
sources:
  crm_people:
    system: crm
    object: contacts
    path: crm.csv
    columns: {record_id: id, email: email}
"""
    + SYNC_SOURCE
)

FILES = {
    "d.yaml": DICTIONARY,
    "crm.csv": "id,email,nick,alt\nc1,a@example.org,ann,\nc2,b@example.org,bo,\n",
    "sync.csv": """\
        id,at,src,dst,obj,status,ms,seg
        e1,2026-09-02T10:00:00Z,crm,billing,contact,success,300,canary
        e2,2026-09-05T10:00:00Z,billing,crm,deal,success,100,control
        e3,2026-09-06T10:00:00Z,crm,support,contact,success,100,control
        """,
}


def _project(make_project, config: str):
    project = make_project(config, FILES)
    with open_store(project) as store:
        ingest(project, store)
        run_quality(project, store)
    return project


def _checks(project, **kwargs):
    with open_store(project, read_only=True) as store:
        return {c.item: c for c in checklist(project, store, crontab="", **kwargs)}


def test_a_bare_project_is_ready_in_nothing_and_says_why(make_project):
    checks = _checks(_project(make_project, BARE))
    assert [c.ready for c in checks.values()] == [False] * 6
    assert checks["Inventory complete"].evidence == (
        "0 of 2 source systems listed with owner and contact; not listed: crm, integration"
    )
    assert checks["Dictionary complete"].evidence == (
        "12 mapped fields; 1 without a description (contacts.nickname); "
        "1 matching people without a PII class (contacts.alt_email)"
    )
    assert checks["SLAs defined"].evidence == "no event SLA in `integration.event_slas`"
    canary = checks["Canary and rollback"]
    assert canary.evidence == (
        "no kpi.launch_date; 1 canary and 2 control rows by segment; no backup recorded"
    )
    assert canary.fix == (
        "Set kpi.launch_date; take a backup to roll back to (`workbench backup`)."
    )
    assert checks["Monitoring scheduled"].evidence.startswith("no quality.blocking limits")
    assert "roi.yaml not usable" in checks["ROI dashboard ready"].evidence


def test_an_empty_blocking_map_sets_no_limits(make_project):
    """`quality: {blocking: {}}` keeps only the built-in floors: no limits of the project's."""
    checks = _checks(_project(make_project, BARE + "quality: {blocking: {}}\n"))
    monitoring = checks["Monitoring scheduled"]
    assert monitoring.evidence.startswith("no quality.blocking limits")
    assert "set quality.blocking limits" in monitoring.fix.lower()


def test_every_item_turns_ready_with_its_evidence(make_project, tmp_path):
    project = _project(make_project, READY)
    checks = _checks(project)
    # routes: contact crm -> billing and deal billing -> crm covered, contact crm -> support not
    assert checks["SLAs defined"].evidence == (
        "2 event SLAs; 2 of 3 sync routes covered; not covered: contact crm -> support"
    )
    assert not checks["SLAs defined"].ready
    assert _checks(project, since=datetime(2026, 9, 1), until=datetime(2026, 9, 6))[
        "SLAs defined"
    ].ready  # the uncovered route's one sync is outside this window
    assert checks["Inventory complete"].ready and checks["Dictionary complete"].ready
    assert not checks["Canary and rollback"].ready  # no backup yet
    assert main(["backup", "--project", str(project.root)]) == 0
    (project.root / "roi.yaml").write_text(
        "costs: {one_time: [{name: build, amount: 1000}]}\n", encoding="utf-8"
    )
    with open_store(project) as store:  # what `workbench report` records of its runs
        for run, (report, period) in enumerate(
            [("roi", "2026-09"), ("data_quality", "2026-08"), ("data_quality", "2026-09")]
        ):
            store.execute(
                "INSERT INTO meta.report_runs (run_id, report, period, status) "
                "VALUES ($i, $r, $p, 'ok')",
                {"i": 100 + run, "r": report, "p": period},
            )
    checks = _checks(project, since=datetime(2026, 9, 1), until=datetime(2026, 9, 6))
    assert {item: c.ready for item, c in checks.items()} == dict.fromkeys(checks, True)
    assert checks["Monitoring scheduled"].evidence == (
        "blocking limits set (quality.blocking); no crontab line; "
        "data_quality rendered for 2 periods"
    )
    assert checks["ROI dashboard ready"].evidence == (
        "roi.yaml valid (0 value drivers); launch 2026-05-01; ROI report rendered for 2026-09"
    )


def test_the_crontab_lines_of_this_project_count_as_scheduled(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    crontab = textwrap.dedent(
        f"""\
        0 6 1 * * /x/workbench report roi --period previous --project {project} {MARK}roi
        # 0 6 1 * * /x/workbench report dq --period previous --project {project} {MARK}dq
        0 6 1 * * /x/workbench report roi --period previous --project /other {MARK}roi
        0 6 1 * * /x/workbench report kpi --period previous --project {project}2 {MARK}kpi
        0 7 1 * * backup.sh
        """
    )
    assert installed(project, crontab) == ["roi"]
    assert installed(project, "") == []


def test_the_cli_prints_the_checklist_and_strict_fails(make_project, capsys):
    project = _project(make_project, BARE)
    assert main(["readiness", "--project", str(project.root), "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["item"] for i in items] == [
        "Inventory complete",
        "Dictionary complete",
        "SLAs defined",
        "Canary and rollback",
        "Monitoring scheduled",
        "ROI dashboard ready",
    ]
    assert main(["readiness", "--project", str(project.root), "--strict"]) == 7
    assert "6 readiness item(s) not ready" in capsys.readouterr().err
    assert main(["readiness", "--project", str(project.root), "--period", "2026-08"]) == 0
    assert main(["readiness", "--project", str(project.root), "--period", "2026-13"]) == 2


def test_the_demo_checklist_reads_its_evidence(demo_reports):
    project_dir, reports = demo_reports
    project = load_project(project_dir)
    start, end = datetime(2026, 9, 1), datetime(2026, 10, 1)
    with open_store(project, read_only=True) as store:
        checks = {c.item: c for c in checklist(project, store, since=start, until=end)}
        log = store.frame(
            "SELECT object, source_system, target_system, occurred_at FROM core.sync_events"
        )
    sept = log.filter(
        pl.col("occurred_at").is_between(
            datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC), closed="left"
        )
    )
    routes = sept.select("object", "source_system", "target_system").unique()
    slas = project.config.integration.event_slas
    covered = [
        r
        for r in routes.iter_rows()
        if any(
            s.event == r[0] and s.source in (None, r[1]) and s.target in (None, r[2]) for s in slas
        )
    ]
    assert (
        f"{len(covered)} of {routes.height} sync routes covered" in checks["SLAs defined"].evidence
    )
    assert checks["SLAs defined"].ready == (len(covered) == routes.height)
    assert checks["Inventory complete"].ready  # the demo lists its four systems
    assert checks["ROI dashboard ready"].ready  # `report all` rendered roi before this read
    html = (reports / "governance_review" / REPORT_PERIOD / "governance_review.html").read_text()
    assert "Readiness checklist" in html and "Inventory complete" in html


def test_a_staggered_rollout_needs_each_launch_group_in_the_data(make_project):
    config = READY.replace(
        "  launch_date: 2026-05-01\n",
        "  launch_date: 2026-05-01\n"
        "  rollout: {column: segment, launches: {canary: 2026-05-01, wave9: 2026-08-01}}\n",
    )
    canary = _checks(_project(make_project, config))["Canary and rollback"]
    assert "rollout canary from 2026-05-01 (1 rows), wave9 from 2026-08-01 (0 rows)" in (
        canary.evidence
    )
    assert "name launch groups the data holds in kpi.rollout (none of wave9 in segment)" in (
        canary.fix
    )
