"""Content packs: the CRM content is declared in its pack, the engine runs without it.

A project of another domain (``pack: none``, its own dictionary of members, orders and
payments) goes through ingest, validation and metrics; its reports say why the pack
sections are empty; the reconciliation and ROI volume code, given declarations of that
domain, computes totals checked here by hand.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.errors import ConfigError
from workbench.packs import (
    AccountKey,
    Ledger,
    Reconciliation,
    RowFilter,
    Volume,
    load_pack,
    pack_names,
)
from workbench.pipeline import run_pipeline
from workbench.quality.reconcile import reconcile
from workbench.report import data_quality, duplicates, governance
from workbench.report.context import ReportContext
from workbench.report.display import NoData
from workbench.roi import inputs

ENGINE = Path(__file__).parents[1] / "workbench"
CRM_OBJECTS = ("contacts", "companies", "leads", "deals", "tickets", "invoices", "sync_events")

DICTIONARY = """
objects:
  members:
    fields:
      record_id: {type: text, required: true, unique: true}
      full_name: {type: text, pii: contact, identity: name}
      email: {type: email, pii: contact, identity: email}
      joined_at: {type: timestamp}
  orders:
    fields:
      record_id: {type: text, required: true, unique: true}
      member_id: {type: text, rules: {references: members.record_id}}
      state: {type: text, rules: {allowed: [booked, cancelled]}}
      total: {type: decimal}
      ordered_at: {type: timestamp, required: true}
  payments:
    fields:
      record_id: {type: text, required: true, unique: true}
      member_id: {type: text}
      state: {type: text}
      paid: {type: decimal}
      paid_on: {type: date}
"""

CONFIG = """
name: club
pack: none
dictionary: dictionary.yaml
sources:
  shop_members:
    system: shop
    object: members
    path: members.csv
    columns: {record_id: id, full_name: name, email: mail, joined_at: joined}
  shop_orders:
    system: shop
    object: orders
    path: orders.csv
    columns: {record_id: id, member_id: member, state: state, total: total, ordered_at: at}
  bank_payments:
    system: bank
    object: payments
    path: payments.csv
    columns: {record_id: id, member_id: member, state: state, paid: paid, paid_on: day}
kpi:
  definitions:
    order_value:
      title: Mean order value
      direction: up
      object: orders
      time: ordered_at
      measure: total
      stat: mean
"""

FILES = {
    "dictionary.yaml": DICTIONARY,
    "members.csv": """\
        id,name,mail,joined
        M1,Ann Lee,ann@example.org,2026-01-02T10:00:00Z
        M2,Bo Berg,bo@example.org,2026-01-05T10:00:00Z
        """,
    "orders.csv": """\
        id,member,state,total,at
        O1,M1,booked,100,2026-01-10T09:00:00Z
        O2,M1,booked,60,2026-02-03T09:00:00Z
        O3,M2,cancelled,999,2026-02-04T09:00:00Z
        O4,M2,booked,40,2026-02-20T09:00:00Z
        """,
    "payments.csv": """\
        id,member,state,paid,day
        P1,M1,settled,100,2026-01-12
        P2,M1,settled,60,2026-02-05
        P3,M2,refunded,40,2026-02-22
        P4,M2,,25,2026-03-01
        P5,M9,settled,7,2026-03-02
        P6,M1,settled,3,
        """,
}


@pytest.fixture
def club(make_project, store_of):
    project = make_project(CONFIG, FILES)
    store = store_of(project)
    result = run_pipeline(project, store)
    return project, store, result


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants of a module that are not docstrings, with their lines."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_the_engine_names_no_crm_object_outside_the_pack():
    """Engine code neither names a CRM object as a value nor reads one in SQL; the CRM
    pack (and the demo that generates CRM exports, and the benchmarks) may."""
    named = re.compile(rf"core\.(?:{'|'.join(CRM_OBJECTS)})\b")
    found = []
    for path in sorted(ENGINE.rglob("*.py")):
        part = path.relative_to(ENGINE).parts[0]
        if part in ("packs", "demo", "bench"):
            continue
        for line, text in _strings(ast.parse(path.read_text(encoding="utf-8"))):
            if text in CRM_OBJECTS or named.search(text):
                found.append(f"{path.relative_to(ENGINE)}:{line}: {text[:60]!r}")
    assert found == []


def _field_or_base(fields: dict, name: str) -> bool:
    """A dictionary field, or the base-currency column of a money field (``amount_base``)."""
    if name in fields:
        return True
    money = name.removesuffix("_base")
    return name.endswith("_base") and money in fields and fields[money].currency_field is not None


def test_every_entry_of_a_shipped_pack_names_a_field_of_its_dictionary():
    from workbench.dictionary import load_dictionary

    checked = 0
    for name in pack_names():
        pack = load_pack(name)
        if pack.dictionary_path is None:
            continue
        objects = load_dictionary(None, pack.dictionary_path).objects
        uses: list[tuple[str, str]] = []
        if pack.person_object:
            uses.append((pack.person_object, "record_id"))
        if pack.event_log:
            log = pack.event_log
            named = (*log.fields(), log.event, log.source, log.target)
            uses += [(log.object, f) for f in named if f]
        if pack.reconciliation:
            for side in (pack.reconciliation.left, pack.reconciliation.right):
                uses += [(side.object, side.date), (side.object, side.amount)]
                uses += [(side.object, side.filter.field)] if side.filter else []
                if side.account:
                    a = side.account
                    uses += [(side.object, a.ref), (a.via, a.key), (a.via, a.name)]
        for volume in pack.roi.model_dump(exclude_none=True):
            v = getattr(pack.roi, volume)
            uses += [(v.object, f) for f in (v.time, v.per, v.amount) if f]
        for obj, field in uses:
            assert obj in objects, f"pack {name}: object {obj} is not in its dictionary"
            assert _field_or_base(objects[obj].fields, field), f"pack {name}: {obj}.{field}"
            checked += 1
    assert checked >= 20  # the CRM pack's entries were all looked at


def test_a_project_without_a_pack_runs_on_its_own_dictionary(club):
    project, store, result = club
    assert project.pack.name == "none"
    assert set(project.dictionary.objects) == {"members", "orders", "payments"}
    assert {r[0]: r[1] for r in store.rows("SELECT source, rows_read FROM meta.loads")} == {
        "shop_members": 2,
        "shop_orders": 4,
        "bank_payments": 6,
    }
    assert result.resolution is None  # no object of people is declared
    assert not store.has_rows("dq", "reconciliation")
    metrics = {r[0] for r in store.rows("SELECT DISTINCT metric FROM dq.metrics")}
    assert "sync_failure_rate" not in metrics and "quarantine_rate" in metrics
    # the engine's data-quality KPI and the project's own; none of the CRM pack's
    assert set(project.kpis()) == {"missing_mandatory_rate", "order_value"}
    with pytest.raises(ConfigError, match="no object whose records are people"):
        project.person_object()


def test_without_a_pack_the_report_sections_say_why_they_are_empty(club):
    project, store, _ = club
    ctx = ReportContext(project, "2026-02", datetime(2026, 2, 1), datetime(2026, 3, 1), True, store)
    [levels] = governance.service_levels(ctx)
    assert isinstance(levels, NoData) and "declares no event log" in levels
    ledgers = data_quality.reconciliation(ctx)
    assert isinstance(ledgers, NoData) and "no two ledgers" in ledgers
    rates = duplicates.rates_table(ctx)
    assert isinstance(rates, NoData) and "pack names no object of people" in rates


def test_the_reconciliation_follows_the_declared_ledgers(club):
    _, store, _ = club
    spec = Reconciliation(
        title="orders against payments",
        left=Ledger(
            label="orders booked",
            object="orders",
            date="ordered_at",
            amount="total",
            filter=RowFilter(field="state", **{"in": ("booked",)}),
        ),
        right=Ledger(
            label="payments kept",
            object="payments",
            date="paid_on",
            amount="paid",
            filter=RowFilter(field="state", not_in=("refunded",)),
        ),
    )
    assert reconcile(store, 999, spec) == 4
    rows = {
        r[0]: tuple(float(v) for v in r[1:])
        for r in store.rows(
            "SELECT key, crm_count, crm_amount, billing_count, billing_amount, amount_diff "
            "FROM dq.reconciliation WHERE run_id = 999 AND level = 'month'"
        )
    }
    # booked orders: Jan O1 100; Feb O2 60 + O4 40 (O3 cancelled). Payments not refunded
    # (an empty state counts): Jan P1 100; Feb P2 60 (P3 refunded); Mar P4 25 + P5 7;
    # P6 has no date: kept under its own key, so the months add up to the ledger
    assert rows == {
        "2026-01": (1, 100, 1, 100, 0),
        "2026-02": (2, 100, 1, 60, -40),
        "2026-03": (0, 0, 2, 32, 32),
        "(no date)": (0, 0, 1, 3, 3),
    }


def test_account_totals_keep_the_rows_of_no_known_account(club):
    _, store, _ = club
    by_member = AccountKey(via="members", ref="member_id", name="full_name")
    spec = Reconciliation(
        title="orders against payments per member",
        left=Ledger(label="orders", object="orders", date="ordered_at", amount="total",
                    account=by_member),
        right=Ledger(label="payments", object="payments", date="paid_on", amount="paid",
                     account=by_member),
    )  # fmt: skip
    reconcile(store, 998, spec)
    accounts = {
        r[0]: (float(r[1]), float(r[2]))
        for r in store.rows(
            "SELECT key, crm_amount, billing_amount FROM dq.reconciliation "
            "WHERE run_id = 998 AND level = 'account'"
        )
    }
    # Ann: orders 100 + 60, payments 100 + 60 + 3; Bo: 999 + 40 against 40 + 25;
    # P5's member M9 is unknown: its 7 stays, under "(no account)"
    assert accounts == {
        "ann lee": (160.0, 163.0),
        "bo berg": (1039.0, 65.0),
        "(no account)": (0.0, 7.0),
    }


def test_roi_volumes_follow_the_declared_rows(club):
    _, store, _ = club
    booked = RowFilter(field="state", **{"in": ("booked",)})
    jan, apr = datetime(2026, 1, 1), datetime(2026, 4, 1)
    orders = Volume(object="orders", time="ordered_at", filter=booked)
    # three booked orders over three months; their mean total (100 + 60 + 40) / 3
    assert inputs.monthly_count(store, orders, jan, apr) == pytest.approx(1.0)
    value = Volume(object="orders", time="ordered_at", amount="total", filter=booked)
    assert inputs.mean_amount(store, value, jan, apr) == pytest.approx(200 / 3)
    # members with a booked order: Jan {M1}, Feb {M1, M2}: 1.5 per month with orders
    buyers = Volume(object="orders", time="ordered_at", per="member_id", filter=booked)
    assert inputs.monthly_distinct(store, buyers, jan, apr) == pytest.approx(1.5)
    # an object that is not loaded measures nothing
    assert inputs.monthly_count(store, Volume(object="leads", time="created_at"), jan, apr) == 0


def test_an_unknown_pack_and_a_pack_without_a_dictionary_are_config_errors(
    make_project, tmp_path, capsys
):
    with pytest.raises(ConfigError) as err:
        make_project("pack: erp\n")
    text = str(err.value)
    assert "line 1" in text and "key pack" in text and "crm" in text
    (tmp_path / "workbench.yaml").write_text("pack: none\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="pack ships none"):
        load_project(tmp_path)
    assert main(["kpi", "list", "--project", str(tmp_path)]) == 2
    assert "dictionary" in capsys.readouterr().err


def test_erasure_needs_an_object_of_people(club, capsys):
    project, store, _ = club
    store.close()
    code = main(["erase", "--email", "ann@example.org", "--project", str(project.root)])
    assert code == 2
    assert "no object whose records are people" in capsys.readouterr().err


@pytest.mark.slow
def test_every_report_renders_for_a_project_without_a_pack(club, tmp_path):
    project, store, _ = club
    store.close()
    out = tmp_path / "reports"
    args = ["report", "all", "--period", "2026-02", "--project", str(project.root)]
    assert main([*args, "--out", str(out)]) == 0
    pages = {p.parent.parent.name: p.read_text(encoding="utf-8") for p in out.glob("*/*/*.html")}
    assert set(pages) == {"data_quality", "duplicates", "kpi_baseline", "roi", "governance_review"}
    assert "declares no event log" in pages["governance_review"]
    assert "no two ledgers to reconcile" in pages["data_quality"]
    assert "Nothing has been resolved: the project's pack names no object" in pages["duplicates"]
    assert "Mean order value" in pages["kpi_baseline"]
