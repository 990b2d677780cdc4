"""Schema drift: each loaded file's column layout, and what changed since the source's
previous load (``meta.load_columns``, ``meta.schema_changes``).

Every load records its file's header in order, each column with the type its values read
as (:func:`profile`). The layout is then compared with the layout of the source's previous
load (the newest earlier load of the same source, whatever its file), and every difference
is logged once, with that load (:func:`compare`):

``removed``  a column of the previous load the file no longer has;
``added``    a column the previous load did not have;
``renamed``  a removed and an added column taken for one column under a new name: their
             names differ only in case, or they stand at the same place (right after the
             same column, or both first) and hold the same type (a column without values
             matches any type). Each column pairs at most once; otherwise they stay a
             removal and an addition;
``retyped``  a column of both loads whose values read as another type (a column without
             values in either load is never retyped).

A column that only moved is not a change. Both tables hold column names and type names,
never values. The log is written in the load's own transaction: a load that fails logs
nothing, and a file found unchanged is not loaded, so nothing is logged twice.

**Types.** Raw tables keep every value as text, so a column's type is read from its
values, the same way for every format: of the first :data:`PROFILE_ROWS` records of the
load (fewer for a file so wide that they would hold over :data:`PROFILE_VALUES` values),
the values that are neither empty nor one of the source's ``null_values`` (spaces trimmed)
decide it. It is the first of :data:`TYPES` that all of them match (``integer``:
digits; ``date``: 2025-01-31, 31.01.2025 or 01/31/2025; ``timestamp``: such a date, some
with a time; ``decimal``: digits with ``.`` or ``,`` separators, as 1.5 or 1.234,56;
``boolean``: true or false), else ``text``, or ``empty`` when there is no value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from workbench.store import Store, quote_ident

PROFILE_ROWS = 10_000
PROFILE_VALUES = 1_000_000  # a wide file is profiled on fewer records (at least 100)
_DATE = r"([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{1,2}[./][0-9]{1,2}[./][0-9]{4})"
TYPES: tuple[tuple[str, str], ...] = (
    ("integer", r"[+-]?[0-9]+"),
    ("date", _DATE),
    ("timestamp", _DATE + r"([T ][0-9]{1,2}:[0-9]{2}.*)?"),
    ("decimal", r"[+-]?[0-9]+([.,][0-9]+)*"),
    ("boolean", r"(?i)true|false"),
)
"""Types a column's values can read as, narrowest first, with the pattern every value of
the column must match in full (the first that all match is the column's type)."""
EMPTY, TEXT = "empty", "text"
KINDS = ("removed", "renamed", "added", "retyped")


@dataclass(frozen=True)
class Column:
    """One column of a file's layout: its 1-based position, header name and type."""

    position: int
    name: str
    type: str


@dataclass(frozen=True)
class Change:
    """One difference between two layouts of a source (see the module doc for the kinds).

    ``column`` is the name the change is about: the new name, or the old one of a column
    that was removed.
    """

    kind: str
    column: str
    old_name: str | None = None
    new_name: str | None = None
    old_type: str | None = None
    new_type: str | None = None
    old_position: int | None = None
    new_position: int | None = None

    def describe(self) -> str:
        """One line for people: ``renamed Fax -> Telefax``."""
        if self.kind == "renamed":
            return f"renamed {self.old_name} -> {self.new_name}"
        if self.kind == "retyped":
            return f"retyped {self.column}: {self.old_type} -> {self.new_type}"
        kind_type = self.new_type if self.kind == "added" else self.old_type
        return f"{self.kind} {self.column} ({kind_type})"


@dataclass(frozen=True)
class LoggedChange:
    """A row of the change log: a :class:`Change` of a source at one of its loads."""

    source: str
    load_id: int
    previous_load_id: int
    change: Change
    detected_at: datetime


# -- comparing two layouts ---------------------------------------------------------------
def compare(old: list[Column], new: list[Column]) -> list[Change]:
    """What changed from layout ``old`` to layout ``new``, in the order of the columns.

    Example:
        >>> a = [Column(1, "Id", "text"), Column(2, "Fax", "text")]
        >>> b = [Column(1, "Id", "text"), Column(2, "Telefax", "text")]
        >>> [c.describe() for c in compare(a, b)]
        ['renamed Fax -> Telefax']
    """
    old_names, new_names = {c.name for c in old}, {c.name for c in new}
    removed = [c for c in old if c.name not in new_names]
    added = [c for c in new if c.name not in old_names]
    renamed = _pair_renames(old, new, removed, added)  # new name -> old column
    gone = {c.name for c in renamed.values()}
    changes = [_removed(c) for c in removed if c.name not in gone]
    for column in new:
        before = renamed.get(column.name)
        if before is not None:
            changes.append(_kept("renamed", before, column))
        elif column.name not in old_names:
            changes.append(_added(column))
    by_name = {c.name: c for c in old}
    for column in new:
        before = by_name.get(column.name)
        if before is not None and _retyped(before.type, column.type):
            changes.append(_kept("retyped", before, column))
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(
        changes,
        key=lambda c: (c.new_position or c.old_position or 0, order[c.kind]),
    )


def _pair_renames(
    old: list[Column], new: list[Column], removed: list[Column], added: list[Column]
) -> dict[str, Column]:
    """Added columns that are removed ones under a new name (see the module doc)."""
    pairs: dict[str, Column] = {}
    free = list(removed)
    for column in added:  # names that differ only in case
        match = next((r for r in free if r.name.lower() == column.name.lower()), None)
        if match is not None:
            pairs[column.name] = match
            free.remove(match)
    old_before = {c.name: (old[c.position - 2].name if c.position > 1 else None) for c in old}
    for column in added:  # in the new file's order, so a run of renamed columns pairs up
        if column.name in pairs:
            continue
        before = new[column.position - 2].name if column.position > 1 else None
        if before is not None and before in pairs:
            before = pairs[before].name  # the column before was renamed too
        match = next(
            (r for r in free if old_before[r.name] == before and _same_type(r.type, column.type)),
            None,
        )
        if match is not None:
            pairs[column.name] = match
            free.remove(match)
    return pairs


def _same_type(a: str, b: str) -> bool:
    return a == b or EMPTY in (a, b)


def _retyped(a: str, b: str) -> bool:
    return a != b and EMPTY not in (a, b)


def _removed(c: Column) -> Change:
    return Change("removed", c.name, old_name=c.name, old_type=c.type, old_position=c.position)


def _added(c: Column) -> Change:
    return Change("added", c.name, new_name=c.name, new_type=c.type, new_position=c.position)


def _kept(kind: str, before: Column, after: Column) -> Change:
    """A change of a column present before and after (renamed or retyped)."""
    return Change(
        kind,
        after.name,
        old_name=before.name,
        new_name=after.name,
        old_type=before.type,
        new_type=after.type,
        old_position=before.position,
        new_position=after.position,
    )


# -- reading a load's layout -------------------------------------------------------------
def profile(
    store: Store, raw: str, load_id: int, columns: list[str], null_values: list[str]
) -> list[Column]:
    """The layout of load ``load_id`` in the raw table ``raw`` (already quoted): its
    ``columns`` in file order, each with the type its values read as (module doc)."""
    picks = ", ".join(f"{quote_ident(c)} AS {quote_ident(str(i))}" for i, c in enumerate(columns))
    tests = ", ".join(
        f"count(*) FILTER (WHERE filled AND regexp_full_match(v, $p{i}))" for i in range(len(TYPES))
    )
    sql = f"""
        WITH sample AS (
            SELECT {picks} FROM {raw} WHERE _load_id = $id AND _row_number <= $rows),
        long AS (
            SELECT name, trim(value) AS v FROM (
                UNPIVOT sample ON COLUMNS(*) INTO NAME name VALUE value)),
        marked AS (
            SELECT name, v, v <> '' AND NOT list_contains($nulls::VARCHAR[], v) AS filled
            FROM long)
        SELECT name, count(*) FILTER (WHERE filled), {tests} FROM marked GROUP BY name"""
    params: dict[str, object] = {
        "id": load_id,
        "rows": max(100, min(PROFILE_ROWS, PROFILE_VALUES // len(columns))),
        "nulls": [n.strip() for n in null_values],
        **{f"p{i}": pattern for i, (_, pattern) in enumerate(TYPES)},
    }
    counts = {int(r[0]): r[1:] for r in store.rows(sql, params)}
    return [
        Column(i + 1, name, _type_of(counts.get(i, (0,) * (len(TYPES) + 1))))
        for i, name in enumerate(columns)
    ]


def _type_of(counts: tuple[int, ...]) -> str:
    filled, *matched = counts
    if not filled:
        return EMPTY
    return next((name for (name, _), n in zip(TYPES, matched, strict=True) if n == filled), TEXT)


# -- the tables --------------------------------------------------------------------------
def record_layout(
    store: Store,
    source: str,
    load_id: int,
    layout: list[Column],
) -> list[Change]:
    """Keep the layout of ``load_id`` and log what changed since the source's previous
    load; returns those changes (none for a source's first load). Run it inside the load's
    transaction."""
    # one JSON text, not Python lists: DuckDB converts a list parameter item by item, which
    # takes seconds for a file thousands of columns wide
    columns = json.dumps([[c.position, c.name, c.type] for c in layout])
    store.execute(
        "INSERT INTO meta.load_columns SELECT $id, $s, c[1]::INTEGER, c[2], c[3] "
        "FROM (SELECT unnest(from_json($columns, '[[\"VARCHAR\"]]')) AS c)",
        {"id": load_id, "s": source, "columns": columns},
    )
    previous = store.scalar(
        "SELECT max(load_id) FROM meta.load_columns WHERE source = $s AND load_id < $id",
        {"s": source, "id": load_id},
    )
    if previous is None:
        return []
    changes = compare(layout_of(store, int(previous)), layout)
    now = datetime.now().astimezone()
    for c in changes:
        store.execute(
            "INSERT INTO meta.schema_changes VALUES ($s, $id, $prev, $kind, $col, $on, $nn, "
            "$ot, $nt, $op, $np, $at)",
            {"s": source, "id": load_id, "prev": int(previous), "kind": c.kind, "col": c.column,
             "on": c.old_name, "nn": c.new_name, "ot": c.old_type, "nt": c.new_type,
             "op": c.old_position, "np": c.new_position, "at": now},
        )  # fmt: skip
    return changes


def layout_of(store: Store, load_id: int) -> list[Column]:
    """The recorded layout of a load (empty if it has none: loaded before layouts were)."""
    rows = store.rows(
        "SELECT position, column_name, column_type FROM meta.load_columns "
        "WHERE load_id = $id ORDER BY position",
        {"id": load_id},
    )
    return [Column(int(p), str(n), str(t)) for p, n, t in rows]


def list_schema_changes(store: Store, source: str | None = None) -> list[LoggedChange]:
    """The change log (of one ``source``), newest load first, in column order per load."""
    if not store.table_exists("meta", "schema_changes"):
        return []  # a read-only store of a warehouse from before migration 3
    rows = store.rows(
        "SELECT source, load_id, previous_load_id, kind, column_name, old_name, new_name, "
        "old_type, new_type, old_position, new_position, detected_at FROM meta.schema_changes "
        "WHERE $s IS NULL OR source = $s "
        "ORDER BY load_id DESC, coalesce(new_position, old_position), kind",
        {"s": source},
    )
    return [LoggedChange(r[0], int(r[1]), int(r[2]), Change(*r[3:11]), r[11]) for r in rows]
