"""The ``workbench`` command line: thin commands over the package.

Every command takes ``--project DIR`` (default: the current folder). Errors a user can fix
are printed as one message (what, where, how to fix) with a non-zero exit code; ``--debug``
shows the traceback too. Commands live by stage: :mod:`.ingest`, :mod:`.quality`,
:mod:`.resolve`, :mod:`.kpi`, :mod:`.report`, :mod:`.governance`, :mod:`.dictionary`.

Listing and summary commands take ``--json`` (one JSON document on stdout, notes on
stderr); CSV exports take ``--out -`` (the CSV on stdout). ``--install-completion`` sets up
shell completion. Importing this package loads no heavy library (``workbench --help`` stays
fast): each command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from workbench import __version__
from workbench.cli import dictionary, governance, ingest, kpi, quality, report, resolve
from workbench.cli.common import out, print_error, print_interrupted
from workbench.errors import WorkbenchError

app = typer.Typer(
    name="workbench",
    help="Data-quality and ROI workbench for CRM integration projects.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
INTERRUPTED = 130  # Ctrl-C, as shells report a process ended by SIGINT


def _version(shown: bool) -> None:
    if shown:
        out.print(f"workbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version.", callback=_version, is_eager=True),
    ] = False,
) -> None:
    """Data-quality and ROI workbench for CRM integration projects."""


for module in (ingest, quality, resolve, kpi, report, governance):
    module.register(app)
app.add_typer(dictionary.app, name="dictionary")
app.add_typer(quality.dq_app, name="dq")
app.add_typer(quality.quarantine_app, name="quarantine")
app.add_typer(quality.export_app, name="export")
app.add_typer(resolve.review_app, name="review")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``workbench`` console script; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, prog_name="workbench")  # handles usage errors itself (exit 2)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if code == INTERRUPTED and _by_ctrl_c(done):
            print_interrupted()
        return code
    except KeyboardInterrupt:  # outside typer's own handling (which exits 130 silently)
        if debug:
            raise
        print_interrupted()
        return INTERRUPTED
    except WorkbenchError as err:
        if debug:
            raise
        print_error(err)
        return err.exit_code
    return 0


def _by_ctrl_c(exc: BaseException | None) -> bool:
    """Whether ``exc`` (typer's exit 130) was raised while handling a KeyboardInterrupt."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
