"""Stable entity ids: an entity keeps its id while its records persist.

Each new cluster takes the id of the previous entity it shares the most records with
(each previous id goes to one cluster at most: the one holding most of its records).
Clusters that inherit nothing get a new id derived from their smallest member. What
changed is recorded as events: ``new``, ``merge`` (an old entity folded into another),
``split`` (part of an old entity became a new one) and ``retired`` (no records left).
"""

from __future__ import annotations

import hashlib

import polars as pl

EVENT_SCHEMA = {"event": pl.String, "entity_id": pl.String, "other_entity_id": pl.String}


def new_entity_id(first_member: str) -> str:
    return "E" + hashlib.sha1(first_member.encode()).hexdigest()[:12]


def assign_ids(
    clusters: pl.DataFrame, previous: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Entity ids for ``clusters`` (unique_id, cluster_id), stable against ``previous``
    (unique_id, entity_id). Returns (unique_id, entity_id) and the events."""
    firsts = clusters.group_by("cluster_id").agg(pl.col("unique_id").min().alias("first"))
    taken: dict[object, str] = {}
    used: set[str] = set()
    if previous is not None and previous.height:
        overlap = (
            clusters.join(previous.rename({"entity_id": "old"}), on="unique_id")
            .group_by("cluster_id", "old")
            .len()
            .sort(["len", "old", "cluster_id"], descending=[True, False, False])
        )
        for cluster_id, old, _ in overlap.iter_rows():
            if cluster_id not in taken and old not in used:
                taken[cluster_id] = old
                used.add(old)
    known = set(previous["entity_id"].unique().to_list()) if previous is not None else set()
    ids: dict[object, str] = {}
    for cluster_id, first in firsts.sort("first").iter_rows():
        if cluster_id in taken:
            ids[cluster_id] = taken[cluster_id]
            continue
        candidate, n = new_entity_id(first), 1
        while candidate in known or candidate in used:
            n += 1
            candidate = f"{new_entity_id(first)}-{n}"
        ids[cluster_id] = candidate
        used.add(candidate)
    mapping = pl.DataFrame(
        {"cluster_id": list(ids), "entity_id": list(ids.values())},
        schema={"cluster_id": clusters.schema["cluster_id"], "entity_id": pl.String},
    )
    members = clusters.join(mapping, on="cluster_id").select("unique_id", "entity_id")
    return members, _events(members, previous)


def _events(members: pl.DataFrame, previous: pl.DataFrame | None) -> pl.DataFrame:
    if previous is None or previous.height == 0:
        return pl.DataFrame(
            [("new", e, None) for e in sorted(members["entity_id"].unique().to_list())],
            schema=EVENT_SCHEMA,
            orient="row",
        )
    pairs = (
        members.join(previous.rename({"entity_id": "old"}), on="unique_id", how="full")
        .select("entity_id", "old")
        .unique()
    )
    current = set(members["entity_id"].to_list())
    before = set(previous["entity_id"].to_list())
    rows: list[tuple[str, str | None, str | None]] = []
    for new, old in pairs.drop_nulls().sort("entity_id", "old").iter_rows():
        if new != old and old in current:
            rows.append(("split", new, old))  # old id lives on elsewhere
        elif new != old:
            rows.append(("merge", new, old))  # old entity's records now belong to new
    inherited = set(pairs.drop_nulls()["entity_id"].to_list())
    rows += [("new", e, None) for e in sorted(current - before - inherited)]
    survivors = current | {r[2] for r in rows if r[0] == "merge"}
    rows += [("retired", e, None) for e in sorted(before - survivors)]
    return pl.DataFrame(rows, schema=EVENT_SCHEMA, orient="row")
