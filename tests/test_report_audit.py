"""Reports and the audit trail: a notebook run unmasked leaves an entry whoever starts it
(papermill or Jupyter directly, or `workbench report`, once), is refused where the project
does not allow it, and a report file replaced other than as recorded is recorded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import papermill as pm
import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.report import runner
from workbench.report.files import lock_file
from workbench.store import open_store

PERIOD = "2026-09"
CONFIG = """
sources:
  crm:
    system: crm
    object: contacts
    path: c.csv
    columns: {record_id: id, first_name: first, last_name: last, email: email, created_at: at}
"""
EXPORT = (
    "id,first,last,email,at\n"
    "1,Anna,Meyer,anna@acme.com,2026-09-02\n"
    "2,Anne,Meyer,anna@acme.com,2026-09-03\n"
    "3,Bob,Stone,bob@@acme.com,2026-09-04\n"
)
ALLOW = "\nprivacy: {allow_unmask: true}\n"


@pytest.fixture
def root(make_project, tmp_path: Path, capsys) -> Path:
    make_project(CONFIG, {"c.csv": EXPORT})
    assert main(["ingest", "--project", str(tmp_path)]) == 0
    assert main(["validate", "--project", str(tmp_path)]) == 0
    capsys.readouterr()
    return tmp_path


def _entries(root: Path) -> list[tuple[str, dict]]:
    with open_store(load_project(root), read_only=True) as store:
        rows = store.rows("SELECT action, details FROM meta.audit ORDER BY entry_id")
    return [(action, json.loads(details)) for action, details in rows]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_a_notebook_run_unmasked_outside_the_cli_is_refused_or_audited(
    root: Path, tmp_path: Path
) -> None:
    notebook = str(runner.notebooks_dir() / "governance_review.ipynb")
    params = {"project": str(root), "period": PERIOD, "unmask": True}
    before = _entries(root)
    with runner.shared_kernel() as kernel:
        # not allowed: the context refuses before reading anything, and records nothing
        with pytest.raises(pm.PapermillExecutionError) as refused:
            pm.execute_notebook(
                notebook, str(tmp_path / "refused.ipynb"), parameters=params, km=kernel,
                progress_bar=False, cwd=str(runner.notebooks_dir()),
            )  # fmt: skip
        assert refused.value.ename == "ConfigError"
        assert _entries(root) == before
        with (root / "workbench.yaml").open("a") as config:
            config.write(ALLOW)
        pm.execute_notebook(
            notebook, str(tmp_path / "shown.ipynb"), parameters=params, km=kernel,
            progress_bar=False, cwd=str(runner.notebooks_dir()),
        )  # fmt: skip
    added = _entries(root)[len(before) :]
    assert [a for a, _ in added] == ["config_changed", "unmask"]
    assert added[1][1] == {"view": "report notebook", "period": PERIOD}


def test_workbench_report_unmasked_leaves_one_unmask_entry(root: Path, capsys) -> None:
    with (root / "workbench.yaml").open("a") as config:
        config.write(ALLOW)
    before = len(_entries(root))
    args = ["report", "governance_review", "--period", PERIOD, "-p", "unmask=true"]
    assert main([*args, "--project", str(root)]) == 0
    added = _entries(root)[before:]
    assert [a for a, _ in added] == ["config_changed", "unmask", "report"]
    assert added[2][1]["masked"] is False


REAL_RUN = pm.execute_notebook  # the runner's papermill, before any test hooks into it


def _render(root: Path, note: str = "") -> Path:
    project = load_project(root)
    run = runner.run_report(project, "governance_review", PERIOD, params={"note": note})
    assert run.html is not None
    return run.html


def _replaced(root: Path) -> list[dict]:
    return [d for a, d in _entries(root) if a == "report_replaced"]


@pytest.mark.slow
def test_a_report_file_changed_since_its_run_is_recorded_when_replaced(root: Path) -> None:
    html = _render(root, "first")
    written = _sha(html)
    _render(root, "second")  # replaces the file its run recorded: nothing to say
    assert _replaced(root) == []
    second = _sha(html)
    html.write_text(html.read_text() + "<!-- changed by hand -->")
    changed = _sha(html)
    _render(root, "third")
    [entry] = _replaced(root)
    assert written != second != changed
    assert entry["path"] == str(html)
    assert (entry["old_sha256"], entry["recorded_sha256"]) == (changed, second)
    assert entry["new_sha256"] == _sha(html)
    assert entry["why"] == ["the file replaced is not the one run 2 recorded"]


@pytest.mark.slow
def test_a_run_overtaken_by_a_later_one_is_recorded(root: Path, monkeypatch) -> None:
    """Run A executes; meanwhile run B starts, finishes and is recorded; then A puts its
    older output over B's."""
    later: list[str] = []

    def slow_first_run(source: str, output: str, parameters: dict, **kw: object) -> object:
        if not later:  # B runs (really) while A is still executing
            monkeypatch.setattr(runner.pm, "execute_notebook", REAL_RUN)
            later.append(_sha(_render(root, "B")))
            # in one process B used (and cleared) A's temporary folder: make it again
            Path(output).parent.mkdir(parents=True, exist_ok=True)
        return REAL_RUN(source, output, parameters, **kw)

    monkeypatch.setattr(runner.pm, "execute_notebook", slow_first_run)
    html = _render(root, "A")
    [entry] = _replaced(root)
    assert entry["old_sha256"] == entry["recorded_sha256"] == later[0]
    assert entry["new_sha256"] == _sha(html) != later[0]
    assert entry["why"] == ["overtaken: run 1, started after this one, had written it"]


@pytest.mark.slow
def test_a_run_that_lost_its_lock_is_recorded(root: Path, monkeypatch) -> None:
    html = _render(root, "first")
    replace = runner._replace

    def lock_removed_meanwhile(tmp: Path, final: Path) -> None:
        lock_file(root, final).unlink()
        replace(tmp, final)

    monkeypatch.setattr(runner, "_replace", lock_removed_meanwhile)
    _render(root, "second")
    [entry] = _replaced(root)
    assert entry["path"] == str(html)
    assert entry["why"] == [
        "the run lost its lock on the report folder (the lock file was removed)"
    ]
