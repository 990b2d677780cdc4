"""Small project configurations that several test modules share."""

from __future__ import annotations

CRM_CONTACTS = """
sources:
  crm:
    system: crm
    object: contacts
    path: c.csv
    columns: {record_id: id, first_name: first, last_name: last, email: email}
"""
"""One CRM source of contacts in ``c.csv`` (id, first, last, email)."""
