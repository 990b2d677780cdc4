"""Draft a data-dictionary section from an export, for a user to review and edit.

Types come from DuckDB's sniffer plus a look at the values (emails, phones, currency
codes); ``required`` from null rates; ``allowed`` values for low-cardinality text;
``unique`` where every value differs; ``identity`` from the column name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from workbench.errors import IngestError

SAMPLE_ROWS = 100_000
MAX_ALLOWED = 12
_IDENTITY_NAMES = (
    (r"first|given|vorname|prenom", "name"),
    (r"last|surname|family|nachname|^nom$", "name"),
    (r"^name$|full.?name|kunde|requester", "name"),
    (r"e.?mail|mail", "email"),
    (r"phone|tel|mobile|handy|fax", "phone"),
    (r"zip|postal|postcode|plz", "postcode"),
    (r"company|account|firma|organi[sz]ation|employer", "company"),
    (r"birth|dob|geburt", "date"),
)
_TYPES = {
    "BIGINT": "integer",
    "INTEGER": "integer",
    "DOUBLE": "decimal",
    "DECIMAL": "decimal",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "BOOLEAN": "boolean",
}


def infer_section(
    path: Path, object_name: str, *, delimiter: str | None = None, encoding: str = "utf-8"
) -> str:
    """A commented YAML ``objects:`` section for the file's columns."""
    frame = _read(path, delimiter, encoding)
    fields: dict[str, dict[str, Any]] = {}
    mapping: dict[str, str] = {}
    for column in frame.columns:
        name = _snake(column)
        fields[name] = _field(frame[column], column)
        mapping[name] = column
    _name_the_key(fields, mapping)
    doc = {"objects": {object_name: {"description": f"Drafted from {path.name}", "fields": fields}}}
    header = (
        f"# Draft dictionary section for {path.name} ({frame.height:,} rows read).\n"
        "# Review every field: types, required, allowed values and identity are guesses.\n"
        "# Matching source mapping for workbench.yaml:\n"
        + "".join(f"#   {k}: {v}\n" for k, v in mapping.items())
    )
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def _name_the_key(fields: dict[str, dict[str, Any]], mapping: dict[str, str]) -> None:
    """Every object needs ``record_id``: the first unique id-like column becomes it."""
    unique = [n for n, f in fields.items() if f.get("unique")]
    idlike = [n for n in unique if re.search(r"(^|_)(id|nr|no|number|key|code)$", n)]
    candidates = idlike or unique
    if not candidates:
        fields["record_id"] = {
            "type": "text",
            "required": True,
            "unique": True,
            "description": "No unique column found: map the source's id here",
        }
        return
    chosen = candidates[0]
    spec = fields.pop(chosen)
    spec.update(type="text", required=True, unique=True)
    spec.pop("rules", None)
    fields_items = [("record_id", spec), *fields.items()]
    fields.clear()
    fields.update(fields_items)
    column = mapping.pop(chosen)
    items = [("record_id", column), *mapping.items()]
    mapping.clear()
    mapping.update(items)


def _read(path: Path, delimiter: str | None, encoding: str) -> pl.DataFrame:
    if not path.is_file():
        raise IngestError(f"{path} is not a file.", where=str(path), fix="Give an export file.")
    suffix = "".join(s for s in path.suffixes if s != ".gz").lower()
    con = duckdb.connect()
    try:
        if suffix.endswith((".json", ".ndjson", ".jsonl")):
            rel = con.sql(
                "SELECT * FROM read_json($p) LIMIT $n", params={"p": str(path), "n": SAMPLE_ROWS}
            )
        elif suffix.endswith(".parquet"):
            rel = con.sql(
                "SELECT * FROM read_parquet($p) LIMIT $n", params={"p": str(path), "n": SAMPLE_ROWS}
            )
        elif suffix.endswith(".xlsx"):
            return pl.read_excel(path).head(SAMPLE_ROWS)
        else:
            options = {"p": str(path), "n": SAMPLE_ROWS, "e": encoding}
            delim = ""
            if delimiter:
                options["d"] = delimiter
                delim = ", delim = $d"
            rel = con.sql(
                f"SELECT * FROM read_csv($p, encoding = $e, sample_size = -1{delim}) LIMIT $n",
                params=options,
            )
        return rel.pl()
    except duckdb.Error as exc:
        raise IngestError(
            f"{path.name} cannot be read: {str(exc).splitlines()[0]}",
            where=str(path),
            fix="Pass --delimiter/--encoding, or check the file.",
        ) from exc
    finally:
        con.close()


def _field(values: pl.Series, column: str) -> dict[str, Any]:
    kind = _kind(values)
    non_null = values.drop_nulls()
    out: dict[str, Any] = {"type": kind}
    if values.len() and values.null_count() == 0:
        out["required"] = True
    if non_null.len() and non_null.n_unique() == non_null.len() and non_null.len() >= 10:
        out["unique"] = True
    identity = next((k for p, k in _IDENTITY_NAMES if re.search(p, column, re.I)), None)
    if identity and kind in ("text", "email", "phone", "date"):
        out["identity"] = "email" if kind == "email" else ("phone" if kind == "phone" else identity)
        out["pii"] = "contact" if identity in ("name", "email", "phone", "postcode") else "none"
    distinct = non_null.n_unique()
    if kind == "text" and 0 < distinct <= MAX_ALLOWED and non_null.len() >= 20 and not identity:
        out["rules"] = {"allowed": sorted(str(v) for v in non_null.unique().to_list())}
    out["description"] = f"From column {column}"
    return out


def _kind(values: pl.Series) -> str:
    dtype = str(values.dtype).upper()
    for prefix, kind in _TYPES.items():
        if dtype.startswith(prefix) or dtype.replace("DATETIME", "TIMESTAMP").startswith(prefix):
            return kind
    if values.dtype == pl.Int64 or values.dtype == pl.Int32:
        return "integer"
    if values.dtype in (pl.Float64, pl.Float32) or isinstance(values.dtype, pl.Decimal):
        return "decimal"
    if values.dtype == pl.Date:
        return "date"
    if isinstance(values.dtype, pl.Datetime):
        return "timestamp"
    if values.dtype == pl.Boolean:
        return "boolean"
    text = values.cast(pl.String).drop_nulls()
    if text.len() == 0:
        return "text"

    def share(pattern: str) -> float:
        return int(text.str.contains(pattern).sum()) / text.len()

    if share(r"^[^@\s]+@[^@\s]+\.[^@\s]+$") > 0.8:
        return "email"
    if share(r"^[+(]?[\d][\d\s().\-/]{5,}$") > 0.8:
        return "phone"
    if share(r"^[A-Z]{3}$") > 0.95 and text.n_unique() <= 200:
        return "currency"
    return "text"


def _snake(column: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", column)
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    return name if name and not name[0].isdigit() else f"f_{name}"
