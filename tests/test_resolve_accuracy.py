"""The issue's accuracy goal at 10,000 contacts: pairwise F1 >= 0.97 against the demo's
ground truth, and no trap pair (namesakes, shared mailboxes, households) merged at the
default threshold. (At 1M contacts the goal, F1 >= 0.95, is printed by `make bench`.)"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.resolve.evaluate import Evaluation, merged_pairs
from workbench.store import open_store

pytestmark = pytest.mark.slow  # heavy: run by `make test-slow`


@pytest.fixture(scope="module")
def demo_10k(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("accuracy") / "demo"
    assert main(["demo", "--project", str(folder), "--contacts", "10000"]) == 0
    return folder


def test_f1_at_least_097_and_no_trap_merged_at_10k(demo_10k):
    with open_store(load_project(demo_10k), read_only=True) as store:
        members = store.frame("SELECT unique_id, entity_id AS cluster_id FROM id.members")
    truth = demo_10k / "truth" / "contacts_truth.csv"  # read as `workbench evaluate` reads it
    scores = Evaluation.of_frames(members.rename({"cluster_id": "entity_id"})).pairwise_scores(
        truth
    )
    assert scores.records == members.height
    assert scores.f1 >= 0.97, scores
    traps = pl.read_csv(
        demo_10k / "truth" / "trap_pairs.csv",
        schema_overrides={"record_id_l": pl.String, "record_id_r": pl.String},
    ).with_columns(
        (pl.col("source_l") + ":" + pl.col("record_id_l")).alias("unique_id_l"),
        (pl.col("source_r") + ":" + pl.col("record_id_r")).alias("unique_id_r"),
    )
    assert set(traps["trap"]) == {"namesake", "household", "shared_mailbox"}
    merged = merged_pairs(members, traps)
    assert merged.height == 0, merged["trap"].value_counts()
