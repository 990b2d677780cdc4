"""Rows ingest could not read are shown, exported, counted and reported; failed loads and
failed staging keep their reason in the ledger, which `workbench ledger` prints."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.ingest import ingest, list_loads, load_file, loader, stage, stage_changed
from workbench.quality import latest_summary
from workbench.report import data_quality
from workbench.report.context import open_context
from workbench.store import open_store
from workbench.validate.quarantine import mask_text

CONFIG = """
sources:
  crm:
    system: crm
    object: contacts
    path: c.csv
    columns: {record_id: id, first_name: first, email: email}
  desk:
    system: support
    object: tickets
    path: t.ndjson
    columns: {record_id: id, subject: subject, created_at: ts}
"""
# two ragged rows: record 2 (line 3) has a field too many, record 3 (line 4) one too few;
# record 5 fails validation (it repeats the id of record 4)
CONTACTS = (
    "id,first,email\n"
    "1,Anna,anna@acme.com\n"
    "2,Bob,bob@x.com,+49 30 1234567\n"
    "3,Cleo\n"
    "4,Dan,dan@x.com\n"
    "4,Eve,eve@x.com\n"
)
# line 2 is a JSON array, not an object
TICKETS = (
    '{"id": "T1", "subject": "Hello", "ts": "2026-01-01T00:00:00Z"}\n'
    '["T2", "Anna Meyer", "anna@acme.com"]\n'
    '{"id": "T3", "subject": "Invoice", "ts": "2026-01-02T00:00:00Z"}\n'
)
TOO_MANY = "too many columns: 4 fields where the header has 3"
MISSING = "missing columns (email): 2 of the header's 3 fields"  # email: the first missing
NOT_OBJECT = "not an object: the line holds a JSON array, not an object"
CRM_EXCERPTS = ("2,B***,b***@x.com,***67", "3,C***")
DESK_EXCERPT = '["T2", "A*** M***", "a***@acme.com"]'
UNMASKED = ("Bob", "bob@x.com", "1234567", "Cleo", "Anna Meyer", "anna@acme.com", "eve@x.com")


@pytest.fixture
def root(make_project, tmp_path: Path) -> str:
    make_project(CONFIG, {"c.csv": CONTACTS, "t.ndjson": TICKETS})
    assert main(["ingest", "--project", str(tmp_path)]) == 0
    assert main(["validate", "--project", str(tmp_path)]) == 0
    return str(tmp_path)


def cli(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def table_rows(out: str, title: str) -> list[tuple[str, ...]]:
    """The body rows of the rich table printed under ``title`` (cells stripped)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == title)
    rows = []
    for line in lines[start + 4 :]:  # title, top border, header, rule
        if not line.startswith("│"):
            break
        rows.append(tuple(cell.strip() for cell in line.split("│")[1:-1]))
    return rows


def test_quarantine_list_shows_ingest_rejects_masked(root, capsys):
    code, out = cli(capsys, "quarantine", "list", "--project", root)
    assert code == 0
    assert table_rows(out, "Rows ingest could not read (first 50)") == [
        ("crm", "c.csv", "3", TOO_MANY, CRM_EXCERPTS[0]),
        ("crm", "c.csv", "4", MISSING, CRM_EXCERPTS[1]),
        ("desk", "t.ndjson", "2", NOT_OBJECT, DESK_EXCERPT),
    ]
    assert table_rows(out, "Quarantine by check") == [
        ("contacts", "crm", "", "readable row (ingest)", "row rejected", "1", "missing columns"),
        ("contacts", "crm", "", "readable row (ingest)", "row rejected", "1", "too many columns"),
        ("contacts", "crm", "record_id", "unique (a later duplicate)", "row quarantined", "1", "4"),
        ("tickets", "desk", "", "readable row (ingest)", "row rejected", "1", "not an object"),
    ]
    assert [r[:3] for r in table_rows(out, "Rows validation quarantined (first 50)")] == [
        ("contacts", "crm", "4")
    ]
    assert not [value for value in UNMASKED if value in out]


def test_quarantine_list_filters_ingest_rejects(root, capsys):
    _, out = cli(capsys, "quarantine", "list", "--source", "desk", "--project", root)
    assert table_rows(out, "Rows ingest could not read (first 50)") == [
        ("desk", "t.ndjson", "2", NOT_OBJECT, DESK_EXCERPT)
    ]
    assert table_rows(out, "Quarantine by check") == [
        ("tickets", "desk", "", "readable row (ingest)", "row rejected", "1", "not an object")
    ]
    _, out = cli(capsys, "quarantine", "list", "--object", "contacts", "--project", root)
    assert [r[:3] for r in table_rows(out, "Rows ingest could not read (first 50)")] == [
        ("crm", "c.csv", "3"),
        ("crm", "c.csv", "4"),
    ]


def test_unmasked_excerpts_only_where_allowed(root, capsys):
    code, _ = cli(capsys, "quarantine", "list", "--unmask", "--project", root)
    assert code == 2
    config = Path(root) / "workbench.yaml"
    config.write_text(config.read_text() + "privacy: {allow_unmask: true}\n")
    code, out = cli(capsys, "quarantine", "list", "--unmask", "--project", root)
    assert code == 0
    assert [r[4] for r in table_rows(out, "Rows ingest could not read (first 50)")] == [
        "2,Bob,bob@x.com,+49 30 1234567",
        "3,Cleo",
        '["T2", "Anna Meyer", "anna@acme.com"]',
    ]


def test_quarantine_export_has_both_stages(root, capsys, tmp_path):
    target = tmp_path / "q.csv"
    code, _ = cli(capsys, "quarantine", "export", "--out", str(target), "--project", root)
    assert code == 0
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "stage", "outcome", "object", "source", "record_id", "file", "load_id", "row_number",
        "line", "reasons", "record",
    ]  # fmt: skip
    ingest_rows = [r for r in rows if r["stage"] == "ingest"]
    assert [
        (r["object"], r["source"], r["record_id"], r["file"], r["row_number"], r["line"])
        for r in ingest_rows
    ] == [
        ("contacts", "crm", "", "c.csv", "2", "3"),
        ("contacts", "crm", "", "c.csv", "3", "4"),
        ("tickets", "desk", "", "t.ndjson", "2", "2"),
    ]
    assert [(r["reasons"], r["record"]) for r in ingest_rows] == [
        (TOO_MANY, CRM_EXCERPTS[0]),
        (MISSING, CRM_EXCERPTS[1]),
        (NOT_OBJECT, DESK_EXCERPT),
    ]
    assert {r["outcome"] for r in ingest_rows} == {"row rejected"}
    validated = [r for r in rows if r["stage"] == "validate"]
    assert [
        (r["outcome"], r["source"], r["record_id"], r["file"], r["line"]) for r in validated
    ] == [("row quarantined", "crm", "4", "c.csv", "")]
    assert not [value for value in UNMASKED if value in target.read_text(encoding="utf-8")]


def test_counts_add_up_per_source(root, capsys, tmp_path):
    with open_store(load_project(root), read_only=True) as store:
        ledger = {
            r.source: (r.rows_read, r.rows_loaded, r.rows_rejected, r.rows_suppressed)
            for r in list_loads(store)
        }
        summary = {
            row["source"]: tuple(
                row[c]
                for c in (
                    "rows_read",
                    "rows_rejected",
                    "rows_suppressed",
                    "rows_valid",
                    "rows_quarantined",
                )
            )
            for row in latest_summary(store).iter_rows(named=True)
        }
    assert ledger == {"crm": (5, 3, 2, 0), "desk": (3, 2, 1, 0)}
    # read = rejected at ingest + suppressed + valid + quarantined
    assert summary == {"crm": (5, 2, 0, 2, 1), "desk": (3, 1, 0, 2, 0)}
    target = tmp_path / "dq.csv"
    code, _ = cli(capsys, "export", "dq", "--out", str(target), "--project", root)
    assert code == 0
    with target.open(encoding="utf-8", newline="") as handle:
        exported = {r["source"]: r for r in csv.DictReader(handle)}
    assert (exported["crm"]["rows_read"], exported["crm"]["rows_rejected"]) == ("5.0", "2.0")
    _, out = cli(capsys, "dq", "show", "--project", root)
    assert "rows_reje" in out


def test_data_quality_report_shows_ingest_rejects(root):
    ctx = open_context(root, "2026-01")
    rejects = data_quality.ingest_rejects(ctx)
    summary = data_quality.summary(ctx)
    reasons = data_quality.reasons(ctx)
    data_quality.quarantine_chart(ctx)
    data_quality.trend_chart(ctx)
    data_quality.reasons_chart(ctx)
    assert rejects.rows() == [
        ("contacts", "crm", "c.csv", 2, "missing columns (1); too many columns (1)", "3, 4"),
        ("tickets", "desk", "t.ndjson", 1, "not an object (1)", "2"),
    ]
    assert summary.select("source", "rows_read", "rows_rejected", "rows_quarantined").rows() == [
        ("crm", 5.0, 2.0, 1.0),
        ("desk", 3.0, 1.0, 0.0),
    ]
    assert sorted(reasons.select("source", "check", "rows").rows()) == [
        ("crm", "readable row (ingest): missing columns", 1),
        ("crm", "readable row (ingest): too many columns", 1),
        ("crm", "unique (a later duplicate)", 1),
        ("desk", "readable row (ingest): not an object", 1),
    ]


def test_raw_text_masking():
    assert mask_text("7,Müller,Straße 5,ab@c.de") == "7,M***,S*** 5,a***@c.de"
    assert mask_text('{"first_name": "Anna", "phone": "+49 (30) 123-4567"}') == (
        '{"first_name": "A***", "phone": "***67"}'
    )
    assert mask_text('{"anna@acme.com": 1}') == '{"a***@acme.com": 1}'


def test_a_refused_file_keeps_its_reason_and_ledger_prints_it(make_project, tmp_path, capsys):
    make_project(CONFIG, {"c.csv": CONTACTS, "t.ndjson": TICKETS})
    bad = tmp_path / "bad.csv"
    bad.write_text("id,first,mail\n1,Anna,a@x.com\n")
    root = str(tmp_path)
    assert main(["ingest", str(bad), "--source", "crm", "--project", root]) == 3
    with open_store(load_project(root), read_only=True) as store:
        (failed,) = list_loads(store)
    where = f"{tmp_path / 'workbench.yaml'}, key sources.crm.columns.email"
    fix = "Did you mean 'mail'? Map it to one of the file's columns: id, first, mail."
    assert failed.status == "failed"
    assert failed.error == (
        f"Column 'email' (mapped to contacts.email) is not in bad.csv.\nWhere: {where}\nFix: {fix}"
    )
    code, out = cli(capsys, "ledger", "--project", root)
    assert code == 0
    assert (
        "Why loads failed\nload 1 (crm, bad.csv, failed):\n"
        "  Column 'email' (mapped to contacts.email) is not in bad.csv.\n"
        f"  Where: {where}\n  Fix: {fix}\n"
    ) in out


def test_a_failed_restaging_is_recorded_with_its_reason(make_project, tmp_path, capsys):
    project = make_project(CONFIG, {"c.csv": CONTACTS, "t.ndjson": TICKETS})
    root = str(tmp_path)
    assert main(["ingest", "--project", root]) == 0
    config = tmp_path / "workbench.yaml"
    config.write_text(config.read_text().replace("email: email", "email: mail"))
    capsys.readouterr()
    assert main(["ingest", "--project", root]) == 0  # the files are unchanged
    assert main(["validate", "--project", root]) == 3  # staging them is what fails
    assert "Column 'mail' (mapped to contacts.email)" in capsys.readouterr().err
    with open_store(project, read_only=True) as store:
        failed = [r for r in list_loads(store) if r.status == "failed"]
    where = f"{config}, key sources.crm.columns.email"
    what = "Column 'mail' (mapped to contacts.email) is not in the loaded data of crm."
    fix = "Did you mean 'email'? Map it to one of the file's columns: id, first, email."
    assert [(r.load_id, r.source, r.file, r.is_current) for r in failed] == [
        (3, "crm", "raw.crm", False)
    ]
    assert failed[0].error == (
        f"Staging raw.crm into stg.contacts failed: {what}\nWhere: {where}\nFix: {fix}"
    )
    _, out = cli(capsys, "ledger", "--source", "crm", "--project", root)
    assert (
        "load 3 (crm, raw.crm, failed):\n"
        f"  Staging raw.crm into stg.contacts failed: {what}\n  Where: {where}\n"
    ) in out


def test_unexpected_errors_are_recorded_not_left_running(
    make_project, store_of, tmp_path, monkeypatch
):
    project = make_project(CONFIG, {"c.csv": CONTACTS, "t.ndjson": TICKETS})
    store = store_of(project)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    assert ingest(project, store, sources=["crm"]).failures == []
    monkeypatch.setattr(stage, "restage_source", broken)
    with pytest.raises(RuntimeError):
        stage_changed(project, store, ["crm"])
    monkeypatch.setattr(loader, "read_export", broken)
    (tmp_path / "c.csv").write_text(CONTACTS + "6,Fay,fay@x.com\n")
    with pytest.raises(RuntimeError):
        load_file(project, store, "crm", tmp_path / "c.csv")
    assert [
        (r.load_id, r.file.rsplit("/", 1)[-1], r.status, r.error) for r in list_loads(store)
    ] == [
        (3, "c.csv", "failed", "Unexpected error while loading c.csv: RuntimeError: disk on fire"),
        (
            2,
            "raw.crm",
            "failed",
            "Unexpected error while staging raw.crm into stg.contacts: RuntimeError: disk on fire",
        ),
        (1, "c.csv", "loaded", None),
    ]
