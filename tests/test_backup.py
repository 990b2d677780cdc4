"""Backup and restore: a restored warehouse is the same, table by table; a damaged backup is
refused before anything is replaced."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from catalog import tables

from workbench import audit
from workbench.cli import main
from workbench.config import load_project
from workbench.store import open_store, table

DATA = Path(__file__).parent / "data" / "three_systems"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(DATA, root)
    assert main(["ingest", "--project", str(root)]) == 0
    assert main(["validate", "--project", str(root)]) == 0
    return root


def test_a_backup_restores_to_an_identical_warehouse(project: Path, tmp_path: Path, capsys):
    backup = tmp_path / "backup"
    assert main(["backup", "--project", str(project), "--out", str(backup)]) == 0
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["tables"]["raw.crm_contacts"]["rows"] > 0
    assert "raw_crm_contacts.parquet" in manifest["files"]
    assert manifest["tables"]["meta.settings"]["primary_key"] == ["key"]
    warehouse = load_project(project).warehouse_path
    original = tmp_path / "original.duckdb"
    shutil.copy(warehouse, original)
    # change the warehouse after the backup: the restore must undo it
    assert main(["validate", "--project", str(project)]) == 0
    capsys.readouterr()
    assert main(["restore", str(backup), "--project", str(project)]) == 0
    assert ".bak" in capsys.readouterr().out
    assert len(list(warehouse.parent.glob("warehouse.duckdb.*.bak"))) == 1

    con = duckdb.connect()
    con.execute(f"ATTACH '{original}' AS a")
    con.execute(f"ATTACH '{warehouse}' AS b")
    before, after = tables(con, "a"), tables(con, "b")
    assert before == after  # the same tables with the same columns and types
    assert len(before) > 15
    for name in before:
        schema, tab = name.split(".")
        a, b = f"a.{table(schema, tab)}", f"b.{table(schema, tab)}"
        if name == "meta.audit":  # the restore itself is the one new entry
            b = f"(SELECT * FROM {b} WHERE action <> 'restore')"
        if name == "meta.settings":  # whose hash is the new audit head
            a, b = (f"(SELECT * FROM {x} WHERE key <> 'audit_head')" for x in (a, b))
        for one, other in ((a, b), (b, a)):
            diff = con.execute(f"SELECT count(*) FROM (FROM {one} EXCEPT ALL FROM {other})")
            assert diff.fetchone() == (0,), name
    # the same keys and NOT NULL columns, and defaults where there were defaults
    constraints = (
        "SELECT schema_name, table_name, constraint_type, constraint_column_names "
        "FROM duckdb_constraints() WHERE database_name = $d ORDER BY ALL"
    )
    keys = con.execute(constraints, {"d": "a"}).fetchall()
    assert ("meta", "audit", "PRIMARY KEY", ["entry_id"]) in keys
    assert con.execute(constraints, {"d": "b"}).fetchall() == keys
    defaults = (
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = $d AND column_default IS NOT NULL ORDER BY ALL"
    )
    assert (
        con.execute(defaults, {"d": "b"}).fetchall()
        == con.execute(defaults, {"d": "a"}).fetchall()
        != []
    )
    # sequences continue after the values they had given
    top = con.execute("SELECT max(load_id) FROM a.meta.loads").fetchone()[0]
    before = con.execute("SELECT nextval('a.meta.load_id_seq')").fetchone()[0]
    after = con.execute("SELECT nextval('b.meta.load_id_seq')").fetchone()[0]
    assert before == top + 1 and after >= before
    con.close()
    with open_store(load_project(project), read_only=True) as store:
        assert audit.verify(store)[1] == []
        actions = [r[0] for r in store.rows("SELECT action FROM meta.audit ORDER BY entry_id")]
    assert actions[-2:] == ["backup", "restore"]


def test_a_damaged_backup_is_refused_and_nothing_is_replaced(project: Path, tmp_path: Path, capsys):
    backup = tmp_path / "backup"
    assert main(["backup", "--project", str(project), "--out", str(backup)]) == 0
    warehouse = load_project(project).warehouse_path
    before = warehouse.read_bytes()
    damaged = backup / "raw_crm_contacts.parquet"
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    capsys.readouterr()
    assert main(["restore", str(backup), "--project", str(project)]) == 7
    err = capsys.readouterr().err
    assert "raw_crm_contacts.parquet does not match its checksum" in err
    assert "Traceback" not in err
    assert warehouse.read_bytes() == before
    assert not list(warehouse.parent.glob("*.bak"))
    damaged.unlink()
    assert main(["restore", str(backup), "--project", str(project)]) == 7
    assert "raw_crm_contacts.parquet is missing" in capsys.readouterr().err
    assert main(["restore", str(tmp_path), "--project", str(project)]) == 7
    assert "has no manifest.json" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["not duckdb", "truncated"])
def test_a_damaged_warehouse_is_replaced_by_a_restore_as_its_error_says(
    project: Path, tmp_path: Path, capsys, damage: str
):
    backup = tmp_path / "backup"
    assert main(["backup", "--project", str(project), "--out", str(backup)]) == 0
    warehouse = load_project(project).warehouse_path
    capsys.readouterr()
    rows = main(["ledger", "--project", str(project), "--json"]) == 0 and capsys.readouterr().out
    data = warehouse.read_bytes()
    damaged = b"hello, not a database\n" if damage == "not duckdb" else data[: len(data) // 3]
    warehouse.write_bytes(damaged)
    assert main(["ledger", "--project", str(project)]) == 4
    assert "workbench restore" in capsys.readouterr().err  # the fix it suggests
    assert main(["restore", str(backup), "--project", str(project)]) == 0
    out = capsys.readouterr().out
    assert "could not be opened" in out  # said, with where the damaged file is kept
    (kept,) = warehouse.parent.glob("warehouse.duckdb.*.bak")
    assert kept.read_bytes() == damaged
    assert main(["ledger", "--project", str(project), "--json"]) == 0
    assert capsys.readouterr().out == rows


def test_a_restore_still_refuses_a_warehouse_in_use(project: Path, tmp_path: Path, capsys):
    backup = tmp_path / "backup"
    assert main(["backup", "--project", str(project), "--out", str(backup)]) == 0
    warehouse = load_project(project).warehouse_path
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print(1, flush=True); "
    hold += "time.sleep(60)"
    other = subprocess.Popen(
        [sys.executable, "-c", hold, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None and other.stdout.readline() == "1\n"
        capsys.readouterr()
        assert main(["restore", str(backup), "--project", str(project)]) == 4
        assert f"in use by PID {other.pid}" in capsys.readouterr().err
    finally:
        other.kill()
        other.wait()
    assert not list(warehouse.parent.glob("*.bak"))


def test_backup_refuses_a_folder_that_is_not_empty(project: Path, tmp_path: Path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert main(["backup", "--project", str(project), "--out", str(tmp_path / "full")]) == 7
    assert "is not empty" in capsys.readouterr().err


def test_backup_into_a_folder_it_cannot_make_is_one_message(project: Path, capsys):
    out = project / "workbench.yaml" / "backup"
    assert main(["backup", "--project", str(project), "--out", str(out)]) == 7
    err = capsys.readouterr().err
    assert f"{out}" in err and "cannot be written" in err and "Traceback" not in err


def test_a_backup_the_disk_cannot_hold_is_one_message(project: Path, tmp_path: Path, capsys):
    from workbench.governance import backup as module

    copy = module._copy_sql

    def to_a_full_disk(spec, path):  # as a full disk answers COPY: an IO error
        return copy(spec, Path("/proc/no-such-folder") / path.name)

    def backups() -> int:
        with duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True) as con:
            found = con.execute("SELECT count(*) FROM meta.audit WHERE action = 'backup'")
            return int(found.fetchone()[0])  # type: ignore[index]

    before = backups()
    out = tmp_path / "backup"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_copy_sql", to_a_full_disk)
        assert main(["backup", "--project", str(project), "--out", str(out)]) == 7
    err = capsys.readouterr().err
    assert "could not be written" in err and str(out) in err and "Traceback" not in err
    assert not (out / "manifest.json").exists()
    assert backups() == before  # the trail names no backup that was not made
    assert main(["audit", "verify", "--project", str(project)]) == 0
