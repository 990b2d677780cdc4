"""The built wheel is the whole product (issue 20, items 1 and 2).

The wheel is built from the checkout and installed into a fresh virtual environment in a
temporary folder, away from the checkout; from there, `workbench demo` and `workbench
report all` run end to end, so the notebooks, report templates and starter files must come
from the wheel itself. The fresh environment sees the already installed dependencies
through a ``.pth`` file and their data files through ``JUPYTER_PATH`` (the machine has no
network for a second full install), but not the checkout: the test asserts that
``workbench`` is imported from the new environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import workbench

ROOT = Path(__file__).parent.parent
PERIOD = "2026-10"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600):
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_the_version_is_written_once_and_the_command_prints_it(capsys) -> None:
    from workbench.cli import main

    assert '\nversion = "' not in (ROOT / "pyproject.toml").read_text()  # dynamic: one place
    assert metadata.version("crm-workbench") == workbench.__version__
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"workbench {workbench.__version__}"


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_the_wheel_installed_elsewhere_runs_the_demo_and_its_reports(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    pip = (sys.executable, "-m", "pip")
    run(*pip, "wheel", "--no-deps", "--quiet", "-w", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("crm_workbench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for report in ("data_quality", "duplicates", "kpi_baseline", "roi", "governance_review"):
        assert f"workbench/report/notebooks/{report}.ipynb" in names
    assert "workbench/report/templates/workbench/index.html.j2" in names
    assert "workbench/templates/workbench.yaml" in names
    assert not [n for n in names if n.startswith(("tests/", "data/", "reports/"))]

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    deps = sysconfig.get_path("purelib")  # this environment's packages, as dependencies
    (site / "zz_dependencies.pth").write_text(deps + "\n")
    run(venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "-q", wheel, cwd=tmp_path)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # the dependencies' data files (nbconvert's templates) beside those packages
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    where = run(
        venv / "bin" / "python", "-c", "import workbench; print(workbench.__file__)",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(site)), where.stdout

    project, reports = tmp_path / "demo", tmp_path / "reports"
    workbench_cmd = venv / "bin" / "workbench"
    run(workbench_cmd, "demo", "--project", project, "--contacts", "300", cwd=tmp_path, env=env)
    run(
        workbench_cmd, "report", "all", "--period", PERIOD, "--project", project,
        "--out", reports, cwd=tmp_path, env=env,
    )  # fmt: skip
    for report in ("data_quality", "duplicates", "kpi_baseline", "roi", "governance_review"):
        html = (reports / report / PERIOD / f"{report}.html").read_text()
        assert "Traceback" not in html and html.count("* plotly.js v") == 1
    assert (reports / "index.html").exists()
