"""Each export format and reader option lands the file's rows, as text, with lineage."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from staged import ingest_staged

from workbench.config import load_project
from workbench.ingest import ingest, stage_changed

ROWS = [("1", "Anna", "Müller"), ("2", "Bob", "Smith"), ("3", "Zoë", "Ångström")]


def config(path: str, fmt: str | None = None, options: str = "") -> str:
    fmt_line = f"\n    format: {fmt}" if fmt else ""
    opts = f"\n    options: {options}" if options else ""
    return f"""
sources:
  people:
    system: crm
    object: contacts
    path: {path}{fmt_line}{opts}
    columns:
      record_id: id
      first_name: first
      last_name: last
"""


def raw_rows(store, source: str = "people") -> list[tuple]:
    return store.rows(
        f'SELECT _row_number, id, "first", "last" FROM raw."{source}" ORDER BY _row_number'
    )


def expected() -> list[tuple]:
    return [(i + 1, *row) for i, row in enumerate(ROWS)]


def csv_text(delim: str = ",") -> str:
    lines = [delim.join(("id", "first", "last"))]
    lines += [delim.join(r) for r in ROWS]
    return "\n".join(lines) + "\n"


def test_csv_utf8_with_sniffed_delimiter(make_project, store_of):
    project = make_project(config("people.csv"), {"people.csv": csv_text(";")})
    store = store_of(project)
    report = ingest(project, store)
    assert [r.status for r in report.loads] == ["loaded"]
    assert raw_rows(store) == expected()
    assert [(s.source, s.rows) for s in stage_changed(project, store)] == [("people", 3)]


def test_tsv_by_extension(make_project, store_of):
    project = make_project(config("people.tsv"), {"people.tsv": csv_text("\t")})
    store = store_of(project)
    ingest_staged(project, store)
    assert raw_rows(store) == expected()


def test_utf8_bom_is_not_part_of_the_first_column(make_project, store_of):
    data = b"\xef\xbb\xbf" + csv_text().encode("utf-8")
    project = make_project(
        config("people.csv", options="{encoding: utf-8-sig}"), {"people.csv": data}
    )
    store = store_of(project)
    ingest_staged(project, store)
    assert raw_rows(store) == expected()


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_declared_single_byte_encodings(make_project, store_of, encoding):
    text = csv_text(";").replace("Zoë", "Zoë €" if encoding == "cp1252" else "Zoë")
    project = make_project(
        config("people.csv", options=f'{{encoding: {encoding}, delimiter: ";"}}'),
        {"people.csv": text.encode(encoding)},
    )
    store = store_of(project)
    ingest_staged(project, store)
    rows = raw_rows(store)
    assert rows[0] == (1, "1", "Anna", "Müller")
    assert rows[2][2] == ("Zoë €" if encoding == "cp1252" else "Zoë")


def test_gzip_csv_and_gzip_behind_a_plain_csv_name(make_project, store_of):
    packed = gzip.compress(csv_text().encode())
    project = make_project(config("exports/*.csv*"), {"exports/a.csv.gz": packed})
    store = store_of(project)
    ingest_staged(project, store)
    assert raw_rows(store) == expected()

    project = make_project(config("disguised.csv"), {"disguised.csv": packed})
    store2 = store_of(project)
    ingest_staged(project, store2)
    assert raw_rows(store2) == expected()


def test_headerless_csv_uses_positional_names(make_project, store_of):
    body = "\n".join(",".join(r) for r in ROWS) + "\n"
    cfg = config("p.csv", options="{header: false}").replace("record_id: id", "record_id: column0")
    cfg = cfg.replace("first_name: first", "first_name: column1")
    cfg = cfg.replace("last_name: last", "last_name: column2")
    project = make_project(cfg, {"p.csv": body})
    store = store_of(project)
    ingest_staged(project, store)
    assert store.rows("SELECT record_id, last_name FROM stg.contacts ORDER BY 1") == [
        ("1", "Müller"),
        ("2", "Smith"),
        ("3", "Ångström"),
    ]


def test_json_array_with_nested_object_flattened(make_project, store_of):
    records = [
        {"id": 1, "first": "Anna", "last": "Müller", "org": {"name": "Acme", "size": 3}},
        {"id": 2, "first": "Bob", "last": "Smith", "org": None},
        {"id": "3", "first": "Zoë", "last": "Ångström", "org": {"name": "Ötzi AG"}},
    ]
    cfg = config("p.json") + "      company_name: org.name\n"
    project = make_project(cfg, {"p.json": json.dumps(records)})
    store = store_of(project)
    ingest_staged(project, store)
    assert raw_rows(store) == expected()
    assert store.rows("SELECT company_name FROM stg.contacts ORDER BY record_id") == [
        ("Acme",),
        (None,),
        ("Ötzi AG",),
    ]


def test_ndjson_gzip(make_project, store_of):
    lines = "\n".join(
        json.dumps({"id": r[0], "first": r[1], "last": r[2]}, ensure_ascii=False) for r in ROWS
    )
    project = make_project(config("p.ndjson.gz"), {"p.ndjson.gz": gzip.compress(lines.encode())})
    store = store_of(project)
    ingest_staged(project, store)
    assert raw_rows(store) == expected()


def test_parquet_typed_columns_arrive_as_text(make_project, store_of, tmp_path: Path):
    frame = pl.DataFrame(
        {"id": [1, 2, 3], "first": [r[1] for r in ROWS], "last": [r[2] for r in ROWS]}
    )
    project = make_project(config("p.parquet"))
    frame.write_parquet(tmp_path / "p.parquet")
    store = store_of(project)
    ingest_staged(project, store)
    assert raw_rows(store) == expected()


def test_xlsx_first_sheet(make_project, store_of, tmp_path: Path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "first", "last"])
    for r in ROWS:
        sheet.append([int(r[0]), r[1], r[2]])
    project = make_project(config("p.xlsx"))
    book.save(tmp_path / "p.xlsx")
    store = store_of(project)
    ingest_staged(project, store)
    assert [r[1:] for r in raw_rows(store)] == [(str(int(r[0])), r[1], r[2]) for r in ROWS]
    assert [r[0] for r in raw_rows(store)] == [1, 2, 3]


MEMBERS = [
    ("R1", "Ana Lima", "ana@example.org"),
    ("R2", "Bo Chen", "bo@example.org"),
    ("R3", "Cy Diaz", "cy@example.org"),
    ("R4", "Di Evans", "di@example.org"),
    ("R5", "Ed Fox", "ed@example.org"),
]


def members_config(options: str) -> str:
    return f"""
sources:
  members:
    system: crm
    object: contacts
    path: m.xlsx
    options: {options}
    columns:
      record_id: "Reg #"
      email: Email
"""


def members_book(tmp_path: Path, above: list[list[str | None]], merge: str | None = None) -> None:
    """m.xlsx: the rows ``above`` (title, blank rows), then the header, then R1..R5."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in above:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    sheet.append(["Reg #", "Full name", "Email"])
    for row in MEMBERS:
        sheet.append(list(row))
    book.save(tmp_path / "m.xlsx")


def member_rows(store) -> list[tuple]:
    return store.rows(
        'SELECT _row_number, "Reg #", "Full name", "Email" FROM raw."members" ORDER BY 1'
    )


LOADED_MEMBERS = [
    (1, "R1", "Ana Lima", "ana@example.org"),
    (2, "R2", "Bo Chen", "bo@example.org"),
    (3, "R3", "Cy Diaz", "cy@example.org"),
    (4, "R4", "Di Evans", "di@example.org"),
    (5, "R5", "Ed Fox", "ed@example.org"),
]


@pytest.mark.parametrize(
    ("above", "merge", "skip"),
    [
        ([["Members export"]], "A1:C1", 1),  # a merged title row
        ([["Members export"], [None], ["as of 2026-09-30"]], None, 3),  # title, blank, note
        ([[None], [None]], None, 2),  # blank rows
    ],
)
def test_xlsx_skip_rows_skips_the_rows_above_the_header_as_for_csv(
    make_project, store_of, tmp_path: Path, above, merge, skip
):
    """skip_rows counts the sheet's rows above the header; every row below it is data
    (fastexcel's own skip_rows dropped the first data rows, uncounted)."""
    members_book(tmp_path, above, merge)
    project = make_project(members_config(f"{{skip_rows: {skip}}}"))
    store = store_of(project)
    load = ingest_staged(project, store).loads[0]
    assert load.status == "loaded"
    assert (load.rows_read, load.rows_loaded, load.rows_rejected, load.rows_blank) == (5, 5, 0, 0)
    assert member_rows(store) == LOADED_MEMBERS
    assert store.rows("SELECT record_id, email FROM stg.contacts ORDER BY 1") == [
        ("R1", "ana@example.org"),
        ("R2", "bo@example.org"),
        ("R3", "cy@example.org"),
        ("R4", "di@example.org"),
        ("R5", "ed@example.org"),
    ]


def test_xlsx_skip_rows_never_drops_a_data_row(make_project, store_of, tmp_path: Path):
    """On a sheet whose header is its first row, skip_rows: 1 makes the first data row the
    header, as in a CSV: the mapped columns are missing and nothing loads, no row silently
    lost."""
    members_book(tmp_path, [])
    project = make_project(members_config("{skip_rows: 1}"))
    store = store_of(project)
    load = ingest_staged(project, store).loads[0]
    assert (load.status, load.rows_read, load.rows_loaded) == ("failed", 0, 0)
    assert "file's columns: R1, Ana Lima, ana@example.org." in str(load.error)


def test_xlsx_title_row_without_skip_rows_is_refused_with_the_option_to_set(
    make_project, store_of, tmp_path: Path
):
    members_book(tmp_path, [["Members export"]], "A1:C1")
    project = make_project(members_config("{}"))
    store = store_of(project)
    load = ingest_staged(project, store).loads[0]
    assert (load.status, load.rows_loaded) == ("failed", 0)
    assert "set sources.members.options.skip_rows to the number of rows above the header" in (
        str(load.error)
    )


def test_xlsx_without_header_skip_rows_counts_from_the_first_row(
    make_project, store_of, tmp_path: Path
):
    members_book(tmp_path, [["Members export"]], "A1:C1")
    config_text = members_config("{skip_rows: 2, header: false}")
    config_text = config_text.replace('"Reg #"', "column_0").replace("Email", "column_2")
    project = make_project(config_text)
    store = store_of(project)
    load = ingest_staged(project, store).loads[0]
    assert (load.rows_read, load.rows_loaded) == (5, 5)
    assert store.rows('SELECT _row_number, column_0, column_2 FROM raw."members" ORDER BY 1') == [
        (1, "R1", "ana@example.org"),
        (2, "R2", "bo@example.org"),
        (3, "R3", "cy@example.org"),
        (4, "R4", "di@example.org"),
        (5, "R5", "ed@example.org"),
    ]


def test_ragged_rows_are_quarantined_with_line_and_rest_keep_their_position(make_project, store_of):
    body = "id,first,last\n1,Anna,Müller\n2,Bob,Smith,EXTRA\n3,Zoë,Ångström\n4,Only\n5,Eve,Ng\n"
    project = make_project(config("p.csv"), {"p.csv": body})
    store = store_of(project)
    report = ingest_staged(project, store)
    load = report.loads[0]
    assert (load.rows_read, load.rows_loaded, load.rows_rejected) == (5, 3, 2)
    assert store.rows('SELECT _row_number, id FROM raw."people" ORDER BY 1') == [
        (1, "1"),
        (3, "3"),
        (5, "5"),
    ]
    rejects = store.rows(
        "SELECT row_number, error_type, raw_record FROM quar.ingest_rejects ORDER BY 1"
    )
    assert [(r[0], r[2]) for r in rejects] == [(2, "2,Bob,Smith,EXTRA"), (4, "4,Only")]
    assert all(r[1] for r in rejects)


def test_a_short_row_is_one_reject_naming_its_first_missing_column(make_project, store_of):
    """DuckDB reports a row of 2 fields under a header of 5 once per field it lacks: one
    reject says how many it has and names the first column missing."""
    body = "id,first,last,email,phone\n1,Ann,Lee,a@x.com,1\n2,Bob\n"
    project = make_project(config("p.csv"), {"p.csv": body})
    store = store_of(project)
    ingest_staged(project, store)
    rejects = store.rows("SELECT row_number, column_name, message FROM quar.ingest_rejects")
    assert rejects == [(2, "last", "2 of the header's 5 fields")]


def test_utf8_declared_file_with_latin1_bytes_quarantines_the_bad_row(make_project, store_of):
    body = "id,first,last\n1,Anna,Smith\n2,J\xe9r\xf4me,Bad\n3,Eve,Ng\n".encode("latin-1")
    project = make_project(config("p.csv"), {"p.csv": body})
    store = store_of(project)
    load = ingest_staged(project, store).loads[0]
    assert (load.rows_read, load.rows_loaded, load.rows_rejected) == (3, 2, 1)
    reason = store.scalar("SELECT error_type FROM quar.ingest_rejects")
    assert "ENCODING" in reason.upper()


def test_rows_of_a_large_csv_keep_their_place_in_the_file(make_project, store_of):
    """A file of several row groups is read on every thread into a temporary table whose row
    ids number the rows: each row's _row_number is its record's position, in every load of
    the source (the second load's row ids start where no first load's did)."""
    n = 300_000
    body = "id,first,last\n" + "".join(f"{i},F{i % 7},L{i}\n" for i in range(1, n + 1))
    project = make_project(config('"*.csv"'), {})
    (project.root / "a.csv").write_text(body, encoding="utf-8")
    store = store_of(project)
    assert ingest_staged(project, store).failures == []
    (project.root / "b.csv").write_text(body.replace(",L", ",M"), encoding="utf-8")
    assert ingest_staged(project, store).failures == []

    checks = store.rows(
        "SELECT _load_id, count(*), count(*) FILTER (WHERE CAST(id AS BIGINT) = _row_number), "
        'min(_row_number), max(_row_number) FROM raw."people" GROUP BY 1 ORDER BY 1'
    )
    assert checks == [(1, n, n, 1, n), (2, n, n, 1, n)]
    staged = store.scalar(
        "SELECT count(*) FROM stg.contacts WHERE CAST(record_id AS BIGINT) = _row_number"
    )
    assert staged == n  # the snapshot's newest file
    assert store.rows("SELECT table_name FROM duckdb_tables() WHERE temporary") == []


REPEATED = "Id,Email,Email,Email_1,City\n1,a@x.com,b@x.com,real@x.com,Berlin\n"


@pytest.mark.parametrize(
    ("mapped", "said"),
    [
        # DuckDB names the second 'Email' 'Email_1' and the header's own 'Email_1' 'Email_1_1'
        ("Email_1", "the header repeats 'Email', and the reader named its copy in column 3"),
        ("Email_1_1", "the header repeats 'Email_1', and the reader named its copy in column 4"),
        ("Email", "occurs 2 times in the header of c.csv (columns 2, 3)"),
    ],
)
def test_a_mapping_never_reads_a_column_by_a_name_the_reader_gave_it(
    make_project, store_of, mapped, said
):
    """A header that repeats a name: a mapping of the name the reader invented for the
    copy, or of a header name it had to rename, would read another column than the one
    the header names so; it is refused, and the unrepeated columns still map."""
    config = (
        "sources:\n  crm:\n    system: crm\n    object: contacts\n    path: c.csv\n"
        f"    columns: {{record_id: Id, email: {mapped}, city: City}}\n"
    )
    project = make_project(config, {"c.csv": REPEATED})
    store = store_of(project)
    (failed,) = ingest(project, store).loads
    assert failed.status == "failed" and failed.error is not None
    assert said in " ".join(failed.error.message.split())
    (project.root / "workbench.yaml").write_text(config.replace(f"email: {mapped}, ", ""))
    fixed = load_project(project.root)
    ingest_staged(fixed, store)
    assert store.rows("SELECT record_id, city FROM stg.contacts") == [("1", "Berlin")]


@pytest.mark.parametrize(("delimiter", "said"), [(";", ";"), (",", ","), ("\t", "\\t")])
def test_an_excel_sep_line_is_named_with_the_options_that_read_the_file(
    make_project, store_of, delimiter, said
):
    """Excel writes 'sep=;' above the header of a CSV saved for another locale: the refusal
    says so and gives the options; with them the file loads."""
    config = (
        "sources:\n  crm:\n    system: crm\n    object: contacts\n    path: c.csv\n{options}"
        "    columns: {{record_id: Id, email: Email, city: City}}\n"
    )
    rows = ["Id", "Email", "City"], ["1", "a@x.com", "Berlin"]
    text = f"sep={delimiter}\n" + "".join(delimiter.join(r) + "\n" for r in rows)
    project = make_project(config.format(options=""), {"c.csv": text})
    store = store_of(project)
    (failed,) = ingest(project, store).loads
    assert failed.error is not None
    assert failed.error.fix == (
        f"The file's first line is Excel's 'sep={said}', which names its delimiter, and "
        "was read as the header. Set sources.crm.options.skip_rows to 1 and "
        f"options.delimiter to '{said}'."
    )
    options = f"    options: {{skip_rows: 1, delimiter: '{said}'}}\n"
    (project.root / "workbench.yaml").write_text(config.format(options=options))
    (loaded,) = ingest(load_project(project.root), store).loads
    assert (loaded.status, loaded.rows_loaded) == ("loaded", 1)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ("id,first,last\n1,Anna,Müller\n".encode(), "has no NUL bytes"),  # UTF-8
        ("id,first,last\n1,Anna,Müller\n".encode("utf-16-be"), "big-endian"),  # no BOM
    ],
)
def test_a_file_declared_utf16_that_is_not_little_endian_utf16_is_refused_as_such(
    make_project, store_of, data, said
):
    """encoding: utf-16 on a file that is not (UTF-16 is read little-endian without a byte
    order mark) is named as the problem, not as a mapped column missing from a header of
    mojibake such as '摩攬慭汩'."""
    project = make_project(config("p.csv", options="{encoding: utf-16}"), {"p.csv": data})
    (failed,) = ingest(project, store_of(project)).loads
    assert failed.status == "failed" and failed.error is not None
    assert "p.csv is declared UTF-16" in failed.error.message and said in failed.error.message
    assert "sources.people.options.encoding" in failed.error.message


@pytest.mark.parametrize("second", ["first", "First"])
def test_a_mapped_column_repeated_in_a_sheets_header_is_refused_as_in_a_csv(
    make_project, store_of, tmp_path: Path, second
):
    """The Excel reader names a second 'first' 'first_1': the mapping silently read the first
    of the two, where a CSV with the same header is refused (and one differing in case failed
    as 'Column with name first already exists')."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["id", "first", "last", second])
    book.active.append([1, "Anna", "Meyer", "Zoe"])
    path = tmp_path / "p.xlsx"
    book.save(path)
    project = make_project(config("p.xlsx"), {"p.xlsx": path.read_bytes()})
    (failed,) = ingest(project, store_of(project)).loads
    assert failed.status == "failed" and failed.error is not None
    assert "Column 'first' (mapped to contacts.first_name) occurs 2 times" in failed.error.message
    assert "(columns 2, 4)" in failed.error.message
