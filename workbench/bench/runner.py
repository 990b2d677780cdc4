"""Run a case in a subprocess; collect its time, rows and peak memory."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.bench.peak import run_with_peak


@dataclass(frozen=True)
class Measure:
    case: str
    seconds: float
    rows: int
    peak_mib: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def run_case(case: str, *args: Path, repeat: int = 3) -> Measure:
    """Best time of ``repeat`` runs of ``case``; peak memory is the largest seen."""
    best: float | None = None
    rows = 0
    peak = 0.0
    for _ in range(repeat):
        with tempfile.TemporaryFile("w+") as out:
            code, peak_mib = run_with_peak(
                [sys.executable, "-m", "workbench.bench.cases", case, *map(str, args)],
                stdout=out,
            )
            out.seek(0)
            output = out.read()
        if code != 0:
            raise RuntimeError(f"benchmark case {case} failed with exit {code}")
        result = json.loads(output.strip().splitlines()[-1])
        rows = int(result["rows"])
        best = result["seconds"] if best is None else min(best, result["seconds"])
        peak = max(peak, peak_mib)
    return Measure(case, float(best or 0.0), rows, peak)


def run_interleaved(
    cases: list[str],
    *args: Path,
    repeat: int = 3,
    each_round: Callable[[list[Measure]], None] | None = None,
) -> list[Measure]:
    """``cases`` in ``repeat`` rounds, one run of each per round and in this order, so that a
    slow spell of a shared machine falls on all of them alike; per case the best time and
    the largest peak memory, as ``run_case``. ``each_round`` sees every round's measures."""
    rounds = []
    for _ in range(repeat):
        rounds.append([run_case(case, *args, repeat=1) for case in cases])
        if each_round:
            each_round(rounds[-1])
    return [
        Measure(
            case,
            min(r[i].seconds for r in rounds),
            rounds[-1][i].rows,
            max(r[i].peak_mib for r in rounds),
        )
        for i, case in enumerate(cases)
    ]
