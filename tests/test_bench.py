"""The benchmark's verdicts: each part of a goal is checked against the measured numbers."""

import json
from pathlib import Path

import pytest

from workbench.bench.__main__ import _met


def test_goals_are_checked_part_by_part():
    assert _met(1.2, "time <= 1.25x", 0, 0) and not _met(1.3, "time <= 1.25x", 0, 0)
    assert _met(0.9, "speed >= 0.8x", 0, 0) and not _met(0.7, "speed >= 0.8x", 0, 0)
    assert _met(0, "<= 30 s", 29.9, 0) and not _met(0, "<= 30 s", 30.1, 0)
    assert _met(0, "time <= 5 s each", 4.9, 0) and not _met(0, "time <= 5 s each", 5.1, 0)
    assert _met(0, "<= 2 GiB", 0, 2048) and not _met(0, "<= 2 GiB", 0, 2049)
    assert _met(0, "<= 1 s per pair", 0.9, 0) and not _met(0, "<= 1 s per pair", 1.1, 0)


def test_interleaved_cases_run_in_rounds_and_keep_their_best(monkeypatch):
    from workbench.bench import runner

    calls: list[str] = []
    times = {"plain": iter([5.0, 4.0, 6.0]), "ours": iter([7.0, 9.0, 6.5])}

    def fake(case: str, *args, repeat: int = 3) -> runner.Measure:
        assert repeat == 1
        calls.append(case)
        return runner.Measure(case, next(times[case]), 10, 100.0 + len(calls))

    monkeypatch.setattr(runner, "run_case", fake)
    seen: list[list[float]] = []
    plain, ours = runner.run_interleaved(
        ["plain", "ours"], repeat=3, each_round=lambda ms: seen.append([m.seconds for m in ms])
    )
    assert calls == ["plain", "ours"] * 3  # one of each per round, in order
    assert seen == [[5.0, 7.0], [4.0, 9.0], [6.0, 6.5]]  # every round reported as it ends
    assert (plain.seconds, plain.peak_mib) == (4.0, 105.0)
    assert (ours.seconds, ours.peak_mib) == (6.5, 106.0)


@pytest.mark.slow
def test_review_cases_time_each_pair_shown(tmp_path):
    """The review cases at a small size: both show the pairs of a resolved demo and keep
    their first-pair, mean and max seconds; the case's time is its slowest pair."""
    from workbench.bench.review_cases import (
        PAIRS,
        RESULTS,
        plain_review,
        prepare_review,
        workbench_review,
    )
    from workbench.cli import main

    demo = tmp_path / "demo"
    assert main(["demo", "--project", str(demo), "--contacts", "1500", "--seed", "7"]) == 0
    size = Path("1500")
    assert prepare_review(size, demo) == (0.0, 0)  # resolved already: nothing to do
    for case in (plain_review, workbench_review):
        slowest, pairs = case(size, demo)
        assert 1 <= pairs <= PAIRS
        seen = json.loads((demo / RESULTS).read_text())[case.__name__]
        assert seen["pairs"] == pairs and seen["max"] == slowest
        assert 0 < seen["mean"] <= slowest and seen["first"] > 0
