"""JSON exports that hold their records under a key of one object, as the list exports of
Stripe and Chargebee do (``{"object": "list", "data": [{...}, {...}]}``).

A source's ``options.records`` names the key; :func:`records_as_lines` writes the records one
a line, so that the NDJSON reader loads them: a record that is not an object is set aside
with its position in the array, as an NDJSON line would be.
"""

from __future__ import annotations

import gzip as gz
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from workbench.errors import IngestError, where_file
from workbench.ingest.files import ExportFile

MAX_LIST_BYTES = 1 << 30
"""The largest such export read: Python parses it whole (about ten times its size in memory)."""


def records_as_lines(export: ExportFile, key: str, *, where: str | None = None) -> Path:
    """A temporary NDJSON file of the records under ``key`` (the caller deletes it).
    ``where`` names the setting that gave ``key`` in messages (default: the source's
    ``options.records``)."""
    where = where or f"sources.{export.source}.options.records"
    if export.size > MAX_LIST_BYTES:
        raise IngestError(
            f"{export.path.name} is {export.size:,} bytes: Workbench reads records under a key "
            f"of one JSON object ({where}) only up to {MAX_LIST_BYTES:,} bytes.",
            where=str(export.path),
            fix="Export the records as NDJSON (one object a line) or a JSON array; nothing "
            "was loaded.",
        )
    opener = gz.open if export.gzip else open
    try:
        with opener(export.path, "rb") as handle:
            document = json.load(handle, object_pairs_hook=_Object)
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"{export.path.name} cannot be read as JSON: {exc.msg} (line {exc.lineno}, "
            f"column {exc.colno}).",
            where=where_file(export.path, exc.lineno),
            fix="Copy or export the file again; nothing was loaded.",
        ) from exc
    except RecursionError as exc:
        raise IngestError(
            f"{export.path.name} nests JSON values deeper than Python reads.",
            where=str(export.path),
            fix="Export the records as NDJSON (one object a line); nothing was loaded.",
        ) from exc
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise IngestError(
            f"{export.path.name} cannot be read as JSON: {exc}.",
            where=str(export.path),
            fix="Copy or export the file again (JSON is UTF-8); nothing was loaded.",
        ) from exc
    found = [v for k, v in document if k == key] if isinstance(document, _Object) else []
    if len(found) != 1:
        held = (
            f"its top-level keys are {', '.join(k for k, _ in document[:20])}"
            if isinstance(document, _Object)
            else f"it holds a JSON {_kind(document)}, not an object"
        )
        raise IngestError(
            f"{export.path.name} has {'no key' if not found else 'more than one key'} "
            f"'{key}' at its top level ({where}): {held}.",
            where=str(export.path),
            fix=f"Set {where} to the key that holds the records, or leave it out for a file "
            "that is a JSON array of records; nothing was loaded.",
        )
    records = found[0]
    if isinstance(records, _Object) or not isinstance(records, list):
        raise IngestError(
            f"{export.path.name}: '{key}' holds a JSON {_kind(records)}, not an array of records.",
            where=str(export.path),
            fix=f"Set {where} to the key that holds the array of records; nothing was loaded.",
        )
    handle_no, name = tempfile.mkstemp(suffix=".ndjson", prefix="workbench-")
    os.close(handle_no)
    out = Path(name)
    with out.open("w", encoding="utf-8") as sink:
        for record in records:
            sink.write(_dump(record) + "\n")
    return out


class _Object(list[tuple[str, Any]]):
    """A JSON object's pairs in order, a repeated key kept (the NDJSON reader sets such a
    record aside, as it does a line with one)."""


def _dump(value: Any) -> str:
    """``value`` as JSON text, objects with their pairs as read."""
    if isinstance(value, _Object):
        pairs = (f"{json.dumps(k, ensure_ascii=False)}: {_dump(v)}" for k, v in value)
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _kind(value: Any) -> str:
    if isinstance(value, _Object):
        return "object"
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )
