"""Tombstones kept outside the warehouse, so that restoring a backup brings no erased person
back.

An erasure (:mod:`.erasure`) keeps salted hashes of the person's identifiers in
``meta.tombstones``, inside the warehouse: restoring a backup taken before the erasure would
bring back the person together with a tombstone table that does not know them. So every
tombstone is also appended, in the erasure's own transaction (:func:`keep`), to
``.workbench/tombstones.jsonl`` in the project folder: one JSON line per tombstone with its
id, time, the salt and its (kind, hash) pairs; hashes only, never an erased value. The file is
only ever appended to (a last line cut short by a crash is the erasure that did not commit:
it is skipped, and dropped before the next line is appended). Backups and restores add to it
the tombstones of the warehouse it lacks (erasures made before it existed, :func:`sync`), so
a backup is never the only copy.

After a restore, :func:`reapply` puts back every tombstone of the file the restored warehouse
lacks and erases again what it covers: each person record whose identifiers hash to it,
with every row the erasure plan of that record removes (every load, staging, core,
quarantine, identity rows, golden records, rejected lines; reports marked stale), then any
other row that hashes to it, as a load of an old export would be suppressed.

The file holds the salt: keep it with the project and treat it like the warehouse.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from workbench.config import Project
from workbench.errors import GovernanceError
from workbench.governance import erasure
from workbench.governance.lineage import canonical_rows, delete_rows
from workbench.store import Store

STATE_DIR = ".workbench"  # in the project folder: the project's own state, beside its config
FILE = "tombstones.jsonl"
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Tombstone:
    """One erasure: its id, when, the salt its hashes were made with, (kind, hash) pairs."""

    tombstone_id: int
    erased_at: str
    salt: str
    hashes: tuple[tuple[str, str], ...]


@dataclass
class Reapplied:
    """What :func:`reapply` did: the tombstones erased again, rows removed per table, reports
    marked stale and anything it could not do."""

    tombstones: list[int] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    stale_reports: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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


def _append(project: Project, tombstones: list[Tombstone]) -> None:
    path = file_of(project)
    text = "".join(
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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            _drop_cut_line(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise GovernanceError(
            f"The tombstone cannot be kept outside the warehouse ({exc.strerror or exc}).",
            where=str(path),
            fix="Make the project folder writable and run the command again; nothing was "
            "erased or restored.",
        ) from None


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
    salt = store.scalar("SELECT value FROM meta.settings WHERE key = $k", {"k": erasure.SALT_KEY})
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
    known: dict[str, set[str]] = {}
    for t in read(project):
        known.setdefault(t.salt, set()).update(h for _, h in t.hashes)
    lacking = [
        t for t in in_warehouse(store) if not {h for _, h in t.hashes} <= known.get(t.salt, set())
    ]
    if lacking:
        _append(project, lacking)
    return len(lacking)


def reapply(project: Project, store: Store) -> Reapplied:
    """Put back into ``store`` every tombstone of the project's file it lacks, and erase
    again the rows those tombstones cover (see the module doc). One transaction."""
    known = read(project)
    done = Reapplied()
    if not known:
        return done
    with store.transaction():
        salt = erasure.salt_of(store, create=False)
        if salt is None:  # a backup from before the first erasure: take the project's salt
            salt = known[-1].salt
            store.execute(
                "INSERT INTO meta.settings VALUES ($k, $v)", {"k": erasure.SALT_KEY, "v": salt}
            )
        present = {r[0] for r in store.rows("SELECT DISTINCT hash FROM meta.tombstones")}
        lacking = [t for t in known if t.salt != salt or not {h for _, h in t.hashes} <= present]
        if not lacking:
            return done
        for t in lacking:
            if t.salt == salt:
                _put_back(store, t)
            else:
                done.warnings.append(
                    f"Tombstone {t.tombstone_id} was made with another salt (the warehouse "
                    "was created anew since): its rows were erased again, but later loads "
                    "are not checked against it."
                )
            done.tombstones.append(t.tombstone_id)
        _erase_again(project, store, lacking, done)
    return done


def _put_back(store: Store, tombstone: Tombstone) -> None:
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


def _erase_again(
    project: Project, store: Store, tombstones: list[Tombstone], done: Reapplied
) -> None:
    """Find the rows whose identifiers hash to ``tombstones`` (as :func:`erasure.suppress`
    does for a load), run the erasure plan of each person record among them, then remove
    the other rows that hash to them."""
    by_salt: dict[str, set[str]] = {}
    for t in tombstones:
        by_salt.setdefault(t.salt, set()).update(h for _, h in t.hashes)
    records: set[str] = set()
    keys = []
    for name in project.config.sources:
        needed = erasure._needed(project, name, phones=False)
        rows = canonical_rows(store, project, name, needed)
        ids = erasure.identifiers(project, name, rows).filter(
            pl.col("kind").is_in(erasure.MATCHING)
        )
        texts = sorted(
            t
            for t in ids["text"].unique().to_list()
            if any(erasure.digest(s, t) in hashes for s, hashes in by_salt.items())
        )
        hits = ids.filter(pl.col("text").is_in(texts)).select("_load_id", "_row_number").unique()
        if hits.height == 0:
            continue
        keys.append(hits.select(pl.lit(name).alias("source"), "_load_id", "_row_number"))
        if project.source(name).object == erasure.PERSON:
            found = rows.join(hits, on=["_load_id", "_row_number"])["record_id"].to_list()
            records |= {f"{name}:{str(r).strip()}" for r in found if r is not None}
    erased: set[str] = set()
    earliest: datetime | None = None
    for uid in sorted(records):
        if uid in erased:
            continue
        plan, _, first = erasure._plan(project, store, "record", uid)
        erasure._run(store, plan, delete=True)
        erased |= set(plan.records)
        earliest = first if earliest is None or (first and first < earliest) else earliest
        _add(done.rows, plan.rows)
    if keys:
        _add(done.rows, delete_rows(store, project, pl.concat(keys)))
    numbers = ", ".join(str(t) for t in done.tombstones)
    reason = f"personal data erased again after a restore (tombstone {numbers})"
    done.stale_reports = erasure._stale(store, earliest, mark=reason)


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for name, n in more.items():
        total[name] = total.get(name, 0) + n
