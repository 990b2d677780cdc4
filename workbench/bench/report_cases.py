"""Report benchmark: the five reports of a period on the 1M-contact demo, against a bare
papermill run of a notebook with four DuckDB queries over the same data and two plotly
charts (the floor any notebook report pays: kernel, imports, queries, charts, HTML)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat

BARE_CELLS = [
    'warehouse = "data/warehouse.duckdb"',
    "import duckdb\nimport plotly.express as px\nfrom IPython.display import HTML, display\n"
    "con = duckdb.connect(warehouse, read_only=True)",
    "a = con.sql('SELECT _source, count(*) n FROM core.contacts GROUP BY 1').pl()\n"
    "b = con.sql('SELECT country, count(*) n FROM core.contacts GROUP BY 1 ORDER BY 2 DESC "
    "LIMIT 20').pl()\n"
    "c = con.sql(\"SELECT date_trunc('month', created_at) m, count(*) n FROM core.contacts "
    'GROUP BY 1 ORDER BY 1").pl()\n'
    "d = con.sql('SELECT count(DISTINCT email_norm) FROM core.contacts').fetchall()",
    "display(HTML(px.bar(a, x='_source', y='n').to_html(full_html=False, include_plotlyjs=True)))",
    "display(HTML(px.line(c, x='m', y='n').to_html(full_html=False, include_plotlyjs=False)))",
]


def write_bare_notebook(path: Path) -> Path:
    """The bare notebook (a tagged parameters cell, then :data:`BARE_CELLS`) at ``path``."""
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in BARE_CELLS])
    book.cells[0].metadata["tags"] = ["parameters"]
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(book, path)
    return path


def render_bare_report(work: Path, name: str, warehouse: Path | None = None) -> Path:
    """Plain papermill and nbconvert: the bare notebook written to ``work``/NAME.ipynb, run
    (on ``warehouse``, else its default ``data/warehouse.duckdb`` under ``work``) and
    rendered to ``work``/NAME.html, which is returned."""
    import papermill as pm

    from workbench.report.runner import render_html

    source = write_bare_notebook(work / f"{name}.ipynb")
    executed = work / f"{name}.out.ipynb"
    pm.execute_notebook(
        str(source),
        str(executed),
        parameters={"warehouse": str(warehouse)} if warehouse else None,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(work),
    )
    page = work / f"{name}.html"
    page.write_text(render_html(executed))
    return page


def bare_papermill(size: Path, work: Path) -> tuple[float, int]:
    """Plain papermill + nbconvert: four queries over the demo's contacts, two charts."""
    start = time.perf_counter()
    render_bare_report(work, "bench_bare")
    return time.perf_counter() - start, 1


def workbench_reports(size: Path, work: Path) -> tuple[float, int]:
    """Workbench: `workbench report all` for the last month of the demo (five reports, one
    kernel); the time per report is the total divided by five. Each report's own time and
    the kernel's start and stop go to ``reports/bench_seconds.json``."""
    from workbench.config import load_project
    from workbench.report.runner import REPORTS, run_report, shared_kernel

    project = load_project(work)
    start = time.perf_counter()
    seconds = {}
    with shared_kernel() as kernel:
        client = kernel.blocking_client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        client.stop_channels()
        started = time.perf_counter() - start
        for name in REPORTS:
            run = run_report(project, name, "2026-10", reports_dir=work / "reports", kernel=kernel)
            seconds[name] = round(run.seconds, 2)
        stopping = time.perf_counter()
    total = time.perf_counter() - start
    seconds["kernel"] = round(started + time.perf_counter() - stopping, 2)
    (work / "reports" / "bench_seconds.json").write_text(json.dumps(seconds))
    return total / len(REPORTS), len(REPORTS)
