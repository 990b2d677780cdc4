"""The private DuckDB that Splink runs on: in memory, within the project's DuckDB limits.

Splink keeps its input, term-frequency tables and scored pairs in this database; the
warehouse only receives results. ``duckdb.memory_limit`` and ``duckdb.threads`` of
``workbench.yaml`` apply here as in the warehouse; beyond the limit DuckDB spills to a
temporary directory that is removed afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from splink import DuckDBAPI

from workbench.config import DuckDBSettings


@contextmanager
def splink_db(limits: DuckDBSettings | None = None) -> Iterator[DuckDBAPI]:
    """A Splink database API on a fresh in-memory DuckDB, closed on exit."""
    with tempfile.TemporaryDirectory(prefix="workbench-splink-") as spill:
        con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")
            con.execute("SET temp_directory = $d", {"d": spill})
            # rows in any order: lets joins and aggregates stream instead of buffering
            con.execute("SET preserve_insertion_order = false")
            if limits is not None and limits.memory_limit:
                con.execute("SET memory_limit = $v", {"v": limits.memory_limit})
            if limits is not None and limits.threads:
                con.execute("SET threads = $v", {"v": limits.threads})
            yield DuckDBAPI(con)
        finally:
            con.close()
