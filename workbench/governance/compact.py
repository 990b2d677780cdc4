"""Compaction: rewrite the warehouse into a fresh file, so that rows deleted from it (an
erased person's) leave no bytes behind.

DuckDB deletes rows logically: after ``DELETE`` and even after ``CHECKPOINT`` the values stay
in the file's blocks (a checkpoint reclaims whole row groups at best, and ``VACUUM`` does
not reclaim space at all; tested on DuckDB 1.5: an erased address is still found by
``grep -a`` in ``warehouse.duckdb``). DuckDB's documented way to compact is to copy the
database into a new file. :func:`compact` does that while holding the warehouse's writer
lock:

1. ``CHECKPOINT`` (the WAL is folded into the file and removed), then ``ATTACH`` a new file
   beside the warehouse and ``COPY FROM DATABASE`` into it: tables with their rows, primary
   keys and other constraints, views, and sequences at their current values;
2. compare the two: every table with its columns and row count, sequences, constraints,
   views and indexes must match, or the copy is removed and nothing is replaced;
3. swap: the new file is renamed over the warehouse (atomic: a process that opens the path
   finds the old file or the new one, never none) while the old connection still holds
   the lock; the old file stays reachable under a hidden name until the connection is
   closed, is then overwritten with zeros and removed; the store reopens the new file.

What this does not reach: copies outside the warehouse file (backups, ``*.bak`` files kept
by ``workbench restore``, rendered reports and exports, see
:mod:`workbench.governance.outputs` and :mod:`workbench.report.forget`), blocks the file
system itself may keep (a copy-on-write file system or an SSD may not overwrite in place),
and spill files DuckDB writes to ``<warehouse>.tmp/`` only while a query runs and removes
afterwards.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from workbench.errors import GovernanceError
from workbench.governance.rebuild import catalog
from workbench.store import BriefStore, Store, quote_ident, quote_literal

ALIAS = "wb_compacted"
REOPEN_WAIT = 30.0  # seconds to wait for the new file if another process opened it first


@dataclass(frozen=True)
class CompactResult:
    """A rewritten warehouse: its size before (file and WAL) and after, what it holds."""

    path: Path
    bytes_before: int
    bytes_after: int
    tables: int
    rows: int
    zeroed: bool  # the old file was overwritten with zeros before it was removed


def wal_of(path: Path) -> Path:
    """The write-ahead log DuckDB keeps beside a database file."""
    return path.with_name(path.name + ".wal")


def compact(store: Store, *, reopen_wait: float = REOPEN_WAIT) -> CompactResult:
    """Rewrite the warehouse ``store`` has open into a fresh file and put it in its place
    (see the module doc); ``store`` is open on the new file afterwards.

    Raises:
        GovernanceError: ``store`` is read-only, in memory or inside a transaction, or the
            copy does not match the warehouse (nothing is replaced then).
    """
    path = _checked(store)
    fresh = path.with_name(f".{path.name}.compact-{os.getpid()}")
    for leftover in path.parent.glob(f".{path.name}.compact-*"):
        leftover.unlink()  # of a compaction that was interrupted (we hold the lock)
    for leftover in path.parent.glob(f".{path.name}.replaced-*"):
        _remove_old(leftover, path)
    store.execute("CHECKPOINT")
    before = _size(path) + _size(wal_of(path))
    try:
        shape = _copy(store, fresh)
    except BaseException as exc:
        fresh.unlink(missing_ok=True)
        wal_of(fresh).unlink(missing_ok=True)
        if isinstance(exc, duckdb.Error):
            raise _not_replaced(path, f"the copy failed: {str(exc).splitlines()[0]}") from exc
        raise
    if wal_of(path).exists():  # the new file would be opened with the old file's log
        fresh.unlink(missing_ok=True)
        raise _not_replaced(path, "its write-ahead log was written to during the copy")
    aside = path.with_name(f".{path.name}.replaced-{os.getpid()}")
    try:
        os.link(path, aside)  # the old file, reachable after the swap to zero it
        linked = True
    except OSError:  # a file system without hard links: the old file is only removed
        linked = False
    os.replace(fresh, path)
    try:
        store.reopen(wait=reopen_wait)  # closes the old file's connection, opens the new one
    finally:
        zeroed = linked and _remove_old(aside, path)
    rows = sum(t["rows"] for t in shape["tables"].values())
    return CompactResult(path, before, _size(path), len(shape["tables"]), rows, zeroed)


def _checked(store: Store) -> Path:
    """The warehouse file, if ``store`` may be compacted now."""
    where = "the warehouse"
    if isinstance(store, BriefStore) or store.path is None:
        raise GovernanceError(
            "Only a warehouse file opened for writing can be compacted.",
            where=where,
            fix="Open it with open_store(project) (not read-only, not in memory).",
        )
    if store._depth:  # a copy inside a transaction would miss what it has not committed
        raise GovernanceError(
            "The warehouse cannot be compacted inside a transaction.",
            where=str(store.path),
            fix="Compact after the transaction has committed.",
        )
    if store.scalar("SELECT current_setting('access_mode')") == "read_only":
        raise GovernanceError(
            "A warehouse opened read-only cannot be compacted.",
            where=str(store.path),
            fix="Open it with open_store(project) for writing.",
        )
    others = int(store.scalar("SELECT count FROM duckdb_connection_count()")) - 1
    if others:  # they would go on writing to the old file once it is replaced
        raise GovernanceError(
            f"{others} other connection(s) of this process have the warehouse open; it can "
            "only be rewritten through the one connection that holds it.",
            where=str(store.path),
            fix="Close the other connections (stores, cursors) first.",
        )
    return store.path.resolve()


def _copy(store: Store, fresh: Path) -> dict[str, Any]:
    """Copy the warehouse into ``fresh`` and check the copy; returns the copy's shape."""
    source = str(store.scalar("SELECT current_database()"))
    store.execute(f"ATTACH {quote_literal(str(fresh))} AS {ALIAS}")
    try:
        store.execute(f"COPY FROM DATABASE {quote_ident(source)} TO {ALIAS}")
        store.execute(f"CHECKPOINT {ALIAS}")
        old, new = _shape(store, source), _shape(store, ALIAS)
    finally:
        store.execute(f"USE {quote_ident(source)}")
        store.execute(f"DETACH {ALIAS}")
    for part in ("tables", "sequences", "constraints", "views", "indexes"):
        if old[part] != new[part]:
            differ = sorted(
                k
                for k in old[part].keys() | new[part].keys()
                if old[part].get(k) != new[part].get(k)
            )
            raise _not_replaced(
                store.path, f"the copy does not match it ({part} differ: {', '.join(differ[:5])})"
            )
    return new


def _not_replaced(path: Path | None, why: str) -> GovernanceError:
    return GovernanceError(
        f"The warehouse could not be rewritten into a fresh file: {why}. Nothing was "
        "replaced: rows deleted from it (an erasure's) are gone from its tables, but their "
        "bytes may remain in the file.",
        where=str(path),
        fix="Run `workbench erase --compact-only` to try again (free disk space for a second "
        f"copy of the warehouse first); if it fails the same way, report it with DuckDB "
        f"{duckdb.__version__}.",
    )


def _shape(store: Store, database: str) -> dict[str, dict[str, Any]]:
    """What must survive a copy: tables (columns, rows), sequences with their values,
    constraints, views and indexes, of ``database``."""
    store.execute(f"USE {quote_ident(database)}")
    d = {"d": database}

    def keyed(sql: str) -> dict[str, Any]:
        return {f"{r[0]}.{r[1]}": list(r[2:]) for r in store.rows(sql, d)}

    return {
        "tables": catalog(store),
        "sequences": keyed(
            "SELECT schema_name, sequence_name, start_value, min_value, max_value, "
            "increment_by, cycle, last_value FROM duckdb_sequences() WHERE database_name = $d"
        ),
        "constraints": keyed(
            "SELECT schema_name, table_name || ':' || constraint_type || ':' || "
            "list_sort(constraint_column_names)::VARCHAR, count(*) "
            "FROM duckdb_constraints() WHERE database_name = $d GROUP BY ALL"
        ),
        "views": keyed(
            "SELECT schema_name, view_name, sql FROM duckdb_views() "
            "WHERE database_name = $d AND NOT internal"
        ),
        "indexes": keyed(
            "SELECT schema_name, index_name, table_name, sql FROM duckdb_indexes() "
            "WHERE database_name = $d"
        ),
    }


def _remove_old(old: Path, live: Path) -> bool:
    """Remove ``old``, a name of a replaced warehouse file, zeroing its bytes first unless
    it is another name of the ``live`` one (left by a compaction interrupted before its
    swap); returns whether it was zeroed."""
    try:
        same = os.path.samefile(old, live)
    except OSError:
        same = False
    zeroed = not same and _zero(old)
    old.unlink(missing_ok=True)
    return zeroed


def _zero(path: Path) -> bool:
    """Overwrite the file with zeros (and sync it)."""
    block = bytes(1 << 20)
    try:
        with path.open("r+b") as handle:
            left = path.stat().st_size
            while left > 0:
                left -= handle.write(block[: min(left, len(block))])
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        return False
    return True


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0
