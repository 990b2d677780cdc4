"""The tables a resolution run writes, and reading them back.

Into ``id.runs``, ``id.members``, ``id.entity_events``, ``id.pairs`` and ``id.review_queue``
(tables of :mod:`workbench.schema`): a run's members, scored pairs and review
queue as the difference from the last run (``_replace``), appends its entity events and
records the run with its model in ``id.runs``; ``id.review_records_<object>`` keeps the
matching input of the records in the review queue, for their waterfalls. Reads back the
previous run's members, pairs and model for the next one, and the latest members and golden
records (``id.golden_<object>``) for users.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from workbench import schema
from workbench.errors import WorkbenchError
from workbench.resolve.golden import INTERNAL, view_name
from workbench.store import Store, quote_ident

PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
PAIR_KEY = ["unique_id_l", "unique_id_r"]
REVIEW_RECORDS = "review_records_{object}"  # a table of schema id, per object
DIFF = "_wb_diff"  # temporary: the rows of a table that changed (see _replace)


def ensure_tables(store: Store) -> None:
    """Bring the members of an earlier release up to date (the tables themselves come from
    :mod:`workbench.schema`, made when the store opened)."""
    _upgrade_members(store)


def previous_members(store: Store, obj: str, *, with_hashes: bool) -> pl.DataFrame:
    """The last run's ``unique_id`` and ``entity_id`` per record (and ``feature_hash``)."""
    hashes = ", feature_hash" if with_hashes else ""  # what an incremental run compares
    return store.frame(
        f"SELECT unique_id, entity_id{hashes} FROM id.members WHERE object = $o",
        {"o": obj},
    )


def last_model(store: Store, obj: str) -> tuple[str | None, str | None]:
    """The last run's trained model and what it was trained on (JSON), or None twice."""
    last = store.rows(
        "SELECT model_json, trained_on FROM id.runs WHERE object = $o ORDER BY run_id DESC LIMIT 1",
        {"o": obj},
    )
    return last[0] if last else (None, None)


def stored_pairs(store: Store, obj: str) -> pl.DataFrame:
    """The last run's scored pairs (``PAIR_COLUMNS`` and ``held``)."""
    return store.frame(
        f"SELECT {', '.join(PAIR_COLUMNS)}, coalesce(held, false) AS held "
        "FROM id.pairs WHERE object = $o",
        {"o": obj},
    )


def next_run_id(store: Store) -> int:
    return schema.next_id(store, schema.RESOLVE_RUNS)


def write_results(
    store: Store,
    obj: str,
    run_id: int,
    *,
    members: pl.DataFrame,
    pairs: pl.DataFrame,
    queue: pl.DataFrame,
    events: pl.DataFrame,
) -> None:
    """Make the object's members, pairs and review queue those of this run; add its events."""
    _replace(store, "id.members", obj, run_id, members, ["unique_id"])
    _replace(store, "id.pairs", obj, run_id, pairs, PAIR_KEY)
    queued_pairs = queue.select(PAIR_COLUMNS)
    _replace(store, "id.review_queue", obj, run_id, queued_pairs, PAIR_KEY)
    _append_events(store, obj, run_id, events)


def review_records_table(obj: str) -> str:
    """The table of the matching input of the object's review-queue records."""
    return f"id.{quote_ident(REVIEW_RECORDS.format(object=obj))}"


def write_review_records(store: Store, obj: str, records: pl.DataFrame | None) -> None:
    """Make ``id.review_records_<object>`` the matching input, with term frequencies, of
    the records in this run's review queue (see ``matching.review_records``); drop it when
    the run kept none (on Spark), so that no earlier run's records explain this run's pairs."""
    name = review_records_table(obj)
    if records is None:
        store.execute(f"DROP TABLE IF EXISTS {name}")
        return
    with store.registered("_wb_review_records", records):
        store.execute(f"CREATE OR REPLACE TABLE {name} AS FROM _wb_review_records")


def record_run(
    store: Store,
    obj: str,
    run_id: int,
    *,
    started: datetime,
    ended: datetime,
    records: int,
    entities: int,
    pairs_scored: int,
    threshold: float,
    model_json: str,
    blocking: list[dict[str, Any]],
    trained_on: dict[str, Any] | None,
) -> None:
    """The run in ``id.runs``: its counts, the trained model and the blocking analysis."""
    store.execute(
        "INSERT INTO id.runs (run_id, object, started_at, ended_at, records, entities, "
        "pairs_scored, threshold, model_json, blocking_json, trained_on) "
        "VALUES ($r, $o, $s, $e, $n, $k, $p, $t, $m, $b, $x)",
        {
            "r": run_id,
            "o": obj,
            "s": started,
            "e": ended,
            "n": records,
            "k": entities,
            "p": pairs_scored,
            "t": threshold,
            "m": model_json,
            "b": json.dumps(blocking) if blocking else None,
            "x": json.dumps(trained_on) if trained_on else None,
        },
    )


def _replace(
    store: Store, target: str, obj: str, run_id: int, frame: pl.DataFrame, key: list[str]
) -> None:
    """Make the object's rows of ``target`` those of ``frame``, writing only the difference.

    Rows are matched on ``key`` (one row per key, as resolution writes them: one per record,
    one per pair); a row whose other columns differ has changed. Rows no longer there or
    changed are deleted, new and changed ones inserted with ``run_id``; the rest keep the
    run that wrote them. One join finds the difference; a re-run on mostly unchanged data
    writes little.
    """
    first = quote_ident(key[0])
    on = " AND ".join(f"f.{c} = t.{c}" for c in map(quote_ident, key))
    others = [quote_ident(c) for c in frame.columns if c not in key]
    differs = " OR ".join(
        [f"t.{first} IS NULL", f"f.{first} IS NULL"]
        + [f"f.{c} IS DISTINCT FROM t.{c}" for c in others]
    )
    with store.registered("_wb_frame", frame):
        stored = store.rows(f"SELECT 1 FROM {target} WHERE object = $o LIMIT 1", {"o": obj})
        if not stored:  # nothing to compare with (a first run): all rows are new
            store.execute(
                f"INSERT INTO {target} BY NAME SELECT $o AS object, *, $r AS run_id FROM _wb_frame",
                {"o": obj, "r": run_id},
            )
            return
        store.execute(
            f"CREATE OR REPLACE TEMP TABLE {DIFF} AS SELECT t.rowid AS _wb_old, f.* "
            f"FROM (SELECT rowid, * FROM {target} WHERE object = $o) t "
            f"FULL JOIN _wb_frame f ON {on} WHERE {differs}",
            {"o": obj},
        )
    store.execute(f"DELETE FROM {target} WHERE rowid IN (SELECT _wb_old FROM {DIFF})")
    store.execute(
        f"INSERT INTO {target} BY NAME SELECT $o AS object, COLUMNS(* EXCLUDE (_wb_old)), "
        f"$r AS run_id FROM {DIFF} WHERE {first} IS NOT NULL",
        {"o": obj, "r": run_id},
    )
    store.execute(f"DROP TABLE {DIFF}")  # (on failure the transaction drops it)


def _upgrade_members(store: Store) -> None:
    """Members written when feature hashes were text (MD5 in hex) lose them: the next run
    writes every member once, and an incremental one matches every record once."""
    kind = store.scalar(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = 'id' "
        "AND table_name = 'members' AND column_name = 'feature_hash'"
    )
    if kind != "BIGINT":
        store.execute("ALTER TABLE id.members ALTER feature_hash TYPE BIGINT USING NULL")


def _append_events(store: Store, obj: str, run_id: int, events: pl.DataFrame) -> None:
    if events.height == 0:
        return
    with store.registered("_wb_events", events):
        store.execute(
            "INSERT INTO id.entity_events SELECT $r, $o, event, entity_id, other_entity_id "
            "FROM _wb_events",
            {"o": obj, "r": run_id},
        )


def members_of(store: Store, obj: str) -> pl.DataFrame:
    """The latest resolution of an object: source, record_id, entity_id per record."""
    resolved = store.table_exists("id", "runs") and store.scalar(
        "SELECT count(*) FROM id.runs WHERE object = $o", {"o": obj}
    )
    if not resolved:
        raise WorkbenchError(
            f"Nothing has been resolved yet ({obj}).",
            fix=f"Run `workbench resolve --object {obj}`.",
        )
    return store.frame(
        "SELECT source, record_id, entity_id FROM id.members WHERE object = $o "
        "ORDER BY source, record_id",
        {"o": obj},
    )


def golden_of(store: Store, obj: str) -> pl.DataFrame:
    """The golden records of an object, with each field's provenance (``<field>__from``)."""
    if not store.table_exists("id", f"golden_{obj}"):
        raise WorkbenchError(f"No golden {obj} yet.", fix="Run `workbench resolve`.")
    # (a table of the earlier layout, until the next run replaces it, has internal columns)
    try:
        return store.frame(
            f"SELECT COLUMNS(c -> NOT list_contains($internal, c)) FROM {view_name(obj)} "
            "ORDER BY entity_id",
            {"internal": list(INTERNAL)},
        )
    except (duckdb.BinderException, duckdb.CatalogException) as e:  # the view reads core
        raise WorkbenchError(
            f"The golden {obj} no longer fit the validated {obj}: {e}",
            fix="Run `workbench resolve` to build them again.",
        ) from e
