"""NDJSON with unreadable lines: keep the good lines, set the others aside with the reason.

DuckDB fails a whole NDJSON file on one malformed line (and reports the wrong line), so
when a strict read fails the loader comes here: every line is checked with Python's JSON
parser (a record must be one JSON object, with no duplicate keys and no NaN), the good
lines are copied to a temporary file for DuckDB to read, and the bad ones become
:class:`~workbench.ingest.rejects.Reject` values with their line and record position.
Blank lines are not records.
"""

from __future__ import annotations

import gzip as gz
import json
import tempfile
from pathlib import Path
from typing import Any

from workbench.ingest.rejects import Reject


class _LineError(ValueError):
    pass


def split_lines(path: Path, *, gzip: bool) -> tuple[Path, list[Reject], int]:
    """Copy the readable lines of ``path`` to a temporary file (the caller deletes it).

    Returns the temporary file, the rejects and the number of records (non-blank lines).
    """
    handle, name = tempfile.mkstemp(suffix=".ndjson", prefix="workbench-")
    out = Path(name)
    rejects: list[Reject] = []
    records = 0
    opener = gz.open if gzip else open
    try:
        with opener(path, "rb") as src, open(handle, "wb") as dst:
            for line_number, line in enumerate(src, start=1):
                body = line.rstrip(b"\r\n")
                if not body.strip():
                    continue
                records += 1
                try:
                    _check(body)
                except (_LineError, UnicodeDecodeError, ValueError) as exc:
                    rejects.append(
                        Reject(
                            row_number=records,
                            line=line_number,
                            column_name=None,
                            error_type=_kind(exc),
                            raw_record=body.decode("utf-8", errors="replace"),
                            message=str(exc),
                        )
                    )
                    continue
                dst.write(body + b"\n")
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out, rejects, records


def _kind(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "INVALID ENCODING"
    return "NOT AN OBJECT" if isinstance(exc, _LineError) else "MALFORMED JSON"


def _check(body: bytes) -> None:
    value = json.loads(
        body.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant
    )
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), "value")
        raise _LineError(f"the line holds a JSON {kind}, not an object")


_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen.add(key)
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
