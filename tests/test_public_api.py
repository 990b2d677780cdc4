"""The public API: every name in ``workbench.__all__`` is there, and none of them is
imported before it is used (so ``import workbench`` and ``workbench --help`` stay fast)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import workbench


def test_every_public_name_resolves_to_what_it_says() -> None:
    for name in workbench.__all__:
        value = getattr(workbench, name)
        assert not inspect.ismodule(value), name
        if name != "__version__":
            assert value.__module__.startswith("workbench."), name


def test_importing_the_package_or_the_cli_loads_no_heavy_library() -> None:
    heavy = ["duckdb", "polars", "splink", "pandera", "scipy", "plotly", "papermill", "numpy"]
    code = (
        "import sys, workbench, workbench.cli; "
        f"print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
