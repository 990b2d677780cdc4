"""A differently shaped data set gets a working model by dictionary and config alone.

Two clinics' patient registers (other column names, other identity fields: date of birth,
a national id, a postcode, no email or phone) with typos, missing ids and twins who share
family name, birth date and postcode. Nothing in the code knows about patients.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest

from workbench.config import load_project
from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.resolve import pairwise_scores, resolve
from workbench.store import open_store

pytestmark = pytest.mark.slow  # heavy: run by `make test-slow`

DICTIONARY = """
objects:
  patients:
    fields:
      record_id: {type: text, required: true, unique: true}
      given: {type: text, identity: name}
      family: {type: text, identity: name}
      born: {type: date, identity: date}
      insurance_no: {type: text, identity: exact}
      zip: {type: text, identity: postcode}
"""
CONFIG = """
dictionary: dictionary.yaml
sources:
  north:
    system: clinic_north
    object: patients
    path: north.csv
    options: {delimiter: ";", date_format: "%d.%m.%Y"}
    columns: {record_id: PatNr, given: Vorname, family: Nachname, born: GebDatum,
              insurance_no: KVNR, zip: PLZ}
  south:
    system: clinic_south
    object: patients
    path: south.ndjson
    columns: {record_id: id, given: first, family: last, born: dob, insurance_no: insurance,
              zip: postal_code}
"""
GIVEN = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Ida", "Jonas",
         "Karl", "Lena", "Mia", "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Uwe"]  # fmt: skip
FAMILY = ["Becker", "Fischer", "Hoffmann", "Koch", "Klein", "Lange", "Meyer", "Neumann",
          "Richter", "Schmidt", "Schulz", "Wagner", "Weber", "Wolf", "Zimmermann"]  # fmt: skip


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def people(rng: random.Random, n: int) -> list[dict]:
    out = []
    for pid in range(n):
        person = {
            "pid": f"P{pid}",
            "given": rng.choice(GIVEN),
            "family": rng.choice(FAMILY),
            "born": f"{rng.randint(1940, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "ins": f"K{rng.randrange(10**8, 10**9)}",
            "zip": f"{rng.randint(10000, 99999)}",
        }
        out.append(person)
        if rng.random() < 0.04:  # a twin: same family, birth date and postcode
            twin = dict(person, pid=f"P{pid}t", ins=f"K{rng.randrange(10**8, 10**9)}")
            twin["given"] = rng.choice([g for g in GIVEN if g != person["given"]])
            out.append(twin)
    return out


def write_data(folder: Path, seed: int = 11) -> pl.DataFrame:
    rng = random.Random(seed)
    everyone = people(rng, 1500)
    truth = []
    north, south = [], []
    for i, p in enumerate(everyone):
        in_north, in_south = rng.random() < 0.75, rng.random() < 0.6
        if not (in_north or in_south):
            in_north = True
        for clinic, rows in (("north", north), ("south", south)):
            if not (in_north if clinic == "north" else in_south):
                continue
            copies = 2 if rng.random() < 0.05 else 1  # a duplicate within one clinic
            for c in range(copies):
                rid = f"{clinic[0].upper()}{i}-{c}"
                given = typo(p["given"], rng) if rng.random() < 0.08 else p["given"]
                family = typo(p["family"], rng) if rng.random() < 0.05 else p["family"]
                ins = p["ins"] if rng.random() > 0.3 else None
                zip_ = p["zip"] if rng.random() > 0.1 else None
                rows.append((rid, given, family, p["born"], ins, zip_))
                truth.append({"source": clinic, "record_id": rid, "person_id": p["pid"]})
    lines = ["PatNr;Vorname;Nachname;GebDatum;KVNR;PLZ"]
    for rid, given, family, born, ins, zip_ in north:
        y, m, d = born.split("-")
        lines.append(f"{rid};{given};{family};{d}.{m}.{y};{ins or ''};{zip_ or ''}")
    (folder / "north.csv").write_text("\n".join(lines) + "\n")
    (folder / "south.ndjson").write_text(
        "\n".join(
            json.dumps({"id": r, "first": g, "last": f, "dob": b, "insurance": i, "postal_code": z})
            for r, g, f, b, i, z in south
        )
        + "\n"
    )
    (folder / "dictionary.yaml").write_text(DICTIONARY)
    (folder / "workbench.yaml").write_text(CONFIG)
    return pl.DataFrame(truth)


def test_patients_resolve_with_f1_above_095(tmp_path):
    truth = write_data(tmp_path)
    project = load_project(tmp_path)
    with open_store(project) as store:
        assert ingest(project, store).failures == []
        run_quality(project, store)
        report = resolve(project, store, object_name="patients")
        members = store.frame(
            "SELECT unique_id, entity_id AS cluster_id FROM id.members WHERE object = 'patients'"
        )
    truth = truth.with_columns((pl.col("source") + ":" + pl.col("record_id")).alias("unique_id"))
    scores = pairwise_scores(members, truth)
    assert report.records == truth.height == scores.records
    assert scores.f1 >= 0.95, scores
    # twins (same family, birth date and postcode, other given name) stay apart
    twins = truth.filter(pl.col("person_id").str.ends_with("t"))
    assert twins.height > 20
    twin_of = twins.with_columns(pl.col("person_id").str.strip_suffix("t").alias("sibling"))
    pairs = twin_of.join(
        truth.rename({"unique_id": "sibling_uid", "person_id": "sibling"}).select(
            "sibling_uid", "sibling"
        ),
        on="sibling",
    )
    entity = dict(members.iter_rows())
    merged = sum(entity[a] == entity[b] for a, b in pairs.select("unique_id", "sibling_uid").rows())
    assert merged <= 0.02 * pairs.height
