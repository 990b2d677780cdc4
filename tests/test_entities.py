"""Stable entity ids and the events between runs, worked out by hand."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from workbench.resolve.entities import assign_ids, new_entity_id, new_entity_ids
from workbench.resolve.review import apply_decisions


def clusters(mapping: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame({"unique_id": list(mapping), "cluster_id": list(mapping.values())})


def previous(mapping: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"unique_id": list(mapping), "entity_id": list(mapping.values())})


def as_dict(members: pl.DataFrame) -> dict[str, str]:
    return dict(members.iter_rows())


def events(frame: pl.DataFrame) -> set[tuple]:
    return set(frame.iter_rows())


def test_new_ids_are_the_sha1_of_the_smallest_member_in_bulk_as_one_by_one():
    firsts = ["crm:1", "billing:Zoë-7", "support:ü:ß", "x" * 300]
    # worked out with hashlib here: E and the first 12 hex digits of SHA-1 of the UTF-8
    by_hand = ["E" + hashlib.sha1(f.encode("utf-8")).hexdigest()[:12] for f in firsts]
    assert new_entity_ids(pl.Series(firsts)).to_list() == by_hand  # DuckDB's SHA-1
    assert [new_entity_id(f) for f in firsts] == by_hand  # (one at a time, Python's)
    assert by_hand[0] == "E1ed4737672cd"  # ids stay what earlier versions made


def test_a_new_id_already_in_use_gets_a_suffix():
    # X was made from "a"; b and c keep it, "a" splits off and its own id would be X again
    x = new_entity_id("a")
    members, ev = assign_ids(clusters({"a": 1, "b": 2, "c": 2}), previous(dict.fromkeys("abc", x)))
    assert as_dict(members) == {"a": f"{x}-2", "b": x, "c": x}
    assert events(ev) == {("split", f"{x}-2", x)}
    # "a" splits off again while both X and X-2 live on elsewhere: X-3
    members, ev = assign_ids(
        clusters({"a": 1, "b": 2, "d": 2, "c": 3}),
        previous({"a": x, "b": x, "d": x, "c": f"{x}-2"}),
    )
    assert as_dict(members) == {"a": f"{x}-3", "b": x, "d": x, "c": f"{x}-2"}
    assert events(ev) == {("split", f"{x}-3", x)}


def test_first_run_ids_come_from_the_smallest_member():
    members, ev = assign_ids(clusters({"a": 1, "b": 1, "c": 2}), None)
    assert as_dict(members) == {
        "a": new_entity_id("a"),
        "b": new_entity_id("a"),
        "c": new_entity_id("c"),
    }
    assert events(ev) == {("new", new_entity_id("a"), None), ("new", new_entity_id("c"), None)}


def test_unchanged_entities_keep_their_ids_even_when_cluster_numbers_change():
    before = previous({"a": "E1", "b": "E1", "c": "E2"})
    members, ev = assign_ids(clusters({"a": 7, "b": 7, "c": 3}), before)
    assert as_dict(members) == {"a": "E1", "b": "E1", "c": "E2"}
    assert ev.height == 0


def test_merge_keeps_the_larger_entity_and_records_the_other():
    before = previous({"a": "E1", "b": "E1", "c": "E2"})
    members, ev = assign_ids(clusters({"a": 1, "b": 1, "c": 1}), before)
    assert set(as_dict(members).values()) == {"E1"}
    assert events(ev) == {("merge", "E1", "E2")}


def test_split_keeps_the_id_with_the_larger_part():
    before = previous({"a": "E1", "b": "E1", "c": "E1"})
    members, ev = assign_ids(clusters({"a": 1, "b": 1, "c": 2}), before)
    ids = as_dict(members)
    assert ids["a"] == ids["b"] == "E1"
    assert ids["c"] == new_entity_id("c")
    assert events(ev) == {("split", new_entity_id("c"), "E1")}


def test_new_records_and_vanished_entities():
    before = previous({"a": "E1", "x": "E9"})
    members, ev = assign_ids(clusters({"a": 1, "d": 2}), before)
    assert as_dict(members) == {"a": "E1", "d": new_entity_id("d")}
    assert events(ev) == {("new", new_entity_id("d"), None), ("retired", "E9", None)}


def reference_ids(now: dict[str, int], before: dict[str, str]) -> tuple[dict, set]:
    """The rules of workbench.resolve.entities applied record by record in plain Python."""
    shared: dict[tuple[int, str], int] = {}
    for uid, cluster in now.items():
        if uid in before:
            shared[cluster, before[uid]] = shared.get((cluster, before[uid]), 0) + 1
    owner: dict[int, str] = {}
    for (cluster, old), _ in sorted(shared.items(), key=lambda kv: (-kv[1], kv[0][1], kv[0][0])):
        if cluster not in owner and old not in owner.values():
            owner[cluster] = old
    used = set(before.values()) | set(owner.values())
    for cluster in sorted(set(now.values()) - set(owner), key=lambda c: min(
            u for u, k in now.items() if k == c)):  # fmt: skip
        first = min(u for u, k in now.items() if k == cluster)
        candidate, n = new_entity_id(first), 1
        while candidate in used:
            n += 1
            candidate = f"{new_entity_id(first)}-{n}"
        used.add(candidate)
        owner[cluster] = candidate
    members = {u: owner[c] for u, c in now.items()}
    current = set(members.values())
    moved = {(members[u], before[u]) for u in members if u in before}
    changed = {(e, o) for e, o in moved if e != o}
    out = {("split" if o in current else "merge", e, o) for e, o in changed}
    merged = {o for e, o in changed if o not in current}
    inherited = {e for e, _ in moved}
    out |= {("new", e, None) for e in current - set(before.values()) - inherited}
    out |= {("retired", e, None) for e in set(before.values()) - current - merged}
    return members, out


def check_against_reference(now: dict[str, int], before: dict[str, str]) -> None:
    """assign_ids against the rules applied record by record (``reference_ids``)."""
    members, ev = assign_ids(clusters(now), previous(before) if before else None)
    want_members, want_events = reference_ids(now, before)
    assert as_dict(members) == want_members
    if before:
        assert events(ev) == want_events


@pytest.mark.slow
def test_ids_and_events_match_the_rules_on_random_reruns():
    import random

    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 30)
        uids = [f"r{i:02d}" for i in range(n)]
        before = {u: f"E{rng.randrange(max(1, n // 3))}" for u in uids if rng.random() < 0.8}
        now = {u: rng.randrange(max(1, n // 2)) for u in uids if rng.random() < 0.9}
        if not now:
            continue
        check_against_reference(now, before)


@pytest.mark.slow
def test_ids_and_events_match_the_rules_on_reruns_with_little_change():
    """Reruns where most clusters stay as they were: records come and go, a few move."""
    import random

    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(2, 40)
        uids = [f"r{i:02d}" for i in range(n)]
        before = {u: f"E{rng.randrange(n // 2 + 1)}" for u in uids if rng.random() < 0.85}
        now = {u: int(e[1:]) for u, e in before.items() if rng.random() < 0.95}
        for u in uids:
            if u not in before and rng.random() < 0.5:  # a new record, alone or joining
                now[u] = rng.randrange(n)
        if rng.random() < 0.3 and now:  # one record moves elsewhere
            now[rng.choice(sorted(now))] = rng.randrange(n)
        if not now or not before:
            continue
        check_against_reference(now, before)


def test_decisions_remove_and_add_edges_whatever_the_order_of_ids():
    edges = pl.DataFrame(
        {"unique_id_l": ["b", "c"], "unique_id_r": ["a", "d"], "match_probability": [0.95, 0.99]}
    )
    decided = pl.DataFrame(
        {
            "unique_id_l": ["a", "e"],
            "unique_id_r": ["b", "f"],
            "decision": ["no_match", "match"],
        }
    )
    out = apply_decisions(edges, decided)
    assert out.rows() == [("c", "d", 0.99), ("e", "f", 1.0)]


def test_duplicate_rates_coverage_and_threshold_sensitivity_by_hand():
    from workbench.resolve.evaluate import Evaluation

    members = pl.DataFrame(
        {
            "unique_id": ["c:1", "c:2", "b:1", "b:2", "s:1"],
            "source": ["crm", "crm", "bill", "bill", "desk"],
            "entity_id": ["E1", "E1", "E1", "E2", "E3"],
        }
    )
    pairs = pl.DataFrame(
        {
            "unique_id_l": ["c:1", "c:2", "b:2", "c:1", "x:9"],
            "unique_id_r": ["c:2", "b:1", "s:1", "c:2", "c:1"],
            "match_probability": [0.99, 0.8, 0.6, 0.3, 0.95],
        }
    )  # c:1-c:2 twice (the higher counts), x:9 is no member (ignored)
    ev = Evaluation.of_frames(members, pairs)
    rates = {r[0]: r[1:] for r in ev.duplicate_rates().iter_rows()}
    assert rates["crm"] == (2, 1, 0.5)
    assert rates["bill"] == (2, 2, 0.0)
    assert rates["all"] == (5, 3, 0.4)
    cov = {r[0]: r[1:] for r in ev.coverage(["crm"]).iter_rows()}
    assert cov == {"bill": (2, 0.5), "desk": (1, 0.0)}
    assert ev.cluster_sizes().rows() == [(1, 2), (3, 1)]
    grid = ev.threshold_sensitivity([0.5, 0.7, 0.9])
    assert grid.select("threshold", "linked_pairs", "entities").rows() == [
        (0.5, 3, 2),
        (0.7, 2, 3),
        (0.9, 1, 4),
    ]


@pytest.mark.slow
def test_threshold_sensitivity_matches_a_plain_union_find_on_random_graphs():
    import random

    from workbench.resolve.evaluate import Evaluation

    rng = random.Random(1)
    for _ in range(100):
        n = rng.randint(1, 60)
        ids = [f"r{i}" for i in range(n)]
        rows = [
            (rng.randrange(n), rng.randrange(n), rng.choice([0.2, 0.5, 0.9, rng.random()]))
            for _ in range(rng.randint(0, 80))
        ]
        rows = [r for r in rows if r[0] != r[1]]
        pairs = pl.DataFrame(
            [(f"r{a}", f"r{b}", p) for a, b, p in rows],
            schema={"unique_id_l": pl.String, "unique_id_r": pl.String,
                    "match_probability": pl.Float64},
            orient="row",
        )  # fmt: skip
        thresholds = [0.2, 0.5, 0.9, 0.95]  # ties and probabilities equal to a threshold
        expected = []
        for t in thresholds:
            parent = list(range(n))

            def root(x: int, parent: list[int] = parent) -> int:
                while parent[x] != x:
                    x = parent[x]
                return x

            for a, b, p in rows:
                if p >= t and root(a) != root(b):
                    parent[root(a)] = root(b)
            expected.append(len({root(i) for i in range(n)}))
        members = pl.DataFrame({"unique_id": ids, "entity_id": ids})
        grid = Evaluation.of_frames(members, pairs).threshold_sensitivity(thresholds)
        assert grid["entities"].to_list() == expected
        assert grid["linked_pairs"].to_list() == [len({(min(a, b), max(a, b)) for a, b, p in rows
                                                      if p >= t}) for t in thresholds]  # fmt: skip
