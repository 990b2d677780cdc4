"""The integration readiness checklist, evaluated against evidence in the project and the
warehouse (the governance review's last section; ``workbench readiness``).

Six items, each ready or not, with the evidence read and what to do when not ready:

1. **Inventory complete**: every system a source comes from is in ``integration.systems``
   with an owner and a contact.
2. **Dictionary complete**: every field a source maps has a description, and every mapped
   field that identifies people (matched as a name, email, phone, date or postcode) has a
   PII class. (Required fields are mapped: workbench.yaml is refused otherwise.)
3. **SLAs defined**: event SLAs exist and cover every route (event, from, to) of the sync log
   in the checked window; an SLA without ``from``/``to`` covers its event on every route.
4. **Canary and rollback**: ``kpi.launch_date`` is set, the loaded data holds both rollout
   groups of ``kpi.treatment``, and a backup is recorded to roll back to.
5. **Monitoring scheduled**: blocking data-quality limits are set in workbench.yaml, and
   reports recur: a crontab line (``workbench schedule --install``) or successful runs of
   one report for at least two periods.
6. **ROI dashboard ready**: ``roi.yaml`` is valid, the launch date is set and the ROI
   report has been rendered successfully.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from workbench.config import Project
from workbench.config.settings import DEFAULT_BLOCKING
from workbench.errors import ConfigError
from workbench.kpi.sql import segment_column
from workbench.quality.integration import event_log, missing_fields
from workbench.report import schedule
from workbench.report.context import ReportContext
from workbench.roi.config import load_roi
from workbench.store import Store, quote_ident, table


@dataclass(frozen=True)
class Check:
    """One item of the checklist: whether it is ready, the evidence, what to do if not."""

    item: str
    ready: bool
    evidence: str
    fix: str = ""


def checklist(
    project: Project,
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    crontab: str | None = None,
) -> list[Check]:
    """The six items (see the module doc). Sync-log routes are read in ``[since, until)``
    (default: the whole log); ``crontab`` is the crontab's text (default: ``crontab -l``)."""
    return [
        _inventory(project),
        _dictionary(project),
        _slas(project, store, since, until),
        _canary(project, store),
        _monitoring(project, store, crontab),
        _roi(project, store),
    ]


def as_frame(checks: list[Check]) -> pl.DataFrame:
    """The checklist as a table (``item``, ``ready``, ``evidence``, ``fix``)."""
    return pl.DataFrame(
        [vars(c) for c in checks],
        schema={"item": pl.String, "ready": pl.Boolean, "evidence": pl.String, "fix": pl.String},
    )


def _systems(project: Project) -> list[str]:
    return sorted({s.system for s in project.config.sources.values()})


def _inventory(project: Project) -> Check:
    listed = project.config.integration.systems
    systems = _systems(project)
    missing = [s for s in systems if s not in listed]
    partial = [s for s in systems if s in listed and not (listed[s].owner and listed[s].contact)]
    done = len(systems) - len(missing) - len(partial)
    evidence = f"{done} of {len(systems)} source systems listed with owner and contact"
    if missing:
        evidence += f"; not listed: {', '.join(missing)}"
    if partial:
        evidence += f"; no contact: {', '.join(partial)}"
    return Check(
        "Inventory complete",
        bool(systems) and not missing and not partial,
        evidence,
        ""
        if not (missing or partial)
        else "Add each system under `integration.systems` with owner, primary_api and contact.",
    )


def _dictionary(project: Project) -> Check:
    undescribed, unclassed = set(), set()
    mapped = set()
    for source in project.config.sources.values():
        spec = project.dictionary.object(source.object)
        for name in source.columns:
            field = spec.fields.get(name)
            if field is None:
                continue
            key = f"{source.object}.{name}"
            mapped.add(key)
            if not field.description.strip():
                undescribed.add(key)
            if field.identity in PERSONAL_KINDS and field.pii == "none":
                unclassed.add(key)
    evidence = [f"{len(mapped)} mapped fields", f"{len(undescribed)} without a description"]
    evidence[-1] += _some(undescribed)
    evidence.append(f"{len(unclassed)} matching people without a PII class{_some(unclassed)}")
    todo = [
        "describe every mapped field in the dictionary" if undescribed else "",
        "give the fields that identify people a pii class (contact or sensitive)"
        if unclassed
        else "",
        "map the exports' columns (`sources:` in workbench.yaml)" if not mapped else "",
    ]
    return _check("Dictionary complete", evidence, todo)


PERSONAL_KINDS = frozenset({"name", "email", "phone", "date", "postcode"})


def _some(names: set[str], shown: int = 5) -> str:
    """`` (a, b, ...)`` naming the first few of ``names``, or nothing."""
    if not names:
        return ""
    first = sorted(names)[:shown]
    return f" ({', '.join(first)}{', ...' if len(names) > shown else ''})"


def _routes(
    project: Project, store: Store, since: datetime | None, until: datetime | None
) -> pl.DataFrame | None:
    """The (event, source, target) routes of the sync log in the window, with their syncs."""
    log = event_log(project, store)
    if log is None or not (log.event and log.source and log.target):
        return None
    time = quote_ident(log.time)
    return store.frame(
        f"""SELECT {quote_ident(log.event)} AS event, {quote_ident(log.source)} AS source,
                  {quote_ident(log.target)} AS target, count(*) AS syncs
           FROM {table("core", log.object)}
           WHERE ($since IS NULL OR {time} >= $since) AND ($until IS NULL OR {time} < $until)
           GROUP BY ALL ORDER BY syncs DESC, event, source, target""",
        {"since": since, "until": until},
    )


def _slas(project: Project, store: Store, since: datetime | None, until: datetime | None) -> Check:
    slas = project.config.integration.event_slas
    routes = _routes(project, store, since, until)
    fix = "Add an entry under `integration.event_slas` for each route (event, from, to)."
    if not slas:
        return Check("SLAs defined", False, "no event SLA in `integration.event_slas`", fix)
    if routes is None or routes.height == 0:
        missing = missing_fields(project, store)
        why = f"a sync log without {', '.join(missing)}" if missing else "no sync log"
        return Check(
            "SLAs defined", False, f"{len(slas)} event SLAs, but {why} to check them on",
            "Load the integration's sync log (a source of the pack's event log object) "
            "with every field its pack names.",
        )  # fmt: skip
    uncovered = [
        f"{r['event']} {r['source']} -> {r['target']}"
        for r in routes.iter_rows(named=True)
        if not any(s.covers(r["event"], r["source"], r["target"]) for s in slas)
    ]
    covered = routes.height - len(uncovered)
    evidence = f"{len(slas)} event SLAs; {covered} of {routes.height} sync routes covered"
    if uncovered:
        evidence += (
            f"; not covered: {', '.join(uncovered[:6])}{', ...' if len(uncovered) > 6 else ''}"
        )
    return Check("SLAs defined", not uncovered, evidence, fix if uncovered else "")


def _canary(project: Project, store: Store) -> Check:
    cfg = project.config.kpi
    column, treated, control = cfg.treatment.column, cfg.treatment.treated, cfg.treatment.control
    counts = _group_rows(project, store, column, [treated, control])
    backups = store.rows("SELECT max(recorded_at) FROM meta.audit WHERE action = 'backup'")[0][0]
    parts = [
        f"launch {cfg.launch_date}" if cfg.launch_date else "no kpi.launch_date",
        f"{counts[treated]:,} {treated} and {counts[control]:,} {control} rows by {column}",
        f"last backup {backups:%Y-%m-%d %H:%M} UTC" if backups else "no backup recorded",
    ]
    todo = [
        "set kpi.launch_date" if cfg.launch_date is None else "",
        f"point kpi.treatment at the rollout groups in the data ({treated}/{control} in "
        f"{column})" if not all(counts.values()) else "",
        "take a backup to roll back to (`workbench backup`)" if backups is None else "",
    ]  # fmt: skip
    if cfg.rollout is not None:
        launches = cfg.rollout.launches
        waves = _group_rows(project, store, cfg.rollout.column, list(launches))
        parts.insert(2, "rollout " + ", ".join(
            f"{g} from {d} ({waves[g]:,} rows)" for g, d in launches.items()
        ))  # fmt: skip
        missing = [g for g, n in waves.items() if not n]
        if missing:
            todo.append(f"name launch groups the data holds in kpi.rollout (none of "
                        f"{', '.join(missing)} in {cfg.rollout.column})")  # fmt: skip
    return _check("Canary and rollback", parts, todo)


def _group_rows(project: Project, store: Store, column: str, groups: list[str]) -> dict[str, int]:
    """Rows per value of ``column`` among ``groups``, over every loaded object with it."""
    counts = dict.fromkeys(groups, 0)
    field = segment_column(column) or column  # `source`: the lineage column
    value = f"CAST({quote_ident(field)} AS VARCHAR)"  # groups are named as text
    for obj in project.dictionary.objects:
        if store.table_exists("core", obj) and field in store.columns("core", obj):
            for found, n in store.rows(
                f"SELECT {value}, count(*) FROM {table('core', obj)} "
                f"WHERE list_contains($groups, {value}) GROUP BY ALL",
                {"groups": groups},
            ):
                counts[found] += n
    return counts


def _check(item: str, evidence: list[str], todo: list[str]) -> Check:
    """An item ready when nothing is left to do; the to-do list as one sentence."""
    left = [t for t in todo if t]
    fix = "; ".join(left)
    return Check(
        item, not left, "; ".join(evidence), fix[:1].upper() + fix[1:] + "." if fix else ""
    )


def _monitoring(project: Project, store: Store, crontab: str | None) -> Check:
    # limits of its own: `blocking: {}` keeps only the built-in floors every project has
    quality = project.config.quality
    gates = "blocking" in quality.model_fields_set and quality.blocking != DEFAULT_BLOCKING
    scheduled = schedule.installed(project.root, crontab)
    recurring = store.rows(
        """SELECT report, count(DISTINCT period) AS n FROM meta.report_runs
           WHERE status = 'ok' GROUP BY ALL HAVING n >= 2 ORDER BY n DESC, report"""
    )
    parts = [
        "blocking limits set (quality.blocking)" if gates else "no quality.blocking limits",
        f"crontab renders {', '.join(scheduled)}" if scheduled else "no crontab line",
        f"{recurring[0][0]} rendered for {recurring[0][1]} periods"
        if recurring
        else "no report rendered for two periods yet",
    ]
    todo = [
        "set quality.blocking limits in workbench.yaml" if not gates else "",
        "schedule the reports (`workbench schedule --report governance_review --install`)"
        if not (scheduled or recurring)
        else "",
    ]
    return _check("Monitoring scheduled", parts, todo)


def _roi(project: Project, store: Store) -> Check:
    try:
        cfg = load_roi(project.root)
        valid = f"roi.yaml valid ({len(cfg.value_drivers)} value drivers)"
    except ConfigError as err:
        cfg, valid = None, f"roi.yaml not usable: {err.what}"
    last = store.rows(
        "SELECT max(period) FROM meta.report_runs WHERE report = 'roi' AND status = 'ok'"
    )[0][0]
    launch = project.config.kpi.launch_date
    parts = [
        valid,
        f"launch {launch}" if launch else "no kpi.launch_date",
        f"ROI report rendered for {last}" if last else "ROI report never rendered",
    ]
    todo = [
        "write a valid roi.yaml (costs, value drivers)" if cfg is None else "",
        "set kpi.launch_date" if launch is None else "",
        "render `workbench report roi --period YYYY-MM`" if last is None else "",
    ]
    return _check("ROI dashboard ready", parts, todo)


def readiness_table(ctx: ReportContext) -> pl.DataFrame:
    """The checklist for the governance review: routes of the sync log read in its period."""
    checks = checklist(ctx.project, ctx.store, since=ctx.start, until=ctx.end)
    return as_frame(checks).select(
        pl.when(pl.col("ready")).then(pl.lit("✓ ready")).otherwise(pl.lit("✗ not ready"))
        .alias("status"),
        "item",
        "evidence",
        pl.col("fix").alias("to do"),
    )  # fmt: skip
