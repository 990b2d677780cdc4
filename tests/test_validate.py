"""Validation: dictionary-driven pandera checks, the quarantine split and its invariant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.config import load_project
from workbench.errors import ConfigError
from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.store import open_store

HERE = Path(__file__).parent

DICTIONARY = """
objects:
  tickets:
    fields:
      record_id: {type: text, required: true, unique: true}
      requester_email: {type: email}
      priority: {type: text, rules: {allowed: [low, normal, high]}}
      created_at: {type: timestamp, required: true, rules: {min: "2000-01-01", max: now}}
      score: {type: integer, rules: {min: 0, max: 10}}
"""
CONFIG = """
dictionary: dictionary.yaml
sources:
  desk:
    system: support
    object: tickets
    path: tickets.csv
    columns:
      record_id: id
      requester_email: email
      priority: prio
      created_at: created
      score: score
"""


def project_with(tmp_path: Path, rows: str, dictionary: str = DICTIONARY):
    (tmp_path / "dictionary.yaml").write_text(dictionary)
    (tmp_path / "workbench.yaml").write_text(CONFIG)
    (tmp_path / "tickets.csv").write_text("id,email,prio,created,score\n" + rows)
    return load_project(tmp_path)


def run(project):
    with open_store(project) as store:
        assert ingest(project, store).failures == []
        result = run_quality(project, store)
        core = store.rows("SELECT record_id FROM core.tickets ORDER BY record_id")
        quarantine = store.rows(
            "SELECT record_id, row_number, reasons FROM quar.rows ORDER BY row_number"
        )
        failures = store.rows(
            'SELECT row_number, "column", "check", value FROM quar.failures ORDER BY 1, 2'
        )
    return result, [r[0] for r in core], quarantine, failures


GOOD = "1,a@x.com,low,2026-01-01 10:00:00,3\n"


STRICT = (
    DICTIONARY.replace("{type: email}", "{type: email, rules: {severity: error}}")
    .replace("high]}}", "high], severity: error}}")
    .replace("max: 10}}", "max: 10, severity: error}}")
)


def priorities(project) -> list[tuple[str, str | None]]:
    with open_store(project) as store:
        return store.rows("SELECT record_id, priority FROM core.tickets ORDER BY 1")


def test_changing_a_rule_in_the_dictionary_changes_validation(tmp_path):
    rows = GOOD + "2,b@x.com,urgent,2026-01-02 10:00:00,4\n"
    _, core, quarantine, failures = run(project_with(tmp_path, rows, STRICT))
    assert core == ["1"]
    assert [(q[0], q[1]) for q in quarantine] == [("2", 2)]
    assert failures == [(2, "priority", "one of low, normal, high", "urgent")]

    widened = STRICT.replace("[low, normal, high]", "[low, normal, high, urgent]")
    (tmp_path / "data" / "warehouse.duckdb").unlink()
    _, core, quarantine, failures = run(project_with(tmp_path, rows, widened))
    assert core == ["1", "2"] and quarantine == [] and failures == []
    assert priorities(load_project(tmp_path)) == [("1", "low"), ("2", "urgent")]


def test_an_allowed_value_in_another_case_takes_the_dictionary_spelling(tmp_path):
    """'High', ' LOW ' and 'Normal' are the allowed high, low and normal, written otherwise:
    they pass in the dictionary's spelling; 'urgent' is no allowed value in any case."""
    rows = (
        "1,a@x.com,High,2026-01-01 10:00:00,3\n2,b@x.com, LOW ,2026-01-02 10:00:00,4\n"
        "3,c@x.com,Normal,2026-01-03 10:00:00,4\n4,d@x.com,URGENT,2026-01-04 10:00:00,4\n"
    )
    _, core, quarantine, failures = run(project_with(tmp_path, rows, STRICT))
    assert core == ["1", "2", "3"]
    assert [(q[0], q[1]) for q in quarantine] == [("4", 4)]
    assert failures == [(4, "priority", "one of low, normal, high", "URGENT")]
    assert priorities(load_project(tmp_path)) == [("1", "high"), ("2", "low"), ("3", "normal")]


def test_an_optional_field_warns_by_default_and_its_value_is_set_aside(tmp_path):
    rows = GOOD + "2,b@x.com,urgent,2026-01-02 10:00:00,4\n"
    result, core, quarantine, failures = run(project_with(tmp_path, rows))
    assert core == ["1", "2"] and quarantine == []
    assert failures == [(2, "priority", "one of low, normal, high", "urgent")]
    assert priorities(load_project(tmp_path)) == [("1", "low"), ("2", None)]
    with open_store(load_project(tmp_path)) as store:
        assert store.rows("SELECT record_id, severity FROM quar.failures") == [("2", "warn")]
    counts = result.validation.counts[0]
    assert (counts.rows_valid, counts.rows_quarantined, counts.rows_warned) == (2, 0, 1)


def test_severity_per_rule_and_required_fields_always_error(tmp_path):
    rows = (
        GOOD
        + "2,b@x.com,low,2026-01-02 10:00:00,11\n"  # score > max: error by its own rule
        + "3,b@x.com,low,2026-01-02 10:00:00,-1\n"  # score < min: warn (the field's level)
        + "4,b@x.com,low,1999-01-02 10:00:00,1\n"  # required created_at too old: error
    )
    per_rule = DICTIONARY.replace("max: 10}}", "max: 10, severity: {max: error}}}")
    _, core, quarantine, failures = run(project_with(tmp_path, rows, per_rule))
    assert core == ["1", "3"]
    assert [q[0] for q in quarantine] == ["2", "4"]
    assert [(f[0], f[1], f[2]) for f in failures] == [
        (2, "score", "<= 10"),
        (3, "score", ">= 0"),
        (4, "created_at", ">= 2000-01-01"),
    ]


def test_a_required_field_cannot_be_set_to_warn(tmp_path):
    bad = DICTIONARY.replace("max: now}}", "max: now, severity: warn}}")
    with pytest.raises(ConfigError) as err:
        project_with(tmp_path, GOOD, bad)
    assert "a required field's value cannot be set aside" in str(err.value)
    assert "objects.tickets.fields.created_at" in str(err.value)


def test_hostile_export_is_quarantined_with_reasons_and_nothing_is_lost(tmp_path):
    huge = "x" * 5_000_000
    rows = (
        GOOD
        + "2,not-an-email,low,2026-01-01 10:00:00,3\n"  # bad email
        + "3,c@x.com,low,2026-02-30 10:00:00,3\n"  # impossible date
        + "4,N/A,#N/A,-,3\n"  # null tokens: created_at is required
        + "1,dup@x.com,high,2026-01-03 10:00:00,5\n"  # duplicate id: the later one goes
        + f"5,d@x.com,{huge},2026-01-01 10:00:00,3\n"  # huge cell, not an allowed value
        + "6,e@x.com,normal,1899-12-31 00:00:00,11\n"  # too old, score too high
        + '7,=HYPERLINK("x"),low,2026-01-01 10:00:00,2\n'  # formula-looking text
    )
    result, core, quarantine, failures = run(project_with(tmp_path, rows, STRICT))
    assert core == ["1"]
    by_row = {q[1]: q for q in quarantine}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7, 8]
    assert "requester_email: email address format (not-an-email)" in by_row[2][2]
    assert "created_at: readable (created_at: cannot read '2026-02-30 10:00:00'" in by_row[3][2]
    assert "created_at: not_nullable" in by_row[4][2]
    assert "record_id: unique (a later duplicate)" in by_row[5][2]
    assert "priority: one of low, normal, high" in by_row[6][2]
    assert {f[1] for f in failures if f[0] == 7} == {"created_at", "score"}
    counts = result.validation.counts[0]
    assert (counts.rows_staged, counts.rows_valid, counts.rows_quarantined) == (8, 1, 7)
    # a 5 MB cell is kept whole in the quarantined record, not truncated or lost
    with open_store(load_project(tmp_path)) as store:
        record = store.scalar("SELECT record FROM quar.rows WHERE row_number = 6")
    assert len(json.loads(record)["priority"]) == 5_000_000


def test_references_must_exist_in_the_same_system(make_project, store_of):
    project = make_project(
        """
sources:
  crm_accounts:
    system: crm
    object: companies
    path: accounts.csv
    columns: {record_id: id, name: name}
  crm_deals:
    system: crm
    object: deals
    path: deals.csv
    columns: {record_id: id, company_id: account, status: status, created_at: created}
""",
        {
            "accounts.csv": "id,name\nA1,Acme\nA2,Foo\n",
            "deals.csv": "id,account,status,created\nD1,A1,won,2026-01-01\nD2,A9,lost,2026-01-02\n"
            "D3,,open,2026-01-03\n",
        },
    )
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    # an optional reference that does not resolve is set aside; the deal is kept
    assert store.rows("SELECT record_id, company_id FROM core.deals ORDER BY 1") == [
        ("D1", "A1"),
        ("D2", None),
        ("D3", None),
    ]
    assert store.rows('SELECT record_id, "check", value, severity FROM quar.failures') == [
        ("D2", "exists in companies.record_id", "A9", "warn")
    ]


def test_missing_fx_rate_is_a_reason_not_a_silent_null(make_project, store_of):
    project = make_project(
        """
base_currency: EUR
sources:
  fx:
    system: billing
    object: fx_rates
    path: fx.csv
    columns: {month: month, currency: cur, rate: rate}
  inv:
    system: billing
    object: invoices
    path: inv.csv
    columns: {record_id: id, customer_id: c, invoice_date: d, amount: a, currency: cur}
""",
        {
            "fx.csv": "month,cur,rate\n2026-01-01,USD,0.5\n",
            "inv.csv": "id,c,d,a,cur\nI1,K,2026-01-20,10,USD\nI2,K,2026-02-01,10,USD\n"
            "I3,K,2026-02-01,7,EUR\n",
        },
    )
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    assert store.rows(
        "SELECT record_id, CAST(amount_base AS DOUBLE) FROM core.invoices ORDER BY 1"
    ) == [("I1", 5.0), ("I3", 7.0)]
    assert store.rows("SELECT record_id, reasons FROM quar.rows WHERE object = 'invoices'") == [
        ("I2", "amount: readable (amount: no fx rate for USD in 2026-02)")
    ]


cell = st.one_of(
    st.sampled_from(["", "N/A", "-", "low", "urgent", "a@x.com", "bad", "2026-01-01", "x"]),
    st.text(alphabet="abc@.=-, ", max_size=6),
)


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["1", "2", "3", "", "4"]), cell, cell, cell, cell),
        min_size=1,
        max_size=25,
    )
)
def test_rows_staged_always_equal_core_plus_quarantine(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("prop")
    body = "".join(",".join(f'"{v}"' for v in r) + "\n" for r in rows)
    project = project_with(folder, body)
    with open_store(project) as store:
        report = ingest(project, store)
        assert report.failures == []
        loaded = report.loads[0]
        result = run_quality(project, store)
        core = store.scalar("SELECT count(*) FROM core.tickets")
        quarantined = store.scalar("SELECT count(*) FROM quar.rows")
        rejected = store.scalar("SELECT count(*) FROM quar.ingest_rejects")
    # a row without any value (only empty or blank quoted fields) is skipped and counted
    blank = sum(all(not v.strip() for v in r) for r in rows)
    assert loaded.rows_blank == blank
    assert loaded.rows_read == len(rows) - blank == loaded.rows_loaded + rejected
    staged = sum(c.rows_staged for c in result.validation.counts)
    assert staged == loaded.rows_loaded == core + quarantined
    valid = sum(c.rows_valid for c in result.validation.counts)
    assert (valid, sum(c.rows_quarantined for c in result.validation.counts)) == (core, quarantined)


@pytest.mark.slow
def test_demo_objects_are_all_validated(tmp_path):
    from workbench.cli import main

    assert main(["demo", "--project", str(tmp_path), "--contacts", "600"]) == 0
    project = load_project(tmp_path)
    with open_store(project, read_only=True) as store:
        staged = dict(store.rows("SELECT 'x', 1"))  # keep the store usable below
        del staged
        for name in project.dictionary.objects:
            s = store.scalar(f"SELECT count(*) FROM stg.{name}")
            c = store.scalar(f"SELECT count(*) FROM core.{name}")
            q = store.scalar("SELECT count(*) FROM quar.rows WHERE object = $o", {"o": name})
            assert s == c + q and s > 0, name


def test_a_warehouse_from_before_severities_still_lists_its_quarantine(tmp_path, capsys):
    from workbench.cli import main

    rows = GOOD + "1,dup@x.com,high,2026-01-03 10:00:00,5\n"
    project = project_with(tmp_path, rows)
    run(project)
    with open_store(project) as store:  # as an older Workbench left it
        store.execute("ALTER TABLE quar.failures DROP COLUMN severity")
    capsys.readouterr()
    assert main(["quarantine", "list", "--project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "unique (a later duplicate)" in out and "row quarantined" in out
    assert main(["quarantine", "show", "desk:1", "--project", str(tmp_path)]) == 0


def test_an_amount_keeps_its_rate_when_a_later_rate_date_is_set_aside(make_project, store_of):
    project = make_project(
        """
base_currency: EUR
sources:
  fx:
    system: finance
    object: fx_rates
    path: fx.csv
    columns: {month: month, currency: cur, rate: rate}
  crm_deals:
    system: crm
    object: deals
    path: deals.csv
    columns: {record_id: id, status: st, amount: amt, currency: cur, created_at: created,
              closed_at: closed}
""",
        {
            "fx.csv": "month,cur,rate\n2026-01-01,USD,0.5\n",
            # closed in 2090: closed_at fails max: now (set aside); the rate of the
            # creation month still converts the amount
            "deals.csv": "id,st,amt,cur,created,closed\nD1,won,100,USD,2026-01-10,2090-01-01\n"
            "D2,won,80,XYZ,2026-01-10,2026-01-20\n",
        },
    )
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    rows = store.rows(
        "SELECT record_id, closed_at, CAST(amount AS DOUBLE), CAST(amount_base AS DOUBLE), "
        "currency FROM core.deals ORDER BY 1"
    )
    assert rows[0] == ("D1", None, 100.0, 50.0, "USD")
    # an unknown currency: no rate, so the amount is set aside with it, nothing stale kept
    assert rows[1][2:] == (None, None, "XYZ")
