"""The import layers of pyproject.toml ([tool.importlinter]) hold: commands over operations,
operations over the stages in the order data flows, stages over the low-level services.

`make lint` runs the same check (lint-imports); this test makes CI (`make test`) keep it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_layers_contract_is_kept():
    script = Path(sys.executable).parent / "lint-imports"
    assert script.exists(), "lint-imports is missing: install the dev tools (make install)"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [str(script), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout, done.stdout
