"""The docs cannot drift from the tool (issue 20, item 5).

- ``docs/reference.md`` is what :mod:`workbench.cli.reference` generates from the command
  line now (regenerate with ``make docs``).
- Every command has help text.
- Every YAML example in the README and in ``docs/`` is read by Workbench's own YAML reader
  and validated by the model of the file it belongs to (``workbench.yaml``,
  ``dictionary.yaml`` or ``roi.yaml``), so an example cannot use a key that does not exist.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from workbench.cli.reference import commands, reference
from workbench.config import load_project
from workbench.roi.config import load_roi

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```yaml[^\n]*\n(.*?)^```", re.S | re.M)


def test_the_command_reference_is_up_to_date() -> None:
    written = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert written == reference(), "docs/reference.md is stale: run `make docs`"


def test_every_command_has_help() -> None:
    for path, command, _ in commands():
        assert (command.help or "").strip(), f"`{' '.join(path)}` has no help text"


def yaml_examples() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text[: match.start()].count("\n") + 2
            found.append((f"{doc.relative_to(ROOT)}:{line}", match.group(1)))
    return found


def test_the_docs_hold_yaml_examples() -> None:
    assert len(yaml_examples()) >= 5


ROI_KEYS = {"horizon_months", "discount_rate", "costs", "value_drivers"}


@pytest.mark.parametrize(("where", "example"), yaml_examples(), ids=lambda v: str(v)[:40])
def test_every_yaml_example_is_valid(where: str, example: str, tmp_path: Path) -> None:
    example = textwrap.dedent(example) if not example.startswith(" ") else example
    if example.startswith("  "):  # more entries of the sources of the example before
        example = "sources:\n" + example
    first = example.lstrip().split(":", 1)[0]
    if first == "objects":  # a dictionary.yaml
        (tmp_path / "dictionary.yaml").write_text(example, encoding="utf-8")
        (tmp_path / "workbench.yaml").write_text("dictionary: dictionary.yaml\n")
        load_project(tmp_path)
    elif first in ROI_KEYS:  # a roi.yaml
        (tmp_path / "roi.yaml").write_text(example, encoding="utf-8")
        load_roi(tmp_path)
    else:  # workbench.yaml, whole or a part of it
        if re.search(r"^dictionary: dictionary\.yaml", example, re.M):
            # a project's own dictionary: the dictionary example just before it in the doc
            (tmp_path / "dictionary.yaml").write_text(_dictionary_before(where))
        (tmp_path / "workbench.yaml").write_text(example, encoding="utf-8")
        load_project(tmp_path)


def _dictionary_before(where: str) -> str:
    """The last ``objects:`` example before the example at ``where`` in the same file."""
    doc, line = where.rsplit(":", 1)
    before = [
        e
        for w, e in yaml_examples()
        if w.rsplit(":", 1)[0] == doc and int(w.rsplit(":", 1)[1]) < int(line)
        and textwrap.dedent(e).startswith("objects:")
    ]  # fmt: skip
    assert before, f"{where} names dictionary.yaml but no dictionary example comes before it"
    return textwrap.dedent(before[-1])
