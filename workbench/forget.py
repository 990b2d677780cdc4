"""How a stage forgets rows: the contract between the stages and erasure or retention.

Each stage owns its tables and says which of their rows hold what is to be forgotten, in a
``forget`` module of its own (:mod:`workbench.ingest.forget`, :mod:`workbench.validate.forget`,
:mod:`workbench.resolve.forget`, :mod:`workbench.report.forget`); the operations of
:mod:`workbench.governance` compose them. Rows are named two ways:

- a :class:`Target`, a table and the ``WHERE`` of its rows (values bound as parameters),
  which an erasure counts (dry run) or deletes with the same condition (:func:`rows_of`);
- lineage keys, a frame of (``source``, ``_load_id``, ``_row_number``) naming raw rows and
  everything made from them (:func:`lineage_keys`, :func:`by_keys`), for retention and for
  rows suppressed at load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import polars as pl

from workbench.store import Store, quote_ident, table

KEY_SCHEMA = {"source": pl.String, "_load_id": pl.Int64, "_row_number": pl.Int64}
KEYS = "_wb_keys"  # the name the lineage keys are registered under


@dataclass(frozen=True)
class Target:
    """The rows of one table to forget: ``WHERE where``, ``params`` bound."""

    schema: str
    name: str
    where: str
    params: dict[str, Any]
    shown: str = ""  # the name reported, when not schema.name (a view's, for golden records)
    scrub: tuple[str, str] | None = None  # (column, text): the rows are kept, that column
    # replaced by the text (a ledger row must stay; the message quoting the person may not)


def lineage_target(
    store: Store, schema: str, name: str, source: str, prefix: str, keys: list[str], **params: Any
) -> list[Target]:
    """The rows of ``schema.name`` made from the raw rows ``keys`` (``source:load:row``):
    ``source`` is the SQL of a row's source, ``prefix`` that of its lineage columns
    (``_load_id`` or ``load_id``). None when there are no keys or no such table."""
    if not keys or not store.table_exists(schema, name):
        return []
    lineage = f"{source} || ':' || {prefix}load_id || ':' || {prefix}row_number"
    where = f"({lineage}) IN (SELECT unnest($k::VARCHAR[]))"
    return [Target(schema, name, where, {**params, "k": keys})]


def rows_of(store: Store, target: Target, *, delete: bool) -> int:
    """Count (``delete=False``) or delete (scrub) the rows of ``target``; returns how many."""
    name = table(target.schema, target.name)
    if delete and target.scrub is not None:
        column, text = target.scrub
        sql = f"UPDATE {name} SET {quote_ident(column)} = $_scrub WHERE {target.where}"
        return int(store.rows(sql, {**target.params, "_scrub": text})[0][0])
    verb = "DELETE" if delete else "SELECT count(*)"
    return int(store.rows(f"{verb} FROM {name} WHERE {target.where}", target.params)[0][0])


def lineage_keys(keys: pl.DataFrame) -> pl.DataFrame:
    """``keys`` as unique (source, _load_id, _row_number) rows of the key types."""
    return keys.select(list(KEY_SCHEMA)).cast(KEY_SCHEMA).unique()  # type: ignore[arg-type]


@contextmanager
def registered_keys(store: Store, keys: pl.DataFrame) -> Iterator[None]:
    """The lineage ``keys`` as the relation :data:`KEYS` (aliased ``k`` in :func:`by_keys`)."""
    with store.registered(KEYS, lineage_keys(keys)):
        yield


def by_keys(
    store: Store, target: str, match: str, params: dict[str, Any] | None, dry_run: bool
) -> int:
    """Delete (or count) the rows of ``target`` that ``match`` one of the registered keys
    (unique, so a row matches at most one)."""
    sql = (
        f"SELECT count(*) FROM {target}, {KEYS} k WHERE {match}"
        if dry_run
        else f"DELETE FROM {target} USING {KEYS} k WHERE {match}"
    )
    return int(store.rows(sql, params)[0][0])


def count_into(counts: dict[str, int], name: str, n: int) -> None:
    """Add ``n`` rows of ``name`` to ``counts`` (tables with none left out)."""
    if n:
        counts[name] = counts.get(name, 0) + n
