"""Golden records: one row per entity, each field taken by survivorship rules.

For every field, among the entity's records that have a value: first the record from the
field's authoritative system (the dictionary's ``owner``), then the most recent
(``updated_at``, then ``created_at``), then the most complete record, then the smallest id.
Each golden field keeps its provenance: ``<field>__from`` is the ``source:record_id`` it
came from. Read them as the view ``id.golden_<object>``.

Stored compactly in ``id._golden_<object>``: each row lists its entity's records once
(``_records``, best first by recency and completeness) and a field's provenance is a
position in that list, so the table holds no provenance strings (at 1M records, writing
them cost more than the golden values). Each row also carries a fingerprint of what it was
built from (its records' values and the rules): a later run rebuilds only the entities
whose fingerprint changed, after a run on mostly unchanged data a few rows, not the table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from workbench.dictionary import ObjectSpec
from workbench.store import Store, quote_ident, table

FINGERPRINT = "_fingerprint"  # internal column: what the row was built from
RECORDS = "_records"  # internal column: the entity's records; provenance points into it
INTERNAL = (FINGERPRINT, RECORDS)
TODO = "_wb_golden_todo"  # temporary: the entities to (re)build
FRESH = "_wb_golden_fp"  # temporary: every entity's fingerprint now
# above this share of entities changed, replacing the table beats deleting and inserting
REBUILD_SHARE = 0.5
OWNER_BIT = 32  # ranking key: 1 << OWNER_BIT when not the owner's record, plus the order


@dataclass(frozen=True)
class GoldenBuild:
    """What ``build_golden`` did: entities in the table and how many it (re)built."""

    entities: int
    rebuilt: int


def view_name(obj: str) -> str:
    """``id.golden_<obj>``: the golden records with provenance as ``source:record_id``."""
    return table("id", f"golden_{obj}")


def stored_name(obj: str) -> str:
    """``id._golden_<obj>``: the table behind the view (positions, fingerprints)."""
    return table("id", f"_golden_{obj}")


@dataclass(frozen=True)
class _Rules:
    """The SQL pieces of the survivorship rules of one object."""

    obj: str
    ranked: list[str]  # aggregates of entities of several records
    alone: list[str]  # columns of an entity of one record
    order: str  # row_number() of a record in its entity, owner aside
    keys: list[str]  # ranking keys, one per distinct owner: owner first, then the order
    complete: str  # completeness of a record
    row_hash: str  # hash of what a record gives its golden record
    params: dict[str, object]

    def records(self, sizes: str) -> str:
        return f"""(SELECT r.*, m.entity_id
            FROM (SELECT *, _source || ':' || CAST(record_id AS VARCHAR) AS _uid
                  FROM {table("core", self.obj)}) r
            JOIN sized m ON m.unique_id = r._uid AND {sizes})"""


def _fields(spec: ObjectSpec, core_columns: list[str]) -> list[str]:
    """The fields a golden record has: the object's fields in the core table but its id."""
    return [f for f in spec.fields if f != "record_id" and f in core_columns]


def _rules(obj: str, spec: ObjectSpec, core_columns: list[str], types: str) -> _Rules:
    fields = _fields(spec, core_columns)
    recency = [c for c in ("updated_at", "created_at") if c in core_columns]
    newest = [f"{quote_ident(c)} DESC NULLS LAST" for c in recency]
    complete = " + ".join(f"({quote_ident(f)} IS NOT NULL)::INT" for f in fields) or "0"
    order = ", ".join([*newest, "_complete DESC", "_uid"])
    params: dict[str, object] = {"o": obj}
    owners = sorted({spec.fields[f].owner or "" for f in fields})
    keys = []
    for i, owner in enumerate(owners):
        params[f"owner{i}"] = owner
        keys.append(
            f"(NOT coalesce(_system = $owner{i}, false))::BIGINT << {OWNER_BIT} | _order AS _key{i}"
        )
    position = f"& ((1::BIGINT << {OWNER_BIT}) - 1)"  # the order part of a key
    ranked = ["entity_id", "count(*) AS records"]
    alone = ["entity_id", "1::BIGINT AS records"]  # BIGINT, as count(*) of the others
    for name in fields:
        col, source = quote_ident(name), quote_ident(name + "__from")
        key = f"_key{owners.index(spec.fields[name].owner or '')}"
        ranked.append(f"arg_min({col}, {key}) FILTER (WHERE {col} IS NOT NULL) AS {col}")
        ranked.append(
            f"(min({key}) FILTER (WHERE {col} IS NOT NULL) {position})::INTEGER AS {source}"
        )
        alone += [col, f"CASE WHEN {col} IS NOT NULL THEN 1 END::INTEGER AS {source}"]
    # sorted after aggregating: an ordered aggregate (list ... ORDER BY) costs 0.5 s at 1M
    ranked.append(
        f"list_transform(list_sort(list({{'o': _order, 'u': _uid}})), lambda r: r.u) AS {RECORDS}"
    )
    alone.append(f"[_uid] AS {RECORDS}")
    read = ["_uid", "_system", *dict.fromkeys([*fields, *recency])]
    row_hash = f"hash({', '.join(map(quote_ident, read))})"
    # the rules themselves are part of every fingerprint: other rules, other golden records
    rules = repr((ranked, alone, order, keys, complete, row_hash, sorted(params.items()), types))
    params["rules"] = hashlib.sha256(rules.encode()).hexdigest()
    return _Rules(obj, ranked, alone, order, keys, complete, row_hash, params)


def _fingerprint(hashes: str) -> str:
    """An entity's fingerprint from the sum of its records' hashes (``hashes``, HUGEINT:
    order does not matter and, unlike XOR, identical records do not cancel) and the rules."""
    return f"hash({hashes}, $rules)"


def _sized(only: str | None) -> str:
    within = f" AND entity_id IN (SELECT entity_id FROM {only})" if only else ""
    return f"""sized AS (
            SELECT unique_id, entity_id, count(*) OVER (PARTITION BY entity_id) AS size
            FROM id.members WHERE object = $o{within})"""


def golden_sql(
    obj: str,
    spec: ObjectSpec,
    core_columns: list[str],
    types: str,
    *,
    only: str | None = None,
    sizes: Literal["one", "several", "all"] = "all",
) -> tuple[str, dict]:
    """SELECT of the stored golden records of ``obj`` (one row per entity, with its records,
    provenance positions and fingerprint) and its parameters; ``types``: the core columns'
    types, part of the fingerprint; ``only``: a table of the ``entity_id``s to build (None
    for all); ``sizes``: entities of ``"one"`` record, of ``"several"``, or ``"all"``.

    An entity of one record is that record (most entities: no ranking needed). The records
    of larger entities are ordered once (newest, most complete, smallest id); a field's key
    puts its owner's records first, then follows that order; each field takes the value of
    the smallest key among the records that have one (``arg_min``, a cheap hash aggregate),
    and its provenance is that record's place in the order.
    """
    r = _rules(obj, spec, core_columns, types)
    fingerprint = f"{_fingerprint('sum(_row_hash::HUGEINT)')} AS {FINGERPRINT}"
    single = f"{_fingerprint(f'({r.row_hash})::HUGEINT')} AS {FINGERPRINT}"  # a sum of one
    several = f"""
        SELECT {", ".join([*r.ranked, fingerprint])}
        FROM (SELECT *, {", ".join(r.keys)}
              FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY {r.order})
                              AS _order, {r.row_hash} AS _row_hash
                    FROM (SELECT *, {r.complete} AS _complete FROM {r.records("m.size > 1")})))
        GROUP BY entity_id"""
    one = f"SELECT {', '.join([*r.alone, single])} FROM {r.records('m.size = 1')}"
    body = {"one": one, "several": several, "all": f"{several} UNION ALL {one}"}[sizes]
    params = r.params if sizes != "one" else {k: r.params[k] for k in ("o", "rules")}
    return f"WITH {_sized(only)} {body}", params


def fingerprints_sql(
    obj: str, spec: ObjectSpec, core_columns: list[str], types: str
) -> tuple[str, dict]:
    """SELECT of every entity's fingerprint now (``entity_id``, ``fingerprint``), as the
    golden records built now would carry it."""
    r = _rules(obj, spec, core_columns, types)
    sql = f"""
        WITH {_sized(None)}
        SELECT entity_id, {_fingerprint(f"sum(({r.row_hash})::HUGEINT)")} AS fingerprint
        FROM {r.records("true")}
        GROUP BY entity_id"""
    params = {k: v for k, v in r.params.items() if k in ("o", "rules")}
    return sql, params


def view_sql(obj: str, spec: ObjectSpec, core_columns: list[str]) -> str:
    """The view of the golden records: provenance positions read as ``source:record_id``,
    the internal columns left out."""
    columns = ["entity_id", "records"]
    for name in _fields(spec, core_columns):
        source = quote_ident(name + "__from")
        columns += [quote_ident(name), f"{RECORDS}[{source}] AS {source}"]
    select = f"SELECT {', '.join(columns)} FROM {stored_name(obj)}"
    return f"CREATE OR REPLACE VIEW {view_name(obj)} AS {select}"


def build_golden(store: Store, obj: str, spec: ObjectSpec) -> GoldenBuild:
    """Bring the golden records of ``obj`` up to date with ``id.members`` and the core
    records.

    Rows whose entity, records or rules changed are replaced; the others are kept. The
    first build (or one after most entities changed) writes the whole table.
    """
    core = store.rows(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'core' AND table_name = $n ORDER BY ordinal_position",
        {"n": obj},
    )
    columns, types = [name for name, _ in core], repr(core)  # types: part of the rules
    _drop_earlier_layout(store, obj)  # rebuilt below
    stored = store.columns("id", f"_golden_{obj}")
    if FINGERPRINT not in stored or RECORDS not in stored:
        build = _build_all(store, obj, spec, columns, types)
    else:
        build = _build_changed(store, obj, spec, columns, types)
    store.execute(view_sql(obj, spec, columns))
    return build


def _build_changed(
    store: Store, obj: str, spec: ObjectSpec, columns: list[str], types: str
) -> GoldenBuild:
    sql, params = fingerprints_sql(obj, spec, columns, types)
    target = stored_name(obj)
    store.execute(f"CREATE OR REPLACE TEMP TABLE {FRESH} AS {sql}", params)
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE {TODO} AS SELECT entity_id FROM {FRESH} f "
        f"ANTI JOIN {target} g ON g.entity_id = f.entity_id AND g.{FINGERPRINT} = f.fingerprint"
    )
    entities = int(store.scalar(f"SELECT count(*) FROM {FRESH}"))
    todo = int(store.scalar(f"SELECT count(*) FROM {TODO}"))
    if todo > REBUILD_SHARE * entities:
        build = _build_all(store, obj, spec, columns, types)
    else:
        store.execute(
            f"DELETE FROM {target} g WHERE NOT EXISTS (SELECT 1 FROM {FRESH} f "
            f"WHERE f.entity_id = g.entity_id AND f.fingerprint = g.{FINGERPRINT})"
        )
        if todo:
            sql, params = golden_sql(obj, spec, columns, types, only=TODO)
            store.execute(f"INSERT INTO {target} BY NAME {sql}", params)
        build = GoldenBuild(entities=entities, rebuilt=todo)
    # (on failure the caller's transaction rolls back, these temporary tables included)
    store.execute(f"DROP TABLE {TODO}")
    store.execute(f"DROP TABLE {FRESH}")
    return build


def _build_all(
    store: Store, obj: str, spec: ObjectSpec, columns: list[str], types: str
) -> GoldenBuild:
    """The whole table: entities of one record in the order of the core table, then the
    others in entity order. Both arrive in order, so DuckDB compresses and writes them as
    it goes; the unordered output of the aggregate would be compressed at the checkpoint,
    taking a second longer at 1M (and sorting all entities, 0.4 s longer)."""
    target = stored_name(obj)
    sql, params = golden_sql(obj, spec, columns, types, sizes="one")
    store.execute(f"CREATE OR REPLACE TABLE {target} AS {sql}", params)
    sql, params = golden_sql(obj, spec, columns, types, sizes="several")
    store.execute(f"INSERT INTO {target} SELECT * FROM ({sql}) ORDER BY entity_id", params)
    entities = int(store.scalar(f"SELECT count(*) FROM {target}"))
    return GoldenBuild(entities=entities, rebuilt=entities)


def drop_golden(store: Store, obj: str) -> None:
    """Remove the golden records of ``obj`` (view and table, or the earlier table)."""
    _drop_earlier_layout(store, obj)
    store.execute(f"DROP VIEW IF EXISTS {view_name(obj)}")
    store.execute(f"DROP TABLE IF EXISTS {stored_name(obj)}")


def _drop_earlier_layout(store: Store, obj: str) -> None:
    """Drop ``id.golden_<obj>`` when it is a table: the layout before the view."""
    if store.table_exists("id", f"golden_{obj}", views=False):
        store.execute(f"DROP TABLE {view_name(obj)}")
