"""Issue acceptance: three systems' exports, each in its own shape, load by configuration alone."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from staged import ingest_staged

from workbench.config import load_project
from workbench.ingest import ingest, list_loads, stage_changed
from workbench.store import open_store

DATA = Path(__file__).parent / "data" / "three_systems"


@pytest.fixture
def project(tmp_path: Path):
    shutil.copytree(DATA, tmp_path / "p")
    return load_project(tmp_path / "p")


def test_three_systems_load_by_configuration(project):
    with open_store(project) as store:
        report = ingest(project, store)
        assert report.failures == []
        staged = stage_changed(project, store)  # what validation does first
        assert {s.source: (s.rows, s.reason) for s in staged} == {
            "crm_contacts": (3, "new loads"),
            "billing_customers": (3, "new loads"),
            "support_requesters": (3, "new loads"),
            "billing_invoices": (3, "new loads"),
        }
        rows = store.rows(
            "SELECT _source, record_id, first_name, last_name, email, company_name, created_at, "
            "_problems FROM stg.contacts ORDER BY _source, record_id"
        )
        invoices = store.rows(
            "SELECT record_id, customer_id, invoice_date, amount, currency, status "
            "FROM stg.invoices ORDER BY 1"
        )
    by_key = {(r[0], r[1]): r[2:] for r in rows}
    # Salesforce: own column names, Account.Name, +0000 / -0500 offsets to UTC
    assert by_key[("crm_contacts", "0035g00000AbCdEAAZ")] == (
        "Anna",
        "Müller",
        "Anna.Mueller@Acme.com",
        "Acme Inc.",
        datetime(2026, 10, 1, 3, 0, tzinfo=UTC),
        [],
    )
    assert by_key[("crm_contacts", "0035g00000AbCdFAAZ")][3] == "Smith & Sons, LLC"
    assert by_key[("crm_contacts", "0035g00000AbCdGAAZ")][2] is None  # empty email
    # Billing: ';', latin-1, 'Last, First', dd.mm.yyyy in Europe/Berlin, N/A as missing
    assert by_key[("billing_customers", "K-1001")] == (
        "Anna",
        "Müller",
        "anna.mueller@acme.com",
        "ACME Inc",
        datetime(2026, 1, 4, 23, 0, tzinfo=UTC),
        [],
    )
    assert by_key[("billing_customers", "K-1002")][:2] == ("José", "García")
    smith = by_key[("billing_customers", "K-1003")]
    assert smith[2] is None  # 'N/A'
    assert smith[4] is None and smith[5] == [
        "created_at: cannot read '29.02.2026' as timestamp with format %d.%m.%Y"
    ]
    # Support desk: JSON array, one 'name' field split into first and last
    assert by_key[("support_requesters", "501")][:2] == ("Anna", "Muller")
    assert by_key[("support_requesters", "502")][4] == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert by_key[("support_requesters", "503")][:2] == ("Madonna", None)
    # Billing invoices: decimal commas, mapped status values
    assert invoices == [
        ("R-1", "K-1001", date(2026, 1, 5), Decimal("1234.56"), "EUR", "paid"),
        ("R-2", "K-1002", date(2026, 1, 31), Decimal("-0.5"), "EUR", "void"),
        ("R-3", "K-1001", date(2026, 2, 1), Decimal("99.9"), "USD", "open"),
    ]


def test_second_ingest_changes_nothing_and_the_ledger_shows_it(project):
    with open_store(project) as store:
        ingest_staged(project, store)
        ledger_before = list_loads(store)
        staged_before = store.rows("SELECT * FROM stg.contacts ORDER BY _source, record_id")
        again = ingest_staged(project, store)
        assert {r.status for r in again.loads} == {"unchanged"}
        assert list_loads(store) == ledger_before
        assert store.rows("SELECT * FROM stg.contacts ORDER BY _source, record_id") == (
            staged_before
        )
    assert len(ledger_before) == 4
    assert all(r.status == "loaded" and r.is_current for r in ledger_before)
    assert [r.rows_loaded for r in sorted(ledger_before, key=lambda r: r.load_id)] == [3, 3, 3, 3]
