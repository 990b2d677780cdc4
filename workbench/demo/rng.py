"""Deterministic random draws as polars Series, without numpy and without Python loops.

Each :class:`Stream` is seeded from ``(seed, name)``, so the draws of one part of the
generator never shift when another part changes. Bits come from
:meth:`random.Random.randbytes` (fast, and identical on every platform for a seed) and are
viewed as a UInt64 array through pyarrow; everything else is polars arithmetic on them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import polars as pl
import pyarrow as pa

_TO_UNIT = 2.0**-53


class Stream:
    """A named, seeded source of vectorised random draws."""

    def __init__(self, seed: int, name: str) -> None:
        self._seed, self._name = seed, name
        self._random = random.Random(f"workbench-demo/{seed}/{name}")

    def substream(self, name: str) -> Stream:
        """An independent stream named after this one: draws added to the generator there
        leave every draw of this stream as it was."""
        return Stream(self._seed, f"{self._name}/{name}")

    def bits(self, n: int) -> pl.Series:
        """``n`` uniformly random 64-bit unsigned integers."""
        raw = self._random.randbytes(8 * n)
        array = pa.Array.from_buffers(pa.uint64(), n, [None, pa.py_buffer(raw)])
        return pl.Series("bits", array)

    def uniform(self, n: int) -> pl.Series:
        """``n`` floats uniform in [0, 1)."""
        return ((self.bits(n) // 2048).cast(pl.Float64) * _TO_UNIT).rename("u")

    def integers(self, n: int, low: int, high: int) -> pl.Series:
        """``n`` integers uniform in [low, high)."""
        span = high - low
        return ((self.uniform(n) * span).floor().cast(pl.Int64).clip(0, span - 1) + low).rename("i")

    def skewed(self, n: int, size: int, power: float) -> pl.Series:
        """``n`` indexes in [0, size), front-heavy: ``floor(size * u**power)``."""
        return (
            (self.uniform(n).pow(power) * size).floor().cast(pl.Int64).clip(0, size - 1)
        ).rename("i")

    def bernoulli(self, n: int, p: float | pl.Series) -> pl.Series:
        """``n`` booleans, true with probability ``p`` (a number or a per-row Series)."""
        return (self.uniform(n) < p).rename("b")

    def normal(self, n: int) -> pl.Series:
        """``n`` standard normal draws (Box-Muller)."""
        u1 = 1.0 - self.uniform(n)
        u2 = self.uniform(n)
        return ((-2.0 * u1.log()).sqrt() * (2.0 * math.pi * u2).cos()).rename("z")

    def lognormal(self, n: int, median: float, sigma: float) -> pl.Series:
        """``n`` log-normal draws with the given median and log-scale sigma."""
        return (median * (self.normal(n) * sigma).exp()).rename("x")

    def choice(self, n: int, weights: Sequence[float]) -> pl.Series:
        """``n`` indexes into ``weights``, drawn in proportion to them."""
        total = float(sum(weights))
        cumulative, acc = [], 0.0
        for w in weights[:-1]:
            acc += w / total
            cumulative.append(acc)
        edges = pl.Series("edges", cumulative, dtype=pl.Float64)
        return edges.search_sorted(self.uniform(n), side="right").cast(pl.Int64).rename("i")

    def pick(self, n: int, options: Sequence[tuple[str, float]]) -> pl.Series:
        """``n`` labels drawn from ``(label, weight)`` pairs."""
        labels = pl.Series([label for label, _ in options], dtype=pl.String)
        return labels.gather(self.choice(n, [weight for _, weight in options]))

    def permutation(self, n: int) -> pl.Series:
        """The integers 0..n-1 in random order."""
        frame = pl.DataFrame({"i": pl.int_range(n, eager=True), "k": self.bits(n)})
        return frame.sort("k", "i")["i"]

    def pick_from(
        self, groups: pl.Series, lists: Sequence[Sequence[str]], power: float = 1.0
    ) -> pl.Series:
        """For each row's group code g, one entry of ``lists[g]``; front-heavy if power > 1."""
        flat = pl.Series([item for items in lists for item in items], dtype=pl.String)
        counts = pl.Series([len(items) for items in lists], dtype=pl.Int64)
        offsets = counts.cum_sum() - counts
        u = self.uniform(len(groups)).pow(power)
        index = offsets.gather(groups) + (u * counts.gather(groups)).floor().cast(pl.Int64)
        return flat.gather(index)

    def choose_within(
        self, groups: pl.Series, table_groups: Sequence[int], table_weights: Sequence[float]
    ) -> pl.Series:
        """For each row's group code, an index into a table, weighted within that group.

        ``table_groups`` must be sorted ascending; every group code in ``groups`` must occur
        in it. Works by searching ``group + u`` in the per-group cumulative weights.
        """
        totals: dict[int, float] = {}
        for g, w in zip(table_groups, table_weights, strict=True):
            totals[g] = totals.get(g, 0.0) + w
        edges: list[float] = []
        acc: dict[int, float] = {}
        for g, w in zip(table_groups, table_weights, strict=True):
            acc[g] = acc.get(g, 0.0) + w
            edges.append(g + (1.0 if acc[g] >= totals[g] else acc[g] / totals[g]))
        points = groups.cast(pl.Float64) + self.uniform(len(groups))
        found = pl.Series(edges).search_sorted(points, side="right")
        return found.cast(pl.Int64).clip(0, len(edges) - 1).rename("i")
