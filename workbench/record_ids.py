"""A record's id across the warehouse: ``unique_id`` is ``<source>:<record_id>``.

A record is named by the source it was loaded from and its own id there (``crm:1042``):
the matching input, the identity tables (``id.members``, ``id.pairs``, review decisions),
``workbench review`` and ``workbench explain``, the quarantine's ``SOURCE:RECORD_ID`` and
the KPIs' unresolved records all compose it the same way, with :func:`unique_id` in Python
and :func:`unique_id_sql` in SQL. Source names cannot hold a colon; a record id can, so an
id is split at its first colon (:func:`split_unique_id`).
"""

from __future__ import annotations

SEPARATOR = ":"


def unique_id(source: str, record_id: object) -> str:
    """The unique id of record ``record_id`` of ``source``: ``unique_id("crm", 7) == "crm:7"``."""
    return f"{source}{SEPARATOR}{record_id}"


def split_unique_id(value: str) -> tuple[str, str]:
    """The source and record id of a unique id (split at its first colon; without a colon,
    the whole as the source and an empty record id)."""
    source, _, record_id = value.partition(SEPARATOR)
    return source, record_id


def unique_id_sql(source: str = "_source", record_id: str = "record_id") -> str:
    """The SQL expression of a record's unique id, from the SQL expressions of its source and
    record id (columns, quoted or qualified as the query needs: ``c._source``); the record
    id is cast to text."""
    return f"{source} || '{SEPARATOR}' || CAST({record_id} AS VARCHAR)"
