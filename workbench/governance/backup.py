"""Backup and restore of the warehouse.

:func:`backup` holds the writer lock (so nothing changes meanwhile), records the backup in
the audit trail, and writes a consistent copy with DuckDB's ``EXPORT DATABASE`` (one
Parquet file per table, ``schema.sql`` with schemas, sequences at their current values and
tables, ``load.sql``) plus ``manifest.json``: every table with its columns and row count,
and every file with its sha256.

:func:`restore` checks every file against the manifest before anything is replaced
(naming the first bad or missing file), imports the copy into a new file beside the
warehouse, checks the row counts, then moves the current warehouse aside as
``<warehouse>.<timestamp>.bak`` and puts the restored one in its place.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

import workbench
from workbench.config import Project
from workbench.errors import GovernanceError
from workbench.governance import audit
from workbench.store import Store, open_store, table

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    tables: int
    rows: int
    files: int


@dataclass(frozen=True)
class RestoreResult:
    warehouse: Path
    replaced: Path | None
    tables: int
    rows: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def catalog(store: Store | duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Every table of the warehouse: ``schema.table`` -> columns (name, type) and rows."""
    con = store.con if isinstance(store, Store) else store
    names = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() ORDER BY ALL"
    ).fetchall()
    out: dict[str, dict[str, Any]] = {}
    for schema, name in names:
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


def backup(project: Project, out: Path | None = None) -> BackupResult:
    """Write a consistent, checksummed copy of the warehouse into ``out`` (default:
    ``backups/<UTC time>/`` in the project)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = (out or project.root / "backups" / stamp).resolve()
    if folder.exists() and any(folder.iterdir()):
        raise GovernanceError(
            f"The backup folder {folder} is not empty.",
            where=str(folder),
            fix="Give a new or empty folder with --out (or leave --out out for a dated one).",
        )
    if not project.warehouse_path.exists():
        raise GovernanceError(
            "There is no warehouse to back up yet.",
            where=str(project.warehouse_path),
            fix="Load data first with `workbench ingest`.",
        )
    folder.mkdir(parents=True, exist_ok=True)
    with open_store(project) as store:  # the writer lock: nothing changes meanwhile
        audit.record(store, "backup", {"folder": str(folder)}, project=project)
        store.execute("CHECKPOINT")
        tables = catalog(store)
        store.execute(f"EXPORT DATABASE '{_sql_path(folder)}' (FORMAT parquet)")
        head = store.scalar("SELECT value FROM meta.settings WHERE key = $k", {"k": audit.HEAD_KEY})
    files = {
        p.name: {"sha256": sha256_of(p), "bytes": p.stat().st_size}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "project": project.config.name,
        "warehouse": str(project.warehouse_path),
        "workbench": workbench.__version__,
        "duckdb": duckdb.__version__,
        "audit_head": head,
        "tables": tables,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return BackupResult(folder, len(tables), sum(t["rows"] for t in tables.values()), len(files))


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal body (EXPORT/IMPORT take no bound parameters)."""
    return str(path).replace("'", "''")


def check_backup(folder: Path) -> dict[str, Any]:
    """The manifest of ``folder`` after checking every file it lists; raises naming the
    first missing or changed file."""
    folder = folder.resolve()
    path = folder / MANIFEST
    if not path.exists():
        raise GovernanceError(
            f"{folder} is not a Workbench backup: it has no {MANIFEST}.",
            where=str(path),
            fix="Give the folder `workbench backup` wrote.",
        )
    try:
        manifest = json.loads(path.read_text())
        files = manifest["files"]
        manifest["tables"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise GovernanceError(
            f"The backup's manifest cannot be read ({exc}).",
            where=str(path),
            fix="Use an intact backup; a manifest must not be edited by hand.",
        ) from None
    for name in ("schema.sql", "load.sql"):
        if name not in files:
            raise GovernanceError(
                f"The backup's manifest does not list {name}.",
                where=str(path),
                fix="Use an intact backup written by `workbench backup`.",
            )
    for name, info in sorted(files.items()):
        file = folder / name
        if Path(name).name != name or not file.is_file():
            raise GovernanceError(
                f"The backup file {name} is missing.",
                where=str(file),
                fix="Use an intact backup; nothing was replaced.",
            )
        if sha256_of(file) != info["sha256"]:
            raise GovernanceError(
                f"The backup file {name} does not match its checksum (it was changed or is "
                "damaged).",
                where=str(file),
                fix="Use another backup; nothing was replaced.",
            )
    return dict(manifest)


def restore(project: Project, folder: Path) -> RestoreResult:
    """Replace the project's warehouse by the backup in ``folder`` (see the module doc)."""
    manifest = check_backup(folder)
    target = project.warehouse_path
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    staged = target.with_name(f".{target.name}.restore-{os.getpid()}")
    staged.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(staged))
        try:
            con.execute(f"IMPORT DATABASE '{_sql_path(folder.resolve())}'")
            restored = catalog(con)
        finally:
            con.close()
        _compare(manifest["tables"], restored, folder)
        replaced = None
        if target.exists():
            Store(target).close()  # refuses (names the process) while the warehouse is in use
            replaced = target.with_name(f"{target.name}.{stamp}.bak")
            target.rename(replaced)
            wal = target.with_name(target.name + ".wal")
            if wal.exists():
                wal.rename(replaced.with_name(replaced.name + ".wal"))
        staged.rename(target)
    finally:
        staged.unlink(missing_ok=True)
    with open_store(project) as store:
        details = {"folder": str(folder.resolve()), "backup_created_at": manifest.get("created_at")}
        audit.record(store, "restore", {**details, "replaced": str(replaced)}, project=project)
    rows = sum(int(t["rows"]) for t in restored.values())
    return RestoreResult(target, replaced, len(restored), rows)


def _compare(expected: dict[str, Any], restored: dict[str, Any], folder: Path) -> None:
    for name, info in expected.items():
        got = restored.get(name)
        if got is None or got["rows"] != info["rows"] or got["columns"] != info["columns"]:
            found = "missing" if got is None else f"{got['rows']} rows"
            raise GovernanceError(
                f"The restored table {name} does not match the manifest "
                f"({info['rows']} rows expected, {found}).",
                where=str(folder / MANIFEST),
                fix="Use another backup; nothing was replaced.",
            )
