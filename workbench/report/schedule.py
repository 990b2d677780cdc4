"""Scheduling: the crontab line that renders a report for the previous period."""

from __future__ import annotations

import shlex
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

from workbench.errors import ConfigError

MARK = "# workbench:"


def cron_line(report: str, cron: str, project: Path, out: Path | None = None) -> str:
    """A crontab entry running ``workbench report REPORT --period previous`` at ``cron``."""
    fields = cron.split()
    if len(fields) != 5:
        raise ConfigError(
            f"{cron!r} is not a cron schedule.",
            where="--cron",
            fix="Give five fields: minute hour day-of-month month day-of-week, "
            "e.g. '0 6 1 * *' (06:00 on the 1st of every month).",
        )
    exe = Path(sys.executable).with_name("workbench")
    command = [
        str(exe),
        "report",
        report,
        "--period",
        "previous",
        "--project",
        str(project.resolve()),
    ]
    if out is not None:
        command += ["--out", str(out.resolve())]
    log = shlex.quote(str(project.resolve() / "reports" / "cron.log"))
    return f"{cron} {shlex.join(command)} >> {log} 2>&1 {MARK}{report}"


def install(line: str, report: str) -> None:
    """Add ``line`` to the user's crontab, replacing an earlier entry for the same report."""
    current = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
    kept = [entry for entry in current.stdout.splitlines() if not entry.endswith(f"{MARK}{report}")]
    new = "\n".join([*kept, line]) + "\n"
    subprocess.run(["crontab", "-"], input=new, text=True, check=True)


def installed(project: Path, crontab: str | None = None) -> list[str]:
    """The reports of ``project`` that the user's crontab renders (lines written by
    :func:`install`); ``crontab`` is its text (default: ``crontab -l``, none if there is no
    crontab or no ``crontab`` command)."""
    if crontab is None:
        try:
            found = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
        except OSError:
            return []
        crontab = found.stdout if found.returncode == 0 else ""
    where = str(project.resolve())
    reports = []
    for line in crontab.splitlines():
        body, mark, report = line.rpartition(MARK)
        if not mark or line.lstrip().startswith("#"):
            continue
        try:
            words = shlex.split(body)
        except ValueError:  # not a line this module wrote
            continue
        given = [b for a, b in pairwise(words) if a == "--project"]
        if given and Path(given[0]) == Path(where):
            reports.append(report.strip())
    return reports
