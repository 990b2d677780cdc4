"""The measured cases; each runs in a fresh subprocess: ``python -m workbench.bench.cases``.

Prints one JSON line: ``{"seconds": ..., "rows": ...}``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import duckdb

from workbench.bench.data import CONTACTS_CONFIG


def duckdb_read_csv(csv: Path, work: Path) -> tuple[float, int]:
    """Plain DuckDB: read_csv into a table of a fresh DuckDB file."""
    con = duckdb.connect(str(work / "plain.duckdb"))
    start = time.perf_counter()
    con.execute("CREATE TABLE contacts AS SELECT * FROM read_csv($p)", {"p": str(csv)})
    con.close()
    seconds = time.perf_counter() - start
    rows = (
        duckdb.connect(str(work / "plain.duckdb"))
        .execute("SELECT count(*) FROM contacts")
        .fetchone()
    )
    return seconds, int(rows[0]) if rows else 0


def workbench_ingest(csv: Path, work: Path) -> tuple[float, int]:
    """Workbench: ingest (raw with lineage, ledger, staging) into a fresh warehouse."""
    from workbench.config import load_project
    from workbench.ingest import ingest
    from workbench.store import open_store

    shutil.copyfile(csv, work / "contacts.csv")
    (work / "workbench.yaml").write_text(CONTACTS_CONFIG)
    project = load_project(work)
    start = time.perf_counter()
    with open_store(project) as store:
        report = ingest(project, store)
    seconds = time.perf_counter() - start
    if report.failures:
        raise SystemExit(report.failures[0].error)
    return seconds, report.loads[0].rows_loaded


CASES = {"duckdb_read_csv": duckdb_read_csv, "workbench_ingest": workbench_ingest}


def main() -> None:
    name, csv, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    seconds, rows = CASES[name](csv, work)
    print(json.dumps({"seconds": seconds, "rows": rows}))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
