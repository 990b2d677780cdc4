"""Config files users write are read strictly (issue 19, item 8).

- A config that is not UTF-8 is one ConfigError naming the file, line and column.
- A key written twice in one mapping is refused (YAML would keep the last one silently).
- A KPI's ``measure`` and ``where`` are SQL expressions over the object's columns: a
  subquery, a table function, a second statement or a sequence is refused before anything
  runs, and no file is written by it.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import duckdb
import pytest

from workbench.cli import main

DICTIONARY = """
objects:
  tickets:
    fields:
      record_id: {type: text, required: true, unique: true}
      status: {type: text, required: true}
      created_at: {type: timestamp, required: true}
      first_response_at: {type: timestamp}
"""
CONFIG = """
name: safety
dictionary: dictionary.yaml
sources:
  desk:
    system: support
    object: tickets
    path: tickets.csv
    columns: {{record_id: id, status: st, created_at: created, first_response_at: first}}
{extra}
"""
TICKETS = (
    "id,st,created,first\n"
    "T1,solved,2026-03-03T09:00:00Z,2026-03-03T10:30:00Z\n"
    "T2,open,2026-03-20T14:00:00Z,2026-03-20T18:00:00Z\n"
    "T3,solved,2026-04-11T08:15:00Z,2026-04-11T08:45:00Z\n"
)


def write(root: Path, extra: str = "", *, config: bytes | None = None) -> Path:
    (root / "dictionary.yaml").write_text(textwrap.dedent(DICTIONARY))
    (root / "tickets.csv").write_text(TICKETS)
    text = textwrap.dedent(CONFIG).format(extra=textwrap.dedent(extra))
    (root / "workbench.yaml").write_bytes(config if config is not None else text.encode())
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_config_that_is_not_utf8_names_the_byte(tmp_path: Path, capsys) -> None:
    text = textwrap.dedent(CONFIG).format(extra="").replace("name: safety", "name: caf\xe9")
    write(tmp_path, config=text.encode("latin-1"))
    code, output = run(capsys, "ingest", "--project", str(tmp_path))
    assert code == 2  # a ConfigError
    assert "not UTF-8" in output and "0xe9" in output
    assert "line 2, column 10" in output  # "name: caf" is 9 characters, then the byte
    assert "Traceback" not in output


def test_a_utf8_config_with_a_bom_is_read(tmp_path: Path, capsys) -> None:
    text = textwrap.dedent(CONFIG).format(extra="").replace("name: safety", "name: café")
    write(tmp_path, config=b"\xef\xbb\xbf" + text.encode())
    code, output = run(capsys, "ingest", "--project", str(tmp_path))
    assert code == 0, output


@pytest.mark.parametrize(
    ("file", "text", "line"),
    [
        ("workbench.yaml", "name: one\nname: two\n", 2),
        ("dictionary.yaml", None, 7),
    ],
)
def test_a_key_written_twice_is_refused(
    tmp_path: Path, capsys, file: str, text: str | None, line: int
) -> None:
    write(tmp_path)
    path = tmp_path / file
    if text is not None:
        base = path.read_text().replace("name: safety\n", "")
        path.write_text(text + base)
    else:  # a status inserted before the one at line 6, which moves to line 7
        lines = path.read_text().splitlines()
        lines.insert(4, "      status: {type: integer}")
        path.write_text("\n".join(lines) + "\n")
    code, output = run(capsys, "ingest", "--project", str(tmp_path))
    assert code == 2  # a ConfigError
    assert "appears twice" in output
    assert f"{file}, line {line}" in output
    assert "Traceback" not in output


KPI = """
kpi:
  definitions:
    answered:
      title: Answered tickets
      direction: up
      object: tickets
      time: created_at
      stat: rate
      measure: {measure}
      where: {where}
"""


def kpi_project(tmp_path: Path, measure: str, where: str = "status IS NOT NULL") -> Path:
    import json

    extra = KPI.format(measure=json.dumps(measure), where=json.dumps(where))
    return write(tmp_path, extra)


def test_a_plain_expression_is_a_kpi(tmp_path: Path, capsys) -> None:
    root = kpi_project(tmp_path, "first_response_at IS NOT NULL AND status = 'solved'")
    assert run(capsys, "ingest", "--project", str(root))[0] == 0
    assert run(capsys, "validate", "--project", str(root))[0] == 0
    code, output = run(capsys, "kpi", "--project", str(root), "--period", "2026-03")
    assert code == 0, output
    # 2026-03: T1 solved and answered, T2 answered but open -> 1 of 2
    assert re.search(r"answered\W+2026-03\W+0\.5\b", output), output


@pytest.mark.parametrize(
    ("key", "text", "why"),
    [
        ("measure", "(SELECT count(*) FROM read_csv('{secret}'))", "subquery"),
        ("measure", "1) FROM read_csv('{secret}') --", "beyond a single expression"),
        ("where", "true); COPY (SELECT 42) TO '{out}' (FORMAT csv); SELECT (1", "does not parse"),
        ("where", "record_id IN (SELECT record_id FROM core.tickets)", "subquery"),
        ("measure", "nextval('meta.seq')", "nextval()"),
        ("measure", "sum(status = 'solved') OVER ()", "window function"),
        ("where", "secret_column = 1", "'secret_column' is not a field"),
    ],
)
def test_a_kpi_expression_reaching_beyond_its_object_is_refused(
    tmp_path: Path, capsys, key: str, text: str, why: str
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    out = tmp_path / "written.csv"
    text = text.format(secret=secret, out=out)
    measure, where = (text, "status IS NOT NULL") if key == "measure" else ("1", text)
    root = kpi_project(tmp_path, measure, where)
    assert run(capsys, "ingest", "--project", str(root))[0] == 0
    assert run(capsys, "validate", "--project", str(root))[0] == 0
    code, output = run(capsys, "kpi", "--project", str(root))
    assert code == 2  # a ConfigError
    assert f"kpi.definitions.answered.{key}" in output
    assert why in output
    assert "Traceback" not in output
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("pg_get_viewdef(1) IS NULL", "pg_get_viewdef()"),  # a macro over the catalog
        ("sleep_ms(100000) IS NULL", "sleep_ms()"),
        ("length(repeat('x', 2000000000)) > 0", "repeat()"),
    ],
)
def test_macros_and_functions_that_only_burn_time_are_refused(
    tmp_path: Path, capsys, text: str, why: str
) -> None:
    root = kpi_project(tmp_path, "1", text)
    assert run(capsys, "ingest", "--project", str(root))[0] == 0
    assert run(capsys, "validate", "--project", str(root))[0] == 0
    code, output = run(capsys, "kpi", "--project", str(root))
    assert code == 2 and why in output and "kpi.definitions.answered.where" in output


def test_text_that_closes_its_own_parenthesis_cannot_change_the_query() -> None:
    # spliced as written, `... IS NOT NULL AND (status = 'solved') OR (true)` would turn the
    # rows' time guard into one side of an OR; the checked parse is spliced instead
    from workbench.kpi.expressions import check_expression

    text = check_expression(
        "status = 'solved') OR (true", ["status", "created_at"], key="kpi.definitions.x.where"
    )
    query = f"SELECT * FROM t WHERE created_at IS NOT NULL AND {text}"
    tree = json.loads(duckdb.execute("SELECT json_serialize_sql($q)", {"q": query}).fetchone()[0])
    where = tree["statements"][0]["node"]["where_clause"]
    assert where["type"] == "CONJUNCTION_AND"  # the guard still applies to every row
    assert [c["type"] for c in where["children"]] == ["OPERATOR_IS_NOT_NULL", "CONJUNCTION_OR"]


def test_list_and_struct_literals_are_expressions(tmp_path: Path, capsys) -> None:
    root = kpi_project(tmp_path, "[status][1] = 'solved' AND {'s': status}.s IS NOT NULL")
    assert run(capsys, "ingest", "--project", str(root))[0] == 0
    assert run(capsys, "validate", "--project", str(root))[0] == 0
    code, output = run(capsys, "kpi", "--project", str(root), "--period", "2026-03")
    assert code == 0, output
    assert re.search(r"answered\W+2026-03\W+0\.5\b", output), output
