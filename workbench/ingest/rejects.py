"""Rows a reader could not read: set aside in ``quar.ingest_rejects`` with line and reason.

Readers collect them (DuckDB's CSV reject tables, unreadable NDJSON lines) as
:class:`Reject` values; :func:`store_rejects` writes them and renumbers the loaded rows of
the load so that ``_row_number`` stays each record's true position in the file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl

from workbench.store import Store, quote_ident

_FRAME = "_wb_ingest_rejects"


@dataclass(frozen=True)
class Reject:
    """One unreadable record: its position among the file's records and its first line."""

    row_number: int
    line: int
    column_name: str | None
    error_type: str
    raw_record: str
    message: str


def store_rejects(
    store: Store, rejects: list[Reject], *, load_id: int, source: str, file: str, raw: str
) -> int:
    """Insert ``rejects`` for a load whose rows are in the (quoted) table ``raw``.

    The reader numbered the loaded rows 1..n without the rejected ones; they are renumbered
    to their position among all records. Returns the number of rejects.
    """
    if not rejects:
        return 0
    frame = pl.DataFrame(
        [asdict(r) for r in rejects],
        schema={
            "row_number": pl.Int64,
            "line": pl.Int64,
            "column_name": pl.String,
            "error_type": pl.String,
            "raw_record": pl.String,
            "message": pl.String,
        },
    )
    with store.registered(_FRAME, frame):
        store.execute(
            f"""INSERT INTO quar.ingest_rejects
                SELECT $id, $s, $f, row_number, line, column_name, error_type, raw_record,
                       message
                FROM {quote_ident(_FRAME)} ORDER BY row_number""",
            {"id": load_id, "s": source, "f": file},
        )
    loaded = int(store.scalar(f"SELECT count(*) FROM {raw} WHERE _load_id = $id", {"id": load_id}))
    store.execute(
        f"""UPDATE {raw} SET _row_number = m.position FROM (
                SELECT row_number() OVER (ORDER BY position) AS loaded_position, position
                FROM range(1, $n + 1) r(position)
                WHERE position NOT IN (
                    SELECT row_number FROM quar.ingest_rejects WHERE load_id = $id)
            ) m
            WHERE {raw}._load_id = $id AND {raw}._row_number = m.loaded_position""",
        {"id": load_id, "n": loaded + len(rejects)},
    )
    return len(rejects)
