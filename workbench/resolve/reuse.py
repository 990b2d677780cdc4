"""Reusing the last run's trained model while the data keeps its shape.

Training (prior, u by sampling, m by EM) is most of a full run's cost and changes little
while the data does. A run reuses the previous model when the model it would train has
the same comparisons and blocking rules, the training settings are the same, and the
number of records is within ``TOLERANCE`` of the number the model was trained on. The
prior (the chance that two random records match) is rescaled to the new size: with a
steady duplicate rate, matches grow with the records and pairs with their square.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from workbench.config import ResolveConfig

TOLERANCE = 0.1  # share by which the record count may drift from the trained-on count
PRIOR = "probability_two_random_records_match"


def training_key(model_settings: dict[str, Any], settings: ResolveConfig) -> dict[str, Any]:
    """What a trained model depends on, apart from the data: the model's structure
    (comparison levels, blocking rules) and the training settings."""
    structure = {
        "link_type": model_settings.get("link_type"),
        "blocking": [
            r["blocking_rule"] for r in model_settings["blocking_rules_to_generate_predictions"]
        ],
        "comparisons": [
            [c["output_column_name"]]
            + [
                [lv["sql_condition"], lv.get("tf_adjustment_column")]
                for lv in c["comparison_levels"]
            ]
            for c in model_settings["comparisons"]
        ],
    }
    digest = hashlib.sha256(json.dumps(structure, sort_keys=True).encode()).hexdigest()
    return {
        "structure": digest,
        "u_max_pairs": settings.u_max_pairs,
        "em_max_pairs": settings.em_max_pairs,
        "prior_recall": settings.prior_recall,
        "seed": settings.seed,
    }


def reusable_model(
    model_json: str | None, trained_on: str | None, key: dict[str, Any], records: int
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The saved model, its prior rescaled to ``records``, and what it was trained on;
    None when it must be trained again."""
    if not model_json or not trained_on or records < 2:
        return None
    trained = json.loads(trained_on)
    if any(trained.get(k) != v for k, v in key.items()):
        return None
    n = int(trained["records"])
    if n < 2 or abs(records - n) > TOLERANCE * n:
        return None
    model = json.loads(model_json)
    model[PRIOR] = float(trained["prior"]) * (n - 1) / (records - 1)
    return model, trained


def trained_record(key: dict[str, Any], records: int, model: dict[str, Any]) -> dict[str, Any]:
    """What a freshly trained model was trained on (kept with the run)."""
    return {**key, "records": records, "prior": model[PRIOR]}
