"""Commands of governance: audit verify|log, erase, retention apply, backup, restore,
readiness."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workbench.cli.common import (
    JsonOpt,
    ProjectOpt,
    emit,
    load_project,
    note,
    open_store,
    out,
    print_frame,
    project_and_store,
)
from workbench.errors import GovernanceError
from workbench.terminal import styled

if TYPE_CHECKING:
    from workbench.governance.compact import CompactResult
    from workbench.governance.erasure import ErasurePlan

audit_app = typer.Typer(
    help="The hash-chained audit trail of everything that changed or showed data."
)


@audit_app.command("verify")
def audit_verify(project: ProjectOpt = Path("."), json: JsonOpt = False) -> None:
    """Check the audit trail's hash chain; names every edited or deleted entry, and says
    when the trail was dropped (exit 7).

    With --json: an object with intact, entries and problems (entry_id, what), printed
    also when the trail is broken (the error then goes to stderr, exit 7).
    """
    from workbench import audit

    loaded = load_project(project)
    kept = audit.read_head(loaded)
    if kept is not None and not loaded.warehouse_path.exists():
        problems = [audit.Problem(None, "the audit trail was dropped: the warehouse is missing")]
        entries = 0
    else:
        with open_store(loaded, read_only=True) as store:
            entries, problems = audit.verify(store, loaded)
    if json:
        found = [{"entry_id": p.entry_id, "what": p.what} for p in problems]
        emit({"intact": not problems, "entries": entries, "problems": found}, json=True)
    if problems:
        raise GovernanceError(
            f"The audit trail is broken ({len(problems)} problem(s) in {entries} entries):\n"
            + "\n".join(
                f"  - entry {p.entry_id}: {p.what}" if p.entry_id else f"  - {p.what}"
                for p in problems
            ),
            where=f"meta.audit in {loaded.warehouse_path}",
            fix="Someone changed or dropped the audit trail outside Workbench; restore the "
            "warehouse from a backup (`workbench restore DIR`) and find out who changed it.",
        )
    if not entries:
        note("There is no audit trail yet: no command has changed or shown data.", json=json)
        return
    if not json:
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
    json: JsonOpt = False,
) -> None:
    """Audit entries, newest first: when, what, who and the details.

    With --json: a list of entries (entry_id, recorded_at, action, actor, details: the
    details as a JSON object).
    """

    from workbench import audit

    _, store = project_and_store(project, read_only=True)
    day: date | None = since.date() if since else None
    with store:
        frame = audit.log(store, action=action, since=day, limit=limit)
    if json:
        entries = [{**e, "details": _details(e["details"])} for e in frame.to_dicts()]
        emit(entries, json=True)
        return
    print_frame(frame, title="Audit trail")


def erase(
    project: ProjectOpt = Path("."),
    email: Annotated[
        str | None, typer.Option("--email", help="The person's email address.")
    ] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="The person's phone number (+country code).")
    ] = None,
    entity_id: Annotated[
        str | None, typer.Option("--entity-id", help="The person's entity id (id.members).")
    ] = None,
    record: Annotated[
        str | None, typer.Option("--record", help="One of the person's records, SOURCE:ID.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be removed.")
    ] = False,
    remove_reports: Annotated[
        bool,
        typer.Option(
            "--remove-reports",
            help="Also delete the report files of affected periods that were rendered "
            "unmasked (listed either way).",
        ),
    ] = False,
    compact_only: Annotated[
        bool,
        typer.Option(
            "--compact-only",
            help="Erase no one: only rewrite the warehouse file so that rows already erased "
            "leave no bytes in it (after an erasure whose rewrite failed).",
        ),
    ] = False,
) -> None:
    """Erase a person: every record of their entities and the activity that identifies them,
    from every table, with a tombstone that keeps old exports from bringing them back; then
    rewrite the warehouse file so that no byte of the erased rows is left in it.

    Lists the report files of affected periods rendered unmasked (removed with
    --remove-reports) and the unmasked exports the audit trail recorded (delete those
    yourself)."""
    from workbench.governance.compact import compact
    from workbench.governance.erasure import Kind
    from workbench.governance.erasure import erase as run_erase

    options: list[tuple[Kind, str | None]] = [
        ("email", email),
        ("phone", phone),
        ("entity", entity_id),
        ("record", record),
    ]
    given = [(k, v) for k, v in options if v is not None]
    if compact_only:
        if given or dry_run or remove_reports:
            raise GovernanceError(
                "--compact-only erases no one and takes no other option.",
                where="workbench erase --compact-only",
                fix="Run `workbench erase --compact-only` alone.",
            )
        loaded, store = project_and_store(project)
        with store:
            _print_compacted(compact(store))
        return
    if len(given) != 1:
        raise GovernanceError(
            "Say whom to erase with exactly one identifier.",
            where="workbench erase",
            fix="Give one of --email, --phone, --entity-id or --record SOURCE:ID.",
        )
    kind, value = given[0]
    loaded, store = project_and_store(project)
    with store:
        plan = run_erase(
            loaded, store, kind, value, dry_run=dry_run, remove_reports=remove_reports,
            compact=False,
        )  # fmt: skip
        _print_plan(plan, dry_run=dry_run)
        if not dry_run:
            _print_compacted(compact(store))
    if plan.stale_reports and not dry_run:
        from workbench.report.index import refresh_indexes

        for index in refresh_indexes(loaded):
            out.print(f"Marked the stale reports in {index}", soft_wrap=True, highlight=False)


def _print_plan(plan: ErasurePlan, *, dry_run: bool) -> None:
    import polars as pl

    print_frame(plan.preview, title=f"The person's records ({len(plan.records)}, masked)")
    rows = pl.DataFrame(
        {"table": sorted(plan.rows), "rows": [plan.rows[t] for t in sorted(plan.rows)]},
        schema={"table": pl.String, "rows": pl.Int64},
    )
    print_frame(rows, title="Rows that would be removed" if dry_run else "Rows removed")
    stale = ", ".join(plan.stale_reports) or "none"
    if dry_run:
        out.print(f"Dry run: nothing was removed. Reports that would become stale: {stale}.")
    else:
        out.print(
            f"Erased {len(plan.records)} record(s) of {len(plan.entities)} entit(y/ies); "
            f"tombstone {plan.tombstone_id} keeps {plan.identifiers} hashed identifier(s) so "
            f"that later loads drop them. Stale reports (render them again): {stale}."
        )
    if plan.reports:
        removed = set(plan.removed)
        out.print("Report files rendered unmasked for affected periods (personal data in clear):")
        for f in plan.reports:
            gone = " (removed)" if f.path in removed else ""
            out.print(f"  {f.report} {f.period}: {f.path}{gone}", soft_wrap=True, highlight=False)
        if not plan.removed:
            out.print(
                "Remove them with `workbench erase ... --remove-reports` (or delete them), "
                "then render the reports again."
            )
    if plan.exports:
        out.print("Unmasked exports recorded in the audit trail (Workbench does not delete them):")
        for e in plan.exports:
            there = (
                "written to standard output: not traceable"
                if e.path == "-"
                else ("still there" if e.exists else "not found")
            )
            out.print(
                f"  {e.recorded_at:%Y-%m-%d %H:%M} {e.view}: {e.path} ({there})",
                soft_wrap=True,
                highlight=False,
            )
        out.print("They may hold the person in clear: delete or redo them (and their copies).")
    if plan.copies:
        out.print(
            "Copies of the warehouse made before this erasure (Workbench does not delete them):"
        )
        for path in plan.copies:
            out.print(f"  {path}", soft_wrap=True)
        out.print(
            "They may hold the person. Restoring one applies this erasure again; delete the "
            "ones you no longer need, or keep them only as long as your retention allows."
        )


def _print_compacted(result: CompactResult) -> None:
    out.print(
        f"Rewrote the warehouse ({result.tables} tables, {result.rows:,} rows; "
        f"{result.bytes_before:,} -> {result.bytes_after:,} bytes): erased values are no "
        "longer in its file."
    )


retention_app = typer.Typer(help="Delete records older than workbench.yaml's retention allows.")


@retention_app.command("apply")
def retention_apply(
    project: ProjectOpt = Path("."),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted.")
    ] = False,
) -> None:
    """Delete records older than their object's retention (raw, staging, core, quarantine)."""
    import polars as pl

    from workbench.governance.retention import apply

    loaded, store = project_and_store(project)
    with store:
        result = apply(loaded, store, dry_run=dry_run)
    for obj, rule in result.cutoffs.items():
        out.print(f"{obj}: deleting records with {rule}")
    names = sorted(result.rows)
    frame = pl.DataFrame(
        {"table": names, "rows": [result.rows[n] for n in names]},
        schema={"table": pl.String, "rows": pl.Int64},
    )
    print_frame(frame, title="Rows that would be deleted" if dry_run else "Rows deleted")
    if dry_run:
        out.print("Dry run: nothing was deleted.")


def backup(
    project: ProjectOpt = Path("."),
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder to write (new or empty).",
            file_okay=False,
            show_default="backups/<UTC time>/ in the project",
        ),
    ] = None,
) -> None:
    """Write a consistent copy of the warehouse (Parquet per table) with a checksummed manifest."""
    from workbench.governance.backup import backup as run_backup

    result = run_backup(load_project(project), out_dir)
    out.print(
        f"Backed up {result.tables} tables ({result.rows:,} rows, {result.files} files) "
        f"to {result.folder}"
    )


def restore(
    folder: Annotated[
        Path, typer.Argument(help="A folder written by `workbench backup`.", file_okay=False)
    ],
    project: ProjectOpt = Path("."),
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Restore a backup of another project (this project set up again)."
        ),
    ] = False,
) -> None:
    """Replace the warehouse by a backup after checking every file's checksum; the replaced
    warehouse is kept as <warehouse>.<time>.bak. Runs no SQL from the backup; refuses a
    backup of another project unless --force; erasures made since the backup are applied
    again."""
    from workbench.governance.backup import restore as run_restore

    result = run_restore(load_project(project), folder, force=force)
    kept = f"; the previous one is kept as {result.replaced}" if result.replaced else ""
    out.print(
        f"Restored {result.tables} tables ({result.rows:,} rows) into {result.warehouse}{kept}"
    )
    for warning in result.warnings:
        out.print(f"Warning: {warning}")


def _details(text: str) -> object:
    """An entry's details as JSON, or as the text it holds when that is not JSON (edited)."""
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


def readiness(
    project: ProjectOpt = Path("."),
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="Check SLA coverage on the sync routes of this period only (2026-09).",
            show_default="the whole sync log",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 7 when an item is not ready (for CI).")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """The integration readiness checklist, each item read from evidence: inventory and
    dictionary complete, SLAs defined, canary and rollback, monitoring scheduled, ROI
    dashboard ready. (The governance review checks SLA coverage in its period.)

    With --json: a list of items (item, ready, evidence, fix).
    """
    from workbench.kpi import periods
    from workbench.report.readiness import as_frame, checklist

    window = periods.bounds(period)[1:] if period else (None, None)
    loaded, store = project_and_store(project, read_only=True)
    with store:
        checks = checklist(loaded, store, since=window[0], until=window[1])
    frame = as_frame(checks)
    if json:
        emit(frame, json=True)
    else:
        for check in checks:
            mark = styled("✓", "green") if check.ready else styled("✗", "red")
            out.print(mark, styled(f"{check.item}:", "bold"), check.evidence)
            if not check.ready:
                out.print(f"    to do: {check.fix}")
    ready = sum(c.ready for c in checks)
    note(f"{ready} of {len(checks)} items ready.", json=json)
    if strict and ready < len(checks):
        raise GovernanceError(
            f"{len(checks) - ready} readiness item(s) not ready.",
            where=str(loaded.root),
            fix="Do what each item's 'to do' says, then run `workbench readiness` again.",
        )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(retention_app, name="retention")
    app.command()(erase)
    app.command()(backup)
    app.command()(restore)
    app.command()(readiness)
