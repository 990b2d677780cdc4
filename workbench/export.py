"""CSV exports for spreadsheets: every text cell is made safe against formula injection.

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as
a formula by Excel or LibreOffice; such cells are written with a leading apostrophe, which
spreadsheets show as text.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from workbench.errors import WorkbenchError

FORMULA_START = r"^[=+\-@\t\r]"


def neutralize(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every string cell that could start a formula prefixed by ``'``."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def write_csv(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` as UTF-8 CSV for spreadsheets, formula-safe; returns the path."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        neutralize(frame).write_csv(path)
    except OSError as exc:
        raise WorkbenchError(
            f"Cannot write {path}: {exc.strerror}.",
            where=str(path),
            fix="Choose a writable path with --out.",
        ) from exc
    return path
