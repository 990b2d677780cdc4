"""What validation forgets: core rows and quarantined rows made from given raw rows (see
:mod:`workbench.forget`)."""

from __future__ import annotations

import polars as pl

from workbench.config import Project
from workbench.forget import Target, by_keys, count_into, lineage_target, registered_keys
from workbench.store import Store, table

QUARANTINE = ("rows", "failures")  # quar tables with the columns source, load_id, row_number


def targets(store: Store, project: Project, keys: dict[str, list[str]]) -> list[Target]:
    """The rows of ``core.<object>`` and of the quarantine made from the raw rows ``keys``
    (source -> ``source:load:row``)."""
    out: list[Target] = []
    by_object: dict[str, list[str]] = {}
    for name, mine in sorted(keys.items()):
        by_object.setdefault(project.source(name).object, []).extend(mine)
    for obj, mine in sorted(by_object.items()):
        out += lineage_target(store, "core", obj, "_source", "_", mine)
    every = [k for mine in keys.values() for k in mine]
    for name in QUARANTINE:
        out += lineage_target(store, "quar", name, "source", "", every)
    return out


def delete_rows(
    store: Store, project: Project, keys: pl.DataFrame, *, dry_run: bool = False
) -> dict[str, int]:
    """Remove the core and quarantined rows made from the raw rows ``keys`` (source,
    _load_id, _row_number); returns the rows removed per table (``dry_run``: counted)."""
    removed: dict[str, int] = {}
    with registered_keys(store, keys):
        sources = sorted(keys["source"].unique().to_list())
        objects = sorted({project.source(n).object for n in sources if n in project.config.sources})
        for obj in objects:
            if store.table_exists("core", obj):
                core = table("core", obj)
                match = (
                    f"{core}._source = k.source AND {core}._load_id = k._load_id "
                    f"AND {core}._row_number = k._row_number"
                )
                count_into(removed, f"core.{obj}", by_keys(store, core, match, None, dry_run))
        for name in QUARANTINE:
            if store.table_exists("quar", name):
                target = table("quar", name)
                match = (
                    f"{target}.source = k.source AND {target}.load_id = k._load_id "
                    f"AND {target}.row_number = k._row_number"
                )
                count_into(removed, f"quar.{name}", by_keys(store, target, match, None, dry_run))
    return removed
