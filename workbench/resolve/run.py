"""Resolve: train the Splink model, score candidate pairs, cluster records into entities.

Reads ``core.<object>``, runs Splink on its own in-memory DuckDB (the warehouse holds only
results), and writes ``id.members`` (one row per record with its ``entity_id``) and
``id.runs`` (the trained model as JSON and the counts of each run).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl
from splink import DuckDBAPI, Linker

from workbench.config import Project
from workbench.errors import WorkbenchError
from workbench.resolve.features import features
from workbench.resolve.model import ModelPlan, plan
from workbench.resolve.nicknames import TABLE as NAME_FORMS
from workbench.resolve.nicknames import name_forms
from workbench.store import Store

DDL = (
    "CREATE SEQUENCE IF NOT EXISTS id.run_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS id.runs (
        run_id BIGINT PRIMARY KEY, object VARCHAR, started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ, records BIGINT, entities BIGINT, pairs_scored BIGINT,
        threshold DOUBLE, model_json VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS id.members (
        object VARCHAR, unique_id VARCHAR, source VARCHAR, record_id VARCHAR,
        entity_id VARCHAR, run_id BIGINT)""",
)


@dataclass(frozen=True)
class ResolveReport:
    """What a resolution run produced."""

    object: str
    run_id: int
    records: int
    entities: int
    pairs_scored: int
    seconds: float

    @property
    def duplicate_rate(self) -> float:
        return (self.records - self.entities) / self.records if self.records else 0.0


def resolve(
    project: Project,
    store: Store,
    *,
    object_name: str = "contacts",
    on_step: Callable[[str], None] | None = None,
) -> ResolveReport:
    """Match the object's core records and store who is who (``id.members``)."""
    settings = project.config.resolve
    started = datetime.now(UTC)
    clock = time.perf_counter()
    spec = project.dictionary.object(object_name)
    if not store.table_exists("core", object_name):
        raise WorkbenchError(
            f"There are no validated {object_name} to resolve.",
            fix="Run `workbench ingest` and `workbench validate` first.",
        )
    feats = features(object_name, spec, store.columns("core", object_name))
    if not feats.fields:
        raise WorkbenchError(
            f"No field of {object_name} is marked as an identity field.",
            where="dictionary.yaml, key objects." + object_name,
            fix="Give the fields used for matching an `identity:` kind (name, email, ...).",
        )
    store.con.register(NAME_FORMS, name_forms())
    try:
        frame = store.frame(feats.sql)
    finally:
        store.con.unregister(NAME_FORMS)
    model = plan(feats, overrides=settings.blocking_rules)
    con = duckdb.connect()
    try:
        db = DuckDBAPI(con)
        linker = Linker(db.register(frame.to_arrow()), model.settings, log_level=logging.ERROR)
        if on_step:
            on_step(f"train {object_name}")
        train(linker, model, settings.prior_recall, settings.u_max_pairs, settings.seed)
        if on_step:
            on_step(f"match {object_name}")
        scored = linker.inference.predict(threshold_match_probability=settings.review_band[0])
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            scored, threshold_match_probability=settings.threshold
        )
        members = clusters.as_duckdbpyrelation().pl().select("unique_id", "cluster_id")
        pairs_scored = int(scored.as_duckdbpyrelation().count("*").fetchone()[0])  # type: ignore[index]
        model_json = json.dumps(linker.misc.save_model_to_json())
    finally:
        con.close()
    entities = _entity_ids(members)
    result = frame.select("unique_id", "source", "record_id").join(entities, on="unique_id")
    run_id = _save(
        store, object_name, result, started, pairs_scored, settings.threshold, model_json
    )
    return ResolveReport(
        object=object_name,
        run_id=run_id,
        records=result.height,
        entities=result["entity_id"].n_unique(),
        pairs_scored=pairs_scored,
        seconds=time.perf_counter() - clock,
    )


def train(
    linker: Linker, model: ModelPlan, prior_recall: float, u_max_pairs: float, seed: int
) -> None:
    """Prior from deterministic rules, u by random sampling, m by EM over the training rules."""
    linker.training.estimate_probability_two_random_records_match(
        model.deterministic_rules, recall=prior_recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    for rule in model.training_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)


def _entity_ids(members: pl.DataFrame) -> pl.DataFrame:
    """Entity ids derived from each cluster's smallest member: the same for the same cluster."""
    first = members.group_by("cluster_id").agg(pl.col("unique_id").min().alias("_first"))
    ids = first.with_columns(
        pl.col("_first")
        .map_elements(lambda u: "E" + hashlib.sha1(u.encode()).hexdigest()[:12], pl.String)
        .alias("entity_id")
    )
    return members.join(ids, on="cluster_id").select("unique_id", "entity_id")


def _save(
    store: Store,
    obj: str,
    members: pl.DataFrame,
    started: datetime,
    pairs: int,
    threshold: float,
    model_json: str,
) -> int:
    for statement in DDL:
        store.execute(statement)
    run_id = int(store.scalar("SELECT nextval('id.run_id_seq')"))
    with store.transaction():
        store.execute("DELETE FROM id.members WHERE object = $o", {"o": obj})
        store.con.register("_wb_members", members)
        store.execute(
            "INSERT INTO id.members SELECT $o, unique_id, source, record_id, entity_id, $r "
            "FROM _wb_members",
            {"o": obj, "r": run_id},
        )
        store.con.unregister("_wb_members")
        store.execute(
            "INSERT INTO id.runs VALUES ($r, $o, $s, $e, $n, $k, $p, $t, $m)",
            {
                "r": run_id,
                "o": obj,
                "s": started,
                "e": datetime.now(UTC),
                "n": members.height,
                "k": members["entity_id"].n_unique(),
                "p": pairs,
                "t": threshold,
                "m": model_json,
            },
        )
    return run_id


def members_of(store: Store, obj: str) -> pl.DataFrame:
    """The latest resolution of an object: source, record_id, entity_id per record."""
    if not store.table_exists("id", "members"):
        raise WorkbenchError("Nothing has been resolved yet.", fix="Run `workbench resolve`.")
    return store.frame(
        "SELECT source, record_id, entity_id FROM id.members WHERE object = $o "
        "ORDER BY source, record_id",
        {"o": obj},
    )
