"""workbench.yaml: valid projects load; every mistake is one message naming key and line."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from workbench.config import load_project
from workbench.dictionary import FieldType, load_dictionary
from workbench.errors import ConfigError

GOOD = """\
name: test
sources:
  crm:
    system: crm
    object: contacts
    path: c.csv
    options:
      delimiter: ";"
      encoding: latin-1
      timezone: Europe/Berlin
    columns:
      record_id: Id
      first_name: {from: Name, name_part: first}
      created_at: {from: Created, format: "%d.%m.%Y"}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "workbench.yaml").write_text(text)
    return tmp_path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_project(write(tmp_path, text))
    return info.value


def test_good_config_loads_with_defaults(tmp_path):
    project = load_project(write(tmp_path, GOOD))
    source = project.source("crm")
    assert source.options.delimiter == ";"
    assert source.options.header is True
    assert source.columns["record_id"].from_ == "Id"
    assert source.columns["first_name"].name_part == "first"
    assert project.warehouse_path == tmp_path.resolve() / "data" / "warehouse.duckdb"
    assert len(project.config_sha256) == 64


@pytest.mark.parametrize(
    ("written", "read"),
    [("windows-1252", "cp1252"), ("CP1252", "cp1252"), ("latin1", "latin-1"),
     ("ISO-8859-1", "latin-1"), ("UTF8", "utf-8"), ("utf_16", "utf-16")],
)  # fmt: skip
def test_encodings_may_be_spelled_as_python_spells_them(tmp_path, written, read):
    project = load_project(
        write(tmp_path, GOOD.replace("encoding: latin-1", f"encoding: {written}"))
    )
    assert project.source("crm").options.encoding == read


def test_an_encoding_ingest_cannot_read_is_refused_naming_the_key(tmp_path):
    err = error_of(tmp_path, GOOD.replace("encoding: latin-1", "encoding: ebcdic-cp-be"))
    assert "sources.crm.options.encoding" in err.message and "line 9" in err.message


def test_unknown_key_names_key_line_and_suggestion(tmp_path):
    err = error_of(tmp_path, GOOD.replace("    encoding: latin-1", "    encodng: latin-1"))
    assert "sources.crm.options.encodng: unknown key" in err.message
    assert "line 9" in err.message
    assert "Did you mean 'encoding'?" in err.message


def test_wrong_type_names_key_and_line(tmp_path):
    err = error_of(tmp_path, GOOD.replace('delimiter: ";"', "delimiter: ';;'"))
    assert "sources.crm.options.delimiter" in err.message
    assert "line 8" in err.message
    assert "single character" in err.message


def test_unknown_canonical_field_points_at_its_line(tmp_path):
    err = error_of(tmp_path, GOOD.replace("record_id: Id", "record_id: Id\n      frist: X"))
    assert "'frist' is not a field of contacts" in err.message
    assert "line 13" in err.message


def test_unmapped_required_field(tmp_path):
    err = error_of(tmp_path, GOOD.replace("      record_id: Id\n", ""))
    assert "required field(s) of contacts not mapped: record_id" in err.message


def test_unknown_object_and_bad_timezone_reported_together(tmp_path):
    text = GOOD.replace("object: contacts", "object: contact").replace(
        "Europe/Berlin", "Mars/Olympus"
    )
    err = error_of(tmp_path, text)
    assert "2 problem(s)" in err.message
    assert "unknown object 'contact'" in err.message
    assert "unknown time zone 'Mars/Olympus'" in err.message


def test_source_name_must_be_a_safe_identifier(tmp_path):
    err = error_of(tmp_path, GOOD.replace("  crm:", '  "crm; DROP TABLE x":'))
    assert "must be lower-case letters" in err.message


def test_invalid_yaml_reports_line(tmp_path):
    err = error_of(tmp_path, GOOD.replace("    system: crm", "    system: [crm"))
    assert "not valid YAML" in err.message
    assert err.where is not None and "line" in err.where


def test_missing_config_says_how_to_start(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_project(tmp_path)
    assert "No workbench.yaml" in info.value.message
    assert "workbench init" in info.value.message


def test_field_map_needs_exactly_one_origin(tmp_path):
    err = error_of(tmp_path, GOOD.replace("record_id: Id", "record_id: {from: Id, value: x}"))
    assert "exactly one of 'from'" in err.message


def test_starter_template_is_a_valid_project(tmp_path):
    template = resources.files("workbench") / "templates" / "workbench.yaml"
    project = load_project(write(tmp_path, template.read_text()))
    assert "crm_contacts" in project.config.sources


def test_project_dictionary_replaces_the_default(tmp_path):
    (tmp_path / "dict.yaml").write_text(
        "objects:\n  patients:\n    fields:\n      record_id: {type: text, required: true}\n"
        "      born: {type: date}\n"
    )
    text = (
        "dictionary: dict.yaml\nsources:\n  ehr:\n    system: ehr\n    object: patients\n"
        "    path: p.csv\n    columns: {record_id: id, born: dob}\n"
    )
    project = load_project(write(tmp_path, text))
    assert project.dictionary.object("patients").fields["born"].type is FieldType.DATE


def test_shipped_dictionary_has_the_canonical_objects():
    names = set(load_dictionary().objects)
    assert {
        "contacts",
        "companies",
        "leads",
        "deals",
        "tickets",
        "invoices",
        "fx_rates",
        "sync_events",
    } <= names


@pytest.mark.parametrize("key", ['""', '" "', "N/A", "null", "-"])
def test_a_value_map_key_that_can_never_match_is_refused(tmp_path, key):
    """An empty value is never mapped (it stays empty), and the null tokens are empty before
    the map: such a key was accepted and silently never matched (`{"-": open}`)."""
    mapped = f"first_name: {{from: Name, map: {{Ann: Anna, {key}: Unknown}}}}"
    err = error_of(tmp_path, GOOD.replace("first_name: {from: Name, name_part: first}", mapped))
    assert "sources.crm.columns" in err.message
    assert "first_name.map: the key" in err.message and "never matches" in err.message


def test_a_value_map_key_taken_out_of_the_null_tokens_is_mapped(tmp_path):
    text = GOOD.replace(
        "first_name: {from: Name, name_part: first}",
        'first_name: {from: Name, map: {"-": Unknown}}',
    )
    text = text.replace(
        "timezone: Europe/Berlin", "timezone: Europe/Berlin\n      null_values: [n/a]"
    )
    assert load_project(write(tmp_path, text)).source("crm").columns["first_name"].map == {
        "-": "Unknown"
    }
