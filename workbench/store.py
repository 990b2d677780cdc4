"""The warehouse: one DuckDB file, its schemas, transactions and identifier quoting.

A :class:`Store` owns the connection. Pipeline stages receive it as an argument and keep
their tables in a DuckDB schema named after the stage (:data:`SCHEMAS`):

``raw``   the exports as read, all text, with lineage (one table per source)
``stg``   the mapped, typed canonical records of the current snapshots (one table per object)
``core``  the standardized records that passed validation (one table per object)
``quar``  rows set aside, at ingest or by validation, with the reason
``meta``  the load ledger, audit trail, settings, tombstones, report runs
``dq``    data-quality metrics and reconciliation per validation run
``id``    identity resolution: members, runs, pairs, review queue and decisions, golden records
``kpi``   KPI values, baselines and comparisons per run
``roi``   ROI runs, value drivers and cash flows

The fixed-shape tables of those schemas (everything but ``raw``, ``stg`` and ``core``
tables and golden records, whose shape follows the exports and the dictionary) and the
run-id sequences are defined once, in :mod:`workbench.schema`; a writable Store applies its
pending migrations when it opens (``meta.schema_version`` records them) and refuses a
warehouse written by a newer Workbench. A read-only Store never migrates.

**The only door.** Every connection to the warehouse file is a Store's. Other DuckDB
connections in the package are private in-memory databases that never see the warehouse:
Splink's (:mod:`workbench.resolve.engine`, :mod:`workbench.resolve.entities`), the checkers
of expressions and formats (:mod:`workbench.kpi.expressions`, :mod:`workbench.formats`,
:mod:`workbench.standardize.rules`), the sampler of :mod:`workbench.dictionary_infer`, and
the benchmarks' own scratch files (:mod:`workbench.bench`).

A :class:`BriefStore` reads like a read-only Store but holds no connection between reads, so
a long-lived reader (a report notebook's kernel) never keeps a writer out while it is idle.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from workbench.errors import WarehouseError
from workbench.schema import upgrade

SCHEMAS = ("raw", "stg", "core", "quar", "meta", "dq", "id", "kpi", "roi")
_LOCK_PID = re.compile(r"PID (\d+)")
# DuckDB's "Could not set lock on file ...: Conflicting lock is held in ... (PID n)"; the word
# only: a corrupt file's "checksum ... in block at location ..." is not a lock
_LOCKED = re.compile(r"\block\b", re.IGNORECASE)
Params = Mapping[str, Any] | Sequence[Any] | None
ROW_GROUP_ROWS = 122_880  # DuckDB's row group: the unit its threads write in parallel


def quote_ident(name: str) -> str:
    """Quote an identifier (table, column) for DuckDB SQL; the only place this is done."""
    if "\x00" in name:
        raise ValueError("identifiers cannot contain NUL bytes")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a text value as a SQL literal, for the one kind of statement that cannot bind
    parameters: a view's definition. Everywhere else values are bound."""
    if "\x00" in value:
        raise ValueError("text values in SQL cannot contain NUL bytes")
    return "'" + value.replace("'", "''") + "'"


def table(schema: str, name: str) -> str:
    """A quoted, schema-qualified table name."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


class Store:
    """An open warehouse.

    Args:
        path: the DuckDB file; created (with its folder) when missing. ``":memory:"`` for
            a throw-away warehouse.
        read_only: open without taking the writer lock.
        memory_limit: DuckDB memory limit such as ``"2GB"``.
        threads: DuckDB worker threads.
        wait: seconds to wait for a warehouse another process holds (0: fail at once with
            "the warehouse is in use by PID ...").
        migrate: apply the pending schema migrations when opened for writing (False only
            for a warehouse being rebuilt table by table, :mod:`workbench.governance.rebuild`).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        threads: int | None = None,
        wait: float | None = None,
        migrate: bool = True,
    ) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None and not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path is not None and read_only and not self.path.exists():
            raise WarehouseError(
                f"The warehouse {self.path} does not exist yet.",
                where=str(self.path),
                fix="Load data first with `workbench ingest` (or `workbench demo`).",
            )
        self.con = _connect(str(path), read_only, wait)
        self._depth = 0
        self._committed: list[Callable[[], None]] = []
        self._options = (read_only, memory_limit, threads)
        self._migrate = migrate
        self._configure()

    def _configure(self) -> None:
        read_only, memory_limit, threads = self._options
        self.execute("SET TimeZone = 'UTC'")
        self.execute("SET enable_progress_bar = false")
        if memory_limit:
            self.execute("SET memory_limit = $v", {"v": memory_limit})
        if threads:
            self.execute("SET threads = $v", {"v": threads})
        if not read_only:
            for schema in SCHEMAS:
                self.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
            if self._migrate:
                try:
                    upgrade(self, where=str(self.path or ":memory:"))
                except BaseException:
                    self.con.close()
                    raise

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def reopen(self, *, wait: float = 0) -> None:
        """Close the connection and open the file again with the same settings (after the
        file was replaced on disk, see :mod:`workbench.governance.compact`)."""
        self.con.close()
        assert self.path is not None, "an in-memory warehouse cannot be reopened"
        self.con = _connect(str(self.path), self._options[0], wait)
        self._configure()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def held(self) -> Iterator[Store]:
        """One connection for every statement in the block (``con`` usable inside). A Store
        is always open, so this only matters for a :class:`BriefStore`."""
        yield self

    # -- SQL -------------------------------------------------------------------------------
    def execute(self, sql: str, params: Params = None) -> None:
        """Run one statement with bound parameters (never format values into SQL)."""
        self._run(sql, params).fetchall()

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Run a query and return all its rows."""
        return self._run(sql, params).fetchall()

    def scalar(self, sql: str, params: Params = None) -> Any:
        """Run a query and return the first column of its first row (None if no row)."""
        rows = self._run(sql, params).fetchall()
        return rows[0][0] if rows else None

    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        """Run a query and return its result as a polars DataFrame (timestamps in "UTC")."""
        frame = self._run(sql, params).pl()  # con.sql(..., params=) is several times slower
        zoned = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
        return frame.with_columns(pl.col(c).dt.convert_time_zone("UTC") for c in zoned)

    def arrays(self, sql: str, params: Params = None) -> dict[str, Any]:
        """Run a query and return its columns as numpy arrays (cheapest for numeric work)."""
        return dict(self._run(sql, params).fetchnumpy())

    @contextmanager
    def registered(self, name: str, frame: pl.DataFrame) -> Iterator[str]:
        """``frame`` readable as the view ``name`` within the block (see ``arrow_batches``)."""
        self.con.register(name, arrow_batches(frame))
        try:
            yield name
        finally:
            self.con.unregister(name)

    def _run(self, sql: str, params: Params) -> duckdb.DuckDBPyConnection:
        try:
            return self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        except RuntimeError as exc:
            # Ctrl-C during a statement: DuckDB's client raises RuntimeError('Query
            # interrupted') from the KeyboardInterrupt; it stays the interruption it is (not
            # a bug a caller records as 'failed'; a COMMIT it interrupted may have completed)
            if isinstance(exc.__cause__, KeyboardInterrupt):
                raise KeyboardInterrupt from exc
            raise

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All statements inside commit together or not at all (nesting joins the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth, self._committed = 0, []
            self.execute("ROLLBACK")
            raise
        self._depth = 0
        try:
            self.execute("COMMIT")
        finally:
            done, self._committed = self._committed, []
        for callback in done:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the outermost transaction has committed (at once when
        none is open); never when it rolls back."""
        if self._depth:
            self._committed.append(callback)
        else:
            callback()

    # -- catalog ---------------------------------------------------------------------------
    def table_exists(self, schema: str, name: str, *, views: bool = True) -> bool:
        """Whether ``schema.name`` exists (as a table, or with ``views`` also as a view)."""
        kinds = ["BASE TABLE", "VIEW"] if views else ["BASE TABLE"]
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = $s AND table_name = $n AND list_contains($k, table_type)",
                {"s": schema, "n": name, "k": kinds},
            )
        )

    def has_rows(self, schema: str, name: str) -> bool:
        """Whether the table ``schema.name`` exists and holds a row: whether the stage that
        fills a fixed table (made empty by :mod:`workbench.schema`) has run."""
        return self.table_exists(schema, name, views=False) and bool(
            self.scalar(f"SELECT count(*) > 0 FROM {table(schema, name)}")
        )

    def columns(self, schema: str, name: str) -> list[str]:
        return [
            r[0]
            for r in self.rows(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = $s AND table_name = $n ORDER BY ordinal_position",
                {"s": schema, "n": name},
            )
        ]

    def tables(self, schema: str) -> list[str]:
        return [
            r[0]
            for r in self.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $s "
                "ORDER BY table_name",
                {"s": schema},
            )
        ]


class BriefStore(Store):
    """A read-only warehouse that is open only while it is read.

    Every read (``frame``, ``rows``, ``scalar``, ``arrays``, ``table_exists``, ...) opens the
    file read-only, runs and closes it again, so between reads nothing holds DuckDB's lock
    and a writer (``workbench resolve``, ``review decide``) can open the warehouse. Opening
    costs some 40 ms (DuckDB reads the catalog), so reads that come in a burst share one
    connection inside :meth:`held`, closed when the block ends. ``con`` exists only there.

    Pass it wherever a read-only :class:`Store` is read; ``execute`` runs too (reads, SET),
    writing fails as on any read-only connection.
    """

    def __init__(
        self, path: Path | str, *, memory_limit: str | None = None, threads: int | None = None
    ) -> None:
        self.path = self.file = Path(path)
        if not self.file.exists():
            raise WarehouseError(
                f"The warehouse {self.file} does not exist yet.",
                where=str(self.file),
                fix="Load data first with `workbench ingest` (or `workbench demo`).",
            )
        self.memory_limit, self.threads = memory_limit, threads
        self._open: Store | None = None
        self._users = 0  # reads and held() blocks under way
        self._depth = 0

    @property
    def con(self) -> duckdb.DuckDBPyConnection:  # type: ignore[override]  # never assigned
        """The connection of the enclosing :meth:`held` block (opened at first use)."""
        if not self._users:
            raise RuntimeError("BriefStore.con is only open inside `with store.held():`")
        return self._store().con

    @property
    def is_open(self) -> bool:
        """Whether a connection is open now (only during a read or a :meth:`held` block)."""
        return self._open is not None

    @contextmanager
    def held(self) -> Iterator[Store]:
        """Every read in the block shares one connection, opened at the first read and
        closed when the outermost block ends (blocks nest)."""
        self._users += 1
        try:
            yield self
        finally:
            self._users -= 1
            if not self._users and self._open is not None:
                store, self._open = self._open, None
                store.close()

    def close(self) -> None:
        """Nothing stays open between reads; closing is only needed inside :meth:`held`."""

    def _store(self) -> Store:
        if self._open is None:
            self._open = Store(
                self.file, read_only=True, memory_limit=self.memory_limit, threads=self.threads
            )
        return self._open

    def execute(self, sql: str, params: Params = None) -> None:
        with self.held():
            self._store().execute(sql, params)

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        with self.held():
            return self._store().rows(sql, params)

    def scalar(self, sql: str, params: Params = None) -> Any:
        with self.held():
            return self._store().scalar(sql, params)

    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        with self.held():
            return self._store().frame(sql, params)

    def arrays(self, sql: str, params: Params = None) -> dict[str, Any]:
        with self.held():
            return self._store().arrays(sql, params)

    @contextmanager
    def registered(self, name: str, frame: pl.DataFrame) -> Iterator[str]:
        with self.held(), self._store().registered(name, frame) as view:
            yield view

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One snapshot for every read in the block (a read-only transaction)."""
        with self.held(), self._store().transaction():
            yield self


def arrow_batches(frame: pl.DataFrame) -> pa.Table:
    """``frame`` as Arrow in batches of one row group. DuckDB gives each thread a batch of
    its own to read: a frame in one piece is read, and inserted, on one thread (1M members
    in 1.15 s; in batches 0.65 s on two threads). No data is copied."""
    arrow = frame.to_arrow()
    return pa.Table.from_batches(arrow.to_batches(max_chunksize=ROW_GROUP_ROWS), arrow.schema)


def _connect(path: str, read_only: bool, wait: float | None) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, retrying for up to ``wait`` seconds while another process
    holds its lock (DuckDB allows one writer process, or any number of readers).

    ``wait`` is None when the caller offers no ``--wait`` option (then the error does not
    suggest one), a number of seconds (0: do not wait) when it does."""
    deadline = time.monotonic() + (wait or 0)
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            locked = _LOCKED.search(str(exc)) is not None
            if not locked or time.monotonic() >= deadline:
                raise _open_error(Path(path), exc, wait or 0, can_wait=wait is not None) from exc
            time.sleep(min(0.2, max(deadline - time.monotonic(), 0.01)))


def _open_error(
    path: Path, exc: Exception, waited: float = 0, *, can_wait: bool = False
) -> WarehouseError:
    """``can_wait``: the command has a --wait option, so the fix may suggest it."""
    text = str(exc)
    if _LOCKED.search(text):
        pid = _LOCK_PID.search(text)
        who = f"by PID {pid.group(1)}" if pid else "by another process"
        after = f" (waited {waited:g} s)" if waited else ""
        return WarehouseError(
            f"The warehouse is in use {who}{after}: another workbench command (or a notebook) "
            "has it open.",
            where=str(path),
            fix="Wait for the other command to finish and run this one again"
            + (", or pass --wait SECONDS to wait for it." if can_wait else "."),
        )
    if "permission denied" in text.lower() or "read-only file system" in text.lower():
        return WarehouseError(
            f"The warehouse cannot be opened: {text.splitlines()[0]}",
            where=str(path),
            fix="Make the file and its folder writable (DuckDB writes a .wal file beside it), "
            "or run the command as a user who may write them.",
        )
    error = WarehouseError(
        f"The warehouse cannot be opened: {text.splitlines()[0]}",
        where=str(path),
        fix="Check the path in workbench.yaml (key 'warehouse'); if the file is damaged, "
        "`workbench restore BACKUP_DIR` replaces it (keeping it as a .bak file).",
    )
    error.damaged = True
    return error


def open_store(project: Any, *, read_only: bool = False, wait: float | None = None) -> Store:
    """Open the warehouse of a loaded project with its DuckDB settings.

    ``wait``: seconds to wait for the warehouse while another process holds it; None (the
    default) for callers without a ``--wait`` option, whose lock error then suggests none.
    """
    settings = project.config.duckdb
    return Store(
        project.warehouse_path,
        read_only=read_only,
        memory_limit=settings.memory_limit,
        threads=settings.threads,
        wait=wait,
    )


def brief_store(project: Any) -> BriefStore:
    """The warehouse of a loaded project for reading without holding it (see
    :class:`BriefStore`), with the project's DuckDB settings."""
    settings = project.config.duckdb
    return BriefStore(
        project.warehouse_path, memory_limit=settings.memory_limit, threads=settings.threads
    )
