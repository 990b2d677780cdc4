"""Rows along their load lineage, for erasure and retention: each stage forgets its own.

Every row of ``stg``, ``core`` and the quarantine names the raw row it came from (source,
load id, row number). Raw rows are read in canonical form by
:func:`workbench.ingest.staging.canonical_rows`; :func:`delete_rows` and :func:`targets`
name rows so identified, and everything derived from them, through the stages that own the
tables (:mod:`workbench.ingest.forget`, :mod:`workbench.validate.forget`).
"""

from __future__ import annotations

import polars as pl

from workbench.config import Project
from workbench.forget import Target, lineage_keys
from workbench.ingest import forget as ingest_forget
from workbench.store import Store
from workbench.validate import forget as validate_forget


def delete_rows(
    store: Store, project: Project, keys: pl.DataFrame, *, dry_run: bool = False
) -> dict[str, int]:
    """Remove the rows ``keys`` (source, _load_id, _row_number) from raw, staging, core and
    the quarantine; returns the rows removed per table (tables with none left out). With
    ``dry_run`` the same rows are counted, not removed."""
    keys = lineage_keys(keys)
    if keys.height == 0:
        return {}
    removed = ingest_forget.delete_rows(store, project, keys, dry_run=dry_run)
    return removed | validate_forget.delete_rows(store, project, keys, dry_run=dry_run)


def targets(store: Store, project: Project, keys: dict[str, list[str]]) -> list[Target]:
    """The rows ``keys`` (source -> ``source:load:row``) in ``raw.<source>``, every load, and
    the rows made from them in staging, core and the quarantine."""
    return [
        *ingest_forget.targets(store, project, keys),
        *validate_forget.targets(store, project, keys),
    ]
