"""Reading a warehouse's catalog in tests, independently of the package's own code."""

from __future__ import annotations

import duckdb


def tables(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple]]:
    """Every table of the attached database ``db``: ``schema.table`` -> (column, type)s."""
    return {
        f"{s}.{t}": con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = $d AND schema_name = $s AND table_name = $t "
            "ORDER BY column_index",
            {"d": db, "s": s, "t": t},
        ).fetchall()
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $d",
            {"d": db},
        ).fetchall()
    }
