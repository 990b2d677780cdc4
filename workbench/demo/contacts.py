"""Helpers shared by the three contact exports (CRM contacts, billing customers, requesters).

A contact frame is :meth:`World.rows_for` of a system's records plus a ``duplicate`` flag:
second records of a person in the same system get more dirt and a later creation date.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from workbench.demo.rng import Stream
from workbench.demo.timeline import EXPORTED_AT, hours
from workbench.demo.world import World

_LATEST = EXPORTED_AT - timedelta(hours=1)


def contact_frame(world: World, records: pl.DataFrame) -> pl.DataFrame:
    """The people behind ``records`` (person_idx, duplicate), one row per record."""
    return pl.concat(
        [world.rows_for(records["person_idx"]), records.select("duplicate")], how="horizontal"
    )


def by_duplicate(frame: pl.DataFrame, normal: float, duplicate: float) -> pl.Series:
    """A per-row rate: ``normal`` for first records, ``duplicate`` for second ones."""
    return frame.select(
        pl.when("duplicate").then(pl.lit(duplicate)).otherwise(pl.lit(normal))
    ).to_series()


def created_times(frame: pl.DataFrame, s: Stream) -> pl.Series:
    """When each record was created: near the person's first appearance; a duplicate
    1-16 months later. Never after the export."""
    n = frame.height
    delay_hours = (
        pl.when(pl.col("duplicate"))
        .then(pl.lit(s.uniform(n)) * (480 * 24) + 30 * 24)
        .otherwise(pl.lit(s.uniform(n)) * (20 * 24))
    )
    created = pl.col("created_at") + hours(delay_hours)
    return frame.select(pl.min_horizontal(created, pl.lit(_LATEST)).alias("created")).to_series()


def chosen_emails(frame: pl.DataFrame, s: Stream, private: pl.Series | float) -> pl.Series:
    """Work or private address per record; shared-mailbox users always give the mailbox."""
    use_private = pl.lit(s.bernoulli(frame.height, private)) & ~pl.col("shared_mailbox")
    return frame.select(
        pl.when(use_private).then("private_email").otherwise("work_email").alias("email")
    ).to_series()


def city_spellings(frame: pl.DataFrame, s: Stream, rate: float) -> pl.Series:
    """City in its English/alternative spelling (München -> Munich) on a share of rows."""
    hit = pl.lit(s.bernoulli(frame.height, rate)) & pl.col("city_alias").is_not_null()
    return frame.select(pl.when(hit).then("city_alias").otherwise("city").alias("city")).to_series()
