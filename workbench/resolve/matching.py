"""Matching: train the Splink model, score candidate pairs, and cluster the records.

Everything that talks to Splink's linker: a full run (``match``) trains the model, or
reuses a saved one, and scores the blocked pairs on Splink's own DuckDB or on Spark (see
``engine``); an incremental run (``match_incremental``) scores only new and changed
records with the saved model. Reads the matching input (``inputs``); writes no warehouse
table: it returns a ``Matching`` for ``results`` to store.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import polars as pl
from splink import DuckDBAPI, Linker
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.internals.exceptions import EMTrainingException
from splink.internals.splink_dataframe import SplinkDataFrame

from workbench.config import DuckDBSettings, ResolveConfig
from workbench.errors import ResolutionError
from workbench.resolve.clusters import cluster_records, review_pairs
from workbench.resolve.engine import (
    SplinkDB,
    duckdb_model,
    matching_db,
    register,
    release_memory,
    splink_db,
    to_polars,
)
from workbench.resolve.features import Features
from workbench.resolve.inputs import (
    INPUT,
    RECORD_COLUMNS,
    input_frame,
    load_input,
    model_columns,
    model_input,
)
from workbench.resolve.model import ModelPlan, plan
from workbench.resolve.results import PAIR_COLUMNS
from workbench.store import Store, quote_ident

# tables Splink's training leaves behind (EM's sampled pairs); its term frequencies stay
TRAINING_LEFTOVERS = ("__splink__blocked_id_pairs", "__splink__df_comparison_vectors")
QUEUED = "_wb_queued"  # the records of review-queue pairs, in Splink's DuckDB


@dataclass(frozen=True)
class Matching:
    """The outcome of scoring and clustering, before it is stored."""

    clusters: pl.DataFrame  # RECORD_COLUMNS of every record matched, and its cluster_id
    pairs: pl.DataFrame  # unique_id_l, unique_id_r, match_probability, match_weight, held
    model_json: str
    blocking: list[dict[str, Any]]
    trained_on: dict[str, Any] | None = None  # see workbench.resolve.reuse
    reused: bool = False  # the previous run's model scored the pairs, without training
    review_records: pl.DataFrame | None = None  # see review_records; None on Spark


def match(
    store: Store,
    feats: Features,
    settings: ResolveConfig,
    decided: pl.DataFrame,
    limits: DuckDBSettings | None = None,
    *,
    saved: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> Matching:
    """Train, score and cluster the object's records with Splink on a private in-memory
    DuckDB (within ``limits``, the project's DuckDB memory limit and threads), or on Spark.

    With ``saved`` (a trained model and what it was trained on) nothing is trained; a saved
    model is in DuckDB's SQL, so the Spark backend always trains. On DuckDB, memory freed
    by one step is returned before the next starts (see ``release_memory``).
    """
    model = plan(feats, overrides=settings.blocking_rules)
    if settings.backend != "duckdb":
        saved = None
    with matching_db(settings, limits) as db:
        records: pl.DataFrame | None = None  # on DuckDB read from INPUT at the end
        if isinstance(db, DuckDBAPI):
            load_input(db.duckdb_con, store, feats, model_columns(feats, settings))
            table = db.register(f"{INPUT}_model")
        else:
            frame = input_frame(store, feats)
            table = register(db, model_input(frame, feats, settings))
            records = frame.select(RECORD_COLUMNS)
            del frame
        release_memory()
        linker = Linker(table, saved[0] if saved else model.settings, log_level=logging.ERROR)
        if saved is None:
            train(linker, model, settings)
            drop_training_leftovers(db)
        release_memory()
        blocked = linker.inference.compute_blocked_pairs_for_predict()  # predict reuses it
        blocking = blocking_counts(blocked, model) if isinstance(db, DuckDBAPI) else None
        scored = linker.inference.predict(threshold_match_probability=settings.review_band[0])
        blocked.drop_table_from_database_and_remove_from_cache()
        pairs = _held(to_polars(scored, _pair_columns(scored, model)), model)
        scored.drop_table_from_database_and_remove_from_cache()
        queued = None  # (on Spark a review session reads every record instead)
        if isinstance(db, DuckDBAPI):
            queued = review_records(db, linker, review_pairs(pairs, settings))
        release_memory()
        if records is None:
            records = db.duckdb_con.sql(f"SELECT {', '.join(RECORD_COLUMNS)} FROM {INPUT}").pl()
        clusters = cluster_records(records, pairs, settings, decided)
        trained = linker.misc.save_model_to_json()
        if settings.backend != "duckdb":  # stored for DuckDB (explain, incremental runs)
            trained = duckdb_model(trained, model.settings)
        model_json = json.dumps(trained)
        if blocking is None:
            blocking = blocking_analysis(db, table, model)
    if saved:
        return Matching(
            clusters, pairs, model_json, blocking, saved[1], reused=True, review_records=queued
        )
    return Matching(clusters, pairs, model_json, blocking, review_records=queued)


def model_settings(feats: Features, settings: ResolveConfig) -> dict[str, Any]:
    """The Splink settings a full run would train, as a dictionary."""
    model = plan(feats, overrides=settings.blocking_rules)
    return model.settings.create_settings_dict(sql_dialect_str="duckdb")


def drop_training_leftovers(db: SplinkDB) -> None:
    """Drop the pairs EM sampled, which Splink keeps after training (hundreds of MB at 1M
    records) though prediction does not read them."""
    if not isinstance(db, DuckDBAPI):
        return
    con = db.duckdb_con
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE "
        + " OR ".join("starts_with(table_name, ?)" for _ in TRAINING_LEFTOVERS),
        list(TRAINING_LEFTOVERS),
    ).fetchall()
    for (name,) in names:
        con.execute(f"DROP TABLE {quote_ident(name)}")


def match_incremental(
    store: Store,
    feats: Features,
    settings: ResolveConfig,
    decided: pl.DataFrame,
    *,
    model_json: str,
    previous: pl.DataFrame,
    previous_pairs: pl.DataFrame,
    limits: DuckDBSettings | None = None,
) -> Matching:
    """Score only new and changed records with the saved model, against the unchanged ones
    and among themselves; keep the stored pairs of unchanged records.

    ``previous``: the last run's ``unique_id`` and ``feature_hash`` per record; a record
    absent from it, without a hash there, or with a different hash now has changed.
    """
    model = plan(feats, overrides=settings.blocking_rules)
    saved = json.loads(model_json)
    with splink_db(limits) as db:
        # the input, the changed records and the rest as tables of Splink's DuckDB, which
        # can spill them
        con = db.duckdb_con
        load_input(con, store, feats, model_columns(feats, settings))
        con.register(f"{INPUT}_before", previous.to_arrow())
        con.execute(
            f"CREATE TABLE {INPUT}_changed AS SELECT unique_id FROM {INPUT} "
            f"ANTI JOIN {INPUT}_before USING (unique_id, feature_hash)"
        )
        con.unregister(f"{INPUT}_before")
        for name, join in (("new", "SEMI"), ("old", "ANTI")):
            con.execute(
                f"CREATE TABLE {INPUT}_{name} AS SELECT * FROM {INPUT}_model "
                f"{join} JOIN {INPUT}_changed USING (unique_id)"
            )
        records = con.sql(f"SELECT {', '.join(RECORD_COLUMNS)} FROM {INPUT}").pl()
        changed = con.sql(f"SELECT unique_id FROM {INPUT}_changed").pl()["unique_id"]
        release_memory()
        linker = Linker(db.register(f"{INPUT}_model"), saved, log_level=logging.ERROR)
        fresh = []
        if len(changed):  # (else nothing to score)
            for column in tf_columns(saved):
                linker.table_management.compute_tf_table(column)
            low = settings.review_band[0]
            new_table = db.register(f"{INPUT}_new")
            if len(changed) < records.height:
                between = linker.inference.predict_between(
                    new_table, db.register(f"{INPUT}_old"), threshold_match_probability=low
                )
                fresh.append(_held(between.as_duckdbpyrelation().pl(), model))
            within = linker.inference.predict_within(new_table, threshold_match_probability=low)
            fresh.append(_held(within.as_duckdbpyrelation().pl(), model))
        # the stored pairs of records still there and unchanged
        unchanged = records.select("unique_id").join(changed.to_frame(), on="unique_id", how="anti")
        kept = previous_pairs
        for end in ("unique_id_l", "unique_id_r"):
            kept = kept.join(unchanged, left_on=end, right_on="unique_id", how="semi")
        pairs = pl.concat([kept.select(*PAIR_COLUMNS, "held"), *fresh], how="vertical_relaxed")
        queued = review_records(db, linker, review_pairs(pairs, settings))
    clusters = cluster_records(records, pairs, settings, decided)
    return Matching(clusters, pairs, model_json, [], review_records=queued)


def review_records(db: DuckDBAPI, linker: Linker, queue: pl.DataFrame) -> pl.DataFrame:
    """The matching input of the records in the review queue's pairs, with the term
    frequencies the model adjusts for (see ``with_term_frequencies``), in ``unique_id``
    order: all that explaining a queued pair needs, stored so that a review session does
    not rebuild the input of every record (see ``workbench.resolve.explain``)."""
    con = db.duckdb_con
    ends = pl.concat([queue["unique_id_l"], queue["unique_id_r"]]).unique()
    con.register(QUEUED, ends.to_frame("unique_id").to_arrow())
    try:
        sql, _ = with_term_frequencies(
            linker, f"{INPUT}_model", where=f"WHERE m.unique_id IN (SELECT unique_id FROM {QUEUED})"
        )
        return con.sql(f"{sql} ORDER BY m.unique_id").pl()
    finally:
        con.unregister(QUEUED)


def _held(scored: pl.DataFrame, model: ModelPlan) -> pl.DataFrame:
    """Scored pairs with ``held``: confident, but kept by the guard for a person to decide."""
    linkable = (
        model.guard.keep(scored)
        if model.guard
        else pl.Series([True] * scored.height, dtype=pl.Boolean)
    )
    return scored.select(PAIR_COLUMNS).with_columns((~linkable).alias("held"))


def _pair_columns(scored: SplinkDataFrame, model: ModelPlan) -> list[str]:
    """The columns of the scored pairs kept: the pair, its scores and what the guard reads."""
    gammas = []
    if model.guard:
        gammas = [model.guard.name_gamma, *(g for g, _ in model.guard.identifier_gammas)]
    present = {c.unquote().name for c in scored.columns}
    return [c for c in [*PAIR_COLUMNS, *gammas] if c in present]


def with_term_frequencies(
    linker: Linker, relation: str, *, where: str = ""
) -> tuple[str, list[str]]:
    """SELECT of the rows of ``relation`` (the linker's input, or some of its rows) with each
    term frequency the model adjusts for as a column ``tf_<column>``, joined as Splink joins
    them for prediction; and those columns' names. The frequencies are the linker's tables,
    computed from its whole input (once: Splink caches them). ``where`` filters the rows."""
    model = linker.misc.save_model_to_json()
    added, joins = tf_names(model), []
    for i, column in enumerate(tf_columns(model)):
        table = linker.table_management.compute_tf_table(column).physical_name
        col = quote_ident(column)
        joins.append(f"LEFT JOIN {table} t{i} ON t{i}.{col} = m.{col}")
    selected = ["m.*", *(f"t{i}.{tf}" for i, tf in enumerate(added))]
    sql = f"SELECT {', '.join(selected)} FROM {relation} m {' '.join(joins)} {where}"
    return sql, added


def tf_names(model: dict[str, Any]) -> list[str]:
    """The (quoted) names of the term-frequency columns of ``tf_columns``: ``tf_<column>``,
    as Splink names them."""
    return [quote_ident(f"tf_{column}") for column in tf_columns(model)]


def tf_columns(model: dict[str, Any]) -> list[str]:
    """Columns the saved model adjusts for term frequency."""
    found = {
        level["tf_adjustment_column"]
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
        if level.get("tf_adjustment_column")
    }
    return sorted(found)


def train(linker: Linker, model: ModelPlan, settings: ResolveConfig) -> None:
    """Prior from deterministic rules, u by random sampling, m by EM over the training rules.

    A training rule that finds no pairs (small data) is skipped; levels it would have
    trained keep Splink's default m values.
    """
    try:
        linker.training.estimate_probability_two_random_records_match(
            model.deterministic_rules, recall=settings.prior_recall
        )
        prior = linker.misc.save_model_to_json()["probability_two_random_records_match"]
    except ZeroDivisionError:  # fewer than two records: no pair at all
        prior = 0
    if not prior:
        raise ResolutionError(
            "There is too little data to train the matching model: Splink estimates how "
            "often two records are the same from pairs that share an exact identifier (an "
            "email address, or an exact id field), and no two of these records do.",
            fix="Resolve once more exports are loaded: a few hundred records, some of "
            "which share an email address (the same person in two systems), are enough. "
            "Nothing was changed.",
        )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=settings.u_max_pairs, seed=settings.seed
    )
    for rule in model.training_rules:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=settings.em_max_pairs
            )
        except EMTrainingException:
            continue


def blocking_counts(blocked: SplinkDataFrame, model: ModelPlan) -> list[dict[str, Any]]:
    """Comparisons each blocking rule generated, counted in the pairs prediction scores
    (on DuckDB): a pair counts for the first rule that finds it."""
    found = dict(
        blocked.as_duckdbpyrelation().aggregate("match_key, count(*)", "match_key").fetchall()
    )
    out, total = [], 0
    for i, rule in enumerate(model.blocking_rules):
        count = int(found.get(str(i), 0))
        total += count
        out.append(
            {
                "rule": rule.get_blocking_rule("duckdb").blocking_rule_sql,
                "comparisons": count,
                "cumulative": total,
                "estimate": False,
            }
        )
    return out


def blocking_analysis(db: SplinkDB, table: Any, model: ModelPlan) -> list[dict[str, Any]]:
    """Comparisons each blocking rule generates (on a 20% sample of records, scaled up);
    on Spark, where counting the predicted pairs would cost another pass."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records = count_comparisons_from_blocking_rules(
            table,
            blocking_rules=model.blocking_rules,
            link_type="dedupe_only",
            record_sample_proportion=0.2,
        )
    return [
        {
            "rule": r["blocking_rule"],
            "comparisons": int(r["marginal_comparison_count"]),
            "cumulative": int(r["cumulative_comparison_count"]),
            "estimate": bool(r.get("is_estimate", False)),
        }
        for r in records
    ]
