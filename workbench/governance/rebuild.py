"""Rebuilding a warehouse from a checked backup, by code: nothing in the backup runs as SQL.

:func:`build` makes a new DuckDB file from a :class:`~.manifest.Manifest` that
:func:`.manifest.read` has checked: schemas and tables under names quoted by
:func:`~workbench.store.quote_ident`, column types as :func:`.manifest.column_type` rebuilt
them, keys and NOT NULL columns by name, defaults as constants, sequences from integers. Each
table is filled by ``INSERT INTO t (columns) SELECT columns FROM read_parquet($path)``, the
path bound as a parameter and checked to be a plain file of the backup folder. The
golden-record views are made by the resolver's own definition
(:func:`workbench.resolve.golden.view_sql`); other views are not made (their SQL would come
from the backup) and are named in the warnings. Last, the tables made are compared with the
manifest: names, columns, types and row counts.

The file is opened as a :class:`~workbench.store.Store` that does not migrate: it holds the
backup's tables and nothing else until :func:`build` has compared them. Opened again (by
the restore), it is brought to the current schema (an older backup gains the tables and
sequences added since), and :func:`workbench.schema.realign_sequences` restarts any run-id
sequence behind its restored table.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.config import Project
from workbench.errors import GovernanceError
from workbench.governance.manifest import (
    FILE_NAME,
    MANIFEST,
    Manifest,
    SequenceSpec,
    TableSpec,
    column_type,
    default_sql,
)
from workbench.resolve.golden import view_sql  # the resolver's own view, one definition
from workbench.store import Store, quote_ident, table


def catalog(store: Store | duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Every table of the warehouse: ``schema.table`` -> columns (name, type) and rows."""
    con = store.con if isinstance(store, Store) else store
    out: dict[str, dict[str, Any]] = {}
    for schema, name in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND NOT temporary ORDER BY ALL"
    ).fetchall():
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = $s AND table_name = $t "
            "ORDER BY column_index",
            {"s": schema, "t": name},
        ).fetchall()
        row = con.execute(f"SELECT count(*) FROM {table(schema, name)}").fetchone()
        out[f"{schema}.{name}"] = {
            "columns": [list(c) for c in columns],
            "rows": int(row[0]) if row else 0,
        }
    return out


def _checked_rows(folder: Path, name: str, manifest: Manifest) -> pa.Table:
    """The rows of one backup file, read from the very bytes checked against the manifest's
    sha256 (DuckDB's read_parquet would read a path as a glob pattern, and the file could
    change between the check and the read)."""
    data = _inside(folder, name).read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest.files[name][0]:
        raise GovernanceError(
            f"The backup file {name} changed while it was restored (its checksum no longer "
            "matches the manifest).",
            where=str(folder / name),
            fix="Use an intact backup that nothing writes to; nothing was replaced.",
        )
    return pq.read_table(pa.BufferReader(data))


def build(
    path: Path, manifest: Manifest, folder: Path, project: Project
) -> tuple[dict[str, Any], list[str]]:
    """Make a new warehouse at ``path`` from the checked ``manifest`` and the Parquet files
    of ``folder`` (see the module doc); returns its catalog and warnings to show.

    Raises:
        GovernanceError: DuckDB refused part of it, or the tables made do not match the
            manifest (``path`` is left for the caller to remove).
    """
    warnings = []
    store = Store(path, migrate=False)  # the manifest's tables only; migrated when reopened
    con = store.con
    try:
        schemas = {t.schema for t in manifest.tables.values()} | {
            s.schema for s in manifest.sequences
        }
        for schema in sorted(schemas):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        for seq in manifest.sequences:
            con.execute(_sequence_sql(seq))
        for spec in manifest.tables.values():
            con.execute(_table_sql(spec))
            cols = ", ".join(quote_ident(c) for c, _ in spec.columns)
            con.register("_wb_restore", _checked_rows(folder, spec.file, manifest))
            try:
                con.execute(
                    f"INSERT INTO {table(spec.schema, spec.name)} ({cols}) "
                    f"SELECT {cols} FROM _wb_restore"
                )
            finally:
                con.unregister("_wb_restore")
        for obj in manifest.golden:
            core = [c for c, _ in manifest.tables.get(f"core.{obj}", _NO_TABLE).columns]
            if obj not in project.dictionary.objects or not core:
                warnings.append(f"The view id.golden_{obj} was not made: no core.{obj} table.")
                continue
            con.execute(view_sql(obj, project.dictionary.object(obj), core))
        restored = catalog(con)
    except duckdb.Error as exc:
        raise GovernanceError(
            f"The backup cannot be restored: {str(exc).splitlines()[0]}",
            where=str(folder),
            fix="Use another backup; nothing was replaced.",
        ) from None
    finally:
        store.close()
    _compare(manifest, restored)
    warnings += [
        f"The view {v} was not restored (restore runs no SQL from a backup): create it again."
        for v in manifest.other_views
    ]
    return restored, warnings


_NO_TABLE = TableSpec("", "", [], 0, "", [], [], [], {})


def _inside(folder: Path, name: str) -> Path:
    """A file of the backup folder (a plain name, checked again here)."""
    path = (folder / name).resolve()
    if path.parent != folder or not FILE_NAME.match(name) or ".." in name:
        raise GovernanceError(
            f"The backup file {name!r} is not inside the backup folder.",
            where=str(folder / MANIFEST),
            fix="Use an intact backup; nothing was replaced.",
        )
    return path


def _sequence_sql(seq: SequenceSpec) -> str:
    cycle = "CYCLE" if seq.cycle else "NO CYCLE"
    return (
        f"CREATE SEQUENCE {table(seq.schema, seq.name)} INCREMENT BY {int(seq.increment)} "
        f"MINVALUE {int(seq.min)} MAXVALUE {int(seq.max)} START WITH {int(seq.next)} {cycle}"
    )


def _table_sql(spec: TableSpec) -> str:
    parts = []
    for name, kind in spec.columns:
        part = f"{quote_ident(name)} {column_type(kind)}"
        if name in spec.not_null:
            part += " NOT NULL"
        if name in spec.defaults:
            part += f" DEFAULT {default_sql(spec.defaults[name])}"
        parts.append(part)
    if spec.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(quote_ident(c) for c in spec.primary_key)})")
    for columns in spec.unique:
        parts.append(f"UNIQUE ({', '.join(quote_ident(c) for c in columns)})")
    return f"CREATE TABLE {table(spec.schema, spec.name)} ({', '.join(parts)})"


def _compare(manifest: Manifest, restored: dict[str, Any]) -> None:
    """The restored tables are the manifest's: same names, columns, types and rows."""
    extra = sorted(set(restored) - set(manifest.tables))
    for key, spec in manifest.tables.items():
        got = restored.get(key)
        columns = [(c, column_type(t)) for c, t in got["columns"]] if got else None
        if got is None or got["rows"] != spec.rows or columns != spec.columns:
            found = "missing" if got is None else f"{got['rows']} rows"
            raise GovernanceError(
                f"The restored table {key} does not match the manifest "
                f"({spec.rows} rows expected, {found}).",
                where=str(manifest.path),
                fix="Use another backup; nothing was replaced.",
            )
    if extra:
        raise GovernanceError(
            f"The restore made tables the manifest does not list: {', '.join(extra)}.",
            where=str(manifest.path),
            fix="Use another backup; nothing was replaced.",
        )
