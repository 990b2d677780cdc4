"""What ingest forgets: raw rows of every load, the staged rows made from them, and
rejected export lines (see :mod:`workbench.forget`)."""

from __future__ import annotations

import re

import polars as pl

from workbench.config import Project
from workbench.forget import Target, by_keys, count_into, lineage_target, registered_keys
from workbench.store import Store, table


def targets(store: Store, project: Project, keys: dict[str, list[str]]) -> list[Target]:
    """The raw rows ``keys`` (source -> ``source:load:row``) in ``raw.<source>``, every load,
    and the rows staged from them in ``stg.<object>``."""
    out: list[Target] = []
    by_object: dict[str, list[str]] = {}
    for name, mine in sorted(keys.items()):
        out += lineage_target(store, "raw", name, "$s::VARCHAR", "_", mine, s=name)
        by_object.setdefault(project.source(name).object, []).extend(mine)
    for obj, mine in sorted(by_object.items()):
        out += lineage_target(store, "stg", obj, "_source", "_", mine)
    return out


def reject_targets(store: Store, needles: list[str]) -> list[Target]:
    """Rejected export lines holding one of ``needles`` (addresses, phone numbers as written)."""
    if not needles or not store.table_exists("quar", "ingest_rejects"):
        return []
    match = "len(list_filter($n::VARCHAR[], lambda x: contains(lower(raw_record), x))) > 0"
    return [Target("quar", "ingest_rejects", match, {"n": needles})]


ERASED_MESSAGE = (
    "(This load's message quoted personal data of a person since erased; it was removed.)"
)


def ledger_targets(store: Store, needles: list[str]) -> list[Target]:
    """Ledger rows whose message quotes one of ``needles`` (a refused file's header that
    was data, say): the row stays, its message is replaced. A refusal's message may cut
    what it quotes (``... annabelle.meyer-schoe``), so a failed load's message goes when it
    holds a word of five characters or more of one of them (``annabelle``, ``1234567``)."""
    if not needles:
        return []
    words = sorted({w for n in needles for w in re.split(r"[\W_]+", n) if len(w) >= 5})
    found = "len(list_filter({}::VARCHAR[], lambda x: contains(lower(error), x))) > 0"
    match = f"({found.format('$n')} OR (status = 'failed' AND {found.format('$w')}))"
    shown = "meta.loads (messages replaced)"
    params = {"n": needles, "w": words}
    return [Target("meta", "loads", match, params, shown, ("error", ERASED_MESSAGE))]


def delete_rows(
    store: Store, project: Project, keys: pl.DataFrame, *, dry_run: bool = False
) -> dict[str, int]:
    """Remove the raw rows ``keys`` (source, _load_id, _row_number) and the rows staged from
    them; returns the rows removed per table (``dry_run``: counted, not removed)."""
    removed: dict[str, int] = {}
    with registered_keys(store, keys):
        sources = sorted(keys["source"].unique().to_list())
        for name in sources:
            if store.table_exists("raw", name):
                raw = table("raw", name)
                match = f"k.source = $s AND {_lineage(raw)}"
                count_into(removed, f"raw.{name}", by_keys(store, raw, match, {"s": name}, dry_run))
        objects = sorted({project.source(n).object for n in sources if n in project.config.sources})
        for obj in objects:
            if store.table_exists("stg", obj):
                stg = table("stg", obj)
                match = f"{stg}._source = k.source AND {_lineage(stg)}"
                count_into(removed, f"stg.{obj}", by_keys(store, stg, match, None, dry_run))
    return removed


def _lineage(target: str) -> str:
    return f"{target}._load_id = k._load_id AND {target}._row_number = k._row_number"
