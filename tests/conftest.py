"""Shared fixtures: throw-away projects written from YAML text and export files."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.config import Project, load_project
from workbench.store import Store, open_store

MakeProject = Callable[..., Project]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write ``workbench.yaml`` (dedented) and export files into a temp folder; load it."""

    def make(config: str, files: dict[str, str | bytes] | None = None) -> Project:
        for name, content in (files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        (tmp_path / "workbench.yaml").write_text(textwrap.dedent(config), encoding="utf-8")
        return load_project(tmp_path)

    return make


@pytest.fixture
def store_of() -> Callable[[Project], Store]:
    """Open (and later close) the warehouse of a project."""
    opened: list[Store] = []

    def open_(project: Project) -> Store:
        store = open_store(project)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


DEMO_SEED = 42  # `workbench demo`'s default seed
REPORT_PERIOD = "2026-09"  # the month the shared reports are rendered for


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Demo projects made once per test session for each (contacts, seed), through the CLI.

    They are shared masters: a test that changes its project uses :func:`demo_copy`."""
    made: dict[tuple[int, int], Path] = {}

    def make(contacts: int, seed: int | None = None) -> Path:
        key = (contacts, DEMO_SEED if seed is None else seed)
        if key not in made:
            folder = tmp_path_factory.mktemp("demo") / f"demo-{key[0]}-{key[1]}"
            args = ["demo", "--project", str(folder), "--contacts", str(key[0])]
            assert main([*args, "--seed", str(key[1])]) == 0
            made[key] = folder
        return made[key]

    return make


@pytest.fixture
def demo_copy(demo_source: Callable[..., Path], tmp_path: Path) -> Callable[..., Path]:
    """A private copy of a session demo project (see :func:`demo_source`), warehouse and all."""

    def copy(contacts: int, seed: int | None = None) -> Path:
        target = tmp_path / f"demo-{contacts}-{DEMO_SEED if seed is None else seed}"
        shutil.copytree(demo_source(contacts, seed), target)
        return target

    return copy


@pytest.fixture(scope="session")
def demo_reports(
    demo_source: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """(project, reports): the 1,500-contact demo (seed 11) with every report rendered for
    :data:`REPORT_PERIOD` by `workbench report all`, once per test session.

    Shared by the report tests that only read them; a test that renders again, changes the
    warehouse or writes next to the reports uses :func:`demo_reports_copy`."""
    root = tmp_path_factory.mktemp("reports")
    project, reports = root / "demo", root / "out"
    shutil.copytree(demo_source(1500, 11), project)
    argv = ["report", "all", "--period", REPORT_PERIOD, "--project", str(project)]
    assert main([*argv, "--out", str(reports)]) == 0
    return project, reports


@pytest.fixture
def demo_reports_copy(demo_reports: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of :func:`demo_reports` (project and rendered reports)."""
    project, reports = (Path(shutil.copytree(p, tmp_path / p.name)) for p in demo_reports)
    return project, reports
