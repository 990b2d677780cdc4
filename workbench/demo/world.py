"""The simulated world behind the exports: companies, people, and the traps among them.

Everything here is the *truth*: clean names, one address, one phone, one work email per
person. The system modules later copy people into exports and dirty them. Traps are pairs
of different people that look alike on purpose: namesakes, household members, colleagues
sharing a role mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from workbench.demo import business, data
from workbench.demo.dirt import ascii_fold, dedupe_emails
from workbench.demo.effects import EFFECTS, segments
from workbench.demo.ids import salesforce_ids
from workbench.demo.places import (
    CITY_TABLE,
    COUNTRY_TABLE,
    CULTURES,
    PLACE_WEIGHTS,
    gather_rows,
    with_places,
)
from workbench.demo.rng import Stream
from workbench.demo.sizes import Sizes
from workbench.demo.timeline import EXPORTED_AT, HISTORY_START, skewed_times
from workbench.demo.traps import (
    apply_households,
    apply_namesakes,
    pick_traps,
    shared_mailboxes,
)


@dataclass(frozen=True)
class World:
    """Companies, people and trap pairs of one demo."""

    companies: pl.DataFrame
    people: pl.DataFrame
    traps: pl.DataFrame  # person_l, person_r, trap

    def rows_for(self, person_idx: pl.Series) -> pl.DataFrame:
        """One row per entry of ``person_idx`` (repeats allowed): the person and company."""
        people = self.people.select(pl.all().gather(pl.lit(person_idx)))
        company = self.companies.select(
            pl.col("name").alias("company_name"),
            "base", "legal", "legal_alt", "stem", "account_id", "domain",
            pl.col("region").alias("company_region"),
            pl.col("currency").alias("company_currency"),
        ).select(pl.all().gather(pl.lit(people["company_idx"])))  # fmt: skip
        return pl.concat([people, company], how="horizontal")


def build_world(sizes: Sizes, seed: int) -> World:
    """Draw the companies and people of a demo of ``sizes``."""
    companies = _companies(sizes.companies, Stream(seed, "companies"))
    people = _people(sizes, companies, Stream(seed, "people"))
    picks = pick_traps(sizes.contact_people, Stream(seed, "traps"))
    people = apply_namesakes(people, picks)
    people = with_places(people, Stream(seed, "places"))
    people = apply_households(people, picks)
    people = _with_emails(people, companies, Stream(seed, "emails"))
    people, mailbox_pairs = shared_mailboxes(
        people, companies, picks, sizes.contact_people, Stream(seed, "mailboxes")
    )
    traps = pl.concat(
        [
            pl.DataFrame(
                {"person_l": picks.namesake_a, "person_r": picks.namesake_b, "trap": "namesake"}
            ),
            pl.DataFrame(
                {"person_l": picks.household_a, "person_r": picks.household_b, "trap": "household"}
            ),
            mailbox_pairs,
        ]
    ).with_columns(pl.col("person_l", "person_r").cast(pl.Int64))
    return World(companies=companies, people=people.drop("alt_first_name"), traps=traps)


# -- companies ------------------------------------------------------------------------
def _companies(n: int, s: Stream) -> pl.DataFrame:
    stems, nouns = business.COMPANY_STEMS, business.COMPANY_NOUNS
    combos = len(stems) * len(nouns)
    combo = s.permutation(combos).gather(pl.int_range(n, eager=True) % combos)
    qualifiers = business.COMPANY_QUALIFIERS
    qualifier_idx = (pl.int_range(n, eager=True) // combos).clip(0, len(qualifiers) - 1)
    country_code = s.choice(n, [c.weight for c in data.COUNTRIES])
    legal = s.pick_from(country_code, [c.legal_forms for c in data.COUNTRIES])
    frame = pl.DataFrame(
        {
            "company_idx": pl.int_range(n, eager=True),
            "stem": pl.Series(stems).gather(combo // len(nouns)),
            "noun": pl.Series(nouns).gather(combo % len(nouns)),
            "qualifier": pl.Series(qualifiers).gather(qualifier_idx),
            "country_code": country_code,
            "legal": legal,
            "industry_idx": s.integers(n, 0, len(business.INDUSTRIES)),
            "has_industry": s.bernoulli(n, 0.93),
            "canary": s.bernoulli(n, EFFECTS.canary_share),
            "email_pattern": s.choice(n, [0.45, 0.2, 0.1, 0.1, 0.15]),
            "mailbox_role": s.integers(n, 0, len(business.ROLE_MAILBOXES)),
            "created_at": skewed_times(s, n, HISTORY_START, EXPORTED_AT, 0.8),
        }
    )
    countries = gather_rows(
        COUNTRY_TABLE, frame["country_code"], ["country", "region", "currency", "tld"]
    )
    frame = pl.concat([frame, countries], how="horizontal")
    base = pl.col("stem") + " " + pl.col("noun") + pl.col("qualifier")
    domain_words = pl.col("stem") + pl.col("noun") + pl.col("qualifier").str.replace(" & ", "")
    frame = frame.with_columns(
        base.alias("base"),
        (base + " " + pl.col("legal")).alias("name"),
        pl.col("legal").replace_strict(business.LEGAL_FORM_VARIANTS).alias("legal_alt"),
        (
            ascii_fold(domain_words).str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
            + "."
            + pl.col("tld")
        ).alias("domain"),
        pl.when(pl.col("has_industry"))
        .then(pl.lit(pl.Series(business.INDUSTRIES)).gather(pl.col("industry_idx")))
        .alias("industry"),
        segments(frame["canary"], s.substream("wave2").bernoulli(n, EFFECTS.wave2_share)),
    )
    frame = (
        frame.sort("created_at", "company_idx")
        .with_columns(salesforce_ids("001", frame.height, s).alias("account_id"))
        .sort("company_idx")
    )
    return frame.drop("has_industry", "industry_idx", "canary", "tld")


# -- people ---------------------------------------------------------------------------
def _people(sizes: Sizes, companies: pl.DataFrame, s: Stream) -> pl.DataFrame:
    n = sizes.people
    company_idx = s.skewed(n, companies.height, 1.6)
    company_country = companies["country_code"].gather(company_idx)
    country_code = (
        pl.DataFrame(
            {
                "own": company_country,
                "u": s.uniform(n),
                "other": s.choice(n, [c.weight for c in data.COUNTRIES]),
            }
        )
        .select(pl.when(pl.col("u") < 0.85).then("own").otherwise("other"))
        .to_series()
    )
    home = COUNTRY_TABLE["home_culture"].gather(country_code)
    culture = (
        pl.DataFrame({"home": home, "u": s.uniform(n), "other": s.integers(n, 0, len(CULTURES))})
        .select(pl.when(pl.col("u") < 0.85).then("home").otherwise("other"))
        .to_series()
    )
    first_lists = [data.FIRST_NAMES[c] for c in CULTURES]
    last_lists = [data.LAST_NAMES[c] for c in CULTURES]
    double = culture.is_in([CULTURES.index(c) for c in data.DOUBLE_SURNAME_CULTURES]) & (
        s.bernoulli(n, 0.3)
    )
    frame = (
        pl.DataFrame(
            {
                "person_idx": pl.int_range(n, eager=True),
                "company_idx": company_idx,
                "country_code": country_code,
                "culture": culture,
                "first_name": s.pick_from(culture, first_lists, 1.5),
                "alt_first_name": s.pick_from(culture, first_lists, 1.0),
                "last_name": s.pick_from(culture, last_lists, 1.4),
                "second_last": s.pick_from(culture, last_lists, 1.4),
                "double": double,
                "city_idx": s.choose_within(
                    country_code,
                    CITY_TABLE["country_code"].to_list(),
                    PLACE_WEIGHTS,
                ),
                "title": pl.Series(business.JOB_TITLES).gather(
                    s.skewed(n, len(business.JOB_TITLES), 1.3)
                ),
                "created_at": skewed_times(s, n, HISTORY_START, EXPORTED_AT, 0.55),
            }
        )
        .with_columns(
            pl.when("double")
            .then(pl.col("last_name") + " " + pl.col("second_last"))
            .otherwise("last_name")
            .alias("last_name")
        )
        .drop("double", "second_last")
    )
    frame = frame.with_columns(
        pl.format("P{}", pl.col("person_idx").add(1).cast(pl.String).str.zfill(7)).alias(
            "person_id"
        ),
        pl.lit(companies["segment"]).gather(pl.col("company_idx")).alias("segment"),
    )
    return frame


def _with_emails(people: pl.DataFrame, companies: pl.DataFrame, s: Stream) -> pl.DataFrame:
    """A work address on the company's domain and pattern, and a private freemail one."""
    n = people.height
    first = ascii_fold(pl.col("first_name")).str.to_lowercase().str.replace_all(r"[^a-z]", "")
    last = ascii_fold(pl.col("last_name")).str.to_lowercase().str.replace_all(r"[^a-z-]", "")
    pattern = pl.lit(companies["email_pattern"]).gather(pl.col("company_idx"))
    domain = pl.lit(companies["domain"]).gather(pl.col("company_idx"))
    initial = first.str.slice(0, 1)
    local = (
        pl.when(pattern == 0)
        .then(first + "." + last)
        .when(pattern == 1)
        .then(initial + last)
        .when(pattern == 2)
        .then(first)
        .when(pattern == 3)
        .then(first + "_" + last)
        .otherwise(initial + "." + last)
    )
    people = people.with_columns(
        _private=s.choice(n, [0.4, 0.25, 0.2, 0.15]),
        _year=s.integers(n, 60, 100),
        _free=pl.Series(business.FREEMAIL_DOMAINS).gather(
            s.skewed(n, len(business.FREEMAIL_DOMAINS), 1.5)
        ),
    )
    kind = pl.col("_private")
    year = pl.col("_year").cast(pl.String)
    private = (
        pl.when(kind == 0)
        .then(first + "." + last)
        .when(kind == 1)
        .then(first + last + year)
        .when(kind == 2)
        .then(initial + last)
        .otherwise(first + "." + last + year)
    )
    people = people.with_columns(
        (local + "@" + domain).alias("work_email"),
        (private + "@" + pl.col("_free")).alias("private_email"),
    ).drop("_private", "_year", "_free")
    # Work local parts never end in a digit, private ones never contain "_" (see patterns).
    return dedupe_emails(dedupe_emails(people, "work_email"), "private_email", separator="_")
