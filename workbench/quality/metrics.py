"""Data-quality metrics of a validation run, kept as history in ``dq.metrics``.

One row per (run, object, source, field, metric). Each metric has a direction (is higher
better?) so that :mod:`workbench.quality.history` can tell a regression from an
improvement. Computed in SQL over the staged, core and quarantine tables.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from workbench.config import Project
from workbench.config.metrics import METRICS, Metric
from workbench.dictionary import FieldType
from workbench.quality.consent import record_consent
from workbench.store import Store, quote_ident, table
from workbench.validate.schemas import bound_value


def record_metrics(
    project: Project, store: Store, run_id: int, *, now: datetime | None = None
) -> int:
    """Compute every metric for the run and store it; returns the number of rows written.

    ``now`` is the run's clock (time-zone aware; default: the current time), which
    freshness is measured against.
    """
    now = now or datetime.now(UTC)
    # validation's `max: now` allows a day of clock skew; freshness ignores anything later
    until = bound_value("now", FieldType.TIMESTAMP, now)
    before = int(store.scalar("SELECT count(*) FROM dq.metrics WHERE run_id = $r", {"r": run_id}))
    for name, spec in project.dictionary.objects.items():
        if not store.table_exists("stg", name):
            continue
        stg = table("stg", name)
        core = table("core", name)
        _insert(store, run_id, name, _counts_sql(stg, core), {"o": name})
        core_columns = set(store.columns("core", name))
        for source_name, source in project.config.sources.items():
            if source.object != name:
                continue
            mapped = [f for f in source.columns if f in spec.fields]
            params = {"o": name, "s": source_name}
            if mapped:
                _insert(store, run_id, name, _completeness_sql(stg, mapped), dict(params, f=mapped))
            _insert(store, run_id, name, _duplicates_sql(stg, mapped), params)
            required = [f for f in mapped if spec.fields[f].required]
            if required:
                _insert(store, run_id, name, _missing_sql(stg, required), params)
            dated = [f for f in mapped if f in spec.dated_fields() and f in core_columns]
            if dated:
                _insert(
                    store,
                    run_id,
                    name,
                    _freshness_sql(core, dated),
                    dict(params, now=now, until=until),
                )
            for fname in mapped:
                ref = spec.fields[fname].rules.references
                if ref and _system_stages(store, ref.split(".")[0], source.system):
                    _insert(
                        store, run_id, name, _reference_sql(stg, fname, ref), dict(params, f=fname)
                    )
                if spec.fields[fname].type is FieldType.PHONE and store.table_exists("core", name):
                    _insert(store, run_id, name, _phone_sql(core, fname), dict(params, f=fname))
        _insert(store, run_id, name, _validity_sql(stg), {"o": name, "r": run_id})
        log = project.pack.event_log
        if log is not None and log.object == name and _has(store, name, log.status):
            sql = _failure_rate_sql(core, log.status)
            params = {"metric": log.metric, "field": log.status, "failed": log.failed}
            _insert(store, run_id, name, sql, params)
    for source_name, source in project.config.sources.items():
        if store.table_exists("stg", source.object):
            _insert(store, run_id, source.object, _ledger_sql(), {"s": source_name})
    record_consent(project, store, run_id)
    after = int(store.scalar("SELECT count(*) FROM dq.metrics WHERE run_id = $r", {"r": run_id}))
    return after - before


def _system_stages(store: Store, obj: str, system: str) -> bool:
    """Whether ``system`` stages any ``obj`` rows (else its references cannot be checked)."""
    return store.table_exists("stg", obj) and bool(
        store.scalar(f"SELECT count(*) FROM {table('stg', obj)} WHERE _system = $s", {"s": system})
    )


def _insert(store: Store, run_id: int, obj: str, select: str, params: dict) -> None:
    """Insert rows (source, field, metric, value, numerator, denominator) of a metric query."""
    sql = (
        "INSERT INTO dq.metrics SELECT $run, $obj, source, field, metric, value, numerator, "
        f"denominator FROM ({select})"
    )
    given = dict(params, run=run_id, obj=obj)
    used = set(re.findall(r"\$([a-z_]+)", sql))
    store.execute(sql, {k: v for k, v in given.items() if k in used})


def _counts_sql(stg: str, core: str) -> str:
    return f"""
        WITH s AS (SELECT _source AS source, count(*) AS n FROM {stg} GROUP BY ALL),
             c AS (SELECT _source AS source, count(*) AS n FROM {core} GROUP BY ALL),
             q AS (SELECT source, count(*) AS n FROM quar.rows WHERE object = $o GROUP BY ALL),
             j AS (SELECT s.source, s.n AS staged, coalesce(c.n, 0) AS valid,
                          coalesce(q.n, 0) AS quarantined
                   FROM s LEFT JOIN c USING (source) LEFT JOIN q USING (source))
        SELECT source, '' AS field, 'rows_staged' AS metric, staged AS value,
               staged AS numerator, NULL AS denominator FROM j
        UNION ALL SELECT source, '', 'rows_valid', valid, valid, NULL FROM j
        UNION ALL SELECT source, '', 'rows_quarantined', quarantined, quarantined, NULL FROM j
        UNION ALL SELECT source, '', 'quarantine_rate', quarantined / staged, quarantined,
                         staged FROM j"""


def _completeness_sql(stg: str, fields: list[str]) -> str:
    """The completeness of each of ``fields`` (bound as ``$f``), in one scan of the source."""
    counts = ", ".join(f"count({quote_ident(f)})" for f in fields)
    return f"""
        SELECT $s AS source, field, 'completeness' AS metric, filled / total AS value,
               filled AS numerator, total AS denominator
        FROM (SELECT unnest($f::VARCHAR[]) AS field, unnest(filled) AS filled, total
              FROM (SELECT [{counts}] AS filled, count(*) AS total
                    FROM {stg} WHERE _source = $s))
        WHERE total > 0"""


def _duplicates_sql(stg: str, mapped: list[str]) -> str:
    others = [quote_ident(f) for f in mapped if f != "record_id"] or ["record_id"]
    return f"""
        WITH rows AS (SELECT * FROM {stg} WHERE _source = $s),
        keys AS (SELECT count(*) FILTER (WHERE n > 1) AS dup, count(*) AS total
                 FROM (SELECT count(*) OVER (PARTITION BY record_id) AS n FROM rows
                       WHERE record_id IS NOT NULL)),
        exact AS (SELECT coalesce(sum(n - 1), 0) AS dup, sum(n) AS total FROM
                  (SELECT count(*) AS n FROM rows GROUP BY {", ".join(others)}))
        SELECT $s AS source, 'record_id' AS field, 'key_duplicate_rate' AS metric,
               dup / total AS value, dup AS numerator, total AS denominator
        FROM keys WHERE total > 0
        UNION ALL
        SELECT $s, '', 'exact_duplicate_rate', dup / total, dup, total
        FROM exact WHERE total > 0"""


def _missing_sql(stg: str, required: list[str]) -> str:
    any_null = " OR ".join(f"{quote_ident(f)} IS NULL" for f in required)
    return f"""
        WITH m AS (SELECT count(*) FILTER (WHERE {any_null}) AS miss, count(*) AS total
                   FROM {stg} WHERE _source = $s)
        SELECT $s AS source, '' AS field, 'missing_mandatory' AS metric, miss AS value,
               miss AS numerator, total AS denominator FROM m WHERE total > 0
        UNION ALL SELECT $s, '', 'missing_mandatory_rate', miss / total, miss, total
        FROM m WHERE total > 0"""


def _freshness_sql(core: str, dated: list[str]) -> str:
    """Hours from the source's newest valid time stamp up to ``$until`` (``$now`` plus the
    skew validation allows; later ones, in the future, are ignored) to ``$now``; never
    negative. Staged and quarantined rows do not count."""
    casts = [f"CAST({quote_ident(f)} AS TIMESTAMPTZ)" for f in dated]
    newest = ", ".join(f"max({c}) FILTER (WHERE {c} <= $until)" for c in casts)
    expr = f"greatest({newest})" if len(dated) > 1 else newest
    return f"""
        SELECT $s AS source, '' AS field, 'freshness_hours' AS metric,
               greatest(date_diff('second', {expr}, $now) / 3600.0, 0) AS value,
               NULL AS numerator, NULL AS denominator
        FROM {core} WHERE _source = $s HAVING {expr} IS NOT NULL"""


def _reference_sql(stg: str, field: str, ref: str) -> str:
    target, key = ref.split(".")
    col = quote_ident(field)
    return f"""
        WITH r AS (
            SELECT count({col}) AS total,
                   count({col}) FILTER (WHERE {col} IN (
                       SELECT CAST(t.{quote_ident(key)} AS VARCHAR) FROM {table("stg", target)} t
                       WHERE t._system = (SELECT any_value(_system) FROM {stg}
                                          WHERE _source = $s))) AS found
            FROM {stg} WHERE _source = $s)
        SELECT $s AS source, $f AS field, 'referential_integrity' AS metric,
               found / total AS value, found AS numerator, total AS denominator
        FROM r WHERE total > 0"""


def _phone_sql(core: str, field: str) -> str:
    raw, e164 = quote_ident(f"{field}_raw"), quote_ident(field)
    return f"""
        SELECT $s AS source, $f AS field, 'phone_parse_rate' AS metric,
               count({e164}) / count({raw}) AS value, count({e164}) AS numerator,
               count({raw}) AS denominator
        FROM {core} WHERE _source = $s HAVING count({raw}) > 0"""


def _validity_sql(stg: str) -> str:
    return f"""
        WITH f AS (SELECT source, coalesce("column", '') AS field, "check",
                          count(DISTINCT (load_id, row_number)) AS bad
                   FROM quar.failures WHERE object = $o AND run_id = $r GROUP BY ALL),
             n AS (SELECT _source AS source, count(*) AS total FROM {stg} GROUP BY ALL)
        SELECT f.source, f.field, 'validity:' || f."check" AS metric,
               1 - bad / total AS value, total - bad AS numerator, total AS denominator
        FROM f JOIN n USING (source)"""


def _has(store: Store, obj: str, field: str) -> bool:
    return store.table_exists("core", obj) and field in store.columns("core", obj)


def _failure_rate_sql(core: str, status: str) -> str:
    """The pack's event-log metric: share of the log's rows whose ``status`` is failed."""
    failed = f"count(*) FILTER (WHERE {quote_ident(status)} = $failed)"
    return f"""
        SELECT _source AS source, $field AS field, $metric AS metric,
               {failed} / count(*) AS value, {failed} AS numerator, count(*) AS denominator
        FROM {core} GROUP BY _source"""


def _ledger_sql() -> str:
    """Rows read, rejected and suppressed by the source's current loads, from the ledger:
    with rows_valid and rows_quarantined, ``rows_read = rows_rejected + rows_suppressed +
    rows_valid + rows_quarantined`` per source."""
    return """
        WITH l AS (SELECT count(*) AS loads, coalesce(sum(rows_read), 0) AS r,
                          coalesce(sum(rows_rejected), 0) AS rejected,
                          coalesce(sum(rows_suppressed), 0) AS suppressed
                   FROM meta.loads WHERE source = $s AND is_current)
        SELECT $s AS source, '' AS field, 'rows_read' AS metric, r AS value, r AS numerator,
               NULL AS denominator FROM l WHERE loads > 0
        UNION ALL SELECT $s, '', 'rows_rejected', rejected, rejected, NULL FROM l WHERE loads > 0
        UNION ALL SELECT $s, '', 'rows_suppressed', suppressed, suppressed, NULL FROM l
        WHERE loads > 0
        UNION ALL SELECT $s, '', 'reject_rate', rejected / r, rejected, r FROM l WHERE r > 0"""


def metric_info(metric: str) -> Metric:
    """The description of a metric name (``validity:<check>`` shares ``validity``)."""
    return METRICS[metric.split(":", 1)[0]]
