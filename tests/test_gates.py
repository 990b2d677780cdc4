"""Blocking data-quality limits: the starter sets them, and no project passes a bad export."""

from __future__ import annotations

from pathlib import Path

import yaml

from workbench.cli import main

# leads need created_at; none of these has a readable one
BAD_LEADS = "id,email,created\nL1,a@x.com,yesterday\nL2,b@x.com,\nL3,c@x.com,soon\n"
GOOD_LEADS = "id,email,created\n" + "".join(
    f"L{i},p{i}@x.com,2026-01-{i:02d}\n" for i in range(1, 21)
)
SOURCE = {
    "system": "web",
    "object": "leads",
    "path": "exports/leads.csv",
    "columns": {"record_id": "id", "email": "email", "created_at": "created"},
}


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def starter(tmp_path: Path, capsys, leads: str) -> str:
    root = tmp_path / "p"
    assert run(capsys, "init", str(root))[0] == 0
    config = yaml.safe_load((root / "workbench.yaml").read_text())
    assert config["quality"]["blocking"] == {"reject_rate": 0.05, "quarantine_rate": 0.05}
    config["sources"] = {"web_leads": SOURCE}
    (root / "workbench.yaml").write_text(yaml.safe_dump(config))
    (root / "exports" / "leads.csv").write_text(leads)
    assert run(capsys, "ingest", "--project", str(root))[0] == 0
    return str(root)


def test_the_starter_project_fails_validation_when_every_row_is_quarantined(tmp_path, capsys):
    code, text = run(capsys, "validate", "--project", starter(tmp_path, capsys, BAD_LEADS))
    assert code == 5
    assert "leads/web_leads: quarantine_rate = 1, above the limit 0.05" in text
    assert "Where: workbench.yaml, key quality.blocking" in text


def test_the_starter_project_passes_clean_data(tmp_path, capsys):
    code, text = run(capsys, "validate", "--project", starter(tmp_path, capsys, GOOD_LEADS))
    assert code == 0, text


def test_without_a_quality_block_most_rows_quarantined_still_fails(tmp_path, capsys):
    root = tmp_path / "q"
    (root / "exports").mkdir(parents=True)
    (root / "workbench.yaml").write_text(yaml.safe_dump({"sources": {"web_leads": SOURCE}}))
    (root / "exports" / "leads.csv").write_text(BAD_LEADS + "L4,d@x.com,2026-01-01\n")
    assert run(capsys, "ingest", "--project", str(root))[0] == 0
    code, text = run(capsys, "validate", "--project", str(root))
    assert code == 5 and "quarantine_rate = 0.75, above the limit 0.5" in text
    # other limits do not drop the default; a limit of 1 allows any share
    config = yaml.safe_load((root / "workbench.yaml").read_text())
    config["quality"] = {"blocking": {"completeness": 0.1}}
    (root / "workbench.yaml").write_text(yaml.safe_dump(config))
    assert run(capsys, "validate", "--project", str(root))[0] == 5
    config["quality"] = {"blocking": {"quarantine_rate": 1}}
    (root / "workbench.yaml").write_text(yaml.safe_dump(config))
    assert run(capsys, "validate", "--project", str(root))[0] == 0


def test_without_a_quality_block_mostly_unreadable_rows_fail(tmp_path, capsys):
    root = tmp_path / "r"
    (root / "exports").mkdir(parents=True)
    (root / "workbench.yaml").write_text(yaml.safe_dump({"sources": {"web_leads": SOURCE}}))
    # three ragged rows of four: ingest sets them aside, one row is valid
    ragged = "id,email,created\nL1,a@x.com,2026-01-01,x\nL2,b@x.com\nL3\nL4,d@x.com,2026-01-02\n"
    (root / "exports" / "leads.csv").write_text(ragged)
    code, text = run(capsys, "ingest", "--project", str(root))
    assert code == 0 and "loaded 1 of 4 rows, 3 rejected" in text
    code, text = run(capsys, "validate", "--project", str(root))
    assert code == 5 and "leads/web_leads: reject_rate = 0.75, above the limit 0.5" in text
