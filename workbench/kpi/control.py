"""Individuals and moving-range (XmR) control limits, and the usual run rules.

Limits from the baseline periods: centre = mean of the values, MR = mean absolute difference
of consecutive values, natural process limits = centre +/- 2.66 MR (2.66 = 3 / d2, d2 = 1.128
for ranges of two). A later value is a signal of a real shift, not noise, when (Wheeler's
detection rules):

1. it falls outside the limits;
2. three of four successive values lie closer to a limit than to the centre (beyond
   centre +/- 1.5 sigma, sigma = MR / 1.128) on the same side;
3. eight successive values lie on the same side of the centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

E2 = 2.66
D2 = 1.128


@dataclass(frozen=True)
class Limits:
    """XmR limits of a baseline."""

    centre: float
    moving_range: float
    lower: float
    upper: float

    @property
    def sigma(self) -> float:
        return self.moving_range / D2


def limits(values: list[float] | np.ndarray, floor: float | None = None) -> Limits | None:
    """Limits from baseline period values; None with fewer than two values.

    ``floor`` is a natural lower bound of the values (0 for a KPI that cannot be negative):
    a lower limit below it is set at it, as XmR charts of such measures do (the limit
    there is the boundary, not a value the process could reach)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return None
    centre = float(x.mean())
    mr = float(np.abs(np.diff(x)).mean())
    lower = centre - E2 * mr
    if floor is not None:
        lower = max(lower, floor)
    return Limits(centre, mr, lower, centre + E2 * mr)


def signals(values: list[float], lim: Limits) -> list[list[str]]:
    """The rules each value (in time order) triggers: ``outside``, ``3 of 4``, ``run of 8``."""
    x = np.asarray(values, dtype=float)
    side = np.sign(x - lim.centre)
    far_up = x > lim.centre + 1.5 * lim.sigma
    far_down = x < lim.centre - 1.5 * lim.sigma
    out: list[list[str]] = []
    for i, v in enumerate(x):
        rules = []
        if v > lim.upper or v < lim.lower:
            rules.append("outside")
        lo4 = max(0, i - 3)
        if i >= 3 and (far_up[lo4 : i + 1].sum() >= 3 or far_down[lo4 : i + 1].sum() >= 3):
            rules.append("3 of 4")
        if i >= 7 and side[i] != 0 and bool(np.all(side[i - 7 : i + 1] == side[i])):
            rules.append("run of 8")
        out.append(rules)
    return out
