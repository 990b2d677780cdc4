"""The effects injected at each segment's launch, and their ``effects.json``.

The rollout is staggered: segment ``canary`` gets the integration on ``LAUNCH``, segment
``wave2`` on ``WAVE2_LAUNCH``, and ``control`` never. Only rows of a launched segment
created on or after its launch get an effect (the same effect for both waves); everything
else follows the baseline. All segments share a mild seasonal cycle, so a
difference-in-differences recovers the effect while a plain before/after on one segment
alone would be slightly off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import polars as pl

from workbench.demo.timeline import LAUNCH, WAVE2_LAUNCH, window_dates


@dataclass(frozen=True)
class Effects:
    """Baselines and after-launch values of every injected metric (``*_canary_post``: of
    every segment after its own launch, canary's and wave2's alike)."""

    canary_share: float = 0.30
    wave2_share: float = 0.25  # of the rest: about 18% of all, leaving about 52% as control
    seasonal_amplitude: float = 0.05
    lead_response_median_hours: float = 20.0
    lead_response_sigma: float = 0.9
    lead_response_multiplier: float = 0.6
    lead_no_response_rate: float = 0.06
    lead_conversion_rate: float = 0.12
    lead_conversion_rate_canary_post: float = 0.15
    ticket_response_median_hours: float = 4.0
    ticket_response_sigma: float = 1.0
    ticket_response_multiplier: float = 0.85
    sync_failure_rate: float = 0.04
    sync_failure_rate_canary_post: float = 0.015
    sync_latency_median_ms: float = 850.0
    sync_latency_sigma: float = 0.6
    sync_failed_latency_factor: float = 2.5  # failed syncs take longer (timeouts)


EFFECTS = Effects()


LAUNCHES = {"canary": LAUNCH, "wave2": WAVE2_LAUNCH}  # segment -> its launch; control: never


def treated(segment: pl.Expr, created: pl.Expr) -> pl.Expr:
    """True for rows of a launched segment created on or after its launch."""
    return pl.any_horizontal(
        (segment == name) & (created >= pl.lit(launch)) for name, launch in LAUNCHES.items()
    )


def segments(canary: pl.Series, wave2: pl.Series) -> pl.Series:
    """``canary``, ``wave2`` or ``control`` from two draws (wave2 only where not canary)."""
    return (
        pl.select(
            pl.when(canary)
            .then(pl.lit("canary"))
            .when(wave2)
            .then(pl.lit("wave2"))
            .otherwise(pl.lit("control"))
        )
        .to_series()
        .rename("segment")
    )


def effects_document(
    effects: Effects, *, seed: int, contacts: int, observed: dict[str, Any]
) -> dict[str, Any]:
    """The content of ``truth/effects.json``: what was injected, and what came out."""
    e = effects
    rule = "created >= the launch of its segment (UTC): canary, then wave2"
    first_day, last_day, launch = window_dates()
    return {
        "seed": seed,
        "contacts": contacts,
        "window": {"start": first_day.isoformat(), "end": last_day.isoformat()},
        "launch_date": launch.isoformat(),
        "segments": {
            "column": "segment",
            "treated": "canary",
            "control": "control",
            "treated_share": e.canary_share,
            "wave2_share_of_the_rest": e.wave2_share,
            "assigned_by": "company (account); people, leads, deals, tickets and invoices "
            "inherit the segment of their company; sync events draw it per event",
        },
        "rollout": {
            "column": "segment",
            "launches": {name: d.date().isoformat() for name, d in LAUNCHES.items()},
            "never": "control",
        },
        "common_trend": {
            "description": "response times of both segments are multiplied by "
            "1 + amplitude * sin(2*pi*(month-1)/12)",
            "amplitude": e.seasonal_amplitude,
        },
        "effects": [
            {
                "metric": "lead_first_response_hours",
                "source": "crm_leads",
                "measure": "First_Response__c - CreatedDate, in hours",
                "baseline": {
                    "distribution": "lognormal",
                    "median_hours": e.lead_response_median_hours,
                    "sigma": e.lead_response_sigma,
                    "no_response_rate": e.lead_no_response_rate,
                },
                "applies_to": rule,
                "multiplier": e.lead_response_multiplier,
            },
            {
                "metric": "lead_conversion_rate",
                "source": "crm_leads",
                "measure": "share of responded leads with Status 'Closed - Converted'",
                "baseline": e.lead_conversion_rate,
                "applies_to": rule,
                "treated_value": e.lead_conversion_rate_canary_post,
            },
            {
                "metric": "ticket_first_response_hours",
                "source": "support_tickets",
                "measure": "first_response_at - created_at, in hours",
                "baseline": {
                    "distribution": "lognormal",
                    "median_hours": e.ticket_response_median_hours,
                    "sigma": e.ticket_response_sigma,
                },
                "applies_to": rule,
                "multiplier": e.ticket_response_multiplier,
            },
            {
                "metric": "sync_failure_rate",
                "source": "sync_events",
                "measure": "share of events with status 'failed'",
                "baseline": e.sync_failure_rate,
                "applies_to": "ts >= the launch of its segment (UTC): canary, then wave2",
                "treated_value": e.sync_failure_rate_canary_post,
            },
        ],
        "no_effect": ["crm_deals", "billing_invoices", "sync latency_ms"],
        "parameters": asdict(e),
        "observed": observed,
    }


def by_cell(
    frame: pl.DataFrame, value: str, agg: Literal["median", "mean"], created: str = "created"
) -> dict[str, float | None]:
    """``agg`` of ``value`` per segment and period (pre/post the canary's launch, for every
    segment: wave2's ``post`` mixes its months before and after its own launch), for
    ``observed``."""
    period = (
        pl.when(pl.col(created) >= pl.lit(LAUNCH)).then(pl.lit("post")).otherwise(pl.lit("pre"))
    )
    column = pl.col(value).cast(pl.Float64)
    cells = (
        frame.group_by(pl.col("segment"), period.alias("period"))
        .agg((column.median() if agg == "median" else column.mean()).alias("m"))
        .sort("segment", "period")
    )
    return {
        f"{row['segment']}_{row['period']}": None if row["m"] is None else round(row["m"], 6)
        for row in cells.iter_rows(named=True)
    }


def observed_effects(
    leads: pl.DataFrame, tickets: pl.DataFrame, sync: pl.DataFrame
) -> dict[str, dict[str, float | None]]:
    """Per-cell values of each metric as generated (before any export formatting)."""
    responded = leads.filter(pl.col("first_response").is_not_null())
    return {
        "lead_first_response_hours_median": by_cell(responded, "response_hours", "median"),
        "lead_conversion_rate": by_cell(
            responded.with_columns(converted=pl.col("converted").is_not_null()),
            "converted",
            "mean",
        ),
        "ticket_first_response_hours_median": by_cell(
            tickets.filter(pl.col("first_response").is_not_null()), "response_hours", "median"
        ),
        "sync_failure_rate": by_cell(sync, "failed", "mean"),
    }
