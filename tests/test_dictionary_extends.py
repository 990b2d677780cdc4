"""A project's dictionary extends the shipped one: it names only what it adds or changes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from workbench.dictionary import DEFAULT_DICTIONARY, load_dictionary
from workbench.errors import ConfigError

SHIPPED = yaml.safe_load(DEFAULT_DICTIONARY.read_text(encoding="utf-8"))["objects"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dictionary.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_one_allowed_list_is_overridden_and_everything_else_is_shipped(tmp_path):
    dictionary = load_dictionary(
        write(
            tmp_path,
            """
            objects:
              tickets:
                fields:
                  priority: {rules: {allowed: [P1, P2, P3]}}
            """,
        )
    )
    assert list(dictionary.objects) == list(SHIPPED)
    for name, spec in SHIPPED.items():
        assert list(dictionary.object(name).fields) == list(spec["fields"])
    priority = dictionary.object("tickets").fields["priority"]
    assert priority.rules.allowed == ["P1", "P2", "P3"]
    assert priority.type.value == SHIPPED["tickets"]["fields"]["priority"]["type"]
    assert priority.description == SHIPPED["tickets"]["fields"]["priority"]["description"]
    status = dictionary.object("tickets").fields["status"]
    assert status.rules.allowed == SHIPPED["tickets"]["fields"]["status"]["rules"]["allowed"]


def test_objects_and_fields_are_added_and_removed(tmp_path):
    dictionary = load_dictionary(
        write(
            tmp_path,
            """
            objects:
              subscriptions:
                fields:
                  record_id: {type: text, required: true}
                  plan: {type: text}
              contacts:
                fields:
                  loyalty_tier: {type: text, rules: {allowed: [gold, silver]}}
                  job_title: null
                  created_at: {rules: {min: null}}
              fx_rates: null
            """,
        )
    )
    assert "fx_rates" not in dictionary.objects
    assert list(dictionary.object("subscriptions").fields) == ["record_id", "plan"]
    contacts = dictionary.object("contacts").fields
    shipped = [f for f in SHIPPED["contacts"]["fields"] if f != "job_title"]
    assert list(contacts) == [*shipped, "loyalty_tier"]
    assert contacts["created_at"].rules.min is None
    assert contacts["created_at"].rules.max == "now"


def test_an_object_is_replaced_whole_and_the_shipped_dictionary_can_be_left_out(tmp_path):
    replaced = load_dictionary(
        write(
            tmp_path,
            """
            objects:
              contacts:
                replace: true
                fields:
                  record_id: {type: text, required: true}
                  full_name: {type: text, identity: name}
            """,
        )
    )
    assert list(replaced.object("contacts").fields) == ["record_id", "full_name"]
    assert list(replaced.objects) == list(SHIPPED)

    alone = load_dictionary(
        write(
            tmp_path,
            """
            extends: none
            objects:
              patients:
                fields: {record_id: {type: text, required: true}}
            """,
        )
    )
    assert list(alone.objects) == ["patients"]


def test_a_wrong_override_names_the_key_and_line_of_the_project_file(tmp_path):
    path = write(
        tmp_path,
        """
        objects:
          tickets:
            fields:
              priority: {type: colour}
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_dictionary(path)
    text = str(err.value)
    assert str(path) in text
    assert "line 5" in text and "objects.tickets.fields.priority.type" in text

    with pytest.raises(ConfigError) as err:
        load_dictionary(write(tmp_path, "extends: everything\nobjects: {}\n"))
    assert "extends: 'everything' is not known" in str(err.value)
    assert "line 1, key extends" in str(err.value)


@pytest.mark.parametrize(("written", "whole"), [("yes", True), ("on", True), ("no", False)])
def test_replace_is_read_as_a_boolean_setting_is(tmp_path, written, whole):
    """YAML keeps yes/no/on/off as text; replace: reads them as every boolean setting does."""
    dictionary = load_dictionary(
        write(
            tmp_path,
            f"""
            objects:
              contacts:
                replace: {written}
                fields:
                  record_id: {{type: text, required: true}}
                  loyalty_tier: {{type: text}}
            """,
        )
    )
    fields = list(dictionary.object("contacts").fields)
    if whole:
        assert fields == ["record_id", "loyalty_tier"]
    else:
        assert fields == [*SHIPPED["contacts"]["fields"], "loyalty_tier"]
