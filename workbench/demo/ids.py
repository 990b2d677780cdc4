"""Record ids as the source systems make them: Salesforce 18-character ids, ERP numbers."""

from __future__ import annotations

import polars as pl

from workbench.demo.rng import Stream

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_INSTANCE = "Kp0"  # two-character pod id and the reserved character


def salesforce_ids(prefix: str, n: int, stream: Stream) -> pl.Series:
    """``n`` increasing 18-character Salesforce-style ids with key ``prefix`` ("003", ...).

    15 characters (prefix, pod, a base-62 record number) plus the real 3-character
    case-safety checksum, so the ids look and verify like the genuine article.
    """
    head = prefix + _INSTANCE
    number = stream.integers(1, 10_000_000, 900_000_000)[0] + stream.integers(n, 1, 40).cum_sum()
    digits = [(number // 62**k) % 62 for k in range(8, -1, -1)]  # most significant first
    chars = [pl.lit(c) for c in head] + [
        d.replace_strict(list(range(62)), list(BASE62), return_dtype=pl.String) for d in digits
    ]
    upper = [pl.lit(c.isupper()) for c in head] + [(d >= 10) & (d < 36) for d in digits]
    suffix = [
        sum(upper[5 * chunk + j].cast(pl.Int64) * (1 << j) for j in range(5)) for chunk in range(3)
    ]
    checksum = [
        pl.lit(pl.Series(list(_CHECKSUM))).gather(bits)  # type: ignore[arg-type]
        for bits in suffix
    ]
    return pl.select(pl.concat_str([*chars, *checksum]).alias("id")).to_series()


def sequential_numbers(n: int, start: int, stream: Stream, max_gap: int = 3) -> pl.Series:
    """``n`` increasing integers from about ``start`` with small random gaps."""
    return (start + stream.integers(n, 1, max_gap + 1).cum_sum()).rename("number")
