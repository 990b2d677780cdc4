"""Hostile JSON, NDJSON and Excel exports: bounded memory, then a clear refusal or a load.

* an NDJSON line far over the record bound (plain and gzipped) is set aside with its line
  and the bound, without being held whole; the other lines load;
* records nested thousands of levels deep: the NDJSON line is set aside, the JSON array
  file refused with one message; never a RecursionError or a crash, and the sources after
  them in the same run still load;
* objects with more than 200 keys (at the top and nested) load as columns, like narrow
  ones, and ``dictionary infer`` lists them all; a nested map of thousands of keys loads
  as one column of JSON text, and records wider than the column bound are refused;
* an .xlsx zip bomb (shared strings inflating to 2 GiB from a few MB, declared honestly
  or not) is refused before the Excel reader inflates it; a normal workbook still loads.

Memory is measured on the real CLI in a subprocess (its peak RSS from ``os.wait4``).
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import duckdb
import pytest

from workbench.bench.peak import run_with_peak
from workbench.dictionary_infer import infer_section
from workbench.errors import IngestError
from workbench.ingest import ingest
from workbench.ingest.jsonscan import MAX_COLUMNS, MAX_DEPTH, MAX_KEYS, MAX_RECORD_BYTES
from workbench.ingest.xlsx_guard import MAX_INFLATED_BYTES, MAX_PARTS, MAX_RATIO, check_workbook
from workbench.store import quote_ident

# The CLI alone peaks at about 250 MB (DuckDB, polars, numpy imported). Reading within the
# bounds holds one record of at most 32 MiB a few times; the hostile inputs below are
# 384 MiB (one NDJSON line) and 2 GiB (inflated shared strings), so holding either whole
# even once would cross this line (the line alone: 250 + 384 > 600).
PEAK_LIMIT_MB = 600
BIG_LINE_BYTES = 12 * MAX_RECORD_BYTES


# -- running the CLI -----------------------------------------------------------------------
def write_project(root: Path, sources: dict[str, str]) -> Path:
    """A project whose sources (name -> file under exports/) all map ``id``."""
    (root / "exports").mkdir(parents=True, exist_ok=True)
    text = "sources:\n"
    for name, file in sources.items():
        text += (
            f"  {name}:\n    system: crm\n    object: contacts\n    path: exports/{file}\n"
            "    columns:\n      record_id: id\n"
        )
    (root / "workbench.yaml").write_text(text)
    return root


def run_cli(tmp_path: Path, *args: str) -> tuple[int, str, float]:
    """Run ``workbench ARGS``; returns exit code, stdout + stderr, and its own peak RSS in MB."""
    out_path = tmp_path / "cli.out"
    with out_path.open("wb") as out:
        code, peak = run_with_peak(
            [sys.executable, "-m", "workbench.cli", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )
    return code, out_path.read_text(errors="replace"), peak


def ledger(root: Path) -> dict[str, tuple]:
    """source -> (status, rows_read, rows_loaded, rows_rejected, error) of its last load."""
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql(
            "SELECT source, status, rows_read, rows_loaded, rows_rejected, error "
            "FROM meta.loads ORDER BY load_id"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def query(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def oneline(text: str) -> str:
    return " ".join(text.split())


# -- 1. an NDJSON line far over the bound --------------------------------------------------
BIG_HEAD = b'{"id": "3", "name": "'


def write_big_line_ndjson(path: Path, *, gz: bool) -> int:
    """Lines 1, 2 and 4 are records; line 3 is BIG_LINE_BYTES of text in one record, written
    in 1 MiB pieces. Returns the length of line 3."""
    pad = b"x" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=1) if gz else path.open("wb") as out:
        out.write(b'{"id": "1", "name": "Anna"}\n{"id": "2", "name": "Bob"}\n')
        out.write(BIG_HEAD)
        for _ in range(BIG_LINE_BYTES // len(pad)):
            out.write(pad)
        out.write(b'"}\n{"id": "4", "name": "Dora"}\n')
    return len(BIG_HEAD) + BIG_LINE_BYTES + len(b'"}')


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["people.ndjson", "people.ndjson.gz"])
def test_ndjson_line_over_the_bound_is_set_aside_in_bounded_memory(
    tmp_path: Path, name: str
) -> None:
    root = write_project(tmp_path / "p", {"people": name, "later": "later.ndjson"})
    length = write_big_line_ndjson(root / "exports" / name, gz=name.endswith(".gz"))
    (root / "exports" / "later.ndjson").write_text('{"id": "9"}\n')

    code, output, peak = run_cli(tmp_path, "ingest", "--project", str(root))

    assert code == 0, output
    assert "Traceback" not in output
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak:.0f} MB"
    loads = ledger(root)
    assert loads["people"][:4] == ("loaded", 4, 3, 1)  # rows_read = loaded + rejected
    assert loads["later"][:4] == ("loaded", 1, 1, 0)
    rejects = query(
        root, "SELECT row_number, line, error_type, raw_record, message FROM quar.ingest_rejects"
    )
    assert len(rejects) == 1
    row_number, line, kind, raw, message = rejects[0]
    assert (row_number, line, kind) == (3, 3, "RECORD TOO LARGE")
    assert f"{length:,} bytes" in message and "32 MiB" in message
    assert raw.startswith(BIG_HEAD.decode()) and len(raw) < 2_000  # a preview, not the line
    loaded = query(root, "SELECT _row_number, id, name FROM raw.people ORDER BY _row_number")
    assert loaded == [(1, "1", "Anna"), (2, "2", "Bob"), (4, "4", "Dora")]


def test_json_array_record_over_the_bound_is_refused(make_project, store_of, tmp_path) -> None:
    with (tmp_path / "people.json").open("w") as out:
        out.write('[{"id": "1"},\n{"id": "2", "note": "')
        for _ in range(BIG_LINE_BYTES // (1 << 20)):
            out.write("x" * (1 << 20))
        out.write('"},\n{"id": "3"}]')
    project = make_project(
        "sources:\n  people:\n    system: crm\n    object: contacts\n    path: people.json\n"
        "    columns:\n      record_id: id\n"
    )
    report = ingest(project, store_of(project))
    (result,) = report.loads
    assert result.status == "failed" and result.error is not None
    assert result.error.what.startswith(
        "people.json cannot be read as JSON: a record (on line 2) is more than "
    )
    assert result.error.what.endswith(
        "bytes long; Workbench reads records of up to 32 MiB (33,554,432 bytes)."
    )


# -- 2. records nested too deep ---------------------------------------------------------------
def nested(levels: int, *, arrays: bool = False) -> str:
    """A value ``levels`` levels of objects (or arrays) deep, around the number 1."""
    if arrays:
        return "[" * levels + "1" + "]" * levels
    return '{"a":' * levels + "1" + "}" * levels


def record(i: int, levels: int) -> str:
    """A record nested ``levels`` levels in all (the record itself is the first)."""
    return f'{{"id": "{i}", "x": {nested(levels - 1)}}}'


def test_deep_records_never_crash_and_later_sources_load(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p",
        {
            "deep": "deep.json",
            "deeper": "deeper.json",
            "deepnd": "deep.ndjson",
            "later": "later.ndjson",
        },
    )
    exports = root / "exports"
    # 10,000 levels: Python's parser raises RecursionError; 200,000: DuckDB crashes
    (exports / "deep.json").write_text(f'[{{"id": "1"}}, {record(2, 10_000)}, {{"id": "3"}}]')
    (exports / "deeper.json").write_text(f'[{{"id": "1", "x": {nested(200_000, arrays=True)}}}]')
    in_text = "[" * 200  # brackets inside a string are text, not nesting
    lines = [
        '{"id": "1"}',
        record(2, 10_000),
        record(3, MAX_DEPTH),  # at the bound: loads
        record(4, MAX_DEPTH + 1),
        json.dumps({"id": "5", "note": in_text}),
        f'{{"id": "6", "x": {nested(200_000, arrays=True)}}}',
        '{"id": "7"}',
    ]
    (exports / "deep.ndjson").write_text("\n".join(lines) + "\n")
    (exports / "later.ndjson").write_text('{"id": "9"}\n')

    code, output, _ = run_cli(tmp_path, "ingest", "--project", str(root))

    assert code == 3, output  # some files were refused
    assert "Traceback" not in output and "RecursionError" not in output
    loads = ledger(root)
    for name in ("deep.json", "deeper.json"):
        source = name.removesuffix(".json")
        status, error = loads[source][0], oneline(loads[source][4])
        assert status == "failed"
        assert error.startswith(f"{name} cannot be read as JSON: a record (on line 1) is nested ")
        assert f"more than {MAX_DEPTH} levels deep" in error
    assert oneline(output).count("Error:") == 2  # one message per refused file
    assert loads["deepnd"][:4] == ("loaded", 7, 4, 3)
    assert loads["later"][:4] == ("loaded", 1, 1, 0)
    rejects = query(
        root,
        "SELECT row_number, line, error_type, message FROM quar.ingest_rejects "
        "WHERE source = 'deepnd' ORDER BY row_number",
    )
    assert [r[:3] for r in rejects] == [
        (2, 2, "NESTED TOO DEEP"),
        (4, 4, "NESTED TOO DEEP"),
        (6, 6, "NESTED TOO DEEP"),
    ]
    assert all(f"more than {MAX_DEPTH} levels" in r[3] for r in rejects)
    kept = query(root, 'SELECT _row_number, id, note FROM raw."deepnd" ORDER BY _row_number')
    assert kept == [(1, "1", None), (3, "3", None), (5, "5", in_text), (7, "7", None)]
    leaf = "x" + ".a" * (MAX_DEPTH - 1)  # the deepest column of record 3: its 64th level
    assert query(root, f'SELECT "{leaf}" FROM raw."deepnd" WHERE id = \'3\'') == [("1",)]


# -- 3. objects with more than 200 keys ---------------------------------------------------------
KEYS = 250


def wide_records() -> list[dict]:
    return [
        {
            "id": str(i),
            **{f"k{j}": f"v{i}-{j}" for j in range(KEYS)},
            "properties": {f"p{j}": i * 1000 + j for j in range(KEYS)},
        }
        for i in range(1, 4)
    ]


def sparse_records() -> list[dict]:
    """30 records, each with 5 keys of its own (DuckDB would make every record one MAP)."""
    return [{"id": str(i), **{f"s{i}_{j}": f"w{i}.{j}" for j in range(5)}} for i in range(30)]


def expected_cells(records: list[dict]) -> dict[str, list[str | None]]:
    """column -> its text per record, nested objects flattened as ``properties.p0``."""
    flat = []
    for r in records:
        row = {k: v for k, v in r.items() if not isinstance(v, dict)}
        for key, inner in r.items():
            if isinstance(inner, dict):
                row.update({f"{key}.{k}": str(v) for k, v in inner.items()})
        flat.append(row)
    columns = dict.fromkeys(c for row in flat for c in row)
    return {c: [row.get(c) for row in flat] for c in columns}


def load_json(make_project, store_of, file: str, records: list[dict]):
    """Ingest ``records`` written as ``file`` (JSON array or NDJSON); returns (result, store)."""
    if file.endswith(".ndjson"):
        content = "".join(json.dumps(r) + "\n" for r in records)
    else:
        content = json.dumps(records)
    project = make_project(
        f"sources:\n  people:\n    system: crm\n    object: contacts\n    path: {file}\n"
        "    columns:\n      record_id: id\n",
        {file: content},
    )
    store = store_of(project)
    (result,) = ingest(project, store).loads
    return result, store


@pytest.mark.parametrize(
    ("file", "records"),
    [
        ("wide.json", wide_records()),
        ("wide.ndjson", wide_records()),
        ("sparse.ndjson", sparse_records()),
    ],
)
def test_objects_with_many_keys_load_as_columns(
    make_project, store_of, file: str, records: list[dict]
) -> None:
    result, store = load_json(make_project, store_of, file, records)
    assert result.status == "loaded", result.message
    want = expected_cells(records)
    got = store.rows(
        f"SELECT {', '.join(quote_ident(c) for c in want)} FROM raw.people ORDER BY _row_number"
    )
    assert len(got) == len(records)
    for position, column in enumerate(want):
        assert [row[position] for row in got] == want[column], column


def test_records_with_more_keys_than_columns_are_refused(make_project, store_of) -> None:
    """Each record with keys of its own: 4,401 different keys in all (a map at the top)."""
    records = [{"id": str(i), **{f"u{i}_{j}": "v" for j in range(4)}} for i in range(1100)]
    result, _ = load_json(make_project, store_of, "keys.ndjson", records)
    assert result.status == "failed" and result.error is not None
    assert result.error.what == (
        f"keys.ndjson cannot be read as JSON: its records have more than {MAX_KEYS:,} distinct "
        f"keys; Workbench loads at most {MAX_COLUMNS:,} columns per export."
    )


def test_too_many_columns_in_all_are_refused(make_project, store_of) -> None:
    half = 2100  # keys at the top and as many under "properties": each under the bound
    inner = {f"p{j}": j for j in range(half)}
    records = [{"id": "1", **{f"k{j}": "v" for j in range(half)}, "properties": inner}]
    result, _ = load_json(make_project, store_of, "wide.json", records)
    assert result.status == "failed" and result.error is not None
    columns = 1 + half + 1 + half  # id, k*, properties (as JSON text), properties.p*
    assert f"its records have {columns:,} columns (nested keys included)" in result.error.what


def test_nested_map_with_more_keys_loads_as_json_text(make_project, store_of) -> None:
    """Custom fields keyed by id: 5,500 different keys under one field stay one column."""
    records = [{"id": str(i), "custom": {f"cf_{i}_{j}": j for j in range(5)}} for i in range(1100)]
    result, store = load_json(make_project, store_of, "people.ndjson", records)
    assert result.status == "loaded", result.message
    assert [c for c in store.columns("raw", "people") if not c.startswith("_")] == [
        "id",
        "custom",
    ]
    got = store.rows('SELECT id, custom FROM raw."people" ORDER BY _row_number')
    assert [(i, json.loads(text)) for i, text in got] == [(r["id"], r["custom"]) for r in records]


def test_dictionary_infer_keeps_every_key(tmp_path: Path) -> None:
    path = tmp_path / "wide.json"
    path.write_text(json.dumps(wide_records()))
    draft = infer_section(path, "contacts")
    mapped = {line.split(": ", 1)[1] for line in draft.splitlines() if line.startswith("#   ")}
    assert {f"k{j}" for j in range(KEYS)} <= mapped
    assert {f"properties.p{j}" for j in range(KEYS)} <= mapped


def test_dictionary_infer_refuses_deep_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.ndjson"
    path.write_text('{"id": "1"}\n' + record(2, 200_000) + "\n")
    code, output, _ = run_cli(tmp_path, "dictionary", "infer", str(path), "--object", "contacts")
    assert code == 3, output  # not a crash (DuckDB's is a segmentation fault, -11)
    message = oneline(output)
    assert message.count("Error:") == 1 and "Traceback" not in message
    assert f"deep.ndjson: the record is nested more than {MAX_DEPTH} levels deep" in message
    assert "(line 2)" in message


# -- 4. Excel workbooks: zip bombs ---------------------------------------------------------------
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_RELS_NS = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def workbook_parts(rows: list[list[str]]) -> dict[str, bytes]:
    """The XML parts of a one-sheet workbook whose cells are shared strings."""
    strings: dict[str, int] = {}
    cells = []
    for r, row in enumerate(rows, start=1):
        refs = []
        for c, value in enumerate(row):
            index = strings.setdefault(value, len(strings))
            refs.append(f'<c r="{chr(65 + c)}{r}" t="s"><v>{index}</v></c>')
        cells.append(f'<row r="{r}">{"".join(refs)}</row>')
    ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    sst = "".join(f"<si><t>{s}</t></si>" for s in strings)
    parts = {
        "[Content_Types].xml": (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ctype}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{ctype}.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{ctype}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'{_XML}<Relationships {_RELS_NS}><Relationship Id="rId1" '
            f'Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'{_XML}<workbook {_NS} xmlns:r="{_DOC_REL}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f"{_XML}<Relationships {_RELS_NS}>"
            f'<Relationship Id="rId1" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": f"{_XML}<worksheet {_NS}><sheetData>{''.join(cells)}"
        "</sheetData></worksheet>",
        "xl/sharedStrings.xml": f'{_XML}<sst {_NS} count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">{sst}</sst>',
    }
    return {name: text.encode() for name, text in parts.items()}


def write_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> None:
    """A ZIP archive of (name, raw deflate data, CRC-32, declared inflated size) members,
    written by hand so that a member's data and declared size can be anything."""
    central = []
    with path.open("wb") as out:
        for name, data, crc, size in members:
            offset, encoded = out.tell(), name.encode()
            sizes = (crc, len(data), size, len(encoded))
            # version 2.0, no flags, deflate, a fixed time and date; CRC, sizes, name length
            local = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0x21, *sizes, 0)
            out.write(b"PK\x03\x04" + local + encoded + data)
            entry = struct.pack(
                "<HHHHHHIIIHHHHHII", 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0, offset
            )
            central.append(b"PK\x01\x02" + entry + encoded)
        start, directory = out.tell(), b"".join(central)
        count = len(central)
        out.write(directory)
        out.write(
            b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(directory), start, 0)
        )


def deflated(data: bytes) -> tuple[bytes, int, int]:
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush(), zlib.crc32(data), len(data)


BOMB_BYTES = 2 * 1024**3  # what the shared strings inflate to
_UNIT = b"<si><t>" + b"A" * 1000 + b"</t></si>"
UNIT = _UNIT * ((1 << 20) // len(_UNIT))  # about 1 MiB of shared strings


def repeated(head: bytes, unit: bytes, copies: int, tail: bytes) -> tuple[bytes, int, int]:
    """Raw deflate data, CRC-32 and size of ``head + unit * copies + tail``, made without
    holding or compressing the whole: ``unit`` is compressed once after a full flush (so its
    block refers to nothing before it) and the block is repeated."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(unit) + co.flush(zlib.Z_FULL_FLUSH)
    end = co.compress(tail) + co.flush()
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    return first + block * copies + end, crc, len(head) + copies * len(unit) + len(tail)


def write_bomb(path: Path, *, declared: int | None = None) -> int:
    """A workbook whose shared strings inflate to about BOMB_BYTES from a few MB.

    ``declared`` is the inflated size the archive states for them (the true one if None).
    Returns the true inflated size.
    """
    head = _XML.encode() + f"<sst {_NS}>".encode()
    data, crc, size = repeated(head, UNIT, BOMB_BYTES // len(UNIT), b"</sst>")
    parts = workbook_parts([["id", "name"], ["1", "Anna"]])
    members = [(name, *deflated(body)) for name, body in parts.items()]
    members = [m for m in members if m[0] != "xl/sharedStrings.xml"]
    members.append(("xl/sharedStrings.xml", data, crc, declared if declared else size))
    write_zip(path, members)
    return size


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    honest, lying = folder / "honest.xlsx", folder / "lying.xlsx"
    size = write_bomb(honest)
    write_bomb(lying, declared=1 << 20)
    # the bombs are real: the shared strings part reads as XML, and is as big as stated
    for path, declared in ((honest, size), (lying, 1 << 20)):
        assert path.stat().st_size < 10 * 1024**2
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("xl/sharedStrings.xml")
            assert info.file_size == declared
            with archive.open(info) as part:
                first = part.read(1 << 16)  # less than either declares
        assert first.startswith(_XML.encode()) and b"<si><t>AAAA" in first
    assert size > BOMB_BYTES * 0.99
    return {"honest": honest, "lying": lying}


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("honest", "its parts inflate to more than 512 MiB (xl/sharedStrings.xml alone declares"),
        ("lying", "its part xl/sharedStrings.xml inflates to more than the 1,048,576 bytes"),
    ],
)
def test_xlsx_zip_bomb_is_refused_in_bounded_memory(
    tmp_path: Path, bombs: dict[str, Path], kind: str, reason: str
) -> None:
    root = write_project(tmp_path / "p", {"sheet": "book.xlsx", "later": "later.ndjson"})
    (root / "exports" / "book.xlsx").write_bytes(bombs[kind].read_bytes())
    (root / "exports" / "later.ndjson").write_text('{"id": "9"}\n')

    code, output, peak = run_cli(tmp_path, "ingest", "--project", str(root))

    assert code == 3, output
    assert "Traceback" not in output
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak:.0f} MB"
    message = oneline(output)
    assert message.count("Error:") == 1
    assert f"book.xlsx is refused as an Excel workbook: {reason}" in message
    assert "Fix: Export the data as CSV" in message
    loads = ledger(root)
    assert loads["sheet"][0] == "failed" and reason in oneline(loads["sheet"][4])
    assert loads["later"][:4] == ("loaded", 1, 1, 0)


def test_xlsx_part_inflating_too_many_times_is_refused(tmp_path: Path) -> None:
    """Under the size bound, but 300 MiB from about 0.3 MB: a zip bomb's ratio."""
    parts = {name: deflated(body) for name, body in workbook_parts([["id"], ["1"]]).items()}
    sheet = repeated(_XML.encode(), b"<c>0</c>" * (1 << 17), 300, b"")
    parts["xl/worksheets/sheet2.xml"] = sheet
    assert sheet[2] < MAX_INFLATED_BYTES and sheet[2] / len(sheet[0]) > 2 * MAX_RATIO
    path = tmp_path / "ratio.xlsx"
    write_zip(path, [(name, *member) for name, member in parts.items()])
    with pytest.raises(IngestError, match=r"sheet2\.xml inflates [\d,]+ times"):
        check_workbook(path)


def test_xlsx_with_too_many_parts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(MAX_PARTS + 1):
            archive.writestr(f"xl/media/p{n}.xml", b"")
    with pytest.raises(IngestError, match=f"lists {MAX_PARTS + 1:,} parts"):
        check_workbook(path)


def test_dictionary_infer_refuses_a_zip_bomb(bombs: dict[str, Path]) -> None:
    with pytest.raises(IngestError, match="refused as an Excel workbook"):
        infer_section(bombs["honest"], "contacts")


def test_normal_xlsx_still_loads(make_project, store_of, tmp_path: Path) -> None:
    rows = [["id", "name"], ["1", "Anna"], ["2", "Zoë Ångström"], ["3", "Bob"]]
    parts = workbook_parts(rows)
    assert sum(len(v) for v in parts.values()) < MAX_INFLATED_BYTES
    with zipfile.ZipFile(tmp_path / "people.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    project = make_project(
        "sources:\n  people:\n    system: crm\n    object: contacts\n    path: people.xlsx\n"
        "    columns:\n      record_id: id\n"
    )
    store = store_of(project)
    report = ingest(project, store)
    assert [r.status for r in report.loads] == ["loaded"], report.loads[0].message
    got = store.rows("SELECT _row_number, id, name FROM raw.people ORDER BY _row_number")
    assert got == [(i, *row) for i, row in enumerate(rows[1:], start=1)]
