"""NDJSON columns come from every line, also when the first lines are all DuckDB samples.

Workbench takes the columns of the first lines when one pass over the whole file finds no
other key and no nested value; otherwise DuckDB detects them over the whole file. Either
way the columns are those of DuckDB's detection over every record (the oracle here).
"""

from __future__ import annotations

import json

import duckdb
import pytest

from workbench.ingest import ingest

CONFIG = """
sources:
  events:
    system: integration
    object: sync_events
    path: exports/events.ndjson
    columns:
      record_id: event_id
      status: status
      occurred_at: ts
"""
FLAT = [
    {"event_id": f"e{i}", "ts": "2026-01-01T00:00:00Z", "status": "success", "latency_ms": i}
    for i in range(25_000)
]


def _whole_file_columns(path) -> list[str]:
    """DuckDB's own columns for the file, nested objects as their leaves (``org.name``)."""
    con = duckdb.connect()
    rows = con.execute(
        "DESCRIBE SELECT * FROM read_json(?, format = 'newline_delimited', sample_size = -1)",
        [str(path)],
    ).fetchall()
    columns = []
    for name, kind, *_ in rows:
        columns.append(name)
        if str(kind).startswith("STRUCT("):
            fields = con.execute(f"SELECT unnest(struct_keys(NULL::{kind}))").fetchall()
            columns += [f"{name}.{f}" for (f,) in fields]
    return columns


@pytest.mark.parametrize(
    "late",
    [
        {"event_id": "late", "status": "failed", "error_code": "E42"},  # a new key
        {"event_id": "late", "status": "failed", "latency_ms": {"p50": 3}},  # nested
        {"event_id": "late", "status": "failed", "tags": ["a", "b"]},  # an array
        {"event_id": "late", "ts": None, "status": "failed"},  # nothing new
    ],
    ids=["new key", "nested", "array", "flat"],
)
def test_a_key_or_a_nested_value_after_the_sample_is_a_column(make_project, store_of, late):
    lines = [*FLAT, late]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    project = make_project(CONFIG, {"exports/events.ndjson": text})
    store = store_of(project)
    result = ingest(project, store).loads[0]

    assert (result.status, result.rows_loaded) == ("loaded", len(lines))
    raw = [c for c in store.columns("raw", "events") if not c.startswith("_")]
    assert raw == _whole_file_columns(project.root / "exports" / "events.ndjson")
    last = store.rows("SELECT * FROM raw.events WHERE event_id = $e", {"e": "late"})
    assert len(last) == 1
