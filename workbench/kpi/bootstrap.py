"""Bootstrap replicates of a KPI statistic: seeded, reproducible, exact where cheap.

Resampling n rows with replacement B times costs n x B; for the statistics KPIs use there
are exact shortcuts with the same distribution:

- a quantile (``quantile_cont``) of a resample depends only on two of its order statistics,
  and the k-th order statistic of n draws from the empirical distribution is
  ``F^-1(U_(k))`` with ``U_(k) ~ Beta(k, n - k + 1)`` and the next one
  ``U_(k+1) = U_(k) + (1 - U_(k)) * Beta(1, n - k)``;
- a rate of a resample is ``Binomial(n, p) / n``;
- a mean resamples rows directly (in chunks), or takes the bootstrap's normal limit
  ``N(mean, s^2 / n)`` when n x B exceeds :data:`DIRECT_LIMIT`.
"""

from __future__ import annotations

import zlib

import numpy as np

DIRECT_LIMIT = 20_000_000


def rng_for(seed: int, *keys: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and names, so results do not depend on call order."""
    return np.random.default_rng([seed, *(zlib.crc32(k.encode()) for k in keys)])


def quantile_cont(values: np.ndarray, q: float) -> float:
    """DuckDB's ``quantile_cont``: linear interpolation between the closest ranks."""
    return float(np.quantile(values, q, method="linear"))


def quantile_replicates(
    values: np.ndarray, q: float, samples: int, rng: np.random.Generator
) -> np.ndarray:
    """``samples`` bootstrap replicates of the interpolated ``q``-quantile of ``values``."""
    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    if n == 0:
        return np.full(samples, np.nan)
    if n == 1:
        return np.full(samples, x[0])
    h = (n - 1) * q
    lo = int(np.floor(h))
    frac = h - lo
    k = lo + 1  # 1-based rank of the lower order statistic
    u_lo = rng.beta(k, n - k + 1, size=samples)
    low = x[_rank(u_lo, n)]
    if frac == 0 or k >= n:
        return low
    u_hi = u_lo + (1 - u_lo) * rng.beta(1, n - k, size=samples)
    high = x[_rank(u_hi, n)]
    return low + frac * (high - low)


def _rank(u: np.ndarray, n: int) -> np.ndarray:
    """0-based index of the empirical quantile function at ``u``: ``ceil(u * n) - 1``."""
    return np.clip(np.ceil(u * n).astype(np.int64) - 1, 0, n - 1)


def rate_replicates(successes: int, n: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Replicates of a share ``successes / n`` of n independent rows."""
    if n == 0:
        return np.full(samples, np.nan)
    return rng.binomial(n, successes / n, size=samples) / n


def mean_replicates(values: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Replicates of the mean of ``values`` (direct resampling while affordable)."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n == 0:
        return np.full(samples, np.nan)
    if n * samples > DIRECT_LIMIT:
        sd = float(x.std(ddof=0)) / np.sqrt(n)
        return rng.normal(float(x.mean()), sd, size=samples)
    chunk = max(1, DIRECT_LIMIT // (10 * n))
    out = np.empty(samples)
    for start in range(0, samples, chunk):
        stop = min(samples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = x[idx].mean(axis=1)
    return out


def interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates (NaN-free replicates only)."""
    clean = replicates[np.isfinite(replicates)]
    if clean.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(clean, [tail, 100 - tail])
    return float(low), float(high)
