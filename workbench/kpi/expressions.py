"""KPI ``measure`` and ``where``: SQL expressions over one object's columns, and nothing else.

A KPI definition carries two pieces of SQL text written by users (``measure``, ``where``).
They are spliced into the KPI's query, so before that :func:`check_expression` parses each
one with DuckDB's own parser (``json_serialize_sql``) and accepts only a single expression
built from the object's columns, constants, operators, ``CASE``, casts and scalar functions.
Subqueries, table functions, window or aggregate functions, sequences, settings and
anything after the expression (a second statement, a ``FROM``) are refused with a
:class:`~workbench.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb

from workbench.errors import ConfigError

if TYPE_CHECKING:
    from workbench.config.kpis import KpiDef

_NODES = frozenset(
    {"COLUMN_REF", "CONSTANT", "FUNCTION", "OPERATOR", "COMPARISON", "CONJUNCTION", "CASE"}
    | {"CAST", "BETWEEN"}
)
# scalar functions that read or change state outside the row, or only burn time and memory
_STATEFUL = frozenset(
    {"nextval", "currval", "setseed", "current_setting", "getenv", "current_schema"}
    | {"current_schemas", "current_database", "current_catalog", "current_query"}
    | {"sleep_ms", "repeat", "generate_series", "range", "error"}
)
_PROBE = "__workbench_expression__"


@cache
def _scalar_functions() -> frozenset[str]:
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
            "WHERE function_type = 'scalar'"  # macros may expand to catalog subqueries
        ).fetchall()
    finally:
        con.close()
    return frozenset(r[0] for r in rows) - _STATEFUL


def check_expression(text: str, columns: Iterable[str], *, key: str) -> str:
    """Raise :class:`ConfigError` unless ``text`` is one scalar SQL expression over
    ``columns`` (the fields of the KPI's object). ``key`` names the config key, e.g.
    ``kpi.definitions.win_rate.where``.

    Returns the expression as DuckDB writes back the parse that was checked: that text, not
    the user's, goes into queries, so text that parses as more than it seems when spliced
    (``status = 'won') OR (true``) cannot change the query around it."""
    known = {c.lower() for c in columns}
    parsed = _parse(text)
    problem = _shape_problem(parsed)
    if problem is None:
        for node in _nodes(parsed["statements"][0]["node"]["select_list"][0]):
            problem = _node_problem(node, known)
            if problem:
                break
    if problem:
        raise ConfigError(
            f"{key} must be one SQL expression over the object's fields: {problem}.",
            where=f"workbench.yaml, key {key} (or the built-in definition)",
            fix="Write a plain expression such as `status = 'won'` or "
            "`epoch(first_response_at - created_at) / 60`, using only the object's fields "
            "(`workbench dictionary export` lists them).",
        )
    return _written_back(parsed)


def _written_back(parsed: dict[str, Any]) -> str:
    """The checked parse as SQL text (``SELECT <expression> FROM <probe>``, unwrapped)."""
    sql = _deserialized(json.dumps(parsed))
    head, tail = "SELECT ", f" FROM {_PROBE}"
    if not (sql.startswith(head) and sql.endswith(tail)):
        raise ConfigError(f"DuckDB wrote the expression back in an unexpected form: {sql!r}")
    return f"({sql[len(head) : -len(tail)]})"


def _parse(text: str) -> dict[str, Any]:
    serialized = _serialized(f"SELECT ({text}) FROM {_PROBE}")
    return dict(json.loads(serialized)) if serialized else {"error": True}


# DuckDB's parser, kept between checks: KPIs are computed several times a run (measure,
# compare, each rollout cohort, each report), and a connection costs milliseconds
@cache
def _serialized(query: str) -> str | None:
    """``json_serialize_sql`` of ``query`` (a pure function of the text)."""
    with _parser().cursor() as cur:  # a cursor per call: safe from any thread
        row = cur.execute("SELECT json_serialize_sql($q)", {"q": query}).fetchone()
    return str(row[0]) if row else None


@cache
def _deserialized(parsed_json: str) -> str:
    """``json_deserialize_sql`` of a parse (a pure function of it)."""
    with _parser().cursor() as cur:
        row = cur.execute("SELECT json_deserialize_sql($j)", {"j": parsed_json}).fetchone()
    return str(row[0]) if row else ""


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _shape_problem(parsed: dict[str, Any]) -> str | None:
    """The parse must be exactly ``SELECT (<one expression>) FROM <probe>``."""
    if parsed.get("error"):
        return f"it does not parse ({parsed.get('error_message', 'syntax error')})"
    statements = parsed.get("statements") or []
    if len(statements) != 1:
        return "it holds more than one statement"
    node = statements[0]["node"]
    source = node.get("from_table") or {}
    extra = ("where_clause", "group_expressions", "having", "qualify", "sample")
    if (
        node.get("type") != "SELECT_NODE"
        or len(node.get("select_list", [])) != 1
        or node.get("modifiers")
        or (node.get("cte_map") or {}).get("map")
        or any(node.get(k) for k in extra)
        or (node.get("group_sets") or [])
        or source.get("type") != "BASE_TABLE"
        or source.get("table_name") != _PROBE
        or source.get("schema_name")
    ):
        return "it reaches beyond a single expression (a FROM, WHERE, GROUP BY or another clause)"
    return None


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every expression node under ``node`` (depth first)."""
    if isinstance(node, dict):
        if "class" in node:
            yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def _node_problem(node: dict[str, Any], known: set[str]) -> str | None:
    kind = node["class"]
    if kind not in _NODES:
        what = {"SUBQUERY": "a subquery", "WINDOW": "a window function", "STAR": "a *"}
        return f"{what.get(kind, kind.lower().replace('_', ' '))} is not allowed"
    if kind == "COLUMN_REF":
        names = [str(n) for n in node.get("column_names", [])]
        if len(names) != 1 or names[0].lower() not in known:
            return f"{'.'.join(names)!r} is not a field of the object"
    if kind == "FUNCTION":
        name = str(node.get("function_name", "")).lower()
        if node.get("schema") not in (None, "", "main") or node.get("catalog"):
            return f"the function {name}() must not name a schema"
        if name not in _scalar_functions():
            return (
                f"{name}() is not a scalar function (aggregates, table functions and "
                "functions with side effects are not allowed)"
            )
        if (
            node.get("distinct")
            or node.get("filter")
            or (node.get("order_bys") or {}).get("orders")
        ):
            return f"{name}() is used like an aggregate"
    return None


def check_kpi(kpi: KpiDef, columns: Iterable[str], *, kpi_id: str) -> KpiDef:
    """A KPI whose ``measure`` and ``where`` are checked against the columns of its object's
    core table and written back by DuckDB (see :func:`check_expression`): use it, not the
    definition as written, in queries."""
    fields = list(columns)
    checked = {
        name: check_expression(text, fields, key=f"kpi.definitions.{kpi_id}.{name}")
        for name in ("measure", "where")
        if (text := getattr(kpi, name))
    }
    return kpi.model_copy(update=checked)
