"""Scheduling: the crontab line that renders a report for the previous period."""

from __future__ import annotations

import shlex
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

from workbench.errors import ConfigError, WorkbenchError

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
    folder = project.resolve() / "reports"
    log = shlex.quote(str(folder / "cron.log"))
    # the shell opens the log before workbench runs (and makes reports/): make its folder
    make = f"mkdir -p {shlex.quote(str(folder))} &&"
    return f"{cron} {make} {shlex.join(command)} >> {log} 2>&1 {MARK}{report}"


def install(line: str, report: str) -> None:
    """Add ``line`` to the user's crontab, replacing an earlier entry for the same report."""
    try:
        current = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
        kept = [e for e in current.stdout.splitlines() if not e.endswith(f"{MARK}{report}")]
        new = "\n".join([*kept, line]) + "\n"
        done = subprocess.run(["crontab", "-"], input=new, capture_output=True, text=True)
    except OSError as exc:
        raise WorkbenchError(
            f"The crontab command cannot be run ({exc.strerror}): cron is not installed here.",
            where="workbench schedule --install",
            fix="Install cron (e.g. `apt-get install cron`), or add the line `workbench "
            "schedule` prints without --install to the scheduler you use.",
        ) from None
    if done.returncode != 0:
        raise WorkbenchError(
            "crontab refused the new line: "
            + (done.stderr.strip() or f"exit status {done.returncode}"),
            where="workbench schedule --install",
            fix="Fix what crontab says (e.g. ask for cron access), or add the line "
            "`workbench schedule` prints without --install yourself; your crontab is unchanged.",
        )


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
