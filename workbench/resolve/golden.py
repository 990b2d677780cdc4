"""Golden records: one row per entity, each field taken by survivorship rules.

For every field, among the entity's records that have a value: first the record from the
field's authoritative system (the dictionary's ``owner``), then the most recent
(``updated_at``, then ``created_at``), then the most complete record, then the smallest id.
Each golden field keeps its provenance: ``<field>__from`` is the ``source:record_id`` it
came from. Stored as ``id.golden_<object>``.
"""

from __future__ import annotations

from workbench.dictionary import ObjectSpec
from workbench.store import Store, quote_ident, table


def golden_sql(obj: str, spec: ObjectSpec, core_columns: list[str]) -> tuple[str, dict]:
    """SELECT of the golden records of ``obj`` (one row per entity) and its parameters.

    An entity of one record is that record (most entities: no ranking needed). The records
    of larger entities are ranked within their entity once per distinct owner (owner first,
    newest, most complete, smallest id); each field then takes the best-ranked record that
    has a value (``arg_min`` over the rank, a cheap hash aggregate).
    """
    fields = [f for f in spec.fields if f != "record_id" and f in core_columns]
    recency = [
        f"{quote_ident(c)} DESC NULLS LAST"
        for c in ("updated_at", "created_at")
        if c in core_columns
    ]
    complete = " + ".join(f"({quote_ident(f)} IS NOT NULL)::INT" for f in fields) or "0"
    params: dict[str, object] = {"o": obj}
    owners = sorted({spec.fields[f].owner or "" for f in fields})
    ranks = []
    for i, owner in enumerate(owners):
        params[f"owner{i}"] = owner
        order = ", ".join(
            [f"coalesce(_system = $owner{i}, false) DESC", *recency, "_complete DESC", "_uid"]
        )
        ranks.append(f"row_number() OVER (PARTITION BY entity_id ORDER BY {order}) AS _rank{i}")
    ranked = ["entity_id", "count(*) AS records"]
    alone = ["entity_id", "1 AS records"]
    for name in fields:
        col, source = quote_ident(name), quote_ident(name + "__from")
        rank = f"_rank{owners.index(spec.fields[name].owner or '')}"
        ranked.append(f"arg_min({col}, {rank}) FILTER (WHERE {col} IS NOT NULL) AS {col}")
        ranked.append(f"arg_min(_uid, {rank}) FILTER (WHERE {col} IS NOT NULL) AS {source}")
        alone += [col, f"CASE WHEN {col} IS NOT NULL THEN _uid END AS {source}"]

    def records(sizes: str) -> str:
        return f"""(SELECT r.*, m.entity_id
            FROM (SELECT *, _source || ':' || CAST(record_id AS VARCHAR) AS _uid
                  FROM {table("core", obj)}) r
            JOIN sized m ON m.unique_id = r._uid AND {sizes})"""

    sql = f"""
        WITH sized AS (
            SELECT unique_id, entity_id, count(*) OVER (PARTITION BY entity_id) AS size
            FROM id.members WHERE object = $o)
        SELECT {", ".join(ranked)}
        FROM (SELECT *, {", ".join(ranks)}
              FROM (SELECT *, {complete} AS _complete FROM {records("m.size > 1")}))
        GROUP BY entity_id
        UNION ALL
        SELECT {", ".join(alone)} FROM {records("m.size = 1")}"""
    return sql, params


def build_golden(store: Store, obj: str, spec: ObjectSpec) -> int:
    """(Re)build ``id.golden_<object>``; returns the number of entities."""
    sql, params = golden_sql(obj, spec, store.columns("core", obj))
    target = table("id", f"golden_{obj}")
    store.execute(f"CREATE OR REPLACE TABLE {target} AS {sql}", params)
    return int(store.scalar(f"SELECT count(*) FROM {target}"))
