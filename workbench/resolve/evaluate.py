"""Accuracy against a ground truth: pairwise precision, recall and F1, and trap pairs.

Counts pairs without listing them: records in the same predicted cluster and the same true
person are true positives, ``n * (n - 1) / 2`` per (cluster, person) group.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class PairwiseScores:
    """Pairwise accuracy of a clustering."""

    records: int
    predicted_pairs: int
    true_pairs: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(frame: pl.DataFrame, *keys: str) -> int:
    sizes = frame.group_by(*keys).len()["len"]
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(clusters: pl.DataFrame, truth: pl.DataFrame) -> PairwiseScores:
    """Score ``clusters`` (unique_id, cluster_id) against ``truth`` (unique_id, person_id).

    Only records present in both take part.
    """
    joined = clusters.select("unique_id", "cluster_id").join(
        truth.select("unique_id", "person_id"), on="unique_id"
    )
    return PairwiseScores(
        records=joined.height,
        predicted_pairs=_pairs(joined, "cluster_id"),
        true_pairs=_pairs(joined, "person_id"),
        true_positives=_pairs(joined, "cluster_id", "person_id"),
    )


def merged_pairs(clusters: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``pairs`` (unique_id_l, unique_id_r, ...) whose records share a cluster."""
    ids = clusters.select("unique_id", "cluster_id")
    return (
        pairs.join(ids.rename({"unique_id": "unique_id_l", "cluster_id": "_cl"}), on="unique_id_l")
        .join(ids.rename({"unique_id": "unique_id_r", "cluster_id": "_cr"}), on="unique_id_r")
        .filter(pl.col("_cl") == pl.col("_cr"))
        .drop("_cl", "_cr")
    )
