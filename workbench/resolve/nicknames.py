"""Forename variants (Bob, Bobby, Robert) from the hand-curated ``nicknames`` package.

Each known name maps to its *forms*: itself and the formal names it is short for. Two
forenames are variants of one another when their forms overlap.
"""

from __future__ import annotations

from functools import cache

import polars as pl
from nicknames import NickNamer

TABLE = "_wb_name_forms"


@cache
def name_forms() -> pl.DataFrame:
    """Columns ``name`` (lower case) and ``forms`` (list of names it may stand for)."""
    namer = NickNamer()
    names = set(namer.canonical_lookup) | set(namer.nickname_lookup)
    rows = [(n, sorted({n} | namer.canonicals_of(n))) for n in sorted(names)]
    return pl.DataFrame(rows, schema={"name": pl.String, "forms": pl.List(pl.String)}, orient="row")
