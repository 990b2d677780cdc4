"""The baseline of the pipeline row: the bare script issue 8 asked for ("load, validate,
dedupe, KPIs and one report with the plain libraries"), each step doing what Workbench's
pipeline does to the demo's exports.

``bare_pipeline`` is written the way a careful analyst would script it with DuckDB, polars,
phonenumbers, Splink and papermill, without what Workbench adds around the work (lineage
and the ledger, a reason per quarantined row, the audit trail, restatements, review
queues, the checks of every record's shape):

1. load: every export (11 files, 4 formats) read into a typed staging table per object,
   one hand-written query per source (``STAGING``);
2. validate: contacts standardized (emails; phone numbers to E.164 with ``phonenumbers``,
   each distinct number once, on every core as Workbench does) and every object checked
   with polars expressions (``_checks``): a row failing a check of a required field or key
   to ``quarantine``, a value failing a check of an optional one set to NULL in ``core``
   (Workbench's severities error and warn); invoices converted to the base currency; the
   filled share of every column of every object, per source;
3. dedupe: plain Splink with the model and matching input Workbench's resolution uses for
   the demo (as the resolve row's plain Splink): train, predict, cluster; one golden
   record per entity by a GROUP BY (each field's most recent value);
4. KPIs: every KPI by month, one hand-written query each (the KPI row's ``PLAIN``);
5. one report: a papermill run of a notebook with four queries and two charts.

It does less than Workbench, which the ratio counts in the baseline's favour: one report
where Workbench renders five (each with more queries and charts); of the data-quality
metrics only completeness (not duplicates, freshness, references, phone validity, the
ledger's, consent, reconciliation or gates); names are not normalized, nor deal amounts
converted; Splink's own clustering, no review queue.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from workbench.bench.kpi_cases import PLAIN
from workbench.bench.pipeline_cases import fresh_copy
from workbench.bench.report_cases import render_bare_report
from workbench.standardize.phones import e164
from workbench.standardize.rules import EMAIL_PATTERN

TS = "'%Y-%m-%dT%H:%M:%S.%g%z'"  # Salesforce's timestamps
CSV = "read_csv('{path}', all_varchar=true)"
ERP = "read_csv('{path}', delim=';', encoding='latin-1', all_varchar=true)"
GERMAN_COUNTRIES = {
    "Deutschland": "DE", "D": "DE", "Österreich": "AT", "Schweiz": "CH",
    "Großbritannien": "GB", "UK": "GB", "Irland": "IE", "Frankreich": "FR",
    "Niederlande": "NL", "Spanien": "ES", "Italien": "IT", "Schweden": "SE", "USA": "US",
    "Vereinigte Staaten": "US", "Kanada": "CA", "Australien": "AU", "Japan": "JP",
    "Singapur": "SG",
}  # fmt: skip


def _t(column: str) -> str:
    return f"nullif(trim({column}), '')"


def _berlin_date(column: str) -> str:
    return f"timezone('Europe/Berlin', try_strptime({_t(column)}, '%d.%m.%Y'))"


def _german_number(column: str) -> str:
    return f"TRY_CAST(replace(replace({_t(column)}, '.', ''), ',', '.') AS DECIMAL(18, 4))"


# one query per source: the export read and typed into the columns of its object
STAGING: dict[str, tuple[str, str]] = {
    "crm_contacts": (
        "contacts",
        f"""
        SELECT 'crm_contacts' AS _source, {_t("Id")} AS record_id,
          {_t("FirstName")} AS first_name, {_t("LastName")} AS last_name,
          {_t("Email")} AS email, {_t("Phone")} AS phone, {_t('"Account.Name"')} AS company_name,
          {_t("AccountId")} AS company_id, {_t("Title")} AS job_title,
          {_t("MailingStreet")} AS street, {_t("MailingPostalCode")} AS postcode,
          {_t("MailingCity")} AS city, {_t("MailingCountry")} AS country,
          try_strptime(CreatedDate, {TS}) AS created_at,
          try_strptime(LastModifiedDate, {TS}) AS updated_at,
          CASE Marketing_Consent__c WHEN 'Opted In' THEN true WHEN 'Opted Out' THEN false
          END AS marketing_consent
        FROM {CSV.format(path="crm/contacts.csv")}""",
    ),
    "billing_customers": (
        "contacts",
        f"""
        SELECT 'billing_customers', {_t("KundenNr")}, {_t("split_part(Kunde, ',', 2)")},
          {_t("split_part(Kunde, ',', 1)")}, {_t('"E-Mail"')}, {_t("Telefon")}, {_t("Firma")},
          NULL, NULL, {_t("Strasse")}, {_t("PLZ")}, {_t("Ort")},
          coalesce(c.code, {_t("Land")}), {_berlin_date("Angelegt")}, NULL, NULL
        FROM {ERP.format(path="billing/customers.csv")} LEFT JOIN countries c ON c.name = Land
        """,
    ),
    "support_requesters": (
        "contacts",
        f"""
        SELECT 'support_requesters', CAST(id AS VARCHAR),
          {_t("regexp_extract(name, '^(.*) ', 1)")}, {_t("regexp_extract(name, '([^ ]*)$', 1)")},
          {_t("email")}, {_t("phone")}, {_t("organization")}, NULL, NULL, NULL, NULL, NULL,
          NULL, TRY_CAST(created_at AS TIMESTAMPTZ), NULL, NULL
        FROM read_json('support/requesters.json', columns={{id: 'VARCHAR', name: 'VARCHAR',
          email: 'VARCHAR', phone: 'VARCHAR', organization: 'VARCHAR',
          created_at: 'VARCHAR'}})""",
    ),
    "crm_accounts": (
        "companies",
        f"""
        SELECT 'crm_accounts' AS _source, {_t("Id")} AS record_id, {_t("Name")} AS name,
          lower(regexp_replace({_t("Website")}, '^(https?://)?(www\\.)?', '')) AS domain,
          {_t("Industry")} AS industry, {_t("BillingCountry")} AS country,
          try_strptime(CreatedDate, {TS}) AS created_at
        FROM {CSV.format(path="crm/accounts.csv")}""",
    ),
    "crm_leads": (
        "leads",
        f"""
        SELECT 'crm_leads' AS _source, {_t("Id")} AS record_id, lower({_t("Email")}) AS email,
          {_t("LeadSource")} AS channel, {_t("Region")} AS region, {_t("Segment")} AS segment,
          {_t("Status")} AS status, try_strptime(CreatedDate, {TS}) AS created_at,
          try_strptime(First_Response__c, {TS}) AS first_response_at,
          try_strptime(ConvertedDate, {TS}) AS converted_at
        FROM {CSV.format(path="crm/leads.csv")}""",
    ),
    "crm_deals": (
        "deals",
        f"""
        SELECT 'crm_deals' AS _source, {_t("Id")} AS record_id, {_t("AccountId")} AS company_id,
          {_t("ContactId")} AS contact_id, {_t("Name")} AS name, {_t("StageName")} AS stage,
          CASE StageName WHEN 'Closed Won' THEN 'won' WHEN 'Closed Lost' THEN 'lost'
            WHEN 'Prospecting' THEN 'open' WHEN 'Qualification' THEN 'open'
            WHEN 'Proposal' THEN 'open' WHEN 'Negotiation' THEN 'open' END AS status,
          TRY_CAST({_t("Amount")} AS DECIMAL(18, 4)) AS amount,
          {_t("CurrencyIsoCode")} AS currency, {_t("Region")} AS region,
          {_t("Segment")} AS segment, try_strptime(CreatedDate, {TS}) AS created_at,
          CAST(try_strptime(CloseDate, '%Y-%m-%d') AS TIMESTAMPTZ) AS closed_at
        FROM {CSV.format(path="crm/opportunities.csv")}""",
    ),
    "billing_invoices": (
        "invoices",
        f"""
        SELECT 'billing_invoices' AS _source, {_t("RechnungsNr")} AS record_id,
          {_t("KundenNr")} AS customer_id,
          CAST(try_strptime(Datum, '%d.%m.%Y') AS DATE) AS invoice_date,
          {_german_number("Betrag")} AS amount, {_t("Waehrung")} AS currency,
          CASE Status WHEN 'bezahlt' THEN 'paid' WHEN 'offen' THEN 'open'
            WHEN 'storniert' THEN 'void' END AS status,
          {_t("Region")} AS region, {_t("Segment")} AS segment
        FROM {ERP.format(path="billing/invoices.csv")}""",
    ),
    "fx_rates": (
        "fx_rates",
        """
        SELECT 'fx_rates' AS _source, CAST(strptime(month, '%Y-%m-%d') AS DATE) AS month,
          currency, CAST(rate AS DECIMAL(18, 8)) AS rate
        FROM read_csv('billing/fx_rates_*.csv', union_by_name=true, all_varchar=true)""",
    ),
    "support_tickets": (
        "tickets",
        """
        SELECT 'support_tickets' AS _source, id AS record_id, requester_id AS contact_id,
          requester_email, subject, channel, priority, status, region, segment,
          TRY_CAST(created_at AS TIMESTAMPTZ) AS created_at,
          TRY_CAST(first_response_at AS TIMESTAMPTZ) AS first_response_at,
          TRY_CAST(solved_at AS TIMESTAMPTZ) AS solved_at
        FROM read_json('support/tickets.ndjson', format='newline_delimited', columns={
          id: 'VARCHAR', requester_id: 'VARCHAR', requester_email: 'VARCHAR',
          subject: 'VARCHAR', channel: 'VARCHAR', priority: 'VARCHAR', status: 'VARCHAR',
          region: 'VARCHAR', segment: 'VARCHAR', created_at: 'VARCHAR',
          first_response_at: 'VARCHAR', solved_at: 'VARCHAR'})""",
    ),
    "sync_events": (
        "sync_events",
        """
        SELECT 'sync_events' AS _source, event_id AS record_id,
          TRY_CAST(ts AS TIMESTAMPTZ) AS occurred_at, source_system, target_system, object,
          status, TRY_CAST(latency_ms AS BIGINT) AS latency_ms, error_code, region, segment
        FROM read_json('integration/sync_events.ndjson.gz', format='newline_delimited',
          columns={event_id: 'VARCHAR', ts: 'VARCHAR', source_system: 'VARCHAR',
          target_system: 'VARCHAR', object: 'VARCHAR', status: 'VARCHAR',
          latency_ms: 'VARCHAR', error_code: 'VARCHAR', region: 'VARCHAR',
          segment: 'VARCHAR'})""",
    ),
}
REGIONS = ["EMEA", "NA", "APAC", "LATAM"]
SEGMENTS = ["canary", "wave2", "control"]


def _checks(obj: str) -> tuple[list[pl.Expr], dict[str, pl.Expr]]:
    """The object's checks as polars expressions, split as Workbench's severities split
    them: those of required fields and unique keys (a row failing one is quarantined) and,
    per optional column, the check its value must pass (a failing value is set to NULL in
    core, the row kept)."""
    soon = datetime.now(UTC) + timedelta(days=1)
    since = datetime(1990, 1, 1, tzinfo=UTC)

    def when(column: str) -> pl.Expr:
        return pl.col(column).is_null() | pl.col(column).is_between(since, soon)

    def one_of(column: str, allowed: list[str]) -> pl.Expr:
        return pl.col(column).is_null() | pl.col(column).is_in(allowed)

    def at_most(column: str, n: int) -> pl.Expr:
        return pl.col(column).is_null() | (pl.col(column).str.len_chars() <= n)

    def matches(column: str, pattern: str) -> pl.Expr:
        return pl.col(column).is_null() | pl.col(column).str.contains(pattern)

    def required(column: str) -> pl.Expr:
        return pl.col(column).is_not_null()

    def email(column: str) -> pl.Expr:
        return matches(column, EMAIL_PATTERN) & at_most(column, 254)

    identified = [
        pl.col("record_id").is_not_null(),
        pl.col("record_id").is_first_distinct() | pl.col("record_id").is_null(),
    ]
    places = {"region": one_of("region", REGIONS), "segment": one_of("segment", SEGMENTS)}
    if obj == "contacts":
        return identified, {
            "email": email("email"), "country": matches("country", "^[A-Z]{2}$"),
            "created_at": when("created_at"), "updated_at": when("updated_at"),
        } | {
            c: at_most(c, n)
            for c, n in (("first_name", 100), ("last_name", 100), ("company_name", 200),
                         ("job_title", 200), ("street", 200), ("postcode", 12), ("city", 100))
        }  # fmt: skip
    if obj == "companies":
        return [*identified, required("name"), at_most("name", 200)], {
            "country": matches("country", "^[A-Z]{2}$"), "created_at": when("created_at"),
        }  # fmt: skip
    if obj == "leads":
        return [*identified, required("created_at"), when("created_at")], places | {
            "email": email("email"), "first_response_at": when("first_response_at"),
            "converted_at": when("converted_at"),
        }  # fmt: skip
    if obj == "deals":
        return [*identified, required("status"), when("created_at"), required("created_at")], (
            places | {
                "amount": pl.col("amount").is_null() | (pl.col("amount") >= 0),
                "currency": matches("currency", "^[A-Z]{3}$"), "closed_at": when("closed_at"),
            }
        )  # fmt: skip
    if obj == "invoices":
        return [
            *identified, required("customer_id"), required("invoice_date"), required("amount"),
            pl.col("invoice_date").is_between(since.date(), soon.date()),
            required("currency"), matches("currency", "^[A-Z]{3}$"),
        ], places  # fmt: skip
    if obj == "tickets":
        return [*identified, required("created_at"), when("created_at")], places | {
            "requester_email": email("requester_email"), "subject": at_most("subject", 500),
            "channel": one_of("channel", ["email", "chat", "phone", "web"]),
            "priority": one_of("priority", ["low", "normal", "high", "urgent"]),
            "status": one_of("status", ["new", "open", "pending", "solved", "closed"]),
            "first_response_at": when("first_response_at"), "solved_at": when("solved_at"),
        }  # fmt: skip
    if obj == "sync_events":
        return [
            *identified,
            required("occurred_at"),
            when("occurred_at"),
            pl.col("status").is_in(["success", "failed"]),
        ], places | {"latency_ms": pl.col("latency_ms").is_null() | (pl.col("latency_ms") >= 0)}
    return [  # fx_rates
        required("month"), required("currency"), matches("currency", "^[A-Z]{3}$"),
        pl.col("rate").is_not_null() & (pl.col("rate") >= 1e-6),
    ], {}  # fmt: skip


def _e164(pair: tuple[str, str | None]) -> str | None:
    return e164(*pair)  # phonenumbers' parse, validity check and E.164 format


def _standard_contacts(frame: pl.DataFrame) -> pl.DataFrame:
    """Emails lower-cased (and without a +alias for matching), phones in E.164."""
    region = (
        pl.when(pl.col("country").str.contains("^[A-Z]{2}$")).then(pl.col("country")).alias("r")
    )
    out = frame.with_columns(
        pl.col("email").str.to_lowercase().str.strip_suffix("."),
        pl.col("phone").alias("phone_raw"),
        region,
    ).with_columns(pl.col("email").str.replace(r"^([^@+]+)\+[^@]*@", "${1}@").alias("email_norm"))
    pairs = out.select("phone_raw", "r").unique().drop_nulls("phone_raw")
    # pure Python: on every core. Forked explicitly (Python 3.14 defaults to forkserver):
    # the children only run phonenumbers, and DuckDB's and polars' threads are idle here
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(os.sched_getaffinity(0)), mp_context=fork) as pool:
        parsed = list(pool.map(_e164, pairs.iter_rows(), chunksize=10_000))
    pairs = pairs.with_columns(pl.Series("phone", parsed, dtype=pl.String))
    return (
        out.drop("phone").join(pairs, on=["phone_raw", "r"], how="left", nulls_equal=True).drop("r")
    )


def plain_splink(frame: pl.DataFrame, model: Any, project: Any) -> pl.DataFrame:
    """Plain Splink on ``frame`` (the matching input's model columns, ``unique_id`` first)
    with ``model``'s settings and the project's thresholds: train, predict, cluster. The
    resolve row's baseline too (``cases.splink_plain``)."""
    from splink import Linker
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    from workbench.resolve.engine import splink_db
    from workbench.resolve.matching import train

    settings = project.config.resolve
    # the same DuckDB settings as workbench's resolve, but for its default memory limit:
    # with its input handed over as Arrow (not spillable) and EM's pairs kept, plain Splink
    # runs out of memory under it at 1M
    with splink_db(project.config.duckdb, default_limit=None) as db:
        linker = Linker(db.register(frame.to_arrow()), model.settings, log_level=logging.ERROR)
        train(linker, model, settings)
        scored = linker.inference.predict(threshold_match_probability=settings.review_band[0])
        clusters = cluster_pairwise_predictions_at_threshold(
            frame.select("unique_id").to_arrow(),
            scored,
            db,
            "unique_id",
            threshold_match_probability=settings.threshold,
        )
        return clusters.as_duckdbpyrelation().pl()


# each field the entity's most recent value (arg_max skips NULLs), as Workbench's
# survivorship ranks an entity's records by updated_at, then created_at
_RECENT = ", ".join(
    f"arg_max(c.{column}, coalesce(c.updated_at, c.created_at)) AS {name}"
    for column, name in [("first_name", "first_name"), ("last_name", "last_name"),
                         ("email_norm", "email"), ("phone", "phone"),
                         ("company_name", "company_name"), ("country", "country")]
)  # fmt: skip
GOLDEN = f"""
CREATE TABLE id.golden AS
SELECT m.entity_id, count(*) AS records, {_RECENT},
       min(c.created_at) AS first_seen, max(c.updated_at) AS last_updated
FROM core.contacts c JOIN id.members m ON m.source = c._source AND m.record_id = c.record_id
GROUP BY m.entity_id
"""


def bare_pipeline(demo: Path, work: Path) -> tuple[float, int]:
    """The plain libraries doing the pipeline's work (see the module's docstring)."""

    from workbench.config import load_project
    from workbench.resolve.features import features
    from workbench.resolve.model import plan
    from workbench.resolve.nicknames import TABLE as NAME_FORMS
    from workbench.resolve.nicknames import name_forms

    fresh_copy(demo, work)
    project = load_project(work)  # the demo's settings: the same model and thresholds
    spec = project.dictionary.object("contacts")
    start = time.perf_counter()
    con = duckdb.connect(str(work / "bare.duckdb"))
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET file_search_path = '{work / 'exports'}'")
    for schema in ("stg", "core", "quarantine", "id", "dq"):
        con.execute(f"CREATE SCHEMA {schema}")
    countries = pl.DataFrame({"name": list(GERMAN_COUNTRIES), "code": GERMAN_COUNTRIES.values()})
    con.register("countries", countries)
    by_object: dict[str, list[str]] = {}
    for obj, sql in STAGING.values():
        by_object.setdefault(obj, []).append(sql)
    for obj, selects in by_object.items():
        con.execute(f"CREATE TABLE stg.{obj} AS " + " UNION ALL ".join(selects))
    # standardize and check: valid rows to core, the others to quarantine
    for obj in by_object:
        frame = con.sql(f"SELECT * FROM stg.{obj}").pl()
        if obj == "contacts":
            frame = _standard_contacts(frame)
        errors, warnings = _checks(obj)
        ok = frame.select(pl.all_horizontal(errors).fill_null(False).alias("ok"))["ok"]
        kept = frame.filter(ok).with_columns(  # a value failing a warning set aside
            pl.when(check.fill_null(False)).then(pl.col(c)).alias(c)
            for c, check in warnings.items()
        )
        if obj == "contacts":  # and the matching key derived from it
            email_norm = pl.when(pl.col("email").is_not_null()).then(pl.col("email_norm"))
            kept = kept.with_columns(email_norm.alias("email_norm"))
        for schema, rows in (("core", kept), ("quarantine", frame.filter(~ok))):
            con.register("_rows", rows)
            con.execute(f"CREATE TABLE {schema}.{obj} AS SELECT * FROM _rows")
            con.unregister("_rows")
    con.execute(
        "CREATE OR REPLACE TABLE core.invoices AS SELECT i.*, i.amount * r.rate AS amount_base "
        "FROM core.invoices i LEFT JOIN core.fx_rates r ON r.currency = i.currency "
        "AND r.month = date_trunc('month', i.invoice_date)"
    )
    # data-quality metrics: every column's filled share, per object and source
    metrics = []
    for obj in by_object:
        columns = [c for c in con.table(f"core.{obj}").columns if c != "_source"]
        filled = ", ".join(f"count({_quote(c)}) / count(*)" for c in columns)
        for row in con.execute(f"SELECT _source, {filled} FROM core.{obj} GROUP BY 1").fetchall():
            metrics += [(obj, row[0], c, v) for c, v in zip(columns, row[1:], strict=True)]
    con.execute("CREATE TABLE dq.metrics (object VARCHAR, source VARCHAR, col VARCHAR, v DOUBLE)")
    con.executemany("INSERT INTO dq.metrics VALUES (?, ?, ?, ?)", metrics)
    # identity resolution of contacts: the matching input Workbench's model reads
    feats = features("contacts", spec, con.table("core.contacts").columns)
    con.register(NAME_FORMS, name_forms())
    people = con.sql(feats.sql_over("core.contacts")).pl()
    model = plan(feats, overrides=project.config.resolve.blocking_rules)
    entities = plain_splink(people.select(feats.model_columns), model, project)
    members = people.select("unique_id", "source", "record_id").join(
        entities.select("unique_id", pl.col("cluster_id").alias("entity_id")), on="unique_id"
    )
    con.execute("CREATE TABLE id.members AS SELECT * FROM members")
    con.execute(GOLDEN)
    # every KPI by month
    kpis = {kpi: con.execute(sql).fetchall() for kpi, sql in PLAIN.items()}
    arpa = dict(kpis["arpa"])
    kpis["ltv"] = [(p, arpa[p] * 0.7 / c) for p, c in kpis["churn_rate"] if c and p in arpa]
    con.execute("CREATE TABLE kpi_values (kpi VARCHAR, period TIMESTAMPTZ, value DOUBLE)")
    con.executemany(
        "INSERT INTO kpi_values VALUES (?, ?, ?)",
        [(kpi, p, v) for kpi, values in kpis.items() for p, v in values],
    )
    con.close()
    # one report
    render_bare_report(work, "bare", work / "bare.duckdb")
    return time.perf_counter() - start, members.height


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
