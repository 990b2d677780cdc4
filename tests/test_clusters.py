"""Clusters: connected components of the confident pairs, checked against a union-find
written here."""

from __future__ import annotations

import random

import polars as pl

from workbench.config import ResolveConfig
from workbench.resolve.clusters import cluster_records

SETTINGS = ResolveConfig(threshold=0.9)
NO_DECISIONS = pl.DataFrame(
    schema={"unique_id_l": pl.String, "unique_id_r": pl.String, "decision": pl.String}
)


def records(ids: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"unique_id": ids, "source": ["crm"] * len(ids)},
        schema={"unique_id": pl.String, "source": pl.String},
    )


def pairs(rows: list[tuple[str, str, float, bool]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"unique_id_l": pl.String, "unique_id_r": pl.String,
                "match_probability": pl.Float64, "held": pl.Boolean},
        orient="row",
    ).with_columns(match_weight=pl.lit(1.0))  # fmt: skip


def groups(clustered: pl.DataFrame) -> set[frozenset[str]]:
    by_cluster: dict[int, set[str]] = {}
    for uid, cluster in clustered.select("unique_id", "cluster_id").iter_rows():
        by_cluster.setdefault(cluster, set()).add(uid)
    return {frozenset(g) for g in by_cluster.values()}


def union_find(ids: list[str], links: list[tuple[str, str]]) -> set[frozenset[str]]:
    parent = {i: i for i in ids}

    def root(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in links:
        if a in parent and b in parent:
            parent[root(a)] = root(b)
    found: dict[str, set[str]] = {}
    for i in ids:
        found.setdefault(root(i), set()).add(i)
    return {frozenset(g) for g in found.values()}


def test_clusters_are_the_components_of_confident_unheld_pairs_and_decisions():
    ids = ["a", "b", "c", "d", "e", "f", "g"]
    scored = pairs(
        [
            ("a", "b", 0.95, False),  # linked
            ("b", "c", 0.90, False),  # at the threshold: linked
            ("d", "e", 0.89, False),  # below it
            ("e", "f", 0.99, True),  # held for a person
            ("f", "g", 0.97, False),  # rejected by a reviewer below
            ("a", "zz", 0.99, False),  # a record not matched this run
        ]
    )
    decided = pl.DataFrame(
        {"unique_id_l": ["f", "d"], "unique_id_r": ["g", "e"], "decision": ["no_match", "match"]}
    )
    clustered = cluster_records(records(ids), scored, SETTINGS, decided)
    assert groups(clustered) == {
        frozenset("abc"), frozenset("de"), frozenset("f"), frozenset("g")
    }  # fmt: skip
    assert clustered["unique_id"].to_list() == ids  # one row per record, in their order
    assert clustered["source"].to_list() == ["crm"] * len(ids)  # their columns kept


def test_cluster_ids_follow_the_smallest_member_whatever_the_order_of_the_records():
    # assign_ids breaks ties by cluster id: the same data must give the same ids
    rng = random.Random(3)
    ids = [f"s:{i}" for i in range(200)]
    rows = [(rng.choice(ids), rng.choice(ids), 0.95, False) for _ in range(120)]
    first = cluster_records(records(ids), pairs(rows), SETTINGS, NO_DECISIONS)
    by_id = dict(first.select("unique_id", "cluster_id").iter_rows())
    for _ in range(5):
        shuffled = ids[:]
        rng.shuffle(shuffled)
        again = cluster_records(records(shuffled), pairs(rows), SETTINGS, NO_DECISIONS)
        assert dict(again.select("unique_id", "cluster_id").iter_rows()) == by_id
    # worked out here: clusters numbered 0, 1, ... in the order of their smallest member
    smallest = sorted(min(group) for group in union_find(ids, [(a, b) for a, b, *_ in rows]))
    assert [by_id[member] for member in smallest] == list(range(len(smallest)))


def test_no_records_no_clusters():
    assert cluster_records(records([]), pairs([]), SETTINGS, NO_DECISIONS).height == 0


def test_clusters_of_random_graphs_match_a_union_find():
    rng = random.Random(7)
    for _ in range(20):
        ids = [f"s:{i}" for i in rng.sample(range(10_000), rng.randint(1, 300))]
        rows = []
        for _ in range(rng.randint(0, 400)):
            a, b = rng.choice(ids), rng.choice(ids)
            rows.append((a, b, rng.random(), rng.random() < 0.1))
        linked = [(a, b) for a, b, p, held in rows if p >= SETTINGS.threshold and not held]
        clustered = cluster_records(records(ids), pairs(rows), SETTINGS, NO_DECISIONS)
        assert groups(clustered) == union_find(ids, linked)
        assert clustered.height == len(ids)
