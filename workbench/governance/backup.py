"""Backup and restore of the warehouse; restore runs no SQL from a backup.

:func:`backup` holds the writer lock (so nothing changes meanwhile), records the backup in
the audit trail and, in one transaction, writes every table to a Parquet file of its own
(``COPY``) and ``manifest.json`` (:mod:`.manifest`): each table's structure (columns and
types, NOT NULL, primary and unique keys, constant defaults) and row count, each sequence
with its next value, the views, the project's identity, and every file's sha256. It also
adds the warehouse's tombstones the project's tombstone file lacks
(:mod:`workbench.tombstones`).

:func:`restore` checks the manifest and every file against it (naming the first bad or
missing one) before anything is replaced, and refuses a backup of another project unless
forced. It then builds a new warehouse beside the current one *by code* (:mod:`.rebuild`),
from the checked manifest only: schemas, sequences and tables are created from validated
names, types and integers, each table is filled by ``INSERT ... SELECT ... FROM
read_parquet($path)`` (a file of the backup folder), and the golden-record views are made
by Workbench's own code. Nothing the backup holds is run as SQL (older backups also held
``schema.sql``/``load.sql``; they are not read). It checks tables, columns, types and row
counts against the manifest, erases again what erasures made after the backup removed
(:func:`.reapply.reapply`; the new file is then rewritten by :func:`.compact.compact`, so
that no byte of those rows stays in it), then moves the current warehouse aside as
``<warehouse>.<timestamp>.bak`` and puts the restored one in its place. A current warehouse
DuckDB cannot read (corrupt, truncated, not a DuckDB file) is what a restore is for: it is
moved aside the same way, with a warning (no process can hold it; one in use, or written by
a newer Workbench, is still refused).

**Project identity.** ``.workbench/project_id`` in the project folder holds a random id,
made by the project's first backup; every backup records it. Restore refuses a backup whose
id differs (``force`` overrides, for a project folder set up again). A project with no id
and no warehouse takes the backup's id (recovering a lost project); one with a warehouse but
no id has never made this backup, and is refused unless forced.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

import workbench
from workbench import audit, tombstones
from workbench.config import Project
from workbench.errors import GovernanceError, WarehouseError
from workbench.governance.compact import compact
from workbench.governance.manifest import (
    FILE_NAME,
    FORMAT,
    MANIFEST,
    PROJECT_ID,
    Manifest,
    parse,
    read,
)
from workbench.governance.reapply import reapply
from workbench.governance.rebuild import build, catalog
from workbench.schema import realign_sequences
from workbench.store import Store, open_store, quote_ident, quote_literal, table

ID_FILE = "project_id"


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    tables: int
    rows: int
    files: int


@dataclass(frozen=True)
class RestoreResult:
    """A restore: where, what was replaced, tables and rows restored, the tombstones of
    erasures made after the backup that were applied again, and warnings to show."""

    warehouse: Path
    replaced: Path | None
    tables: int
    rows: int
    reapplied: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def project_id(project: Project, *, create: bool) -> str | None:
    """The project's identity (``.workbench/project_id``), made when ``create`` and missing."""
    path = project.root / tombstones.STATE_DIR / ID_FILE
    if path.exists():
        text = path.read_bytes().decode("ascii", "replace").strip()
        if not PROJECT_ID.match(text):
            raise GovernanceError(
                "The project's identity file is damaged.",
                where=str(path),
                fix="Delete it: the next backup makes a new one (restoring an older backup "
                "then needs --force).",
            )
        return text
    if not create:
        return None
    return _write_id(project, uuid.uuid4().hex)


def _write_id(project: Project, value: str) -> str:
    path = project.root / tombstones.STATE_DIR / ID_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n", encoding="ascii")
    return value


# -- backup ------------------------------------------------------------------------------------
def backup(project: Project, out: Path | None = None) -> BackupResult:
    """Write a consistent, checksummed copy of the warehouse into ``out`` (default:
    ``backups/<UTC time>/`` in the project); see the module doc."""
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
    identity = project_id(project, create=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GovernanceError(
            f"The backup folder {folder} cannot be written: {exc.strerror or exc}.",
            where=str(exc.filename or folder),
            fix="Give a folder you may write with --out (or leave --out out for a dated one "
            "in backups/); nothing was backed up.",
        ) from None
    with open_store(project) as store:  # the writer lock: nothing changes meanwhile
        tombstones.sync(project, store)
        with store.transaction():  # one snapshot for every table
            # in the snapshot, so the backup holds the entry that names it, and a backup
            # that fails leaves none (nothing in the trail or the readiness checklist says
            # a backup was made)
            audit.record(store, "backup", {"folder": str(folder)}, project=project)
            manifest = describe(store)
            manifest["project_id"] = identity
            names = _file_names(manifest["tables"])
            for key, spec in manifest["tables"].items():
                spec["file"] = names[key]
            # the manifest restore will read: refused now rather than at restore
            check = {n: {"sha256": "0" * 64, "bytes": 0} for n in names.values()}
            try:
                parse({**manifest, "files": check}, folder / MANIFEST)
            except GovernanceError as exc:
                raise _undescribable("warehouse", exc.what.split(": ", 1)[-1]) from None
            for spec in manifest["tables"].values():
                try:
                    store.execute(_copy_sql(spec, folder / spec["file"]))
                except duckdb.IOException as exc:  # a full disk, a folder made read-only
                    raise GovernanceError(
                        f"The backup could not be written: {str(exc).splitlines()[0]}",
                        where=str(folder),
                        fix="Free space (or choose another folder with --out), delete the "
                        "incomplete folder and back up again; it has no manifest, so restore "
                        "refuses it.",
                    ) from None
            head = store.scalar(
                "SELECT value FROM meta.settings WHERE key = $k", {"k": audit.HEAD_KEY}
            )
    files = {
        p.name: {"sha256": sha256_of(p), "bytes": p.stat().st_size}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != MANIFEST
    }
    manifest |= {
        "created_at": datetime.now(UTC).isoformat(),
        "project": project.config.name,
        "warehouse": str(project.warehouse_path),
        "workbench": workbench.__version__,
        "duckdb": duckdb.__version__,
        "audit_head": head,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tables = manifest["tables"].values()
    return BackupResult(folder, len(tables), sum(t["rows"] for t in tables), len(files))


def describe(store: Store) -> dict[str, Any]:
    """The structure of the warehouse as a manifest holds it: tables (columns, types,
    constraints, constant defaults, rows), sequences and views (see :mod:`.manifest`)."""
    tables: dict[str, Any] = {}
    for key, info in catalog(store).items():
        schema, name = key.split(".", 1)
        spec: dict[str, Any] = {"schema": schema, "name": name, **info}
        spec |= {"not_null": [], "primary_key": [], "unique": [], "defaults": {}}
        for column, nullable, default in store.rows(
            "SELECT column_name, is_nullable, column_default FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = $s AND table_name = $t "
            "ORDER BY column_index",
            {"s": schema, "t": name},
        ):
            if not nullable:
                spec["not_null"].append(column)
            if default is not None:
                spec["defaults"][column] = _constant(default, key, column)
        for kind, columns in store.rows(
            "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = current_database() AND schema_name = $s AND table_name = $t "
            "AND constraint_type <> 'NOT NULL' ORDER BY constraint_index",
            {"s": schema, "t": name},
        ):
            if kind == "PRIMARY KEY":
                spec["primary_key"] = list(columns)
            elif kind == "UNIQUE":
                spec["unique"].append(list(columns))
            else:
                raise _undescribable(key, f"a {kind} constraint")
        tables[key] = spec
    sequences = {}
    for schema, name, start, last, step, low, high, cycle in store.rows(
        "SELECT schema_name, sequence_name, start_value, last_value, increment_by, min_value, "
        "max_value, cycle FROM duckdb_sequences() "
        "WHERE database_name = current_database() AND NOT temporary ORDER BY ALL"
    ):
        nxt = start if last is None else last + step  # may skip one value, never repeats one
        sequences[f"{schema}.{name}"] = {
            "schema": schema, "name": name, "next": int(nxt), "increment": int(step),
            "min": int(low), "max": int(high), "cycle": bool(cycle),
        }  # fmt: skip
    views: dict[str, Any] = {}
    for schema, name in store.rows(
        "SELECT schema_name, view_name FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal AND NOT temporary ORDER BY ALL"
    ):
        obj = name.removeprefix("golden_")
        golden = schema == "id" and name != obj and f"id._golden_{obj}" in tables
        views[f"{schema}.{name}"] = {"golden": obj} if golden else None
    return {"format": FORMAT, "tables": tables, "sequences": sequences, "views": views}


def _constant(default: str, key: str, column: str) -> bool | int | float | str:
    """A column default that is a constant (``'text'``, a number, ``CAST('f' AS BOOLEAN)``)."""
    text = default.strip()
    if text.startswith("CAST(") and text.upper().endswith(" AS BOOLEAN)"):
        flag = text[5 : -len(" AS BOOLEAN)")].strip().strip("'").lower()
        if flag in ("t", "true", "f", "false"):
            return flag.startswith("t")
    if len(text) >= 2 and text[0] == text[-1] == "'" and "'" not in text[1:-1].replace("''", ""):
        return text[1:-1].replace("''", "'")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise _undescribable(key, f"the default {text!r} of column {column!r}") from None


def _undescribable(key: str, what: str) -> GovernanceError:
    return GovernanceError(
        f"The table {key} has {what}, which a backup cannot describe (restore creates tables "
        "from plain types, keys and constant defaults, never from SQL).",
        where=key,
        fix="Drop it if you added it to the warehouse yourself; otherwise report this.",
    )


def _file_names(tables: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for i, key in enumerate(sorted(tables), 1):
        name = key.replace(".", "_") + ".parquet"
        if not FILE_NAME.match(name) or ".." in name or name in names.values():
            name = f"table_{i:04d}.parquet"
        names[key] = name
    return names


def _copy_sql(spec: dict[str, Any], path: Path) -> str:
    """COPY of one table to Parquet; (U)HUGEINT values go as text (Parquet would round them
    to doubles) and come back as numbers when restore inserts them."""
    cols = []
    for name, kind in spec["columns"]:
        col = quote_ident(name)
        cols.append(f"CAST({col} AS VARCHAR) AS {col}" if "HUGEINT" in kind else col)
    source = table(spec["schema"], spec["name"])
    target = quote_literal(str(path))  # COPY takes no bound parameters
    return f"COPY (SELECT {', '.join(cols)} FROM {source}) TO {target} (FORMAT parquet)"


# -- checking a backup -------------------------------------------------------------------------
def check_backup(folder: Path) -> Manifest:
    """The checked manifest of ``folder`` after comparing every file it lists with its
    checksum; raises naming the damage or the first missing or changed file."""
    folder = folder.resolve()
    manifest = read(folder)
    for name, (sha, size) in sorted(manifest.files.items()):
        file = folder / name
        if file.is_symlink() or not file.is_file():
            raise GovernanceError(
                f"The backup file {name} is missing.",
                where=str(file),
                fix="Use an intact backup; nothing was replaced.",
            )
        if file.stat().st_size != size or sha256_of(file) != sha:
            raise GovernanceError(
                f"The backup file {name} does not match its checksum (it was changed or is "
                "damaged).",
                where=str(file),
                fix="Use another backup; nothing was replaced.",
            )
    return manifest


# -- restore -----------------------------------------------------------------------------------
def restore(project: Project, folder: Path, *, force: bool = False) -> RestoreResult:
    """Replace the project's warehouse by the backup in ``folder`` (see the module doc).

    ``force`` restores a backup of another project. Erasures made after the backup (kept in
    the project's tombstone file) are applied again; :attr:`RestoreResult.warnings` says so.
    """
    folder = folder.resolve()
    manifest = check_backup(folder)
    _check_identity(project, manifest, force)
    target = project.warehouse_path
    target.parent.mkdir(parents=True, exist_ok=True)
    # the writer lock on the current warehouse from first to last: no erasure, load or run
    # can commit to it meanwhile and then be lost in the .bak (refused while in use)
    held, damaged = None, None
    try:
        held = Store(target) if target.exists() else None
    except WarehouseError as exc:
        if not exc.damaged:  # in use, or of a newer Workbench: refused
            raise
        damaged = exc.what  # what restoring is for; no process can have it open
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    staged = target.with_name(f".{target.name}.restore-{os.getpid()}")
    wal = staged.with_name(staged.name + ".wal")
    staged.unlink(missing_ok=True)
    wal.unlink(missing_ok=True)
    try:
        if held is not None:
            tombstones.sync(project, held)  # its erasures stay known after the restore
        restored, warnings = build(staged, manifest, folder, project)
        with Store(staged) as store:  # migrated to this code's schema as it opens
            realign_sequences(store)  # run ids go on past the restored ones
            again = reapply(project, store)
            tombstones.sync(project, store)
            if again.tombstones:
                _compact(store)
            store.execute("CHECKPOINT")
        replaced = None
        if held is not None or damaged is not None:
            if held is not None:
                held.execute("CHECKPOINT")  # nothing left in its WAL: the lock is all it holds
            replaced = target.with_name(f"{target.name}.{stamp}.bak")
            target.rename(replaced)  # POSIX: the open connection keeps the renamed file
            old_wal = target.with_name(target.name + ".wal")
            if old_wal.exists():
                old_wal.rename(replaced.with_name(replaced.name + ".wal"))
        staged.rename(target)
    finally:
        if held is not None:
            held.close()
        staged.unlink(missing_ok=True)
        wal.unlink(missing_ok=True)
    if again.tombstones:
        ids = ", ".join(str(t) for t in again.tombstones)
        warnings.insert(
            0,
            f"{len(again.tombstones)} erasure(s) made after this backup were re-applied "
            f"(tombstone {ids}); {sum(again.rows.values())} row(s) removed.",
        )
    warnings += again.warnings
    if damaged is not None:
        warnings.insert(
            0,
            f"The replaced warehouse could not be opened ({damaged}); it is kept as "
            f"{replaced}; the erasures made since the backup were taken from the project's "
            "tombstone file only.",
        )
    with open_store(project) as store:
        details = {
            "folder": str(folder),
            "backup_created_at": manifest.created_at,
            "replaced": str(replaced),
            "forced": force,
            "erasures_reapplied": again.tombstones,
            "rows_removed": again.rows,
        }
        audit.record(store, "restore", details, project=project)
    rows = sum(int(t["rows"]) for t in restored.values())
    return RestoreResult(target, replaced, len(restored), rows, again.tombstones, warnings)


def _compact(store: Store) -> None:
    """Rewrite the restored file, so that the rows erased again leave no bytes in it."""
    try:
        compact(store)
    except GovernanceError as exc:
        raise GovernanceError(
            "The restored warehouse could not be rewritten after the erasures made since the "
            f"backup were applied again ({exc.what}).",
            where=str(store.path),
            fix="Free disk space for a second copy of the warehouse and run the restore "
            "again; nothing was replaced.",
        ) from None


def _check_identity(project: Project, manifest: Manifest, force: bool) -> None:
    mine = project_id(project, create=False)
    if mine == manifest.project_id:
        return
    if mine is None and not project.warehouse_path.exists():
        _write_id(project, manifest.project_id)  # a project set up again from its backup
        return
    if force:
        project_id(project, create=True)
        return
    theirs = manifest.project_id[:8]
    raise GovernanceError(
        f"This backup is of another project (id {theirs}..., this project's is "
        f"{(mine or 'not yet set')[:12]}): restoring it would replace this project's "
        "warehouse with another project's data.",
        where=str(manifest.path),
        fix="Restore it into the project it was taken from; if this is that project set up "
        "again, pass --force.",
    )
