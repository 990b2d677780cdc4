"""Open report notebooks never block the tool: with every report's context open and idle,
`workbench resolve`, `workbench review decide` and a review-widget decision succeed, and the
contexts read again afterwards.

The notebooks' own cells run in an in-process IPython shell, as a Jupyter kernel runs them
(the same cell events), so the contexts are opened and read exactly as in JupyterLab; the
writers run in other processes, as they would beside JupyterLab.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.config import load_project
from workbench.report.context import ReportContext, open_context
from workbench.report.runner import REPORTS, notebooks_dir
from workbench.review_ui import review_widget
from workbench.store import BriefStore, brief_store, open_store

PERIOD = "2026-09"


@pytest.fixture
def demo(demo_source) -> Path:
    """The session's 1,500-contact demo (conftest.py): read only here."""
    return demo_source(1500, 11)


@pytest.fixture
def project(demo_copy) -> Path:
    """A copy of the demo, so one test's decisions do not reach another."""
    return demo_copy(1500, 11)


@pytest.fixture
def shell() -> Iterator[Any]:
    """An IPython shell in this process (what ipykernel runs cells with), removed after."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    yield InteractiveShell.instance(config=config)
    InteractiveShell.clear_instance()


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    """A `workbench` command in its own process, as beside JupyterLab."""
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def code_cells(name: str) -> list[str]:
    """The notebook's code cells after its parameters cell."""
    cells = json.loads((notebooks_dir() / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return [
        "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])
    ]


def run_notebook(shell: Any, name: str, project: Path) -> ReportContext:
    """Run the report notebook's cells in ``shell`` for ``project``; its context."""
    shell.user_ns.update(project=str(project), period=PERIOD, unmask=False)
    for cell in code_cells(name):
        shell.run_cell(cell).raise_error()
    ctx = shell.user_ns["ctx"]
    assert isinstance(ctx, ReportContext)
    return ctx


def pending_pairs(project: Path) -> list[tuple[str, ...]]:
    with open_store(load_project(project), read_only=True) as store:
        return store.rows(
            "SELECT q.unique_id_l, q.unique_id_r FROM id.review_queue q "
            "ANTI JOIN id.review_decisions d USING (object, unique_id_l, unique_id_r) "
            "WHERE q.object = 'contacts' ORDER BY abs(q.match_probability - 0.5), 1, 2"
        )


def decisions(project: Path) -> dict[tuple[str, ...], str]:
    with open_store(load_project(project), read_only=True) as store:
        rows = store.rows("SELECT unique_id_l, unique_id_r, decision FROM id.review_decisions")
    return {tuple(sorted(pair)): decision for *pair, decision in rows}


@pytest.mark.slow
def test_idle_report_notebooks_do_not_block_resolve_or_review_decisions(project, shell) -> None:
    demo = project
    contexts = {name: run_notebook(shell, name, demo) for name in REPORTS}
    for ctx in contexts.values():
        assert isinstance(ctx.store, BriefStore) and not ctx.store.is_open  # idle: nothing held
    first, second = pending_pairs(demo)[:2]

    decide = workbench("review", "decide", *first, "--match", "--project", str(demo))
    assert decide.returncode == 0, decide.stdout + decide.stderr

    box = review_widget(demo)  # its first pair is now `second`, the CLI decided `first`
    header, status = box.children[0], box.children[-1]
    assert f"{second[0]} vs {second[1]}" in header.value, header.value
    buttons = {b.description: b for row in box.children for b in getattr(row, "children", ())}
    buttons["Not a match"].click()
    assert "Recorded" in status.value, status.value

    resolve = workbench("resolve", "--project", str(demo))
    assert resolve.returncode == 0, resolve.stdout + resolve.stderr
    assert decisions(demo) == {tuple(sorted(first)): "match", tuple(sorted(second)): "no_match"}

    # the open contexts read what changed, from plain calls and from a new cell
    for ctx in contexts.values():
        assert ctx.store.scalar("SELECT count(*) FROM id.review_decisions") == 2
        assert not ctx.store.is_open
    runs = shell.run_cell("ctx.store.scalar('SELECT count(*) FROM id.runs')")
    runs.raise_error()
    assert runs.result == 2  # the demo's resolution and the one above
    shell.run_cell(code_cells("duplicates")[1]).raise_error()  # a report cell, read anew
    assert not contexts["governance_review"].store.is_open


def test_a_cell_shares_one_connection_and_releases_it_when_it_ends(demo, shell) -> None:
    ctx = run_notebook(shell, "governance_review", demo)
    shell.user_ns["opened"] = []
    check = (
        "ctx.store.scalar('SELECT 1'); opened.append(ctx.store.is_open)\n"
        "first = ctx.store.con\n"
        "ctx.store.scalar('SELECT 2'); opened.append(ctx.store.con is first)"
    )
    shell.run_cell(check).raise_error()
    assert shell.user_ns["opened"] == [True, True]  # held for the whole cell
    assert not ctx.store.is_open  # and closed when it ended


def test_a_context_outside_a_kernel_opens_the_warehouse_per_read(project) -> None:
    ctx = open_context(project, PERIOD)
    assert ctx.store.scalar("SELECT count(*) FROM id.members") > 0
    assert not ctx.store.is_open
    pair = pending_pairs(project)[0]
    free = workbench("review", "decide", *pair, "--no-match", "--project", str(project))
    assert free.returncode == 0, free.stdout + free.stderr
    with ctx.store.held():  # a burst of reads shares one connection: writers are kept out
        ctx.store.scalar("SELECT 1")
        held = workbench("review", "decide", *pair, "--match", "--project", str(project))
    assert held.returncode == 4 and "in use" in held.stdout + held.stderr
    assert decisions(project) == {tuple(sorted(pair)): "no_match"}
    assert not ctx.store.is_open
    assert ctx.store.table_exists("id", "members")


def test_a_brief_store_reads_like_a_store(demo) -> None:
    store = brief_store(load_project(demo))
    with open_store(load_project(demo), read_only=True) as plain:
        sql = "SELECT source, count(*) AS n FROM id.members GROUP BY source ORDER BY source"
        assert store.frame(sql).equals(plain.frame(sql))
        assert store.rows(sql) == plain.rows(sql)
        assert store.columns("id", "members") == plain.columns("id", "members")
        assert store.tables("id") == plain.tables("id")
    assert set(store.arrays("SELECT 1 AS a, 2 AS b")) == {"a", "b"}
    with pytest.raises(RuntimeError, match="held"):
        store.con  # noqa: B018
    with store.transaction():
        assert store.is_open and store.scalar("SELECT 42") == 42
    assert not store.is_open
