"""The support desk exports: requesters (a JSON array) and tickets (NDJSON).

Zendesk-like: numeric ids, the name in one field ``"First Last"``, emails mostly lower
case, ISO 8601 timestamps with ``Z`` (some with the requester's local offset).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from workbench.demo import business, dirt
from workbench.demo.contacts import by_duplicate, contact_frame, created_times
from workbench.demo.effects import Effects, treated
from workbench.demo.ids import sequential_numbers
from workbench.demo.phones import SUPPORT_STYLES, phone_texts
from workbench.demo.rng import Stream
from workbench.demo.timeline import (
    EXPORTED_AT,
    ISO_LOCAL,
    ISO_UTC,
    business_times,
    format_times,
    hours,
    seasonal_factor,
)
from workbench.demo.world import World

CHANNELS = (("email", 0.45), ("web", 0.25), ("chat", 0.2), ("phone", 0.1))
PRIORITIES = (("low", 0.25), ("normal", 0.55), ("high", 0.15), ("urgent", 0.05))


@dataclass(frozen=True)
class Requesters:
    """The requesters (before their JSON text), sorted by creation."""

    frame: pl.DataFrame  # id, name, email, phone, organization, created, person_idx, ...


def requesters(world: World, records: pl.DataFrame, seed: int) -> Requesters:
    """The people of ``exports/support/requesters.json``; a duplicate requester has the
    other of the person's two addresses (work vs private), as help desks key on email."""
    s = Stream(seed, "support.requesters")
    f = contact_frame(world, records)
    n = f.height
    private = pl.lit(s.bernoulli(n, 0.35))
    f = f.with_columns(private=private)
    first_choice = f.filter(~pl.col("duplicate")).select("person_idx", first_private="private")
    f = f.join(first_choice, on="person_idx", how="left", maintain_order="left").with_columns(
        private=pl.when("duplicate").then(~pl.col("first_private")).otherwise("private")
        & ~pl.col("shared_mailbox")
    )
    f = f.with_columns(
        created=created_times(f, s),
        email=pl.when("private").then("private_email").otherwise("work_email"),
        phone=phone_texts(f, s, SUPPORT_STYLES),
        organization=dirt.company_names(f, s, [0.2, 0.3, 0.05, 0.1, 0.12, 0.03, 0.2]),
    )
    f = dirt.with_nicknames(f, "first_name", s, by_duplicate(f, 0.12, 0.4))
    for column in ("first_name", "last_name"):
        f = dirt.with_accents_dropped(f, column, s, 0.25)
        f = dirt.with_typos(f, column, s, by_duplicate(f, 0.02, 0.1))
    f = dirt.with_case(f, "email", s, upper=0.0, lower=0.92)
    f = dirt.with_email_variants(f, "email", s, upper=0.0, capitalised=0.0, plus=0.03)
    f = dirt.with_blanks(f, ["phone"], s, 0.5, keep=pl.col("in_trap"))
    f = dirt.with_blanks(f, ["organization"], s, 0.25)
    f = dirt.with_blanks(f, ["email"], s, 0.02, keep=pl.col("in_trap"))
    full = pl.col("first_name") + " " + pl.col("last_name")
    name_style = pl.lit(s.uniform(n))
    f = f.with_columns(
        name=pl.when(name_style < 0.03).then("first_name")
        .when(name_style < 0.09).then(full.str.to_lowercase())
        .otherwise(full)
    )  # fmt: skip
    f = f.sort("created", "person_idx").with_columns(
        id=sequential_numbers(n, 360_010_000_000, s, max_gap=40),
        _zone=pl.when(pl.lit(s.bernoulli(n, 0.2))).then("tz"),
    )
    return Requesters(frame=f)


def requesters_export(req: Requesters, first_ticket: pl.DataFrame) -> pl.DataFrame:
    """The JSON rows; a requester is never created after their first ticket."""
    f = req.frame.join(first_ticket, on="id", how="left", maintain_order="left").with_columns(
        created=pl.min_horizontal("created", "first_ticket")
    )
    return f.select(
        "id",
        "name",
        "email",
        "phone",
        "organization",
        format_times(f, "created", "_zone", ISO_UTC, ISO_LOCAL).alias("created_at"),
    )


@dataclass(frozen=True)
class Tickets:
    """The tickets export, the first ticket per requester, and the response times."""

    export: pl.DataFrame
    first_ticket: pl.DataFrame  # id (requester), first_ticket
    truth: pl.DataFrame  # segment, created, response_hours, first_response


def tickets(req: Requesters, n: int, effects: Effects, seed: int) -> Tickets:
    """``exports/support/tickets.ndjson``: tickets of requesters over the window.

    First response is log-normal (median ``effects.ticket_response_median_hours``), times
    ``effects.ticket_response_multiplier`` for a segment after its launch.
    """
    s = Stream(seed, "support.tickets")
    pool = req.frame
    created = business_times(s, n)
    eligible = pool["created"].search_sorted(created, side="left").clip(1, pool.height)
    pick = pl.select((pl.lit(s.uniform(n)) * pl.lit(eligible)).floor().cast(pl.Int64)).to_series()
    t = pool.select(
        pl.col("id").alias("requester_id"), "email", "private_email", "work_email", "segment",
        "region", "tz", "_zone",
    ).select(pl.all().gather(pl.lit(pick.clip(0, pool.height - 1))))  # fmt: skip
    e = effects
    response = (
        pl.lit(s.lognormal(n, e.ticket_response_median_hours, e.ticket_response_sigma))
        * seasonal_factor(pl.col("created"), e.seasonal_amplitude)
        * pl.when(treated(pl.col("segment"), pl.col("created")))
        .then(pl.lit(e.ticket_response_multiplier))
        .otherwise(pl.lit(1.0))
    )
    t = t.with_columns(created=created).with_columns(
        response_hours=response,
        responded=pl.lit(s.bernoulli(n, 0.97)),
        solve_hours=pl.lit(s.lognormal(n, 30.0, 1.1)),
    )
    first = pl.col("created") + hours(pl.col("response_hours"))
    t = t.with_columns(
        first_response=pl.when(pl.col("responded") & (first < pl.lit(EXPORTED_AT))).then(first)
    )
    solved = pl.col("first_response") + hours(pl.col("solve_hours"))
    t = t.with_columns(solved=pl.when(solved < pl.lit(EXPORTED_AT)).then(solved))
    status = (
        pl.when(pl.col("solved").is_null() & pl.col("first_response").is_null())
        .then(pl.lit("open"))
        .when(pl.col("solved").is_null())
        .then(
            pl.when(pl.lit(s.bernoulli(n, 0.5))).then(pl.lit("pending")).otherwise(pl.lit("open"))
        )
        .when(pl.col("solved") > pl.lit(EXPORTED_AT) - pl.duration(days=4))
        .then(pl.lit("solved"))
        .otherwise(pl.lit("closed"))
    )
    other = (
        pl.when(pl.col("email") == pl.col("work_email"))
        .then("private_email")
        .otherwise("work_email")
    )
    email_pick = pl.lit(s.uniform(n))
    t = t.with_columns(
        status=status,
        requester_email=pl.when(email_pick < 0.06).then(other)
        .when(email_pick < 0.08).then(pl.lit(None, dtype=pl.String))
        .otherwise("email"),
        subject=pl.Series(business.TICKET_SUBJECTS).gather(
            s.integers(n, 0, len(business.TICKET_SUBJECTS))
        ),
        channel=s.pick(n, CHANNELS),
        priority=s.pick(n, PRIORITIES),
    ).sort("created", "requester_id")  # fmt: skip
    t = t.with_columns(id=pl.int_range(10_001, 10_001 + n, dtype=pl.Int64))
    export = t.select(
        "id",
        "requester_id",
        pl.col("requester_email").str.to_lowercase(),
        "subject",
        "channel",
        "priority",
        "status",
        "region",
        "segment",
        format_times(t, "created", "_zone", ISO_UTC, ISO_LOCAL).alias("created_at"),
        format_times(t, "first_response", "_zone", ISO_UTC, ISO_LOCAL).alias("first_response_at"),
        format_times(t, "solved", "_zone", ISO_UTC, ISO_LOCAL).alias("solved_at"),
    )
    first_ticket = t.group_by("requester_id").agg(pl.col("created").min().alias("first_ticket"))
    return Tickets(
        export=export,
        first_ticket=first_ticket.rename({"requester_id": "id"}),
        truth=t.select("segment", "created", "response_hours", "first_response"),
    )
