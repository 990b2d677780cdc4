"""The integration inventory and event SLAs measured against the data, for one period.

Both read the pack's event log (the CRM pack: ``core.sync_events``), over the half-open
period ``[start, end)`` in UTC:

- :func:`inventory`: one row per system of the inventory or of a configured source, with
  its owner, API and contact (blank, and ``in_inventory`` false, for a system the inventory
  misses), its sources, its last successful load, its freshness (the smallest
  ``freshness_hours`` of its sources in the latest validation run) and the period's syncs
  touching it (from or to): count, failure rate, latency at the SLO share of the successful.
- :func:`event_slas`: one row per event SLA: the period's syncs of that event (and route),
  failure rate, latency at the SLA's share of the successful ones, hours from the newest
  sync to the period's end (or now, for the running period), and whether each limit held.

Latency at a share is DuckDB's ``quantile_cont`` (interpolated) over the successful syncs;
a limit is met when the measured value is at most the limit.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from workbench.config import Project
from workbench.config.integration import EventSla
from workbench.packs import EventLog
from workbench.store import Store, quote_ident, table

MET, BREACHED, NO_DATA = "met", "breached", "no syncs"


def event_log(project: Project, store: Store) -> EventLog | None:
    """The pack's event log if the project has it loaded with the fields it declares."""
    log = project.pack.event_log
    if log is None or not store.table_exists("core", log.object):
        return None
    return None if missing_fields(project, store) else log


def missing_fields(project: Project, store: Store) -> list[str]:
    """The fields the pack's event log declares that its loaded table lacks (none if it is
    not loaded: then nothing is missing but the log)."""
    log = project.pack.event_log
    if log is None or not store.table_exists("core", log.object):
        return []
    needed = [*log.fields(), *(f for f in (log.event, log.source, log.target) if f)]
    have = set(store.columns("core", log.object))
    return [f for f in needed if f not in have]


def _syncs_sql(log: EventLog, where: str) -> str:
    """Count, failure rate, latency at the share ``$share`` of the successful ones and the
    newest time of the log's rows in the period meeting ``where``."""
    time, status = quote_ident(log.time), quote_ident(log.status)
    latency = (
        f"quantile_cont({quote_ident(log.latency_ms)}, $share) FILTER ({status} = $success)"
        if log.latency_ms
        else "NULL::DOUBLE"
    )
    return f"""SELECT count(*) AS syncs,
                  count_if({status} = $failed) / nullif(count(*), 0) AS failure_rate,
                  {latency} AS latency_ms, max({time}) AS newest
           FROM {table("core", log.object)}
           WHERE {time} >= $start AND {time} < $end AND ({where})"""


def inventory(project: Project, store: Store, start: datetime, end: datetime) -> pl.DataFrame:
    """The inventory measured over ``[start, end)`` (see the module doc)."""
    cfg = project.config.integration
    by_system: dict[str, list[str]] = {}
    for name, source in project.config.sources.items():
        by_system.setdefault(source.system, []).append(name)
    systems = list(cfg.systems) + sorted(s for s in by_system if s not in cfg.systems)
    log = event_log(project, store)
    share = project.config.governance.latency_slo_share
    rows = []
    for system in systems:
        entry = cfg.systems.get(system)
        sources = by_system.get(system, [])
        row: dict[str, object] = {
            "system": system,
            "in_inventory": entry is not None,
            "owner": entry.owner if entry else None,
            "primary_api": entry.primary_api if entry else None,
            "contact": entry.contact if entry else None,
            "sources": len(sources),
            "last_load": _last_load(store, sources),
            "freshness_hours": _freshness(store, sources),
            "syncs": None,
            "failure_rate": None,
            "latency_ms": None,
        }
        if log is not None and log.source and log.target:
            where = f"{quote_ident(log.source)} = $system OR {quote_ident(log.target)} = $system"
            found = store.rows(
                _syncs_sql(log, where),
                _params(log, start, end, system=system, share=share),
            )[0]
            row.update(syncs=found[0], failure_rate=found[1], latency_ms=found[2])
        rows.append(row)
    return pl.DataFrame(rows, schema=_INVENTORY_SCHEMA)


_INVENTORY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "system": pl.String,
    "in_inventory": pl.Boolean,
    "owner": pl.String,
    "primary_api": pl.String,
    "contact": pl.String,
    "sources": pl.Int64,
    "last_load": pl.Datetime("us", "UTC"),
    "freshness_hours": pl.Float64,
    "syncs": pl.Int64,
    "failure_rate": pl.Float64,
    "latency_ms": pl.Float64,
}


def _utc(value: datetime) -> datetime:
    """A naive datetime read as UTC (periods are naive UTC); an aware one in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _params(log: EventLog, start: datetime, end: datetime, **more: object) -> dict[str, object]:
    return {"start": start, "end": end, "success": log.success, "failed": log.failed, **more}


def _last_load(store: Store, sources: list[str]) -> datetime | None:
    if not sources:
        return None
    value = store.scalar(
        "SELECT max(ended_at) FROM meta.loads WHERE list_contains($s, source) "
        "AND status = 'loaded'",
        {"s": sources},
    )
    return value if isinstance(value, datetime) else None


def _freshness(store: Store, sources: list[str]) -> float | None:
    """The smallest freshness of the sources in the latest validation run (hours)."""
    if not sources:
        return None
    value = store.scalar(
        """SELECT min(value) FROM dq.metrics
           WHERE metric = 'freshness_hours' AND list_contains($s, source)
             AND run_id = (SELECT max(run_id) FROM dq.metrics)""",
        {"s": sources},
    )
    return float(value) if value is not None else None


def event_slas(
    project: Project,
    store: Store,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
) -> pl.DataFrame:
    """Each event SLA measured over ``[start, end)`` (see the module doc); empty without
    SLAs or without the pack's event log."""
    log = event_log(project, store)
    slas = project.config.integration.event_slas
    if log is None or log.event is None or not slas:
        return pl.DataFrame(schema=_SLA_SCHEMA)
    until = min(_utc(end), _utc(now or datetime.now(UTC)))
    rows = [_measure(project, store, log, sla, start, end, until) for sla in slas]
    return pl.DataFrame(rows, schema=_SLA_SCHEMA)


_SLA_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "event": pl.String,
    "syncs": pl.Int64,
    "failure_rate": pl.Float64,
    "max_failure_rate": pl.Float64,
    "latency_share": pl.Float64,
    "latency_ms": pl.Float64,
    "max_latency_ms": pl.Float64,
    "age_hours": pl.Float64,
    "max_age_hours": pl.Float64,
    "status": pl.String,
    "breached": pl.String,
}


def _measure(
    project: Project,
    store: Store,
    log: EventLog,
    sla: EventSla,
    start: datetime,
    end: datetime,
    until: datetime,
) -> dict[str, object]:
    """One SLA's row: the period's figures and the limits they broke."""
    assert log.event is not None
    share = sla.latency_share or project.config.governance.latency_slo_share
    where = [f"{quote_ident(log.event)} = $event"]
    params = _params(log, start, end, event=sla.event, share=share)
    for field, value, key in ((log.source, sla.source, "from"), (log.target, sla.target, "to")):
        if value is not None and field is not None:
            where.append(f"{quote_ident(field)} = ${key}")
            params[key] = value
    syncs, failure_rate, latency, newest = store.rows(_syncs_sql(log, " AND ".join(where)), params)[
        0
    ]
    age = (until - _utc(newest)).total_seconds() / 3600 if isinstance(newest, datetime) else None
    broken = []
    if syncs:
        if latency is not None and latency > sla.max_latency_ms:
            broken.append("latency")
        if sla.max_failure_rate is not None and failure_rate > sla.max_failure_rate:
            broken.append("failure rate")
    if sla.max_age_hours is not None and (age is None or age > sla.max_age_hours):
        broken.append("freshness")
    status = BREACHED if broken else (MET if syncs else NO_DATA)
    return {
        "event": sla.label,
        "syncs": syncs,
        "failure_rate": failure_rate,
        "max_failure_rate": sla.max_failure_rate,
        "latency_share": share,
        "latency_ms": latency,
        "max_latency_ms": sla.max_latency_ms,
        "age_hours": age,
        "max_age_hours": sla.max_age_hours,
        "status": status,
        "breached": ", ".join(broken),
    }
