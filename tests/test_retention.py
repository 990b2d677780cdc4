"""Retention: records older than their object's retention leave every stage; audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.errors import ConfigError
from workbench.store import open_store

CONFIG = """
retention:
  tickets: {days: 730}
  sync_events: {days: 365, field: occurred_at}
sources:
  desk:
    system: support
    object: tickets
    path: t.csv
    mode: append
    columns: {record_id: id, priority: prio, created_at: at}
  sync:
    system: integration
    object: sync_events
    path: s.csv
    columns: {record_id: id, occurred_at: at, status: status}
"""


def _day(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%d")


def test_retention_deletes_old_records_everywhere(make_project, tmp_path, capsys):
    make_project(
        CONFIG,
        {
            # the second 'old' repeats an id: quarantined, and deleted with the first
            "t.csv": f"id,prio,at\nold,low,{_day(800)}\nold,weird,{_day(900)}\nnew,low,{_day(10)}\n"
            "undated,low,\n",
            "s.csv": f"id,at,status\ns1,{_day(400)},success\ns2,{_day(100)},failed\n",
        },
    )
    root = str(tmp_path)
    assert main(["ingest", "--project", root]) == 0
    assert main(["validate", "--project", root]) == 0
    capsys.readouterr()
    assert main(["retention", "apply", "--dry-run", "--project", root]) == 0
    out = capsys.readouterr().out
    assert "raw.desk" in out and "Dry run" in out
    assert main(["retention", "apply", "--project", root]) == 0
    out = capsys.readouterr().out
    assert "created_at <" in out and "730 days" in out
    with open_store(load_project(root), read_only=True) as store:
        assert store.rows("SELECT id FROM raw.desk ORDER BY id") == [("new",), ("undated",)]
        assert store.rows("SELECT record_id FROM stg.tickets ORDER BY 1") == [
            ("new",),
            ("undated",),
        ]
        assert store.scalar("SELECT count(*) FROM quar.rows WHERE record_id = 'old'") == 0
        assert store.scalar("SELECT count(*) FROM quar.failures WHERE record_id = 'old'") == 0
        assert store.rows("SELECT record_id FROM core.sync_events") == [("s2",)]
        details = store.scalar("SELECT details FROM meta.audit WHERE action = 'retention'")
    assert '"raw.desk":2' in details and '"quar.rows":1' in details
    assert main(["retention", "apply", "--project", root]) == 0  # nothing left to delete


def test_retention_config_is_checked(make_project):
    base = CONFIG.replace("retention:\n  tickets: {days: 730}\n  sync_events:", "retention:\n  x:")
    with pytest.raises(ConfigError, match="unknown object 'x'"):
        make_project(base.replace("x: {days: 365, field: occurred_at}", "x: {days: 3}"))
    with pytest.raises(ConfigError, match="not a date or timestamp field"):
        make_project(CONFIG.replace("field: occurred_at", "field: status"))
    with pytest.raises(ConfigError, match="days"):
        make_project(CONFIG.replace("days: 730", "days: 0"))


def test_retention_without_rules_says_how_to_add_them(make_project, tmp_path, capsys):
    make_project("name: no retention\n")
    assert main(["retention", "apply", "--project", str(tmp_path)]) == 7
    assert "retention: {tickets: {days: 730}" in capsys.readouterr().err


def _counts(store) -> dict[str, int]:
    names = store.rows(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE schema_name IN ('raw', 'stg', 'core', 'quar')"
    )
    return {f"{s}.{t}": store.scalar(f'SELECT count(*) FROM "{s}"."{t}"') for s, t in names}


def test_the_dry_run_counts_exactly_what_retention_deletes(make_project, tmp_path):
    from workbench.governance.retention import apply

    make_project(
        CONFIG,
        {
            "t.csv": f"id,prio,at\nold,low,{_day(800)}\nold,weird,{_day(900)}\n"
            f"older,bad,{_day(1000)}\nnew,low,{_day(10)}\n",
            "s.csv": f"id,at,status\ns1,{_day(400)},success\ns2,{_day(100)},failed\n",
        },
    )
    root = str(tmp_path)
    assert main(["ingest", "--project", root]) == 0
    assert main(["validate", "--project", root]) == 0
    project = load_project(root)
    with open_store(project) as store:
        before = _counts(store)
        planned = apply(project, store, dry_run=True).rows
        assert _counts(store) == before  # a dry run changes nothing
        done = apply(project, store).rows
        after = _counts(store)
    lost = {t: before[t] - after.get(t, 0) for t in before if before[t] != after.get(t, 0)}
    assert planned == done == lost
    # every stage: the second 'old' quarantined (a repeated id, and 'weird' set aside) and
    # the set-aside priority of 'older' included
    assert lost == {
        "raw.desk": 3, "raw.sync": 1, "stg.tickets": 3, "stg.sync_events": 1,
        "core.tickets": 2, "core.sync_events": 1, "quar.rows": 1, "quar.failures": 3,
    }  # fmt: skip
