"""Reports: every notebook runs through papermill on demo data, renders to offline HTML,
and the HTML shows working plotly charts in headless Chromium (Debian's chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.report.runner import REPORTS
from workbench.store import Store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PERIOD = "2026-09"  # as rendered by conftest.demo_reports


@pytest.fixture
def rendered(demo_reports: tuple[Path, Path]) -> tuple[Path, Path]:
    """The session's demo (1,500 contacts, seed 11) with `workbench report all` rendered for
    PERIOD (conftest.py): read only here; the tests that render again work on a copy."""
    return demo_reports


def test_every_report_is_written_with_notebook_html_and_index(rendered) -> None:
    _, reports = rendered
    for name in REPORTS:
        folder = reports / name / PERIOD
        assert (folder / f"{name}.ipynb").stat().st_size > 0
        html = (folder / f"{name}.html").read_text()
        assert "Traceback" not in html
        # plotly.js embedded once, and charts that draw with it
        assert html.count("* plotly.js v") == 1
        charts = html.count('class="plotly-graph-div"')
        assert charts >= 1 and html.count("Plotly.newPlot(") == charts
        # offline: nothing is loaded from the network
        assert 'src="http' not in html and "require.js" not in html
    index = (reports / "index.html").read_text()
    for name in REPORTS:
        assert f"{name}/{PERIOD}/{name}.html" in index
    assert "validation run" in index and "masked" in index
    assert not list(reports.glob(".tmp-*"))


def test_reports_mask_personal_data_by_default(rendered) -> None:
    project, reports = rendered
    html = (reports / "duplicates" / PERIOD / "duplicates.html").read_text()
    with Store(load_project(project).warehouse_path, read_only=True) as store:
        emails = [
            r[0]
            for r in store.rows("SELECT email FROM core.contacts WHERE email IS NOT NULL LIMIT 200")
        ]
    assert "***@" in html
    assert not [e for e in emails if e in html]


# one report drawn in Chromium by `make test`, the other four by `make test-slow`
IN_CHROMIUM = [
    name if name == "kpi_baseline" else pytest.param(name, marks=pytest.mark.slow)
    for name in REPORTS
]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make browser)")
@pytest.mark.parametrize("name", IN_CHROMIUM)
def test_html_renders_charts_in_headless_chromium(rendered, name: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    _, reports = rendered
    page_file = reports / name / PERIOD / f"{name}.html"
    screenshot = tmp_path / f"{name}.png"  # not beside the shared report
    errors: list[str] = []
    external: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def route(r):  # offline: any request that leaves the file is refused and noted
            if r.request.url.startswith("file:"):
                return r.continue_()
            external.append(r.request.url)
            return r.abort()

        page.route("**/*", route)
        page.goto(page_file.as_uri())
        page.wait_for_selector(".js-plotly-plot svg.main-svg", timeout=20_000)
        plots = page.locator(".js-plotly-plot").count()
        drawn = page.locator(".js-plotly-plot .plot-container svg.main-svg").count()
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert plots >= 1 and drawn >= plots
    assert errors == []
    assert external == []
    assert screenshot.stat().st_size > 10_000


@pytest.mark.slow
def test_failed_run_keeps_the_last_good_report(demo_reports_copy, capsys) -> None:
    broken, reports = demo_reports_copy  # a private copy, whose warehouse is broken here
    html = reports / "duplicates" / PERIOD / "duplicates.html"
    before = html.read_text()
    with Store(load_project(broken).warehouse_path) as store:
        store.execute("DROP TABLE id.members")
    code = main(
        [
            "report",
            "duplicates",
            "--period",
            PERIOD,
            "--project",
            str(broken),
            "--out",
            str(reports),
        ]
    )
    assert code == 6
    err = capsys.readouterr().err
    assert "duplicates for 2026-09 failed in cell" in err and "Traceback" not in err
    assert html.read_text() == before
    assert not list(reports.glob(".tmp-*"))
    with Store(load_project(broken).warehouse_path, read_only=True) as store:
        status, cell = store.rows(
            "SELECT status, failed_cell FROM meta.report_runs ORDER BY run_id DESC LIMIT 1"
        )[0]
    assert status == "failed" and cell is not None


@pytest.mark.slow
def test_rerun_is_idempotent_and_reports_what_changed(demo_reports_copy, capsys) -> None:
    project, reports = demo_reports_copy
    capsys.readouterr()
    assert (
        main(
            [
                "report",
                "governance_review",
                "--period",
                PERIOD,
                "--project",
                str(project),
                "--out",
                str(reports),
            ]
        )
        == 0
    )
    out = " ".join(capsys.readouterr().out.split())  # as one line, however the console wraps
    assert "no new data since the previous run" in out
    assert sorted(p.name for p in (reports / "governance_review").iterdir()) == [PERIOD]


def test_report_arguments_are_checked(rendered, capsys) -> None:
    project, _ = rendered
    assert main(["report", "nope", "--period", PERIOD, "--project", str(project)]) == 2
    assert "no report named 'nope'" in capsys.readouterr().err
    assert (
        main(["report", "roi", "--period", PERIOD, "-p", "colour=red", "--project", str(project)])
        == 2
    )
    assert "Unknown report parameter" in capsys.readouterr().err
    assert (
        main(["report", "roi", "--period", PERIOD, "-p", "unmask=true", "--project", str(project)])
        == 2
    )
    assert "privacy.allow_unmask" in capsys.readouterr().err


def test_schedule_prints_a_crontab_line(rendered, capsys) -> None:
    project, _ = rendered
    assert (
        main(["schedule", "--report", "roi", "--cron", "0 6 1 * *", "--project", str(project)]) == 0
    )
    line = capsys.readouterr().out.strip()
    assert line.startswith("0 6 1 * * ")
    assert "report roi --period previous --project" in line and line.endswith("# workbench:roi")
    assert main(["schedule", "--report", "roi", "--cron", "daily", "--project", str(project)]) == 2
    capsys.readouterr()
    # no line for a folder that is no project: cron would fail there at every run
    nowhere = str(project.parent / "no-such-project")
    assert main(["schedule", "--report", "roi", "--project", nowhere]) == 2
    said = capsys.readouterr()
    assert "No workbench.yaml in" in said.err and "# workbench:roi" not in said.out
