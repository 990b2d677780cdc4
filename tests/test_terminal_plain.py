"""Data reaches the terminal as plain text (issue 19, item 7).

Values and file names from exports may hold rich markup (``[/]`` crashed ``quarantine
list`` and ``erase``, the latter after its erasure had committed) or terminal escape
sequences (ANSI colours, OSC window titles and hyperlinks, a carriage return that hides
what came before). Every command prints them literally, with control characters shown
as visible escapes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.formatting import plain

ESC, BEL = "\x1b", "\x07"
OSC_TITLE = f"{ESC}]0;pwned{BEL}"
ANSI_RED = f"{ESC}[31m"
# every control character but tab and newline, and the bidi overrides, must not be printed
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

CONFIG = """
sources:
  crm:
    system: crm
    object: contacts
    path: "{contacts}"
    columns: {{record_id: id, first_name: first, last_name: last, email: email}}
  desk:
    system: crm
    object: tickets
    path: t.csv
    columns: {{record_id: id, contact_id: who, requester_email: email, created_at: at}}
"""
CONTACTS_FILE = f"c{ANSI_RED}[bold]x.csv"  # [ is a glob character: matched by c*.csv
CONTACTS = (
    "id,first,last,email\n"
    f"1[/],Ann[/],{ANSI_RED}Lee,ann.lee@example.com\n"
    f"2,[bold red]Bo[/],Stone{OSC_TITLE},bo.stone@example.com\n"
)
TICKETS = (
    "id,who,email,at\n"
    "t1,1[/],ann.lee@example.com,2026-01-01\n"
    f"t2[/],2,bo.stone@example.com,{OSC_TITLE}2026-13-45[/]\n"  # not a date: quarantined
    f"t3,2,bo.stone@example.com,\r2026-01-03{ANSI_RED}\n"  # not a date either
)


def test_plain_shows_control_characters_as_escapes() -> None:
    assert plain(f"a{ESC}[31mb") == "a\\x1b[31mb"
    assert plain(f"x{OSC_TITLE}y") == "x\\x1b]0;pwned\\x07y"
    assert plain("one\rtwo") == "one\\x0dtwo"
    assert plain("\x9b2J") == "\\x9b2J"  # the one-byte C1 control sequence introducer
    assert plain("abc\u202edef") == "abc\\u202edef"  # right-to-left override
    assert plain("one\u2028two\u2029") == "one\\u2028two\\u2029"  # line, paragraph separator
    # what is not a control character is left as it is
    text = "Zoë Ünal, 名前 [/] [bold] tab\there\nnext line"
    assert plain(text) == text


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "workbench.yaml").write_text(CONFIG.format(contacts="c*.csv"))
    (tmp_path / CONTACTS_FILE).write_text(CONTACTS)
    (tmp_path / "t.csv").write_text(TICKETS, newline="")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def check_plain(output: str) -> None:
    assert not RAW_CONTROL.search(output), repr(RAW_CONTROL.search(output))
    assert "Traceback" not in output


@pytest.mark.slow
def test_every_command_prints_data_as_plain_text(project: Path, capsys) -> None:
    root = str(project)
    code, output = run(capsys, "ingest", "--project", root)
    assert code == 0, output
    check_plain(output)
    assert "c\\x1b[31m[bold]x.csv" in output  # the file name, escaped but whole

    code, output = run(capsys, "ledger", "--project", root)
    assert code == 0, output
    check_plain(output)

    code, output = run(capsys, "validate", "--project", root)
    check_plain(output)

    code, output = run(capsys, "quarantine", "list", "--project", root)
    assert code == 0, output
    check_plain(output)
    assert "\\x1b]0;pwned\\x07" in output  # the quarantined time stamp as it was written
    assert "2026-13-45[/]" in output

    code, output = run(capsys, "quarantine", "show", "desk:t2[/]", "--project", root)
    check_plain(output)

    code, output = run(capsys, "erase", "--email", "bo.stone@example.com", "--project", root)
    assert code == 0, output
    check_plain(output)
    assert "Erased 1 record(s)" in output

    code, output = run(capsys, "erase", "--record", "crm:1[/]", "--dry-run", "--project", root)
    assert code == 0, output
    check_plain(output)
    assert "1[/]" in output  # the record id is not personal data: shown as written


def test_an_error_naming_a_hostile_value_is_plain(project: Path, capsys) -> None:
    code, output = run(
        capsys, "erase", "--record", f"nosuch{ESC}[2J:1[/]", "--project", str(project)
    )
    assert code == 7
    check_plain(output)
    assert "nosuch\\x1b[2J" in output
