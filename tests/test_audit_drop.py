"""A dropped audit trail is a broken one: `workbench audit verify` says so (exit 7, no
traceback, never "intact") whether meta.audit or meta.settings was dropped, the copy of the
head in the project folder went with it, or commands ran on after the drop."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from projects import CRM_CONTACTS

from workbench import audit
from workbench.cli import main
from workbench.config import load_project
from workbench.store import open_store

CONFIG = CRM_CONTACTS
EXPORT = "id,first,last,email\n1,Anna,Meyer,anna@acme.com\n2,Bob,Stone,bob@stone.org\n"
HEAD = Path(".workbench") / "audit_head.json"


@pytest.fixture
def root(make_project, tmp_path: Path, capsys) -> str:
    """A project after ingest and validate: 3 entries (config_changed, load, validate)."""
    make_project(CONFIG, {"c.csv": EXPORT})
    assert main(["ingest", "--project", str(tmp_path)]) == 0
    assert main(["validate", "--project", str(tmp_path)]) == 0
    assert (tmp_path / HEAD).exists()
    capsys.readouterr()
    return str(tmp_path)


def _sql(root: str, *statements: str) -> None:
    con = duckdb.connect(str(load_project(root).warehouse_path))
    for statement in statements:
        con.execute(statement)
    con.close()


def _verify(root: str, capsys) -> tuple[int, str, str]:
    code = main(["audit", "verify", "--project", root])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _broken(root: str, capsys, *expected: str) -> str:
    code, out, err = _verify(root, capsys)
    assert code == 7, (out, err)
    assert "intact" not in out + err and "Traceback" not in err
    for text in expected:
        assert text in err, err
    return err


def test_an_intact_trail_verifies(root: str, capsys) -> None:
    code, out, _ = _verify(root, capsys)
    assert code == 0 and "intact: 3 entries" in out


def test_a_dropped_audit_table_is_reported(root: str, capsys) -> None:
    _sql(root, "DROP TABLE meta.audit")
    _broken(
        root,
        capsys,
        "the audit trail was dropped: meta.audit does not exist",
        "1 row(s) in meta.loads",
        f"{HEAD} in the project folder says entry 3",
    )


def test_a_dropped_settings_table_is_reported(root: str, capsys) -> None:
    _sql(root, "DROP TABLE meta.settings")
    _broken(root, capsys, "meta.settings, which keeps the audit head, does not exist")


def test_dropped_with_its_copy_outside_the_warehouse_is_still_reported(root: str, capsys) -> None:
    """Without the head file, the warehouse's own records of the load and the validation
    run say that commands ran."""
    (Path(root) / HEAD).unlink()
    _sql(root, "DROP TABLE meta.audit", "DROP TABLE meta.settings")
    _broken(root, capsys, "meta.audit does not exist, but 1 row(s) in meta.loads")


def test_an_emptied_audit_table_is_reported(root: str, capsys) -> None:
    _sql(root, "DELETE FROM meta.audit", "DELETE FROM meta.settings")
    _broken(root, capsys, "meta.audit is empty, but 1 row(s) in meta.loads")


def test_a_trail_dropped_and_started_again_by_later_commands(root: str, capsys) -> None:
    """A command after the drop starts a new chain; its first entry says that the trail
    did not continue from its head, and the earlier load and run have no entry."""
    _sql(root, "DROP TABLE meta.audit", "DROP TABLE meta.settings")
    assert main(["validate", "--project", root]) == 0
    with open_store(load_project(root), read_only=True) as store:
        actions = [r[0] for r in store.rows("SELECT action FROM meta.audit ORDER BY entry_id")]
    assert actions == ["audit_gap", "config_changed", "validate"]
    _broken(
        root,
        capsys,
        "entry 1: the trail did not continue from its head",
        "1 of the 1 load_ids in meta.loads (1) have no 'load' entry",
        "1 of the 2 run_ids in meta.validation_runs (1) have no 'validate' entry",
    )
    # and it stays broken: later entries do not heal it
    assert main(["validate", "--project", root]) == 0
    _broken(root, capsys, "entry 1: the trail did not continue from its head")


def test_a_missing_warehouse_with_a_head_is_reported(root: str, capsys) -> None:
    load_project(root).warehouse_path.unlink()
    _broken(root, capsys, "the audit trail was dropped: the warehouse is missing")


def test_a_rolled_back_command_leaves_the_head_where_it_was(root: str, capsys) -> None:
    """The head in the project folder is written only after the entry has committed."""
    project = load_project(root)
    kept = audit.read_head(project)
    with open_store(project) as store, pytest.raises(RuntimeError), store.transaction():
        audit.record(store, "load", {"load_id": 99}, project=project)
        raise RuntimeError("the command fails after its entry")
    assert audit.read_head(project) == kept
    code, out, _ = _verify(root, capsys)
    assert code == 0 and "intact: 3 entries" in out


def test_a_warehouse_no_command_has_written_is_not_a_broken_trail(
    make_project, tmp_path: Path, capsys
) -> None:
    project = make_project(CONFIG, {"c.csv": EXPORT})
    open_store(project).close()  # the warehouse exists, no command has run
    code, out, _ = _verify(str(tmp_path), capsys)
    assert code == 0 and "no audit trail yet" in out


def test_an_entry_whose_details_are_no_longer_json_is_reported_not_a_crash(
    root: str, capsys
) -> None:
    _sql(root, "UPDATE meta.audit SET details = '{bad' WHERE entry_id = 2")
    _broken(root, capsys, "entry 2", "edited")
    code = main(["audit", "log", "--json", "--project", root])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err
    entries = {e["entry_id"]: e["details"] for e in json.loads(captured.out)}
    assert entries[2] == "{bad"  # shown as the text it holds
