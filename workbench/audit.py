"""The audit trail: an append-only, hash-chained log of every action that changes data or
shows it (loads, validation, resolution, review decisions, reports, unmasked views,
erasures, retention, backups, restores, configuration changes).

Each entry of ``meta.audit`` carries the sha256 of the previous entry's hash and its own
canonical JSON (:func:`entry_hash`), so editing or deleting an entry breaks the chain from
that point on; :func:`verify` walks it and says which entry is wrong and how. The newest
entry's id and hash are also kept in ``meta.settings`` (key ``audit_head``), so removing
the last entries is noticed too. Entries hold ids, counts and parameters, never personal
values: an erased person's data must not survive in the trail.

**A dropped trail.** Dropping ``meta.audit`` (or ``meta.settings``) removes the chain and the
head together, so three things outside the chain notice it:

- the head is also kept outside the warehouse, in ``.workbench/audit_head.json`` of the
  project folder (written once an entry has committed): the trail must still hold that
  entry with that hash;
- the warehouse's own records of commands that write an entry (loads in ``meta.loads``,
  validation runs, resolution runs) must each have their entry, and a warehouse holding such
  records, report runs or tombstones must have a trail at all;
- a command that finds the trail not continuing from either head first appends an
  ``audit_gap`` entry saying so, which :func:`verify` reports for good (a restore, which
  replaces the trail by a backup's, is the one action that may).

:func:`verify` reports each as a problem ("the audit trail was dropped"), never as intact.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from workbench.errors import WarehouseError
from workbench.schema import recreate
from workbench.store import Store, open_store, quote_ident, table

if TYPE_CHECKING:
    from workbench.config import Project

GENESIS = "0" * 64
HEAD_KEY = "audit_head"
HEAD_FILE = Path(".workbench") / "audit_head.json"  # in the project folder
GAP = "audit_gap"  # an entry saying the trail did not continue from its head
# commands that write an entry, and the rows they leave: (action, table, id column, filter)
EVIDENCE = (
    ("load", "meta.loads", "load_id", "status = 'loaded'"),
    ("validate", "meta.validation_runs", "run_id", "true"),
    ("resolve", "id.runs", "run_id", "true"),
)
TRACES = ("meta.loads", "meta.validation_runs", "id.runs", "meta.report_runs", "meta.tombstones")


@dataclass(frozen=True)
class Problem:
    """One break in the chain: the entry concerned (None: the trail as a whole) and what is
    wrong with it."""

    entry_id: int | None
    what: str


def ensure_audit(store: Store) -> None:
    """The trail's tables, made again after they were dropped (a migration made them when
    the warehouse was created; :func:`record` then notes the gap)."""
    recreate(store, "meta.audit", "meta.settings")


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
        had_settings = store.table_exists("meta", "settings", views=False)
        ensure_audit(store)
        last = store.rows(
            "SELECT entry_id, hash, config_sha256 FROM meta.audit ORDER BY entry_id DESC LIMIT 1"
        )
        entry_id, prev, config = (
            (int(last[0][0]), last[0][1], last[0][2]) if last else (0, GENESIS, None)
        )
        gap = _gap(store, project, entry_id, prev, had_settings, restore=action == "restore")
        if gap:
            entry_id, prev = _append(store, entry_id + 1, prev, GAP, gap, project)
        if config != project.config_sha256:
            change = {"from": config, "to": project.config_sha256, "file": "workbench.yaml"}
            entry_id, prev = _append(store, entry_id + 1, prev, "config_changed", change, project)
        entry_id, prev = _append(store, entry_id + 1, prev, action, details, project)
        head = f"{entry_id}:{prev}"
        store.execute(
            "INSERT OR REPLACE INTO meta.settings VALUES ($k, $v)", {"k": HEAD_KEY, "v": head}
        )
        store.after_commit(lambda: _write_head(project, head))
    return entry_id


def _gap(
    store: Store,
    project: Project,
    last_id: int,
    last_hash: str,
    had_settings: bool,
    *,
    restore: bool,
) -> dict[str, Any] | None:
    """Why the trail does not continue from its heads (None when it does): the head in
    meta.settings and the one kept in the project folder must name the newest entry."""
    found = f"{last_id}:{last_hash}" if last_id else "no entries"
    why: list[str] = []
    if not had_settings and last_id:
        why.append("meta.settings, which keeps the audit head, was dropped")
    elif had_settings:
        head = store.scalar("SELECT value FROM meta.settings WHERE key = $k", {"k": HEAD_KEY})
        if head is None and last_id:
            why.append("the audit head in meta.settings was removed")
        elif head is not None and head != f"{last_id}:{last_hash}":
            why.append(f"meta.settings says the newest entry is {_short(head)}")
    kept = read_head(project)
    if kept is not None and not restore and not _holds(store, kept, last_id):
        why.append(f"{HEAD_FILE} says entry {_short(kept)} was written")
    if not why:
        return None
    return {"found": _short(found) if last_id else found, "why": why}


def _holds(store: Store, head: str, last_id: int) -> bool:
    """Whether the trail holds the entry ``head`` (``id:hash``) names, with that hash."""
    entry, _, digest = head.partition(":")
    if not entry.isdigit() or int(entry) > last_id:
        return False
    found = store.scalar("SELECT hash FROM meta.audit WHERE entry_id = $i", {"i": int(entry)})
    return bool(found == digest)


def _short(head: str) -> str:
    entry, _, digest = head.partition(":")
    return f"{entry} (hash {digest[:12]}...)" if digest else head


def head_path(project: Project) -> Path:
    """The file in the project folder that keeps the newest entry's id and hash."""
    return project.root / HEAD_FILE


def read_head(project: Project) -> str | None:
    """The head (``id:hash``) kept in the project folder for the project's warehouse, if any
    (a file naming another warehouse, or unreadable, counts as none)."""
    try:
        kept = json.loads(head_path(project).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("warehouse") != str(project.config.warehouse):
        return None
    head = kept.get("head")
    return head if isinstance(head, str) else None


def _write_head(project: Project, head: str) -> None:
    """Keep ``head`` in the project folder (replacing the file whole). A folder that cannot
    be written only weakens the check: the head in meta.settings still counts."""
    path = head_path(project)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(
            json.dumps({"warehouse": str(project.config.warehouse), "head": head}) + "\n",
            encoding="utf-8",
        )
        tmp.replace(path)
    except OSError:
        pass


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


def record_now(project: Project, action: str, details: dict[str, Any], *, wait: float = 0) -> int:
    """Open the project's warehouse just to append one entry (for read-only commands such
    as an unmasked listing, which must leave a trace before showing anything); ``wait``:
    seconds to wait while another process holds the warehouse."""
    with open_store(project, wait=wait) as store:
        return record(store, action, details, project=project)


def verify(store: Store, project: Project | None = None) -> tuple[int, list[Problem]]:
    """Walk the chain; returns the number of entries and every problem found.

    Besides edited, deleted or inserted entries, a dropped trail is a problem (see the
    module doc): ``meta.audit`` or ``meta.settings`` missing, records of commands without
    their entries, ``audit_gap`` entries, and, given the ``project``, a trail that no longer
    holds the head kept in its folder.
    """
    kept = read_head(project) if project is not None else None
    if not store.table_exists("meta", "audit"):
        return 0, _dropped(store, "meta.audit does not exist", kept)
    rows = store.rows(
        "SELECT entry_id, recorded_at, action, actor, config_sha256, details, prev_hash, hash "
        "FROM meta.audit ORDER BY entry_id"
    )
    if not rows:
        return 0, _dropped(store, "meta.audit is empty", kept)
    problems = _walk(rows)
    last_id, last_hash = int(rows[-1][0]), rows[-1][7]
    if not store.table_exists("meta", "settings"):
        problems.append(
            Problem(
                None,
                "the audit trail was dropped in part: meta.settings, which keeps "
                "the audit head, does not exist",
            )
        )
    else:
        head = store.scalar("SELECT value FROM meta.settings WHERE key = $k", {"k": HEAD_KEY})
        problems += _head_problems(head, last_id, last_hash)
    if kept is not None and not _holds(store, kept, last_id):
        problems.append(
            Problem(
                None,
                f"the audit trail was dropped or cut short: {HEAD_FILE} in the "
                f"project folder says entry {_short(kept)} was written, and the trail "
                f"(ending at entry {last_id}) does not hold it",
            )
        )
    for row in rows:
        if row[2] == GAP:
            gap = details_of(row[5])
            problems.append(
                Problem(
                    int(row[0]),
                    "the trail did not continue from its head when this "
                    f"entry was written ({'; '.join(gap.get('why', []))}; the trail then "
                    f"ended at {gap.get('found')}): entries were deleted or the trail was "
                    "dropped before it",
                )
            )
    problems += _unrecorded(store, rows)
    return len(rows), problems


def _walk(rows: list[tuple[Any, ...]]) -> list[Problem]:
    """Edited, deleted or inserted entries: ids in sequence, each linked to and hashed over
    the one before."""
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
    return problems


def _head_problems(head: str | None, last_id: int, last_hash: str) -> list[Problem]:
    if head is None:
        return [Problem(last_id, "the audit head in meta.settings is missing")]
    head_id, _, head_hash = head.partition(":")
    if head_id.isdigit() and int(head_id) == last_id and head_hash == last_hash:
        return []
    return [
        Problem(
            int(head_id) if head_id.isdigit() else None,
            f"the newest entry should be {head_id} with hash {head_hash[:12]}..., but the log "
            f"ends at {last_id} (entries at the end were deleted or edited)",
        )
    ]


def _dropped(store: Store, why: str, kept: str | None) -> list[Problem]:
    """The problem of a warehouse without entries, if anything says it had some."""
    signs = [f"{n:,} row(s) in {name}" for name, n in _traces(store).items() if n]
    if kept is not None:
        signs.append(f"{HEAD_FILE} in the project folder says entry {_short(kept)} was written")
    if not signs:
        return []
    return [Problem(None, f"the audit trail was dropped: {why}, but {'; '.join(signs)}")]


def _traces(store: Store) -> dict[str, int]:
    """Rows of the tables that only commands which write an entry fill."""
    out = {}
    for name in TRACES:
        schema, table_name = name.split(".")
        if store.table_exists(schema, table_name, views=False):
            out[name] = int(store.scalar(f"SELECT count(*) FROM {table(schema, table_name)}"))
    return out


def details_of(text: str) -> dict[str, Any]:
    """An entry's details as a dict; ``{}`` when they are not a JSON object (an edited
    entry: its hash no longer matches, which :func:`verify` reports on its own)."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def entries(store: Store, action: str) -> list[tuple[datetime, dict[str, Any]]]:
    """When and with what details each entry of ``action`` was recorded, oldest first (none
    when there is no trail)."""
    if not store.table_exists("meta", "audit"):
        return []
    sql = "SELECT recorded_at, details FROM meta.audit WHERE action = $a ORDER BY entry_id"
    return [(at, details_of(text)) for at, text in store.rows(sql, {"a": action})]


def latest_entry(store: Store, actions: list[str]) -> int:
    """The id of the newest entry of one of ``actions`` (0 when there is none): a cheap
    way for a long-lived reader to tell that the data changed since it last looked."""
    if not store.table_exists("meta", "audit"):
        return 0
    newest = store.scalar(
        "SELECT coalesce(max(entry_id), 0) FROM meta.audit WHERE list_contains($a, action)",
        {"a": actions},
    )
    return int(newest or 0)


def latest_of_object(store: Store, action: str, obj: str) -> int:
    """The id of the newest ``action`` entry about the object ``obj`` (its details'
    ``object``; 0 when there is none), e.g. the latest resolution of contacts."""
    if not store.table_exists("meta", "audit"):
        return 0
    newest = store.scalar(
        "SELECT coalesce(max(entry_id), 0) FROM meta.audit WHERE action = $a AND "
        "CASE WHEN json_valid(details) THEN json_extract_string(details, '$.object') END = $o",
        {"a": action, "o": obj},
    )
    return int(newest or 0)


def _unrecorded(store: Store, rows: list[tuple[Any, ...]]) -> list[Problem]:
    """Loads, validation and resolution runs the warehouse records without their entry."""
    problems = []
    for action, name, column, where in EVIDENCE:
        schema, table_name = name.split(".")
        if not store.table_exists(schema, table_name, views=False):
            continue
        done = {details_of(r[5]).get(column) for r in rows if r[2] == action}
        ids = [
            int(r[0])
            for r in store.rows(
                f"SELECT {quote_ident(column)} FROM {table(schema, table_name)} WHERE {where} "
                "ORDER BY 1"
            )
        ]
        missing = [i for i in ids if i not in done]
        if missing:
            shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
            problems.append(
                Problem(
                    None,
                    f"the audit trail was dropped or cut: {len(missing)} of the "
                    f"{len(ids)} {column}s in {name} ({shown}) have no '{action}' entry",
                )
            )
    return problems


def log(
    store: Store,
    *,
    action: str | None = None,
    since: date | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Entries, newest first, optionally of one action and from a day on."""
    if not store.has_rows("meta", "audit"):
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
