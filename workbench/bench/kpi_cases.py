"""KPI benchmark: every KPI for 12 months, Workbench vs one hand-written DuckDB query each.

The warehouse is synthetic (built once by :func:`prepare_kpis`): ``rows`` leads, tickets and
sync events, a tenth as many deals, invoices for a fifth as many customers, over 12 months,
with core tables shaped as validation writes them. Both sides read the same file.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

BUILD = [
    "CREATE SCHEMA IF NOT EXISTS core",
    "CREATE SCHEMA IF NOT EXISTS stg",
    "CREATE SCHEMA IF NOT EXISTS id",
    "SELECT setseed(0.42)",
    """CREATE TABLE core.leads AS
    SELECT 'crm_leads' AS _source, 'crm' AS _system, 'L' || i AS record_id,
           ['EMEA','NA','APAC','LATAM'][1 + i % 4] AS region,
           CASE WHEN i % 10 < 3 THEN 'canary' ELSE 'control' END AS segment,
           ts AS created_at,
           CASE WHEN random() < 0.94
             THEN ts + to_microseconds(CAST(random() * 1.5e11 AS BIGINT)) END
             AS first_response_at,
           CASE WHEN random() < 0.12 THEN ts + INTERVAL 20 DAY END AS converted_at
    FROM (SELECT i, TIMESTAMPTZ '2025-01-01' + to_microseconds(CAST(random() * 3.1536e13 AS BIGINT))
            AS ts FROM range($rows) t(i))""",
    """CREATE TABLE core.tickets AS
    SELECT 'desk' AS _source, 'support' AS _system, 'T' || i AS record_id,
           ['EMEA','NA','APAC','LATAM'][1 + i % 4] AS region,
           CASE WHEN i % 10 < 3 THEN 'canary' ELSE 'control' END AS segment,
           ts AS created_at,
           CASE WHEN random() < 0.97
             THEN ts + to_microseconds(CAST(random() * 3.6e10 AS BIGINT)) END
             AS first_response_at,
           CASE WHEN random() < 0.9 THEN ts + to_microseconds(CAST(random() * 3e11 AS BIGINT)) END
             AS solved_at
    FROM (SELECT i, TIMESTAMPTZ '2025-01-01' + to_microseconds(CAST(random() * 3.1536e13 AS BIGINT))
            AS ts FROM range($rows) t(i))""",
    """CREATE TABLE core.sync_events AS
    SELECT 'sync' AS _source, 'integration' AS _system, 'E' || i AS record_id,
           ['EMEA','NA','APAC','LATAM'][1 + i % 4] AS region,
           CASE WHEN i % 10 < 3 THEN 'canary' ELSE 'control' END AS segment,
           TIMESTAMPTZ '2025-01-01' + to_microseconds(CAST(random() * 3.1536e13 AS BIGINT))
             AS occurred_at,
           CASE WHEN random() < 0.04 THEN 'failed' ELSE 'success' END AS status,
           CAST(random() * 3000 AS BIGINT) AS latency_ms
    FROM range($rows) t(i)""",
    """CREATE TABLE core.deals AS
    SELECT 'crm_deals' AS _source, 'crm' AS _system, 'D' || i AS record_id,
           ['EMEA','NA','APAC','LATAM'][1 + i % 4] AS region,
           CASE WHEN i % 10 < 3 THEN 'canary' ELSE 'control' END AS segment,
           ['open','won','lost'][1 + CAST(floor(random() * 3) AS INTEGER)] AS status,
           ts AS created_at, ts + to_microseconds(CAST(random() * 5e12 AS BIGINT)) AS closed_at
    FROM (SELECT i, TIMESTAMPTZ '2024-12-01' + to_microseconds(CAST(random() * 3.1536e13 AS BIGINT))
            AS ts FROM range($rows // 10) t(i))""",
    """CREATE TABLE core.invoices AS
    SELECT 'billing' AS _source, 'billing' AS _system, 'I' || c || '-' || m AS record_id,
           'C' || c AS customer_id, CAST(DATE '2025-01-01' + INTERVAL (m) MONTH AS DATE)
             AS invoice_date,
           CAST(100 + random() * 900 AS DECIMAL(18, 4)) AS amount_base,
           CAST(100 + random() * 900 AS DECIMAL(18, 4)) AS amount, 'EUR' AS currency,
           CASE WHEN random() < 0.02 THEN 'void' ELSE 'paid' END AS status,
           ['EMEA','NA','APAC','LATAM'][1 + c % 4] AS region,
           CASE WHEN c % 10 < 3 THEN 'canary' ELSE 'control' END AS segment
    FROM range($rows // 5) a(c), range(12) b(m)
    WHERE random() < 0.97""",
    """CREATE TABLE core.contacts AS
    SELECT 'crm' AS _source, 'crm' AS _system, 'P' || i AS record_id,
           TIMESTAMPTZ '2024-01-01' + to_microseconds(CAST(random() * 6.3e13 AS BIGINT))
             AS created_at, ['EMEA','NA','APAC','LATAM'][1 + i % 4] AS region
    FROM range($rows // 2) t(i)""",
    """CREATE TABLE id.members AS
    SELECT 'contacts' AS object, _source || ':' || record_id AS unique_id, _source AS source,
           record_id, 'E' || (CAST(substr(record_id, 2) AS BIGINT) // 3) AS entity_id,
           1 AS run_id, NULL AS feature_hash
    FROM core.contacts""",
]
STAGED = ("leads", "tickets", "sync_events", "deals", "invoices", "contacts")

# One hand-written query per KPI, month grain, whole population: what an analyst writes.
PLAIN = {
    "lead_response_time_h": """SELECT date_trunc('month', created_at) p,
        quantile_cont(epoch(first_response_at - created_at) / 3600, 0.5)
        FROM core.leads WHERE first_response_at IS NOT NULL GROUP BY p""",
    "lead_conversion_rate": """SELECT date_trunc('month', created_at) p,
        count(converted_at) / count(*) FROM core.leads GROUP BY p""",
    "sales_cycle_days": """SELECT date_trunc('month', closed_at) p,
        quantile_cont(epoch(closed_at - created_at) / 86400, 0.5)
        FROM core.deals WHERE status = 'won' AND closed_at IS NOT NULL GROUP BY p""",
    "win_rate": """SELECT date_trunc('month', closed_at) p, count_if(status = 'won') / count(*)
        FROM core.deals WHERE status IN ('won', 'lost') AND closed_at IS NOT NULL GROUP BY p""",
    "first_response_time_h": """SELECT date_trunc('month', created_at) p,
        quantile_cont(epoch(first_response_at - created_at) / 3600, 0.5)
        FROM core.tickets WHERE first_response_at IS NOT NULL GROUP BY p""",
    "resolution_time_h": """SELECT date_trunc('month', solved_at) p,
        quantile_cont(epoch(solved_at - created_at) / 3600, 0.5)
        FROM core.tickets WHERE solved_at IS NOT NULL GROUP BY p""",
    "ticket_volume": "SELECT date_trunc('month', created_at) p, count(*) FROM core.tickets "
    "GROUP BY p",
    "sync_failure_rate": """SELECT date_trunc('month', occurred_at) p,
        count_if(status = 'failed') / count(*) FROM core.sync_events GROUP BY p""",
    "sync_latency_p95_ms": """SELECT date_trunc('month', occurred_at) p,
        quantile_cont(latency_ms, 0.95) FROM core.sync_events WHERE status = 'success'
        GROUP BY p""",
    "arpa": """SELECT date_trunc('month', invoice_date) p,
        sum(amount_base) / count(DISTINCT customer_id) FROM core.invoices
        WHERE status <> 'void' GROUP BY p""",
    "churn_rate": """WITH a AS (SELECT DISTINCT customer_id c, date_trunc('month', invoice_date) p
          FROM core.invoices WHERE status <> 'void')
        SELECT a.p + INTERVAL 1 MONTH, avg(CASE WHEN b.c IS NULL THEN 1 ELSE 0 END)
        FROM a LEFT JOIN a b ON b.c = a.c AND b.p = a.p + INTERVAL 1 MONTH
        WHERE a.p + INTERVAL 1 MONTH IN (SELECT p FROM a) GROUP BY 1""",
    "duplicate_rate": """WITH r AS (SELECT date_trunc('month', c.created_at) p, m.entity_id e
          FROM core.contacts c JOIN id.members m ON m.source = c._source
          AND m.record_id = c.record_id),
        f AS (SELECT e, min(p) p FROM r GROUP BY e),
        t AS (SELECT p, count(*) n, 0 k FROM r GROUP BY p UNION ALL
              SELECT p, 0, count(*) FROM f GROUP BY p)
        SELECT p, (sum(sum(n)) OVER w - sum(sum(k)) OVER w) / sum(sum(n)) OVER w
        FROM t GROUP BY p WINDOW w AS (ORDER BY p)""",
    "missing_mandatory_rate": """SELECT p, count_if(m) / count(*) FROM (
        SELECT date_trunc('month', created_at) p, record_id IS NULL m FROM stg.contacts
        UNION ALL SELECT date_trunc('month', created_at), record_id IS NULL FROM stg.leads
        UNION ALL SELECT date_trunc('month', created_at), record_id IS NULL OR status IS NULL
          FROM stg.deals
        UNION ALL SELECT date_trunc('month', created_at), record_id IS NULL FROM stg.tickets
        UNION ALL SELECT date_trunc('month', invoice_date), record_id IS NULL
          OR customer_id IS NULL OR amount IS NULL OR currency IS NULL FROM stg.invoices
        UNION ALL SELECT date_trunc('month', occurred_at), record_id IS NULL OR status IS NULL
          FROM stg.sync_events) GROUP BY p""",
}


def prepare_kpis(size: Path, work: Path) -> tuple[float, int]:
    """Not measured: the synthetic warehouse of ``size`` rows per activity object."""
    rows = int(str(size.name))
    con = duckdb.connect(str(work / "warehouse.duckdb"))
    start = time.perf_counter()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    for sql in BUILD:
        con.execute(sql, {"rows": rows} if "$rows" in sql else None)
    for name in STAGED:
        con.execute(
            f"CREATE TABLE stg.{name} AS SELECT *, CAST([] AS VARCHAR[]) AS _problems "
            f"FROM core.{name}"
        )
    con.close()
    (work / "workbench.yaml").write_text("name: kpi bench\nwarehouse: warehouse.duckdb\n")
    return time.perf_counter() - start, rows


def plain_kpis(size: Path, work: Path) -> tuple[float, int]:
    """Plain DuckDB: one hand-written query per KPI (ltv from arpa and churn in Python)."""
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    start = time.perf_counter()
    results = {kpi: con.execute(sql).fetchall() for kpi, sql in PLAIN.items()}
    arpa = dict(results["arpa"])
    results["ltv"] = [(p, arpa[p] * 0.7 / c) for p, c in results["churn_rate"] if c and p in arpa]
    seconds = time.perf_counter() - start
    return seconds, sum(len(v) for v in results.values())


def workbench_kpis(size: Path, work: Path) -> tuple[float, int]:
    """Workbench: `workbench kpi` (every KPI computed, stored as a run with restatements)."""
    from workbench.config import load_project
    from workbench.kpi.run import measure
    from workbench.store import open_store

    project = load_project(work)
    start = time.perf_counter()
    with open_store(project) as store:
        _, values = measure(project, store)
    seconds = time.perf_counter() - start
    return seconds, values.frame.height
