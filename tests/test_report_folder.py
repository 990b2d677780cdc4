"""`workbench report` where it cannot run: into a reports folder it cannot write (read-only,
full, or a path through a file): one message naming the folder, exit 6; on a warehouse
another process holds: the warehouse's one message, exit 4. No traceback, nothing rendered."""

from __future__ import annotations

import subprocess
import sys

from workbench.cli import main

CONFIG = """
sources:
  people:
    system: crm
    object: contacts
    path: p.csv
    columns:
      record_id: id
"""


def test_a_reports_folder_that_cannot_be_made_is_one_message(make_project, tmp_path, capsys):
    make_project(CONFIG, {"p.csv": "id\n1\n", "notes.txt": "a file, not a folder"})
    out = tmp_path / "notes.txt" / "reports"
    args = ["report", "roi", "--period", "2026-09", "--out", str(out), "--project", str(tmp_path)]
    assert main(args) == 6
    err = capsys.readouterr().err
    assert "cannot be written" in err and "notes.txt" in err and "Fix:" in err
    assert "Traceback" not in err


def test_a_reports_folder_whose_files_cannot_be_written_is_one_message(
    make_project, tmp_path, capsys
):
    make_project(CONFIG, {"p.csv": "id\n1\n"})
    (tmp_path / "reports" / "kernel.log").mkdir(parents=True)  # where a file must go
    args = ["report", "roi", "--period", "2026-09", "--project", str(tmp_path)]
    assert main(args) == 6
    err = capsys.readouterr().err
    assert "cannot be written" in err and "kernel.log" in err and "Traceback" not in err


def test_a_warehouse_in_use_is_said_before_any_notebook_runs(make_project, tmp_path, capsys):
    project = make_project(CONFIG, {"p.csv": "id\n1\n"})
    assert main(["ingest", "--project", str(tmp_path)]) == 0
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print(1, flush=True); "
    hold += "time.sleep(60)"
    other = subprocess.Popen(
        [sys.executable, "-c", hold, str(project.warehouse_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None and other.stdout.readline() == "1\n"
        capsys.readouterr()
        args = ["report", "roi", "--period", "2026-09", "--project", str(tmp_path)]
        assert main(args) == 4  # the warehouse's exit code, not a failed notebook's
        err = capsys.readouterr().err
        assert f"in use by PID {other.pid}" in err and "failed in cell" not in err
        assert err.count("Where:") == 1
    finally:
        other.kill()
        other.wait()
    assert not (tmp_path / "reports" / "roi").exists()
