"""The results of the validation pages: per source, every check of the latest validation
run with its observed value, whether it passed, how it stands against the blocking limit
(``quality.blocking``), its history across the last validation runs, and a sample of the
failing values, masked by the dictionary's PII class unless the report is unmasked
(:mod:`workbench.privacy`).

Besides the dictionary's checks (:mod:`workbench.report.validation_checks`) there is the
ingest-level check that every row of the export could be read (``reject_rate``). A check
without a ``validity:<check>`` metric in a run passed on every row of it.

Three queries whatever the number of checks: the metrics history, the failing values of the
latest run, the rows ingest could not read.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

import polars as pl

from workbench.formatting import percent_text, time_text
from workbench.privacy import Rule, field_rule, mask_value
from workbench.quality.history import check_history
from workbench.report.context import ReportContext
from workbench.report.validation_checks import Check, source_checks
from workbench.store import Store
from workbench.validate.quarantine import (
    INGEST_CHECK,
    QUARANTINED,
    REJECTED,
    SET_ASIDE,
    reject_excerpts,
    severity_sql,
)
from workbench.validate.schemas import READABLE

HISTORY_RUNS = 10  # validation runs shown in a check's history
SAMPLE_VALUES = 5  # distinct failing values shown per check
SAMPLE_CHARS = 60  # of one failing value or unreadable row
WHOLE_ROW = "(whole row)"  # the column of the ingest-level check
_DECIMAL = re.compile(r"^-?\d+\.\d*0$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")
_UNREADABLE = re.compile(r"^[^:]*: cannot read '(?P<value>.*)' as ", re.DOTALL)

RESULT_SCHEMA: dict[str, Any] = {
    "object": pl.String,
    "source": pl.String,
    "column": pl.String,
    "rule": pl.String,
    "check": pl.String,
    "expectation": pl.String,
    "severity": pl.String,
    "outcome": pl.String,
    "rows": pl.Int64,
    "failed": pl.Int64,
    "passing": pl.Float64,
    "passed": pl.Boolean,
    "limit": pl.Float64,
    "limit_text": pl.String,
    "within_limit": pl.Boolean,
    "history": pl.List(
        pl.Struct(
            {
                "run_id": pl.Int64,
                "started_at": pl.Datetime("us", "UTC"),
                "passing": pl.Float64,
                "failed": pl.Int64,
                "rows": pl.Int64,
            }
        )
    ),
    "sample": pl.List(pl.String),
}


def check_results(ctx: ReportContext) -> pl.DataFrame:
    """One row per source and check of the latest validation run (:data:`RESULT_SCHEMA`).

    ``rows`` checked (rows staged; rows read for the ingest check), ``failed`` (rows that
    failed it), ``passing`` (their complement as a share), ``passed`` (nothing failed),
    ``limit`` (the blocking limit: the least share passing, or for the ingest check the
    most share unreadable; None without one) and ``within_limit``; ``history`` holds one
    point per validation run of the source (of the last :data:`HISTORY_RUNS`), oldest first,
    and ``sample`` up to :data:`SAMPLE_VALUES` distinct failing values of the latest run,
    most frequent first, masked unless the report is unmasked (an unreadable row: its line,
    kind and a masked excerpt).
    """
    with _held(ctx.store):  # one connection for the three reads
        if not ctx.store.table_exists("dq", "metrics"):
            return pl.DataFrame(schema=RESULT_SCHEMA)
        history = ctx.cached("check_history", lambda: check_history(ctx.store, last=HISTORY_RUNS))
        if history.height == 0:
            return pl.DataFrame(schema=RESULT_SCHEMA)
        latest = int(history["run_id"].max())  # type: ignore[arg-type]
        samples, severities = _failing_values(ctx, latest)
        rejects = _unreadable_rows(ctx)
    metrics = _Metrics(history)
    blocking = ctx.project.config.quality.blocking
    rows: list[dict[str, Any]] = []
    for source_name, source in sorted(
        ctx.project.config.sources.items(), key=lambda kv: (kv[1].object, kv[0])
    ):
        if (latest, source_name) not in metrics.staged:
            continue  # not validated in the latest run
        ingest = metrics.ingest_points(source_name)
        if ingest and ingest[-1]["run_id"] == latest:
            rows.append(
                _ingest_row(
                    source.object, source_name, ingest, blocking, rejects.get(source_name, [])
                )
            )
        planned = source_checks(ctx.project, source_name)
        known = {(c.column, c.check) for c in planned}
        for column, name in metrics.failed_checks(latest, source_name):
            if (column, name) not in known:  # a check this configuration no longer has
                severity = severities.get((source_name, column, name), "error")
                planned.append(
                    Check(source.object, source_name, column, "other", name, name, severity)
                )
        for check in planned:
            points = metrics.check_points(check)
            if not points or points[-1]["run_id"] != latest:
                continue  # did not run in the latest run (a reference nobody stages)
            sample = samples.get((source_name, check.column, check.check), [])
            rows.append(_check_row(check, points, blocking, sample))
    return pl.DataFrame(rows, schema=RESULT_SCHEMA)


def _held(store: Store) -> AbstractContextManager[Any]:
    """``store.held()``: the reads in the block share one connection, where the store opens
    one per read (a brief store); any other store is open anyway."""
    held = getattr(store, "held", None)
    return held() if held is not None else nullcontext(store)


class _Metrics:
    """The metrics history, indexed for the per-check lookups."""

    def __init__(self, history: pl.DataFrame) -> None:
        self.started: dict[int, datetime | None] = {}
        self.staged: dict[tuple[int, str], int] = {}
        self.validity: dict[tuple[int, str, str, str], tuple[float, int, int]] = {}
        self.checked_refs: set[tuple[int, str, str]] = set()
        self.ingest: dict[tuple[int, str], dict[str, float]] = {}
        self.runs: dict[str, list[int]] = {}
        for run, started, _, source, field, metric, value, num, den in history.iter_rows():
            self.started[run] = started
            if metric == "rows_staged":
                self.staged[(run, source)] = int(value)
                self.runs.setdefault(source, []).append(run)
            elif metric.startswith("validity:"):
                failed = round((den or 0) - (num or 0))
                self.validity[(run, source, field, metric[9:])] = (value, failed, int(den or 0))
            elif metric == "referential_integrity":
                self.checked_refs.add((run, source, field))
            elif metric in ("rows_read", "rows_rejected", "reject_rate"):
                self.ingest.setdefault((run, source), {})[metric] = value

    def failed_checks(self, run: int, source: str) -> list[tuple[str, str]]:
        return sorted((f, c) for (r, s, f, c) in self.validity if r == run and s == source)

    def check_points(self, check: Check) -> list[dict[str, Any]]:
        points = []
        for run in self.runs.get(check.source, []):
            found = self.validity.get((run, check.source, check.column, check.check))
            unchecked = (run, check.source, check.column) not in self.checked_refs
            if check.rule == "references" and found is None and unchecked:
                continue  # the reference was not checked in this run
            passing, failed, rows = found or (1.0, 0, self.staged[(run, check.source)])
            points.append(self._point(run, passing, failed, rows))
        return points

    def ingest_points(self, source: str) -> list[dict[str, Any]]:
        points = []
        for run in self.runs.get(source, []):
            counts = self.ingest.get((run, source), {})
            if counts.get("reject_rate") is None or counts.get("rows_read") is None:
                continue  # recorded before ingest's counts were kept, or nothing read
            rejected = int(counts.get("rows_rejected") or 0)
            points.append(
                self._point(run, 1 - counts["reject_rate"], rejected, int(counts["rows_read"]))
            )
        return points

    def _point(self, run: int, passing: float, failed: int, rows: int) -> dict[str, Any]:
        started = self.started.get(run)
        return dict(run_id=run, started_at=started, passing=passing, failed=failed, rows=rows)


def _check_row(
    check: Check, points: list[dict[str, Any]], blocking: dict[str, float], sample: list[str]
) -> dict[str, Any]:
    last = points[-1]
    limits = [blocking.get(k) for k in ("validity", f"validity:{check.check}")]
    limit = max((v for v in limits if v is not None), default=None)
    return {
        **{k: getattr(check, k) for k in ("object", "source", "column", "rule", "check")},
        "expectation": check.expectation,
        "severity": check.severity,
        "outcome": QUARANTINED if check.severity == "error" else SET_ASIDE,
        "rows": last["rows"],
        "failed": last["failed"],
        "passing": last["passing"],
        "passed": last["failed"] == 0,
        "limit": limit,
        "limit_text": f"at least {percent_text(limit)} passing" if limit is not None else None,
        "within_limit": None if limit is None else last["passing"] >= limit,
        "history": points,
        "sample": sample,
    }


def _ingest_row(
    obj: str,
    source: str,
    points: list[dict[str, Any]],
    blocking: dict[str, float],
    sample: list[str],
) -> dict[str, Any]:
    last = points[-1]
    limit = blocking.get("reject_rate")
    return {
        "object": obj,
        "source": source,
        "column": WHOLE_ROW,
        "rule": "ingest",
        "check": INGEST_CHECK,
        "expectation": "every row of the export readable (reject_rate)",
        "severity": "error",
        "outcome": REJECTED,
        "rows": last["rows"],
        "failed": last["failed"],
        "passing": last["passing"],
        "passed": last["failed"] == 0,
        "limit": limit,
        "limit_text": f"at most {percent_text(limit)} unreadable" if limit is not None else None,
        "within_limit": None if limit is None else 1 - last["passing"] <= limit,
        "history": points,
        "sample": sample,
    }


def _failing_values(
    ctx: ReportContext, run: int
) -> tuple[dict[tuple[str, str, str], list[str]], dict[tuple[str, str, str], str]]:
    """Up to :data:`SAMPLE_VALUES` distinct failing values per source, column and check of
    the run, most frequent first, as shown (masked unless the report is unmasked, with how
    often they failed), and each check's severity; one query."""
    if not ctx.store.table_exists("quar", "failures"):
        return {}, {}
    found = ctx.store.frame(
        f"""SELECT object, source, coalesce("column", '') AS "column", "check",
                  any_value({severity_sql(ctx.store)}) AS severity, value, count(*) AS n
           FROM quar.failures WHERE run_id = $r
           GROUP BY object, source, "column", "check", value
           QUALIFY row_number() OVER (PARTITION BY source, "column", "check"
                                      ORDER BY count(*) DESC, value NULLS LAST) <= $k
           ORDER BY source, "column", "check", n DESC, value NULLS LAST""",
        {"r": run, "k": SAMPLE_VALUES},
    )
    counted: dict[tuple[str, str, str], dict[str, int]] = {}
    severities: dict[tuple[str, str, str], str] = {}
    for obj, source, column, check, severity, value, n in found.iter_rows():
        rule = field_rule(ctx.project.dictionary, obj, column) if ctx.masked else None
        shown = _shown(value, check, rule)
        per_value = counted.setdefault((source, column, check), {})
        per_value[shown] = per_value.get(shown, 0) + int(n)  # masking may merge values
        severities[(source, column, check)] = severity
    samples = {
        key: [f"{value} ×{n}" if n > 1 else value for value, n in per_value.items()]
        for key, per_value in counted.items()
    }
    return samples, severities


def _shown(value: str | None, check: str, rule: Rule | None) -> str:
    """A failing value as the report shows it: an unreadable value without the message
    around it, masked by ``rule`` (None: shown as it is), cut to :data:`SAMPLE_CHARS`."""
    if value is None:
        return "(empty)"
    if check == READABLE:
        hit = _UNREADABLE.match(value)
        value = hit.group("value") if hit else value.split(": ", 1)[-1]
    if _DECIMAL.match(value):  # as staged: -9690.0000000000
        value = value.rstrip("0").rstrip(".")
    elif _TIMESTAMP.match(value):  # to the minute: 2099-01-01 00:00 UTC
        value = time_text(datetime.fromisoformat(value))
    if rule is not None:
        value = str(mask_value(value, *rule))
    value = " ".join(value.split()) or "(blank)"
    return value if len(value) <= SAMPLE_CHARS else value[: SAMPLE_CHARS - 3] + "..."


def _unreadable_rows(ctx: ReportContext) -> dict[str, list[str]]:
    """The first two rows of each kind ingest could not read per source (current loads),
    as ``line N, kind: excerpt`` with the raw text masked unless the report is unmasked;
    one query."""
    out: dict[str, list[str]] = {}
    if not ctx.store.table_exists("quar", "ingest_rejects"):
        return out
    found = ctx.store.frame(
        """SELECT r.source, r.line, lower(r.error_type) AS kind, r.raw_record
           FROM quar.ingest_rejects r JOIN meta.loads l USING (load_id)
           WHERE l.is_current
           QUALIFY row_number() OVER (PARTITION BY r.source, r.error_type
                                      ORDER BY r.load_id, r.row_number) <= 2
           ORDER BY r.source, r.load_id, r.row_number"""
    )
    shown = reject_excerpts(found, mask=ctx.masked, chars=SAMPLE_CHARS)
    for source, line, kind, excerpt in shown.iter_rows():
        if len(out.setdefault(source, [])) < SAMPLE_VALUES:
            out[source].append(f"line {line}, {kind}: {excerpt}")
    return out
