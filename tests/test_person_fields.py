"""People described by other field names: the dictionary, not the code, says which fields
are names, addresses and phone numbers, and which field holds the country a national phone
number is read in (``region_field``; by default a field named ``country``)."""

from __future__ import annotations

import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.dictionary import Dictionary
from workbench.governance.erasure import erase
from workbench.store import open_store

DICTIONARY = """
objects:
  contacts:
    fields:
      record_id: {type: text, required: true, unique: true}
      given_name: {type: text, identity: name, pii: contact}
      surname: {type: text, identity: name, pii: contact}
      work_email: {type: email, identity: email, pii: contact}
      mobile: {type: phone, identity: phone, pii: contact, region_field: land}
      land: {type: text}
"""
CONFIG = """
dictionary: dictionary.yaml
sources:
  people:
    system: hr
    object: contacts
    path: people.csv
    columns: {record_id: id, given_name: vorname, surname: nachname, work_email: mail,
              mobile: handy, land: land}
"""
PEOPLE = """
id,vorname,nachname,mail,handy,land
1,Anna,Berg,anna@berg.example,030 1234567,DE
2,Ben,Cole,ben@cole.example,020 7946 0958,gb
3,Cleo,Dahl,cleo@dahl.example,0171 2345678,XX
"""


def test_phones_are_read_in_the_country_of_the_dictionarys_region_field(
    make_project, tmp_path, capsys
):
    make_project(CONFIG, {"dictionary.yaml": DICTIONARY, "people.csv": PEOPLE})
    root = str(tmp_path)
    assert main(["ingest", "--project", root]) == 0
    assert main(["validate", "--project", root]) == 0
    capsys.readouterr()
    project = load_project(tmp_path)
    with open_store(project, read_only=True) as store:
        numbers = dict(store.rows("SELECT record_id, mobile FROM core.contacts"))
    # German and British national numbers by their records' land (gb is GB); XX is no
    # country and the source has no default region: that number stays unread (mobile_raw)
    assert numbers == {"1": "+49301234567", "2": "+442079460958", "3": None}
    with open_store(project) as store:
        plan = erase(project, store, "phone", "+44 20 7946 0958", dry_run=True)
    assert plan.records == ["people:2"]
    # the person is shown by the dictionary's names, address and number, masked
    assert plan.preview.columns == ["source", "record_id", "given_name", "surname",
                                    "work_email", "mobile"]  # fmt: skip
    row = plan.preview.row(0, named=True)
    assert row["given_name"].startswith("B") and "***" in row["given_name"]
    assert "7946" not in str(row["mobile"])


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("{type: text, region_field: land}", "only phone fields can have a region_field"),
        ("{type: phone, region_field: nation}", "region_field 'nation' must name a field"),
    ],
)
def test_a_wrong_region_field_is_refused(field: str, message: str) -> None:
    import yaml

    objects = yaml.safe_load(DICTIONARY)
    objects["objects"]["contacts"]["fields"]["mobile"] = yaml.safe_load(field)
    with pytest.raises(ValueError, match=message):
        Dictionary.model_validate(objects)
