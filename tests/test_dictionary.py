"""The dictionary as a document, and drafting a dictionary section from an export."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from pathlib import Path

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


@pytest.mark.parametrize("where", ["folder", "under a file", "full disk"])
def test_dictionary_export_to_a_path_it_cannot_write_is_one_message(tmp_path, capsys, where):
    (tmp_path / "workbench.yaml").write_text("name: p\n")
    out = {
        "folder": tmp_path,
        "under a file": tmp_path / "workbench.yaml" / "dd.md",
        "full disk": Path("/dev/full"),
    }[where]
    code = main(["dictionary", "export", "-f", "md", "-o", str(out), "--project", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and f"Cannot write {out}" in err and "None" not in err
    assert "Traceback" not in err


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


def _infer_cli(path, capsys) -> str:
    code = main(["dictionary", "infer", str(path), "--object", "customers"])
    assert code == 0
    return capsys.readouterr().out


def test_infer_reads_the_tokens_ingest_reads_as_empty_as_empty(tmp_path):
    """N/A, NULL and - are empty to ingest: a drafted number column holding some is a
    number, and a column holding some is not required (ingest would quarantine those rows)."""
    path = tmp_path / "export.csv"
    rows = ["CustomerNo,E-Mail,Score"]
    for i in range(30):
        email = f"p{i}@x.com" if i % 7 else ["N/A", "NULL", "-", "n/a", "N/A"][i // 7]
        rows.append(f"K{i},{email},{i if i % 5 else 'N/A'}")
    path.write_text("\n".join(rows) + "\n")
    fields = yaml.safe_load(infer_section(path, "customers"))["objects"]["customers"]["fields"]
    assert fields["e_mail"]["type"] == "email" and "required" not in fields["e_mail"]
    assert fields["score"]["type"] == "integer" and "required" not in fields["score"]


def test_infer_on_ragged_rows_keeps_every_header_column_and_counts_them(tmp_path, capsys):
    path = tmp_path / "ragged.csv"
    rows = ["CustomerNo,FirstName,Email,City"]
    for i in range(12):
        rows.append(f"K{i},Name{i},p{i}@x.com,Berlin")
    rows.insert(3, "K90,Extra,e@x.com,Berlin,DE,spare")  # more fields than the header
    rows.insert(7, "K91,Short")  # fewer
    rows.insert(9, "K92")
    path.write_text("\n".join(rows) + "\n")
    section = _infer_cli(path, capsys)
    fields = yaml.safe_load(section)["objects"]["customers"]["fields"]
    assert list(fields) == ["record_id", "first_name", "email", "city"]
    assert fields["email"]["type"] == "email" and fields["email"]["required"] is True
    assert "# Draft dictionary section for ragged.csv (12 rows read)." in section
    assert "# 3 ragged rows have more or fewer fields than the header's 4" in section
    for line in ("#   record_id: CustomerNo", "#   first_name: FirstName", "#   city: City"):
        assert line in section


def test_infer_when_most_rows_are_ragged_still_lists_the_header(tmp_path):
    """Ragged rows must not make the sniffer read the file as one column."""
    path = tmp_path / "wide.csv"
    path.write_text("id,name\n" + "".join(f"{i},N{i},x,y\n" for i in range(50)) + "99,Z\n")
    section = infer_section(path, "things")
    fields = yaml.safe_load(section)["objects"]["things"]["fields"]
    assert list(fields) == ["record_id", "name"]  # one row, but named as an id
    assert "#   record_id: id" in section and "#   name: name" in section
    assert "# 50 ragged rows have more or fewer fields than the header's 2" in section
    assert "(1 rows read)" in section


def test_infer_with_declared_delimiter_and_no_row_matching_the_header(tmp_path):
    path = tmp_path / "shifted.csv"
    path.write_text("a;b;c\n1;2\n3;4\n")
    section = infer_section(path, "x", delimiter=";")
    fields = yaml.safe_load(section)["objects"]["x"]["fields"]
    assert {"a", "b", "c"} <= set(fields)
    assert "# 2 ragged rows have more or fewer fields than the header's 3" in section
    assert "# No row matches the header: check the delimiter (--delimiter)." in section


def test_infer_keeps_columns_whose_names_read_alike_and_mixed_line_ends(tmp_path):
    path = tmp_path / "alike.csv"
    ends = ["\n" if i % 3 else "\r\n" for i in range(12)]
    body = "Id,E-Mail,e_mail\r\n" + "".join(
        f"{i},a{i}@x.com,b{i}@y.com{end}" for i, end in enumerate(ends)
    )
    path.write_bytes(body.encode())
    section = infer_section(path, "x")
    fields = yaml.safe_load(section)["objects"]["x"]["fields"]
    assert list(fields) == ["record_id", "e_mail", "e_mail_2"]
    assert "#   e_mail: E-Mail" in section and "#   e_mail_2: e_mail" in section
    assert "(12 rows read)" in section and "ragged" not in section


CP1252_ROWS = ["Kunde,Catégorie,Preis"] + [
    f"K{i},{'Café' if i % 2 else 'Gebühr €'},{i}" for i in range(24)
]


@pytest.mark.parametrize("encoding", ["cp1252", "windows-1252", "CP1252"])
def test_infer_reads_cp1252_as_ingest_does(tmp_path, capsys, encoding):
    """DuckDB cannot decode cp1252: infer reads it through ingest's UTF-8 copy."""
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(CP1252_ROWS) + "\r\n").encode("cp1252"))
    assert "€".encode("cp1252") == b"\x80"  # a byte no UTF-8 or latin-1 text has for it
    code = main(["dictionary", "infer", str(path), "--object", "x", "--encoding", encoding])
    section = capsys.readouterr().out
    assert code == 0
    assert "(24 rows read)" in section and "could not be read" not in section
    assert "#   cat_gorie: Catégorie" in section
    fields = yaml.safe_load(section)["objects"]["x"]["fields"]
    assert fields["cat_gorie"]["rules"] == {"allowed": ["Café", "Gebühr €"]}
    assert fields["preis"]["type"] == "integer"


def temp_copies(tmp_path, monkeypatch) -> Path:
    """A folder of its own for the temporary copies infer makes, to see them deleted."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_infer_reads_a_gzipped_cp1252_file_with_mixed_line_ends(tmp_path, monkeypatch):
    copies = temp_copies(tmp_path, monkeypatch)
    path = tmp_path / "export.csv.gz"
    ends = ["\n" if i % 3 else "\r\n" for i in range(len(CP1252_ROWS))]
    path.write_bytes(
        gzip.compress(
            "".join(r + e for r, e in zip(CP1252_ROWS, ends, strict=True)).encode("cp1252")
        )
    )
    section = infer_section(path, "x", encoding="cp1252")
    fields = yaml.safe_load(section)["objects"]["x"]["fields"]
    assert "(24 rows read)" in section and "ragged" not in section
    assert fields["cat_gorie"]["rules"] == {"allowed": ["Café", "Gebühr €"]}
    assert list(copies.iterdir()) == []


def test_infer_reads_utf16_by_its_byte_order_mark_and_latin1_by_any_name(tmp_path):
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("\n".join(CP1252_ROWS).encode("utf-16"))
    fields = yaml.safe_load(infer_section(utf16, "x"))["objects"]["x"]["fields"]
    assert fields["cat_gorie"]["rules"] == {"allowed": ["Café", "Gebühr €"]}
    latin = tmp_path / "latin.csv"
    latin.write_bytes("\n".join(r.replace(" €", "") for r in CP1252_ROWS).encode("latin-1"))
    for name in ("latin-1", "latin1", "ISO-8859-1"):
        fields = yaml.safe_load(infer_section(latin, "x", encoding=name))["objects"]["x"]["fields"]
        assert fields["cat_gorie"]["rules"] == {"allowed": ["Café", "Gebühr"]}


def test_infer_refuses_an_encoding_ingest_does_not_read(tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_bytes("\n".join(CP1252_ROWS).encode("cp1252"))
    code = main(["dictionary", "infer", str(path), "--object", "x", "--encoding", "koi8-r"])
    err = capsys.readouterr().err
    assert code == 3
    assert "--encoding 'koi8-r' is not an encoding Workbench reads." in err
    assert "Use one of utf-8, utf-8-sig, latin-1, cp1252, utf-16" in err
    assert "Traceback" not in err


def test_infer_names_a_byte_that_is_not_cp1252(tmp_path, capsys, monkeypatch):
    copies = temp_copies(tmp_path, monkeypatch)
    path = tmp_path / "export.csv"
    path.write_bytes(b"id,name\n1,A\x81B\n")  # 0x81 is no character in cp1252
    code = main(["dictionary", "infer", str(path), "--object", "x", "--encoding", "cp1252"])
    err = capsys.readouterr().err
    assert code == 3
    assert "export.csv is not valid cp1252: byte 0x81 cannot be decoded." in err
    assert "Set --encoding to the file's real encoding." in err
    assert list(copies.iterdir()) == []


def test_infer_keeps_a_record_id_column_whose_values_repeat(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("Record ID,Name\n1,A\n1,B\n2,C\n")
    section = infer_section(path, "x")
    fields = yaml.safe_load(section)["objects"]["x"]["fields"]
    assert list(fields) == ["record_id", "name"]
    assert (
        fields["record_id"]["description"]
        == "From column Record ID; its values repeat in this file"
    )
    assert "#   record_id: Record ID" in section


def test_infer_takes_an_id_column_of_a_small_sample_as_the_record_id(tmp_path):
    """Under ten rows only a column named as an id, with every value present and distinct,
    is taken as unique: names and emails may differ by chance in a few rows."""
    path = tmp_path / "few.csv"
    path.write_text(
        "Name,Email,CustomerNo,Ref\nAnna,a@x.com,K1,R1\nBob,b@x.com,K2,\nCleo,c@x.com,K3,R3\n"
    )
    fields = yaml.safe_load(infer_section(path, "x"))["objects"]["x"]["fields"]
    assert next(iter(fields)) == "record_id"
    assert fields["record_id"]["description"] == "From column CustomerNo"
    assert fields["record_id"]["unique"] is True
    assert "unique" not in fields["name"] and "unique" not in fields["email"]


def test_a_code_or_number_column_of_a_small_sample_is_not_taken_for_the_id(tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("Name,Country Code,Phone Number,Email\nA,DE,+49 30 1,a@x\nB,FR,+33 1 2,b@x\n")
    fields = yaml.safe_load(infer_section(path, "x"))["objects"]["x"]["fields"]
    assert fields["record_id"]["description"] == "No unique column found: map the source's id here"
    assert "unique" not in fields["country_code"] and "unique" not in fields["phone_number"]


def test_infer_reads_utf16_without_a_byte_order_mark_as_ingest_does(tmp_path):
    """Declared UTF-16 without a byte order mark is little-endian, as DuckDB reads it (the
    line read for the header failed with a UnicodeError traceback)."""
    path = tmp_path / "u16.csv"
    path.write_bytes("id,name\n1,Zoë\n2,Ana\n".encode("utf-16-le"))
    fields = yaml.safe_load(infer_section(path, "x", encoding="utf-16"))["objects"]["x"]["fields"]
    assert list(fields) == ["record_id", "name"]


def test_infer_skips_title_lines_above_the_header(tmp_path, capsys):
    """A Dynamics-style export with two title lines: without --skip-rows the first title
    is taken for the header (one column); with it, the real columns are profiled."""
    path = tmp_path / "contacts.tsv"
    rows = "".join(f"CNT-{i}\tName {i}\tp{i}@x.com\n" for i in range(12))
    path.write_text("Contacts Export\nGenerated on 04/12/2026\nContact ID\tName\tE-mail\n" + rows)
    assert main(["dictionary", "infer", str(path), "--object", "c", "--skip-rows", "2"]) == 0
    fields = yaml.safe_load(capsys.readouterr().out)["objects"]["c"]["fields"]
    assert list(fields) == ["record_id", "name", "e_mail"]
    assert fields["record_id"]["description"] == "From column Contact ID"
    assert fields["e_mail"]["type"] == "email"


def test_dated_fields_are_the_date_and_timestamp_fields_in_order():
    dictionary = load_dictionary()
    for spec in dictionary.objects.values():
        assert spec.dated_fields() == [
            name for name, field in spec.fields.items() if field.type.value in ("date", "timestamp")
        ]
    assert "created_at" in dictionary.object("contacts").dated_fields()


def test_infer_drafts_a_column_of_times_as_a_timestamp_not_a_date(tmp_path):
    # polars names the type Datetime, which begins like Date: times were drafted as dates,
    # and a mapping made from the draft dropped the time of day
    path = tmp_path / "leads.csv"
    path.write_text(
        "id,created,offset,day\n"
        "1,2026-03-04 10:22:33,2026-03-04T10:22:33+05:30,2026-03-04\n"
        "2,2026-03-05 11:00:00,2026-03-05T11:00:00+05:30,2026-03-05\n"
    )
    fields = yaml.safe_load(infer_section(path, "leads"))["objects"]["leads"]["fields"]
    assert fields["created"]["type"] == "timestamp"
    assert fields["offset"]["type"] == "timestamp"
    assert fields["day"]["type"] == "date"
