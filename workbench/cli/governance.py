"""Commands of governance: audit verify|log, erase, retention apply, backup, restore."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.common import ProjectOpt, out, print_frame, project_and_store
from workbench.errors import GovernanceError
from workbench.governance import audit

audit_app = typer.Typer(
    help="The hash-chained audit trail of everything that changed or showed data."
)


@audit_app.command("verify")
def audit_verify(project: ProjectOpt = Path(".")) -> None:
    """Check the audit trail's hash chain; names every edited or deleted entry (exit 7)."""
    _, store = project_and_store(project, read_only=True)
    with store:
        entries, problems = audit.verify(store)
    if problems:
        raise GovernanceError(
            f"The audit trail is broken ({len(problems)} problem(s) in {entries} entries):\n"
            + "\n".join(f"  - entry {p.entry_id}: {p.what}" for p in problems),
            where="meta.audit",
            fix="Someone changed meta.audit outside Workbench; restore the warehouse from a "
            "backup (`workbench restore DIR`) and find out who changed it.",
        )
    out.print(f"The audit trail is intact: {entries} entries, hash chain verified.")


@audit_app.command("log")
def audit_log(
    project: ProjectOpt = Path("."),
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action (load, erase, ...).")
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option("--since", help="From this day on (YYYY-MM-DD).", formats=["%Y-%m-%d"]),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Entries to show.")] = 50,
) -> None:
    """Audit entries, newest first: when, what, who and the details."""
    _, store = project_and_store(project, read_only=True)
    day: date | None = since.date() if since else None
    with store:
        frame = audit.log(store, action=action, since=day, limit=limit)
    print_frame(frame, title="Audit trail")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
