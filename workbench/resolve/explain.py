"""Why two records match or not: the match-weight waterfall of a pair under the latest model.

Each comparison contributes ``log2`` of its Bayes factor (positive: evidence for a match);
term-frequency adjustments are shown with their comparison. Starting from the prior, the
sum is the pair's match weight, and ``2**w / (1 + 2**w)`` its match probability.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import polars as pl
from splink import Linker

from workbench.config import Project
from workbench.errors import WorkbenchError
from workbench.resolve.engine import splink_db
from workbench.resolve.inputs import matching_input
from workbench.store import Store


@dataclass(frozen=True)
class Step:
    """One bar of the waterfall."""

    comparison: str
    level: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    left: str
    right: str
    steps: list[Step]

    @property
    def match_weight(self) -> float:
        return sum(s.weight for s in self.steps)

    @property
    def match_probability(self) -> float:
        return 1 / (1 + 2 ** (-self.match_weight))


def explain(project: Project, store: Store, obj: str, left: str, right: str) -> Explanation:
    """The waterfall of ``left`` vs ``right`` (``source:record_id`` each)."""
    model_json = (
        store.scalar(
            "SELECT model_json FROM id.runs WHERE object = $o ORDER BY run_id DESC LIMIT 1",
            {"o": obj},
        )
        if store.table_exists("id", "runs")
        else None
    )
    if model_json is None:
        raise WorkbenchError(f"No trained model for {obj} yet.", fix="Run `workbench resolve`.")
    model = json.loads(model_json)
    _, frame = matching_input(project, store, obj)
    pair = frame.filter(pl.col("unique_id").is_in([left, right]))
    missing = {left, right} - set(pair["unique_id"].to_list())
    if missing:
        raise WorkbenchError(
            f"No resolved {obj} record {', '.join(sorted(missing))}.",
            fix="Give records as source:record_id, e.g. from `workbench review`.",
        )
    with splink_db(project.config.duckdb) as db:
        linker = Linker(db.register(frame.to_arrow()), model, log_level=logging.ERROR)
        rows = {r["unique_id"]: r for r in pair.iter_rows(named=True)}
        scored = linker.inference.score_pair(rows[left], rows[right])
        result = scored.as_duckdbpyrelation().pl().row(0, named=True)
    return explanation(model, result, left, right)


def explanation(
    model: dict[str, Any], scored: dict[str, Any], left: str, right: str
) -> Explanation:
    """The waterfall of a pair Splink scored with ``model``: ``scored`` is its row of Splink's
    predictions, with the ``gamma_``, ``mw_`` and ``mw_tf_adj_`` columns of each comparison.
    Each bar is labelled with the level the pair fell in (its ``label_for_charts``)."""
    prior = model["probability_two_random_records_match"]
    steps = [Step("prior", "two random records match", math.log2(prior / (1 - prior)))]
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        gamma = scored.get(f"gamma_{name}")
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        label = "missing on one side"
        if gamma is not None and 0 <= gamma < len(levels):
            level = levels[len(levels) - 1 - gamma]
            label = level.get("label_for_charts") or level.get("sql_condition", "")
        weight = float(scored.get(f"mw_{name}") or 0.0)
        tf = scored.get(f"mw_tf_adj_{name}")
        if tf:
            weight += float(tf)
            label += " (adjusted for how common the value is)"
        steps.append(Step(name, label, weight))
    return Explanation(left, right, steps)
