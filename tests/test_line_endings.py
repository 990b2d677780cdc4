"""CSV exports whose lines end in \\r\\n, \\n, \\r or a mix of them load whole and exactly.

DuckDB's strict reader takes one kind of line end per file; a file concatenated from
exports made on different systems mixes them. Every row must still load, none merged or
rejected, with no stray \\r in a value, and rejected rows must keep their true line.
"""

from __future__ import annotations

import gzip
import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from staged import ingest_staged

from workbench.ingest import csvscan
from workbench.ingest.csvscan import fix_line_ends, mixed_line_ends, scan_layout

HEADER = ("id", "first", "last")


def config(path: str = "p.csv", options: str = "") -> str:
    opts = f"\n    options: {options}" if options else ""
    return f"""
sources:
  people:
    system: crm
    object: contacts
    path: {path}{opts}
    columns:
      record_id: id
      first_name: first
      last_name: last
"""


def rows(n: int) -> list[tuple[str, str, str]]:
    return [(str(i), f"First{i}", f"Last{i}") for i in range(1, n + 1)]


def export(records: list[tuple[str, ...]], ends: list[str], delim: str = ",") -> bytes:
    """The header and records, line ``k`` (0-based, the header is 0) ending in ``ends[k]``."""
    lines = [delim.join(r) for r in [HEADER, *records]]
    return "".join(line + end for line, end in zip(lines, ends, strict=True)).encode()


def every_third(n: int, usual: str, third: str) -> list[str]:
    return [third if k % 3 == 2 else usual for k in range(n)]


@pytest.fixture(autouse=True)
def own_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary copies go to a folder of the test's own, checked empty afterwards."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == []  # every copy made for reading is removed


def loaded(store) -> list[tuple]:
    return store.rows('SELECT _row_number, id, "first", "last" FROM raw.people ORDER BY 1')


def ledger(store) -> tuple:
    return store.rows("SELECT status, rows_read, rows_loaded, rows_rejected FROM meta.loads")[0]


def assert_no_carriage_returns(store) -> None:
    stray = store.scalar(
        'SELECT count(*) FROM raw.people WHERE strpos(id || "first" || "last", chr(13)) > 0'
    )
    assert stray == 0


@pytest.mark.parametrize(
    ("usual", "third"),
    [("\r\n", "\n"), ("\n", "\r\n"), ("\r\n", "\r"), ("\r", "\n")],
    ids=["crlf-every-third-lf", "lf-every-third-crlf", "crlf-every-third-cr", "cr-and-lf"],
)
def test_mixed_line_ends_load_every_row_exactly(make_project, store_of, usual, third):
    records = rows(10)
    data = export(records, every_third(11, usual, third))
    project = make_project(config(), {"p.csv": data})
    store = store_of(project)
    load = ingest_staged(project, store).loads[0]
    assert (load.status, load.rows_read, load.rows_loaded, load.rows_rejected) == (
        "loaded",
        10,
        10,
        0,
    )
    assert ledger(store) == ("loaded", 10, 10, 0)
    assert loaded(store) == [(i, *r) for i, r in enumerate(records, start=1)]
    assert_no_carriage_returns(store)
    assert store.rows("SELECT record_id, last_name FROM stg.contacts ORDER BY 1 LIMIT 2") == [
        ("1", "Last1"),
        ("10", "Last10"),
    ]


@pytest.mark.parametrize("end", ["\r\n", "\r", "\n"], ids=["crlf", "cr-only", "lf"])
def test_one_kind_of_line_end_loads_as_before(make_project, store_of, end):
    records = rows(5)
    project = make_project(config(), {"p.csv": export(records, [end] * 6)})
    store = store_of(project)
    ingest_staged(project, store)
    assert ledger(store) == ("loaded", 5, 5, 0)
    assert loaded(store) == [(i, *r) for i, r in enumerate(records, start=1)]
    assert_no_carriage_returns(store)


def test_concatenated_exports_mixing_after_the_sniffed_sample(make_project, store_of):
    """The sniffer sees only \\r\\n; the \\n lines come after its sample (the full read fails)."""
    records = rows(30_000)
    ends = ["\r\n"] * 25_001 + ["\n"] * 5_000
    project = make_project(config(options='{delimiter: ","}'), {"p.csv": export(records, ends)})
    store = store_of(project)
    ingest_staged(project, store)
    assert ledger(store) == ("loaded", 30_000, 30_000, 0)
    assert store.rows(
        "SELECT count(*), count(DISTINCT id), min(_row_number), max(_row_number) FROM raw.people"
    ) == [(30_000, 30_000, 1, 30_000)]
    assert loaded(store)[25_000 - 1 : 25_000 + 1] == [
        (25_000, "25000", "First25000", "Last25000"),
        (25_001, "25001", "First25001", "Last25001"),
    ]
    assert_no_carriage_returns(store)


def test_gzip_export_with_mixed_line_ends(make_project, store_of):
    records = rows(9)
    packed = gzip.compress(export(records, every_third(10, "\r\n", "\n")))
    project = make_project(config("p.csv.gz"), {"p.csv.gz": packed})
    store = store_of(project)
    ingest_staged(project, store)
    assert ledger(store) == ("loaded", 9, 9, 0)
    assert loaded(store) == [(i, *r) for i, r in enumerate(records, start=1)]
    assert_no_carriage_returns(store)


def test_tsv_and_utf16_with_mixed_line_ends(make_project, store_of):
    records = rows(6)
    tsv = export(records, every_third(7, "\r\n", "\n"), delim="\t")
    utf16 = tsv.decode().encode("utf-16")  # with its byte order mark
    project = make_project(config("p.tsv"), {"p.tsv": utf16})
    store = store_of(project)
    ingest_staged(project, store)
    assert ledger(store) == ("loaded", 6, 6, 0)
    assert loaded(store) == [(i, *r) for i, r in enumerate(records, start=1)]


def test_line_breaks_inside_quoted_values_are_kept_as_written(make_project, store_of):
    data = (
        b"id,first,last\r\n"
        b'1,"Anna\r\nMaria",M\xc3\xbcller\n'
        b'2,"Bob\nJr",Smith\r\n'
        b'3,Zo\xc3\xab,"Line\rbreak"\r'
        b'4,"Say ""hi""\nthere",Ng\r\n'
    )
    project = make_project(config(), {"p.csv": data})
    store = store_of(project)
    ingest_staged(project, store)
    assert ledger(store) == ("loaded", 4, 4, 0)
    assert loaded(store) == [
        (1, "1", "Anna\r\nMaria", "Müller"),
        (2, "2", "Bob\nJr", "Smith"),
        (3, "3", "Zoë", "Line\rbreak"),
        (4, "4", 'Say "hi"\nthere', "Ng"),
    ]


def test_ragged_rows_in_a_mixed_file_keep_their_record_and_line(make_project, store_of):
    data = (
        b"id,first,last\r\n"
        b'1,"Anna\nMaria",Muller\n'  # lines 2-3
        b"2,Bob,Smith,EXTRA\r\n"  # line 4, record 2
        b"3,Zoe,Ng\r"
        b"4,Only\n"  # line 6, record 4
        b"5,Eve,Lee\r\n"
    )
    project = make_project(config(), {"p.csv": data})
    store = store_of(project)
    ingest_staged(project, store)
    assert ledger(store) == ("loaded", 5, 3, 2)
    assert loaded(store) == [
        (1, "1", "Anna\nMaria", "Muller"),
        (3, "3", "Zoe", "Ng"),
        (5, "5", "Eve", "Lee"),
    ]
    assert store.rows(
        "SELECT row_number, line, raw_record FROM quar.ingest_rejects ORDER BY 1"
    ) == [(2, 4, "2,Bob,Smith,EXTRA"), (4, 6, "4,Only")]
    assert_no_carriage_returns(store)


def test_crlf_file_with_line_breaks_only_in_quoted_values_is_read_as_it_is(make_project, store_of):
    """Its bytes mix \\r\\n and \\n, its records do not: no copy is needed, rejects still work."""
    data = (
        b"id,first,last\r\n"
        b'1,"Anna\nMaria",Muller\r\n'
        b"2,Bob\r\n"  # line 4, record 2
        b'3,"Say ""x""\ny",Ng\r\n'
        b"4,Eve,Lee,EXTRA\r\n"  # line 7, record 4
    )
    project = make_project(config(), {"p.csv": data})
    store = store_of(project)
    ingest_staged(project, store)
    assert ledger(store) == ("loaded", 4, 2, 2)
    assert loaded(store) == [(1, "1", "Anna\nMaria", "Muller"), (3, "3", 'Say "x"\ny', "Ng")]
    assert store.rows("SELECT row_number, line FROM quar.ingest_rejects ORDER BY 1") == [
        (2, 4),
        (4, 7),
    ]


def test_unclosed_quote_in_a_mixed_file_is_refused_with_its_line(make_project, store_of):
    data = b'id,first,last\r\n1,Anna,M\n2,"Bob,Smith\r\n3,Eve,Ng\n'
    project = make_project(config(), {"p.csv": data})
    store = store_of(project)
    load = ingest_staged(project, store).loads[0]
    assert load.status == "failed"
    assert "starts on line 3 and is never closed" in load.error.message
    assert load.error.where.endswith("p.csv, line 3")
    assert not store.table_exists("raw", "people")


def test_fix_line_ends_copies_only_record_ends(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b'a;b\r\n"x\r\ny";"p""\rq"\nz;\\"w\r\r\n')
    out = tmp_path / "out.csv"
    assert mixed_line_ends(source, gzip=False, encoding="utf-8")
    assert fix_line_ends(source, out, gzip=False, delimiter=";", quote='"', escape='"')
    assert out.read_bytes() == b'a;b\n"x\r\ny";"p""\rq"\nz;\\"w\n\n'
    out.unlink()
    # with a backslash escape, \" does not end the value
    source.write_bytes(b'a,b\r\n"x\\"\ny",1\n')
    assert fix_line_ends(source, out, gzip=False, delimiter=",", quote='"', escape="\\")
    assert out.read_bytes() == b'a,b\n"x\\"\ny",1\n'


def test_line_end_checks_across_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(csvscan, "CHUNK_BYTES", 4)  # \r\n and "" split between chunks
    source = tmp_path / "in.csv"
    source.write_bytes(b'ab\r\ncd\r\n"e""\nf"\r\ng\r\n')
    assert mixed_line_ends(source, gzip=False, encoding="utf-8")  # the quoted \n counts here
    out = tmp_path / "out.csv"
    assert not fix_line_ends(source, out, gzip=False, delimiter=",", quote='"', escape='"')
    assert out.read_bytes() == b'ab\ncd\n"e""\nf"\ng\n'
    source.write_bytes(b"ab\r\ncd\r\nef\ngh\r\n")
    assert mixed_line_ends(source, gzip=False, encoding="utf-8")
    source.write_bytes(b"ab\r\ncd\r\nef\r\ngh\r\n")
    assert not mixed_line_ends(source, gzip=False, encoding="utf-8")


def test_escaped_quote_before_a_line_break_stays_in_the_value(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text('id,v\n1,"a""b\nc"\n2,x\n')
    layout = scan_layout(
        source,
        gzip=False,
        encoding="utf-8",
        delimiter=",",
        quote='"',
        escape='"',
        skip_rows=0,
        header=True,
    )
    assert (list(layout.starts), list(layout.records)) == ([1, 2, 4], [0, 1, 2])
    assert layout.open_quote_line is None


def _reference(data: bytes) -> tuple[bytes, set[bytes]]:
    """Byte by byte: record ends outside quoted values made \\n (quote '"', its own escape)."""
    out, kinds = bytearray(), set()
    in_quote = closed = False
    before = b"\n"
    i = 0
    while i < len(data):
        char = data[i : i + 1]
        was_closed, closed = closed, False
        if in_quote:
            in_quote = char != b'"'
            closed = not in_quote
            out += char
        elif char == b'"' and (before in (b",", b"\r", b"\n") or was_closed):
            in_quote = True
            out += char
        elif char == b"\r":
            kind = b"\r\n" if data[i + 1 : i + 2] == b"\n" else b"\r"
            kinds.add(kind)
            out += b"\n"
            i += len(kind) - 1
            char = b"\n"
        else:
            if char == b"\n":
                kinds.add(b"\n")
            out += char
        before = char
        i += 1
    return bytes(out), kinds


@settings(max_examples=400, deadline=None)
@given(
    data=st.lists(st.sampled_from([b"a", b",", b'"', b"\r", b"\n", b"\r\n"]), max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=6),
    walk=st.booleans(),
)
def test_line_end_fixer_agrees_with_a_byte_by_byte_reading(data, cuts, walk):
    raw = b"".join(data)
    edges = sorted({0, len(raw), *(c for c in cuts if c <= len(raw))})
    chunks = [raw[a:b] for a, b in itertools.pairwise(edges)]
    fixer = csvscan._LineEndFixer(",", '"', '"')
    convert = fixer._convert_walk if walk else fixer.convert
    out = b"".join(convert(c) for c in csvscan._whole_line_ends(iter(chunks)))
    expected, kinds = _reference(raw)
    assert out == expected
    assert fixer.kinds <= kinds  # counting stops once two kinds are seen
    assert (len(fixer.kinds) > 1) == (len(kinds) > 1)
