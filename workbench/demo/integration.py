"""The integration's own log: ``exports/integration/sync_events.ndjson.gz``.

Syncs run around the clock between the three systems. Failures run at
``effects.sync_failure_rate``; for a segment after its launch (the new integration) at
``effects.sync_failure_rate_canary_post``. Failed syncs take longer (timeouts).
"""

from __future__ import annotations

import polars as pl

from workbench.demo import business
from workbench.demo.effects import Effects, segments, treated
from workbench.demo.rng import Stream
from workbench.demo.timeline import ISO_MS_UTC, WINDOW_END, WINDOW_START, uniform_times

REGIONS = (("EMEA", 0.6), ("NA", 0.3), ("APAC", 0.1))


def sync_events(n: int, effects: Effects, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events export (sorted by time) and the frame behind it (segment, created, failed)."""
    s = Stream(seed, "integration.sync")
    e = effects
    route = s.choice(n, [r[3] for r in business.SYNC_ROUTES])
    f = pl.DataFrame(
        {
            "created": uniform_times(s, n, WINDOW_START, WINDOW_END),
            "source_system": pl.Series([r[0] for r in business.SYNC_ROUTES]).gather(route),
            "target_system": pl.Series([r[1] for r in business.SYNC_ROUTES]).gather(route),
            "object": pl.Series([r[2] for r in business.SYNC_ROUTES]).gather(route),
            "region": s.pick(n, REGIONS),
            "segment": segments(
                s.bernoulli(n, e.canary_share),
                s.substream("wave2").bernoulli(n, e.wave2_share),
            ),
            "u": s.uniform(n),
            "latency": s.lognormal(n, e.sync_latency_median_ms, e.sync_latency_sigma),
            "error": s.pick(n, business.SYNC_ERRORS),
        }
    )
    failure_rate = (
        pl.when(treated(pl.col("segment"), pl.col("created")))
        .then(pl.lit(e.sync_failure_rate_canary_post))
        .otherwise(pl.lit(e.sync_failure_rate))
    )
    f = f.with_columns(failed=pl.col("u") < failure_rate).sort("created")
    f = f.with_columns(
        event_id=pl.format("evt_{}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(10))
    )
    export = f.select(
        "event_id",
        pl.col("created").dt.strftime(ISO_MS_UTC).alias("ts"),
        "source_system",
        "target_system",
        "object",
        pl.when("failed").then(pl.lit("failed")).otherwise(pl.lit("success")).alias("status"),
        (pl.col("latency") * pl.when("failed").then(e.sync_failed_latency_factor).otherwise(1.0))
        .round(0)
        .cast(pl.Int64)
        .alias("latency_ms"),
        pl.when("failed").then("error").alias("error_code"),
        "region",
        "segment",
    )
    return export, f.select("segment", "created", "failed")
