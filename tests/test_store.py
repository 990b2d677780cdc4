"""The warehouse's handling of frames handed to it."""

from __future__ import annotations

import time

import duckdb
import polars as pl
import pytest

from workbench.errors import WarehouseError
from workbench.store import ROW_GROUP_ROWS, Store, arrow_batches, quote_literal


def test_a_registered_frame_arrives_whole_in_order_in_row_group_batches(tmp_path) -> None:
    rows = 2 * ROW_GROUP_ROWS + 5
    frame = pl.DataFrame({"i": range(rows), "s": [f"r{i}" for i in range(rows)]})
    assert [b.num_rows for b in arrow_batches(frame).to_batches()] == [
        ROW_GROUP_ROWS,
        ROW_GROUP_ROWS,
        5,
    ]
    with Store(tmp_path / "w.duckdb") as store:
        with store.registered("_f", frame):
            store.execute("CREATE TABLE t AS SELECT * FROM _f")
        with pytest.raises(duckdb.CatalogException):  # gone after the block
            store.execute("SELECT * FROM _f")
        stored = store.frame("SELECT * FROM t")
    assert stored.equals(frame)  # every row, in the frame's order


def test_an_empty_frame_registers_with_its_columns(tmp_path) -> None:
    frame = pl.DataFrame(schema={"i": pl.Int64, "s": pl.String})
    with Store(tmp_path / "w.duckdb") as store, store.registered("_f", frame):
        assert store.rows("SELECT count(*) FROM _f") == [(0,)]
        assert [c[0] for c in store.con.execute("SELECT * FROM _f").description] == ["i", "s"]


def test_a_registered_frame_is_gone_after_a_failure_in_the_block(tmp_path) -> None:
    with Store(tmp_path / "w.duckdb") as store:
        with (
            pytest.raises(duckdb.CatalogException),
            store.registered("_f", pl.DataFrame({"i": [1]})),
        ):
            store.execute("SELECT * FROM no_such_table")
        with pytest.raises(duckdb.CatalogException):
            store.execute("SELECT * FROM _f")


def test_a_quoted_literal_reads_back_as_the_same_text(tmp_path) -> None:
    tricky = ["contacts", "o'brien", "'; DROP TABLE t; --", "", "a''b", "ümlaut\n"]
    with Store(tmp_path / "w.duckdb") as store:
        store.execute("CREATE TABLE t (x INT)")
        for text in tricky:
            store.execute(f"CREATE OR REPLACE VIEW v AS SELECT {quote_literal(text)} AS s")
            assert store.scalar("SELECT s FROM v") == text
        assert store.table_exists("main", "t")
    with pytest.raises(ValueError, match="NUL"):
        quote_literal("a\x00b")


def test_a_corrupt_block_is_a_damaged_warehouse_not_one_in_use(tmp_path) -> None:
    path = tmp_path / "w.duckdb"
    with Store(path) as store:
        store.execute("CREATE TABLE t AS SELECT range AS i, 'x' || range AS s FROM range(50000)")
    data = bytearray(path.read_bytes())
    data[12288 : 12288 + 4096 * 50] = bytes(4096 * 50)  # DuckDB: "... in block at ..."
    path.write_bytes(bytes(data))
    started = time.monotonic()
    with pytest.raises(WarehouseError) as raised:
        Store(path, wait=5)
    assert time.monotonic() - started < 4  # nothing to wait for
    assert "in use" not in raised.value.what and "Corrupt" in raised.value.what
    assert raised.value.damaged and "workbench restore" in (raised.value.fix or "")
