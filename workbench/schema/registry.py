"""The numbered migrations of the warehouse's fixed-shape tables, oldest first.

A migration is applied once, in order, and never edited after it shipped: a change of a
fixed table is a new migration at the end of :data:`MIGRATIONS`. Migration 1 is the layout
every stage used to create for itself (``CREATE ... IF NOT EXISTS`` and ``ADD COLUMN IF
NOT EXISTS``), so a warehouse made before the registry applies it as a no-op and is
recorded at version 1 (its baseline).

Each run-id kind has a sequence (:data:`SEQUENCES`); a migration that adds one starts it
past the largest id its table holds, so a warehouse with runs goes on counting from there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SequenceSpec:
    """A run-id sequence and the column of the ids it hands out (``schema.table``)."""

    name: str  # schema.sequence
    table: str  # schema.table
    column: str


@dataclass(frozen=True)
class Migration:
    """One step of the schema: DDL statements, then the sequences it starts."""

    version: int
    description: str
    statements: tuple[str, ...] = ()
    sequences: tuple[SequenceSpec, ...] = ()


VERSION_TABLE = "meta.schema_version"
VERSION_DDL = (
    "CREATE TABLE IF NOT EXISTS meta.schema_version (version INTEGER PRIMARY KEY, "
    "applied_at TIMESTAMPTZ NOT NULL, description VARCHAR)"
)

# -- the fixed tables as migration 1 creates them: "schema.table" -> its statements --------
TABLES: dict[str, tuple[str, ...]] = {
    # ingest: the load ledger, staging fingerprints, rows rejected at ingest
    "meta.loads": (
        """CREATE TABLE IF NOT EXISTS meta.loads (
        load_id BIGINT PRIMARY KEY, source VARCHAR NOT NULL, object VARCHAR NOT NULL,
        system VARCHAR NOT NULL, mode VARCHAR NOT NULL, file VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL, sha256 VARCHAR, bytes BIGINT, rows_read BIGINT,
        rows_loaded BIGINT, rows_rejected BIGINT, rows_suppressed BIGINT,
        started_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ, status VARCHAR NOT NULL,
        error VARCHAR, is_current BOOLEAN NOT NULL DEFAULT false)""",
    ),
    "meta.staging_state": (
        """CREATE TABLE IF NOT EXISTS meta.staging_state (
        source VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL, rows_staged BIGINT NOT NULL,
        staged_at TIMESTAMPTZ NOT NULL)""",
    ),
    "quar.ingest_rejects": (
        """CREATE TABLE IF NOT EXISTS quar.ingest_rejects (
        load_id BIGINT NOT NULL, source VARCHAR NOT NULL, file VARCHAR NOT NULL,
        row_number BIGINT, line BIGINT, column_name VARCHAR, error_type VARCHAR,
        raw_record VARCHAR, message VARCHAR)""",
    ),
    # validate: runs, quarantined rows, every failed check
    "meta.validation_runs": (
        """CREATE TABLE IF NOT EXISTS meta.validation_runs (
        run_id BIGINT PRIMARY KEY, started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ,
        config_sha256 VARCHAR)""",
    ),
    "quar.rows": (
        """CREATE TABLE IF NOT EXISTS quar.rows (
        run_id BIGINT, object VARCHAR, source VARCHAR, system VARCHAR, load_id BIGINT,
        row_number BIGINT, record_id VARCHAR, reasons VARCHAR, record VARCHAR)""",
    ),
    "quar.failures": (
        """CREATE TABLE IF NOT EXISTS quar.failures (
        run_id BIGINT, object VARCHAR, source VARCHAR, load_id BIGINT, row_number BIGINT,
        record_id VARCHAR, "column" VARCHAR, "check" VARCHAR, value VARCHAR,
        severity VARCHAR DEFAULT 'error')""",
        # warehouses from before severities: every failure they hold quarantined its row
        "ALTER TABLE quar.failures ADD COLUMN IF NOT EXISTS severity VARCHAR DEFAULT 'error'",
    ),
    # quality: metrics and reconciliation per validation run
    "dq.metrics": (
        """CREATE TABLE IF NOT EXISTS dq.metrics (
        run_id BIGINT NOT NULL, object VARCHAR NOT NULL, source VARCHAR NOT NULL,
        field VARCHAR NOT NULL, metric VARCHAR NOT NULL, value DOUBLE,
        numerator DOUBLE, denominator DOUBLE)""",
    ),
    "dq.reconciliation": (
        """CREATE TABLE IF NOT EXISTS dq.reconciliation (
        run_id BIGINT NOT NULL, level VARCHAR NOT NULL, key VARCHAR,
        crm_count BIGINT, crm_amount DECIMAL(18,2), billing_count BIGINT,
        billing_amount DECIMAL(18,2), count_diff BIGINT, amount_diff DECIMAL(18,2))""",
    ),
    # resolve: runs, members, entity events, scored pairs, review queue and decisions
    "id.runs": (
        """CREATE TABLE IF NOT EXISTS id.runs (
        run_id BIGINT PRIMARY KEY, object VARCHAR, started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ, records BIGINT, entities BIGINT, pairs_scored BIGINT,
        threshold DOUBLE, model_json VARCHAR, blocking_json VARCHAR)""",
        "ALTER TABLE id.runs ADD COLUMN IF NOT EXISTS trained_on VARCHAR",
    ),
    "id.members": (
        """CREATE TABLE IF NOT EXISTS id.members (
        object VARCHAR, unique_id VARCHAR, source VARCHAR, record_id VARCHAR,
        entity_id VARCHAR, run_id BIGINT)""",
        "ALTER TABLE id.members ADD COLUMN IF NOT EXISTS feature_hash BIGINT",
    ),
    "id.entity_events": (
        """CREATE TABLE IF NOT EXISTS id.entity_events (
        run_id BIGINT, object VARCHAR, event VARCHAR, entity_id VARCHAR,
        other_entity_id VARCHAR)""",
    ),
    "id.pairs": (
        """CREATE TABLE IF NOT EXISTS id.pairs (
        object VARCHAR, unique_id_l VARCHAR, unique_id_r VARCHAR, match_probability DOUBLE,
        match_weight DOUBLE, run_id BIGINT)""",
        "ALTER TABLE id.pairs ADD COLUMN IF NOT EXISTS held BOOLEAN",
    ),
    "id.review_decisions": (
        """CREATE TABLE IF NOT EXISTS id.review_decisions (
        object VARCHAR NOT NULL, unique_id_l VARCHAR NOT NULL, unique_id_r VARCHAR NOT NULL,
        decision VARCHAR NOT NULL, reviewer VARCHAR, decided_at TIMESTAMPTZ NOT NULL,
        note VARCHAR)""",
    ),
    "id.review_queue": (
        """CREATE TABLE IF NOT EXISTS id.review_queue (
        object VARCHAR NOT NULL, unique_id_l VARCHAR NOT NULL, unique_id_r VARCHAR NOT NULL,
        match_probability DOUBLE, match_weight DOUBLE, run_id BIGINT)""",
    ),
    # kpi: runs, values, restatements, baselines, signals, targets, difference in differences
    "kpi.runs": (
        """CREATE TABLE IF NOT EXISTS kpi.runs (
        run_id BIGINT PRIMARY KEY, computed_at TIMESTAMPTZ, grain VARCHAR, segment_by VARCHAR,
        config_sha256 VARCHAR, kpis INTEGER, "values" INTEGER, restatements INTEGER)""",
    ),
    "kpi.values": (
        """CREATE TABLE IF NOT EXISTS kpi.values (
        run_id BIGINT, kpi VARCHAR, grain VARCHAR, period VARCHAR, period_start TIMESTAMP,
        segment_by VARCHAR, segment VARCHAR, value DOUBLE, n BIGINT)""",
    ),
    "kpi.restatements": (
        """CREATE TABLE IF NOT EXISTS kpi.restatements (
        run_id BIGINT, kpi VARCHAR, grain VARCHAR, period VARCHAR, segment_by VARCHAR,
        segment VARCHAR, old_value DOUBLE, new_value DOUBLE, old_run_id BIGINT)""",
    ),
    "kpi.baselines": (
        """CREATE TABLE IF NOT EXISTS kpi.baselines (
        run_id BIGINT, kpi VARCHAR, segment_by VARCHAR, segment VARCHAR,
        window_start TIMESTAMP, window_end TIMESTAMP, level DOUBLE, ci_low DOUBLE,
        ci_high DOUBLE, basis VARCHAR, size BIGINT, periods BIGINT, centre DOUBLE,
        lcl DOUBLE, ucl DOUBLE)""",
    ),
    "kpi.signals": (
        """CREATE TABLE IF NOT EXISTS kpi.signals (
        run_id BIGINT, kpi VARCHAR, segment VARCHAR, period VARCHAR, period_start TIMESTAMP,
        value DOUBLE, lcl DOUBLE, ucl DOUBLE, rules VARCHAR, shift BOOLEAN)""",
    ),
    "kpi.targets": (
        """CREATE TABLE IF NOT EXISTS kpi.targets (
        run_id BIGINT, kpi VARCHAR, period VARCHAR, baseline DOUBLE, value DOUBLE,
        target DOUBLE, deadline VARCHAR, status VARCHAR)""",
    ),
    "kpi.did": (
        """CREATE TABLE IF NOT EXISTS kpi.did (
        run_id BIGINT, kpi VARCHAR, treated_pre DOUBLE, treated_post DOUBLE,
        control_pre DOUBLE, control_post DOUBLE, did DOUBLE, ci_low DOUBLE, ci_high DOUBLE,
        relative DOUBLE, p_opposite DOUBLE, pre_slope DOUBLE, pre_t DOUBLE,
        parallel BOOLEAN)""",
    ),
    # roi: runs (one row per summary metric), value drivers, cash flows
    "roi.runs": (
        """CREATE TABLE IF NOT EXISTS roi.runs (
        run_id BIGINT, computed_at TIMESTAMPTZ, kpi_run_id BIGINT, metric VARCHAR,
        value DOUBLE)""",
    ),
    "roi.drivers": (
        """CREATE TABLE IF NOT EXISTS roi.drivers (
        run_id BIGINT, driver VARCHAR, type VARCHAR, kpi VARCHAR, formula VARCHAR,
        inputs VARCHAR, monthly_value DOUBLE, monthly_low DOUBLE, monthly_high DOUBLE,
        ramp_months BIGINT)""",
    ),
    "roi.cash_flows": (
        """CREATE TABLE IF NOT EXISTS roi.cash_flows (
        run_id BIGINT, month BIGINT, benefit DOUBLE, cost DOUBLE, net DOUBLE,
        cumulative DOUBLE, discounted DOUBLE)""",
    ),
    # report: every run of a report notebook
    "meta.report_runs": (
        """CREATE TABLE IF NOT EXISTS meta.report_runs (
        run_id BIGINT, report VARCHAR, period VARCHAR, status VARCHAR, started_at TIMESTAMPTZ,
        seconds DOUBLE, parameters VARCHAR, masked BOOLEAN, dq_status VARCHAR,
        fingerprint VARCHAR, changes VARCHAR, failed_cell INTEGER, error VARCHAR,
        path VARCHAR)""",
        # why a report may show data since erased (set by workbench.report.forget)
        "ALTER TABLE meta.report_runs ADD COLUMN IF NOT EXISTS stale VARCHAR",
        "ALTER TABLE meta.report_runs ADD COLUMN IF NOT EXISTS sha256 VARCHAR",
    ),
    # governance: the audit trail, settings (audit head, tombstone salt), tombstones
    "meta.audit": (
        """CREATE TABLE IF NOT EXISTS meta.audit (
        entry_id BIGINT PRIMARY KEY, recorded_at TIMESTAMPTZ NOT NULL, action VARCHAR NOT NULL,
        actor VARCHAR, config_sha256 VARCHAR, details VARCHAR NOT NULL,
        prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL)""",
    ),
    "meta.settings": (
        """CREATE TABLE IF NOT EXISTS meta.settings (
        key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)""",
    ),
    "meta.tombstones": (
        """CREATE TABLE IF NOT EXISTS meta.tombstones (
        tombstone_id BIGINT NOT NULL, kind VARCHAR NOT NULL, hash VARCHAR NOT NULL,
        erased_at TIMESTAMPTZ NOT NULL)""",
    ),
}

# -- tables added by later migrations: "schema.table" -> statements, per migration --------
# migration 3, schema drift (workbench.ingest.drift): the header of every loaded file, in
# order, with the type its values read as; what changed in a source's layout between loads
DRIFT_TABLES: dict[str, tuple[str, ...]] = {
    "meta.load_columns": (
        """CREATE TABLE IF NOT EXISTS meta.load_columns (
        load_id BIGINT NOT NULL, source VARCHAR NOT NULL, position INTEGER NOT NULL,
        column_name VARCHAR NOT NULL, column_type VARCHAR NOT NULL,
        PRIMARY KEY (load_id, position))""",
    ),
    "meta.schema_changes": (
        """CREATE TABLE IF NOT EXISTS meta.schema_changes (
        source VARCHAR NOT NULL, load_id BIGINT NOT NULL, previous_load_id BIGINT NOT NULL,
        kind VARCHAR NOT NULL, column_name VARCHAR NOT NULL, old_name VARCHAR,
        new_name VARCHAR, old_type VARCHAR, new_type VARCHAR, old_position INTEGER,
        new_position INTEGER, detected_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (load_id, kind, column_name))""",
    ),
}
# migration 4, staggered rollout (workbench.kpi.staggered, workbench.roi.cohorts): each
# cohort's baseline and difference-in-differences per KPI, and what each cohort returned
ROLLOUT_TABLES: dict[str, tuple[str, ...]] = {
    "kpi.rollout": (
        """CREATE TABLE IF NOT EXISTS kpi.rollout (
        run_id BIGINT, kpi VARCHAR, cohort VARCHAR, launch TIMESTAMP, post_end TIMESTAMP,
        controls VARCHAR, treated_pre DOUBLE, baseline_low DOUBLE, baseline_high DOUBLE,
        baseline_size BIGINT, treated_post DOUBLE, control_pre DOUBLE, control_post DOUBLE,
        did DOUBLE, ci_low DOUBLE, ci_high DOUBLE, weight DOUBLE)""",
    ),
    "roi.cohorts": (
        """CREATE TABLE IF NOT EXISTS roi.cohorts (
        run_id BIGINT, driver VARCHAR, kpi VARCHAR, cohort VARCHAR, launch TIMESTAMP,
        improvement DOUBLE, improvement_low DOUBLE, improvement_high DOUBLE,
        volume_share DOUBLE, value_per_unit DOUBLE, monthly_value DOUBLE, monthly_low DOUBLE,
        monthly_high DOUBLE)""",
    ),
}
FIXED_TABLES: dict[str, tuple[str, ...]] = {**TABLES, **DRIFT_TABLES, **ROLLOUT_TABLES}
"""Every fixed table the migrations make, with the statements that make it."""

LOADS = SequenceSpec("meta.load_id_seq", "meta.loads", "load_id")
VALIDATION_RUNS = SequenceSpec("meta.run_id_seq", "meta.validation_runs", "run_id")
RESOLVE_RUNS = SequenceSpec("id.run_id_seq", "id.runs", "run_id")
KPI_RUNS = SequenceSpec("meta.kpi_run_id_seq", "kpi.runs", "run_id")
ROI_RUNS = SequenceSpec("meta.roi_run_id_seq", "roi.runs", "run_id")
REPORT_RUNS = SequenceSpec("meta.report_run_id_seq", "meta.report_runs", "run_id")

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the fixed tables as the stages made them (a baseline for older warehouses)",
        tuple(statement for statements in TABLES.values() for statement in statements),
        (LOADS, VALIDATION_RUNS, RESOLVE_RUNS),
    ),
    Migration(
        2, "sequences for KPI, ROI and report run ids", (), (KPI_RUNS, ROI_RUNS, REPORT_RUNS)
    ),
    Migration(
        3,
        "schema drift: each load's column layout and the change log between loads",
        tuple(statement for statements in DRIFT_TABLES.values() for statement in statements),
    ),
    Migration(
        4,
        "staggered rollout: each cohort's baseline and effect per KPI, and its ROI value",
        tuple(statement for statements in ROLLOUT_TABLES.values() for statement in statements),
    ),
    Migration(
        5,
        "the ledger counts the rows without any value a load skipped, and keeps the reader "
        "options a file was read with",
        (
            "ALTER TABLE meta.loads ADD COLUMN IF NOT EXISTS rows_blank BIGINT",
            "ALTER TABLE meta.loads ADD COLUMN IF NOT EXISTS read_options VARCHAR",
        ),
    ),
)
LATEST = MIGRATIONS[-1].version
SEQUENCES: tuple[SequenceSpec, ...] = tuple(s for m in MIGRATIONS for s in m.sequences)
