"""The benchmark's verdicts: each part of a goal is checked against the measured numbers."""

from workbench.bench.__main__ import _met


def test_goals_are_checked_part_by_part():
    assert _met(1.2, "time <= 1.25x", 0, 0) and not _met(1.3, "time <= 1.25x", 0, 0)
    assert _met(0.9, "speed >= 0.8x", 0, 0) and not _met(0.7, "speed >= 0.8x", 0, 0)
    assert _met(0, "<= 30 s", 29.9, 0) and not _met(0, "<= 30 s", 30.1, 0)
    assert _met(0, "time <= 5 s each", 4.9, 0) and not _met(0, "time <= 5 s each", 5.1, 0)
    assert _met(0, "<= 2 GiB", 0, 2048) and not _met(0, "<= 2 GiB", 0, 2049)


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
