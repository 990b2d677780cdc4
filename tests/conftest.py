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


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Demo projects made once per test session for each (contacts, seed), through the CLI.

    They are shared masters: a test that changes its project uses :func:`demo_copy`."""
    made: dict[tuple[int, int | None], Path] = {}

    def make(contacts: int, seed: int | None = None) -> Path:
        if (contacts, seed) not in made:
            folder = tmp_path_factory.mktemp("demo") / f"demo-{contacts}-{seed}"
            args = ["demo", "--project", str(folder), "--contacts", str(contacts)]
            assert main(args + (["--seed", str(seed)] if seed is not None else [])) == 0
            made[(contacts, seed)] = folder
        return made[(contacts, seed)]

    return make


@pytest.fixture
def demo_copy(demo_source: Callable[..., Path], tmp_path: Path) -> Callable[..., Path]:
    """A private copy of a session demo project (see :func:`demo_source`)."""

    def copy(contacts: int, seed: int | None = None) -> Path:
        target = tmp_path / f"demo-{contacts}-{seed}"
        shutil.copytree(demo_source(contacts, seed), target)
        return target

    return copy
