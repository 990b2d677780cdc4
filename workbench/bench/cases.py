"""The measured cases; each runs in a fresh subprocess: ``python -m workbench.bench.cases``.

Prints one JSON line: ``{"seconds": ..., "rows": ...}``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from workbench.bench.bare_pipeline import bare_pipeline, plain_splink
from workbench.bench.data import CONTACTS_CONFIG
from workbench.bench.kpi_cases import plain_kpis, prepare_kpis, workbench_kpis
from workbench.bench.pipeline_cases import minimal_pipeline, workbench_pipeline
from workbench.bench.report_cases import bare_papermill, workbench_reports
from workbench.bench.review_cases import plain_review, prepare_review, workbench_review
from workbench.standardize.rules import EMAIL_PATTERN
from workbench.store import Store


def duckdb_read_csv(csv: Path, work: Path) -> tuple[float, int]:
    """Plain DuckDB: read_csv into a table of a fresh DuckDB file."""
    con = duckdb.connect(str(work / "plain.duckdb"))
    start = time.perf_counter()
    con.execute("CREATE TABLE contacts AS SELECT * FROM read_csv($p)", {"p": str(csv)})
    con.close()
    seconds = time.perf_counter() - start
    rows = (
        duckdb.connect(str(work / "plain.duckdb"))
        .execute("SELECT count(*) FROM contacts")
        .fetchone()
    )
    return seconds, int(rows[0]) if rows else 0


def workbench_ingest(csv: Path, work: Path) -> tuple[float, int]:
    """Workbench: ingest (raw with lineage, the ledger, the checks of every record's shape)
    into a fresh warehouse; staging is validation's first step."""
    from workbench.config import load_project
    from workbench.ingest import ingest
    from workbench.store import open_store

    shutil.copyfile(csv, work / "contacts.csv")
    (work / "workbench.yaml").write_text(CONTACTS_CONFIG)
    project = load_project(work)
    start = time.perf_counter()
    with open_store(project) as store:
        report = ingest(project, store)
    seconds = time.perf_counter() - start
    if report.failures:
        raise SystemExit(report.failures[0].error)
    return seconds, report.loads[0].rows_loaded


# the staging of CONTACTS_CONFIG written by hand: each mapped column, typed
PLAIN_STAGING = """
CREATE TABLE stg_contacts AS
SELECT 'crm_contacts' AS _source, 'crm' AS _system, _load_id, _row_number,
       nullif(trim(Id), '') AS record_id, nullif(trim(FirstName), '') AS first_name,
       nullif(trim(LastName), '') AS last_name, nullif(trim(Email), '') AS email,
       nullif(trim(Phone), '') AS phone, nullif(trim("Account.Name"), '') AS company_name,
       nullif(trim(MailingCity), '') AS city, nullif(trim(MailingCountry), '') AS country,
       try_strptime(nullif(trim(CreatedDate), ''), '%Y-%m-%dT%H:%M:%S.%g%z') AS created_at
FROM raw.crm_contacts
"""


def prepare_ingested(csv: Path, work: Path) -> tuple[float, int]:
    """Not measured: ingest the CSV once into ``work``'s warehouse for the staging cases."""
    return workbench_ingest(csv, work)


def _ingested_copy(work: Path) -> Path:
    """A copy of the ingested project in ``work``/copy (its staging not yet built)."""
    copy = work / "copy"
    shutil.rmtree(copy, ignore_errors=True)
    (copy / "data").mkdir(parents=True)
    shutil.copyfile(work / "workbench.yaml", copy / "workbench.yaml")
    shutil.copyfile(work / "contacts.csv", copy / "contacts.csv")
    shutil.copyfile(work / "data" / "warehouse.duckdb", copy / "data" / "warehouse.duckdb")
    return copy


def duckdb_staging(csv: Path, work: Path) -> tuple[float, int]:
    """Plain DuckDB: the loaded rows into a typed table by one hand-written query."""
    copy = _ingested_copy(work)
    con = duckdb.connect(str(copy / "data" / "warehouse.duckdb"))
    start = time.perf_counter()
    con.execute(PLAIN_STAGING)
    con.close()
    seconds = time.perf_counter() - start
    with duckdb.connect(str(copy / "data" / "warehouse.duckdb"), read_only=True) as check:
        found = check.execute("SELECT count(*) FROM stg_contacts").fetchone()
    shutil.rmtree(copy)
    return seconds, int(found[0]) if found else 0


def workbench_stage(csv: Path, work: Path) -> tuple[float, int]:
    """Workbench: staging as validation's first step (``stage_changed``: the mapping with
    its trims, null tokens and a ``_problems`` list per row, and the staging state)."""
    from workbench.config import load_project
    from workbench.ingest import stage_changed
    from workbench.store import open_store

    copy = _ingested_copy(work)
    project = load_project(copy)
    start = time.perf_counter()
    with open_store(project) as store:
        staged = stage_changed(project, store)
    seconds = time.perf_counter() - start
    shutil.rmtree(copy)
    return seconds, sum(s.rows for s in staged)


def prepare_staged(csv: Path, work: Path) -> tuple[float, int]:
    """Not measured: ingest and stage the CSV once into ``work``'s warehouse for the
    validation cases."""
    from workbench.config import load_project
    from workbench.ingest import stage_changed
    from workbench.store import open_store

    seconds, rows = workbench_ingest(csv, work)
    project = load_project(work)
    with open_store(project) as store:
        stage_changed(project, store)
    return seconds, rows


def _staged_contacts(work: Path) -> pl.DataFrame:
    from workbench.store import Store

    with Store(work / "data" / "warehouse.duckdb", read_only=True) as store:
        frame = store.frame("SELECT * FROM stg.contacts")
    return frame.with_row_index("_i")


def polars_checks(csv: Path, work: Path) -> tuple[float, int]:
    """Plain polars: the contact checks of the dictionary as fused expressions, then split."""
    frame = _staged_contacts(work)
    start = time.perf_counter()
    now = datetime.now(UTC) + timedelta(days=1)
    ok = [
        pl.col("record_id").is_not_null(),
        pl.col("record_id").is_first_distinct() | pl.col("record_id").is_null(),
        pl.col("email").is_null() | pl.col("email").str.contains(EMAIL_PATTERN),
        pl.col("email").is_null() | (pl.col("email").str.len_chars() <= 254),
        pl.col("country").is_null() | pl.col("country").str.contains("^(?:[A-Z]{2})$"),
        pl.col("region").is_null() | pl.col("region").is_in(["EMEA", "NA", "APAC", "LATAM"]),
        pl.col("created_at").is_null()
        | pl.col("created_at").is_between(datetime(1990, 1, 1, tzinfo=UTC), now),
        pl.col("updated_at").is_null()
        | pl.col("updated_at").is_between(datetime(1990, 1, 1, tzinfo=UTC), now),
        pl.col("_problems").list.len() == 0,
    ]
    ok += [
        pl.col(c).is_null() | (pl.col(c).str.len_chars() <= n)
        for c, n in (("first_name", 100), ("last_name", 100), ("company_name", 200),
                     ("job_title", 200), ("street", 200), ("postcode", 12), ("city", 100))
    ]  # fmt: skip
    passed = frame.select(pl.all_horizontal(ok).alias("ok"))["ok"]
    valid = frame.filter(passed).drop("_i")
    quarantined = frame.filter(~passed)
    seconds = time.perf_counter() - start
    return seconds, valid.height + quarantined.height


def workbench_validate(csv: Path, work: Path) -> tuple[float, int]:
    """Workbench: the pandera schema generated from the dictionary, then the same split."""
    from workbench.dictionary import load_dictionary
    from workbench.validate.run import split_rows
    from workbench.validate.schemas import object_schema

    frame = _staged_contacts(work)
    spec = load_dictionary().object("contacts")
    start = time.perf_counter()
    schema = object_schema(spec, frame.columns)
    valid, quarantined, _ = split_rows(schema, frame)
    seconds = time.perf_counter() - start
    return seconds, valid.height + quarantined.height


def prepare_demo(size: Path, work: Path) -> tuple[float, int]:
    """Not measured: a demo project of ``size`` contacts, ingested and validated."""
    from workbench.config import load_project
    from workbench.demo import generate_demo
    from workbench.ingest import ingest
    from workbench.pipeline import run_quality
    from workbench.store import open_store

    start = time.perf_counter()
    generate_demo(work, contacts=int(str(size)), seed=42)
    project = load_project(work)
    with open_store(project) as store:
        ingest(project, store)
        run_quality(project, store)
        rows = int(store.scalar("SELECT count(*) FROM core.contacts"))
    return time.perf_counter() - start, rows


def splink_plain(size: Path, work: Path) -> tuple[float, int]:
    """Plain Splink with the same settings: read the input, train, predict, cluster."""
    from workbench.config import load_project
    from workbench.resolve.inputs import matching_input, model_input
    from workbench.resolve.model import plan
    from workbench.store import open_store

    project = load_project(work)
    settings = project.config.resolve
    start = time.perf_counter()  # reading the input from the warehouse counts for both
    with open_store(project, read_only=True) as store:
        feats, frame = matching_input(project, store, "contacts")
    model = plan(feats, overrides=settings.blocking_rules)
    clusters = plain_splink(model_input(frame, feats, settings), model, project)
    return time.perf_counter() - start, clusters.height


def workbench_resolve(
    size: Path, work: Path, *, retrain: bool = False, first: bool = False, new: float = 0.0
) -> tuple[float, int]:
    """Workbench: `resolve` end to end (features, train, predict, cluster, ids, golden).

    As a re-run a month later: before the clock starts, 2% of the records (a different 2%
    each run) were edited since the last run, so the golden records of their entities of
    several records are rebuilt (one record: read from core as it is). The edit
    moves ``updated_at``, not a matching field (repeated edits of names would wear down the
    accuracy the bench reports), so the clusters come out as before: training, scoring and
    clustering are done in full either way, but ids and writes take their direct path. The
    model of the previous run is reused when the data kept its shape, as `workbench
    resolve` does; with ``retrain`` it is trained again, as plain Splink does every time.
    With ``first``, the object's earlier resolutions are removed first: nothing to reuse.
    With ``new``, that share of the records is new since the last run instead (left out of
    its members and pairs) and the run is ``--incremental``: it scores only them.
    """
    from workbench.config import load_project
    from workbench.resolve import resolve
    from workbench.store import open_store

    project = load_project(work)
    with open_store(project) as store:  # not measured
        if first:
            _forget_resolutions(store)
        elif new:
            _forget_records(store, share=new)
        else:
            _edit_records(store, share=0.02)
    start = time.perf_counter()
    with open_store(project) as store:
        report = resolve(project, store, retrain=retrain, incremental=bool(new))
    return time.perf_counter() - start, report.records


def _edit_records(store: Store, share: float) -> None:
    """Move ``updated_at`` of a random ``share`` of the contacts a day on."""
    store.execute(
        "UPDATE core.contacts SET updated_at = coalesce(updated_at, TIMESTAMPTZ '2026-01-01') "
        "+ INTERVAL 1 DAY WHERE random() < $share",
        {"share": share},
    )


def _forget_records(store: Store, share: float) -> None:
    """Make a random ``share`` of the contacts new since the last run: it saw none of them
    (no member, no pair)."""
    store.execute(
        "CREATE TEMP TABLE _wb_new AS SELECT unique_id FROM id.members "
        "WHERE object = 'contacts' AND random() < $share",
        {"share": share},
    )
    store.execute(
        "DELETE FROM id.members WHERE object = 'contacts' "
        "AND unique_id IN (SELECT unique_id FROM _wb_new)"
    )
    store.execute(
        "DELETE FROM id.pairs WHERE object = 'contacts' AND (unique_id_l IN "
        "(SELECT unique_id FROM _wb_new) OR unique_id_r IN (SELECT unique_id FROM _wb_new))"
    )


def _forget_resolutions(store: Store) -> None:
    from workbench.resolve.golden import drop_golden

    for name in ("members", "pairs", "runs", "entity_events", "review_queue"):
        store.execute(f"DELETE FROM id.{name} WHERE object = 'contacts'")
    drop_golden(store, "contacts")


def workbench_resolve_retrain(size: Path, work: Path) -> tuple[float, int]:
    """Workbench: `resolve --retrain` end to end (trains like the plain baseline)."""
    return workbench_resolve(size, work, retrain=True)


def workbench_resolve_first(size: Path, work: Path) -> tuple[float, int]:
    """Workbench: the first `resolve` of the data (trains; every id and golden record new)."""
    return workbench_resolve(size, work, first=True)


def workbench_resolve_incremental(size: Path, work: Path) -> tuple[float, int]:
    """Workbench: `resolve --incremental` with 1% of the records new since the last run."""
    return workbench_resolve(size, work, new=0.01)


CASES = {
    "duckdb_read_csv": duckdb_read_csv,
    "workbench_ingest": workbench_ingest,
    "prepare_staged": prepare_staged,
    "prepare_ingested": prepare_ingested,
    "duckdb_staging": duckdb_staging,
    "workbench_stage": workbench_stage,
    "polars_checks": polars_checks,
    "workbench_validate": workbench_validate,
    "prepare_demo": prepare_demo,
    "splink_plain": splink_plain,
    "workbench_resolve": workbench_resolve,
    "prepare_kpis": prepare_kpis,
    "plain_kpis": plain_kpis,
    "workbench_kpis": workbench_kpis,
    "bare_papermill": bare_papermill,
    "workbench_reports": workbench_reports,
    "bare_pipeline": bare_pipeline,
    "minimal_pipeline": minimal_pipeline,
    "workbench_pipeline": workbench_pipeline,
    "workbench_resolve_retrain": workbench_resolve_retrain,
    "workbench_resolve_first": workbench_resolve_first,
    "workbench_resolve_incremental": workbench_resolve_incremental,
    "prepare_review": prepare_review,
    "plain_review": plain_review,
    "workbench_review": workbench_review,
}
KEEP_WORK = {"prepare_staged", "prepare_ingested", "prepare_demo", "prepare_kpis"}
READS_WORK = {"polars_checks", "workbench_validate", "duckdb_staging", "workbench_stage",
              "splink_plain", "workbench_resolve",
              "workbench_resolve_retrain", "workbench_resolve_first",
              "workbench_resolve_incremental", "plain_kpis",
              "workbench_kpis", "bare_papermill", "workbench_reports", "prepare_review",
              "plain_review", "workbench_review"}  # fmt: skip


def main() -> None:
    name, csv, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]).resolve()
    reads_work = name in READS_WORK
    if not reads_work:
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
    seconds, rows = CASES[name](csv, work)
    print(json.dumps({"seconds": seconds, "rows": rows}))
    if not reads_work and name not in KEEP_WORK:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
