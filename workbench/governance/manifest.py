"""The manifest of a backup, read strictly: the only description of a backup restore trusts.

A backup folder holds one Parquet file per table and ``manifest.json`` (format 2):

``project_id``   the identity of the project the backup was taken from
``tables``       ``"schema.table"`` -> ``schema``, ``name``, ``columns`` (``[name, type]``
                 pairs, types as DuckDB names them), ``rows``, ``file`` (its Parquet file),
                 ``not_null``, ``primary_key``, ``unique`` (column lists) and ``defaults``
                 (column -> a constant: text, number or true/false)
``sequences``    ``"schema.name"`` -> ``schema``, ``name``, ``next``, ``increment``,
                 ``min``, ``max``, ``cycle``
``views``        ``"schema.name"`` -> ``golden`` (the object whose golden-record view
                 Workbench makes again) or null (a view restore does not make)
``files``        file name -> ``sha256`` and ``bytes``

:func:`read` checks every part of it (types, names, numbers) and raises one
:class:`~workbench.errors.GovernanceError` naming what is wrong, never a traceback. Column
types pass :func:`column_type`, a small parser of DuckDB's type names: what reaches restore's
SQL is rebuilt from the parse, so a manifest can describe tables but never inject SQL.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import GovernanceError
from workbench.store import quote_ident, quote_literal

MANIFEST = "manifest.json"
FORMAT = 2
MAX_MANIFEST_BYTES = 64 << 20
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")  # no path, no glob characters
PROJECT_ID = re.compile(r"^[0-9a-f]{32}$")
OBJECT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_INT64 = (-(2**63), 2**63 - 1)
SIMPLE_TYPES = frozenset(
    {
        "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
        "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "VARCHAR", "BLOB",
        "DATE", "TIME", "TIME WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "INTERVAL", "UUID", "JSON", "BIT",
    }
)  # fmt: skip
Scalar = bool | int | float | str


@dataclass(frozen=True)
class TableSpec:
    """One table of a backup, as the manifest describes it (checked)."""

    schema: str
    name: str
    columns: list[tuple[str, str]]  # name, DuckDB type (as parsed by column_type)
    rows: int
    file: str
    not_null: list[str]
    primary_key: list[str]
    unique: list[list[str]]
    defaults: dict[str, Scalar]


@dataclass(frozen=True)
class SequenceSpec:
    schema: str
    name: str
    next: int
    increment: int
    min: int
    max: int
    cycle: bool


@dataclass(frozen=True)
class Manifest:
    """A checked manifest (files not yet compared with their checksums)."""

    path: Path
    project_id: str
    created_at: str | None
    tables: dict[str, TableSpec]
    sequences: list[SequenceSpec]
    golden: list[str]  # objects whose golden-record view restore makes again
    other_views: list[str]  # views restore does not make (their SQL is not run)
    files: dict[str, tuple[str, int]]  # name -> sha256, bytes
    audit_head: str | None


def damaged(path: Path, what: str) -> GovernanceError:
    """The one error of a manifest that cannot be used."""
    return GovernanceError(
        f"The backup's manifest is damaged or not one Workbench wrote: {what}.",
        where=str(path),
        fix="Use an intact backup written by `workbench backup` (a manifest must not be "
        "edited by hand); nothing was replaced.",
    )


def read(folder: Path) -> Manifest:
    """The manifest of the backup ``folder``, every part checked (see the module doc)."""
    path = folder / MANIFEST
    if not path.is_file():
        raise GovernanceError(
            f"{folder} is not a Workbench backup: it has no {MANIFEST}.",
            where=str(path),
            fix="Give the folder `workbench backup` wrote.",
        )
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise damaged(path, f"it is larger than {MAX_MANIFEST_BYTES >> 20} MB")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise damaged(path, f"it is not UTF-8 text (byte {exc.start})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise damaged(
            path, f"it is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise damaged(path, "it is nested too deeply") from None
    return parse(raw, path)


def parse(raw: Any, path: Path) -> Manifest:
    """A manifest from its JSON value (raises :func:`damaged` naming the first bad part)."""
    top = _dict(raw, path, "the manifest")
    fmt = top.get("format")
    if fmt == 1:
        raise GovernanceError(
            "This backup was written by an earlier Workbench (manifest format 1), which "
            "restored by running the backup's SQL; restore no longer runs SQL from a backup.",
            where=str(path),
            fix="Restore it with the Workbench version that wrote it, then take a new backup "
            "with this version (`workbench backup`).",
        )
    if fmt != FORMAT:
        raise damaged(path, f"format is {fmt!r}, this Workbench reads format {FORMAT}")
    project_id = top.get("project_id")
    if not isinstance(project_id, str) or not PROJECT_ID.match(project_id):
        raise damaged(path, "project_id is missing or not 32 hexadecimal digits")
    files = {
        name: _file_entry(info, path, name)
        for name, info in _dict(top.get("files"), path, "files").items()
    }
    tables = {
        key: _table(value, path, key, files)
        for key, value in _dict(top.get("tables"), path, "tables").items()
    }
    sequences = [
        _sequence(value, path, key)
        for key, value in _dict(top.get("sequences"), path, "sequences").items()
    ]
    golden, other = [], []
    for key, value in _dict(top.get("views"), path, "views").items():
        if value is None:
            other.append(key)
            continue
        obj = _dict(value, path, f"views[{key!r}]").get("golden")
        if not isinstance(obj, str) or not OBJECT_NAME.match(obj) or key != f"id.golden_{obj}":
            raise damaged(path, f"views[{key!r}] is not a golden-record view of an object")
        golden.append(obj)
    created, head = top.get("created_at"), top.get("audit_head")
    return Manifest(
        path,
        project_id,
        created if isinstance(created, str) else None,
        tables,
        sequences,
        golden,
        other,
        files,
        head if isinstance(head, str) else None,
    )


def _file_entry(info: Any, path: Path, name: str) -> tuple[str, int]:
    if not FILE_NAME.match(name) or ".." in name or name == MANIFEST:
        raise damaged(path, f"files lists {name!r}, which is not a plain file name")
    entry = _dict(info, path, f"files[{name!r}]")
    sha, size = entry.get("sha256"), entry.get("bytes")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise damaged(path, f"files[{name!r}] has no sha256 of 64 hexadecimal digits")
    return sha, _int(size, path, f"files[{name!r}].bytes", low=0)


def _table(value: Any, path: Path, key: str, files: dict[str, tuple[str, int]]) -> TableSpec:
    at = f"tables[{key!r}]"
    entry = _dict(value, path, at)
    schema, name = (
        _ident(entry.get("schema"), path, f"{at}.schema"),
        _ident(entry.get("name"), path, f"{at}.name"),
    )
    if key != f"{schema}.{name}":
        raise damaged(path, f"{at} names the table {schema}.{name}")
    columns: list[tuple[str, str]] = []
    for i, pair in enumerate(_list(entry.get("columns"), path, f"{at}.columns")):
        if not isinstance(pair, list) or len(pair) != 2:
            raise damaged(path, f"{at}.columns[{i}] is not a [name, type] pair")
        column = _ident(pair[0], path, f"{at}.columns[{i}]")
        if not isinstance(pair[1], str):
            raise damaged(path, f"{at}.columns[{i}] has no type")
        try:
            columns.append((column, column_type(pair[1])))
        except ValueError as exc:
            raise damaged(path, f"{at}.columns[{i}] has the type {pair[1]!r} ({exc})") from None
    names = [c for c, _ in columns]
    if not names or len(set(names)) != len(names):
        raise damaged(path, f"{at}.columns is empty or names a column twice")
    file = entry.get("file")
    if not isinstance(file, str) or file not in files or not file.endswith(".parquet"):
        raise damaged(path, f"{at}.file is not a Parquet file the manifest lists")
    defaults = {}
    for column, scalar in _dict(entry.get("defaults", {}), path, f"{at}.defaults").items():
        ok = isinstance(scalar, int | float) or (isinstance(scalar, str) and "\x00" not in scalar)
        ok = ok and not (isinstance(scalar, float) and not math.isfinite(scalar))
        if column not in names or not ok:
            raise damaged(path, f"{at}.defaults[{column!r}] is not a constant of a column")
        defaults[column] = scalar
    return TableSpec(
        schema,
        name,
        columns,
        _int(entry.get("rows"), path, f"{at}.rows", low=0),
        file,
        _columns(entry.get("not_null", []), names, path, f"{at}.not_null"),
        _columns(entry.get("primary_key", []), names, path, f"{at}.primary_key"),
        [
            _columns(u, names, path, f"{at}.unique[{i}]")
            for i, u in enumerate(_list(entry.get("unique", []), path, f"{at}.unique"))
        ],
        defaults,
    )


def _sequence(value: Any, path: Path, key: str) -> SequenceSpec:
    at = f"sequences[{key!r}]"
    entry = _dict(value, path, at)
    schema, name = (
        _ident(entry.get("schema"), path, f"{at}.schema"),
        _ident(entry.get("name"), path, f"{at}.name"),
    )
    if key != f"{schema}.{name}" or not isinstance(entry.get("cycle"), bool):
        raise damaged(path, f"{at} is not a sequence (schema, name, next, ..., cycle)")
    low, high = _int(entry.get("min"), path, f"{at}.min"), _int(entry.get("max"), path, f"{at}.max")
    step = _int(entry.get("increment"), path, f"{at}.increment")
    nxt = _int(entry.get("next"), path, f"{at}.next", low=low, high=high)
    if step == 0 or low > high:
        raise damaged(path, f"{at} has increment 0 or min above max")
    return SequenceSpec(schema, name, nxt, step, low, high, bool(entry["cycle"]))


def _dict(value: Any, path: Path, at: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise damaged(path, f"{at} is {_kind(value)}, not an object of names")
    return value


def _list(value: Any, path: Path, at: str) -> list[Any]:
    if not isinstance(value, list):
        raise damaged(path, f"{at} is {_kind(value)}, not a list")
    return value


def _int(value: Any, path: Path, at: str, *, low: int = _INT64[0], high: int = _INT64[1]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise damaged(path, f"{at} is {_kind(value)}, not a whole number from {low} to {high}")
    return value


def _ident(value: Any, path: Path, at: str) -> str:
    """A schema, table or column name: text of 1 to 255 characters without control ones."""
    ok = isinstance(value, str) and 0 < len(value) <= 255
    if not ok or any(ord(c) < 32 for c in value):
        raise damaged(path, f"{at} is {_kind(value)}, not a name")
    return str(value)


def _columns(value: Any, names: list[str], path: Path, at: str) -> list[str]:
    out = _list(value, path, at)
    if any(c not in names for c in out) or len(set(map(str, out))) != len(out):
        raise damaged(path, f"{at} names columns the table does not have")
    return [str(c) for c in out]


def _kind(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, str):
        return repr(value[:40])
    return f"a {type(value).__name__}"


# -- column types ------------------------------------------------------------------------------
_TOKEN = re.compile(r'\s*(?:("(?:[^"]|"")*")|([A-Za-z_][A-Za-z0-9_]*)|(\d{1,9})|([(),\[\]]))')


def column_type(text: str) -> str:
    """The column type ``text`` rebuilt from its parse; raises ValueError for anything that
    is not a DuckDB type restore can create (simple types, ``DECIMAL(p,s)``, ``STRUCT``,
    ``MAP``, lists ``T[]`` and arrays ``T[n]``)."""
    if len(text) > 4000:
        raise ValueError("too long")
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"unexpected {text[pos:].strip()[:20]!r}")
        kind = "qwnp"[match.lastindex - 1] if match.lastindex else "?"
        tokens.append((kind, match.group(match.lastindex or 0)))
        pos = match.end()
    parser = _Types(tokens)
    out = parser.type(0)
    if parser.pos != len(tokens):
        raise ValueError(f"unexpected {parser.peek()[1]!r}")
    return out


class _Types:
    """Recursive descent over the tokens of a type; renders what it accepts."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("", "")

    def take(self, kind: str, value: str | None = None) -> str:
        got = self.peek()
        if got[0] != kind or (value is not None and got[1] != value):
            raise ValueError(f"expected {value or kind!r}, found {got[1] or 'the end'!r}")
        self.pos += 1
        return got[1]

    def number(self, low: int, high: int) -> int:
        n = int(self.take("n"))
        if not low <= n <= high:
            raise ValueError(f"{n} is out of range")
        return n

    def type(self, depth: int) -> str:
        if depth > 8:
            raise ValueError("nested too deeply")
        word = self.take("w").upper()
        if word in ("DECIMAL", "NUMERIC"):
            self.take("p", "(")
            width = self.number(1, 38)
            self.take("p", ",")
            scale = self.number(0, width)
            self.take("p", ")")
            out = f"DECIMAL({width},{scale})"
        elif word in ("STRUCT", "MAP"):
            self.take("p", "(")
            parts = []
            while True:
                if word == "STRUCT":
                    quoted = self.peek()[0] == "q"
                    name = self.take("q")[1:-1].replace('""', '"') if quoted else self.take("w")
                    parts.append(f"{quote_ident(name)} {self.type(depth + 1)}")
                else:
                    parts.append(self.type(depth + 1))
                if self.peek() != ("p", ","):
                    break
                self.take("p", ",")
            self.take("p", ")")
            if word == "MAP" and len(parts) != 2:
                raise ValueError("a MAP has a key type and a value type")
            out = f"{word}({', '.join(parts)})"
        else:
            words = [word]
            while self.peek()[0] == "w":
                words.append(self.take("w").upper())
            out = " ".join(words)
            if out not in SIMPLE_TYPES:
                raise ValueError(f"{out} is not a type restore can create")
        while self.peek() == ("p", "["):
            self.take("p", "[")
            size = "" if self.peek() == ("p", "]") else str(self.number(1, 100_000))
            self.take("p", "]")
            out += f"[{size}]"
        return out


def default_sql(value: Scalar) -> str:
    """A column default as SQL: a constant of the manifest, never an expression."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    return quote_literal(value)
