"""The schema registry: numbered migrations applied when a writable store opens, recorded in
meta.schema_version; run ids from sequences that keep counting across backup, restore and
compaction; a warehouse from a newer Workbench is refused."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from projects import CRM_CONTACTS

from workbench.cli import main
from workbench.config import load_project
from workbench.errors import WarehouseError
from workbench.governance.compact import compact
from workbench.schema import (
    KPI_RUNS,
    LATEST,
    MIGRATIONS,
    REPORT_RUNS,
    ROI_RUNS,
    SEQUENCES,
    next_id,
    realign_sequences,
    schema_version,
    upgrade,
)
from workbench.schema.registry import TABLES
from workbench.store import SCHEMAS, Store, open_store

CONFIG = CRM_CONTACTS
EXPORT = "id,first,last,email\n1,Anna,Meyer,anna@acme.com\n2,Bob,Stone,bob@acme.com\n"


def _versions(store: Store) -> list[int]:
    return [r[0] for r in store.rows("SELECT version FROM meta.schema_version ORDER BY 1")]


def _sequences(store: Store) -> set[str]:
    rows = store.rows("SELECT schema_name || '.' || sequence_name FROM duckdb_sequences()")
    return {r[0] for r in rows}


def _previous_layout(path: Path) -> None:
    """A warehouse as the stages made it before the registry: the fixed tables and the old
    sequences (loads, validation and resolution runs), no meta.schema_version, some runs."""
    con = duckdb.connect(str(path))
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA {schema}")
    for statements in TABLES.values():
        for statement in statements:
            con.execute(statement)
    for name in ("meta.load_id_seq", "meta.run_id_seq", "id.run_id_seq"):
        con.execute(f"CREATE SEQUENCE {name} START 1")
    con.execute("INSERT INTO kpi.runs (run_id) VALUES (6), (7)")
    con.execute("INSERT INTO roi.runs (run_id, metric) VALUES (3, 'npv'), (3, 'irr')")
    con.execute("INSERT INTO meta.report_runs (run_id, report) VALUES (5, 'roi')")
    con.close()


def test_a_new_warehouse_gets_every_migration(tmp_path: Path) -> None:
    with Store(tmp_path / "w.duckdb") as store:
        assert _versions(store) == [m.version for m in MIGRATIONS]
        assert schema_version(store) == LATEST
        for name in TABLES:
            assert store.table_exists(*name.split("."), views=False), name
        assert {s.name for s in SEQUENCES} <= _sequences(store)
        assert next_id(store, KPI_RUNS) == 1
        assert next_id(store, KPI_RUNS) == 2


def test_opening_again_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Store(path) as store:
        first = store.rows("SELECT * FROM meta.schema_version ORDER BY version")
    with Store(path) as store:
        assert store.rows("SELECT * FROM meta.schema_version ORDER BY version") == first
        assert upgrade(store) == []


def test_a_warehouse_of_the_previous_layout_is_baselined(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _previous_layout(path)
    with Store(path) as store:
        assert _versions(store) == [m.version for m in MIGRATIONS]
        assert store.scalar("SELECT count(*) FROM kpi.runs") == 2  # nothing lost
        # the new sequences start past the runs the warehouse holds
        assert next_id(store, KPI_RUNS) == 8
        assert next_id(store, ROI_RUNS) == 4
        assert next_id(store, REPORT_RUNS) == 6


def test_a_warehouse_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Store(path) as store:
        store.execute(
            "INSERT INTO meta.schema_version VALUES ($v, now(), 'from the future')",
            {"v": LATEST + 1},
        )
    with pytest.raises(WarehouseError, match="newer than this Workbench") as caught:
        Store(path)
    assert "Upgrade Workbench" in caught.value.message
    with Store(path, read_only=True) as store:  # reading is not refused, nor migrated
        assert schema_version(store) == LATEST + 1


def test_read_only_open_does_not_migrate(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _previous_layout(path)
    with Store(path, read_only=True) as store:
        assert not store.table_exists("meta", "schema_version")
        assert "meta.kpi_run_id_seq" not in _sequences(store)
    with Store(path) as store:
        assert schema_version(store) == LATEST


def test_run_ids_keep_increasing_across_compaction(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Store(path) as store:  # ids taken by one command, compacted by a later one
        ids = [next_id(store, KPI_RUNS), next_id(store, KPI_RUNS)]
    with Store(path) as store:
        compact(store)
        ids.append(next_id(store, KPI_RUNS))
        assert _versions(store) == [m.version for m in MIGRATIONS]
    assert ids == [1, 2, 3]


def test_run_ids_keep_increasing_across_backup_and_restore(make_project, tmp_path: Path):
    project = make_project(CONFIG, {"c.csv": EXPORT})
    root = str(project.root)
    assert main(["ingest", "--project", root]) == 0
    assert main(["validate", "--project", root]) == 0
    with open_store(project) as store:
        before = {s.name: next_id(store, s) for s in SEQUENCES}
    assert main(["backup", "--project", root, "--out", str(tmp_path / "backup")]) == 0
    assert main(["restore", str(tmp_path / "backup"), "--project", root]) == 0
    with open_store(load_project(root)) as store:
        assert _versions(store) == [m.version for m in MIGRATIONS]
        after = {s.name: next_id(store, s) for s in SEQUENCES}
    assert all(after[name] > before[name] for name in before), (before, after)


def test_a_sequence_behind_its_table_is_restarted_past_it(tmp_path: Path) -> None:
    """What a restore does after rebuilding: ids already in the table are never reused."""
    with Store(tmp_path / "w.duckdb") as store:
        store.execute("INSERT INTO kpi.runs (run_id) VALUES (41)")
        assert realign_sequences(store) == [KPI_RUNS.name]
        assert next_id(store, KPI_RUNS) == 42
        assert realign_sequences(store) == []


def test_the_ledger_reads_a_warehouse_from_before_migration_5(make_project, capsys) -> None:
    """A read-only Store does not migrate: `workbench ledger` must read a warehouse whose
    meta.loads has no rows_blank yet (it failed with a binder error)."""
    project = make_project(CONFIG, {"c.csv": EXPORT})
    root = str(project.root)
    assert main(["ingest", "--project", root]) == 0
    with duckdb.connect(str(project.warehouse_path)) as con:
        con.execute("ALTER TABLE meta.loads DROP COLUMN rows_blank")
        con.execute("ALTER TABLE meta.loads DROP COLUMN read_options")
        con.execute("DELETE FROM meta.schema_version WHERE version = 5")
    capsys.readouterr()
    assert main(["ledger", "--json", "--project", root]) == 0
    (load,) = json.loads(capsys.readouterr().out)
    assert (load["read"], load["loaded"], load["empty"]) == (2, 2, None)
