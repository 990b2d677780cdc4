"""Governance matrix and consent (issue 22, item 5): owners, legal bases and consent fields
in the dictionary; the matrix per object; consent coverage as a data-quality metric, on a
hand-written project and on the demo, and in the governance review."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import textwrap
from pathlib import Path

import polars as pl
import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.dictionary_doc import render
from workbench.errors import ConfigError
from workbench.formatting import percent_text
from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.quality.gates import breaches
from workbench.report import governance
from workbench.report.context import open_context
from workbench.report.display import NoData
from workbench.report.governance_matrix import MATRIX_COLUMNS, consent_coverage, governance_matrix
from workbench.store import open_store

DICTIONARY = """
extends: none
objects:
  people:
    owner: CRM team
    legal_basis: [contract, consent]
    fields:
      record_id: {type: text, required: true, unique: true}
      email: {type: email, pii: contact}
      name: {type: text, pii: contact}
      created_at: {type: timestamp}
      health: {type: text, pii: sensitive}
      opt_in: {type: boolean, consent: true}
      opt_in_at: {type: timestamp, consent: true}
  notes:
    legal_basis: consent
    fields:
      record_id: {type: text}
      body: {type: text, pii: sensitive}
      written_at: {type: date}
  rates:
    fields:
      record_id: {type: text}
      rate: {type: decimal}
"""
CONFIG = """
dictionary: dictionary.yaml
retention:
  people: {days: 365}
  notes: {days: 30, field: written_at}
sources:
  crm:
    system: crm
    object: people
    path: crm.csv
    columns: {record_id: id, email: mail, name: name, opt_in: optin, opt_in_at: optin_at}
  web:
    system: web
    object: people
    path: web.csv
    columns: {record_id: id, email: mail}
"""
# 8 rows: one without its required id (quarantined), one whose opt-in is not a yes/no
# (unreadable: set aside, no decision), yes/no words in several spellings, one opt-in time
# that is no time (set aside)
CRM = (
    "id,mail,name,optin,optin_at\n"
    "P1,a@x.com,Ann,yes,2026-01-05T10:00:00Z\n"
    "P2,b@x.com,Bo,no,\n"
    "P3,c@x.com,Cy,,\n"
    "P4,d@x.com,Di,TRUE,2026-02-01T00:00:00Z\n"
    "P5,e@x.com,Ed,maybe,soon\n"
    ",f@x.com,Fa,yes,2026-03-01T00:00:00Z\n"
    "P7,g@x.com,Gu,ja,2026-03-02T00:00:00Z\n"
    "P8,h@x.com,Hu,,\n"
)
WEB = "id,mail\nW1,w@x.com\nW2,v@x.com\n"
TRUE_WORDS, FALSE_WORDS = {"yes", "true", "ja", "y"}, {"no", "false"}


def project_dir(tmp_path: Path, crm: str = CRM) -> Path:
    files = {
        "workbench.yaml": CONFIG,
        "dictionary.yaml": DICTIONARY,
        "crm.csv": crm,
        "web.csv": WEB,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return tmp_path


def validate(folder: Path) -> int:
    project = load_project(folder)
    with open_store(project) as store:
        ingest(project, store)
        return run_quality(project, store).validation.run_id


def consent_metrics(folder: Path, run_id: int) -> dict[tuple[str, str, str], tuple]:
    with open_store(load_project(folder), read_only=True) as store:
        rows = store.rows(
            "SELECT source, field, metric, value, numerator, denominator FROM dq.metrics "
            "WHERE run_id = $r AND metric LIKE 'consent%'",
            {"r": run_id},
        )
    return {(s, f, m): (v, n, d) for s, f, m, v, n, d in rows}


def expected_coverage(text: str) -> dict[str, tuple[int, int, int]]:
    """Per consent column, counted by hand from the export: (valid, recorded, granted).
    Valid rows have an id; a decision is a yes/no word, an opt-in time a parseable time."""
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["id"]]
    words = [r["optin"].lower() for r in rows]
    times = [r["optin_at"] for r in rows if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]+Z", r["optin_at"])]
    recorded = sum(w in TRUE_WORDS | FALSE_WORDS for w in words)
    return {
        "opt_in": (len(rows), recorded, sum(w in TRUE_WORDS for w in words)),
        "opt_in_at": (len(rows), len(times), len(times)),
    }


# -- the dictionary ------------------------------------------------------------------
def test_owner_legal_basis_and_consent_are_read_from_the_dictionary(tmp_path):
    project = load_project(project_dir(tmp_path))
    people, notes = project.dictionary.objects["people"], project.dictionary.objects["notes"]
    assert (people.owner, people.legal_basis) == ("CRM team", ["contract", "consent"])
    assert (notes.owner, notes.legal_basis) == (None, ["consent"])  # one basis written alone
    assert people.consent_fields() == ["opt_in", "opt_in_at"]
    assert people.fields["opt_in"].consent and not people.fields["email"].consent
    document = render(project.dictionary, "md", title="t")
    assert "Owner: CRM team. Legal basis: contract, consent." in document
    assert "| opt_in | boolean |" in document and "records consent" in document


def test_a_dictionary_without_them_still_loads(make_project):
    project = make_project("name: x\n")
    contacts = project.dictionary.objects["contacts"]
    assert contacts.owner is None and contacts.legal_basis == []
    assert all(not spec.consent_fields() for spec in project.dictionary.objects.values())


def test_a_project_dictionary_adds_governance_to_shipped_objects(tmp_path):
    (tmp_path / "dictionary.yaml").write_text(
        "objects:\n  tickets: {owner: Support, legal_basis: contract}\n"
        "  contacts:\n    fields:\n      opt_in: {type: date, consent: true}\n"
    )
    (tmp_path / "workbench.yaml").write_text("dictionary: dictionary.yaml\n")
    d = load_project(tmp_path).dictionary
    assert (d.objects["tickets"].owner, d.objects["tickets"].legal_basis) == (
        "Support",
        ["contract"],
    )
    assert "subject" in d.objects["tickets"].fields  # the shipped fields stay
    assert d.objects["contacts"].consent_fields() == ["opt_in"]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("legal_basis: consent", "legal_basis: marketing", "legal_basis"),
        ("pii: sensitive}", "pii: sensitive, consent: true}", "consent field records a decision"),
    ],
)
def test_a_wrong_legal_basis_or_consent_field_is_refused(tmp_path, old, new, says):
    folder = project_dir(tmp_path)
    (folder / "dictionary.yaml").write_text(DICTIONARY.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_project(folder)
    assert says in str(caught.value)


# -- the matrix ------------------------------------------------------------------------
MATRIX = [
    {
        "object": "people",
        "pii": "contact, sensitive",
        "contact_fields": "email, name",
        "sensitive_fields": "health",
        "retention": "365 days by created_at",
        "owner": "CRM team",
        "legal_basis": "contract, consent",
        "consent_fields": "opt_in, opt_in_at",
        "gaps": "",
    },
    {
        "object": "notes",
        "pii": "sensitive",
        "contact_fields": "",
        "sensitive_fields": "body",
        "retention": "30 days by written_at",
        "owner": "not set",
        "legal_basis": "consent",
        "consent_fields": "",
        "gaps": "no owner; consent basis without a consent field",
    },
    {
        "object": "rates",
        "pii": "none",
        "contact_fields": "",
        "sensitive_fields": "",
        "retention": "not set",
        "owner": "not set",
        "legal_basis": "not set",
        "consent_fields": "",
        "gaps": "",
    },
]


def test_the_matrix_has_one_row_per_object(tmp_path):
    frame = governance_matrix(load_project(project_dir(tmp_path)))
    assert frame.columns == list(MATRIX_COLUMNS)
    assert frame.to_dicts() == MATRIX


def test_personal_data_without_governance_is_a_gap(make_project):
    frame = governance_matrix(make_project("name: x\n"))
    gaps = dict(zip(frame["object"], frame["gaps"], strict=True))
    assert gaps["contacts"] == "no owner; no legal basis; no retention"
    assert gaps["companies"] == ""  # no personal data


def test_the_cli_prints_the_matrix_as_json_and_as_a_table(tmp_path, capsys):
    folder = str(project_dir(tmp_path))
    assert main(["dictionary", "matrix", "--json", "--project", folder]) == 0
    assert json.loads(capsys.readouterr().out) == MATRIX
    assert main(["dictionary", "matrix", "--project", folder]) == 0
    printed = capsys.readouterr().out
    assert "Governance matrix" in printed  # a table, its cells wrapped to the terminal
    assert all(name in printed for name in ("people", "notes", "rates", "written_at"))


# -- consent coverage ------------------------------------------------------------------
def test_consent_coverage_is_counted_over_valid_records(tmp_path):
    folder = project_dir(tmp_path)
    got = consent_metrics(folder, validate(folder))
    for field, (valid, recorded, granted) in expected_coverage(CRM).items():
        assert got[("crm", field, "consent_coverage")] == (recorded / valid, recorded, valid)
        assert got[("crm", field, "consent_granted_rate")] == (granted / valid, granted, valid)
    # by hand: 7 valid rows; P1, P2, P4, P7 decided (P5's "maybe" is none), 3 of them yes
    assert got[("crm", "opt_in", "consent_coverage")][:2] == (4 / 7, 4)
    assert got[("crm", "opt_in", "consent_granted_rate")][:2] == (3 / 7, 3)
    assert not [k for k in got if k[0] == "web"]  # the web source does not map consent


def test_coverage_shows_in_the_governance_review_with_its_change(tmp_path):
    folder = project_dir(tmp_path)
    validate(folder)
    more = CRM.replace("P3,c@x.com,Cy,,", "P3,c@x.com,Cy,no,").replace(
        "P8,h@x.com,Hu,,", "P8,h@x.com,Hu,y,"
    )
    (folder / "crm.csv").write_text(more)
    validate(folder)
    project = load_project(folder)
    with open_store(project, read_only=True) as store:
        frame = consent_coverage(project, store)
    before = expected_coverage(CRM)["opt_in"]
    after = expected_coverage(more)["opt_in"]
    row = frame.filter(pl.col("field") == "opt_in", pl.col("source") == "crm").row(0, named=True)
    assert (row["valid"], row["recorded"]) == after[:2]
    assert row["coverage"] == after[1] / after[0] and row["granted"] == after[2] / after[0]
    assert row["previous_coverage"] == before[1] / before[0]
    web = frame.filter(pl.col("source") == "web").to_dicts()
    assert [(r["mapped"], r["coverage"]) for r in web] == [(False, None), (False, None)]

    shown = governance.consent(open_context(folder, "2026-09"))
    assert not isinstance(shown, NoData)
    crm = shown.filter(pl.col("source") == "crm", pl.col("field") == "opt_in").row(0, named=True)
    assert crm["coverage"] == percent_text(after[1] / after[0])
    assert crm["coverage change (pp)"] == round((after[1] - before[1]) / after[0] * 100, 1)
    assert set(shown.filter(pl.col("source") == "web")["note"]) == {"not recorded by this source"}


def test_a_consent_floor_is_a_blocking_limit(tmp_path):
    folder = project_dir(tmp_path)
    with (folder / "workbench.yaml").open("a") as handle:
        handle.write("quality: {blocking: {consent_coverage: 0.5}}\n")
    run = validate(folder)
    project = load_project(folder)
    with open_store(project, read_only=True) as store:
        found = {(b.source, b.field, b.metric) for b in breaches(project, store, run)}
    below = {
        ("crm", field, "consent_coverage")
        for field, (valid, recorded, _) in expected_coverage(CRM).items()
        if recorded / valid < 0.5
    }
    assert below == {("crm", "opt_in_at", "consent_coverage")}  # 3 of 7 (opt_in: 4 of 7)
    assert {b for b in found if b[2] == "consent_coverage"} == below


def test_without_a_consent_field_the_review_says_how_to_declare_one(make_project):
    project = make_project("name: x\n")
    open_store(project).close()  # an empty warehouse
    ctx = open_context(project.root, "2026-09")
    assert isinstance(governance.consent(ctx), NoData)
    assert "consent: true" in governance.consent(ctx)


# -- the demo --------------------------------------------------------------------------
def _text(page: str) -> str:
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_the_demo_measures_consent_and_its_review_shows_the_matrix(demo_reports):
    project_path, reports = demo_reports
    project = load_project(project_path)
    export = pl.read_csv(
        project.resolve("exports/crm/contacts.csv"), infer_schema_length=0
    ).with_row_index("row_number", offset=1)
    with open_store(project, read_only=True) as store:
        run = store.scalar("SELECT max(run_id) FROM dq.metrics")
        quarantined = store.rows(
            "SELECT row_number, record_id FROM quar.rows WHERE source = 'crm_contacts' "
            "AND run_id = $r",
            {"r": run},
        )
        got = {
            m: (v, n, d)
            for m, v, n, d in store.rows(
                "SELECT metric, value, numerator, denominator FROM dq.metrics WHERE run_id = $r "
                "AND source = 'crm_contacts' AND field = 'marketing_consent'",
                {"r": run},
            )
        }
    # the quarantined rows are the export's rows of those numbers (no off-by-one)
    ids = dict(zip(export["row_number"], export["Id"], strict=True))
    assert quarantined and all(ids[n] == rid for n, rid in quarantined)
    valid = export.filter(~pl.col("row_number").is_in([n for n, _ in quarantined]))
    decided = valid["Marketing_Consent__c"].is_in(["Opted In", "Opted Out"]).sum()
    granted = (valid["Marketing_Consent__c"] == "Opted In").sum()
    assert valid["Marketing_Consent__c"].null_count() == valid.height - decided  # no other
    assert 0.3 < decided / valid.height < 0.95  # partial coverage
    assert got["consent_coverage"] == (decided / valid.height, decided, valid.height)
    assert got["consent_granted_rate"] == (granted / valid.height, granted, valid.height)
    assert not [
        r for r in governance_matrix(project).to_dicts() if r["object"] == "contacts" and r["gaps"]
    ]

    page = (reports / "governance_review" / "2026-09" / "governance_review.html").read_text()
    text = _text(page)
    matrix = text[text.index("Governance matrix") : text.index("Consent coverage")]
    assert "contacts contact first_name, last_name, email, phone, street, postcode" in matrix
    assert "Sales Operations legitimate_interests, consent marketing_consent" in matrix
    assert "leads contact email not set Marketing legitimate_interests no retention" in matrix
    coverage = text[text.index("Consent coverage") : text.index("Data dictionary")]
    shown = f"crm_contacts marketing_consent {valid.height:,} {decided:,} "
    assert shown + f"{percent_text(decided / valid.height)} " in coverage
    assert "billing_customers marketing_consent not recorded by this source" in coverage
