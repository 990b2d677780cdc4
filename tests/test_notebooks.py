"""The notebooks' contract: the `workbench` kernel (as `make lab` installs it), one tagged
parameters cell whose project defaults to $WORKBENCH_PROJECT, no outputs committed; and the
report runner names its own kernel, so `workbench report` needs no `workbench` kernelspec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import papermill as pm
import pytest

from workbench.report import runner
from workbench.report.runner import REPORTS, notebooks_dir, run_report

NOTEBOOKS = sorted(notebooks_dir().glob("*.ipynb"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def parameters_cell(notebook: dict[str, Any]) -> str:
    [cell] = [
        c
        for c in notebook["cells"]
        if c["cell_type"] == "code" and "parameters" in c["metadata"].get("tags", [])
    ]
    return "".join(cell["source"])


def test_every_report_has_a_notebook() -> None:
    assert {p.stem for p in NOTEBOOKS} >= set(REPORTS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_declares_the_workbench_kernel(path: Path) -> None:
    assert load(path)["metadata"]["kernelspec"] == {
        "display_name": "Workbench",
        "language": "python",
        "name": "workbench",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_project_comes_from_workbench_project_when_set(path: Path, monkeypatch) -> None:
    source = parameters_cell(load(path))
    monkeypatch.setenv("WORKBENCH_PROJECT", "/srv/crm-project")
    given: dict[str, Any] = {}
    exec(source, given)
    assert given["project"] == "/srv/crm-project"
    monkeypatch.delenv("WORKBENCH_PROJECT")
    default: dict[str, Any] = {}
    exec(source, default)
    assert default["project"] == "../data/demo"  # the demo, from notebooks/
    assert "project" in pm.inspect_notebook(str(path))  # papermill can still set it


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_is_committed_without_outputs(path: Path) -> None:
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


GOVERNANCE = """
governance: {sync_success_slo: 0.98, latency_slo_ms: 1000, latency_slo_share: 0.9}
sources:
  sync:
    system: ipaas
    object: sync_events
    path: s.csv
    columns: {record_id: id, occurred_at: at, status: st, latency_ms: ms}
"""


@pytest.mark.slow
def test_the_runner_runs_a_notebook_whose_kernel_is_not_installed(
    make_project, store_of, tmp_path, monkeypatch
) -> None:
    from workbench.ingest import ingest
    from workbench.pipeline import run_quality

    rows = "".join(f"e{i},2026-09-{1 + i % 28:02d}T10:00:00Z,success,200\n" for i in range(50))
    project = make_project(GOVERNANCE, {"s.csv": "id,at,st,ms\n" + rows})
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    store.close()
    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook = load(notebooks_dir() / "governance_review.ipynb")
    notebook["metadata"]["kernelspec"]["name"] = "no-such-kernel"
    (folder / "governance_review.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: folder)
    run = run_report(project, "governance_review", "2026-09", reports_dir=tmp_path / "out")
    assert run.status == "ok" and run.html is not None and run.html.exists()
