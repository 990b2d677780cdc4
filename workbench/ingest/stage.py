"""Stage loaded data: each source's current raw rows mapped onto its object's fields.

Ingest lands files as read (``raw.<source>``, one write per file); staging
(``stg.<object>``) is derived from a source's current loads and its mapping in
workbench.yaml, and is rebuilt only when either changed since it was built
(``meta.staging_state`` keeps a fingerprint of both). Validation stages first
(:func:`stage_changed`), so it always checks what the loads and the configuration say now.
A source that cannot be staged gets a ``failed`` ledger row naming ``raw.<source>``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from workbench.config import Project
from workbench.errors import WorkbenchError
from workbench.ingest import ledger
from workbench.ingest.loader import check_mapping, record_failure, unexpected
from workbench.ingest.readers import LINEAGE
from workbench.ingest.staging import (
    mapping_fingerprint,
    restage_source,
    staging_changes,
)
from workbench.store import Store


@dataclass(frozen=True)
class Staged:
    """A source staged again: its rows now in staging, and why it was staged."""

    source: str
    rows: int
    reason: str  # "new loads" | "changed mapping"


def stage_changed(project: Project, store: Store, names: list[str] | None = None) -> list[Staged]:
    """Stage every source (of ``names``) whose current loads or mapping changed since it was
    staged. Returns the sources staged that have loaded data (a source never loaded has
    nothing to stage)."""
    wanted = names or list(project.config.sources)
    staged = []
    for name in wanted:
        current = ledger.current_load_ids(store, name)
        if _staging_current(project, store, name, current):
            continue
        # not read from the staged rows: a load without rows (an empty export, every row an
        # erased person's) stages none, and is no new load the next time
        reason = "new loads" if ledger.loaded_since_staged(store, name) else ""
        rows = _stage(project, store, name, current)
        if current:
            staged.append(Staged(name, rows, reason or "changed mapping"))
    return staged


def _stage(project: Project, store: Store, name: str, current: list[int]) -> int:
    """Rebuild the source's staging rows from its ``current`` loads, with the staging state
    they were built from; returns the rows staged."""
    source = project.source(name)
    fingerprint = _fingerprint(project, name, current)
    started = datetime.now().astimezone()
    try:
        if current:
            raw_columns = [c for c in store.columns("raw", name) if c not in LINEAGE]
            check_mapping(project, name, source, raw_columns, Path(f"the loaded data of {name}"))
        with store.transaction():
            rows = restage_source(store, project, name)
            ledger.save_staging_state(store, name, fingerprint, rows)
    except Exception as exc:  # recorded in the ledger, then raised as before
        what = f"raw.{name} into stg.{source.object}"
        reason = (
            f"Staging {what} failed: {exc.message}"
            if isinstance(exc, WorkbenchError)
            else unexpected(exc, f"staging {what}")
        )
        record_failure(store, name, source, f"raw.{name}", started, reason)
        raise
    return rows


def _fingerprint(project: Project, name: str, current: list[int]) -> str:
    """What the source's staging rows are built from: its mapping and its current loads."""
    source = project.source(name)
    spec = project.dictionary.object(source.object)
    return hashlib.sha256((mapping_fingerprint(source, spec) + repr(current)).encode()).hexdigest()


def _staging_current(project: Project, store: Store, name: str, current: list[int]) -> bool:
    """Whether the source's staged rows follow its ``current`` loads and mapping, in a staging
    table that fits the dictionary's fields now."""
    obj = project.source(name).object
    return (
        ledger.staging_fingerprint(store, name) == _fingerprint(project, name, current)
        and store.table_exists("stg", obj)
        and not staging_changes(store, obj, project.dictionary.object(obj))
    )
