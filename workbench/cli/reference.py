"""The command reference (``docs/reference.md``), generated from the CLI itself.

Every command's usage, help text, arguments and options come from the same Typer/Click
objects that answer ``--help``, and the exit codes from the error classes, so the
reference cannot say something the tool does not do. ``make docs`` rewrites the file; a
test fails while the file differs from what :func:`reference` returns.

Run as ``python -m workbench.cli.reference [FILE]`` (default: print to stdout).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from workbench import errors

HEADER = """# Command reference

Generated from the command line itself by `make docs`
(`python -m workbench.cli.reference docs/reference.md`); do not edit by hand.
Every command also answers `--help`.
"""


def commands() -> Iterator[tuple[list[str], Any, Any]]:
    """Every command and group as (path of names, Click command, Click context), in the
    order ``--help`` lists them."""
    from workbench.cli import app

    root = typer.main.get_command(app)
    yield from _walk(root, ["workbench"], root.context_class(root, info_name="workbench"))


def _walk(command: Any, path: list[str], ctx: Any) -> Iterator[tuple[list[str], Any, Any]]:
    yield path, command, ctx
    for name in getattr(command, "list_commands", lambda _: [])(ctx):
        child = command.get_command(ctx, name)
        if child is None or child.hidden:
            continue
        yield from _walk(
            child, [*path, name], child.context_class(child, info_name=name, parent=ctx)
        )


def reference() -> str:
    """The whole reference as Markdown."""
    parts = [HEADER, _contents()]
    for path, command, ctx in commands():
        parts.append(_command(path, command, ctx))
    parts.append(exit_codes())
    return "\n".join(parts).rstrip() + "\n"


def _contents() -> str:
    lines = ["## Commands", ""]
    for path, command, _ in commands():
        if len(path) == 1:
            continue
        name = " ".join(path)
        lines.append(f"- [`{name}`](#{_anchor(name)}): {_first_line(command.help)}")
    lines.append("- [Exit codes](#exit-codes)")
    return "\n".join(lines) + "\n"


def _anchor(name: str) -> str:
    return name.lower().replace(" ", "-")


def _first_line(text: str | None) -> str:
    return inspect.cleandoc(text or "").split("\n\n")[0].replace("\n", " ").strip()


def _command(path: list[str], command: Any, ctx: Any) -> str:
    name = " ".join(path)
    pieces = " ".join(command.collect_usage_pieces(ctx))
    lines = [f"## {name}", "", "```text", f"{name} {pieces}".rstrip(), "```", ""]
    text = inspect.cleandoc(command.help or "")
    if text:
        lines += [" ".join(p.split()) + "\n" for p in text.split("\n\n")]
    records = [(p.param_type_name, p.get_help_record(ctx)) for p in command.params]
    for kind, title in (("argument", "Argument"), ("option", "Option")):
        rows = [r for k, r in records if k == kind and r is not None]
        if rows:
            lines += [f"| {title} | Description |", "| --- | --- |"]
            lines += [f"| `{_cell(names)}` | {_cell(text)} |" for names, text in rows]
            lines.append("")
    return "\n".join(lines)


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def exit_codes() -> str:
    """The exit codes, from the error classes (one per kind of failure)."""
    rows = [("0", "Success.")]
    found: dict[int, list[str]] = {}
    for name, cls in vars(errors).items():
        if isinstance(cls, type) and issubclass(cls, errors.WorkbenchError):
            found.setdefault(cls.exit_code, []).append(name)
    for code in sorted(found):
        classes = sorted(found[code], key=lambda n: (n != "WorkbenchError", n))
        described = "; ".join(
            f"`{n}`: "
            + (
                "any other error Workbench reports"
                if n == "WorkbenchError"
                else _first_line(getattr(errors, n).__doc__).rstrip(".")
            )
            for n in classes
        )
        if code == 1:
            described += "; also any unexpected error (a bug: its traceback is printed)"
        if code == 2:
            described += "; also a command line Workbench does not understand (usage error)"
        rows.append((str(code), described))
    rows.append(
        ("130", "Interrupted (Ctrl-C): what was committed is kept, the step under way rolled back")
    )
    lines = ["## Exit codes", "", "| Code | Meaning |", "| --- | --- |"]
    lines += [f"| {code} | {_cell(text)} |" for code, text in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = reference()
    if args:
        Path(args[0]).parent.mkdir(parents=True, exist_ok=True)
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
