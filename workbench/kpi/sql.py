"""The SQL of the KPIs: one query per KPI, values per period and segment.

Every query returns ``period`` (first instant of the period, UTC), ``segment`` (``'all'``
for the whole population, else the segment's value), ``value`` and ``n`` (the rows behind
the value). Periods and segments without qualifying rows produce no row: such a KPI value
is absent, not zero. The grain is a bound parameter; object, field and segment names are
quoted identifiers; ``where`` and ``measure`` are SQL expressions of the KPI's definition.
"""

from __future__ import annotations

from workbench.config.kpis import KpiDef, Stat
from workbench.kpi.periods import Grain
from workbench.record_ids import unique_id_sql
from workbench.store import quote_ident, table

ALL = "all"
NO_VALUE = "(none)"
# Segment names that stand for lineage columns rather than canonical fields.
LINEAGE = {"source": "_source", "system": "_system"}
_STEP = {
    "day": "INTERVAL 1 DAY",
    "week": "INTERVAL 7 DAY",
    "month": "INTERVAL 1 MONTH",
    "quarter": "INTERVAL 3 MONTH",
}


def utc(column: str) -> str:
    """A TIMESTAMPTZ or DATE column as a naive UTC TIMESTAMP.

    ``make_timestamp(epoch_us(x))`` is exact and avoids the per-row time-zone conversion of
    ``CAST(x AS TIMESTAMP)`` (ten times faster on a million rows).
    """
    return f"make_timestamp(epoch_us({column}))"


def segment_column(name: str | None) -> str | None:
    """The column behind a segment name (``source`` is the lineage column ``_source``)."""
    return None if name is None else LINEAGE.get(name, name)


def _aggregate(kpi: KpiDef) -> str:
    match kpi.stat:
        case Stat.MEDIAN:
            return "quantile_cont(m, 0.5)"
        case Stat.QUANTILE:
            return f"quantile_cont(m, {float(kpi.q or 0.5)!r})"
        case Stat.MEAN:
            return "avg(m)"
        case Stat.RATE | Stat.CHURN:
            return "count_if(m) / count(*)"
        case Stat.COUNT:
            return "count(*)"
        case Stat.SUM:
            return "sum(m)"
        case Stat.PER:
            return "sum(m) / count(DISTINCT g)"
    raise ValueError(f"stat {kpi.stat} has no plain aggregate")


def _grouped(rows_sql: str, aggregate: str, segmented: bool) -> str:
    if not segmented:
        return f"""
WITH kpi_rows AS ({rows_sql})
SELECT period, '{ALL}' AS segment, CAST({aggregate} AS DOUBLE) AS value, count(*) AS n
FROM kpi_rows GROUP BY period
"""
    return f"""
WITH kpi_rows AS ({rows_sql})
SELECT period,
       CASE WHEN grouping(seg) = 1 THEN '{ALL}' ELSE coalesce(CAST(seg AS VARCHAR), '{NO_VALUE}')
       END AS segment,
       CAST({aggregate} AS DOUBLE) AS value,
       count(*) AS n
FROM kpi_rows
GROUP BY GROUPING SETS ((period), (period, seg))
"""


def rows_sql(kpi: KpiDef, segment: str | None) -> str:
    """The qualifying rows of a row-level KPI: ``period``, ``seg``, ``m`` and ``g``."""
    assert kpi.time is not None
    time = quote_ident(kpi.time)
    seg = quote_ident(segment) if segment else "NULL"
    measure = f"({kpi.measure})" if kpi.measure else "NULL"
    per = quote_ident(kpi.per) if kpi.per else "NULL"
    where = f"AND ({kpi.where})" if kpi.where else ""
    return f"""
SELECT date_trunc($grain, {utc(time)}) AS period, {seg} AS seg,
       {measure} AS m, {per} AS g
FROM {table("core", kpi.object)}
WHERE {time} IS NOT NULL {where}"""


def _dated_rows(kpis: list[KpiDef], where: str) -> list[str]:
    """For each of ``kpis``, the time stamps (``t``, naive UTC) of its qualifying core rows
    dated up to ``$until`` that also satisfy ``where`` (SQL over ``t``)."""
    parts = []
    for kpi in kpis:
        assert kpi.time is not None
        time = utc(quote_ident(kpi.time))
        own = f"AND ({kpi.where})" if kpi.where else ""
        parts.append(
            f"SELECT t FROM (SELECT {time} AS t FROM {table('core', kpi.object)} "
            f"WHERE {time} <= $until {own}) WHERE {where}"
        )
    return parts


def latest_sql(kpis: list[KpiDef]) -> str:
    """The first instant of the newest period (of ``$grain``) holding a qualifying core row
    of one of ``kpis`` dated at or before ``$until`` (naive UTC), and that row's time stamp:
    rows dated later (in the future) are ignored. NULLs when there is none."""
    newest = " UNION ALL ".join(f"SELECT max(t) AS t FROM ({p})" for p in _dated_rows(kpis, "true"))
    return f"SELECT date_trunc($grain, max(t)), max(t) FROM ({newest})"


def newest_per_period_sql(kpis: list[KpiDef]) -> str:
    """The newest time stamp of the qualifying core rows of ``kpis`` in each period (of
    ``$grain``) from ``$since`` to before ``$before`` (naive UTC), by period."""
    rows = " UNION ALL ".join(_dated_rows(kpis, "t >= $since AND t < $before"))
    return f"SELECT date_trunc($grain, t) AS period, max(t) FROM ({rows}) GROUP BY period"


def values_sql(kpi: KpiDef, segment: str | None) -> str:
    """One KPI's values per period (and segment) for the plain stats."""
    return _grouped(rows_sql(kpi, segment), _aggregate(kpi), segment is not None)


def churn_rows_sql(kpi: KpiDef, segment: str | None, grain: Grain) -> str:
    """Customers active in the period before each period, flagged when gone (``m``).

    A customer is active in a period when it has a qualifying row then. The periods are
    those with any activity, so the month after the data ends is not all churn. The segment
    is the customer's in the previous period.
    """
    rows = rows_sql(kpi.model_copy(update={"measure": None}), segment)
    return f"""
WITH active AS (
  SELECT g, period, max(seg) AS seg FROM ({rows})
  WHERE g IS NOT NULL GROUP BY g, period),
periods AS (SELECT DISTINCT period FROM active)
SELECT p.period, a.seg, b.g IS NULL AS m, a.g
FROM active a JOIN periods p ON p.period = a.period + {_STEP[grain]}
LEFT JOIN active b ON b.g = a.g AND b.period = p.period"""


def churn_sql(kpi: KpiDef, segment: str | None, grain: Grain) -> str:
    """Churn per period: of the customers active the period before, the share gone."""
    return _grouped(
        churn_rows_sql(kpi, segment, grain), "count_if(m) / count(*)", segment is not None
    )


def duplicate_rate_sql(kpi: KpiDef, segment: str | None) -> str:
    """(records - entities) / records over the records created before each period's end,
    for every period from the first record's to the last record's (one without new records
    included).

    Entities come from the latest identity resolution (``id.members``); a record it has not
    seen counts as an entity of its own.
    """
    assert kpi.time is not None
    seg = quote_ident(segment) if segment else "NULL"
    time = quote_ident(kpi.time)
    by_segment = (
        f"UNION ALL SELECT coalesce(CAST(seg AS VARCHAR), '{NO_VALUE}'), period, entity FROM recs"
    )
    record = unique_id_sql("c._source", "c.record_id")
    return f"""
WITH recs AS (
  SELECT date_trunc($grain, {utc("c." + time)}) AS period, {seg} AS seg,
         coalesce(m.entity_id, 'unresolved:' || {record}) AS entity
  FROM {table("core", kpi.object)} c
  LEFT JOIN id.members m
    ON m.object = $object AND m.source = c._source AND m.record_id = c.record_id
  WHERE c.{time} IS NOT NULL),
sets AS (
  SELECT 'all' AS segment, period, entity FROM recs
  {by_segment if segment else ""}),
first_seen AS (SELECT segment, entity, min(period) AS period FROM sets GROUP BY ALL),
per_period AS (
  SELECT segment, period, count(*) AS records, 0 AS entities FROM sets GROUP BY ALL
  UNION ALL
  SELECT segment, period, 0, count(*) FROM first_seen GROUP BY ALL),
totals AS (
  SELECT segment, period, sum(records) AS records, sum(entities) AS entities
  FROM per_period GROUP BY ALL),
-- every period from each segment's first to its last: a period without new records still
-- has the records created before its end (its value is the one before)
spans AS (SELECT segment, min(period) AS first, max(period) AS last FROM totals GROUP BY ALL),
grid AS (
  SELECT segment, unnest(generate_series(first, last, CAST('1 ' || $grain AS INTERVAL)))
         AS period
  FROM spans),
filled AS (
  SELECT g.segment, g.period, coalesce(t.records, 0) AS records,
         coalesce(t.entities, 0) AS entities
  FROM grid g LEFT JOIN totals t USING (segment, period)),
cumulative AS (
  SELECT segment, period, sum(records) OVER w AS records, sum(entities) OVER w AS entities
  FROM filled WINDOW w AS (PARTITION BY segment ORDER BY period))
SELECT period, segment, CAST((records - entities) / records AS DOUBLE) AS value,
       CAST(records AS BIGINT) AS n
FROM cumulative"""


def missing_mandatory_sql(
    objects: dict[str, tuple[str | None, list[str], bool]], segment: str | None
) -> tuple[str, dict[str, str]]:
    """Share of staged records with at least one required field absent, per period.

    ``objects`` maps each object to its time field, required fields and whether it has the
    segment field (objects without it count in ``all`` and under ``(none)``). A required field is
    absent when it is NULL and the source did not hold an unreadable value for it (those
    are quarantined as unreadable, not missing). Segments: ``object``, ``source``,
    ``system``, or a field every object has. Returns the SQL and its parameters.
    """
    parts, params = [], {}
    for i, (name, (time, required, has_segment)) in enumerate(objects.items()):
        if time is None or not required:
            continue
        checks = []
        for j, field in enumerate(required):
            params[f"p{i}_{j}"] = f"{field}:"
            checks.append(
                f"({quote_ident(field)} IS NULL AND len(list_filter(coalesce(_problems, []), "
                f"lambda p: starts_with(p, $p{i}_{j}))) = 0)"
            )
        if segment == "object":
            params[f"o{i}"] = name
        seg = (
            f"$o{i}"
            if segment == "object"
            else quote_ident(segment)
            if segment and has_segment
            else "NULL"
        )
        parts.append(
            f"SELECT date_trunc($grain, {utc(quote_ident(time))}) AS period, "
            f"CAST({seg} AS VARCHAR) AS seg, ({' OR '.join(checks)}) AS m, NULL AS g "
            f"FROM {table('stg', name)} WHERE {quote_ident(time)} IS NOT NULL"
        )
    if not parts:
        empty = "SELECT NULL::TIMESTAMP AS period, NULL AS seg, NULL::BOOLEAN AS m, NULL AS g"
        parts.append(empty + " WHERE FALSE")
    return _grouped(
        " UNION ALL ".join(parts), "count_if(m) / count(*)", segment is not None
    ), params
