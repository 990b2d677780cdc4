"""Splink's own views of a resolution, offline and masked: the comparison viewer and cluster
studio dashboards, the model's parameters (m, u and match weight of every comparison level)
and a pair's match-weight waterfall.

The views read a small sample drawn deterministically from the stored resolution
(:mod:`workbench.report.splink_sample`) and scored again by Splink with the stored model
(``id.runs.model_json``). Only the sampled records' matching features are computed, with
the company names their employer can be (those whose key is the domain of a sampled record's
email). The term
frequencies a model adjusts for are those of every record: up to
:data:`EXACT_TF_MAX_RECORDS` records they are counted in one pass of the features over all
of them, so each pair scores exactly what the resolution scored. Above that the pass would
cost seconds, and the views score without the term-frequency adjustments (said where they
are shown); the waterfall then shows the adjustments of the pair as one bar, the
difference to the weight the resolution stored.

Personal data is masked before anything reaches a view (unless the report is unmasked): the
dictionary's ``pii`` classes decide, and columns derived from personal fields (full name,
forename variants) are masked like the field they come from. Splink sees the scores of the
real values but renders masked copies of the records (:mod:`workbench.privacy`).

The dashboards are Splink's own HTML pages, made offline
(:mod:`workbench.report.splink_dashboards`).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import polars as pl
from splink import DuckDBAPI, Linker

from workbench.config import Project
from workbench.privacy import CONTACT, Rule, mask_frame, mask_rules
from workbench.report.splink_dashboards import cluster_studio, comparison_viewer, embedded, offline
from workbench.report.splink_sample import (
    CANDIDATES_PARAMS,
    CANDIDATES_SQL,
    CLUSTERS,
    MAX_CLUSTER_RECORDS,
    PAIRS,
    SIZED_SQL,
    Sample,
    cluster_candidates,
    draw_sample,
    per_band,
    sample_input,
    term_frequencies,
    tf_columns,
)
from workbench.resolve.engine import splink_db
from workbench.resolve.explain import Explanation, Step, explanation
from workbench.resolve.features import Features
from workbench.resolve.inputs import matching_features
from workbench.store import Store

__all__ = [  # the sample and the dashboards are read from here too
    "CANDIDATES_PARAMS",
    "CANDIDATES_SQL",
    "CLUSTERS",
    "DROPPED",
    "EXACT_TF_MAX_RECORDS",
    "MAX_CLUSTER_RECORDS",
    "PAIRS",
    "SIZED_SQL",
    "Sample",
    "SplinkViews",
    "build",
    "cluster_candidates",
    "draw_sample",
    "embedded",
    "input_rules",
    "latest_model",
    "offline",
    "per_band",
    "sample_input",
]

# records up to which term frequencies are counted over all records (a second or two)
EXACT_TF_MAX_RECORDS = 200_000
# columns of the matching input that are not values of a record
NOT_VALUES = {"unique_id", "source", "record_id", "feature_hash", "cluster_id"}
DROPPED = ("feature_hash", "rare_full_name")  # not shown: a hash of values, a blocking key


@dataclass(frozen=True)
class SplinkViews:
    """What Splink shows of one resolution (see the module docstring)."""

    model: dict[str, Any]
    parameters: pl.DataFrame  # Splink's records of the levels: comparison_name, label, m, u, ...
    sample: Sample
    comparison_viewer: str | None  # offline HTML page (None: no scored pair)
    cluster_studio: str | None  # offline HTML page (None: no entity of several records)
    waterfall: Explanation | None
    exact: bool  # scored with the term frequencies of all records
    # without them: the largest difference between a sampled pair's weight and the stored one
    tf_gap: float
    masked: bool
    seconds: float


def latest_model(store: Store, obj: str) -> dict[str, Any] | None:
    """The model of the object's latest resolution run (None before the first)."""
    if not store.table_exists("id", "runs"):
        return None
    found = store.scalar(
        "SELECT model_json FROM id.runs WHERE object = $o ORDER BY run_id DESC LIMIT 1",
        {"o": obj},
    )
    return json.loads(found) if found else None


def build(
    project: Project,
    store: Store,
    obj: str,
    *,
    masked: bool = True,
    candidates: pl.DataFrame | None = None,
) -> SplinkViews | None:
    """Splink's views of the latest resolution of ``obj`` (None when it has none).

    ``candidates``: cluster studio's candidate entities (entity_id, size, k) when the caller
    has read them with the memberships already
    (:data:`~workbench.report.splink_sample.CANDIDATES_SQL`).
    """
    clock = time.perf_counter()
    with _held(store):  # the reads share one connection, closed before Splink runs
        model = latest_model(store, obj)
        if model is None:
            return None
        feats = matching_features(project, store, obj)
        sample = draw_sample(store, obj, candidates)
        records = sample_input(store, feats, sample)
        adjusted = tf_columns(model)
        exact = sample.records <= EXACT_TF_MAX_RECORDS
        frequencies = (
            term_frequencies(store, feats, records, adjusted) if exact and adjusted else {}
        )
    rules = input_rules(project, obj, feats) if masked else None
    with splink_db(project.config.duckdb) as db:
        linker = Linker(
            db.register(records.to_arrow()),
            _settings(model, exact),
            log_level=logging.ERROR,
            # the stored model was checked when it was trained; its warnings would be hidden
            validate_settings=False,
        )
        parameters = _parameters(linker)
        for column, lookup in frequencies.items():
            linker.table_management.register_term_frequency_lookup(
                db.register(lookup.to_arrow()), column
            )
        viewer = studio = None
        waterfall = None
        tf_gap = 0.0
        if sample.pairs.height:
            scored = _score(db, linker, sample.pairs)
            if not exact:
                gaps = scored.join(sample.pairs, on=["unique_id_l", "unique_id_r"]).select(
                    (pl.col("match_weight") - pl.col("match_weight_right")).abs().max()
                )
                tf_gap = float(gaps.item() or 0.0)
            waterfall = _waterfall(model, scored, sample.uncertain, exact)
            shown = scored.drop(_dropped(scored.columns))
            if rules is not None:
                shown = mask_frame(shown, _pair_rules(shown.columns, rules))
            viewer_pairs = shown.join(
                sample.pairs.filter("viewer").select("unique_id_l", "unique_id_r"),
                on=["unique_id_l", "unique_id_r"],
                how="semi",
            )
            viewer = comparison_viewer(db, linker, viewer_pairs)
            if sample.members.height:
                nodes = records.join(sample.members, on="unique_id")
                nodes = nodes.drop(_dropped(nodes.columns))
                if rules is not None:
                    nodes = mask_frame(nodes, _node_rules(nodes.columns, rules))
                studio = cluster_studio(db, linker, shown, nodes, sample)
    return SplinkViews(
        model,
        parameters,
        sample,
        viewer,
        studio,
        waterfall,
        exact,
        tf_gap,
        masked,
        time.perf_counter() - clock,
    )


def _settings(model: dict[str, Any], exact: bool) -> dict[str, Any]:
    """The stored model as the views score with it: every weight kept, the records' source
    shown, and without term-frequency adjustments unless they are ``exact``."""
    settings = copy.deepcopy(model)
    settings["retain_matching_columns"] = True
    settings["retain_intermediate_calculation_columns"] = True
    settings["additional_columns_to_retain"] = ["source"]
    if not exact:
        for comparison in settings["comparisons"]:
            for level in comparison["comparison_levels"]:
                level.pop("tf_adjustment_column", None)
                level.pop("tf_adjustment_weight", None)
    return settings


def _parameters(linker: Linker) -> pl.DataFrame:
    """Splink's records of the model's levels (prior first): what its match weights and
    m/u parameter charts draw."""
    chart = linker.visualisations.match_weights_chart().chart_dict
    return pl.DataFrame(chart["data"]["values"], infer_schema_length=None)


def _held(store: Store) -> AbstractContextManager[Any]:
    """``store.held()`` where the store has it (one connection for the reads in the block,
    for a store that otherwise opens the warehouse per read)."""
    held = getattr(store, "held", None)
    return held() if held is not None else nullcontext(store)


def _dropped(columns: list[str]) -> list[str]:
    return [c for c in columns if re.sub(r"_[lr]$", "", c) in DROPPED]


def _waterfall(
    model: dict[str, Any],
    scored: pl.DataFrame,
    uncertain: tuple[str, str, float] | None,
    exact: bool,
) -> Explanation | None:
    """The waterfall of the most uncertain pair; without exact term frequencies their
    adjustments are one bar, the difference to the weight the resolution stored."""
    if uncertain is None:
        return None
    left, right, stored = uncertain
    row = scored.filter((pl.col("unique_id_l") == left) & (pl.col("unique_id_r") == right))
    if not row.height:
        return None
    found = explanation(model, row.row(0, named=True), left, right)
    if exact or abs(stored - found.match_weight) < 1e-9:
        return found
    label = "how common the values are (term frequencies, all comparisons together)"
    step = Step("term frequencies", label, stored - found.match_weight)
    return Explanation(left, right, [*found.steps, step])


def _score(db: DuckDBAPI, linker: Linker, pairs: pl.DataFrame) -> pl.DataFrame:
    """Splink's predictions for exactly ``pairs`` (no blocking)."""
    blocked = pairs.select(
        pl.lit("0").alias("match_key"),
        pl.col("unique_id_l").alias("join_key_l"),
        pl.col("unique_id_r").alias("join_key_r"),
    )
    linker.table_management.register_blocked_pairs_for_predict(db.register(blocked.to_arrow()))
    return linker.inference.predict().as_duckdbpyrelation().pl()


# -- masking ---------------------------------------------------------------------------------


def input_rules(project: Project, obj: str, feats: Features) -> dict[str, Rule | None]:
    """How each column of the matching input is masked (None: shown as it is): the
    dictionary's pii class of the field, or of the field a derived column comes from."""
    rules: dict[str, Rule | None] = dict(mask_rules(project.dictionary.object(obj)))
    for field in feats.fields:
        rules.setdefault(field.name, None)
    names = feats.of_kind("name")
    if names:
        for derived in ("full_name", "rare_full_name", "first_forms"):
            rules[derived] = rules.get(names[0])
    companies = feats.of_kind("company")
    if feats.employer and companies:
        rules[feats.employer] = rules.get(companies[0])
    return rules


def _pair_rules(columns: list[str], rules: dict[str, Rule | None]) -> dict[str, Rule | None]:
    """The rule of each value column of scored pairs (``<column>_l`` and ``<column>_r``); a
    column not known to be safe is masked as contact data."""
    out = {}
    for column in columns:
        base = re.sub(r"_[lr]$", "", column)
        if (
            column.endswith(("_l", "_r"))
            and not column.startswith(("tf_", "bf_", "gamma_", "mw_"))
            and base not in NOT_VALUES
        ):
            out[column] = rules.get(base, CONTACT)
    return out


def _node_rules(columns: list[str], rules: dict[str, Rule | None]) -> dict[str, Rule | None]:
    """The rule of each value column of records; a column not known to be safe is masked as
    contact data."""
    return {c: rules.get(c, CONTACT) for c in columns if c not in NOT_VALUES}
