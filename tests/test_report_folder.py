"""`workbench report` into a reports folder it cannot write (read-only, full, or a path
through a file): one message naming the folder, exit 6, no traceback; nothing is rendered."""

from __future__ import annotations

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
