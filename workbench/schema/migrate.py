"""Applying the registry's migrations to a warehouse, and the run-id sequences.

:func:`upgrade` runs when a writable :class:`~workbench.store.Store` opens: it applies the
migrations the warehouse has not had, all in one transaction, and records each in
``meta.schema_version`` (version, when, what). A warehouse recorded at a version above
:data:`~.registry.LATEST` was written by a newer Workbench and is refused. Read-only stores
never migrate.

The functions take any object with the Store's ``execute``, ``scalar``, ``rows`` and
``transaction`` (this package sits below :mod:`workbench.store` in the layers).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from workbench.errors import WarehouseError
from workbench.schema.registry import (
    FIXED_TABLES,
    LATEST,
    MIGRATIONS,
    SEQUENCES,
    VERSION_DDL,
    SequenceSpec,
)


class Executor(Protocol):
    """What migrating needs of a :class:`~workbench.store.Store`."""

    def execute(self, sql: str, params: Any = None) -> None: ...
    def scalar(self, sql: str, params: Any = None) -> Any: ...
    def rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]: ...
    def transaction(self) -> AbstractContextManager[Any]: ...


def schema_version(store: Executor) -> int:
    """The newest migration the warehouse has had (0: none recorded)."""
    known = store.scalar(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'meta' AND table_name = 'schema_version'"
    )
    if not known:
        return 0
    return int(store.scalar("SELECT coalesce(max(version), 0) FROM meta.schema_version"))


def upgrade(store: Executor, *, where: str = "the warehouse") -> list[int]:
    """Apply the pending migrations in one transaction; returns their versions.

    Raises:
        WarehouseError: the warehouse was written by a newer Workbench (its version is
            above the newest this code knows).
    """
    current = schema_version(store)
    if current > LATEST:
        raise WarehouseError(
            f"The warehouse is at schema version {current}, newer than this Workbench knows "
            f"(up to {LATEST}): a newer Workbench wrote it.",
            where=where,
            fix="Upgrade Workbench (pip install --upgrade crm-workbench) to open it; "
            "nothing was changed.",
        )
    if current == LATEST:
        return []
    with store.transaction():
        store.execute(VERSION_DDL)
        current = schema_version(store)  # again: another connection may have migrated
        pending = [m for m in MIGRATIONS if m.version > current]
        for migration in pending:
            for statement in migration.statements:
                store.execute(statement)
            for sequence in migration.sequences:
                store.execute(_create_sequence_sql(sequence, _past_max(store, sequence)))
            store.execute(
                "INSERT INTO meta.schema_version VALUES ($v, $t, $d)",
                {"v": migration.version, "t": datetime.now(UTC), "d": migration.description},
            )
    if current == 0 and pending:  # a warehouse of the layout before the registry: its own
        realign_sequences(store)  # sequences may be behind their tables
    return [m.version for m in pending]


def recreate(store: Executor, *tables: str) -> None:
    """Create these fixed tables (``schema.table``) again if they were dropped, as the
    registry defines them (the audit trail notices and reports a dropped trail)."""
    for name in tables:
        for statement in FIXED_TABLES[name]:
            store.execute(statement)


def next_id(store: Executor, sequence: SequenceSpec) -> int:
    """The next id of a run-id sequence (never handed out twice, even after a rollback)."""
    return int(store.scalar("SELECT nextval($s)", {"s": sequence.name}))


def realign_sequences(store: Executor) -> list[str]:
    """Start every run-id sequence that is behind its table's largest id past it again (a
    warehouse rebuilt from data files); returns the sequences restarted."""
    restarted = []
    for sequence in SEQUENCES:
        schema, name = sequence.name.split(".")
        state = store.rows(
            "SELECT start_value, last_value, increment_by FROM duckdb_sequences() "
            "WHERE database_name = current_database() AND schema_name = $s "
            "AND sequence_name = $n",
            {"s": schema, "n": name},
        )
        if not state or not _table_exists(store, sequence.table):
            continue
        start, last, _ = state[0]
        # DuckDB reports a reloaded sequence's next value as its last one: take the lower
        upcoming = start if last is None else last
        needed = _past_max(store, sequence)
        if upcoming < needed:
            with store.transaction():
                store.execute(f"DROP SEQUENCE {sequence.name}")
                store.execute(_create_sequence_sql(sequence, needed))
            restarted.append(sequence.name)
    return restarted


def _past_max(store: Executor, sequence: SequenceSpec) -> int:
    """One past the largest id the sequence's table holds (1 for an empty table)."""
    return int(
        store.scalar(f"SELECT coalesce(max({sequence.column}), 0) + 1 FROM {sequence.table}")
    )


def _create_sequence_sql(sequence: SequenceSpec, start: int) -> str:
    """DDL takes no parameters: the start is checked to be a positive int, the name is the
    registry's own constant."""
    if not isinstance(start, int) or isinstance(start, bool) or start < 1:
        raise ValueError(f"a sequence starts at a positive integer, not {start!r}")
    return f"CREATE SEQUENCE IF NOT EXISTS {sequence.name} START WITH {start}"


def _table_exists(store: Executor, name: str) -> bool:
    schema, table = name.split(".")
    return bool(
        store.scalar(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = $s AND table_name = $t",
            {"s": schema, "t": table},
        )
    )
