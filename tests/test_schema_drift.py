"""Schema drift (issue 22, item 4): each load's column layout, the change log between a
source's loads (added, removed, renamed, retyped), deprecated fields, and where they show:
`workbench schema-changes`, the ingest summary and the governance review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench import dictionary_doc
from workbench.cli import main
from workbench.config import load_project
from workbench.dictionary import load_dictionary
from workbench.errors import ConfigError
from workbench.ingest import ingest, list_schema_changes
from workbench.ingest.drift import Column, compare, layout_of
from workbench.report import governance
from workbench.report.context import open_context
from workbench.report.display import NoData
from workbench.schema import LATEST, MIGRATIONS, schema_version
from workbench.store import Store, open_store

CONFIG = """
{dictionary}
sources:
  crm:
    system: crm
    object: contacts
    path: c.csv
    columns: {{record_id: id, email: email{more}}}
"""
FIRST = "id,email,fax,age,joined,vip\n1,a@x.com,030 1,30,2025-01-31,\n2,b@x.com,030 2,41,,\n"


def config(dictionary: str = "", more: str = "") -> str:
    return CONFIG.format(dictionary=dictionary, more=more)


def changes_of(store) -> list[tuple[str, str, str | None, str | None, str | None, str | None]]:
    """(kind, column, old name, new name, old type, new type) of every logged change."""
    return [
        (c.change.kind, c.change.column, c.change.old_name, c.change.new_name,
         c.change.old_type, c.change.new_type)
        for c in list_schema_changes(store)
    ]  # fmt: skip


def reload(project, store, path: Path, text: str):
    path.write_text(text, encoding="utf-8")
    return ingest(project, store)


# -- comparing layouts -----------------------------------------------------------------
def layout(*columns: str) -> list[Column]:
    """``"name:type"`` per column, in order."""
    return [Column(i, *c.split(":")) for i, c in enumerate(columns, start=1)]


def described(old: list[Column], new: list[Column]) -> list[str]:
    return [c.describe() for c in compare(old, new)]


def test_added_removed_renamed_and_retyped_columns_are_told_apart():
    old = layout("Id:text", "Fax:text", "Age:integer", "Notes:text", "Joined:date")
    new = layout("Id:text", "Telefax:text", "Age:decimal", "Joined:date", "Tier:text")
    assert described(old, new) == [
        "renamed Fax -> Telefax",  # after Id in both, both text
        "retyped Age: integer -> decimal",
        "removed Notes (text)",  # the place after Age is Joined's now
        "added Tier (text)",
    ]


def test_the_same_layout_and_a_mere_move_are_no_change():
    old = layout("Id:text", "Email:text", "Age:integer")
    assert compare(old, old) == []
    assert compare(old, layout("Email:text", "Id:text", "Age:integer")) == []


def test_a_rename_needs_the_same_place_and_type_or_only_a_change_of_case():
    old = layout("Id:text", "Fax:text", "Age:integer")
    # same place, another type: a removal and an addition, not a rename
    assert described(old, layout("Id:text", "Telefax:integer", "Age:integer")) == [
        "removed Fax (text)",
        "added Telefax (integer)",
    ]
    # same type, another place: not a rename either
    assert described(old, layout("Id:text", "Age:integer", "Telefax:text")) == [
        "removed Fax (text)",
        "added Telefax (text)",
    ]
    # a change of case is a rename wherever the column went
    assert described(old, layout("Id:text", "age:integer", "FAX:text")) == [
        "renamed Age -> age",
        "renamed Fax -> FAX",
    ]


def test_a_run_of_renamed_columns_pairs_up_and_an_empty_column_is_never_retyped():
    old = layout("Id:text", "A:text", "B:date", "C:empty")
    new = layout("Id:text", "X:text", "Y:date", "C:integer")
    assert described(old, new) == ["renamed A -> X", "renamed B -> Y"]
    # an empty column matches any type when pairing a rename
    assert described(layout("Id:text", "A:empty"), layout("Id:text", "B:integer")) == [
        "renamed A -> B"
    ]


# -- at ingest ---------------------------------------------------------------------------
def test_a_load_records_its_header_in_order_with_the_types_its_values_read_as(
    make_project, store_of
):
    project = make_project(config(), {"c.csv": FIRST})
    store = store_of(project)
    load = ingest(project, store).loads[0]
    assert [(c.name, c.type) for c in layout_of(store, load.load_id)] == [
        ("id", "integer"), ("email", "text"), ("fax", "text"), ("age", "integer"),
        ("joined", "date"), ("vip", "empty"),
    ]  # fmt: skip
    assert changes_of(store) == [] and load.schema_changes == 0
    assert schema_version(store) == LATEST >= 3


def test_changes_between_snapshots_are_logged_once_with_their_load(make_project, store_of):
    project = make_project(config(), {"c.csv": FIRST})
    store = store_of(project)
    first = ingest(project, store).loads[0]
    path = project.root / "c.csv"
    # fax renamed telefax (same place, same type), age now has decimals, joined removed,
    # vip still empty (never retyped), tier added at the end
    second = reload(
        project,
        store,
        path,
        "id,email,telefax,age,vip,tier\n1,a@x.com,030 1,30.5,,gold\n2,b@x.com,030 2,41,,\n",
    ).loads[0]
    expected = [
        ("renamed", "telefax", "fax", "telefax", "text", "text"),
        ("retyped", "age", "age", "age", "integer", "decimal"),
        ("removed", "joined", "joined", None, "date", None),
        ("added", "tier", None, "tier", None, "text"),
    ]
    assert second.status == "loaded" and second.schema_changes == 4
    assert "columns changed: 4" in second.message
    assert sorted(changes_of(store)) == sorted(expected)
    logged = list_schema_changes(store)
    assert {(c.source, c.load_id, c.previous_load_id) for c in logged} == {
        ("crm", second.load_id, first.load_id)
    }

    # the same file again: unchanged, nothing logged; new rows in the same layout: none
    assert ingest(project, store).loads[0].status == "unchanged"
    third = reload(
        project, store, path, "id,email,telefax,age,vip,tier\n3,c@x.com,030 3,7.25,,\n"
    ).loads[0]
    assert third.status == "loaded" and third.schema_changes == 0
    assert sorted(changes_of(store)) == sorted(expected)
    assert store.scalar("SELECT count(*) FROM meta.schema_changes") == 4


def test_a_refused_file_records_no_layout_and_logs_nothing(make_project, store_of):
    project = make_project(config(), {"c.csv": FIRST})
    store = store_of(project)
    ingest(project, store)
    refused = reload(project, store, project.root / "c.csv", "id,mail\n1,a@x.com\n").loads[0]
    assert refused.status == "failed"  # the mapped column email is missing
    assert changes_of(store) == []
    assert store.scalar("SELECT count(DISTINCT load_id) FROM meta.load_columns") == 1


# -- deprecated fields -------------------------------------------------------------------
DEPRECATING = """
objects:
  contacts:
    fields:
      phone: {deprecated: true, deprecated_note: "use mobile from 2027"}
"""


def deprecating(make_project, tmp_path: Path):
    (tmp_path / "dictionary.yaml").write_text(DEPRECATING, encoding="utf-8")
    files = {
        "exports/c.csv": "id,email,fax\n1,a@x.com,030 1\n",
        "exports/d.csv": "id,email,fax\n2,b@x.com,030 2\n",
    }
    text = config("dictionary: dictionary.yaml", ", phone: fax")
    text = text.replace("path: c.csv", "path: exports/*.csv\n    mode: append")
    return make_project(text, files)


def test_ingest_and_validate_warn_once_about_a_mapped_deprecated_field(
    make_project, store_of, tmp_path, capsys
):
    project = deprecating(make_project, tmp_path)
    [found] = project.deprecated_mappings()
    assert (found.source, found.object, found.field, found.column, found.note) == (
        "crm", "contacts", "phone", "fax", "use mobile from 2027"
    )  # fmt: skip
    assert main(["ingest", "--project", str(project.root)]) == 0
    err = capsys.readouterr().err
    assert err.count("Warning:") == 1  # two files loaded, one warning
    assert "sources.crm.columns.phone maps column 'fax' to contacts.phone" in " ".join(err.split())
    assert "deprecated (use mobile from 2027)" in " ".join(err.split())
    assert main(["validate", "--project", str(project.root)]) == 0
    assert capsys.readouterr().err.count("Warning:") == 1

    report = governance.deprecated_fields(open_context(project.root, "2026-09"))
    assert not isinstance(report, NoData)
    assert report.rows(named=True) == [
        {"object": "contacts", "field": "phone", "source": "crm", "column": "fax",
         "note": "use mobile from 2027"}
    ]  # fmt: skip


def test_no_warning_without_a_mapped_deprecated_field(make_project, capsys):
    project = make_project(config(), {"c.csv": FIRST})
    assert project.deprecated_mappings() == []
    assert main(["ingest", "--project", str(project.root)]) == 0
    assert "Warning" not in capsys.readouterr().err
    shown = governance.deprecated_fields(open_context(project.root, "2026-09"))
    assert isinstance(shown, NoData) and "No source maps a deprecated field" in shown


def test_a_deprecated_note_needs_the_field_marked_deprecated(make_project, tmp_path):
    (tmp_path / "dictionary.yaml").write_text(
        DEPRECATING.replace("deprecated: true, ", ""), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="deprecated_note"):
        make_project(config("dictionary: dictionary.yaml"), {"c.csv": FIRST})


# -- the command and the report ----------------------------------------------------------
def test_schema_changes_command_lists_the_log_as_text_and_json(make_project, capsys):
    project = make_project(config(), {"c.csv": FIRST})
    root = str(project.root)
    assert main(["ingest", "--project", root]) == 0
    capsys.readouterr()
    assert main(["schema-changes", "--project", root]) == 0  # one load: nothing to compare
    assert "No column of any export changed" in capsys.readouterr().out
    (project.root / "c.csv").write_text(FIRST.replace("fax", "telefax"), encoding="utf-8")
    assert main(["ingest", "--project", root]) == 0
    capsys.readouterr()
    assert main(["schema-changes", "--project", root, "--source", "crm"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "renamed" in text and "fax (text)" in text and "telefax (text)" in text
    assert main(["schema-changes", "--project", root, "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert {k: record[k] for k in ("source", "load", "previous_load", "change", "column")} == {
        "source": "crm", "load": 2, "previous_load": 1, "change": "renamed", "column": "telefax"
    }  # fmt: skip
    assert (record["old_name"], record["new_name"]) == ("fax", "telefax")
    assert main(["schema-changes", "--project", root, "--source", "other", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_the_governance_review_says_when_no_export_changed(make_project):
    project = make_project(config(), {"c.csv": FIRST})
    with open_store(project) as store:
        ingest(project, store)
    shown = governance.schema_changes(open_context(project.root, "2026-09"))
    assert isinstance(shown, NoData) and "No export changed its columns" in shown


def test_the_demo_logs_its_rates_file_change_and_the_governance_review_shows_it(
    demo_reports: tuple[Path, Path],
):
    project, reports = demo_reports
    with open_store(load_project(project), read_only=True) as store:
        logged = [
            (c.source, c.change.kind, c.change.old_name, c.change.new_name, c.change.new_type)
            for c in list_schema_changes(store)
        ]
    # fx_rates comes as one file per year; the 2026 file renamed fixing and added a date
    assert sorted(logged) == [
        ("fx_rates", "added", None, "published_on", "date"),
        ("fx_rates", "renamed", "fixing", "rate_source", "text"),
    ]
    [page] = reports.glob("governance_review/*/governance_review.html")
    html = page.read_text(encoding="utf-8")
    section = html[html.index("Schema changes") : html.index("Data dictionary")]
    for shown in ("fx_rates", "renamed", "fixing (text)", "rate_source (text)", "published_on"):
        assert shown in section, shown
    assert "No export changed its columns" not in html


def test_a_warehouse_at_version_2_gets_the_drift_tables_by_migration_3(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    with Store(path) as store:
        store.execute("DROP TABLE meta.load_columns")
        store.execute("DROP TABLE meta.schema_changes")
        store.execute("DELETE FROM meta.schema_version WHERE version >= 3")
    with Store(path, read_only=True) as store:
        assert schema_version(store) == 2 and list_schema_changes(store) == []
    with Store(path) as store:
        assert schema_version(store) == LATEST and MIGRATIONS[2].version == 3
        assert store.table_exists("meta", "load_columns")
        assert store.table_exists("meta", "schema_changes")


def test_the_dictionary_document_marks_a_deprecated_field(tmp_path: Path):
    (tmp_path / "dictionary.yaml").write_text(DEPRECATING, encoding="utf-8")
    rows = dictionary_doc.rows(load_dictionary(tmp_path / "dictionary.yaml"))
    phone = next(r for r in rows if (r["object"], r["field"]) == ("contacts", "phone"))
    assert phone["description"].startswith("Deprecated (use mobile from 2027). ")
    email = next(r for r in rows if (r["object"], r["field"]) == ("contacts", "email"))
    assert not email["description"].startswith("Deprecated")
