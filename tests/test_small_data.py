"""Projects at their smallest: objects without rows, and too few records to match."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli import main

pytestmark = pytest.mark.slow  # heavy: run by `make test-slow`

CONFIG = """
sources:
  crm:
    system: crm
    object: contacts
    path: c.csv
    columns: {record_id: id, email: email, first_name: first, last_name: last}
  deals:
    system: crm
    object: deals
    path: d.csv
    columns: {record_id: id, status: s, created_at: c, amount: a, currency: cur}
  inv:
    system: billing
    object: invoices
    path: i.csv
    columns: {record_id: id, customer_id: c, invoice_date: d, amount: a, currency: cur}
  sync:
    system: ipaas
    object: sync_events
    path: s.csv
    columns: {record_id: id, occurred_at: at, status: st, latency_ms: ms}
"""


def write(root: Path, contacts: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "workbench.yaml").write_text(CONFIG)
    (root / "c.csv").write_text("id,email,first,last\n" + contacts)
    (root / "d.csv").write_text("id,s,c,a,cur\n")
    (root / "i.csv").write_text("id,c,d,a,cur\n")
    (root / "s.csv").write_text("id,at,st,ms\n")
    return root


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_objects_without_rows_validate_and_measure(tmp_path, capsys):
    project = str(write(tmp_path / "p", "1,a@x.com,Ann,Lee\n"))
    assert run(capsys, "ingest", "--project", project)[0] == 0
    code, text = run(capsys, "validate", "--project", project)
    assert code == 0 and "Traceback" not in text
    import duckdb

    con = duckdb.connect(str(Path(project) / "data" / "warehouse.duckdb"), read_only=True)
    try:
        columns = {r[0] for r in con.execute("DESCRIBE core.deals").fetchall()}
        assert {"amount", "amount_base", "currency"} <= columns
        counts = con.execute(
            "SELECT (SELECT count(*) FROM core.deals), (SELECT count(*) FROM core.invoices), "
            "(SELECT count(*) FROM core.sync_events), (SELECT count(*) FROM core.contacts)"
        ).fetchone()
    finally:
        con.close()
    assert counts == (0, 0, 0, 1)
    code, text = run(capsys, "kpi", "--project", project)
    assert code == 0 and "Traceback" not in text and "cannot be computed" not in text


@pytest.mark.parametrize(
    "contacts",
    ["1,a@x.com,Ann,Lee\n", "1,a@x.com,Ann,Lee\n2,b@x.com,Bo,Ng\n3,c@x.com,Cy,Oh\n"],
    ids=["one record", "no shared email"],
)
def test_too_few_records_to_match_is_one_clear_message(tmp_path, capsys, contacts):
    project = str(write(tmp_path / "p", contacts))
    assert run(capsys, "ingest", "--project", project)[0] == 0
    assert run(capsys, "validate", "--project", project)[0] == 0
    code, text = run(capsys, "resolve", "--project", project)
    assert code == 1
    assert "too little data to train the matching model" in text
    assert "Fix: Resolve once more exports are loaded" in text
    assert "Traceback" not in text
    out = str(tmp_path / "e.csv")
    code, text = run(capsys, "export", "entities", "--project", project, "--out", out)
    assert code != 0 and "Nothing has been resolved yet" in text
