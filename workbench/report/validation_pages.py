"""Validation pages of the data-quality report, in the manner of Great Expectations' Data
Docs: per source, every check that ran in the latest validation run with what it expects,
its severity, the observed value (share of rows passing, rows failing out of rows checked),
whether it passed and how it stands against the blocking limit (``quality.blocking``), its
history across the last validation runs, and a sample of the failing values, masked by the
dictionary's PII class unless the report is unmasked.

The checks are the ones validation generates from the data dictionary for the source's
mapped fields (:mod:`workbench.validate.schemas`): required, unique, readable as the field's
type, email format, regex, allowed values, length, min and max, references; plus the
ingest-level check that every row of the export could be read (``reject_rate``). A check
without a ``validity:<check>`` metric in a run passed on every row of it.

Three queries whatever the number of checks: the metrics history, the failing values of the
latest run, the rows ingest could not read.
"""

from __future__ import annotations

import html
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from workbench.config import Project
from workbench.dictionary import FieldSpec, FieldType, RuleName
from workbench.formatting import number_text, percent_text, time_text
from workbench.privacy import mask_value, masker
from workbench.quality.history import check_history
from workbench.report.context import ReportContext
from workbench.report.display import NoData, show
from workbench.store import Store
from workbench.validate.quarantine import (
    INGEST_CHECK,
    QUARANTINED,
    REJECTED,
    SET_ASIDE,
    reject_excerpts,
    severity_sql,
)
from workbench.validate.schemas import READABLE, UNIQUE, rule_checks

NOT_NULL = "not_nullable"  # pandera's name for the check of a required field
HISTORY_RUNS = 10  # validation runs shown in a check's history
SAMPLE_VALUES = 5  # distinct failing values shown per check
SAMPLE_CHARS = 60  # of one failing value or unreadable row
ALLOWED_SHOWN = 12  # allowed values spelled out in an expectation
WHOLE_ROW = "(whole row)"  # the column of the ingest-level check
UNTYPED = (FieldType.TEXT, FieldType.EMAIL, FieldType.PHONE)  # staging reads any text
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


@dataclass(frozen=True)
class Check:
    """One check validation runs on one source's rows (``check`` is its name in
    ``quar.failures`` and in the ``validity:<check>`` metric)."""

    object: str
    source: str
    column: str
    rule: str  # required, unique, type, format, regex, allowed, max_length, min, max, ...
    check: str
    expectation: str
    severity: str  # error (the row is quarantined) or warn (the value is set aside)


def source_checks(project: Project, source_name: str) -> list[Check]:
    """The checks validation generates for one source: every rule of the dictionary that
    applies to a field the source maps, in the dictionary's field order. A ``references``
    check is listed here, but runs only where the same system stages the target."""
    source = project.source(source_name)
    spec = project.dictionary.object(source.object)
    now = datetime.now(UTC)  # the checks' names do not depend on the clock
    out: list[Check] = []
    for name, field in spec.fields.items():
        if name in source.columns:
            out.extend(
                Check(source.object, source_name, name, rule, check, expectation, severity)
                for rule, check, expectation, severity in _field_checks(name, field, now)
            )
    return out


def _field_checks(name: str, field: FieldSpec, now: datetime) -> list[tuple[str, str, str, str]]:
    """(rule, check, expectation, severity) of every check of one field."""

    def level(rule: RuleName) -> str:
        return field.rules.severity_of(rule, required=field.required)

    out = []
    if field.required:
        out.append(("required", NOT_NULL, "not empty (the field is required)", "error"))
    if field.unique:
        out.append(("unique", UNIQUE, "unique within the source (the first is kept)", "error"))
    if field.type not in UNTYPED:
        out.append(("type", READABLE, _readable(field), level("format")))
    for rule, check in rule_checks(name, field, now=now):
        label = str(check.name)
        out.append((rule, label, _expectation(rule, field, label), level(rule)))
    if field.rules.references:
        label = f"exists in {field.rules.references}"
        out.append(("references", label, f"{label} (of the same system)", level("references")))
    return out


def _readable(field: FieldSpec) -> str:
    money = ", with an fx rate for its month" if field.currency_field else ""
    return f"readable as {field.type.value}{money}"


def _expectation(rule: str, field: FieldSpec, check: str) -> str:
    """What a check expects, in words (its name, or the whole allowed list)."""
    if rule == "format":
        return "an email address (name@domain)"
    if rule == "allowed" and field.rules.allowed and len(field.rules.allowed) <= ALLOWED_SHOWN:
        return "one of " + ", ".join(field.rules.allowed)
    if rule == "max" and field.rules.max == "now":
        return "<= now (not in the future; a day of clock skew allowed)"
    bound = field.rules.min if rule == "min" else field.rules.max if rule == "max" else None
    if isinstance(bound, int | float) and not isinstance(bound, bool):
        return f"{'>=' if rule == 'min' else '<='} {number_text(float(bound), 6)}"  # no 1e-06
    return check


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
    rules: dict[str, dict[str, tuple[str, FieldType]]] = {}
    counted: dict[tuple[str, str, str], dict[str, int]] = {}
    severities: dict[tuple[str, str, str], str] = {}
    for obj, source, column, check, severity, value, n in found.iter_rows():
        if obj not in rules:
            spec = ctx.project.dictionary.objects.get(obj)
            rules[obj] = masker(spec) if spec else {}
        shown = _shown(value, check, rules[obj].get(column), ctx.masked)
        per_value = counted.setdefault((source, column, check), {})
        per_value[shown] = per_value.get(shown, 0) + int(n)  # masking may merge values
        severities[(source, column, check)] = severity
    samples = {
        key: [f"{value} ×{n}" if n > 1 else value for value, n in per_value.items()]
        for key, per_value in counted.items()
    }
    return samples, severities


def _shown(value: str | None, check: str, rule: tuple[str, FieldType] | None, masked: bool) -> str:
    """A failing value as the report shows it: an unreadable value without the message
    around it, masked by its field's PII class, cut to :data:`SAMPLE_CHARS`."""
    if value is None:
        return "(empty)"
    if check == READABLE:
        hit = _UNREADABLE.match(value)
        value = hit.group("value") if hit else value.split(": ", 1)[-1]
    if _DECIMAL.match(value):  # as staged: -9690.0000000000
        value = value.rstrip("0").rstrip(".")
    elif _TIMESTAMP.match(value):  # to the minute: 2099-01-01 00:00 UTC
        value = time_text(datetime.fromisoformat(value))
    if masked and rule is not None:
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


# -- the page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationPages:
    """The validation pages as HTML (displayed as such in a notebook) and the results."""

    html: str
    results: pl.DataFrame

    def _repr_html_(self) -> str:
        return self.html


def validation_pages(ctx: ReportContext) -> ValidationPages | NoData:
    """One expandable section per source (HTML ``<details>``): its failing checks in a
    table (expectation, severity, observed value, result against the blocking limit,
    history, failing values), then the checks that passed on every row of every run shown,
    compactly. A source with a check beyond its blocking limit is open."""
    results = check_results(ctx)
    if results.height == 0:
        return NoData("No validation run has recorded data-quality metrics yet.")
    history = ctx.cached("check_history", lambda: check_history(ctx.store, last=HISTORY_RUNS))
    runs = history.select("run_id", "started_at").unique().sort("run_id")
    latest_run, started = runs.row(-1)
    when = f", started {time_text(started)}" if started else ""
    parts = [
        _STYLE,
        "<div class='wb-vp'>",
        f"<p class='wb-note'>Validation run {latest_run}{when}; history over the last "
        f"{_runs(runs.height)}. Failing values are {_masking(ctx)}.</p>",
    ]
    quarantine = _quarantine_rates(history, latest_run)
    limit = ctx.project.config.quality.blocking.get("quarantine_rate")
    for (obj, source), checks in results.group_by("object", "source", maintain_order=True):
        parts.append(_source_section(str(obj), str(source), checks, quarantine, limit))
    parts.append("</div>")
    return ValidationPages("\n".join(parts), results)


def show_validation_pages(ctx: ReportContext) -> None:
    """Display :func:`validation_pages` in the notebook (or the sentence why there are none)."""
    from IPython.display import HTML, display

    pages = validation_pages(ctx)
    if isinstance(pages, NoData):
        show(pages)
    else:
        display(HTML(pages.html))


def _masking(ctx: ReportContext) -> str:
    if ctx.masked:
        return "masked by each field's PII class"
    return "<b class='wb-vp-bad'>shown unmasked</b>"


def _quarantine_rates(history: pl.DataFrame, run: int) -> dict[str, float]:
    rates = history.filter((pl.col("run_id") == run) & (pl.col("metric") == "quarantine_rate"))
    return dict(zip(rates["source"].to_list(), rates["value"].to_list(), strict=True))


def _source_section(
    obj: str, source: str, checks: pl.DataFrame, quarantine: dict[str, float], limit: float | None
) -> str:
    dipped = pl.col("history").list.eval(pl.element().struct.field("failed") > 0).list.any()
    # beyond a blocking limit first, then failing now (most rows first), then recovered
    order = [pl.col("within_limit").fill_null(True), pl.col("passed"), pl.col("failed")]
    shown = checks.filter(~pl.col("passed") | dipped)
    shown = shown.sort(order, descending=[False, False, True], maintain_order=True)
    clean = checks.filter(pl.col("passed") & ~dipped)
    failing = checks.filter(~pl.col("passed"))
    breaking = failing.filter(pl.col("within_limit") == False)  # noqa: E712 (None: no limit)
    rows = int(checks.filter(pl.col("rule") != "ingest").select(pl.col("rows").max()).item() or 0)
    head = [f"<b>{_e(source)}</b> ({_e(obj)})", f"{rows:,} rows validated"]
    counts = f"{checks.height} checks: {checks.height - failing.height} passed"
    if failing.height:
        removing = failing.filter(pl.col("severity") == "error").height
        what = [
            f"{n} {text}"
            for n, text in (
                (removing, "removing rows"),
                (failing.height - removing, "setting values aside"),
            )
            if n
        ]
        counts += f", <span class='wb-vp-bad'>{failing.height} failed</span> ({', '.join(what)})"
    head.append(counts)
    if breaking.height:
        head.append(f"<span class='wb-vp-bad'>{breaking.height} beyond a blocking limit</span>")
    if source in quarantine:
        bound = f" (limit {percent_text(limit)})" if limit is not None else ""
        head.append(f"quarantined {percent_text(quarantine[source], 2)}{bound}")
    over = limit is not None and quarantine.get(source, 0.0) > limit
    opened = " open" if breaking.height or over else ""
    body = [f"<details class='wb-vp-source'{opened}><summary>{' · '.join(head)}</summary>"]
    if shown.height:
        body.append(_checks_table(shown))
    if clean.height:
        body.append(_passed_table(clean))
    body.append("</details>")
    return "\n".join(body)


def _checks_table(checks: pl.DataFrame) -> str:
    head = ("column", "check", "severity", "observed", "result", "history", "failing values")
    out = [
        "<table class='wb-table wb-vp-checks'><caption>Checks that failed (in the latest run "
        "or an earlier one shown)</caption><thead><tr>",
        "".join(f"<th>{h}</th>" for h in head),
        "</tr></thead><tbody>",
    ]
    for row in checks.iter_rows(named=True):
        cells = [
            _e(row["column"]),
            f"<b>{_e(row['expectation'])}</b><br><small>{_e(row['rule'])}"
            + (f": {_e(row['check'])}" if _named_apart(row) else "")
            + "</small>",
            f"{_e(row['severity'])}<br><small>{_e(row['outcome'])}</small>",
            _observed(row),
            _result(row),
            _history(row["history"], row["limit"] if row["rule"] != "ingest" else None),
            _sample(row["sample"]),
        ]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _named_apart(row: dict[str, Any]) -> bool:
    """Whether the check's own name (in quar.failures) says more than its expectation."""
    return row["check"] != row["expectation"] and row["rule"] not in ("min", "max")


def _passed_table(checks: pl.DataFrame) -> str:
    runs = int(checks.select(pl.col("history").list.len().max()).item() or 0)
    per_column: dict[str, list[str]] = {}
    for row in checks.iter_rows(named=True):
        level = row["outcome"] if row["rule"] == "ingest" else row["severity"]
        text = f"{_e(row['expectation'])} <small>({_e(level)})</small>"
        per_column.setdefault(row["column"], []).append(text)
    body = "".join(
        f"<tr><td>{_e(column)}</td><td>{' · '.join(items)}</td></tr>"
        for column, items in per_column.items()
    )
    return (
        "<table class='wb-table wb-vp-passed'><caption>Checks that passed on every row "
        f"(in {'all ' if runs > 1 else ''}the {_runs(runs)} shown): {checks.height}</caption>"
        "<thead><tr><th>column</th>"
        f"<th>checks (severity)</th></tr></thead><tbody>{body}</tbody></table>"
    )


def share_text(passing: float, failed: int) -> str:
    """A share passing as a percentage that never reads 100% while something failed."""
    for digits in (1, 2, 3):
        text = percent_text(passing, digits)
        if not failed or text != percent_text(1.0, digits):
            return text
    return "> 99.999%"


def _observed(row: dict[str, Any]) -> str:
    noun = "rows unreadable" if row["rule"] == "ingest" else "rows failed"
    return (
        f"<b>{share_text(row['passing'], row['failed'])}</b> pass<br>"
        f"<small>{row['failed']:,} of {row['rows']:,} {noun}</small>"
    )


def _result(row: dict[str, Any]) -> str:
    if row["passed"]:
        status = "<span class='wb-vp-ok'>✓ passed</span>"
    elif row["within_limit"] is False:
        status = "<span class='wb-vp-bad'>✗ failed, beyond the blocking limit</span>"
    else:
        status = "<span class='wb-vp-warn'>✗ failed</span>"
    if row["limit_text"] is None:
        return f"{status}<br><small>no blocking limit</small>"
    state = "met" if row["within_limit"] else "not met: validate exits non-zero"
    return f"{status}<br><small>limit: {_e(row['limit_text'])} ({state})</small>"


def _history(points: list[dict[str, Any]], limit: float | None) -> str:
    """A sparkline of the share passing per run (red where something failed) and the
    last runs' values as text."""
    tips = [
        f"run {p['run_id']}"
        + (f" ({time_text(p['started_at'])})" if p["started_at"] else "")
        + f": {share_text(p['passing'], p['failed'])} pass, {p['failed']:,} of {p['rows']:,}"
        " failed"
        for p in points
    ]
    text = " → ".join(
        f"run {p['run_id']}: {share_text(p['passing'], p['failed'])}" for p in points[-3:]
    )
    return f"{_sparkline(points, limit, tips)}<br><small>{_e(text)}</small>"


def _sparkline(points: list[dict[str, Any]], limit: float | None, tips: list[str]) -> str:
    width, height, pad = 120, 28, 4
    values = [p["passing"] for p in points]
    span = 1.0 - min([*values, *([limit] if limit is not None else []), 0.99])

    def y(v: float) -> float:
        return round(pad + (1.0 - v) / span * (height - 2 * pad), 1)

    step = (width - 2 * pad) / max(len(points) - 1, 1)
    xs = [round(pad + i * step, 1) if len(points) > 1 else width / 2 for i in range(len(points))]
    svg = [
        f"<svg class='wb-vp-spark' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img'><title>{_e('; '.join(tips))}</title>"
    ]
    if limit is not None:
        svg.append(
            f"<line x1='0' x2='{width}' y1='{y(limit)}' y2='{y(limit)}' stroke='#c23b3b' "
            "stroke-dasharray='3,2' stroke-width='1'/>"
        )
    if len(points) > 1:
        line = " ".join(f"{x},{y(v)}" for x, v in zip(xs, values, strict=True))
        svg.append(f"<polyline points='{line}' fill='none' stroke='#1f5fa8' stroke-width='1.5'/>")
    for x, point in zip(xs, points, strict=True):
        color = "#c23b3b" if point["failed"] else "#2a9d5b"
        svg.append(f"<circle cx='{x}' cy='{y(point['passing'])}' r='2.5' fill='{color}'/>")
    svg.append("</svg>")
    return "".join(svg)


def _sample(values: list[str]) -> str:
    if not values:
        return ""
    return "<br>".join(f"<code>{_e(v)}</code>" for v in values)


def _runs(n: int) -> str:
    return f"{n} runs" if n != 1 else "1 run"


def _e(text: object) -> str:
    return html.escape(str(text))


_STYLE = """<style>
.wb-vp details.wb-vp-source { border: 1px solid #e6e9ef; border-radius: 4px; margin: 6px 0;
  padding: 4px 10px; font-size: 13px; }
.wb-vp summary { cursor: pointer; padding: 4px 0; font-size: 14px; }
.wb-vp .wb-table { margin: 8px 0 10px 0; }
.wb-vp .wb-table td, .wb-vp .wb-table th { text-align: left; vertical-align: top; }
.wb-vp .wb-table caption { text-align: left; font-weight: 600; padding: 4px 0; }
.wb-vp code { font-size: 12px; background: #f4f6f9; padding: 0 3px; }
.wb-vp .wb-vp-ok { color: #2a9d5b; } .wb-vp .wb-vp-bad { color: #c23b3b; }
.wb-vp .wb-vp-warn { color: #b36200; }
</style>"""
