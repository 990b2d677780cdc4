"""Compaction: the warehouse rewritten into a fresh file keeps everything (tables, rows,
primary keys, sequences at their values, views) and no byte of the rows deleted before."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest

from workbench.cli import main
from workbench.errors import GovernanceError
from workbench.governance.compact import compact
from workbench.schema import LATEST
from workbench.schema.registry import FIXED_TABLES as REGISTRY_TABLES
from workbench.store import BriefStore, Store

GONE = "zelda.quist@example.org"  # a value only the deleted row holds
# a value that stays; random-looking values are stored uncompressed (DuckDB would compress
# 'person1@...', 'person2@...' with FSST, and then no value could be found in the bytes)
KEPT = hashlib.md5(b"7").hexdigest() + "@example.org"
ROWS = 200
# what every warehouse holds besides: the registry's fixed tables (empty) and
# meta.schema_version with a row per migration
FIXED_TABLES, FIXED_ROWS = len(REGISTRY_TABLES) + 1, LATEST


def _warehouse(path: Path) -> None:
    """A warehouse with a sequence used three times, a primary key, a view and 200 rows
    (plus one that is then deleted)."""
    with Store(path) as store:
        store.execute("CREATE SEQUENCE meta.n_seq START 1")
        for _ in range(3):
            store.execute("SELECT nextval('meta.n_seq')")
        store.execute("CREATE TABLE meta.people (id BIGINT PRIMARY KEY, email VARCHAR NOT NULL)")
        store.execute(
            "INSERT INTO meta.people SELECT i, md5(i::VARCHAR) || '@example.org' "
            "FROM range($n) t(i)",
            {"n": ROWS},
        )
        store.execute("INSERT INTO meta.people VALUES (5000, $e)", {"e": GONE})
        store.execute("CREATE VIEW meta.few AS SELECT * FROM meta.people WHERE id < 10")
        store.execute("CHECKPOINT")
        store.execute("DELETE FROM meta.people WHERE id = 5000")
        store.execute("CHECKPOINT")


def _bytes(path: Path) -> bytes:
    wal = path.with_name(path.name + ".wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_deleted_values_are_gone_and_everything_else_stays(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    # not vacuous: DuckDB keeps the deleted value in the file after DELETE and CHECKPOINT
    assert GONE.encode() in _bytes(path) and KEPT.encode() in _bytes(path)
    with Store(path) as store:
        result = compact(store)
        # the store reads the new file
        assert store.scalar("SELECT count(*) FROM meta.people") == ROWS
    assert GONE.encode() not in _bytes(path)
    assert KEPT.encode() in _bytes(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]
    assert result.path == path.resolve() and result.zeroed
    assert (result.tables, result.rows) == (1 + FIXED_TABLES, ROWS + FIXED_ROWS)
    con = duckdb.connect(str(path))
    try:
        assert con.execute("SELECT nextval('meta.n_seq')").fetchone() == (4,)
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO meta.people VALUES (1, 'again@example.org')")
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO meta.people VALUES (9000, NULL)")
        assert con.execute("SELECT count(*) FROM meta.few").fetchone() == (10,)
    finally:
        con.close()


def test_refused_where_it_could_lose_writes(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    before = path.read_bytes()
    with Store(path) as store:
        with store.transaction(), pytest.raises(GovernanceError, match="inside a transaction"):
            compact(store)
        cursor = store.con.cursor()  # a second connection would keep writing the old file
        with pytest.raises(GovernanceError, match="1 other connection"):
            compact(store)
        cursor.close()
    with pytest.raises(GovernanceError, match="opened for writing"):
        compact(BriefStore(path))
    with Store(path, read_only=True) as store, pytest.raises(GovernanceError, match="read-only"):
        compact(store)
    assert path.read_bytes() == before


def test_a_leftover_name_of_the_live_file_is_unlinked_not_zeroed(tmp_path: Path) -> None:
    """An interrupted compaction can leave a second name of the live warehouse; the next
    one removes that name without touching the file."""
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    os.link(path, tmp_path / ".w.duckdb.replaced-1")
    (tmp_path / ".w.duckdb.compact-1").write_bytes(b"half a copy")
    with Store(path) as store:
        compact(store)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM meta.people") == ROWS


def test_erase_compact_only_rewrites_the_project_warehouse(
    make_project, tmp_path: Path, capsys
) -> None:
    project = make_project("sources: {}\n")
    _warehouse(project.warehouse_path)
    assert GONE.encode() in _bytes(project.warehouse_path)
    assert main(["erase", "--compact-only", "--project", str(tmp_path)]) == 0
    tables, rows = 1 + FIXED_TABLES, ROWS + FIXED_ROWS
    assert f"Rewrote the warehouse ({tables} tables, {rows} rows" in capsys.readouterr().out
    assert GONE.encode() not in _bytes(project.warehouse_path)
    assert main(["erase", "--compact-only", "--email", "a@b.org", "--project", str(tmp_path)]) == 7
    assert "takes no other option" in capsys.readouterr().err
