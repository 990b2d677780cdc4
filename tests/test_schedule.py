"""`workbench schedule`: the crontab line works as cron runs it (by /bin/sh, from a fresh
project whose reports/ folder does not exist yet), and --install says what went wrong when
there is no crontab command or it refuses the line, instead of a traceback."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from workbench.cli import main
from workbench.report.schedule import cron_line, installed


def fake_crontab(folder: Path, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "crontab"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return folder


def test_the_line_writes_its_log_into_a_reports_folder_not_made_yet(tmp_path):
    project = tmp_path / "my prøject"
    project.mkdir()
    line = cron_line("roi", "0 6 1 * *", project)
    command = line.split(" ", 5)[5].replace("/workbench report", "/no-such-workbench report")
    subprocess.run(["/bin/sh", "-c", command], check=False, timeout=30)
    assert (project / "reports" / "cron.log").exists()  # sh could open the log
    assert installed(project, line) == ["roi"]


def a_project(folder: Path) -> Path:
    """The smallest project `schedule` accepts (it refuses a folder that is none)."""
    (folder / "workbench.yaml").write_text("name: scheduled\n")
    return folder


def test_install_without_a_crontab_command_is_one_message(tmp_path, monkeypatch, capsys):
    a_project(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    args = ["schedule", "--report", "roi", "--install", "--project", str(tmp_path)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "crontab" in err and "Fix:" in err and "Traceback" not in err


def test_install_refused_by_crontab_is_one_message_with_its_reason(tmp_path, monkeypatch, capsys):
    bin_dir = fake_crontab(
        tmp_path / "bin",
        'if [ "$1" = "-l" ]; then echo "no crontab for you" >&2; exit 1; fi\n'
        'echo "You are not allowed to use this program (crontab)" >&2; exit 1\n',
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    a_project(tmp_path)
    args = ["schedule", "--report", "roi", "--install", "--project", str(tmp_path)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "not allowed to use this program" in err and "Traceback" not in err
