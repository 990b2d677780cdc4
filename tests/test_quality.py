"""Data-quality metrics against hand-counted values, history diffs, gates, CSV export."""

from __future__ import annotations

import csv
from pathlib import Path

from workbench.cli import main
from workbench.config import load_project
from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.quality import diff, latest_summary
from workbench.store import open_store

CONFIG = """
sources:
  crm_accounts:
    system: crm
    object: companies
    path: accounts.csv
    columns: {record_id: id, name: name}
  crm_contacts:
    system: crm
    object: contacts
    path: contacts.csv
    columns: {record_id: id, email: email, phone: phone, country: cc, company_id: acc}
  sync:
    system: integration
    object: sync_events
    path: sync.csv
    columns: {record_id: id, occurred_at: ts, status: st}
"""
ACCOUNTS = "id,name\nA1,Acme\nA2,Foo\n"
# 6 contacts: C2 twice (later one quarantined), one bad email and one unknown account (both
# optional: set aside, the contacts kept), one unreadable phone, one without email
CONTACTS = (
    "id,email,phone,cc,acc\n"
    "C1,a@x.com,+49 30 1234567,DE,A1\n"
    "C2,b@x.com,030 1234567,DE,A1\n"
    "C2,b2@x.com,,DE,A2\n"
    "C3,not-mail,,DE,A2\n"
    "C4,d@x.com,12,DE,A9\n"
    "C5,,,GB,\n"
)
SYNC = (
    "id,ts,st\nE1,2026-01-01T00:00:00Z,success\nE2,2026-01-01T01:00:00Z,failed\n"
    "E3,2026-01-01T02:00:00Z,success\nE4,2026-01-01T03:00:00Z,success\n"
)


def make(tmp_path: Path, contacts: str = CONTACTS) -> Path:
    (tmp_path / "workbench.yaml").write_text(CONFIG)
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    (tmp_path / "contacts.csv").write_text(contacts)
    (tmp_path / "sync.csv").write_text(SYNC)
    return tmp_path


def metrics(store, run_id: int) -> dict[tuple[str, str, str], float]:
    return {
        (s, f, m): v
        for s, f, m, v in store.rows(
            "SELECT source, field, metric, value FROM dq.metrics WHERE run_id = $r", {"r": run_id}
        )
    }


def test_metrics_match_hand_counts(tmp_path):
    project = load_project(make(tmp_path))
    with open_store(project) as store:
        ingest(project, store)
        result = run_quality(project, store)
        got = metrics(store, result.validation.run_id)
    c = "crm_contacts"
    assert got[(c, "", "rows_staged")] == 6
    # quarantined: the later C2; C3's email and C4's account A9 are set aside
    assert got[(c, "", "rows_quarantined")] == 1
    assert got[(c, "", "quarantine_rate")] == 1 / 6
    assert got[(c, "email", "completeness")] == 5 / 6
    assert got[(c, "phone", "completeness")] == 3 / 6
    assert got[(c, "record_id", "key_duplicate_rate")] == 2 / 6
    assert got[(c, "", "exact_duplicate_rate")] == 0
    assert got[(c, "company_id", "referential_integrity")] == 4 / 5
    # valid rows with a raw phone: C1 and C2 parse, C4's '12' does not: 2 of 3
    assert got[(c, "phone", "phone_parse_rate")] == 2 / 3
    assert got[(c, "email", "validity:email address format")] == 5 / 6
    assert got[("sync", "status", "sync_failure_rate")] == 1 / 4
    assert got[(c, "", "missing_mandatory_rate")] == 0


def test_a_worse_export_shows_as_a_regression(tmp_path):
    folder = make(
        tmp_path, contacts="id,email,phone,cc,acc\nC1,a@x.com,,DE,A1\nC2,b@x.com,,DE,A2\n"
    )
    assert main(["ingest", "--project", str(folder)]) == 0
    assert main(["validate", "--project", str(folder)]) == 0
    (folder / "contacts.csv").write_text(CONTACTS)
    assert main(["ingest", "--project", str(folder)]) == 0
    assert main(["validate", "--project", str(folder)]) == 0
    with open_store(load_project(folder), read_only=True) as store:
        changes = diff(store)
    regressed = {(c.source, c.field, c.metric) for c in changes if c.regression}
    assert ("crm_contacts", "", "quarantine_rate") in regressed
    assert ("crm_contacts", "email", "validity:email address format") in regressed
    assert ("crm_contacts", "email", "completeness") in regressed
    assert ("crm_contacts", "", "rows_staged") not in regressed  # more rows is not worse


def test_dq_diff_cli_lists_regressions(tmp_path, capsys):
    folder = make(tmp_path, contacts="id,email,phone,cc,acc\nC1,a@x.com,,DE,A1\n")
    for _ in range(1):
        main(["ingest", "--project", str(folder)])
        main(["validate", "--project", str(folder)])
    (folder / "contacts.csv").write_text(CONTACTS)
    main(["ingest", "--project", str(folder)])
    main(["validate", "--project", str(folder)])
    capsys.readouterr()
    assert main(["dq", "diff", "--project", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "quarantine_rate" in out and "regression(s)" in out


def test_blocking_limit_breach_exits_non_zero(tmp_path, capsys):
    folder = make(tmp_path)
    text = (folder / "workbench.yaml").read_text()
    (folder / "workbench.yaml").write_text(
        text + "quality:\n  blocking:\n    quarantine_rate: 0.1\n"
    )
    main(["ingest", "--project", str(folder)])
    capsys.readouterr()
    assert main(["validate", "--project", str(folder)]) == 5
    err = capsys.readouterr().err
    assert "contacts/crm_contacts: quarantine_rate = 0.1667, above the limit 0.1" in err
    assert "quality.blocking" in err


def test_unknown_blocking_metric_is_a_config_error(tmp_path, capsys):
    folder = make(tmp_path)
    text = (folder / "workbench.yaml").read_text()
    (folder / "workbench.yaml").write_text(text + "quality:\n  blocking:\n    quarantine: 0.2\n")
    assert main(["validate", "--project", str(folder)]) == 2
    assert "unknown metric(s) 'quarantine'" in capsys.readouterr().err


def test_export_dq_has_the_contract_columns(tmp_path):
    folder = make(tmp_path)
    main(["ingest", "--project", str(folder)])
    main(["validate", "--project", str(folder)])
    out = tmp_path / "dq.csv"
    assert main(["export", "dq", "--out", str(out), "--project", str(folder)]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert {"source", "object", "rows_read", "rows_valid", "rows_quarantined"} <= set(rows[0])
    contacts = next(r for r in rows if r["source"] == "crm_contacts")
    assert (float(contacts["rows_read"]), float(contacts["rows_valid"])) == (6, 5)
    with open_store(load_project(folder), read_only=True) as store:
        assert latest_summary(store).height == len(rows)


def test_quarantine_export_neutralizes_formulas(tmp_path):
    folder = make(tmp_path, contacts="id,email,phone,cc,acc\n=cmd|x,@SUM(1),,DE,A1\n")
    main(["ingest", "--project", str(folder)])
    main(["validate", "--project", str(folder)])
    out = tmp_path / "q.csv"
    assert main(["quarantine", "export", "--out", str(out), "--project", str(folder)]) == 0
    text = out.read_text()
    assert "'=cmd|x" in text
    with out.open() as handle:
        for row in csv.DictReader(handle):
            for value in row.values():
                assert not value.startswith(("=", "+", "-", "@")), value


def test_reconciliation_matches_hand_totals(make_project, store_of, capsys):
    project = make_project(
        """
base_currency: EUR
sources:
  fx:
    system: billing
    object: fx_rates
    path: fx.csv
    columns: {month: month, currency: cur, rate: rate}
  crm_accounts:
    system: crm
    object: companies
    path: accounts.csv
    columns: {record_id: id, name: name}
  crm_deals:
    system: crm
    object: deals
    path: deals.csv
    columns: {record_id: id, company_id: acc, status: st, amount: amt, currency: cur,
              created_at: created, closed_at: closed}
  billing_customers:
    system: billing
    object: contacts
    path: customers.csv
    columns: {record_id: id, company_name: firm}
  billing_invoices:
    system: billing
    object: invoices
    path: invoices.csv
    columns: {record_id: id, customer_id: cust, invoice_date: d, amount: amt, currency: cur,
              status: st}
""",
        {
            "fx.csv": "month,cur,rate\n2026-01-01,USD,0.5\n2026-02-01,USD,0.5\n",
            "accounts.csv": "id,name\nA1,ACME Inc.\nA2,Foo GmbH\n",
            "deals.csv": "id,acc,st,amt,cur,created,closed\n"
            "D1,A1,won,100,EUR,2026-01-01,2026-01-10\n"
            "D2,A1,won,200,USD,2026-01-01,2026-02-10\n"
            "D3,A2,lost,999,EUR,2026-01-01,2026-01-11\n",
            "customers.csv": "id,firm\nK1,Acme\nK2,Foo\n",
            "invoices.csv": "id,cust,d,amt,cur,st\n"
            "I1,K1,2026-01-15,100,EUR,paid\n"
            "I2,K1,2026-02-15,50,EUR,paid\n"
            "I3,K2,2026-02-20,40,USD,open\n"
            "I4,K2,2026-02-21,500,EUR,void\n",
        },
    )
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    months = {
        r[0]: r[1:]
        for r in store.rows(
            "SELECT key, crm_count, CAST(crm_amount AS DOUBLE), billing_count, "
            "CAST(billing_amount AS DOUBLE), CAST(amount_diff AS DOUBLE) "
            "FROM dq.reconciliation WHERE level = 'month'"
        )
    }
    # January: D1 100 EUR vs I1 100 EUR; February: D2 200 USD = 100 EUR vs I2 50 + I3 20
    assert months == {"2026-01": (1, 100.0, 1, 100.0, 0.0), "2026-02": (1, 100.0, 2, 70.0, -30.0)}
    accounts = {
        r[0]: r[1:]
        for r in store.rows(
            "SELECT key, CAST(crm_amount AS DOUBLE), CAST(billing_amount AS DOUBLE) "
            "FROM dq.reconciliation WHERE level = 'account'"
        )
    }
    assert accounts == {"acme": (200.0, 150.0), "foo": (0.0, 20.0)}
    store.close()
    assert main(["dq", "reconcile", "--project", str(project.root)]) == 0
    out = capsys.readouterr().out
    assert "2026-02" in out and "2026-01" not in out  # only months that differ
