"""What a reader hands the loader: a file's columns and a SELECT yielding its rows as text.

Every reader returns an :class:`Incoming`: the source's column names and a SQL ``SELECT``
(with bound parameters) that produces each column as VARCHAR plus ``_row_number``, the
1-based position of the record in the file. Also here: the checks and message clean-up all
readers share.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import IngestError, where_file
from workbench.ingest.files import ExportFile
from workbench.ingest.rejects import Reject
from workbench.store import quote_ident

LINEAGE = ("_load_id", "_source_file", "_row_number")


class RetryWithRejects(Exception):
    """The strict read cannot tell good rows from bad; read again collecting rejects."""


class NoRecords(IngestError):
    """A JSON export that holds no record: nothing in it tells its columns. Loaded as an
    empty export only when asked (``workbench ingest --allow-empty``: :func:`no_rows`)."""


@dataclass
class Incoming:
    """The rows of one file, ready to be inserted into a raw table.

    ``rejects`` (when set) lists the records the reader set aside, after the rows were
    inserted; ``duplicates`` maps a lower-cased header name that occurs more than once to
    its 1-based column positions, and ``renamed`` a lower-cased column name the reader gave
    a repeated one (DuckDB's ``Email_1`` for a second ``Email``) to the name in the header
    and its position.
    """

    columns: list[str]
    select_sql: str
    params: dict[str, Any]
    rejects: Callable[[], list[Reject]] | None = None
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    renamed: dict[str, tuple[str, int]] = field(default_factory=dict)
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    layout: bool = True  # whether the columns are the file's own (recorded for drift)

    def close(self) -> None:
        for step in self.cleanup:
            step()


def header_repeats(
    columns: list[str], header: list[str | None]
) -> tuple[dict[str, list[int]], dict[str, tuple[str, int]]]:
    """From the reader's ``columns`` and the ``header`` as written: the names that occur more
    than once (case-insensitively, trimmed) with their 1-based positions, and the names the
    reader gave a repeated one (``Email_1``) with the name written there and its position
    (:attr:`Incoming.duplicates`, :attr:`Incoming.renamed`)."""
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(header, start=1):
        if name is not None:
            seen.setdefault(name.strip().lower(), []).append(position)
    duplicates = {name: spots for name, spots in seen.items() if len(spots) > 1}
    if not duplicates:
        return {}, {}
    renamed = {
        column.strip().lower(): (str(written), position)
        for position, (column, written) in enumerate(zip(columns, header, strict=False), start=1)
        if written is not None and column.strip().lower() != str(written).strip().lower()
    }
    return duplicates, renamed


def text_select(
    columns: list[str], source_sql: str, params: dict[str, Any], row_number: str
) -> str:
    cols = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
    return f"SELECT {cols}, {row_number} AS _row_number FROM {source_sql}"


def column_names(export: ExportFile, columns: list[str]) -> list[str]:
    """Refuse column names no table can have (control characters such as NUL bytes)."""
    for position, name in enumerate(columns, start=1):
        if any(ord(ch) < 32 and ch not in "\t" for ch in name):
            raise IngestError(
                f"{export.path.name}: the name of column {position} ({name!r}) holds control "
                "characters such as NUL bytes.",
                where=where_file(export.path, 1),
                fix="Fix the header of the export (or check options.encoding: UTF-16 read as "
                "UTF-8 looks like this); nothing was loaded.",
            )
    return columns


_ERROR_KIND = re.compile(r"^[A-Z][A-Za-z ]*Error: ")


_COPY = re.compile(r'"?[^"\s]*/workbench-[^"\s/]*\.csv"?')  # csv_reader's temporary copies


def clean_message(text: str, export: ExportFile) -> str:
    """DuckDB's first line, without its error class and with the file named once."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = _ERROR_KIND.sub("", first)
    for spelled in (f' in file "{export.path}"', f" in file '{export.path}'"):
        first = first.replace(spelled, "")
    first = first.replace(f'"{export.path}"', export.path.name).replace(
        str(export.path), export.path.name
    )
    # a copy Workbench read instead (transcoded, line ends fixed) is the export to the user
    return _COPY.sub(export.path.name, first)


def no_rows(columns: list[str]) -> Incoming:
    """No row, with ``columns`` (all text) that the file itself did not give: an empty JSON
    export loaded as such (:class:`NoRecords`); its layout is not recorded."""
    cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {quote_ident(c)}" for c in columns)
    return Incoming(
        columns=columns,
        select_sql=f"SELECT CAST(NULL AS BIGINT) AS _row_number{', ' + cols if cols else ''} "
        "WHERE false",
        params={},
        layout=False,
    )
