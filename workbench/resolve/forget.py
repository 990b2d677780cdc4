"""What identity resolution forgets: the identity rows of given records and entities (see
:mod:`workbench.forget`), and who belongs to whom for an erasure to find them."""

from __future__ import annotations

from workbench.forget import Target
from workbench.store import Store, quote_ident


def members(store: Store, obj: str, column: str, *, by: str, values: list[str]) -> set[str]:
    """``column`` (``entity_id`` or ``unique_id``) of the ``obj`` rows of ``id.members``
    whose ``by`` is one of ``values``: the entities of records, or the records of entities."""
    if not values or not store.table_exists("id", "members"):
        return set()
    sql = f"SELECT DISTINCT {quote_ident(column)} FROM id.members WHERE object = $o "
    sql += f"AND list_contains($v::VARCHAR[], {quote_ident(by)})"
    return {r[0] for r in store.rows(sql, {"o": obj, "v": values})}


def targets(store: Store, obj: str, unique_ids: list[str], entities: list[str]) -> list[Target]:
    """The identity rows of the ``obj`` records ``unique_ids`` and the entities ``entities``:
    members, pairs, the review queue, its records and decisions, entity events and golden
    records."""
    pair = (
        "(list_contains($u::VARCHAR[], unique_id_l) OR list_contains($u::VARCHAR[], unique_id_r))"
    )
    events = (
        "(list_contains($e::VARCHAR[], entity_id) OR list_contains($e::VARCHAR[], other_entity_id))"
    )
    by_record = {"o": obj, "u": unique_ids}
    out = []
    for name, where, params in (
        ("members", "object = $o AND list_contains($u::VARCHAR[], unique_id)", by_record),
        ("pairs", f"object = $o AND {pair}", by_record),
        ("review_queue", f"object = $o AND {pair}", by_record),
        ("review_decisions", f"object = $o AND {pair}", by_record),
        # the matching input kept for the review queue's records
        (f"review_records_{obj}", "list_contains($u::VARCHAR[], unique_id)", {"u": unique_ids}),
        ("entity_events", f"object = $o AND {events}", {"o": obj, "e": entities}),
        # golden records: the table behind the view, or a table of the earlier layout
        (f"_golden_{obj}", "list_contains($e::VARCHAR[], entity_id)", {"e": entities}),
        (f"golden_{obj}", "list_contains($e::VARCHAR[], entity_id)", {"e": entities}),
    ):
        if store.table_exists("id", name, views=False):  # reported under the view's name
            out.append(Target("id", name, where, params, shown=f"id.{name.removeprefix('_')}"))
    return out
