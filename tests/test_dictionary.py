"""The dictionary as a document, and drafting a dictionary section from an export."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from workbench.cli import main
from workbench.dictionary import load_dictionary
from workbench.dictionary_doc import render
from workbench.dictionary_infer import infer_section
from workbench.errors import ConfigError


def test_export_formats_list_every_field():
    dictionary = load_dictionary()
    total = sum(len(o.fields) for o in dictionary.objects.values())
    table = list(csv.DictReader(io.StringIO(render(dictionary, "csv", title="t"))))
    assert len(table) == total
    status = next(r for r in table if r["object"] == "deals" and r["field"] == "status")
    assert status["rules"] == "one of: open, won, lost" and status["required"] == "yes"
    md = render(dictionary, "md", title="Demo")
    assert "## sync_events" in md and "| latency_ms | integer |" in md
    page = render(dictionary, "html", title="A & B")
    assert "<h1>Canonical Data Dictionary: A &amp; B</h1>" in page
    assert page.count("<table>") == len(dictionary.objects)


def test_dictionary_export_cli_writes_a_file(tmp_path, capsys):
    (tmp_path / "workbench.yaml").write_text("name: p\n")
    out = tmp_path / "dd.md"
    code = main(["dictionary", "export", "-f", "md", "-o", str(out), "--project", str(tmp_path)])
    assert code == 0 and out.read_text().startswith("# Canonical Data Dictionary: p")


def test_infer_proposes_types_required_allowed_and_identity(tmp_path):
    path = tmp_path / "export.csv"
    rows = ["CustomerNo;FirstName;E-Mail;Phone;Status;SignupDate;Revenue"]
    for i in range(30):
        email = f"p{i}@x.com" if i % 10 else ""
        status = ["active", "churned", "trial"][i % 3]
        rows.append(
            f"K{i};Name{i};{email};+49 30 123{i:04d};{status};2026-01-{i % 28 + 1:02d};{i}.5"
        )
    path.write_text("\n".join(rows) + "\n")
    section = infer_section(path, "customers")
    doc = yaml.safe_load(section)
    fields = doc["objects"]["customers"]["fields"]
    assert "customer_no" not in fields  # the unique id column became the record id
    assert fields["record_id"] == {
        "type": "text",
        "required": True,
        "unique": True,
        "description": "From column CustomerNo",
    }
    assert "#   record_id: CustomerNo" in section
    assert fields["first_name"]["identity"] == "name" and fields["first_name"]["pii"] == "contact"
    assert fields["e_mail"]["type"] == "email" and "required" not in fields["e_mail"]
    assert fields["phone"]["type"] == "phone"
    assert fields["status"]["rules"]["allowed"] == ["active", "churned", "trial"]
    assert fields["signup_date"]["type"] == "date"
    assert fields["revenue"]["type"] == "decimal"
    assert "#   e_mail: E-Mail" in section
    # the draft is a valid dictionary once saved
    (tmp_path / "d.yaml").write_text(section)
    assert "customers" in load_dictionary(tmp_path / "d.yaml").objects


def test_invalid_project_dictionary_names_the_problem(tmp_path):
    (tmp_path / "d.yaml").write_text(
        "objects:\n  x:\n    fields:\n      record_id: {type: text}\n"
        "      amount: {type: decimal, currency_field: cur, rate_date: [record_id]}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_dictionary(tmp_path / "d.yaml")
    assert "currency_field 'cur' must name a currency field" in info.value.message
