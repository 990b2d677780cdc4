"""Traps: different people made to look alike, which a resolver must keep apart.

- namesakes: b gets a's first and last name (and another city, phone and email);
- households: b gets a's last name, address and phone, with another first name;
- shared mailboxes: 2-3 colleagues all write from their company's info@/sales@ address.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from workbench.demo import business
from workbench.demo.places import CITY_TABLE
from workbench.demo.rng import Stream


@dataclass(frozen=True)
class Picks:
    """People chosen for the namesake and household traps (a is copied onto b)."""

    namesake_a: pl.Series
    namesake_b: pl.Series
    household_a: pl.Series
    household_b: pl.Series

    @property
    def used(self) -> pl.Series:
        return pl.concat([self.namesake_a, self.namesake_b, self.household_a, self.household_b])


def pick_traps(contact_people: int, s: Stream) -> Picks:
    order = s.permutation(contact_people)
    k_ns = max(4, round(0.01 * contact_people))
    k_hh = max(4, round(0.006 * contact_people))
    return Picks(
        namesake_a=order.slice(0, k_ns),
        namesake_b=order.slice(k_ns, k_ns),
        household_a=order.slice(2 * k_ns, k_hh),
        household_b=order.slice(2 * k_ns + k_hh, k_hh),
    )


def _partner(n: int, a: pl.Series, b: pl.Series) -> pl.Series:
    """Row i holds the index of the person row i copies from (itself when not a trap)."""
    return pl.int_range(n, eager=True).scatter(b, a)


def apply_namesakes(people: pl.DataFrame, picks: Picks) -> pl.DataFrame:
    """b takes a's first and last name; b moves to another city if they shared one."""
    partner = _partner(people.height, picks.namesake_a, picks.namesake_b)
    is_b = pl.col("person_idx").is_in(picks.namesake_b.implode())
    from_a = {c: pl.col(c).gather(pl.lit(partner)) for c in ("first_name", "last_name")}
    same_city = pl.col("city_idx").gather(pl.lit(partner)) == pl.col("city_idx")
    return people.with_columns(
        *(pl.when(is_b).then(expr).otherwise(pl.col(c)).alias(c) for c, expr in from_a.items()),
        pl.when(is_b & same_city)
        .then((pl.col("city_idx") + 1) % CITY_TABLE.height)
        .otherwise("city_idx")
        .alias("city_idx"),
    )


_HOUSEHOLD_SHARED = (
    "last_name", "street", "postcode", "city", "city_alias", "city_idx", "tz", "country_code",
    "country", "region", "currency", "calling_code", "trunk", "number_first", "area_code",
    "subscriber",
)  # fmt: skip


def apply_households(people: pl.DataFrame, picks: Picks) -> pl.DataFrame:
    """b takes a's last name, address and phone, and keeps a different first name."""
    partner = pl.lit(_partner(people.height, picks.household_a, picks.household_b))
    is_b = pl.col("person_idx").is_in(picks.household_b.implode())
    partner_first = pl.col("first_name").gather(partner)
    other_first = (
        pl.when(pl.col("alt_first_name") != partner_first)
        .then("alt_first_name")
        .when(partner_first != "Alex")
        .then(pl.lit("Alex"))
        .otherwise(pl.lit("Sam"))
    )
    return people.with_columns(
        *(
            pl.when(is_b).then(pl.col(c).gather(partner)).otherwise(pl.col(c)).alias(c)
            for c in _HOUSEHOLD_SHARED
        ),
        pl.when(is_b & (pl.col("first_name") == partner_first))
        .then(other_first)
        .otherwise("first_name")
        .alias("first_name"),
    )


def shared_mailboxes(
    people: pl.DataFrame, companies: pl.DataFrame, picks: Picks, contact_people: int, s: Stream
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """2-3 colleagues of a few companies all write from the same info@/sales@ address."""
    used = picks.used.implode()
    ranked = (
        people.filter(~pl.col("person_idx").is_in(used), pl.col("person_idx") < contact_people)
        .select("person_idx", "company_idx")
        .sort("company_idx", "person_idx")
        .with_columns(
            rank=pl.int_range(pl.len()).over("company_idx"), size=pl.len().over("company_idx")
        )
    )
    candidates = ranked.filter(pl.col("size") >= 3)["company_idx"].unique().sort()
    k = max(4, round(0.003 * contact_people))
    chosen = (
        pl.DataFrame(
            {
                "company_idx": candidates,
                "key": s.bits(len(candidates)),
                "group_size": s.integers(len(candidates), 2, 4),
            }
        )
        .sort("key", "company_idx")
        .head(k)
        .drop("key")
    )
    members = ranked.join(chosen, on="company_idx", how="inner", maintain_order="left").filter(
        pl.col("rank") < pl.col("group_size")
    )
    mailbox = companies.select(
        "company_idx",
        (
            pl.col("mailbox_role").replace_strict(
                list(range(len(business.ROLE_MAILBOXES))), list(business.ROLE_MAILBOXES)
            )
            + "@"
            + pl.col("domain")
        ).alias("_mailbox"),
    )
    is_member = pl.col("person_idx").is_in(members["person_idx"].implode())
    people = people.with_columns(
        pl.when(is_member)
        .then(pl.lit(mailbox["_mailbox"]).gather(pl.col("company_idx")))
        .otherwise("work_email")
        .alias("work_email"),
        is_member.alias("shared_mailbox"),
        (is_member | pl.col("person_idx").is_in(used)).alias("in_trap"),
    )
    pairs = (
        members.join(members, on="company_idx", suffix="_r")
        .filter(pl.col("person_idx") < pl.col("person_idx_r"))
        .select(
            pl.col("person_idx").alias("person_l"),
            pl.col("person_idx_r").alias("person_r"),
            pl.lit("shared_mailbox").alias("trap"),
        )
        .sort("person_l", "person_r")
    )
    return people, pairs
