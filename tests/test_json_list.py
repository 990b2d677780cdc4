"""JSON list exports (Stripe, Chargebee): the records under a key of one object.

``{"object": "list", "data": [...], "has_more": false}`` was refused as "a single JSON
object"; with ``options.records: data`` its records load as those of a JSON array would, a
record that is not an object set aside with its position, as on an NDJSON line.
"""

from __future__ import annotations

import gzip
import json

import pytest

from workbench.cli import main
from workbench.ingest import ingest

CONFIG = """
sources:
  stripe:
    system: billing
    object: contacts
    path: exports/customers.{ext}
    options: {{records: {key}}}
    columns:
      record_id: id
      email: email
      company_name: address.city
"""
RECORDS = [
    {"id": "cus_1", "email": "a@x.com", "address": {"city": "Köln"}},
    "not a customer",
    {"id": "cus_2", "email": "b@x.com", "address": {"city": None}},
]
LIST = {"object": "list", "data": RECORDS, "has_more": False, "url": "/v1/customers"}


@pytest.mark.parametrize("compressed", [False, True])
def test_the_records_under_a_key_load_as_an_array_would(make_project, store_of, compressed):
    data = json.dumps(LIST).encode()
    files = {"exports/customers.json" + (".gz" if compressed else ""): (
        gzip.compress(data) if compressed else data)}  # fmt: skip
    ext = "json.gz" if compressed else "json"
    project = make_project(CONFIG.format(ext=ext, key="data"), files)
    store = store_of(project)
    result = ingest(project, store).loads[0]

    assert (result.status, result.rows_read, result.rows_loaded, result.rows_rejected) == (
        "loaded", 3, 2, 1,
    )  # fmt: skip
    rows = store.rows('SELECT _row_number, id, email, "address.city" FROM raw.stripe ORDER BY 1')
    assert rows == [(1, "cus_1", "a@x.com", "Köln"), (3, "cus_2", "b@x.com", None)]
    assert store.rows("SELECT row_number, error_type FROM quar.ingest_rejects") == [
        (2, "NOT AN OBJECT")
    ]


def test_a_key_the_file_does_not_have_is_refused_naming_the_option(make_project, capsys):
    project = make_project(
        CONFIG.format(ext="json", key="items"),
        {"exports/customers.json": json.dumps(LIST)},
    )
    assert main(["ingest", "--project", str(project.root)]) == 3
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "customers.json has no key 'items' at its top level (sources.stripe.options.records)" in err
    )
    assert "its top-level keys are object, data, has_more, url" in err
    assert "Traceback" not in err


def test_without_the_option_a_list_export_says_how_to_read_it(make_project, capsys):
    config = CONFIG.format(ext="json", key="data").replace("    options: {records: data}\n", "")
    project = make_project(config, {"exports/customers.json": json.dumps(LIST)})
    assert main(["ingest", "--project", str(project.root)]) == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "a single JSON object" in err and "set the source's options.records to it" in err


def test_a_record_with_a_repeated_key_is_set_aside_as_on_an_ndjson_line(make_project, store_of):
    """Python's json keeps the last of a repeated key: the pairs are kept as read, so the
    record is set aside rather than loaded with one of its values dropped."""
    text = (
        '{"object": "list", "data": [{"id": "cus_1", "email": "a@x.com", "email": "b@x.com"},'
        ' {"id": "cus_2", "email": "c@x.com", "address": {"city": "Bonn"}}]}'
    )
    project = make_project(CONFIG.format(ext="json", key="data"), {"exports/customers.json": text})
    store = store_of(project)
    result = ingest(project, store).loads[0]

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert store.rows("SELECT _row_number, id, email FROM raw.stripe") == [(2, "cus_2", "c@x.com")]
    assert store.rows("SELECT row_number FROM quar.ingest_rejects") == [(1,)]


def test_dictionary_infer_reads_the_records_under_a_key(tmp_path, capsys):
    """`dictionary infer --records data` drafts the records of a Stripe-style list, as
    ingest reads them with options.records; a missing key names the option and the keys."""
    document = {
        "object": "list",
        "has_more": False,
        "data": [
            {"id": "cus_1", "email": "a@x.com", "address": {"city": "Berlin"}},
            {"id": "cus_2", "email": "b@y.com", "address": {"city": "Paris"}},
        ],
    }
    path = tmp_path / "customers.json.gz"
    path.write_bytes(gzip.compress(json.dumps(document).encode()))
    assert (
        main(["dictionary", "infer", str(path), "--object", "customers", "--records", "data"]) == 0
    )
    drafted = capsys.readouterr().out
    assert "(2 rows read)" in drafted
    for mapped in ("record_id: id", "email: email", "address_city: address.city"):
        assert f"#   {mapped}" in drafted
    assert "has_more" not in drafted
    code = main(["dictionary", "infer", str(path), "--object", "customers", "--records", "items"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 3 and "Traceback" not in err
    keys = "its top-level keys are object, has_more, data."
    assert f"has no key 'items' at its top level (--records): {keys}" in err
