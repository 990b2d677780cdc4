"""Suppression at load: the rows of erased people do not come back with a later export.

An erasure keeps salted hashes of the person's identifiers as a tombstone
(:mod:`workbench.tombstones`). Each new load's rows are given their identifiers
(:mod:`workbench.standardize.identifiers`: records, references, email addresses), and the
rows whose identifiers hash to a tombstone are dropped inside the load's transaction,
counted in the ledger's ``rows_suppressed``.
"""

from __future__ import annotations

import polars as pl

from workbench import tombstones
from workbench.config import Project
from workbench.ingest.forget import delete_rows
from workbench.ingest.staging import canonical_rows
from workbench.standardize.identifiers import MATCHING, identifiers, needed_fields
from workbench.store import Store


def suppress(store: Store, project: Project, source_name: str, load_id: int) -> int:
    """Drop the rows of a new load that belong to an erased person (their identifiers hash
    to a tombstone); returns how many. Called by the loader inside the load's transaction."""
    salt = tombstones.erased_salt(store)
    if salt is None:
        return 0
    rows = canonical_rows(
        store, project, source_name, needed_fields(project, source_name, phones=False),
        "_load_id = $load", {"load": load_id},
    )  # fmt: skip
    ids = identifiers(project, source_name, rows).filter(pl.col("kind").is_in(MATCHING))
    if ids.height == 0:
        return 0
    erased = tombstones.erased(store, salt, ids["text"].unique().to_list())
    if not erased:
        return 0
    hits = ids.filter(pl.col("text").is_in(erased)).select("_load_id", "_row_number").unique()
    keys = hits.select(pl.lit(source_name).alias("source"), "_load_id", "_row_number")
    removed = delete_rows(store, project, keys)  # a new load: nothing is staged from it yet
    return removed.get(f"raw.{source_name}", 0)
