"""CSV exports for spreadsheets: every text cell is made safe against formula injection.

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as
a formula by Excel or LibreOffice; such cells are written with a leading apostrophe, which
spreadsheets show as text.

The path ``-`` means stdout (``workbench export ... --out -``): the CSV alone is written
there, as UTF-8 like the files.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"
STDOUT = "-"


def neutralize(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every string cell that could start a formula prefixed by ``'``."""
    import polars as pl

    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def is_stdout(path: Path | str) -> bool:
    """Whether ``path`` is ``-``, which means stdout."""
    return str(path) == STDOUT


def write_csv(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` as UTF-8 CSV for spreadsheets, formula-safe; returns the path.

    ``path`` ``-`` writes the CSV to stdout."""
    try:
        if is_stdout(path):
            write_stdout(neutralize(frame).write_csv())
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        neutralize(frame).write_csv(path)
    except OSError as exc:
        raise cannot_write(path, exc) from exc
    return path


def write_text_file(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` as UTF-8 (making its folder); one message if it cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise cannot_write(path, exc) from exc
    return path


def cannot_write(path: Path, exc: OSError) -> WorkbenchError:
    """The error of an --out path that cannot be written (a folder, full, read-only...)."""
    return WorkbenchError(
        f"Cannot write {path}: {exc.strerror or exc}.",
        where=str(path),
        fix="Choose a writable path with --out.",
    )


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout as UTF-8 whatever the terminal's encoding, after anything
    printed before it."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    stream.flush()
    if buffer is None:
        stream.write(text)
        stream.flush()
        return
    buffer.write(text.encode("utf-8"))
    buffer.flush()
