"""The CLI contract: help everywhere, one clear message and a non-zero exit for bad input."""

from __future__ import annotations

import inspect
import os
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


def test_every_command_and_group_answers_help(capsys):
    """`--help` of the root, of every group (dq, kpi, review...) and of every command."""
    from workbench.cli.reference import commands

    paths = [path[1:] for path, _, _ in commands()]
    assert len(paths) > len(all_commands())  # groups too
    for argv in paths:
        code, out, err = run(capsys, *argv, "--help")
        assert code == 0, (argv, err)
        assert f"Usage: workbench {' '.join(argv)}".rstrip() in " ".join(out.split()), argv


JSON_COMMANDS = [
    ["ledger"],
    ["schema-changes"],
    ["dq", "show"],
    ["dq", "diff"],
    ["dq", "reconcile"],
    ["dq", "inventory"],
    ["dq", "slas"],
    ["readiness"],
    ["quarantine", "list"],
    ["quarantine", "show"],
    ["kpi"],
    ["kpi", "list"],
    ["baseline"],
    ["roi"],
    ["rollout"],
    ["review"],
    ["evaluate"],
    ["explain"],
    ["audit", "log"],
    ["audit", "verify"],
    ["dictionary", "matrix"],
]


def test_listing_and_summary_commands_take_json_and_csv_exports_take_out_dash(capsys):
    from workbench.cli.reference import commands

    with_json, with_dash = [], []
    for path, command, _ in commands():
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        if "--json" in options:
            with_json.append(path[1:])
        for param in command.params:
            if "--out" in getattr(param, "opts", []) and "CSV" in (param.help or ""):
                with_dash.append(path[1:])
                assert "'-'" in param.help, path
    assert sorted(with_json) == sorted(JSON_COMMANDS)
    assert sorted(with_dash) == sorted(
        [["quarantine", "export"], ["export", "dq"], ["export", "entities"],
         ["export", "golden"], ["export", "kpis"]]
    )  # fmt: skip


def test_help_in_a_fresh_process_offers_shell_completion():
    script = Path(sys.executable).parent / "workbench"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "workbench.cli"]
    done = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--install-completion" in done.stdout and "--show-completion" in done.stdout
    assert "ledger" in done.stdout


def test_shell_completion_completes_commands_and_subcommands():
    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "_WORKBENCH_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        done = subprocess.run(
            [sys.executable, "-m", "workbench.cli"],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("workbench led") == ["ledger"]
    assert complete("workbench quarantine l") == ["list"]
    assert "--json" in complete("workbench audit log --j")


@pytest.mark.slow
def test_commands_import_what_they_need_in_a_fresh_process(capsys, tmp_path):
    """Commands import their modules when they run: each works as the first thing a fresh
    interpreter does (backup, compact and retention only import after erasure)."""
    shutil.copytree(DATA, tmp_path / "p")
    project = str(tmp_path / "p")
    assert main(["ingest", "--project", project]) == 0
    capsys.readouterr()
    runs = [
        (["backup", "--out", str(tmp_path / "bak")], 0, "Backed up"),
        (["restore", str(tmp_path / "bak")], 0, "Restored"),
        (["retention", "apply", "--dry-run"], 7, "No retention is configured"),
        (["erase", "--dry-run", "--email", "nobody@example.com"], 7, "nothing to erase"),
        (["erase", "--compact-only"], 0, "Rewrote the warehouse"),
        (["dq", "show"], 1, "No data-quality run"),
        (["ledger", "--json"], 0, '"source"'),
    ]
    for argv, code, said in runs:
        done = subprocess.run(
            [sys.executable, "-m", "workbench.cli", *argv, "--project", project],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "Traceback" not in done.stderr, (argv, done.stderr)
        assert done.returncode == code, (argv, done.stderr)
        assert said in done.stdout + done.stderr, argv


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
