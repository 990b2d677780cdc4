"""End-to-end benchmark: from a demo's exports to the five rendered reports.

``workbench_pipeline`` runs what `make demo` runs after generating data: ingest, validate,
resolve, KPIs and the five reports. Its baseline is :mod:`workbench.bench.bare_pipeline`:
the plain libraries loading, validating, deduping and measuring as Workbench does, and one
report. ``minimal_pipeline``, shown for information, does less: DuckDB reads six of the
exports, polars checks the contacts, plain Splink dedupes them blocking on email and phone
only, one query per headline KPI, and one papermill report. Each starts from the same
exports in a fresh folder.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import duckdb
import polars as pl

from workbench.bench.kpi_cases import PLAIN
from workbench.bench.report_cases import render_bare_report


def fresh_copy(demo: Path, work: Path) -> None:
    """The demo's exports and configuration files (workbench.yaml, roi.yaml, its own
    dictionary...), without its warehouse, reports or ground truth."""
    shutil.copytree(demo / "exports", work / "exports")
    for source in demo.iterdir():
        if source.is_file():
            shutil.copyfile(source, work / source.name)


def workbench_pipeline(demo: Path, work: Path) -> tuple[float, int]:
    """Workbench: ingest, validate, resolve, KPIs and the five reports of the last month."""
    from workbench.config import load_project
    from workbench.kpi.run import measure
    from workbench.pipeline import run_pipeline
    from workbench.report.runner import REPORTS, run_report, shared_kernel
    from workbench.store import open_store

    fresh_copy(demo, work)
    project = load_project(work)
    start = time.perf_counter()
    with open_store(project) as store:
        run_pipeline(project, store)
        measure(project, store)
        rows = int(store.scalar("SELECT count(*) FROM core.contacts"))
    with shared_kernel() as kernel:
        for name in REPORTS:
            run_report(project, name, "2026-10", reports_dir=work / "reports", kernel=kernel)
    return time.perf_counter() - start, rows


SF = "'%Y-%m-%dT%H:%M:%S.%g%z'"
LOAD = {
    "crm_contacts": "SELECT * FROM read_csv('exports/crm/contacts.csv', all_varchar=true)",
    "billing_customers": "SELECT * FROM read_csv('exports/billing/customers.csv', delim=';', "
    "encoding='latin-1', all_varchar=true)",
    "support_requesters": "SELECT * FROM read_json('exports/support/requesters.json')",
    "leads": f"SELECT * REPLACE (try_strptime(CreatedDate, {SF}) AS CreatedDate, "
    f"try_strptime(First_Response__c, {SF}) AS First_Response__c, "
    f"try_strptime(ConvertedDate, {SF}) AS ConvertedDate) "
    "FROM read_csv('exports/crm/leads.csv', all_varchar=true)",
    "tickets": "SELECT * REPLACE (TRY_CAST(created_at AS TIMESTAMPTZ) AS created_at, "
    "TRY_CAST(first_response_at AS TIMESTAMPTZ) AS first_response_at, "
    "TRY_CAST(solved_at AS TIMESTAMPTZ) AS solved_at) "
    "FROM read_json('exports/support/tickets.ndjson', format='newline_delimited', "
    "columns={id: 'VARCHAR', created_at: 'VARCHAR', first_response_at: 'VARCHAR', "
    "solved_at: 'VARCHAR'})",
    "sync_events": "SELECT * REPLACE (TRY_CAST(ts AS TIMESTAMPTZ) AS ts) "
    "FROM read_json('exports/integration/sync_events.ndjson.gz', format='newline_delimited', "
    "columns={event_id: 'VARCHAR', ts: 'VARCHAR', status: 'VARCHAR', latency_ms: 'VARCHAR'})",
}
PEOPLE = """
SELECT unique_id, nullif(first_name, '') AS first_name, nullif(last_name, '') AS last_name,
       nullif(email, '') AS email, nullif(phone, '') AS phone
FROM (
  SELECT 'crm:' || Id AS unique_id, lower(FirstName) AS first_name,
         lower(LastName) AS last_name, lower(Email) AS email,
         regexp_replace(Phone, '[^0-9]', '', 'g') AS phone
  FROM crm_contacts
  UNION ALL
  SELECT 'billing:' || KundenNr, lower(trim(split_part(Kunde, ',', 2))),
         lower(trim(split_part(Kunde, ',', 1))), lower("E-Mail"),
         regexp_replace(Telefon, '[^0-9]', '', 'g')
  FROM billing_customers
  UNION ALL
  SELECT 'support:' || id, lower(split_part(name, ' ', 1)),
         lower(split_part(name, ' ', -1)), lower(email),
         regexp_replace(phone, '[^0-9]', '', 'g')
  FROM support_requesters)
"""
# the headline KPIs on the raw columns (the other KPIs need billing and deals modelled)
BARE_KPIS = {
    "lead_response_time_h": PLAIN["lead_response_time_h"]
    .replace("core.leads", "leads")
    .replace("created_at", "CreatedDate")
    .replace("first_response_at", "First_Response__c"),
    "lead_conversion_rate": PLAIN["lead_conversion_rate"]
    .replace("core.leads", "leads")
    .replace("created_at", "CreatedDate")
    .replace("converted_at", "ConvertedDate"),
    "first_response_time_h": PLAIN["first_response_time_h"].replace("core.tickets", "tickets"),
    "sync_failure_rate": PLAIN["sync_failure_rate"]
    .replace("core.sync_events", "sync_events")
    .replace("occurred_at", "ts"),
}


def minimal_pipeline(demo: Path, work: Path) -> tuple[float, int]:
    """Less than the pipeline's work, with the plain libraries: six exports, one object
    checked, Splink blocking on email and phone, four KPIs, one report (for information)."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    fresh_copy(demo, work)
    start = time.perf_counter()
    con = duckdb.connect(str(work / "bare.duckdb"))
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    for table, reader in LOAD.items():
        source = reader.replace("exports/", f"{work / 'exports'}/")
        con.execute(f"CREATE TABLE {table} AS {source}")
    people = con.sql(PEOPLE).pl()
    valid = people.filter(
        pl.col("unique_id").is_not_null()
        & (pl.col("email").is_null() | pl.col("email").str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"))
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
        ],
    )
    splink_con = duckdb.connect()
    splink_con.execute("SET enable_progress_bar = false")
    db = DuckDBAPI(splink_con)
    linker = Linker(db.register(valid.to_arrow()), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on("email")], 0.5)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    scored = linker.inference.predict(threshold_match_probability=0.5)
    clusters = cluster_pairwise_predictions_at_threshold(
        valid.select("unique_id").to_arrow(),
        scored,
        db,
        "unique_id",
        threshold_match_probability=0.9,
    )
    entities = clusters.as_duckdbpyrelation().pl()
    con.register("entities", entities)
    con.register("valid", valid)
    con.execute("CREATE TABLE entity_members AS SELECT * FROM entities")
    con.execute("CREATE TABLE people_valid AS SELECT * FROM valid")
    for sql in BARE_KPIS.values():
        con.execute(sql).fetchall()
    # the report notebook reads contacts in the shape the bare notebook expects
    con.execute("CREATE SCHEMA core")
    con.execute(
        "CREATE TABLE core.contacts AS SELECT split_part(unique_id, ':', 1) AS _source, "
        "NULL::VARCHAR AS country, NULL::TIMESTAMPTZ AS created_at, email AS email_norm "
        "FROM people_valid"
    )
    con.close()
    splink_con.close()
    render_bare_report(work, "bare", work / "bare.duckdb")
    return time.perf_counter() - start, entities.height
