"""Rows without a value in any column are skipped and counted, as blank lines are skipped.

A spreadsheet saved as CSV often ends in rows of only delimiters (``,,,,``); an event log
may hold ``{}`` lines. They are no records: before, they were loaded, staged empty and
quarantined as a missing record_id, counting against the quarantine gate. Now the ledger
counts them in ``rows_blank``, apart from ``rows_read = rows_loaded + rows_rejected``, and
the other rows keep their place in the file.
"""

from __future__ import annotations

import json

from staged import ingest_staged

from workbench.cli import main
from workbench.store import open_store

CSV_CONFIG = """
sources:
  people:
    system: crm
    object: contacts
    path: exports/people.{ext}
    columns:
      record_id: id
      first_name: first
      email: email
"""
# record 2 and records 6-8 are empty (spaces, NBSP and tabs count as empty); record 4 is
# short (a reject, at line 5); an 'N/A' or a lone quote-enclosed space is a value
CSV = (
    "id,first,email\n"
    "1,Anna,anna@example.com\n"
    ",,\n"
    "2,Bob,bob@example.com\n"
    "3,Short\n"
    "4,Cleo,cleo@example.com\n"
    " ,\u00a0,\t\n"
    ",,\n"
    ",,N/A\n"
    ",,\n"
)


def _ledger(store) -> tuple:
    return store.rows(
        "SELECT rows_read, rows_loaded, rows_rejected, rows_blank FROM meta.loads "
        "WHERE status = 'loaded'"
    )[0]


def test_rows_of_only_delimiters_are_skipped_and_counted(make_project, store_of):
    project = make_project(CSV_CONFIG.format(ext="csv"), {"exports/people.csv": CSV})
    store = store_of(project)
    result = ingest_staged(project, store).loads[0]

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 4, 1)
    assert result.rows_blank == 4
    assert "4 empty rows skipped" in result.message
    assert _ledger(store) == (5, 4, 1, 4)
    # the loaded rows keep their position among the file's records; the reject its own
    loaded = store.rows("SELECT _row_number, id, email FROM raw.people ORDER BY 1")
    assert loaded == [
        (1, "1", "anna@example.com"),
        (3, "2", "bob@example.com"),
        (5, "4", "cleo@example.com"),
        (8, None, "N/A"),
    ]
    assert store.rows("SELECT row_number, line FROM quar.ingest_rejects") == [(4, 5)]
    assert store.scalar("SELECT count(*) FROM stg.contacts") == 4


def test_empty_json_objects_are_skipped_like_blank_lines(make_project, store_of):
    lines = [
        {"id": "1", "first": "Anna", "email": "anna@example.com"},
        {},
        {"id": None, "first": None, "email": None},
        {"id": "2", "first": " ", "email": ""},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n\n"
    project = make_project(CSV_CONFIG.format(ext="ndjson"), {"exports/people.ndjson": text})
    store = store_of(project)
    result = ingest_staged(project, store).loads[0]

    assert (result.rows_read, result.rows_loaded, result.rows_blank) == (2, 2, 2)
    assert store.rows("SELECT _row_number, id FROM raw.people ORDER BY 1") == [(1, "1"), (4, "2")]


def test_validation_quarantines_nothing_for_skipped_rows_and_the_ledger_shows_them(
    make_project, capsys
):
    project = make_project(CSV_CONFIG.format(ext="csv"), {"exports/people.csv": CSV})
    root = str(project.root)
    assert main(["ingest", "--project", root]) == 0
    assert "4 empty rows skipped" in " ".join(capsys.readouterr().out.split())
    assert main(["validate", "--project", root]) == 0
    capsys.readouterr()
    assert main(["ledger", "--json", "--project", root]) == 0
    (load,) = json.loads(capsys.readouterr().out)
    assert (load["read"], load["loaded"], load["rejected"], load["empty"]) == (5, 4, 1, 4)
    with open_store(project, read_only=True) as store:
        quarantined = store.rows("SELECT row_number, reasons FROM quar.rows")
    # only the row with a value but no id ('N/A' is a null token once staged)
    assert [(n, "record_id" in reasons) for n, reasons in quarantined] == [(8, True)]


def test_empty_rows_of_a_sheet_are_counted_and_the_others_keep_their_row(
    make_project, store_of, tmp_path
):
    """The Excel reader dropped empty rows itself: a blank row between records went
    uncounted, and every record below it was reported a row too high."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in (
        ["id", "first", "email"],
        [1, "Anna", "anna@example.com"],
        [None, None, None],
        [2, "Bob", "bob@example.com"],
        [None, " ", None],
        [3, "Cleo", "c@example.com"],
    ):
        sheet.append(row)  # fmt: skip
    path = tmp_path / "people.xlsx"
    book.save(path)
    project = make_project(
        CSV_CONFIG.format(ext="xlsx"), {"exports/people.xlsx": path.read_bytes()}
    )
    store = store_of(project)
    result = ingest_staged(project, store).loads[0]

    assert (result.rows_read, result.rows_loaded, result.rows_blank) == (3, 3, 2)
    assert store.rows("SELECT _row_number, id FROM raw.people ORDER BY 1") == [
        (1, "1"),
        (3, "2"),
        (5, "3"),
    ]
