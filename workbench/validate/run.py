"""Validate: standardize each source's staged rows, check them with pandera, split them.

Each failed check has a severity (the dictionary's ``rules.severity``; by default error for
required fields and warn for optional ones). Rows without an error go to ``core.<object>``,
a value that failed a warning set aside (NULL there); rows with an error go to
``quar.rows`` (one row per record, with the reasons). ``quar.failures`` holds every failed
check (column, failing value, severity) with its load lineage, warnings included.
Invariant, asserted here for every object, source and load: rows staged = rows in core +
rows quarantined.

The first occurrence of a duplicated unique key is kept; later ones are quarantined.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from workbench import audit
from workbench.config import Project
from workbench.dictionary import ObjectSpec
from workbench.errors import WorkbenchError
from workbench.ingest.staging import prune_staging
from workbench.schema import VALIDATION_RUNS, next_id
from workbench.standardize import standardize
from workbench.standardize.apply import derived_columns
from workbench.store import Store, quote_ident, table
from workbench.validate.schemas import PROBLEMS_CHECK, READABLE, object_schema

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pandera.polars as pa

FAILURE_COLUMNS = ["column", "check", "value", "_i", "severity"]
REASON = "{}: {} ({})"  # column: check (failing value); for pl.format and str.format
REASON_VALUE_CHARS = 80


class InvariantBroken(WorkbenchError):
    """Rows were lost between staging and core + quarantine: a bug, never user error."""


@dataclass(frozen=True)
class SourceCounts:
    """Rows of one source of one object through validation."""

    object: str
    source: str
    rows_staged: int
    rows_valid: int
    rows_quarantined: int
    rows_warned: int = 0  # valid rows with a value set aside


@dataclass
class ValidationReport:
    """What a validation run did."""

    run_id: int
    counts: list[SourceCounts] = field(default_factory=list)
    failures: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={
                "object": pl.String,
                "source": pl.String,
                "column": pl.String,
                "check": pl.String,
                "severity": pl.String,
                "rows": pl.UInt32,
            }
        )
    )


def validate(
    project: Project, store: Store, *, on_step: Callable[[str], None] | None = None
) -> ValidationReport:
    """Standardize, validate and split every staged object; one transaction for the run."""
    run_id = next_id(store, VALIDATION_RUNS)
    started = datetime.now(UTC)
    report = ValidationReport(run_id=run_id)
    failure_parts: list[pl.DataFrame] = []
    prune_staging(project, store)
    # fx rates first: money in other objects converts only at validated rates
    order = sorted(project.dictionary.objects, key=lambda n: n != "fx_rates")
    rates: pl.DataFrame | None = None
    with store.transaction():
        for name in order:
            spec = project.dictionary.object(name)
            if not store.table_exists("stg", name):
                continue
            if on_step:
                on_step(f"validate {name}")
            if name != "fx_rates" and rates is None:  # once, after fx_rates is validated
                rates = _fx_rates(store)
            staged = store.frame(
                f"SELECT * FROM {table('stg', name)} ORDER BY _source, _load_id, _row_number"
            )
            valid_parts, quarantine_parts, failures = [], [], []
            for source_name in sorted(staged["_source"].unique().to_list()):
                rows = staged.filter(pl.col("_source") == source_name)
                source = project.source(source_name)
                std = standardize(
                    rows, spec, source, rates=rates, base_currency=project.config.base_currency
                )
                keys = _reference_keys(store, project, name, source.system)
                std = std.with_row_index("_i")
                schema = object_schema(spec, std.columns, reference_keys=keys)
                valid, quarantined, found = split_rows(schema, std)
                valid_parts.append(valid)
                quarantine_parts.append(_quarantine_rows(run_id, name, quarantined, found))
                failures.append(_failure_rows(run_id, name, std, found))
                warned = found.filter(
                    (pl.col("severity") == "warn")
                    & ~pl.col("_i").is_in(quarantined["_i"].implode())
                )["_i"].n_unique()
                report.counts.append(
                    SourceCounts(
                        name, source_name, rows.height, valid.height, quarantined.height, warned
                    )
                )
            _write_object(store, name, spec, valid_parts, quarantine_parts, failures)
            _check_invariant(store, name)
            failure_parts.extend(failures)
        store.execute(
            "INSERT INTO meta.validation_runs VALUES ($r, $s, $e, $c)",
            {"r": run_id, "s": started, "e": datetime.now(UTC), "c": project.config_sha256},
        )
        audit.record(store, "validate", {"run_id": run_id}, project=project)
    if failure_parts:
        report.failures = (
            pl.concat(failure_parts)
            .group_by("object", "source", "column", "check", "severity")
            .agg(pl.len().alias("rows"))
            .sort("rows", descending=True)
        )
    return report


def split_rows(
    schema: pa.DataFrameSchema, frame: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Check ``frame`` (with a ``_i`` row index) and split it.

    Returns the valid rows (without ``_i``; values that failed a warning set to NULL, with
    the columns derived from them), the quarantined rows (with ``_i``: a check of severity
    error failed) and every failed check as (column, check, value, _i, severity).
    """
    found = _failures(schema, frame)
    bad = found.filter(pl.col("severity") == "error")["_i"].unique().implode()
    valid = _set_aside(
        frame.filter(~pl.col("_i").is_in(bad)),
        found.filter(pl.col("severity") == "warn"),
        (schema.metadata or {}).get("derived", {}),
    )
    return valid.drop("_i"), frame.filter(pl.col("_i").is_in(bad)), found


def _set_aside(
    frame: pl.DataFrame, warnings: pl.DataFrame, derived: dict[str, list[str]]
) -> pl.DataFrame:
    """NULL where a value failed a warning (it is kept, with its reason, in quar.failures)."""
    if warnings.height == 0:
        return frame
    exprs = []
    for (column,), rows in warnings.group_by("column"):
        hit = pl.col("_i").is_in(rows["_i"].unique().implode())
        for name in [str(column), *derived.get(str(column), [])]:
            if name in frame.columns:
                exprs.append(pl.when(hit).then(None).otherwise(pl.col(name)).alias(name))
    return frame.with_columns(exprs)


def _failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """Every failed check as (column, check, value, _i, severity)."""
    empty = pl.DataFrame(
        schema={
            "column": pl.String,
            "check": pl.String,
            "value": pl.String,
            "_i": pl.UInt32,
            "severity": pl.String,
        }
    )
    try:
        schema.validate(frame, lazy=True)
        return empty
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    whole = cases.filter(pl.col("index").is_null())
    if whole.height:  # a column-level failure (missing column, wrong dtype) is our bug
        first = whole.row(0, named=True)
        raise InvariantBroken(
            f"Validation could not check column {first['column']}: {first['check']} "
            f"({first['failure_case']}).",
            fix="This is a bug in Workbench; please report it with the dictionary used.",
        )
    cases = cases.select(
        pl.col("column").cast(pl.String),
        pl.col("check").cast(pl.String),
        pl.col("failure_case").cast(pl.String).alias("value"),
        pl.col("index").cast(pl.UInt32).alias("_i"),
    )
    problems = cases.filter(pl.col("check") == PROBLEMS_CHECK).select("_i")
    if problems.height:
        detail = (
            frame.select("_i", "_problems")
            .join(problems.unique(), on="_i")
            .explode("_problems")
            .select(
                pl.col("_problems").str.extract(r"^([^:]+):", 1).alias("column"),
                pl.lit(READABLE).alias("check"),
                pl.col("_problems").alias("value"),
                pl.col("_i"),
            )
        )
        cases = pl.concat([cases.filter(pl.col("check") != PROBLEMS_CHECK), detail])
        # an unreadable required value is one fault, reported as unreadable only
        unreadable = detail.select("_i", "column")
        cases = cases.join(
            unreadable.with_columns(pl.lit(True).alias("_dup")),
            on=["_i", "column"],
            how="left",
        ).filter(~(pl.col("_dup").fill_null(False) & (pl.col("check") == "not_nullable")))
    return _with_severity(cases, (schema.metadata or {}).get("severity", {}))


def _with_severity(cases: pl.DataFrame, levels: dict[tuple[str, str], str]) -> pl.DataFrame:
    """Each failure's severity; checks without one (required, unique) are errors."""
    known = pl.DataFrame(
        {
            "column": [c for c, _ in levels],
            "check": [k for _, k in levels],
            "severity": list(levels.values()),
        },
        schema={"column": pl.String, "check": pl.String, "severity": pl.String},
    )
    return (
        cases.join(known, on=["column", "check"], how="left", nulls_equal=True)
        .with_columns(pl.col("severity").fill_null("error"))
        .select(FAILURE_COLUMNS)
    )


def _quarantine_rows(
    run_id: int, obj: str, rows: pl.DataFrame, found: pl.DataFrame
) -> pl.DataFrame:
    reasons = (
        found.with_columns(
            pl.format(
                REASON,
                pl.col("column").fill_null("row"),
                "check",
                pl.col("value").fill_null("empty").str.slice(0, REASON_VALUE_CHARS),
            ).alias("reason")
        )
        .group_by("_i")
        .agg(pl.col("reason").str.join("; ").alias("reasons"))
    )
    fields = [c for c in rows.columns if not c.startswith("_")]
    return rows.join(reasons, on="_i", how="left").select(
        pl.lit(run_id).cast(pl.Int64).alias("run_id"),
        pl.lit(obj).alias("object"),
        pl.col("_source").alias("source"),
        pl.col("_system").alias("system"),
        pl.col("_load_id").alias("load_id"),
        pl.col("_row_number").alias("row_number"),
        pl.col("record_id").cast(pl.String),
        pl.col("reasons"),
        pl.struct([pl.col(c).cast(pl.String) for c in fields]).struct.json_encode().alias("record"),
    )


def _failure_rows(run_id: int, obj: str, std: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    return found.join(
        std.select("_i", "_source", "_load_id", "_row_number", "record_id"), on="_i"
    ).select(
        pl.lit(run_id).cast(pl.Int64).alias("run_id"),
        pl.lit(obj).alias("object"),
        pl.col("_source").alias("source"),
        pl.col("_load_id").alias("load_id"),
        pl.col("_row_number").alias("row_number"),
        pl.col("record_id").cast(pl.String),
        "column",
        "check",
        "value",
        "severity",
    )


def _write_object(
    store: Store,
    name: str,
    spec: ObjectSpec,
    valid: list[pl.DataFrame],
    quarantined: list[pl.DataFrame],
    failures: list[pl.DataFrame],
) -> None:
    if not valid:  # nothing staged: core is empty, with the columns it has when filled
        staged = store.columns("stg", name)
        derived = [
            f"CAST(NULL AS {kind.sql_type}) AS {quote_ident(column)}"
            for column, kind in derived_columns(spec).items()
            if column.rsplit("_", 1)[0] in staged
        ]
        store.execute(
            f"CREATE OR REPLACE TABLE {table('core', name)} AS "
            f"SELECT * EXCLUDE (_problems){''.join(', ' + d for d in derived)} "
            f"FROM {table('stg', name)} WHERE false"
        )
    else:
        core = pl.concat(valid, how="diagonal_relaxed").drop("_problems")
        with store.registered("_wb_core", core):
            store.execute(
                f"CREATE OR REPLACE TABLE {table('core', name)} AS SELECT * FROM _wb_core"
            )
    store.execute("DELETE FROM quar.rows WHERE object = $o", {"o": name})
    store.execute("DELETE FROM quar.failures WHERE object = $o", {"o": name})
    for parts, target in ((quarantined, "rows"), (failures, "failures")):
        frame = pl.concat(parts) if parts else pl.DataFrame()
        if frame.height:
            with store.registered("_wb_quar", frame):
                store.execute(f"INSERT INTO quar.{target} BY NAME SELECT * FROM _wb_quar")


def _check_invariant(store: Store, name: str) -> None:
    """Staged = core + quarantined, per source and load; anything else is a bug."""
    broken = store.rows(
        f"""SELECT s._source, s._load_id, s.n, coalesce(c.n, 0), coalesce(q.n, 0)
            FROM (SELECT _source, _load_id, count(*) n FROM {table("stg", name)} GROUP BY ALL) s
            LEFT JOIN (SELECT _source, _load_id, count(*) n FROM {table("core", name)}
                       GROUP BY ALL) c USING (_source, _load_id)
            LEFT JOIN (SELECT source AS _source, load_id AS _load_id, count(*) n
                       FROM quar.rows WHERE object = $o GROUP BY ALL) q
                   USING (_source, _load_id)
            WHERE s.n <> coalesce(c.n, 0) + coalesce(q.n, 0)""",
        {"o": name},
    )
    if broken:
        src, load, staged, core, quar = broken[0]
        raise InvariantBroken(
            f"Validation lost rows of {name}: source {src}, load {load}: {staged} staged, "
            f"{core} valid + {quar} quarantined.",
            fix="This is a bug in Workbench; please report it with the export that caused it.",
        )


def _fx_rates(store: Store) -> pl.DataFrame | None:
    """Validated monthly rates (any day of a month stands for the month; newest load wins)."""
    if not store.table_exists("core", "fx_rates"):
        return None
    return store.frame(
        "SELECT CAST(date_trunc('month', month) AS DATE) AS month, currency, "
        "CAST(rate AS DOUBLE) AS rate FROM core.fx_rates "
        "QUALIFY row_number() OVER (PARTITION BY date_trunc('month', month), currency "
        "ORDER BY _load_id DESC, month DESC, _row_number DESC) = 1"
    )


def _reference_keys(store: Store, project: Project, obj: str, system: str) -> dict[str, pl.Series]:
    """Keys each reference field may take: the target's ids staged by the same system.

    A reference is only checked when that system stages the target object at all.
    """
    keys: dict[str, pl.Series] = {}
    for fname, fspec in project.dictionary.object(obj).fields.items():
        ref = fspec.rules.references
        if not ref:
            continue
        target, tfield = ref.split(".")
        if not store.table_exists("stg", target):
            continue
        found = store.frame(
            f"SELECT DISTINCT CAST({quote_ident(tfield)} AS VARCHAR) AS k "
            f"FROM {table('stg', target)} WHERE _system = $s",
            {"s": system},
        )["k"]
        if found.len():
            keys[fname] = found
    return keys
