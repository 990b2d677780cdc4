"""Golden records: one row per entity, each field taken by survivorship rules.

For every field, among the entity's records that have a value: first the record from the
field's authoritative system (the dictionary's ``owner``), then the most recent
(``updated_at``, then ``created_at``), then the most complete record, then the smallest id.
Each golden field keeps its provenance: ``<field>__from`` is the ``source:record_id`` it
came from. Stored as ``id.golden_<object>``, built in slices of entities (by a hash of the
entity id) so that memory stays bounded whatever the number of records.
"""

from __future__ import annotations

import math

from workbench.dictionary import ObjectSpec
from workbench.store import Store, quote_ident, table

RECORDS_PER_SLICE = 400_000  # the ranking and aggregation of a slice take about 0.6 GB


def golden_sql(obj: str, spec: ObjectSpec, core_columns: list[str]) -> tuple[str, dict]:
    """SELECT of the golden records of ``obj`` (one row per entity) and its parameters, for
    the entities of slice ``$slice`` of ``$slices`` (by a hash of the entity id).

    Records are ranked within their entity once per distinct owner (owner first, newest,
    most complete, smallest id); each field then takes the best-ranked record that has a
    value (``arg_min`` over the rank, a cheap hash aggregate).
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
    parts = ["entity_id", "count(*) AS records"]
    for name in fields:
        col = quote_ident(name)
        rank = f"_rank{owners.index(spec.fields[name].owner or '')}"
        parts.append(f"arg_min({col}, {rank}) FILTER (WHERE {col} IS NOT NULL) AS {col}")
        parts.append(
            f"arg_min(_uid, {rank}) FILTER (WHERE {col} IS NOT NULL) "
            f"AS {quote_ident(name + '__from')}"
        )
    sql = f"""
        SELECT {", ".join(parts)}
        FROM (SELECT *, {", ".join(ranks)}
              FROM (SELECT r.*, m.entity_id, {complete} AS _complete
                    FROM (SELECT *, _source || ':' || CAST(record_id AS VARCHAR) AS _uid
                          FROM {table("core", obj)}) r
                    JOIN id.members m ON m.object = $o AND m.unique_id = r._uid
                      AND hash(m.entity_id) % $slices = $slice))
        GROUP BY entity_id"""
    return sql, params


def build_golden(store: Store, obj: str, spec: ObjectSpec) -> int:
    """(Re)build ``id.golden_<object>``; returns the number of entities."""
    sql, params = golden_sql(obj, spec, store.columns("core", obj))
    target = table("id", f"golden_{obj}")
    records = int(store.scalar("SELECT count(*) FROM id.members WHERE object = $o", {"o": obj}))
    slices = max(1, math.ceil(records / RECORDS_PER_SLICE))
    store.execute(
        f"CREATE OR REPLACE TABLE {target} AS {sql}", {**params, "slices": slices, "slice": 0}
    )
    for part in range(1, slices):
        store.execute(f"INSERT INTO {target} {sql}", {**params, "slices": slices, "slice": part})
    return int(store.scalar(f"SELECT count(*) FROM {target}"))
