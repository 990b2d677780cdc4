"""Shared fixtures: throw-away projects written from YAML text and export files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

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
