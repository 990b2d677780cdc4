"""Validation pages of the data-quality report, in the manner of Great Expectations' Data
Docs: per source, every check that ran in the latest validation run with what it expects,
its severity, the observed value (share of rows passing, rows failing out of rows checked),
whether it passed and how it stands against the blocking limit (``quality.blocking``), its
history across the last validation runs, and a sample of the failing values, masked by the
dictionary's PII class unless the report is unmasked.

The checks are described by :mod:`workbench.report.validation_checks`, their results read
by :mod:`workbench.report.validation_results`; this module writes the page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import polars as pl

from workbench.formatting import percent_text, time_text
from workbench.quality.history import check_history
from workbench.report.context import ReportContext
from workbench.report.display import NoData, show
from workbench.report.validation_checks import NOT_NULL, Check, source_checks
from workbench.report.validation_results import (
    HISTORY_RUNS,
    RESULT_SCHEMA,
    WHOLE_ROW,
    check_results,
)

__all__ = [  # the checks and their results are read from here too
    "HISTORY_RUNS",
    "NOT_NULL",
    "RESULT_SCHEMA",
    "WHOLE_ROW",
    "Check",
    "ValidationPages",
    "check_results",
    "share_text",
    "show_validation_pages",
    "source_checks",
    "validation_pages",
]


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
        f"{_runs(runs.height)}. Failing values are {_privacy_note(ctx)}.</p>",
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


def _privacy_note(ctx: ReportContext) -> str:
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
