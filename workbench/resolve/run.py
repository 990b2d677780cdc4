"""Resolve: train the Splink model, score candidate pairs, cluster records into entities.

Runs the stages in order: ``inputs`` reads ``core.<object>`` into the matching input;
``matching`` trains and scores with Splink on its own in-memory DuckDB, or on Spark with
``resolve.backend: spark`` (the warehouse keeps only results; see ``engine``); ``clusters``
links records after reviewers' decisions and picks the review queue; ``entities`` keeps
entity ids stable against the previous run; ``results`` writes ``id.members``,
``id.pairs``, ``id.review_queue`` (and the queued records' matching input,
``id.review_records_<object>``), ``id.entity_events`` (merges, splits, new and retired
entities) and ``id.runs`` (the trained model as JSON, its blocking analysis and counts);
``golden`` builds the golden records (``id.golden_<object>``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import polars as pl

from workbench import audit
from workbench.config import CONFIG_FILE, Project
from workbench.errors import ConfigError
from workbench.resolve.clusters import review_pairs
from workbench.resolve.engine import check_backend, release_memory
from workbench.resolve.entities import assign_ids
from workbench.resolve.golden import build_golden
from workbench.resolve.inputs import core_records, matching_features
from workbench.resolve.matching import match, match_incremental, model_settings
from workbench.resolve.results import (
    PAIR_KEY,
    ensure_tables,
    last_model,
    next_run_id,
    previous_members,
    record_run,
    stored_pairs,
    write_results,
    write_review_records,
)
from workbench.resolve.reuse import reusable_model, trained_record, training_key
from workbench.resolve.review import decisions
from workbench.store import Store


@dataclass(frozen=True)
class ResolveReport:
    """What a resolution run produced."""

    object: str
    run_id: int
    records: int
    entities: int
    pairs_scored: int
    review_queue: int  # queued pairs waiting for a decision
    events: dict[str, int]
    seconds: float
    model_reused: bool = False
    golden_rebuilt: int = 0  # golden records of entities of several records built this run

    @property
    def duplicate_rate(self) -> float:
        return (self.records - self.entities) / self.records if self.records else 0.0


def resolve(
    project: Project,
    store: Store,
    *,
    object_name: str | None = None,
    incremental: bool = False,
    retrain: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> ResolveReport:
    """Match the object's core records (default: the pack's object of people, contacts) and
    store who is who (``id.members``).

    With ``incremental``, the saved model of the last run scores only new and changed
    records (against the rest and among themselves) and the stored pairs of unchanged
    records are reused; without a previous run it falls back to a full run. Incremental
    runs use DuckDB: with ``resolve.backend: spark`` they are refused.

    A full run reuses the last run's trained model while the data keeps its shape (see
    :mod:`workbench.resolve.reuse`; ``resolve.reuse_model`` in the config); ``retrain``
    trains a new one regardless.
    """
    object_name = object_name or project.person_object()
    settings = project.config.resolve
    where = f"{project.root / CONFIG_FILE}, key resolve.backend"
    check_backend(settings, where)
    if incremental and settings.backend == "spark":
        raise ConfigError(
            "Incremental resolution runs on DuckDB only; resolve.backend is spark.",
            where=where,
            fix="Run `workbench resolve` without --incremental, "
            "or set resolve.backend: duckdb for incremental runs.",
        )
    started = datetime.now(UTC)
    clock = time.perf_counter()
    feats = matching_features(project, store, object_name)  # refuses before writing
    ensure_tables(store)
    # taken (and committed) as the run starts: a killed or failed run leaves its id unused
    run_id = next_run_id(store)
    if on_step:
        on_step(f"match {object_name}")
    previous = previous_members(store, object_name, with_hashes=incremental)
    decided = decisions(store, object_name)
    model_json, trained_on = last_model(store, object_name)
    if incremental and model_json and previous.height:
        matching = match_incremental(
            store,
            feats,
            settings,
            decided,
            model_json=model_json,
            previous=previous.select("unique_id", "feature_hash"),
            previous_pairs=stored_pairs(store, object_name),
            limits=project.config.duckdb,
        )
        matching = replace(matching, trained_on=json.loads(trained_on) if trained_on else None)
    else:
        key = training_key(model_settings(feats, settings), settings)
        saved = None
        if settings.reuse_model and not retrain:
            records = core_records(store, object_name)
            saved = reusable_model(model_json, trained_on, key, records)
        matching = match(store, feats, settings, decided, project.config.duckdb, saved=saved)
        if saved is None:
            records = matching.clusters.height
            trained = trained_record(key, records, json.loads(matching.model_json))
            matching = replace(matching, trained_on=trained)
    result, events = assign_ids(matching.clusters, previous.select("unique_id", "entity_id"))
    records, entities = result.height, result["entity_id"].n_unique()
    del previous
    queue = review_pairs(matching.pairs, settings)
    # waiting: the queued pairs no reviewer has decided yet (as `workbench review` lists them)
    waiting = queue.select(PAIR_KEY).join(decided.select(PAIR_KEY), on=PAIR_KEY, how="anti")
    pairs_scored, queued = matching.pairs.height, waiting.height
    with store.transaction():
        write_results(
            store,
            object_name,
            run_id,
            members=result,
            pairs=matching.pairs,
            queue=queue,
            events=events,
        )
        write_review_records(store, object_name, matching.review_records)
        # the frames are written: free them, and DuckDB's memory, before the golden records
        del result, queue
        empty = pl.DataFrame()
        matching = replace(matching, clusters=empty, pairs=empty, review_records=None)
        release_memory()
        golden = build_golden(store, object_name, project.dictionary.object(object_name))
        record_run(
            store,
            object_name,
            run_id,
            started=started,
            ended=datetime.now(UTC),
            records=records,
            entities=entities,
            pairs_scored=pairs_scored,
            threshold=settings.threshold,
            model_json=matching.model_json,
            blocking=matching.blocking,
            trained_on=matching.trained_on,
        )
        audit.record(store, "resolve", {"object": object_name, "run_id": run_id}, project=project)
    counts = events.group_by("event").len()
    return ResolveReport(
        object=object_name,
        run_id=run_id,
        records=records,
        entities=entities,
        pairs_scored=pairs_scored,
        review_queue=queued,
        events=dict(zip(counts["event"].to_list(), counts["len"].to_list(), strict=True)),
        seconds=time.perf_counter() - clock,
        model_reused=matching.reused,
        golden_rebuilt=golden.rebuilt,
    )
