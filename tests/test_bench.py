"""The benchmark's verdicts: each part of a goal is checked against the measured numbers."""

from workbench.bench.__main__ import _met


def test_goals_are_checked_part_by_part():
    assert _met(1.2, "time <= 1.25x", 0, 0) and not _met(1.3, "time <= 1.25x", 0, 0)
    assert _met(0.9, "speed >= 0.8x", 0, 0) and not _met(0.7, "speed >= 0.8x", 0, 0)
    assert _met(0, "<= 30 s", 29.9, 0) and not _met(0, "<= 30 s", 30.1, 0)
    assert _met(0, "time <= 5 s each", 4.9, 0) and not _met(0, "time <= 5 s each", 5.1, 0)
    assert _met(0, "<= 2 GiB", 0, 2048) and not _met(0, "<= 2 GiB", 0, 2049)
