"""Rows along their load lineage, for erasure and retention.

Every row of ``stg``, ``core`` and the quarantine names the raw row it came from (source,
load id, row number). :func:`canonical_rows` reads a source's raw rows, of every load, in
the canonical form staging gives them; :func:`delete_rows` removes rows so identified from
``raw.<source>`` and everything derived from them in one go.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from workbench.config import Project
from workbench.ingest.staging import select_staged_sql
from workbench.store import Store, quote_ident, table

KEY_SCHEMA = {"source": pl.String, "_load_id": pl.Int64, "_row_number": pl.Int64}


def canonical_rows(
    store: Store,
    project: Project,
    source_name: str,
    fields: list[str],
    where: str = "true",
    params: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """``_load_id``, ``_row_number`` and the canonical ``fields`` (typed as staging types
    them; NULL where the source does not map a field) of the source's raw rows, every load,
    that satisfy ``where`` (SQL over the raw columns, values bound through ``params``)."""
    source = project.source(source_name)
    spec = project.dictionary.object(source.object)
    wanted = [f for f in dict.fromkeys(fields) if f in spec.fields]
    if not store.table_exists("raw", source_name):
        schema: dict[str, Any] = {"_load_id": pl.Int64, "_row_number": pl.Int64}
        return pl.DataFrame(schema=schema | {f: pl.String for f in wanted})
    sql, bound = select_staged_sql(source_name, source, spec, table("raw", source_name), where)
    mapped = [f for f in wanted if f in source.columns]
    cols = ", ".join(["_load_id", "_row_number", *(quote_ident(f) for f in mapped)])
    frame = store.frame(f"SELECT {cols} FROM ({sql})", {**bound, **(params or {})})
    return frame.with_columns(pl.lit(None, pl.String).alias(f) for f in wanted if f not in mapped)


def delete_rows(
    store: Store, project: Project, keys: pl.DataFrame, *, dry_run: bool = False
) -> dict[str, int]:
    """Remove the rows ``keys`` (source, _load_id, _row_number) from raw, staging, core and
    the quarantine; returns the rows removed per table (tables with none left out). With
    ``dry_run`` the same rows are counted, not removed."""
    keys = keys.select(list(KEY_SCHEMA)).cast(KEY_SCHEMA).unique()  # type: ignore[arg-type]
    removed: dict[str, int] = {}
    if keys.height == 0:
        return removed
    with store.registered("_wb_keys", keys):
        sources = sorted(keys["source"].unique().to_list())
        for name in sources:
            if store.table_exists("raw", name):
                n = _delete(store, table("raw", name), name, dry_run)
                _count(removed, f"raw.{name}", n)
        objects = sorted({project.source(n).object for n in sources if n in project.config.sources})
        for schema in ("stg", "core"):
            for obj in objects:
                if store.table_exists(schema, obj):
                    n = _delete(store, table(schema, obj), None, dry_run)
                    _count(removed, f"{schema}.{obj}", n)
        for name in ("rows", "failures"):
            if store.table_exists("quar", name):
                target = table("quar", name)
                match = (
                    f"{target}.source = k.source AND {target}.load_id = k._load_id "
                    f"AND {target}.row_number = k._row_number"
                )
                _count(removed, f"quar.{name}", _run(store, target, match, None, dry_run))
    return removed


def _delete(store: Store, target: str, raw_source: str | None, dry_run: bool) -> int:
    if raw_source is not None:
        match = "k.source = $s"
        params: dict[str, Any] | None = {"s": raw_source}
    else:
        match, params = f"{target}._source = k.source", None
    match += f" AND {target}._load_id = k._load_id AND {target}._row_number = k._row_number"
    return _run(store, target, match, params, dry_run)


def _run(
    store: Store, target: str, match: str, params: dict[str, Any] | None, dry_run: bool
) -> int:
    """Delete (or count) the rows of ``target`` that ``match`` one of the keys (unique, so a
    row matches at most one)."""
    sql = (
        f"SELECT count(*) FROM {target}, _wb_keys k WHERE {match}"
        if dry_run
        else f"DELETE FROM {target} USING _wb_keys k WHERE {match}"
    )
    return int(store.rows(sql, params)[0][0])


def _count(counts: dict[str, int], name: str, n: int) -> None:
    if n:
        counts[name] = counts.get(name, 0) + n
