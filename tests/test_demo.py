"""The demo generator: reproducible, loadable, and carrying the dirt, traps and effects."""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from workbench.config import load_project
from workbench.demo import (
    STEPS,
    DemoSummary,
    billing,
    business,
    crm,
    data,
    generate_demo,
    invalid,
)
from workbench.demo.sizes import sizes_for
from workbench.demo.world import build_world

CONTACTS = 3000
SF_TIMESTAMP = "%Y-%m-%dT%H:%M:%S%.3f%z"
GERMAN_AMOUNT = re.compile(r"^\d{1,3}(\.\d{3})*,\d{2}$")
FX_RENAMED = ("fixing", "rate_source")  # the column the 2026 rates file renamed


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    steps: list[str] = []
    summary = generate_demo(
        tmp_path_factory.mktemp("demo"), contacts=CONTACTS, seed=42, progress=steps.append
    )
    assert steps == list(STEPS)
    return summary


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "data" not in p.relative_to(root).parts
    }


def _truth(demo: DemoSummary) -> pl.DataFrame:
    return pl.read_csv(demo.truth["contacts"], infer_schema_length=0)


def _read_csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0)


def _read_billing(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0, separator=";", encoding="latin-1")


def _injected(demo: DemoSummary) -> pl.DataFrame:
    return pl.read_csv(demo.truth["injected_errors"], infer_schema_length=0).with_columns(
        pl.col("row_number").cast(pl.Int64)
    )


def _clean(frame: pl.DataFrame, demo: DemoSummary, source: str) -> pl.DataFrame:
    """``frame`` (a whole export) without its rows listed in injected_errors.csv."""
    bad = _injected(demo).filter(pl.col("source") == source)["row_number"] - 1
    return (
        frame.with_row_index("_row")
        .filter(~pl.col("_row").cast(pl.Int64).is_in(bad.implode()))
        .drop("_row")
    )


# -- reproducibility -----------------------------------------------------------------
def test_same_seed_gives_same_bytes(demo: DemoSummary, tmp_path: Path) -> None:
    again = generate_demo(tmp_path / "again", contacts=CONTACTS, seed=42)
    assert again.rows == demo.rows
    assert _files(tmp_path / "again") == _files(demo.project_dir)


def test_other_seed_gives_other_data(demo: DemoSummary, tmp_path: Path) -> None:
    generate_demo(tmp_path / "other", contacts=CONTACTS, seed=7)
    mine, theirs = _files(demo.project_dir), _files(tmp_path / "other")
    assert mine.keys() == theirs.keys()
    changed = [name for name in mine if mine[name] != theirs[name]]
    assert set(changed) >= {name for name in mine if name.startswith("exports/crm")}


def test_refresh_overwrites_in_place(tmp_path: Path) -> None:
    generate_demo(tmp_path, contacts=400, seed=1)
    summary = generate_demo(tmp_path, contacts=600, seed=1)
    assert _read_csv(summary.paths["crm_contacts"]).height == summary.rows["crm_contacts"] == 300


def test_too_small_a_demo_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_demo(tmp_path, contacts=10)


# -- the configuration ---------------------------------------------------------------
def _header(path: Path, options: dict[str, object]) -> list[str]:
    if path.suffix == ".json":
        return list(json.loads(path.read_text("utf-8"))[0])
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        first = handle.readline()
    if ".ndjson" in path.suffixes:
        return list(json.loads(first))
    text = first.decode(str(options["encoding"])).rstrip("\r\n")
    return next(csv.reader([text], delimiter=str(options["delimiter"] or ",")))


def test_config_validates_and_maps_every_column(demo: DemoSummary) -> None:
    project = load_project(demo.project_dir)
    sources = project.config.sources
    assert set(sources) == set(demo.paths)
    assert "truth" not in demo.config_path.read_text("utf-8").split("sources:")[1]
    unmapped = {"Umsatz", *FX_RENAMED, "published_on"}  # kept in raw, mapped to no field
    for name, source in sources.items():
        paths = sorted(Path(p) for p in glob.glob(str(project.resolve(source.path))))
        assert paths == demo.files[name] and paths[-1] == demo.paths[name], name
        for path in paths:
            header = _header(path, source.options.model_dump())
            mapped = {f.from_ for f in source.columns.values()}
            assert mapped <= set(header), name
            assert set(header) - mapped <= unmapped, name


def test_config_value_maps_cover_the_exports(demo: DemoSummary) -> None:
    sources = load_project(demo.project_dir).config.sources
    assert sources["crm_deals"].columns["status"].map == crm.DEAL_STATUS
    assert sources["billing_invoices"].columns["status"].map == billing.STATUS
    assert sources["billing_customers"].columns["country"].map == billing.COUNTRY_MAP
    customers = _read_billing(demo.paths["billing_customers"])
    assert set(customers["Land"].unique()) <= set(billing.COUNTRY_MAP)
    deals = _read_csv(demo.paths["crm_deals"])
    assert set(deals["StageName"].unique()) == set(crm.DEAL_STATUS)
    assert sources["crm_contacts"].columns["marketing_consent"].map == crm.CONSENT
    consent = _read_csv(demo.paths["crm_contacts"])["Marketing_Consent__c"]
    assert set(consent.drop_nulls().unique()) == set(crm.CONSENT)
    assert 0 < consent.null_count() < consent.len()  # some contacts decided nothing


# -- counts and ground truth ---------------------------------------------------------
def test_counts_add_up(demo: DemoSummary) -> None:
    truth = _truth(demo)
    crm_ids = _read_csv(demo.paths["crm_contacts"])["Id"]
    customer_ids = _read_billing(demo.paths["billing_customers"])["KundenNr"]
    requester_ids = [str(r["id"]) for r in json.loads(demo.paths["support_requesters"].read_text())]
    assert truth.height == len(crm_ids) + len(customer_ids) + len(requester_ids) == CONTACTS
    for source, ids in (
        ("crm_contacts", crm_ids.to_list()),
        ("billing_customers", customer_ids.to_list()),
        ("support_requesters", requester_ids),
    ):
        assert sorted(truth.filter(pl.col("source") == source)["record_id"]) == sorted(ids)
        assert len(ids) == demo.rows[source]
        reused = (
            truth.filter(pl.col("source") == source)["injected_error"] == "duplicate_id"
        ).sum()
        assert len(set(ids)) == len(ids) - reused
    assert demo.rows["crm_contacts"] == CONTACTS // 2
    assert demo.rows["billing_customers"] == demo.rows["support_requesters"] == CONTACTS // 4
    assert demo.people == truth["person_id"].n_unique()


def test_other_exports_scale_with_contacts(demo: DemoSummary) -> None:
    rows = demo.rows
    assert rows["crm_leads"] == rows["support_tickets"] == CONTACTS // 2
    assert rows["crm_deals"] == CONTACTS // 10
    assert rows["sync_events"] == CONTACTS
    invoices = _read_billing(demo.paths["billing_invoices"])
    assert invoices.height == rows["billing_invoices"] > rows["billing_customers"]
    assert 0 < (invoices["Status"] == "storniert").mean() < 0.05  # type: ignore[operator]
    invoices = _clean(invoices, demo, "billing_invoices")
    last_month = invoices.with_columns(m=pl.col("Datum").str.slice(3)).group_by("m").len()
    assert last_month.height == 14  # 2025-09 .. 2026-10


def test_people_appear_in_several_systems(demo: DemoSummary) -> None:
    truth = _truth(demo)
    systems = truth.group_by("person_id").agg(pl.col("source").n_unique().alias("n"))
    assert (systems["n"] >= 2).mean() > 0.25  # type: ignore[operator]
    assert (systems["n"] == 3).sum() > 0
    assert demo.people_in_several_systems == (systems["n"] >= 2).sum()
    twice = truth.group_by("source", "person_id").len().filter(pl.col("len") > 1)
    assert set(twice["source"]) == {"crm_contacts", "billing_customers", "support_requesters"}


def test_trap_pairs_are_different_people(demo: DemoSummary) -> None:
    pairs = _read_csv(demo.truth["trap_pairs"])
    assert list(pairs.columns) == ["source_l", "record_id_l", "source_r", "record_id_r", "trap"]
    assert set(pairs["trap"]) == {"namesake", "shared_mailbox", "household"}
    assert all(demo.trap_pairs[kind] > 0 for kind in ("namesake", "shared_mailbox", "household"))
    truth = _truth(demo).select("source", "record_id", "person_id")
    for side in ("l", "r"):
        pairs = pairs.join(
            truth.rename({"source": f"source_{side}", "record_id": f"record_id_{side}",
                          "person_id": f"person_{side}"}),
            on=[f"source_{side}", f"record_id_{side}"],
            how="left",
        )  # fmt: skip
    assert pairs["person_l"].null_count() == pairs["person_r"].null_count() == 0
    assert (pairs["person_l"] != pairs["person_r"]).all()


def test_traps_look_alike_in_the_world() -> None:
    world = build_world(sizes_for(CONTACTS), 42)
    people = world.people
    pairs = world.traps.join(
        people.select(pl.all().name.suffix("_l")), left_on="person_l", right_on="person_idx_l"
    ).join(people.select(pl.all().name.suffix("_r")), left_on="person_r", right_on="person_idx_r")

    def of(kind: str) -> pl.DataFrame:
        return pairs.filter(pl.col("trap") == kind)

    namesakes = of("namesake")
    assert (namesakes["first_name_l"] == namesakes["first_name_r"]).all()
    assert (namesakes["last_name_l"] == namesakes["last_name_r"]).all()
    assert (namesakes["work_email_l"] != namesakes["work_email_r"]).all()
    assert (namesakes["city_idx_l"] != namesakes["city_idx_r"]).all()
    households = of("household")
    for column in ("last_name", "street", "postcode", "city", "subscriber", "area_code"):
        assert (households[f"{column}_l"] == households[f"{column}_r"]).all(), column
    assert (households["first_name_l"] != households["first_name_r"]).all()
    mailboxes = of("shared_mailbox")
    assert (mailboxes["work_email_l"] == mailboxes["work_email_r"]).all()
    assert mailboxes["work_email_l"].str.contains(f"^({'|'.join(business.ROLE_MAILBOXES)})@").all()


# -- formats -------------------------------------------------------------------------
def _salesforce_checksum(id15: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    return "".join(
        alphabet[sum(1 << j for j, ch in enumerate(id15[5 * k : 5 * k + 5]) if ch.isupper())]
        for k in range(3)
    )


def test_crm_exports_look_like_salesforce(demo: DemoSummary) -> None:
    contacts = _read_csv(demo.paths["crm_contacts"])
    assert contacts.columns == [
        "Id", "FirstName", "LastName", "Email", "Phone", "Account.Name", "AccountId", "Title",
        "MailingStreet", "MailingPostalCode", "MailingCity", "MailingCountry", "CreatedDate",
        "LastModifiedDate", "Marketing_Consent__c",
    ]  # fmt: skip
    for name, prefix in (("crm_contacts", "003"), ("crm_accounts", "001"), ("crm_leads", "00Q"),
                         ("crm_deals", "006")):  # fmt: skip
        ids = _clean(_read_csv(demo.paths[name]), demo, name)["Id"].to_list()
        assert all(len(i) == 18 and i.startswith(prefix) for i in ids)
        assert all(i[15:] == _salesforce_checksum(i[:15]) for i in ids)
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    created = contacts["CreatedDate"].str.to_datetime(SF_TIMESTAMP)
    assert created.null_count() == 0
    assert contacts["CreatedDate"].str.ends_with("+0000").all()
    countries = _clean(contacts, demo, "crm_contacts")["MailingCountry"].drop_nulls()
    assert countries.str.contains("^[A-Z]{2}$").all()
    assert contacts["MailingPostalCode"].str.starts_with("0").any()  # leading zeros kept
    leads = _read_csv(demo.paths["crm_leads"])
    offsets = leads["CreatedDate"].str.slice(-5)
    assert (offsets == "+0000").mean() > 0.7  # type: ignore[operator]
    assert offsets.is_in(["-0500", "-0400", "-0700", "-0600"]).any()
    assert leads["CreatedDate"].str.to_datetime(SF_TIMESTAMP).null_count() == 0
    deals = _read_csv(demo.paths["crm_deals"])
    open_deals = deals.filter(~pl.col("StageName").str.starts_with("Closed"))
    assert open_deals["CloseDate"].null_count() == open_deals.height > 0
    assert set(deals["CurrencyIsoCode"]) == {"EUR", "USD", "GBP"}


def test_contacts_are_dirty(demo: DemoSummary) -> None:
    contacts = _read_csv(demo.paths["crm_contacts"])
    phones = contacts["Phone"].drop_nulls()
    assert phones.str.starts_with("+").any() and phones.str.starts_with("00").any()
    assert phones.str.contains(r"^\(").any() and phones.str.contains(r"^\d{3}\.\d{3}\.").any()
    emails = contacts["Email"].drop_nulls()
    assert emails.str.contains(r"\+").any() and emails.str.contains("[A-Z]").any()
    assert contacts["FirstName"].is_in(["Bob", "Bill", "Kate", "Mike", "Tom", "Liz"]).any()
    for column in ("Email", "Phone", "MailingStreet"):
        assert 0 < contacts[column].null_count() < contacts.height / 4
    requesters = json.loads(demo.paths["support_requesters"].read_text("utf-8"))
    organizations = {r["organization"] for r in requesters if r["organization"]}
    assert any(o.isupper() for o in organizations) or any(o.islower() for o in organizations)


def test_billing_is_latin1_semicolon_and_decimal_comma(demo: DemoSummary) -> None:
    raw = demo.paths["billing_customers"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("latin-1")
    assert text.startswith("KundenNr;Kunde;E-Mail;Telefon;Firma;Strasse;PLZ;Ort;Land;Angelegt")
    assert "\r\n" in text and re.search("[äöüéñß]", text)
    customers = _read_billing(demo.paths["billing_customers"])
    assert customers["Kunde"].str.contains(", ").mean() > 0.95  # type: ignore[operator]
    assert customers["Umsatz"].str.contains(GERMAN_AMOUNT.pattern).all()
    assert customers["Umsatz"].str.contains(r"\.").any()  # thousands separator in use
    assert customers["Angelegt"].str.contains(r"^\d{2}\.\d{2}\.\d{4}$").all()
    invoices = _read_billing(demo.paths["billing_invoices"])
    amounts = _clean(invoices, demo, "billing_invoices")["Betrag"]
    assert amounts.null_count() == 0 and amounts.str.contains(GERMAN_AMOUNT.pattern).all()
    assert set(invoices["Status"]) == {"bezahlt", "offen", "storniert"}
    assert set(invoices["KundenNr"]) <= set(customers["KundenNr"])
    older, fx = (_read_csv(path) for path in demo.files["fx_rates"])
    assert older.columns == ["month", "currency", "rate", FX_RENAMED[0]]
    assert fx.columns == ["month", "currency", "rate", FX_RENAMED[1], "published_on"]
    assert older.height + fx.height == demo.rows["fx_rates"]
    assert older.filter(pl.col("currency") == "EUR")["rate"].unique().to_list() == ["1.000000"]
    assert fx.filter(pl.col("currency") == "EUR")["rate"].unique().to_list() == ["1.000000"]


def test_support_exports_are_json(demo: DemoSummary) -> None:
    requesters = json.loads(demo.paths["support_requesters"].read_text("utf-8"))
    assert isinstance(requesters, list) and len(requesters) == demo.rows["support_requesters"]
    assert set(requesters[0]) == {"id", "name", "email", "phone", "organization", "created_at"}
    assert all(isinstance(r["id"], int) and isinstance(r["name"], str) for r in requesters)
    assert sum(" " in r["name"] for r in requesters) > 0.9 * len(requesters)
    lines = demo.paths["support_tickets"].read_text("utf-8").splitlines()
    tickets = [json.loads(line) for line in lines]
    assert len(tickets) == demo.rows["support_tickets"]
    assert any(t["solved_at"] is None for t in tickets)
    assert {t["requester_id"] for t in tickets} <= {r["id"] for r in requesters}
    bad = set(_injected(demo).filter(pl.col("source") == "support_tickets")["row_number"])
    clean = [t for line, t in enumerate(tickets, 1) if line not in bad]
    assert all(t["created_at"].endswith("Z") or t["created_at"][-6] in "+-" for t in clean)


def test_sync_log_is_reproducible_gzip_ndjson(demo: DemoSummary) -> None:
    raw = demo.paths["sync_events"].read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0"  # gzip, no timestamp
    events = _clean(pl.read_ndjson(io.BytesIO(gzip.decompress(raw))), demo, "sync_events")
    assert set(events["status"]) == {"success", "failed"}
    failed = events.filter(pl.col("status") == "failed")
    assert failed["error_code"].null_count() == 0
    assert events.filter(pl.col("status") == "success")["error_code"].null_count() == (
        events.height - failed.height
    )


def test_data_lists_fit_latin1() -> None:
    texts: list[str] = []
    for module in (data, business):
        for value in vars(module).values():
            texts.extend(_strings(value))
    assert texts
    for text in texts:
        text.encode("latin-1")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, tuple | list):
        return [s for item in value for s in _strings(item)]
    return []


# -- the injected invalid rows -------------------------------------------------------
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ALLOWED = {"priority": {"low", "normal", "high", "urgent"}, "status": {"success", "failed"}}
AFFECTED = ("crm_contacts", "crm_deals", "billing_customers", "billing_invoices",
            "support_tickets", "sync_events")  # fmt: skip


def _fails(parse: Callable[[str], object], value: str | None) -> bool:
    if value is None:
        return True
    try:
        parse(value)
    except ValueError:
        return True
    return False


# kind -> is this value (as written) invalid that way?
BAD: dict[str, Callable[[str, str | None], bool]] = {
    "bad_email": lambda f, v: v is not None and not EMAIL.fullmatch(v.strip().lower()),
    "bad_country": lambda f, v: v is not None and not re.fullmatch("[A-Z]{2}", v),
    "impossible_date": lambda f, v: _fails(lambda x: datetime.strptime(x, "%d.%m.%Y"), v),
    "missing_required": lambda f, v: v is None or v == "",
    "bad_currency": lambda f, v: v is None or not re.fullmatch("[A-Z]{3}", v),
    "not_allowed": lambda f, v: v not in ALLOWED[f],
    "not_a_timestamp": lambda f, v: _fails(datetime.fromisoformat, v),
    "negative": lambda f, v: v is not None and float(v) < 0,
}


def _export(demo: DemoSummary, source: str) -> pl.DataFrame:
    """A whole export as text, in file order (one row per data row or NDJSON line)."""
    path = demo.paths[source]
    if source.startswith("billing"):
        return _read_billing(path)
    if ".ndjson" in path.suffixes:
        raw = path.read_bytes()
        frame = pl.read_ndjson(io.BytesIO(gzip.decompress(raw) if path.suffix == ".gz" else raw))
        return frame.with_columns(pl.all().cast(pl.String))
    return _read_csv(path)


def _column(demo: DemoSummary, source: str, field: str) -> str:
    column = load_project(demo.project_dir).config.sources[source].columns[field].from_
    assert column is not None
    return column


def test_injected_errors_are_listed(demo: DemoSummary) -> None:
    injected = _injected(demo)
    assert tuple(injected.columns) == invalid.COLUMNS
    assert set(injected["kind"]) == set(invalid.KINDS)
    assert set(injected["source"]) == set(AFFECTED)
    assert not injected.select("source", "row_number").is_duplicated().any()
    counts = injected.group_by("kind").len()
    assert dict(counts.iter_rows()) == demo.injected_errors
    kinds = {(s, k) for s, k in injected.select("source", "kind").unique().iter_rows()}
    assert kinds == {
        ("crm_contacts", "bad_email"), ("crm_contacts", "duplicate_id"),
        ("crm_contacts", "bad_country"), ("crm_deals", "negative"),
        ("billing_customers", "impossible_date"), ("billing_customers", "bad_email"),
        ("billing_invoices", "missing_required"), ("billing_invoices", "bad_currency"),
        ("billing_invoices", "impossible_date"), ("support_tickets", "not_allowed"),
        ("support_tickets", "not_a_timestamp"), ("sync_events", "negative"),
        ("sync_events", "not_allowed"),
    }  # fmt: skip


@pytest.mark.slow
def test_each_listed_row_holds_its_bad_value(demo: DemoSummary) -> None:
    injected = _injected(demo)
    for source in AFFECTED:
        export = _export(demo, source)
        ids = export[_column(demo, source, "record_id")]
        for row in injected.filter(pl.col("source") == source).iter_rows(named=True):
            at = row["row_number"] - 1
            written = export[_column(demo, source, row["field"])][at]
            assert ids[at] == row["record_id"], row
            assert written == row["value"] or (written in ("", None) and row["value"] is None), row
            if row["kind"] == "duplicate_id":
                assert row["record_id"] in ids.head(at).to_list(), row
            else:
                assert BAD[row["kind"]](row["field"], written), row


def test_rows_not_listed_are_valid(demo: DemoSummary) -> None:
    """Every row not listed passes the checks the listed ones fail: nothing else is broken."""
    injected = _injected(demo)
    for source in AFFECTED:
        export = _clean(_export(demo, source), demo, source)
        kinds = injected.filter(pl.col("source") == source).select("field", "kind").unique()
        for field, kind in kinds.iter_rows():
            values = export[_column(demo, source, field)]
            if kind == "duplicate_id":
                assert values.is_unique().all(), source
            else:
                bad = [v for v in values.to_list() if BAD[kind](field, v)]
                assert not bad, (source, field, kind, bad[:3])


def test_injected_share_is_small(demo: DemoSummary) -> None:
    per_source = dict(_injected(demo).group_by("source").len().iter_rows())
    for source in AFFECTED:
        assert 0.002 <= per_source[source] / demo.rows[source] <= 0.01, source


def test_contacts_truth_marks_injected_records(demo: DemoSummary) -> None:
    truth = _truth(demo)
    assert truth.columns == ["source", "record_id", "person_id", "injected_error"]
    injected = _injected(demo).filter(pl.col("source").is_in(list(truth["source"].unique())))
    marked = truth.filter(pl.col("injected_error").is_not_null())
    assert sorted(marked.select("source", "record_id", "injected_error").rows()) == sorted(
        injected.select("source", "record_id", "kind").rows()
    )
    pairs = _read_csv(demo.truth["trap_pairs"])
    trap_ids = set(pairs["record_id_l"]) | set(pairs["record_id_r"])
    assert not trap_ids & set(injected["record_id"])
    # A reused Id belongs to two people: first the record that owns it, then the invalid one.
    for record_id in marked.filter(pl.col("injected_error") == "duplicate_id")["record_id"]:
        owners = truth.filter(pl.col("record_id") == record_id)
        assert owners["injected_error"].to_list() == [None, "duplicate_id"]
        assert owners["person_id"].n_unique() == 2


def test_every_kind_appears_even_in_a_small_demo(tmp_path: Path) -> None:
    summary = generate_demo(tmp_path, contacts=400, seed=5)
    assert set(summary.injected_errors) == set(invalid.KINDS)
    assert min(summary.injected_errors.values()) >= 1


# -- the injected effects ------------------------------------------------------------
def _cells(frame: pl.DataFrame, value: pl.Expr) -> dict[tuple[str, bool], float]:
    """``value`` per segment and before/after launch."""
    rows = frame.group_by("Segment", "post").agg(value).rows()
    return {(segment, post): v for segment, post, v in rows}


def test_lead_response_effect_is_visible_in_the_raw_export(demo: DemoSummary) -> None:
    leads = _read_csv(demo.paths["crm_leads"]).with_columns(
        created=pl.col("CreatedDate").str.to_datetime(SF_TIMESTAMP),
        responded=pl.col("First_Response__c").str.to_datetime(SF_TIMESTAMP),
    )
    leads = leads.with_columns(
        hours=(pl.col("responded") - pl.col("created")).dt.total_seconds() / 3600,
        post=pl.col("created") >= pl.lit(demo.launch_date).cast(pl.Datetime("us", "UTC")),
    ).drop_nulls("hours")
    m = _cells(leads, pl.col("hours").median())
    assert 14 < m["control", False] < 26  # baseline median about 20 h
    assert m["canary", True] < 0.8 * m["canary", False]
    assert 0.8 < m["control", True] / m["control", False] < 1.25

    effects = json.loads(demo.truth["effects"].read_text("utf-8"))
    assert effects["launch_date"] == "2026-05-01" == demo.launch_date.isoformat()
    lead_effect = next(e for e in effects["effects"] if e["source"] == "crm_leads")
    assert lead_effect["multiplier"] == 0.6
    assert {e["source"] for e in effects["effects"]} >= {"crm_leads", "sync_events"}


def test_sync_failure_effect_is_visible(demo: DemoSummary) -> None:
    events = pl.read_ndjson(io.BytesIO(gzip.decompress(demo.paths["sync_events"].read_bytes())))
    events = events.with_columns(
        failed=pl.col("status") == "failed", post=pl.col("ts") >= "2026-05-01"
    ).rename({"segment": "Segment"})
    rates = _cells(events, pl.col("failed").mean())
    assert rates["canary", True] < 0.6 * rates["canary", False]
    assert 0.5 < rates["control", True] / rates["control", False] < 2.0
