"""The audit trail: every data-changing or data-showing action leaves a hash-chained entry;
`workbench audit verify` notices an edited or deleted entry and names it."""

from __future__ import annotations

import duckdb

from workbench import audit
from workbench.cli import main
from workbench.config import load_project
from workbench.store import open_store

CONFIG = """
privacy: {allow_unmask: true}
sources:
  crm:
    system: crm
    object: contacts
    path: c.csv
    columns: {record_id: id, first_name: first, last_name: last, email: email, phone: phone}
"""
EXPORT = (
    "id,first,last,email,phone\n"
    "1,Anna,Meyer,anna@acme.com,+49 30 1234567\n"
    "2,Anne,Meyer,anna@acme.com,+49 30 1234567\n"
    "3,Bob,Stone,bob@@acme.com,\n"
)


def _actions(root) -> list[str]:
    with open_store(load_project(root), read_only=True) as store:
        return [r[0] for r in store.rows("SELECT action FROM meta.audit ORDER BY entry_id")]


def _pipeline(make_project, tmp_path, capsys) -> str:
    make_project(CONFIG, {"c.csv": EXPORT})
    root = str(tmp_path)
    assert main(["ingest", "--project", root]) == 0
    assert main(["validate", "--project", root]) == 0
    capsys.readouterr()
    return root


def _resolved(root: str) -> None:
    """Stand-in for a resolution run (Splink needs more than three records); the id tables
    are made by the schema's migrations when the store opens."""
    with open_store(load_project(root)) as store:
        store.execute(
            "INSERT INTO id.members (object, unique_id, source, record_id, entity_id, run_id) "
            "VALUES ('contacts', 'crm:1', 'crm', '1', 'e1', 1), "
            "('contacts', 'crm:2', 'crm', '2', 'e2', 1)"
        )


def test_actions_are_recorded_and_the_chain_verifies(make_project, tmp_path, capsys):
    root = _pipeline(make_project, tmp_path, capsys)
    _resolved(root)
    assert main(["review", "decide", "crm:1", "crm:2", "--no-match", "--project", root]) == 0
    assert main(["quarantine", "list", "--unmask", "--project", root]) == 0
    assert main(["quarantine", "list", "--project", root]) == 0  # masked: not an entry
    actions = _actions(root)
    assert actions == [
        "config_changed",
        "load",
        "validate",
        "review_decision",
        "unmask",
    ]
    capsys.readouterr()
    assert main(["audit", "verify", "--project", root]) == 0
    assert "intact: 5 entries" in capsys.readouterr().out
    assert main(["audit", "log", "--action", "unmask", "--project", root]) == 0
    out = capsys.readouterr().out
    assert "quarantine list" in out and "load" not in out
    assert main(["audit", "log", "--since", "2000-01-01", "--limit", "2", "--project", root]) == 0
    out = capsys.readouterr().out
    assert "unmask" in out and "review_decision" in out and "validate" not in out


def test_a_changed_config_is_recorded(make_project, tmp_path, capsys):
    root = _pipeline(make_project, tmp_path, capsys)
    (tmp_path / "workbench.yaml").write_text(CONFIG + "\nname: renamed\n")
    assert main(["validate", "--project", root]) == 0
    assert _actions(root)[-2:] == ["config_changed", "validate"]
    with open_store(load_project(root), read_only=True) as store:
        assert audit.verify(store)[1] == []


def _tamper(root: str, sql: str) -> str:
    con = duckdb.connect(str(load_project(root).warehouse_path))
    con.execute(sql)
    con.close()
    return root


def test_verify_names_an_edited_entry(make_project, tmp_path, capsys):
    root = _pipeline(make_project, tmp_path, capsys)
    _tamper(root, "UPDATE meta.audit SET details = '{\"run_id\":99}' WHERE entry_id = 3")
    assert main(["audit", "verify", "--project", root]) == 7
    err = capsys.readouterr().err
    assert "entry 3: its content does not match its hash (the entry was edited)" in err
    assert "Traceback" not in err and "Fix:" in err


def test_verify_names_a_deleted_entry(make_project, tmp_path, capsys):
    root = _pipeline(make_project, tmp_path, capsys)
    _tamper(root, "DELETE FROM meta.audit WHERE entry_id = 2")
    assert main(["audit", "verify", "--project", root]) == 7
    err = capsys.readouterr().err
    assert "entry 3: entry 2 before it is missing (deleted)" in err
    assert "entry 3: its prev_hash does not match" in err


def test_verify_notices_the_newest_entry_deleted(make_project, tmp_path, capsys):
    root = _pipeline(make_project, tmp_path, capsys)
    _tamper(root, "DELETE FROM meta.audit WHERE entry_id = (SELECT max(entry_id) FROM meta.audit)")
    assert main(["audit", "verify", "--project", root]) == 7
    assert "entry 3: the newest entry should be 3" in capsys.readouterr().err


def test_a_rehashed_edit_is_still_caught_by_the_next_entry(make_project, tmp_path, capsys):
    root = _pipeline(make_project, tmp_path, capsys)
    _tamper(root, "UPDATE meta.audit SET hash = sha256('forged') WHERE entry_id = 2")
    assert main(["audit", "verify", "--project", root]) == 7
    err = capsys.readouterr().err
    assert "entry 2: its content does not match its hash" in err
    assert "entry 3: its prev_hash does not match" in err
    assert "entry 3: the newest entry" not in err


def test_an_unmasked_report_is_recorded(make_project, tmp_path, capsys):
    from workbench.privacy import check_unmask

    project = make_project(CONFIG, {"c.csv": EXPORT})
    assert check_unmask(project, True, what="report duplicates --period 2026-09") is False
    assert _actions(str(tmp_path)) == ["config_changed", "unmask"]
