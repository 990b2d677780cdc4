"""The CRM (Salesforce-like) exports: contacts, accounts, leads and opportunities.

Salesforce conventions: 18-character ids, relationship columns such as ``Account.Name``,
timestamps like ``2025-03-04T10:22:33.000+0000`` (a few leads with a local offset such as
``-0500``), ``CloseDate`` as a plain date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from workbench.demo import business, dirt
from workbench.demo.contacts import (
    by_duplicate,
    chosen_emails,
    city_spellings,
    contact_frame,
    created_times,
)
from workbench.demo.effects import Effects, treated
from workbench.demo.ids import salesforce_ids
from workbench.demo.phones import CRM_STYLES, phone_texts
from workbench.demo.rng import Stream
from workbench.demo.timeline import (
    EXPORTED_AT,
    SF_LOCAL,
    SF_UTC,
    business_times,
    format_times,
    hours,
    seasonal_factor,
)
from workbench.demo.world import World

OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
# Marketing_Consent__c -> canonical contacts.marketing_consent (the map in workbench.yaml);
# empty: no decision recorded.
CONSENT = {"Opted In": "true", "Opted Out": "false"}
CONSENT_FORM = datetime(2023, 1, 1)  # the web forms asked for consent from then on
# StageName -> canonical deals.status (the map in workbench.yaml).
DEAL_STATUS = {
    "Prospecting": "open", "Qualification": "open", "Proposal": "open", "Negotiation": "open",
    "Closed Won": "won", "Closed Lost": "lost",
}  # fmt: skip


@dataclass(frozen=True)
class CrmContacts:
    """The contacts export and, per row, the person and creation time behind it."""

    export: pl.DataFrame
    person_idx: pl.Series
    created: pl.Series


def contacts(world: World, records: pl.DataFrame, seed: int) -> CrmContacts:
    """``exports/crm/contacts.csv``: one row per CRM record, sorted by Id (creation)."""
    s = Stream(seed, "crm.contacts")
    f = contact_frame(world, records)
    n = f.height
    f = f.with_columns(
        created=created_times(f, s),
        email=chosen_emails(f, s, by_duplicate(f, 0.08, 0.5)),
        phone=phone_texts(f, s, CRM_STYLES),
        city=city_spellings(f, s, 0.3),
    )
    f = dirt.with_nicknames(f, "first_name", s, by_duplicate(f, 0.06, 0.35))
    f = dirt.with_accents_dropped(f, "first_name", s, 0.08)
    f = dirt.with_accents_dropped(f, "last_name", s, 0.08)
    for column in ("first_name", "last_name"):
        f = dirt.with_typos(f, column, s, by_duplicate(f, 0.015, 0.15))
    f = dirt.with_case(f, "first_name", s, upper=0.01, lower=0.02)
    f = dirt.with_case(f, "last_name", s, upper=0.02, lower=0.01)
    f = dirt.with_email_variants(f, "email", s, upper=0.02, capitalised=0.06, plus=0.03)
    f = dirt.with_street_abbreviations(f, "street", s, 0.15)
    trap = pl.col("in_trap")
    f = dirt.with_blanks(f, ["email"], s, 0.04, keep=trap)
    f = dirt.with_blanks(f, ["phone"], s, 0.12, keep=trap)
    f = dirt.with_blanks(f, ["company_name", "account_id"], s, 0.03)
    f = dirt.with_blanks(f, ["title"], s, 0.2)
    f = dirt.with_blanks(f, ["street", "postcode", "city", "country"], s, 0.1, keep=trap)
    f = dirt.with_blanks(f, ["first_name"], s, 0.005)
    f = f.with_columns(
        modified=pl.col("created")
        + (pl.lit(EXPORTED_AT) - pl.col("created")) * pl.lit(s.uniform(n))
    )
    f = f.sort("created", "person_idx").with_columns(Id=salesforce_ids("003", n, s))
    export = f.select(
        "Id",
        pl.col("first_name").alias("FirstName"),
        pl.col("last_name").alias("LastName"),
        pl.col("email").alias("Email"),
        pl.col("phone").alias("Phone"),
        pl.col("company_name").alias("Account.Name"),
        pl.col("account_id").alias("AccountId"),
        pl.col("title").alias("Title"),
        pl.col("street").alias("MailingStreet"),
        pl.col("postcode").alias("MailingPostalCode"),
        pl.col("city").alias("MailingCity"),
        pl.col("country").alias("MailingCountry"),
        pl.col("created").dt.strftime(SF_UTC).alias("CreatedDate"),
        pl.col("modified").dt.strftime(SF_UTC).alias("LastModifiedDate"),
        consent_decisions(f["created"], seed).alias("Marketing_Consent__c"),
    )
    return CrmContacts(export=export, person_idx=f["person_idx"], created=f["created"])


def consent_decisions(created: pl.Series, seed: int) -> pl.Series:
    """Per contact, the marketing consent decision as the CRM's picklist spells it, empty
    where none is recorded: 85% of the records created since the consent form have one,
    40% of the older ones; 70% of decisions are an opt-in. A stream of its own, so that the
    other columns do not change with it."""
    s = Stream(seed, "crm.consent")
    n = len(created)
    recent = created >= CONSENT_FORM
    decided = s.uniform(n) < pl.select(pl.when(recent).then(0.85).otherwise(0.4)).to_series()
    opted_in = s.bernoulli(n, 0.7)
    return pl.select(
        pl.when(pl.lit(decided))
        .then(pl.when(pl.lit(opted_in)).then(pl.lit("Opted In")).otherwise(pl.lit("Opted Out")))
        .alias("consent")
    ).to_series()


def accounts(world: World, seed: int) -> pl.DataFrame:
    """``exports/crm/accounts.csv``: every company, sorted by Id (creation)."""
    s = Stream(seed, "crm.accounts")
    c = world.companies.sort("account_id")
    n = c.height
    style = pl.lit(s.choice(n, [0.5, 0.25, 0.15, 0.05, 0.05]))
    website = (
        pl.when(style == 0).then("https://www." + pl.col("domain"))
        .when(style == 1).then("www." + pl.col("domain"))
        .when(style == 2).then(pl.col("domain"))
        .when(style == 3).then("http://" + pl.col("domain") + "/")
    )  # fmt: skip
    return c.select(
        pl.col("account_id").alias("Id"),
        pl.col("name").alias("Name"),
        website.alias("Website"),
        pl.col("industry").alias("Industry"),
        pl.col("country").alias("BillingCountry"),
        pl.col("created_at").dt.strftime(SF_UTC).alias("CreatedDate"),
    )


@dataclass(frozen=True)
class Leads:
    """The leads export and the exact response times behind it (for effects.json)."""

    export: pl.DataFrame
    truth: pl.DataFrame  # segment, created, response_hours, first_response, converted


def leads(
    world: World,
    crm_people: pl.Series,
    lead_only: pl.Series,
    n: int,
    effects: Effects,
    seed: int,
) -> Leads:
    """``exports/crm/leads.csv``: inbound leads of known and new people over the window.

    First response is log-normal; for a segment after its launch it is multiplied by
    ``effects.lead_response_multiplier`` and converts at a higher rate.
    """
    s = Stream(seed, "crm.leads")
    known = crm_people.gather(s.integers(n - len(lead_only), 0, len(crm_people)))
    people = pl.concat([known, lead_only])
    f = world.rows_for(people.cast(pl.Int64)).with_columns(
        created=business_times(s, n), duplicate=pl.lit(False)
    )
    e = effects
    is_treated = treated(pl.col("segment"), pl.col("created"))
    response = (
        pl.lit(s.lognormal(n, e.lead_response_median_hours, e.lead_response_sigma))
        * seasonal_factor(pl.col("created"), e.seasonal_amplitude)
        * pl.when(is_treated).then(pl.lit(e.lead_response_multiplier)).otherwise(pl.lit(1.0))
    )
    conversion = (
        pl.when(is_treated)
        .then(pl.lit(e.lead_conversion_rate_canary_post))
        .otherwise(pl.lit(e.lead_conversion_rate))
    )
    f = f.with_columns(
        response_hours=response,
        responded=pl.lit(s.bernoulli(n, 1.0 - e.lead_no_response_rate)),
        converts=pl.lit(s.uniform(n)) < conversion,
        convert_hours=pl.lit(s.lognormal(n, 7 * 24, 0.8)),
        email=chosen_emails(f, s, 0.15),
    )
    first = pl.col("created") + hours(pl.col("response_hours"))
    f = f.with_columns(
        first_response=pl.when(pl.col("responded") & (first < pl.lit(EXPORTED_AT))).then(first)
    )
    converted = pl.col("first_response") + hours(pl.col("convert_hours"))
    f = f.with_columns(
        converted=pl.when(pl.col("converts") & (converted < pl.lit(EXPORTED_AT))).then(converted)
    )
    age = pl.lit(EXPORTED_AT) - pl.col("created")
    status = (
        pl.when(pl.col("converted").is_not_null()).then(pl.lit("Closed - Converted"))
        .when(pl.col("first_response").is_null()).then(pl.lit("Open - Not Contacted"))
        .when(age < pl.duration(days=45)).then(pl.lit("Working - Contacted"))
        .otherwise(pl.lit("Closed - Not Converted"))
    )  # fmt: skip
    f = f.with_columns(
        status=status,
        source=s.pick(n, business.LEAD_SOURCES),
        _zone=pl.when(pl.lit(s.bernoulli(n, 0.15))).then("tz"),
    )
    f = dirt.with_email_variants(f, "email", s, upper=0.03, capitalised=0.1, plus=0.02)
    f = dirt.with_blanks(f, ["email"], s, 0.015)
    f = dirt.with_blanks(f, ["source"], s, 0.03)
    f = f.sort("created", "person_idx").with_columns(Id=salesforce_ids("00Q", n, s))
    export = f.select(
        "Id",
        pl.col("email").alias("Email"),
        pl.col("source").alias("LeadSource"),
        pl.col("region").alias("Region"),
        pl.col("segment").alias("Segment"),
        pl.col("status").alias("Status"),
        format_times(f, "created", "_zone", SF_UTC, SF_LOCAL).alias("CreatedDate"),
        format_times(f, "first_response", "_zone", SF_UTC, SF_LOCAL).alias("First_Response__c"),
        format_times(f, "converted", "_zone", SF_UTC, SF_LOCAL).alias("ConvertedDate"),
    )
    truth = f.select("segment", "created", "response_hours", "first_response", "converted")
    return Leads(export=export, truth=truth)


def deals(world: World, crm: CrmContacts, n: int, seed: int) -> pl.DataFrame:
    """``exports/crm/opportunities.csv``: deals of CRM contacts that have an account.

    Each deal's contact was created before the deal; a deal closes after a log-normal
    cycle (median 45 days) unless that lies after the export, and is won 28% of the time.
    """
    s = Stream(seed, "crm.deals")
    pool = (
        pl.DataFrame(
            {"person_idx": crm.person_idx, "created": crm.created, "ContactId": crm.export["Id"]}
        )
        # not the second (invalid) use of an Id
        .filter(crm.export["AccountId"].is_not_null() & crm.export["Id"].is_first_distinct())
        .sort("created", "ContactId")
    )
    created = business_times(s, n)
    eligible = pool["created"].search_sorted(created, side="left")
    pick = (pl.select(pl.lit(s.uniform(n)) * pl.lit(eligible)).to_series()).floor().cast(pl.Int64)
    pick = pick.clip(0, pool.height - 1)
    chosen = pool.select(pl.all().gather(pl.lit(pick)))
    f = pl.concat(
        [world.rows_for(chosen["person_idx"]), chosen.select("ContactId")], how="horizontal"
    ).with_columns(created=created)
    close = pl.col("created") + pl.duration(
        microseconds=(pl.lit(s.lognormal(n, 45.0, 0.7)) * 86_400_000_000).cast(pl.Int64)
    )
    won = pl.lit(s.bernoulli(n, 0.28))
    open_stage = pl.lit(pl.Series(OPEN_STAGES).gather(s.choice(n, [0.35, 0.3, 0.2, 0.15])))
    f = f.with_columns(close=pl.when(close < pl.lit(EXPORTED_AT)).then(close))
    stage = (
        pl.when(pl.col("close").is_null()).then(open_stage)
        .when(won).then(pl.lit("Closed Won"))
        .otherwise(pl.lit("Closed Lost"))
    )  # fmt: skip
    cents = (pl.lit(s.lognormal(n, 12_000.0, 0.9)) / 10).round(0).cast(pl.Int64) * 1000
    product = pl.lit(
        pl.Series(business.DEAL_PRODUCTS).gather(s.integers(n, 0, len(business.DEAL_PRODUCTS)))
    )
    f = f.with_columns(stage=stage, cents=cents, product=product).sort("created", "ContactId")
    f = f.with_columns(Id=salesforce_ids("006", n, s))
    return f.select(
        "Id",
        pl.col("account_id").alias("AccountId"),
        "ContactId",
        (pl.col("company_name") + " - " + pl.col("product")).alias("Name"),
        pl.col("stage").alias("StageName"),
        decimal_text(pl.col("cents")).alias("Amount"),
        pl.col("company_currency").alias("CurrencyIsoCode"),
        pl.col("company_region").alias("Region"),
        "segment",
        pl.col("created").dt.strftime(SF_UTC).alias("CreatedDate"),
        pl.col("close").dt.strftime("%Y-%m-%d").alias("CloseDate"),
    ).rename({"segment": "Segment"})


def decimal_text(cents: pl.Expr) -> pl.Expr:
    """Integer cents as ``1234.50``."""
    return (cents // 100).cast(pl.String) + "." + (cents % 100).cast(pl.String).str.zfill(2)
