"""A list of objects in a JSON record (Zendesk's ``custom_fields``, ``[{"id": 1, "value":
"x"}, ...]``) is one column holding the list as JSON text: it has no leaf columns.

DuckDB types such a list ``STRUCT(id BIGINT, value VARCHAR)[]``; read as an object, it gave
columns ``custom_fields.id`` and ``custom_fields.value`` that were NULL in every row, so a
mapping of ``custom_fields.value`` loaded and staged nothing but NULLs without a word, and
``workbench dictionary infer`` failed with DuckDB's binder error.
"""

from __future__ import annotations

import json

import pytest

from workbench.dictionary_infer import infer_section
from workbench.ingest import ingest

TICKETS = [
    {
        "id": 101,
        "status": "open",
        "created_at": "2026-03-04T13:05:00Z",
        "custom_fields": [{"id": 360001, "value": "2026-03-05T10:00:00Z"}],
        "via": {"channel": "email", "source": {"rel": None}},
    },
    {"id": 102, "status": "solved", "created_at": "2026-03-04T14:05:00Z", "custom_fields": []},
]


def _config(solved_from: str) -> str:
    return f"""
sources:
  desk:
    system: support
    object: tickets
    path: exports/tickets.json
    columns:
      record_id: id
      status: status
      created_at: created_at
      solved_at: {solved_from}
"""


def test_a_list_of_objects_is_one_json_column(make_project, store_of):
    project = make_project(_config("created_at"), {"exports/tickets.json": json.dumps(TICKETS)})
    store = store_of(project)
    result = ingest(project, store).loads[0]

    assert (result.status, result.rows_loaded) == ("loaded", 2)
    raw = [c for c in store.columns("raw", "desk") if not c.startswith("_")]
    assert "custom_fields" in raw
    assert not [c for c in raw if c.startswith("custom_fields.")]
    assert "via.channel" in raw  # an object still has its leaves
    kept = store.scalar("SELECT custom_fields FROM raw.desk WHERE id = '101'")
    assert json.loads(kept) == TICKETS[0]["custom_fields"]


def test_a_key_inside_a_list_of_objects_cannot_be_mapped(make_project, store_of):
    project = make_project(
        _config("custom_fields.value"), {"exports/tickets.json": json.dumps(TICKETS)}
    )
    store = store_of(project)
    result = ingest(project, store).loads[0]

    assert result.status == "failed"  # refused, rather than loaded as NULL in every row
    assert result.error is not None and "custom_fields.value" in result.error.what


def test_infer_reads_a_list_of_objects(tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(TICKETS), encoding="utf-8")

    section = infer_section(path, "tickets")

    assert "custom_fields" in section
    assert "custom_fields.value" not in section
    assert "via.channel" in section


@pytest.mark.parametrize(
    ("nested", "leaves"),
    [({"a": [{"b": 1}]}, []), ({"a": {"b": [{"c": 1}]}}, ["a.b"])],
    ids=["top", "inside an object"],
)
def test_a_list_of_objects_deeper_down_has_no_leaves_either(make_project, store_of, nested, leaves):
    records = [{"id": 1, "status": "open", "created_at": "2026-03-04T13:05:00Z", **nested}]
    project = make_project(_config("created_at"), {"exports/tickets.json": json.dumps(records)})
    store = store_of(project)
    ingest(project, store)
    raw = [c for c in store.columns("raw", "desk") if not c.startswith("_")]
    assert [c for c in raw if c.startswith("a.")] == leaves
