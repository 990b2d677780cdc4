"""Injection safety: hostile identifiers and values, through config, data and the CLI.

Identifiers from config and files go through ``workbench.store.quote_ident``; values are
bound parameters. So a hostile name is either refused (a ConfigError naming the key) or
used literally, and a hostile value is stored literally; no other table is ever touched.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import duckdb
import pytest

from workbench.cli import main

HOSTILE_NAMES = [
    'people"; DROP TABLE raw.sentinel; --',
    "x'); DROP TABLE meta.loads; --",
    "a;b",
    "Kunden_ü",
    "UPPER",
    "_private",
    "a" * 64,
]
# columns of an export, each mapped by name in workbench.yaml
HOSTILE_COLUMNS = {
    "record_id": 'Id"; DROP TABLE raw.sentinel; --',
    "first_name": "it's; DELETE FROM meta.loads",
    "last_name": 'Ünïcödé 名前 "quoted"',
    "email": "e$1 OR 1=1",
    "company_name": "a.b",
}
HOSTILE_VALUES = [
    "'; DROP TABLE stg.contacts; --",
    'Robert"); DROP TABLE raw.sentinel;--',
    "$1",
    "x' OR '1'='1",
    "=cmd|' /C calc'!A0",
    "\\'; SELECT 1; --",
    "'; DROP TABLE x; --",  # also a configured null token: staged as NULL
]
SENTINEL = """
  sentinel:
    system: billing
    object: contacts
    path: sentinel.csv
    columns: {record_id: id}
"""


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def write(root: Path, config: str, files: dict[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "workbench.yaml").write_text(textwrap.dedent(config), encoding="utf-8")
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        names = con.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        return {
            f"{s}.{t}": sorted(map(repr, con.sql(f'SELECT * FROM "{s}"."{t}"').fetchall()))
            for s, t in names
            if f"{s}.{t}" not in skip
        }


def csv_line(*cells: str) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells) + "\n"


@pytest.fixture
def sentinel_project(tmp_path: Path, capsys) -> Path:
    """A project whose 'sentinel' source is loaded and validated: it must never change."""
    root = tmp_path / "p"
    write(root, "sources:" + SENTINEL, {"sentinel.csv": "id\n1\n2\n"})
    assert run(capsys, "ingest", "--project", str(root))[0] == 0
    assert run(capsys, "validate", "--project", str(root))[0] == 0
    return root


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_source_names_are_refused_naming_the_key(sentinel_project: Path, name, capsys):
    before = snapshot(sentinel_project)
    config = (
        "sources:"
        + SENTINEL
        + f"  {json.dumps(name)}:\n    system: crm\n    object: contacts\n"
        + "    path: sentinel.csv\n    columns: {record_id: id}\n"
    )
    write(sentinel_project, config, {})
    code, output = run(capsys, "ingest", "--project", str(sentinel_project))
    assert code == 2
    assert "sources" in output and "must be lower-case letters" in output
    assert "Traceback" not in output
    assert snapshot(sentinel_project) == before


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("dictionary", "problem"),
    [
        (
            'objects:\n  "x\\"; DROP TABLE core.contacts; --":\n    fields: {record_id: {}}\n',
            "object",
        ),
        ('objects:\n  people:\n    fields: {record_id: {}, "a\'b": {}}\n', "field"),
        ("objects:\n  people:\n    fields: {record_id: {}, _problems: {}}\n", "field"),
    ],
)
def test_hostile_dictionary_names_are_refused(tmp_path: Path, dictionary, problem, capsys):
    write(tmp_path, "dictionary: dict.yaml\nsources: {}\n", {"dict.yaml": dictionary})
    code, output = run(capsys, "ingest", "--project", str(tmp_path))
    assert code == 2
    assert f"{problem} name(s)" in output and "Traceback" not in output
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


@pytest.mark.timeout(60)
def test_control_characters_in_a_mapped_column_name_are_refused(tmp_path: Path, capsys):
    write(tmp_path, 'sources:\n  p:\n    system: crm\n    object: contacts\n    path: p.csv\n'
          '    columns: {record_id: "id\\0; DROP TABLE x"}\n', {"p.csv": "id\n1\n"})  # fmt: skip
    code, output = run(capsys, "ingest", "--project", str(tmp_path))
    assert code == 2 and "sources.p.columns.record_id.from" in output
    assert "Traceback" not in output


@pytest.mark.timeout(120)
def test_hostile_column_names_and_values_load_literally(sentinel_project: Path, capsys):
    """Columns named like SQL, values that look like SQL, and config constants, maps, null
    tokens and formats with quotes: all loaded as written; the sentinel untouched."""
    columns = [*HOSTILE_COLUMNS.values(), "when"]
    rows = [csv_line(*columns)]
    for i, value in enumerate(HOSTILE_VALUES, start=1):
        rows.append(csv_line(f"{i}{value}", value, value, value, value, "2021'03'0" + str(i)))
    mapping = "\n".join(
        f"      {field}: {json.dumps(column)}" for field, column in HOSTILE_COLUMNS.items()
    )
    config = (
        "sources:"
        + SENTINEL
        + "  crm_people:\n"
        + '    system: "crm\'; DROP TABLE raw.sentinel; --"\n'
        + "    object: contacts\n"
        + "    path: people.csv\n"
        + "    options:\n"
        + '      null_values: ["\'; DROP TABLE x; --", "NULL"]\n'
        + "      date_format: \"%Y'%m'%d\"\n"
        + "    columns:\n"
        + mapping
        + '\n      job_title: {value: "\'); DROP TABLE stg.contacts; --"}'
        + "\n      region: {from: a.b, map: {\"x' OR '1'='1\": EMEA}}"
        + "\n      created_at: {from: when}\n"
    )
    write(sentinel_project, config, {"people.csv": "".join(rows)})
    watched = ("raw.sentinel", "stg.contacts", "core.contacts")
    before = snapshot(sentinel_project)
    code, output = run(capsys, "ingest", "--project", str(sentinel_project))
    assert code == 0, output
    code, output = run(capsys, "validate", "--project", str(sentinel_project))
    assert code == 0, output
    after = snapshot(sentinel_project)
    assert after["raw.sentinel"] == before["raw.sentinel"]
    assert set(before) - set(after) == set()  # no table dropped

    warehouse = sentinel_project / "data" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw_columns = [r[0] for r in con.sql('DESCRIBE raw."crm_people"').fetchall()]
        assert set(columns) <= set(raw_columns)
        staged = con.sql(
            "SELECT record_id, first_name, last_name, email, company_name, job_title, region, "
            "_system, strftime(created_at, '%Y-%m-%d') FROM stg.contacts "
            "WHERE _source = 'crm_people' ORDER BY _row_number"
        ).fetchall()
        sentinel = con.sql(
            "SELECT count(*) FROM stg.contacts WHERE _source = 'sentinel'"
        ).fetchone()
    assert sentinel == (2,)
    assert len(staged) == len(HOSTILE_VALUES)
    for i, (row, value) in enumerate(zip(staged, HOSTILE_VALUES, strict=True), start=1):
        nulled = value == "'; DROP TABLE x; --"  # a configured null token
        expect = None if nulled else value
        assert row[0] == f"{i}{value}"
        assert row[1:5] == (expect, expect, expect, expect)
        assert row[5] == "'); DROP TABLE stg.contacts; --"
        assert row[6] == ("EMEA" if value == "x' OR '1'='1" else expect)
        assert row[7] == "crm'; DROP TABLE raw.sentinel; --"
        assert row[8] == f"2021-03-0{i}"
    assert set(watched) <= set(after)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "argv",
    [
        ["export", "golden", "--object", 'contacts"; DROP TABLE core.contacts; --'],
        ["export", "entities", "--object", "contacts' OR '1'='1"],
        ["quarantine", "show", "sentinel:1'; DROP TABLE raw.sentinel; --"],
        ["quarantine", "list", "--source", "x' OR '1'='1"],
        ["resolve", "--object", 'x"; DROP TABLE core.contacts; --'],
        ["review", "--object", "x'); DROP TABLE id.members; --"],
    ],
)
def test_hostile_cli_arguments_change_nothing(sentinel_project: Path, argv, tmp_path, capsys):
    before = snapshot(sentinel_project)
    args = [*argv, "--project", str(sentinel_project)]
    if argv[0] == "export":
        args += ["--out", str(tmp_path / "out.csv")]
    code, output = run(capsys, *args)
    assert "Traceback" not in output
    assert code in (0, 1, 2), output
    assert snapshot(sentinel_project) == before
