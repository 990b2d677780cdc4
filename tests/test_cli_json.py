"""``--json`` on listing and summary commands, and ``--out -`` on CSV exports.

Every JSON document is parsed whole from stdout (so nothing else may be printed there) and
checked against the warehouse read here with DuckDB SQL, not through Workbench; personal
data must be masked in it as in the tables. Every ``--out -`` CSV is compared with the file
the same command writes with ``--out FILE``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from workbench.cli import main

DATA = Path(__file__).parent / "data" / "three_systems"
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what earlier calls printed
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    """Run a command with --json; its whole stdout must be one JSON document."""
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def sql(project: Path, query: str, params: list[Any] | None = None) -> list[tuple]:
    """Rows of ``query`` on the project's warehouse, read with DuckDB directly."""
    with duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def masked_email(value: str) -> str:
    """How an email of PII class contact reads masked (the first character, the domain)."""
    local, _, domain = value.partition("@")
    return f"{local[0]}***@{domain}"


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data/three_systems, loaded and validated (read-only for the tests here)."""
    project = tmp_path_factory.mktemp("json") / "three"
    shutil.copytree(DATA, project)
    assert main(["ingest", "--project", str(project)]) == 0
    assert main(["validate", "--project", str(project)]) == 0
    return project


@pytest.fixture(scope="module")
def demo(demo_source: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the 200-contact demo (kpi, baseline and roi write runs)."""
    project = tmp_path_factory.mktemp("json") / "demo"
    shutil.copytree(demo_source(200), project)
    return project


# --- --json -----------------------------------------------------------------------------


def test_ledger_json_lists_every_load_as_the_warehouse_holds_it(capsys, three: Path) -> None:
    loads = run_json(capsys, "ledger", "--project", str(three))
    expected = sql(
        three,
        "SELECT load_id, source, file, status, rows_read, rows_loaded, rows_rejected, "
        "rows_suppressed, rows_blank, is_current, error FROM meta.loads ORDER BY load_id DESC",
    )
    assert len(expected) == 4
    keys = ["load", "source", "file", "status", "read", "loaded", "rejected", "suppressed"]
    keys += ["empty", "current", "error"]
    assert [list(r) for r in loads] == [keys] * len(expected)
    assert [tuple(r.values()) for r in loads] == expected
    only = run_json(capsys, "ledger", "--source", "crm_contacts", "--project", str(three))
    assert [r["source"] for r in only] == ["crm_contacts"]
    assert only[0]["file"].endswith("salesforce_contacts.csv")


def test_dq_show_json_is_the_latest_runs_metrics(capsys, three: Path) -> None:
    rows = run_json(capsys, "dq", "show", "--project", str(three))
    metrics = {
        (source, metric): value
        for source, metric, value in sql(
            three,
            "SELECT source, metric, value FROM dq.metrics "
            "WHERE run_id = (SELECT max(run_id) FROM dq.metrics) AND coalesce(field, '') = ''",
        )
    }
    assert {r["source"] for r in rows} == {s for s, _ in metrics}
    for row in rows:
        for metric in ("rows_valid", "rows_quarantined", "quarantine_rate"):
            assert row[metric] == pytest.approx(metrics[(row["source"], metric)]), metric
    invoices = next(r for r in rows if r["source"] == "billing_invoices")
    assert (invoices["rows_valid"], invoices["rows_quarantined"]) == (2, 1)
    # a field-level rate a reader must see: the least readable phone field of each source
    phones = dict(
        sql(
            three,
            "SELECT source, min(value) FROM dq.metrics WHERE metric = 'phone_parse_rate' "
            "AND run_id = (SELECT max(run_id) FROM dq.metrics) GROUP BY ALL",
        )
    )
    assert phones and {
        r["source"]: r.get("phone_parse_rate") for r in rows if r["source"] in phones
    } == pytest.approx(phones)


def test_dq_diff_json_counts_every_change(capsys, three: Path, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(three, project)
    bad = project / "exports" / "billing_invoices.csv"
    bad.write_bytes(bad.read_bytes() + b"R-4;K-1001;01.02.2026;99,90;USD;offen\n")  # no fx
    assert main(["ingest", "--project", str(project)]) == 0
    assert main(["validate", "--project", str(project)]) == 0
    document = run_json(capsys, "dq", "diff", "--all", "--project", str(project))
    changed = sql(
        project,
        "SELECT object, source, field, metric, b.value, a.value "
        "FROM (SELECT * FROM dq.metrics WHERE run_id = 1) b "
        "FULL JOIN (SELECT * FROM dq.metrics WHERE run_id = 2) a "
        "USING (object, source, field, metric) WHERE b.value IS DISTINCT FROM a.value",
    )
    assert document["regressions"] + document["other_changes"] == len(changed)
    assert len(document["changes"]) == len(changed)
    assert {tuple(c.values())[:6] for c in document["changes"]} == set(changed)
    assert all(isinstance(c["regression"], bool) for c in document["changes"])
    assert sum(c["regression"] for c in document["changes"]) == document["regressions"]
    quarantined = next(
        c for c in document["changes"]
        if c["source"] == "billing_invoices" and c["metric"] == "rows_quarantined"
    )  # fmt: skip
    assert (quarantined["before"], quarantined["after"], quarantined["regression"]) == (1, 2, True)
    only = run_json(capsys, "dq", "diff", "--project", str(project))
    assert all(c["regression"] for c in only["changes"])
    assert len(only["changes"]) == document["regressions"]


def test_quarantine_list_json_matches_the_quarantine(capsys, three: Path) -> None:
    document = run_json(capsys, "quarantine", "list", "--project", str(three))
    assert set(document) == {"by_check", "rows", "values_set_aside", "ingest_rejects"}
    rows = sql(
        three,
        "SELECT object, source, record_id, load_id, row_number, reasons FROM quar.rows "
        "ORDER BY object, source, load_id, row_number",
    )
    assert [tuple(r.values()) for r in document["rows"]] == rows
    failures = sql(
        three,
        'SELECT source, record_id, "column", "check", value FROM quar.failures '
        "WHERE source = 'billing_customers'",
    )
    assert [
        (v["source"], v["record_id"], v["column"], v["check"], v["value"])
        for v in document["values_set_aside"]
    ] == failures
    assert sum(c["rows"] for c in document["by_check"]) == len(rows) + len(failures)
    assert document["ingest_rejects"] == []


def test_quarantine_json_masks_personal_data_as_the_tables_do(capsys, demo: Path) -> None:
    emails = sql(
        demo,
        "SELECT source, record_id, value FROM quar.failures "
        "WHERE \"column\" = 'email' AND value LIKE '%@%' ORDER BY source, record_id",
    )
    assert emails, "the demo sets invalid emails aside"
    code, table, _ = run(
        capsys, "quarantine", "list", "--object", "contacts", "--project", str(demo)
    )
    assert code == 0
    document = run_json(
        capsys, "quarantine", "list", "--object", "contacts", "--project", str(demo)
    )
    text = json.dumps(document)
    shown = {(v["source"], v["record_id"]): v["value"] for v in document["values_set_aside"]}
    for source, record_id, raw in emails:
        assert raw not in text and raw not in table
        assert shown[(source, record_id)] == masked_email(raw)
        assert masked_email(raw) in table
    source, record_id, raw = emails[0]
    record = f"{source}:{record_id}"
    one = run_json(capsys, "quarantine", "show", record, "--project", str(demo))
    assert (one["record"], one["object"]) == (record, "contacts")
    assert one["values"]["email"] == masked_email(raw)
    assert [c["value"] for c in one["failed_checks"] if c["column"] == "email"] == [
        masked_email(raw)
    ]
    assert raw not in json.dumps(one)
    # the same command unmasked (where allowed) does show the value: masking is what hid it
    config = demo / "workbench.yaml"
    original = config.read_text(encoding="utf-8")
    try:
        config.write_text(original + "\nprivacy:\n  allow_unmask: true\n", encoding="utf-8")
        bare = run_json(capsys, "quarantine", "show", record, "--unmask", "--project", str(demo))
    finally:
        config.write_text(original, encoding="utf-8")
    assert bare["values"]["email"] == raw


def test_audit_log_and_verify_json(capsys, three: Path) -> None:
    entries = run_json(capsys, "audit", "log", "--project", str(three))
    expected = sql(
        three, "SELECT entry_id, action, actor, details FROM meta.audit ORDER BY entry_id DESC"
    )
    assert [(e["entry_id"], e["action"], e["actor"]) for e in entries] == [r[:3] for r in expected]
    assert [e["details"] for e in entries] == [json.loads(r[3]) for r in expected]
    assert all(ISO_TIME.match(e["recorded_at"]) for e in entries)
    loads = run_json(capsys, "audit", "log", "--action", "load", "--limit", "2", "--project",
                     str(three))  # fmt: skip
    assert [e["action"] for e in loads] == ["load", "load"]
    verified = run_json(capsys, "audit", "verify", "--project", str(three))
    assert verified == {"intact": True, "entries": len(expected), "problems": []}


def test_audit_verify_json_reports_a_broken_trail_and_exits_7(
    capsys, three: Path, tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(three, project)
    with duckdb.connect(str(project / "data" / "warehouse.duckdb")) as con:
        con.execute("UPDATE meta.audit SET details = '{\"edited\": true}' WHERE entry_id = 2")
    code, out, err = run(capsys, "audit", "verify", "--project", str(project), "--json")
    assert code == 7
    document = json.loads(out)
    assert document["intact"] is False
    assert 2 in [p["entry_id"] for p in document["problems"]]
    assert "The audit trail is broken" in err


def test_kpi_list_and_values_json(capsys, demo: Path) -> None:
    registry = run_json(capsys, "kpi", "list", "--project", str(demo))
    assert list(registry[0]) == ["kpi", "title", "unit", "good", "object", "stat", "target"]
    lead = next(k for k in registry if k["kpi"] == "lead_response_time_h")
    assert (lead["unit"], lead["stat"]) == ("hours", "median")
    code, out, err = run(
        capsys, "kpi", "--period", "2026-09", "--segment", "segment", "--project", str(demo),
        "--json",
    )  # fmt: skip
    assert code == 0, err
    values = json.loads(out)
    stored = sql(
        demo,
        "SELECT kpi, segment, value FROM kpi.values "
        "WHERE run_id = (SELECT max(run_id) FROM kpi.runs) AND period = '2026-09'",
    )
    assert {v["kpi"] for v in values} == {k for k, _, _ in stored}
    assert {v["kpi"] for v in values} <= {k["kpi"] for k in registry} and len(values) > 5
    by_kpi = {v["kpi"]: v for v in values}
    for kpi, segment, value in stored:
        got = by_kpi[kpi][segment]
        assert (got is None and value is None) or got == pytest.approx(value), (kpi, segment)
    assert all(v["period"] == "2026-09" for v in values)
    assert "shown for the whole population" in err  # the notes go to stderr


def test_baseline_and_roi_json(capsys, demo: Path) -> None:
    base = run_json(capsys, "baseline", "--start", "2025-11", "--end", "2026-04", "--project",
                    str(demo))  # fmt: skip
    assert (base["start"], base["end"]) == ("2025-11", "2026-04")
    stored = sql(
        demo,
        "SELECT kpi, segment, level, ci_low, ci_high FROM kpi.baselines WHERE run_id = ?",
        [base["run_id"]],
    )
    assert len(base["levels"]) == len(stored) > 0
    levels = {(r["kpi"], r["segment"]): r for r in base["levels"]}
    for kpi, segment, level, low, high in stored:
        got = levels[(kpi, segment)]
        assert (got["level"], got["ci_low"], got["ci_high"]) == pytest.approx((level, low, high))
    targets = sql(demo, "SELECT kpi, deadline, status FROM kpi.targets WHERE run_id = ?",
                  [base["run_id"]])  # fmt: skip
    assert sorted((t["kpi"], t["deadline"], t["status"]) for t in base["targets"]) == sorted(
        (k, str(d), s) for k, d, s in targets
    )
    roi = run_json(capsys, "roi", "--project", str(demo))
    summary = dict(
        sql(demo, "SELECT metric, value FROM roi.runs WHERE run_id = ?", [roi["run_id"]])
    )
    assert roi["summary"].keys() == summary.keys()
    for metric, value in summary.items():
        got = roi["summary"][metric]
        assert (got is None and value is None) or got == pytest.approx(value), metric
    drivers = sql(demo, "SELECT driver, monthly_value FROM roi.drivers WHERE run_id = ?",
                  [roi["run_id"]])  # fmt: skip
    assert {d["driver"]: d["monthly_value"] for d in roi["drivers"]} == pytest.approx(dict(drivers))
    did = sql(
        demo,
        "SELECT kpi, did, parallel FROM kpi.did WHERE run_id = "
        "(SELECT DISTINCT kpi_run_id FROM roi.runs WHERE run_id = ?)",
        [roi["run_id"]],
    )
    assert len(roi["comparison"]) == len(did) > 0
    compared = {c["kpi"]: c for c in roi["comparison"]}
    for kpi, value, parallel in did:
        assert compared[kpi]["parallel"] is parallel, kpi  # true, false or null
        assert compared[kpi]["did"] == pytest.approx(value, nan_ok=True), kpi


def test_review_json_lists_pending_pairs_masked(capsys, demo: Path) -> None:
    pairs = run_json(capsys, "review", "--limit", "100", "--project", str(demo))
    queue = sql(
        demo,
        "SELECT unique_id_l, unique_id_r, match_probability FROM id.review_queue q "
        "WHERE NOT EXISTS (SELECT 1 FROM id.review_decisions d WHERE d.unique_id_l = "
        "q.unique_id_l AND d.unique_id_r = q.unique_id_r)",
    )
    assert len(pairs) == len(queue) > 0
    assert {(p["left"], p["right"]) for p in pairs} == {(a, b) for a, b, _ in queue}
    probability = {(a, b): p for a, b, p in queue}
    for pair in pairs:
        assert pair["probability"] == pytest.approx(probability[(pair["left"], pair["right"])])
    emails = dict(
        sql(demo, "SELECT _source || ':' || record_id, email FROM core.contacts WHERE email "
            "IS NOT NULL")
    )  # fmt: skip
    text = json.dumps(pairs)
    checked = 0
    for pair in pairs:
        for side in ("left", "right"):
            raw = emails.get(pair[side])
            if raw is None:
                continue
            assert pair["fields"]["email"][side] == masked_email(raw)
            assert raw not in text
            checked += 1
    assert checked
    differs = [f["differs"] for p in pairs for f in p["fields"].values()]
    assert True in differs and False in differs


def test_evaluate_and_explain_json(capsys, demo: Path) -> None:
    truth = demo / "truth" / "contacts_truth.csv"
    document = run_json(capsys, "evaluate", "--truth", str(truth), "--project", str(demo))
    assert set(document) == {"duplicate_rates", "coverage", "threshold_sensitivity", "accuracy"}
    members = sql(
        demo,
        "SELECT source, count(*), count(DISTINCT entity_id) FROM id.members "
        "WHERE object = 'contacts' GROUP BY source",
    )
    rates = {r["source"]: (r["records"], r["entities"]) for r in document["duplicate_rates"]}
    for source, records, entities in members:
        assert rates[source] == (records, entities)
    assert document["accuracy"]["records"] == sum(r for _, r, _ in members)
    assert 0 < document["accuracy"]["f1"] <= 1
    thresholds = [t["threshold"] for t in document["threshold_sensitivity"]]
    assert thresholds == [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
    left, right, probability = sql(
        demo,
        "SELECT unique_id_l, unique_id_r, match_probability FROM id.pairs "
        "WHERE object = 'contacts' ORDER BY match_probability DESC LIMIT 1",
    )[0]
    why = run_json(capsys, "explain", left, right, "--project", str(demo))
    assert (why["left"], why["right"]) == (left, right)
    assert why["steps"][-1]["running_total"] == pytest.approx(why["match_weight"])
    assert sum(s["match_weight"] for s in why["steps"]) == pytest.approx(why["match_weight"])
    assert why["match_probability"] == pytest.approx(probability, abs=1e-6)


def test_dq_reconcile_json(capsys, demo: Path) -> None:
    rows = run_json(capsys, "dq", "reconcile", "--limit", "5", "--project", str(demo))
    assert 0 < len(rows) <= 5
    stored = {
        key: (count_diff, amount_diff)
        for key, count_diff, amount_diff in sql(
            demo,
            "SELECT key, count_diff, amount_diff FROM dq.reconciliation WHERE level = 'month' "
            "AND run_id = (SELECT max(run_id) FROM dq.reconciliation)",
        )
    }
    for row in rows:
        key = next(v for k, v in row.items() if k in ("month", "key"))
        count_diff, amount_diff = stored[str(key)]
        assert row["count_diff"] == count_diff
        assert row["amount_diff"] == pytest.approx(float(amount_diff))


# --- --out - ------------------------------------------------------------------------------


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    "command",
    [["export", "dq"], ["quarantine", "export"]],
    ids=lambda c: " ".join(c),
)
def test_out_dash_writes_the_same_csv_to_stdout(capsys, three: Path, tmp_path: Path, command):
    file = tmp_path / "out.csv"
    code, out, _ = run(capsys, *command, "--out", str(file), "--project", str(three))
    assert code == 0 and f"rows to {file}" in out
    code, out, err = run(capsys, *command, "--out", "-", "--project", str(three))
    assert code == 0
    written = file.read_text(encoding="utf-8")
    assert out == written
    rows = csv_rows(out)
    assert rows == csv_rows(written) and len(rows) > 1
    assert f"Wrote {len(rows) - 1} rows to stdout" in err


def test_out_dash_on_the_demo_exports(capsys, demo: Path, tmp_path: Path) -> None:
    for command in (["export", "entities"], ["export", "golden"], ["export", "kpis"]):
        file = tmp_path / f"{command[1]}.csv"
        assert main([*command, "--out", str(file), "--project", str(demo)]) == 0
        capsys.readouterr()
        code, out, err = run(capsys, *command, "--out", "-", "--project", str(demo))
        assert code == 0, err
        rows = csv_rows(out)
        assert rows == csv_rows(file.read_text(encoding="utf-8")), command
        assert f"Wrote {len(rows) - 1} rows to stdout" in err
    members = sql(demo, "SELECT count(*) FROM id.members WHERE object = 'contacts'")[0][0]
    entities = csv_rows(run(capsys, "export", "entities", "--out", "-", "--project", str(demo))[1])
    assert entities[0] == ["source", "record_id", "entity_id"] and len(entities) == members + 1
    golden = csv_rows(run(capsys, "export", "golden", "--out", "-", "--project", str(demo))[1])
    raw = {e for (e,) in sql(demo, "SELECT email FROM core.contacts WHERE email LIKE '%@%'")}
    column = golden[0].index("email")
    assert all(row[column] not in raw for row in golden[1:])  # masked in stdout too


def test_out_dash_neutralizes_formulas(capsys, three: Path, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(three, project)
    with duckdb.connect(str(project / "data" / "warehouse.duckdb")) as con:
        con.execute("UPDATE quar.rows SET record_id = '=HYPERLINK(\"x\")'")
    code, out, _ = run(capsys, "quarantine", "export", "--out", "-", "--project", str(project))
    assert code == 0
    rows = csv_rows(out)
    ids = [row[rows[0].index("record_id")] for row in rows[1:]]
    assert '\'=HYPERLINK("x")' in ids and '=HYPERLINK("x")' not in ids


def test_dictionary_export_out_dash_prints_the_document(capsys, three: Path) -> None:
    code, printed, _ = run(capsys, "dictionary", "export", "-f", "csv", "--project", str(three))
    code2, dashed, _ = run(
        capsys, "dictionary", "export", "-f", "csv", "--out", "-", "--project", str(three)
    )
    assert code == code2 == 0
    assert dashed == printed and not (Path.cwd() / "-").exists()
    assert csv_rows(dashed)[0][:2] == ["object", "field"]
