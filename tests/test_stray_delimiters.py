"""A record with more fields than the header, the extra ones empty, is rejected, not shifted.

DuckDB reads such a record as if its last delimiters were not there, even in strict mode:
``2<TAB>extra<TAB>Bob<TAB>Ross<TAB>`` under a four-column header loaded as id 2, first name
'extra', last name 'Bob', email 'Ross'. A file whose every record ends in a delimiter writes
records that way, and loads as DuckDB reads it.
"""

from __future__ import annotations

import pytest

from workbench.ingest import ingest

CONFIG = """
sources:
  people:
    system: crm
    object: contacts
    path: exports/people.{ext}
    columns:
      record_id: id
      first_name: first
      last_name: last
      email: email
"""


def _load(make_project, store_of, ext: str, text: str | bytes):
    project = make_project(CONFIG.format(ext=ext), {f"exports/people.{ext}": text})
    store = store_of(project)
    result = ingest(project, store).loads[0]
    rows = store.rows("SELECT _row_number, id, first, last, email FROM raw.people ORDER BY 1")
    rejects = store.rows(
        "SELECT row_number, line, raw_record, message FROM quar.ingest_rejects ORDER BY 1"
    )
    return result, rows, rejects


def test_a_stray_field_with_an_empty_last_field_is_rejected(make_project, store_of):
    text = (
        "id\tfirst\tlast\temail\n"
        "1\tAnna\tMeyer\ta@x.com\n"
        "2\textra\tBob\tRoss\t\n"  # a stray field: 5 fields, the last one empty
        "3\tCleo\tPark\t\n"  # an empty email: 4 fields
        '4\t"Dan\nthe man"\tLee\t\n'  # a quoted line break: lines 5 and 6
        "5\tEve\tStone\t\t\t\n"  # two stray empty fields
        "6\tFay\tWong\tf@x.com"  # no line end at the end of the file
    )
    result, rows, rejects = _load(make_project, store_of, "tsv", text)

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 4, 2)
    assert rows == [
        (1, "1", "Anna", "Meyer", "a@x.com"),
        (3, "3", "Cleo", "Park", None),
        (4, "4", "Dan\nthe man", "Lee", None),
        (6, "6", "Fay", "Wong", "f@x.com"),
    ]
    assert rejects == [
        (
            2,
            3,
            "2\textra\tBob\tRoss\t",
            "5 fields where the header has 4, the last one empty: a stray delimiter would "
            "shift the values after it into the next columns",
        ),
        (
            5,
            7,
            "5\tEve\tStone\t\t\t",
            "6 fields where the header has 4, the last 2 empty: a stray delimiter would "
            "shift the values after it into the next columns",
        ),
    ]


def test_a_file_whose_every_record_ends_in_a_delimiter_loads_as_written(make_project, store_of):
    text = "id,first,last,email\n1,Anna,Meyer,a@x.com,\n2,Bob,Ross,,\n3,Cleo,Park,c@x.com,\n"
    result, rows, rejects = _load(make_project, store_of, "csv", text)
    assert rejects == []

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 3, 0)
    assert rows == [
        (1, "1", "Anna", "Meyer", "a@x.com"),
        (2, "2", "Bob", "Ross", None),
        (3, "3", "Cleo", "Park", "c@x.com"),
    ]
    assert rejects == []


def test_a_delimiter_at_the_end_of_a_quoted_line_is_no_stray_field(make_project, store_of):
    """A line inside a quoted value that ends in the delimiter is part of the value."""
    text = 'id,first,last,email\n1,"Anna,\nMaria",Meyer,a@x.com\n2,Bob,Ross,\n'
    result, rows, rejects = _load(make_project, store_of, "csv", text)
    assert rejects == []

    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    assert rows == [(1, "1", "Anna,\nMaria", "Meyer", "a@x.com"), (2, "2", "Bob", "Ross", None)]


@pytest.mark.parametrize("end", ["\r\n", "\r"])
def test_stray_fields_are_found_whatever_ends_the_lines(make_project, store_of, end):
    text = end.join(["id,first,last,email", "1,Anna,Meyer,", "2,x,Bob,Ross,", "3,Cleo,Park,c@x"])
    result, rows, rejects = _load(make_project, store_of, "csv", text + end)
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)

    assert [r[1] for r in rows] == ["1", "3"]
    assert [(r[0], r[1], r[2]) for r in rejects] == [(2, 3, "2,x,Bob,Ross,")]


def test_a_stray_field_on_the_last_line_without_a_line_end(make_project, store_of):
    text = "id,first,last,email\n1,Anna,Meyer,a@x.com\n2,extra,Bob,Ross,"
    result, rows, rejects = _load(make_project, store_of, "csv", text)

    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert rows == [(1, "1", "Anna", "Meyer", "a@x.com")]
    assert [(r[0], r[1], r[2]) for r in rejects] == [(2, 3, "2,extra,Bob,Ross,")]


def test_bytes_that_are_not_utf8_stay_rejected_beside_a_stray_field(make_project, store_of):
    """The copy DuckDB reads keeps every byte: a bad one is not turned into a character."""
    data = b"id,first,last,email\n1,An\xffna,Meyer,a@x.com\n2,extra,Bob,Ross,\n3,Cleo,Park,c@x\n"
    result, rows, rejects = _load(make_project, store_of, "csv", data)

    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    assert [r[1] for r in rows] == ["3"]
    assert [(r[0], r[1]) for r in rejects] == [(1, 2), (2, 3)]
    assert "utf-8" in rejects[0][3].lower() or "encod" in rejects[0][3].lower()


def test_empty_rows_wider_than_the_header_are_skipped_not_rejected(make_project, store_of):
    text = "id,first,last,email\n1,Anna,Meyer,a@x.com\n,,,,,\n2,Bob,Ross,\n,,,\n"
    result, rows, rejects = _load(make_project, store_of, "csv", text)

    assert (result.rows_loaded, result.rows_rejected, result.rows_blank) == (2, 0, 2)
    assert rejects == [] and [r[1] for r in rows] == ["1", "2"]


def test_a_file_most_of_whose_records_end_in_a_delimiter_loads_as_written(make_project, store_of):
    """One record of exactly the header's width among trailing-delimiter records is read
    as written; the others are not rejected one by one."""
    text = "id,first,last,email\n1,A,B,a@x,\n2,C,D,c@x,\n3,E,F,,\n4,G,H,\n5,I,J,i@x,\n"
    result, rows, rejects = _load(make_project, store_of, "csv", text)

    assert (result.rows_loaded, result.rows_rejected, rejects) == (5, 0, [])
    assert [r[4] for r in rows] == ["a@x", "c@x", None, None, "i@x"]
