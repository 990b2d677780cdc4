"""The audit trail: an append-only, hash-chained log of every action that changes data or
shows it (loads, validation, resolution, review decisions, reports, unmasked views,
erasures, retention, backups, restores, configuration changes).

Each entry of ``meta.audit`` carries the sha256 of the previous entry's hash and its own
canonical JSON (:func:`entry_hash`), so editing or deleting an entry breaks the chain from
that point on; :func:`verify` walks it and says which entry is wrong and how. The newest
entry's id and hash are also kept in ``meta.settings`` (key ``audit_head``), so removing
the last entries is noticed too. Entries hold ids, counts and parameters, never personal
values: an erased person's data must not survive in the trail.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from workbench.errors import WarehouseError
from workbench.store import Store, open_store

if TYPE_CHECKING:
    from workbench.config import Project

GENESIS = "0" * 64
DDL = (
    """CREATE TABLE IF NOT EXISTS meta.audit (
        entry_id BIGINT PRIMARY KEY, recorded_at TIMESTAMPTZ NOT NULL, action VARCHAR NOT NULL,
        actor VARCHAR, config_sha256 VARCHAR, details VARCHAR NOT NULL,
        prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS meta.settings (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
)
HEAD_KEY = "audit_head"


@dataclass(frozen=True)
class Problem:
    """One break in the chain: the entry concerned and what is wrong with it."""

    entry_id: int
    what: str


def ensure_audit(store: Store) -> None:
    for statement in DDL:
        store.execute(statement)


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, dates and paths as text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """sha256 over the previous hash and the entry's canonical JSON (without its hash)."""
    return hashlib.sha256((prev_hash + canonical(entry)).encode()).hexdigest()


def _entry(
    entry_id: int, at: datetime, action: str, actor: str | None, config: str | None, details: str
) -> dict[str, Any]:
    return {
        "entry_id": entry_id,
        "recorded_at": at.astimezone(UTC).isoformat(),
        "action": action,
        "actor": actor,
        "config_sha256": config,
        "details": details,
    }


def _actor() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in containers without a passwd entry
        return None


def record(store: Store, action: str, details: dict[str, Any], *, project: Project) -> int:
    """Append an entry (in the caller's transaction when there is one); returns its id.

    When the project's configuration differs from the one the previous entry was made
    under, a ``config_changed`` entry (old and new sha256) is appended first.
    """
    with store.transaction():
        ensure_audit(store)
        last = store.rows(
            "SELECT entry_id, hash, config_sha256 FROM meta.audit ORDER BY entry_id DESC LIMIT 1"
        )
        entry_id, prev, config = (
            (int(last[0][0]), last[0][1], last[0][2]) if last else (0, GENESIS, None)
        )
        if config != project.config_sha256:
            change = {"from": config, "to": project.config_sha256, "file": "workbench.yaml"}
            entry_id, prev = _append(store, entry_id + 1, prev, "config_changed", change, project)
        entry_id, prev = _append(store, entry_id + 1, prev, action, details, project)
        store.execute(
            "INSERT OR REPLACE INTO meta.settings VALUES ($k, $v)",
            {"k": HEAD_KEY, "v": f"{entry_id}:{prev}"},
        )
    return entry_id


def _append(
    store: Store, entry_id: int, prev: str, action: str, details: dict[str, Any], project: Project
) -> tuple[int, str]:
    at = datetime.now(UTC)
    actor = _actor()
    text = canonical(details)
    digest = entry_hash(prev, _entry(entry_id, at, action, actor, project.config_sha256, text))
    store.execute(
        "INSERT INTO meta.audit VALUES ($id, $at, $a, $who, $c, $d, $p, $h)",
        {
            "id": entry_id,
            "at": at,
            "a": action,
            "who": actor,
            "c": project.config_sha256,
            "d": text,
            "p": prev,
            "h": digest,
        },
    )
    return entry_id, digest


def record_now(project: Project, action: str, details: dict[str, Any]) -> int:
    """Open the project's warehouse just to append one entry (for read-only commands such
    as an unmasked listing, which must leave a trace before showing anything)."""
    with open_store(project) as store:
        return record(store, action, details, project=project)


def verify(store: Store) -> tuple[int, list[Problem]]:
    """Walk the chain; returns the number of entries and every problem found."""
    if not store.table_exists("meta", "audit"):
        return 0, []
    rows = store.rows(
        "SELECT entry_id, recorded_at, action, actor, config_sha256, details, prev_hash, hash "
        "FROM meta.audit ORDER BY entry_id"
    )
    problems: list[Problem] = []
    expected_id, prev = 1, GENESIS
    for entry_id, at, action, actor, config, details, prev_hash, digest in rows:
        if entry_id != expected_id:
            missing = (
                f"entry {expected_id} before it is"
                if entry_id == expected_id + 1
                else f"entries {expected_id}-{entry_id - 1} before it are"
            )
            problems.append(Problem(entry_id, f"{missing} missing (deleted)"))
        if prev_hash != prev:
            problems.append(
                Problem(
                    entry_id,
                    "its prev_hash does not match the hash of the entry before it "
                    "(that entry was edited, deleted or inserted)",
                )
            )
        if entry_hash(prev_hash, _entry(entry_id, at, action, actor, config, details)) != digest:
            problems.append(
                Problem(entry_id, "its content does not match its hash (the entry was edited)")
            )
        expected_id, prev = entry_id + 1, digest
    head = store.scalar("SELECT value FROM meta.settings WHERE key = $k", {"k": HEAD_KEY})
    if head is not None:
        head_id, _, head_hash = head.partition(":")
        if int(head_id) != expected_id - 1 or head_hash != prev:
            problems.append(
                Problem(
                    int(head_id),
                    f"the newest entry should be {head_id} with hash "
                    f"{head_hash[:12]}..., but the log ends at {expected_id - 1} "
                    "(entries at the end were deleted or edited)",
                )
            )
    elif rows:
        problems.append(Problem(int(rows[-1][0]), "the audit head in meta.settings is missing"))
    return len(rows), problems


def log(
    store: Store,
    *,
    action: str | None = None,
    since: date | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Entries, newest first, optionally of one action and from a day on."""
    if not store.table_exists("meta", "audit"):
        raise WarehouseError(
            "There is no audit trail yet.",
            where="meta.audit",
            fix="Run a command that changes data (e.g. `workbench ingest`) first.",
        )
    return store.frame(
        """SELECT entry_id, recorded_at, action, actor, details FROM meta.audit
           WHERE ($a IS NULL OR action = $a) AND ($s IS NULL OR recorded_at >= $s::DATE)
           ORDER BY entry_id DESC LIMIT coalesce($n, 9223372036854775807)""",
        {"a": action, "s": since, "n": limit},
    )
