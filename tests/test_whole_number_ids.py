"""Ids written as whole numbers with a zero fraction (``103.0``: pandas writes an integer
column with gaps as floats, in JSON and CSV) are read as the number, so that a reference
from another export (``103``) finds its record; the raw table keeps what the file said."""

from __future__ import annotations

from staged import ingest_staged

CONFIG = """
sources:
  people:
    system: support
    object: contacts
    path: people.json
    columns: {record_id: id, email: email}
  desk:
    system: support
    object: tickets
    path: tickets.ndjson
    columns: {record_id: id, contact_id: requester_id, subject: subject, created_at: at}
  crm:
    system: crm
    object: contacts
    path: crm.csv
    columns: {record_id: Id, email: Email}
"""
PEOPLE = '[{"id": 103.0, "email": "a@x.com"}, {"id": 7, "email": "b@x.com"}]'
TICKETS = (
    '{"id": 1.0, "requester_id": 103.0, "subject": "Refund", "at": "2026-03-01T10:00:00Z"}\n'
    '{"id": 2, "requester_id": 7, "subject": "Invoice", "at": "2026-03-02T10:00:00Z"}\n'
    '{"id": 3.00, "requester_id": null, "subject": "Version 2.0", "at": "2026-03-03T10:00:00Z"}\n'
)
# not whole numbers with a zero fraction: kept as written
CRM = "Id,Email\n12.50,c@x.com\nv1.0,d@x.com\n1.0.0,e@x.com\n-4.0,f@x.com\n"


def test_ids_with_a_zero_fraction_are_read_as_whole_numbers(make_project, store_of):
    project = make_project(
        CONFIG, {"people.json": PEOPLE, "tickets.ndjson": TICKETS, "crm.csv": CRM}
    )
    store = store_of(project)
    assert ingest_staged(project, store).failures == []
    people = store.rows("SELECT record_id FROM stg.contacts WHERE _source = 'people' ORDER BY 1")
    assert people == [("103",), ("7",)]
    tickets = store.rows("SELECT record_id, contact_id, subject FROM stg.tickets ORDER BY 1")
    assert tickets == [("1", "103", "Refund"), ("2", "7", "Invoice"), ("3", None, "Version 2.0")]
    crm = store.rows("SELECT record_id FROM stg.contacts WHERE _source = 'crm' ORDER BY 1")
    assert crm == [("-4",), ("1.0.0",), ("12.50",), ("v1.0",)]
    # every reference from the desk finds its requester
    orphans = store.scalar(
        "SELECT count(*) FROM stg.tickets t WHERE contact_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM stg.contacts c WHERE c.record_id = t.contact_id)"
    )
    assert orphans == 0
    # raw keeps the text as read
    assert store.rows('SELECT "id" FROM raw.people ORDER BY 1') == [("103.0",), ("7",)]
