"""PII is masked by default wherever a person sees records; --unmask only where allowed."""

from __future__ import annotations

from workbench.cli import main
from workbench.dictionary import FieldType
from workbench.privacy import mask_value

CONFIG = """
sources:
  crm:
    system: crm
    object: contacts
    path: c.csv
    columns: {record_id: id, first_name: first, email: email, phone: phone, job_title: title}
"""


def test_mask_rules():
    assert mask_value("anna.mueller@acme.com", "contact", FieldType.EMAIL) == "a***@acme.com"
    assert mask_value("+49 30 1234567", "contact", FieldType.PHONE) == "***67"
    assert mask_value("Anna", "contact") == "A***"
    assert mask_value("secret", "sensitive") == "***"
    assert mask_value("CEO", "none") == "CEO"
    assert mask_value(None, "contact") is None


def test_quarantine_is_masked_unless_unmask_is_allowed(make_project, capsys, tmp_path):
    make_project(CONFIG, {"c.csv": "id,first,email,phone,title\n1,Anna,anna@@acme.com,,CEO\n"})
    root = str(tmp_path)
    assert main(["ingest", "--project", root]) == 0
    assert main(["validate", "--project", root]) == 0
    capsys.readouterr()
    assert main(["quarantine", "list", "--project", root]) == 0
    out = capsys.readouterr().out
    # an optional email is set aside, the contact kept: listed apart, masked
    assert "Values set aside, their rows kept" in out and "value set aside" in out
    assert "a***@@acme.com" in out and "anna@@acme.com" not in out
    assert main(["quarantine", "show", "crm:1", "--project", root]) == 0
    out = capsys.readouterr().out
    assert "A***" in out and "Anna" not in out and "CEO" in out and "warn" in out
    assert "a***@@acme.com" in out
    exported = tmp_path / "q.csv"
    assert main(["quarantine", "export", "--out", str(exported), "--project", root]) == 0
    text = exported.read_text()
    assert "anna@@acme.com" not in text
    assert "value set aside" in text and "a***@@acme.com" in text

    assert main(["quarantine", "list", "--unmask", "--project", root]) == 2
    assert "privacy.allow_unmask" in capsys.readouterr().err
    config = tmp_path / "workbench.yaml"
    config.write_text(config.read_text() + "privacy:\n  allow_unmask: true\n")
    assert main(["quarantine", "list", "--unmask", "--project", root]) == 0
    assert "anna@@acme.com" in capsys.readouterr().out
