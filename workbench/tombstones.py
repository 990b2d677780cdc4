"""Tombstones: what the warehouse keeps of erased people, salted hashes of their identifiers.

An erasure (:mod:`workbench.governance.erasure`) records one tombstone per erased person in
``meta.tombstones``: the salted sha256 (:func:`digest`) of each of their identifiers
(:mod:`workbench.standardize.identifiers`), never a value; the salt is generated once per
warehouse and kept in ``meta.settings`` (:func:`salt_of`). Ingest drops the rows of a new
load whose identifiers hash to a tombstone (:func:`erased`, from
:mod:`workbench.ingest.suppress`).

**Outside the warehouse.** Restoring a backup taken before an erasure would bring back the
person together with a tombstone table that does not know them. So every tombstone is also
appended, in the erasure's own transaction (:func:`keep`), to
``.workbench/tombstones.jsonl`` in the project folder: one JSON line per tombstone with its
id, time, the salt and its (kind, hash) pairs; hashes only, never an erased value. The file is
only ever appended to (a last line cut short by a crash is the erasure that did not commit:
it is skipped, and dropped before the next line is appended). Backups and restores add to it
the tombstones of the warehouse it lacks (erasures made before it existed, :func:`sync`), so
a backup is never the only copy; after a restore, the erasure puts back the ones the restored
warehouse lacks (:func:`put_back`) and erases again what they cover
(:mod:`workbench.governance.reapply`).

The file holds the salt: keep it with the project and treat it like the warehouse.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from workbench.config import Project
from workbench.errors import GovernanceError
from workbench.schema import recreate
from workbench.store import Store

STATE_DIR = ".workbench"  # in the project folder: the project's own state, beside its config
FILE = "tombstones.jsonl"
_HASH = re.compile(r"^[0-9a-f]{64}$")
SALT_KEY = "tombstone_salt"


@dataclass(frozen=True)
class Tombstone:
    """One erasure: its id, when, the salt its hashes were made with, (kind, hash) pairs."""

    tombstone_id: int
    erased_at: str
    salt: str
    hashes: tuple[tuple[str, str], ...]


def file_of(project: Project) -> Path:
    """The project's tombstone file."""
    return project.root / STATE_DIR / FILE


def keep(
    project: Project,
    tombstone_id: int,
    salt: str,
    hashes: Iterable[tuple[str, str]],
    erased_at: datetime,
) -> None:
    """Append one tombstone to the project's tombstone file (erasure calls this inside its
    transaction: if the file cannot be written, nothing is erased)."""
    pairs = tuple(sorted((str(k), str(h)) for k, h in hashes))
    _append(project, [Tombstone(tombstone_id, erased_at.isoformat(), salt, pairs)])


def read(project: Project) -> list[Tombstone]:
    """Every tombstone of the project's file (none when there is no file yet)."""
    path = file_of(project)
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines and not data.endswith(b"\n"):
        lines = lines[:-1]  # cut short by a crash: that erasure never committed
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(_parse(json.loads(line.decode("utf-8"))))
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError, KeyError):
            raise GovernanceError(
                f"The project's tombstone file is damaged at line {number}; without it a "
                "restore could bring erased people back.",
                where=f"{path}, line {number}",
                fix="Put the line back from a copy of the project folder (the warehouse keeps "
                "its own tombstones in meta.tombstones); nothing was changed.",
            ) from None
    return out


def _parse(value: Any) -> Tombstone:
    if not isinstance(value, dict):
        raise TypeError
    tid, at, salt = value["tombstone_id"], value["erased_at"], value["salt"]
    if isinstance(tid, bool) or not isinstance(tid, int) or tid < 1:
        raise ValueError
    if not isinstance(at, str) or not isinstance(salt, str) or not salt:
        raise ValueError
    pairs = []
    for pair in value["hashes"]:
        kind, digest = pair
        if not isinstance(kind, str) or not isinstance(digest, str) or not _HASH.match(digest):
            raise ValueError
        pairs.append((kind, digest))
    return Tombstone(tid, at, salt, tuple(sorted(pairs)))


def _append(project: Project, tombstones: list[Tombstone], *, missing_only: bool = False) -> int:
    """Append ``tombstones`` (with ``missing_only``, those the file lacks, decided under the
    lock) to the project's file; returns how many were appended."""
    path = file_of(project)
    if missing_only and not tombstones:
        return 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            # one writer at a time (an erasure and a backup's sync may meet): the cut line
            # is dropped and the new lines appended under the lock, released on close
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            _drop_cut_line(path)
            if missing_only:  # what another writer appended meanwhile is not repeated
                tombstones = _missing(project, tombstones)
            handle.write(_lines(tombstones))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise GovernanceError(
            f"The tombstone cannot be kept outside the warehouse ({exc.strerror or exc}).",
            where=str(path),
            fix="Make the project folder writable and run the command again; nothing was "
            "erased or restored.",
        ) from None
    return len(tombstones)


def _lines(tombstones: list[Tombstone]) -> str:
    """The file's lines of ``tombstones``: one JSON object each."""
    return "".join(
        json.dumps(
            {
                "tombstone_id": t.tombstone_id,
                "erased_at": t.erased_at,
                "salt": t.salt,
                "hashes": [list(p) for p in t.hashes],
            },
            sort_keys=True,
        )
        + "\n"
        for t in tombstones
    )


def _drop_cut_line(path: Path) -> None:
    """Remove a last line a crash cut short (its erasure never committed; :func:`read`
    skips it), so that appending does not leave it in the middle of the file."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        os.truncate(path, data.rfind(b"\n") + 1)


def in_warehouse(store: Store) -> list[Tombstone]:
    """The tombstones of a warehouse (read-only: creates nothing)."""
    if not store.table_exists("meta", "tombstones") or not store.table_exists("meta", "settings"):
        return []
    salt = store.scalar("SELECT value FROM meta.settings WHERE key = $k", {"k": SALT_KEY})
    if salt is None:
        return []
    grouped: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for tid, at, kind, digest in store.rows(
        "SELECT tombstone_id, erased_at, kind, hash FROM meta.tombstones ORDER BY ALL"
    ):
        grouped.setdefault(int(tid), (at.isoformat(), []))[1].append((kind, digest))
    return [
        Tombstone(tid, at, salt, tuple(sorted(set(pairs))))
        for tid, (at, pairs) in sorted(grouped.items())
    ]


def sync(project: Project, store: Store) -> int:
    """Append the warehouse's tombstones the project's file lacks; returns how many."""
    return _append(project, in_warehouse(store), missing_only=True)


def _missing(project: Project, tombstones: list[Tombstone]) -> list[Tombstone]:
    """Those of ``tombstones`` whose hashes the project's file does not hold yet."""
    known: dict[str, set[str]] = {}
    for t in read(project):
        known.setdefault(t.salt, set()).update(h for _, h in t.hashes)
    return [t for t in tombstones if not {h for _, h in t.hashes} <= known.get(t.salt, set())]


def lacking(store: Store, known: list[Tombstone]) -> tuple[str, list[Tombstone]]:
    """The warehouse's salt and those of the ``known`` tombstones (the project file's) it
    lacks. A warehouse from before the first erasure (a restored backup) takes the salt of
    the newest known tombstone."""
    salt = salt_of(store, create=False)
    if salt is None:
        salt = known[-1].salt
        store.execute("INSERT INTO meta.settings VALUES ($k, $v)", {"k": SALT_KEY, "v": salt})
    present = {r[0] for r in store.rows("SELECT DISTINCT hash FROM meta.tombstones")}
    return salt, [t for t in known if t.salt != salt or not {h for _, h in t.hashes} <= present]


def put_back(store: Store, tombstone: Tombstone) -> None:
    """Insert ``tombstone`` into ``meta.tombstones`` (under a new id if its own is taken)."""
    tid = tombstone.tombstone_id
    if store.scalar("SELECT count(*) FROM meta.tombstones WHERE tombstone_id = $i", {"i": tid}):
        tid = int(store.scalar("SELECT max(tombstone_id) + 1 FROM meta.tombstones"))
    frame = pl.DataFrame(
        {"kind": [k for k, _ in tombstone.hashes], "hash": [h for _, h in tombstone.hashes]},
        schema={"kind": pl.String, "hash": pl.String},
    )
    with store.registered("_wb_tomb", frame):
        store.execute(
            "INSERT INTO meta.tombstones SELECT $id, kind, hash, $at::TIMESTAMPTZ FROM _wb_tomb",
            {"id": tid, "at": tombstone.erased_at},
        )


# -- in the warehouse --------------------------------------------------------------------------
def digest(salt: str, text: str) -> str:
    """The salted sha256 a tombstone keeps of one identifier."""
    return hashlib.sha256(f"{salt}\x1f{text}".encode()).hexdigest()


def salt_of(store: Store, *, create: bool) -> str | None:
    """The warehouse's tombstone salt, generated once."""
    recreate(store, "meta.tombstones", "meta.settings")  # if dropped since the migration
    salt = store.scalar("SELECT value FROM meta.settings WHERE key = $k", {"k": SALT_KEY})
    if salt is None and create:
        salt = secrets.token_hex(32)
        store.execute("INSERT INTO meta.settings VALUES ($k, $v)", {"k": SALT_KEY, "v": salt})
    return salt


def record(
    store: Store, salt: str, texts: dict[str, str], erased_at: datetime
) -> tuple[int, list[tuple[str, str]]]:
    """Add a tombstone of the identifier ``texts`` (text -> kind) to ``meta.tombstones``;
    returns its id and its (kind, hash) pairs."""
    tomb = int(store.scalar("SELECT coalesce(max(tombstone_id), 0) + 1 FROM meta.tombstones"))
    hashes = pl.DataFrame(
        {"kind": list(texts.values()), "hash": [digest(salt, t) for t in texts]}
    ).unique()
    with store.registered("_wb_tomb", hashes):
        store.execute(
            "INSERT INTO meta.tombstones SELECT $id, kind, hash, $at FROM _wb_tomb",
            {"id": tomb, "at": erased_at},
        )
    return tomb, list(hashes.iter_rows())


def erased_salt(store: Store) -> str | None:
    """The salt, when the warehouse holds tombstones; None when nobody was ever erased."""
    if not store.table_exists("meta", "tombstones"):
        return None
    if not store.scalar("SELECT count(*) FROM meta.tombstones"):
        return None
    return salt_of(store, create=False)


def erased(store: Store, salt: str, texts: list[str]) -> list[str]:
    """Those of the identifier ``texts`` whose salted hash is a tombstone."""
    hashed = pl.DataFrame(
        {"text": texts, "hash": [digest(salt, t) for t in texts]},
        schema={"text": pl.String, "hash": pl.String},
    )
    with store.registered("_wb_hashes", hashed):
        known = {
            r[0]
            for r in store.rows(
                "SELECT h.hash FROM _wb_hashes h JOIN meta.tombstones t ON t.hash = h.hash"
            )
        }
    return hashed.filter(pl.col("hash").is_in(sorted(known)))["text"].to_list()
