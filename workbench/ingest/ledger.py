"""The load ledger: one row per file load, and which loads are each source's current data.

``meta.loads`` records every load attempt that changed something (loaded or failed) with its
checksum and row counts; ``rows_read = rows_loaded + rows_rejected + rows_suppressed``.
Rows without a value in any column (a spreadsheet's trailing rows of only delimiters, ``{}``
lines) are, like blank lines, not records: ``rows_blank`` counts those a load skipped.
A file is loaded again when its content or the reader options it was read with
(``read_options``) changed. ``is_current`` marks the snapshot later stages read: in
``snapshot`` mode the newest load of the source, in ``append`` mode the newest load of each
file name.

``status`` is ``running`` while a load is under way (committed before its data, so that a
killed process leaves a trace), then ``loaded`` or ``failed``; a ``running`` row found by
the next writer (which holds the warehouse lock, so no load can still be running) becomes
``interrupted``: none of that load's data was committed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbench import schema
from workbench.config import ReaderOptions
from workbench.store import Store, quote_ident


@dataclass(frozen=True)
class LoadRecord:
    """One row of the ledger."""

    load_id: int
    source: str
    file: str
    sha256: str | None
    rows_read: int | None
    rows_loaded: int | None
    rows_rejected: int | None
    status: str
    is_current: bool
    error: str | None
    rows_suppressed: int | None = None
    rows_blank: int | None = None  # rows without any value, skipped (not part of rows_read)


def next_load_id(store: Store) -> int:
    return schema.next_id(store, schema.LOADS)


def find_unchanged(store: Store, source: str, sha256: str, read_options: str) -> int | None:
    """The current load of ``source`` with this exact content, read with the same reader
    options (a load from before they were kept counts as read with them)."""
    value = store.scalar(
        "SELECT max(load_id) FROM meta.loads "
        "WHERE source = $s AND sha256 = $h AND is_current AND status = 'loaded' "
        "AND coalesce(read_options, $o) = $o",
        {"s": source, "h": sha256, "o": read_options},
    )
    return None if value is None else int(value)


def read_options(options: ReaderOptions) -> str:
    """The options that decide how a file's bytes are read into rows (not how values are
    then typed: those re-stage, see :func:`.staging.mapping_fingerprint`), as JSON; a file
    read with others is loaded again. Defaults are left out, so that an option added to
    Workbench does not load every file again."""
    wanted = {"delimiter", "quote", "escape", "encoding", "header", "skip_rows", "sheet",
              "compression", "records"}  # fmt: skip
    return json.dumps(options.model_dump(include=wanted, exclude_defaults=True), sort_keys=True)


def record_load(store: Store, **row: Any) -> None:
    """Insert a ledger row (columns named as in ``meta.loads``)."""
    cols = ", ".join(quote_ident(k) for k in row)
    marks = ", ".join(f"${k}" for k in row)
    store.execute(f"INSERT INTO meta.loads ({cols}) VALUES ({marks})", row)


def finish_load(store: Store, load_id: int, **values: Any) -> None:
    """Complete a 'running' ledger row: its status, counts or error, and its end time."""
    values["ended_at"] = datetime.now().astimezone()
    sets = ", ".join(f"{quote_ident(k)} = ${k}" for k in values)
    store.execute(
        f"UPDATE meta.loads SET {sets} WHERE load_id = $load_id", {**values, "load_id": load_id}
    )


def mark_interrupted(store: Store) -> int:
    """Mark loads left 'running' by a process that ended mid-load; returns how many."""
    count = int(store.scalar("SELECT count(*) FROM meta.loads WHERE status = 'running'"))
    if count:
        store.execute(
            "UPDATE meta.loads SET status = 'interrupted', error = $e WHERE status = 'running'",
            {"e": "The load was interrupted (the process ended before it finished); none of "
                  "its rows were kept. The file is loaded again by the next ingest."},
        )  # fmt: skip
    return count


def make_current(store: Store, load_id: int, source: str, mode: str, file_name: str) -> None:
    """Mark ``load_id`` as current, retiring the load(s) it supersedes."""
    if mode == "snapshot":
        store.execute(
            "UPDATE meta.loads SET is_current = (load_id = $id) WHERE source = $s",
            {"id": load_id, "s": source},
        )
    else:
        store.execute(
            "UPDATE meta.loads SET is_current = (load_id = $id) "
            "WHERE source = $s AND file_name = $f",
            {"id": load_id, "s": source, "f": file_name},
        )


def current_snapshot(store: Store, source: str) -> tuple[str, int] | None:
    """The file name and loaded rows of a snapshot source's current load, if any."""
    rows = store.rows(
        "SELECT file_name, rows_loaded FROM meta.loads WHERE source = $s AND is_current "
        "ORDER BY load_id DESC LIMIT 1",
        {"s": source},
    )
    return (str(rows[0][0]), int(rows[0][1] or 0)) if rows else None


def current_load_ids(store: Store, source: str) -> list[int]:
    rows = store.rows(
        "SELECT load_id FROM meta.loads WHERE source = $s AND is_current ORDER BY load_id",
        {"s": source},
    )
    return [int(r[0]) for r in rows]


def last_loaded(store: Store, objects: list[str]) -> datetime | None:
    """When the source of ``objects`` loaded least recently made its latest current load
    (the earliest, over those sources, of each one's latest): no export of theirs was
    taken later, so none holds rows dated after it. None when none has a current load."""
    return store.scalar(
        "SELECT min(latest) FROM (SELECT max(started_at) AS latest FROM meta.loads "
        "WHERE is_current AND list_contains($o::VARCHAR[], object) GROUP BY source)",
        {"o": objects},
    )


def loaded_since_staged(store: Store, source: str) -> bool:
    """Whether the source has a current load made since it was last staged (or was never
    staged)."""
    return bool(
        store.scalar(
            "SELECT count(*) FROM meta.loads l WHERE l.source = $s AND l.is_current AND "
            "l.started_at >= coalesce((SELECT staged_at FROM meta.staging_state "
            "WHERE source = $s), '-infinity'::TIMESTAMPTZ)",
            {"s": source},
        )
    )


def staging_fingerprint(store: Store, source: str) -> str | None:
    return store.scalar(
        "SELECT fingerprint FROM meta.staging_state WHERE source = $s", {"s": source}
    )


def save_staging_state(store: Store, source: str, fingerprint: str, rows: int) -> None:
    store.execute(
        "INSERT OR REPLACE INTO meta.staging_state VALUES ($s, $f, $r, $t)",
        {"s": source, "f": fingerprint, "r": rows, "t": datetime.now().astimezone()},
    )


def list_loads(store: Store, source: str | None = None) -> list[LoadRecord]:
    """Ledger rows, newest first."""
    # a read-only Store does not migrate: a warehouse from before rows_blank has none
    blank = "rows_blank" if "rows_blank" in store.columns("meta", "loads") else "NULL"
    rows = store.rows(
        "SELECT load_id, source, file, sha256, rows_read, rows_loaded, rows_rejected, status, "
        f"is_current, error, rows_suppressed, {blank} FROM meta.loads "
        "WHERE $s IS NULL OR source = $s ORDER BY load_id DESC",
        {"s": source},
    )
    return [LoadRecord(*r) for r in rows]
