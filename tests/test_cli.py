"""The CLI contract: help everywhere, one clear message and a non-zero exit for bad input."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.cli import app, main

DATA = Path(__file__).parent / "data" / "three_systems"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def all_commands() -> list[tuple[list[str], object]]:
    """Every leaf command as (argv prefix, callback), sub-apps included."""
    found = []
    for command in app.registered_commands:
        found.append(([command.name or command.callback.__name__], command.callback))
    for group in app.registered_groups:
        for command in group.typer_instance.registered_commands:
            name = command.name or command.callback.__name__
            found.append(([group.name, name], command.callback))
    return found


def test_every_command_has_help_text_and_project_option(capsys):
    commands = all_commands()
    assert len(commands) >= 12
    for argv, callback in commands:
        assert callback.__doc__, f"{argv} has no docstring"
        code, out, _ = run(capsys, *argv, "--help")
        assert code == 0, argv
        assert "Usage" in out
        if argv not in (["init"], ["dictionary", "infer"]):
            assert "--project" in out, f"{argv} lacks --project"


GUIDE = Path(__file__).parent.parent / "docs" / "guide.md"


def test_the_guide_documents_every_command():
    guide = GUIDE.read_text()
    for argv, _ in all_commands():
        assert f"workbench {' '.join(argv)}" in guide, (
            f"the guide lacks `workbench {' '.join(argv)}`"
        )


def test_the_guide_documents_wait_on_every_command_that_writes():
    readme = GUIDE.read_text()
    waiting = [
        " ".join(argv)
        for argv, callback in all_commands()
        if "wait" in inspect.signature(callback).parameters
    ]
    assert sorted(waiting) == ["demo", "ingest", "resolve", "review decide", "validate"]
    assert "--wait SECONDS" in readme
    for name in waiting:
        assert f"`{name}`" in readme, f"the guide does not say that {name} takes --wait"


def test_top_level_help_lists_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in ("init", "demo", "ingest", "ledger", "validate", "dq", "quarantine", "export"):
        assert name in out


def test_missing_project_is_one_message_without_traceback(capsys, tmp_path):
    code, _, err = run(capsys, "ingest", "--project", str(tmp_path))
    assert code == 2
    assert "No workbench.yaml" in err
    assert "Fix:" in err
    assert "Traceback" not in err


def test_debug_flag_shows_the_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "--debug", "ingest", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr
    assert "ConfigError" in proc.stderr


def test_init_writes_a_project_and_refuses_to_overwrite(capsys, tmp_path):
    target = tmp_path / "proj"
    code, out, _ = run(capsys, "init", str(target))
    assert code == 0 and (target / "workbench.yaml").exists()
    assert "Created" in out
    code, _, err = run(capsys, "init", str(target))
    assert code == 2 and "already exists" in err and "--force" in err


def test_ingest_ok_then_unchanged_and_ledger(capsys, tmp_path):
    shutil.copytree(DATA, tmp_path / "p")
    project = str(tmp_path / "p")
    code, out, _ = run(capsys, "ingest", "--project", project)
    assert code == 0 and "loaded 3 of 3 rows" in out
    code, out, _ = run(capsys, "ingest", "--project", project)
    assert code == 0 and "unchanged" in out
    code, out, _ = run(capsys, "ledger", "--project", project)
    assert code == 0 and "billing_customers.csv" in out


def test_ingest_of_a_broken_file_exits_non_zero_naming_file_and_key(capsys, tmp_path):
    shutil.copytree(DATA, tmp_path / "p")
    bad = tmp_path / "p" / "wrong.csv"
    bad.write_text("Ident,FirstName\n1,A\n")
    code, _, err = run(
        capsys, "ingest", str(bad), "--source", "crm_contacts", "--project", str(tmp_path / "p")
    )
    assert code == 3
    assert "Column 'Id'" in err and "wrong.csv" in err
    assert "sources.crm_contacts.columns.record_id" in err
    assert "Traceback" not in err


def test_ingest_file_without_source_says_which_sources_exist(capsys, tmp_path):
    shutil.copytree(DATA, tmp_path / "p")
    code, _, err = run(capsys, "ingest", "x.csv", "--project", str(tmp_path / "p"))
    assert code == 2 and "--source" in err and "crm_contacts" in err


def test_unknown_source_name(capsys, tmp_path):
    shutil.copytree(DATA, tmp_path / "p")
    code, _, err = run(capsys, "ingest", "--source", "nope", "--project", str(tmp_path / "p"))
    assert code == 2 and "no source named 'nope'" in err


@pytest.mark.slow
def test_second_writer_is_told_who_holds_the_warehouse(capsys, tmp_path):
    shutil.copytree(DATA, tmp_path / "p")
    warehouse = tmp_path / "p" / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
            " time.sleep(30)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        code, _, err = run(capsys, "ingest", "--project", str(tmp_path / "p"))
        assert time.monotonic() - started < 20  # fails at once, does not hang
        assert code == 4
        assert f"in use by PID {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()
