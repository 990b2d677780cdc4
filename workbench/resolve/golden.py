"""Golden records: one row per entity, each field taken by survivorship rules.

For every field, among the entity's records that have a value: first the record from the
field's authoritative system (the dictionary's ``owner``), then the most recent
(``updated_at``, then ``created_at``), then the most complete record, then the smallest id.
Each golden field keeps its provenance: ``<field>__from`` is the ``source:record_id`` it
came from. Read them as the view ``id.golden_<object>``.

An entity of one record (most entities) has that record as its golden record: the view
reads it from the core table, and nothing is stored for it. (Between a ``validate`` and the
next ``resolve`` these show the core record as validated, the others as of the last run.)

The golden records of entities of several records are stored compactly in
``id._golden_<object>``: each row lists its entity's records once (``_records``, best first
by recency and completeness) and a field's provenance is a position in that list, so the
table holds no provenance strings (at 1M records, writing them cost more than the golden
values). Each row also carries a fingerprint of what it was built from (its records' values
and the rules): a later run rebuilds only the entities whose fingerprint changed, after a
run on mostly unchanged data a few rows, not the table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from workbench.dictionary import ObjectSpec
from workbench.record_ids import unique_id_sql
from workbench.store import Store, quote_ident, quote_literal, table

FINGERPRINT = "_fingerprint"  # internal column: what the row was built from
RECORDS = "_records"  # internal column: the entity's records; provenance points into it
INTERNAL = (FINGERPRINT, RECORDS)
TODO = "_wb_golden_todo"  # temporary: the entities to (re)build
FRESH = "_wb_golden_fp"  # temporary: the fingerprint now of every entity of several records
# above this share of entities changed, replacing the table beats deleting and inserting
REBUILD_SHARE = 0.5
OWNER_BIT = 32  # ranking key: 1 << OWNER_BIT when not the owner's record, plus the order


@dataclass(frozen=True)
class GoldenBuild:
    """What ``build_golden`` did: golden records stored (entities of several records) and
    how many of them it (re)built."""

    stored: int
    rebuilt: int


def view_name(obj: str) -> str:
    """``id.golden_<obj>``: the golden records with provenance as ``source:record_id``."""
    return table("id", f"golden_{obj}")


def stored_name(obj: str) -> str:
    """``id._golden_<obj>``: the table behind the view (entities of several records, with
    positions and fingerprints)."""
    return table("id", f"_golden_{obj}")


@dataclass(frozen=True)
class _Rules:
    """The SQL pieces of the survivorship rules of one object."""

    obj: str
    ranked: list[str]  # aggregates of entities of several records
    order: str  # row_number() of a record in its entity, owner aside
    keys: list[str]  # ranking keys, one per distinct owner: owner first, then the order
    complete: str  # completeness of a record
    row_hash: str  # hash of what a record gives its golden record
    params: dict[str, object]

    def records(self, members: str) -> str:
        """The core records with ``_uid`` and the ``entity_id`` of ``members`` (a relation
        of unique_id, entity_id)."""
        return f"""(SELECT r.*, m.entity_id
            FROM {_core(self.obj)} r JOIN {members} m ON m.unique_id = r._uid)"""


def _core(obj: str) -> str:
    """The object's core records with their ``unique_id`` as ``_uid``."""
    return f"""(SELECT *, {unique_id_sql()} AS _uid FROM {table("core", obj)})"""


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
    for name in fields:
        col, source = quote_ident(name), quote_ident(name + "__from")
        key = f"_key{owners.index(spec.fields[name].owner or '')}"
        ranked.append(f"arg_min({col}, {key}) FILTER (WHERE {col} IS NOT NULL) AS {col}")
        ranked.append(
            f"(min({key}) FILTER (WHERE {col} IS NOT NULL) {position})::INTEGER AS {source}"
        )
    # sorted after aggregating: an ordered aggregate (list ... ORDER BY) costs 0.5 s at 1M
    ranked.append(
        f"list_transform(list_sort(list({{'o': _order, 'u': _uid}})), lambda r: r.u) AS {RECORDS}"
    )
    read = ["_uid", "_system", *dict.fromkeys([*fields, *recency])]
    row_hash = f"hash({', '.join(map(quote_ident, read))})"
    # the rules themselves are part of every fingerprint: other rules, other golden records
    rules = repr((ranked, order, keys, complete, row_hash, sorted(params.items()), types))
    params["rules"] = hashlib.sha256(rules.encode()).hexdigest()
    return _Rules(obj, ranked, order, keys, complete, row_hash, params)


def _fingerprint(hashes: str) -> str:
    """An entity's fingerprint from the sum of its records' hashes (``hashes``, HUGEINT:
    order does not matter and, unlike XOR, identical records do not cancel) and the rules."""
    return f"hash({hashes}, $rules)"


def _members(of: str, size: Literal["one", "several"], only: str | None = None) -> str:
    """The members (unique_id, entity_id) of the entities of one record, or of several, of
    object ``of`` (SQL: a parameter or a literal), as a subquery; the one place that says
    which entities are stored and which the view reads from core. ``only``: a table of the
    ``entity_id``s to take (None for all)."""
    within = f" AND entity_id IN (SELECT entity_id FROM {only})" if only else ""
    count = {"one": "= 1", "several": "> 1"}[size]
    return f"""(SELECT unique_id, entity_id FROM id.members WHERE object = {of}{within}
        QUALIFY count(*) OVER (PARTITION BY entity_id) {count})"""


def golden_sql(
    obj: str, spec: ObjectSpec, core_columns: list[str], types: str, *, only: str | None = None
) -> tuple[str, dict]:
    """SELECT of the stored golden records of ``obj`` (one row per entity of several
    records, with its records, provenance positions and fingerprint) and its parameters;
    ``types``: the core columns' types, part of the fingerprint; ``only``: a table of the
    ``entity_id``s to build (None for all).

    The entity's records are ordered once (newest, most complete, smallest id); a field's
    key puts its owner's records first, then follows that order; each field takes the value
    of the smallest key among the records that have one (``arg_min``, a cheap hash
    aggregate), and its provenance is that record's place in the order.
    """
    r = _rules(obj, spec, core_columns, types)
    fingerprint = f"{_fingerprint('sum(_row_hash::HUGEINT)')} AS {FINGERPRINT}"
    several = _members("$o", "several", only)
    sql = f"""
        SELECT {", ".join([*r.ranked, fingerprint])}
        FROM (SELECT *, {", ".join(r.keys)}
              FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY {r.order})
                              AS _order, {r.row_hash} AS _row_hash
                    FROM (SELECT *, {r.complete} AS _complete FROM {r.records(several)})))
        GROUP BY entity_id"""
    return sql, r.params


def fingerprints_sql(
    obj: str, spec: ObjectSpec, core_columns: list[str], types: str
) -> tuple[str, dict]:
    """SELECT of the fingerprint (``entity_id``, ``fingerprint``) of every entity of several
    records now, as the golden records built now would carry it."""
    r = _rules(obj, spec, core_columns, types)
    sql = f"""
        SELECT entity_id, {_fingerprint(f"sum(({r.row_hash})::HUGEINT)")} AS fingerprint
        FROM {r.records(_members("$o", "several"))}
        GROUP BY entity_id"""
    params = {k: v for k, v in r.params.items() if k in ("o", "rules")}
    return sql, params


def view_sql(obj: str, spec: ObjectSpec, core_columns: list[str]) -> str:
    """The view of the golden records: the stored ones, provenance positions read as
    ``source:record_id`` and the internal columns left out, and the core record of each
    entity of one record. (A view binds no parameters: the object is a quoted literal.)"""
    stored, alone = ["entity_id", "records"], ["m.entity_id", "1::BIGINT AS records"]  # as count(*)
    for name in _fields(spec, core_columns):
        col, source = quote_ident(name), quote_ident(name + "__from")
        stored += [col, f"{RECORDS}[{source}] AS {source}"]
        alone += [f"r.{col}", f"CASE WHEN r.{col} IS NOT NULL THEN r._uid END AS {source}"]
    singles = _members(quote_literal(obj), "one")
    return f"""CREATE OR REPLACE VIEW {view_name(obj)} AS
        SELECT {", ".join(stored)} FROM {stored_name(obj)}
        UNION ALL
        SELECT {", ".join(alone)} FROM {_core(obj)} r JOIN {singles} m ON m.unique_id = r._uid"""


def build_golden(store: Store, obj: str, spec: ObjectSpec) -> GoldenBuild:
    """Bring the golden records of ``obj`` up to date with ``id.members`` and the core
    records.

    Stored rows (entities of several records) whose entity, records or rules changed are
    replaced; the others are kept. The first build (or one after most entities changed)
    writes the whole table. Entities of one record need no build: the view reads them.
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
    """Rebuild the stored rows whose fingerprint changed, and delete those of entities no
    longer of several records (gone, shrunk to one record, or rows of an earlier layout);
    the whole table when most changed."""
    sql, params = fingerprints_sql(obj, spec, columns, types)
    target = stored_name(obj)
    store.execute(f"CREATE OR REPLACE TEMP TABLE {FRESH} AS {sql}", params)
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE {TODO} AS SELECT entity_id FROM {FRESH} f "
        f"ANTI JOIN {target} g ON g.entity_id = f.entity_id AND g.{FINGERPRINT} = f.fingerprint"
    )
    entities = int(store.scalar(f"SELECT count(*) FROM {FRESH}"))
    todo = int(store.scalar(f"SELECT count(*) FROM {TODO}"))
    if todo > REBUILD_SHARE * max(entities, 1):
        build = _build_all(store, obj, spec, columns, types)
    else:
        store.execute(
            f"DELETE FROM {target} g WHERE NOT EXISTS (SELECT 1 FROM {FRESH} f "
            f"WHERE f.entity_id = g.entity_id AND f.fingerprint = g.{FINGERPRINT})"
        )
        if todo:
            sql, params = golden_sql(obj, spec, columns, types, only=TODO)
            store.execute(f"INSERT INTO {target} BY NAME {sql}", params)
        build = GoldenBuild(stored=entities, rebuilt=todo)
    # (on failure the caller's transaction rolls back, these temporary tables included)
    store.execute(f"DROP TABLE {TODO}")
    store.execute(f"DROP TABLE {FRESH}")
    return build


def _build_all(
    store: Store, obj: str, spec: ObjectSpec, columns: list[str], types: str
) -> GoldenBuild:
    """The whole table, in entity order: DuckDB compresses and writes rows that arrive in
    order as it goes; the unordered output of the aggregate would be compressed at the
    checkpoint, taking longer."""
    target = stored_name(obj)
    sql, params = golden_sql(obj, spec, columns, types)
    store.execute(
        f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM ({sql}) ORDER BY entity_id", params
    )
    stored = int(store.scalar(f"SELECT count(*) FROM {target}"))
    return GoldenBuild(stored=stored, rebuilt=stored)


def drop_golden(store: Store, obj: str) -> None:
    """Remove the golden records of ``obj`` (view and table, or the earlier table)."""
    _drop_earlier_layout(store, obj)
    store.execute(f"DROP VIEW IF EXISTS {view_name(obj)}")
    store.execute(f"DROP TABLE IF EXISTS {stored_name(obj)}")


def _drop_earlier_layout(store: Store, obj: str) -> None:
    """Drop ``id.golden_<obj>`` when it is a table: the layout before the view."""
    if store.table_exists("id", f"golden_{obj}", views=False):
        store.execute(f"DROP TABLE {view_name(obj)}")
