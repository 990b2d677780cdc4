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


def duplicate_rates(members: pl.DataFrame) -> pl.DataFrame:
    """Per source and overall (``all``): records, entities, (records - entities) / records.

    ``members`` has source and entity_id, one row per record.
    """
    per_source = members.group_by("source").agg(
        pl.len().alias("records"), pl.col("entity_id").n_unique().alias("entities")
    )
    overall = members.select(
        pl.lit("all").alias("source"),
        pl.len().alias("records"),
        pl.col("entity_id").n_unique().alias("entities"),
    )
    both = pl.concat([per_source.sort("source"), overall], how="vertical_relaxed")
    return both.with_columns(
        ((pl.col("records") - pl.col("entities")) / pl.col("records")).alias("duplicate_rate")
    )


def coverage(members: pl.DataFrame, anchor_sources: list[str]) -> pl.DataFrame:
    """Share of each other source's records linked to an entity holding an anchor record
    (e.g. billing customers and support requesters linked to a CRM contact)."""
    anchored = members.filter(pl.col("source").is_in(anchor_sources)).select("entity_id").unique()
    linked = members.join(anchored.with_columns(pl.lit(True).alias("_a")), on="entity_id",
                          how="left")  # fmt: skip
    return (
        linked.filter(~pl.col("source").is_in(anchor_sources))
        .group_by("source")
        .agg(pl.len().alias("records"), pl.col("_a").fill_null(False).mean().alias("linked_share"))
        .sort("source")
    )


def threshold_sensitivity(
    unique_ids: list[str], pairs: pl.DataFrame, thresholds: list[float]
) -> pl.DataFrame:
    """Entities and duplicate rate if records were linked at each threshold instead.

    ``pairs`` are the scored pairs (unique_id_l, unique_id_r, match_probability); reviewers'
    decisions are not applied here. Pairs of records outside ``unique_ids`` are ignored.
    """
    ids = pl.DataFrame({"unique_id": unique_ids}, schema={"unique_id": pl.String})
    inside = (
        pairs.with_columns(pl.col("unique_id_l", "unique_id_r").cast(pl.String))
        .join(ids, left_on="unique_id_l", right_on="unique_id", how="semi")
        .join(ids, left_on="unique_id_r", right_on="unique_id", how="semi")
    )
    return threshold_sensitivity_counts(len(unique_ids), inside, thresholds)


def threshold_sensitivity_counts(
    records: int, pairs: pl.DataFrame, thresholds: list[float]
) -> pl.DataFrame:
    """:func:`threshold_sensitivity` for ``records`` records of which ``pairs`` name some.

    One pass of union-find over the records the pairs name (the others stay alone): pairs are
    joined from the most to the least probable, and components are read off at each threshold.
    """
    nodes = (
        pl.concat([pairs["unique_id_l"], pairs["unique_id_r"]]).cast(pl.String).unique()
        .to_frame("unique_id").with_row_index("code")
    )  # fmt: skip
    ordered = (
        pairs.with_columns(pl.col("unique_id_l", "unique_id_r").cast(pl.String))
        .join(nodes.rename({"unique_id": "unique_id_l", "code": "a"}), on="unique_id_l")
        .join(nodes.rename({"unique_id": "unique_id_r", "code": "b"}), on="unique_id_r")
        .sort("match_probability", descending=True)
    )
    left, right = ordered["a"].to_list(), ordered["b"].to_list()
    probability = ordered["match_probability"].to_list()
    parent = list(range(nodes.height))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    components, i, results = records, 0, {}
    for threshold in sorted(set(thresholds), reverse=True):
        while i < len(left) and probability[i] >= threshold:
            ra, rb = find(left[i]), find(right[i])
            if ra != rb:
                parent[ra] = rb
                components -= 1
            i += 1
        results[threshold] = (i, components)
    return pl.DataFrame(
        [
            {
                "threshold": t,
                "linked_pairs": results[t][0],
                "entities": results[t][1],
                "duplicate_rate": (records - results[t][1]) / records if records else 0.0,
            }
            for t in thresholds
        ]
    )
