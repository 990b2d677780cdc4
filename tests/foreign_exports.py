"""Exports shaped like systems the demo does not imitate: HubSpot, Stripe and Freshdesk.

:func:`write_project` writes a project folder whose ``workbench.yaml`` maps them by
configuration alone, and returns the :class:`Truth` the files were written from, so that
tests can compute what the pipeline must find without running Workbench's code.

The shapes, as those systems' API exports have them:

* HubSpot (crm): a JSON array of ``{"id", "properties": {...}}`` objects, epoch-millisecond
  timestamps, deals whose ``dealstage`` codes map to won/lost/open;
* Stripe (billing): customers as a CSV with mixed CRLF/LF line ends and epoch-second
  ``created``; invoices as NDJSON with amounts in minor units (cents; yen have none),
  lower-case currency codes and nested ``lines``/``metadata`` objects;
* Freshdesk (support): contacts whose ``name`` is often the email's local part
  (``anna.obrien``), tickets with numeric status, priority and source codes and a nested
  ``stats`` object.

Names carry apostrophes, hyphens and accents. A few values are deliberately wrong (an
unreadable email or date in an optional field, a future timestamp, a duplicated id, a
ragged CSV line) and listed in :attr:`Truth.faults`.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

FIRST = [
    "Seán",
    "Anna",
    "José",
    "Zoë",
    "Mary-Jane",
    "D'Arcy",
    "Jean-Luc",
    "Ólafur",
    "Priya",
    "Kenji",
    "Fatima",
    "Liam",
    "Chloé",
    "Björn",
    "Grace",
    "Mateo",
    "Aoife",
    "Tomás",
    "Ingrid",
    "Noah",
    "Amélie",
    "Yusuf",
    "Hannah",
    "Luca",
    "Sofía",
    "Oscar",
]
LAST = [
    "O'Brien",
    "Müller",
    "García",
    "D'Angelo",
    "Smith-Jones",
    "St. John",
    "McDonald",
    "Nguyễn",
    "Øster",
    "van der Berg",
    "Okafor",
    "L'Estrange",
    "Kowalski",
    "Rossi",
    "Tanaka",
    "Ó Súilleabháin",
    "Dubois",
    "Schmidt",
    "Jensen",
    "Haddad",
]
COMPANIES = [
    "Acme Ltd",
    "Globex GmbH",
    "Initech Inc.",
    "Umbrella S.A.",
    "Stark & Co",
    "Wayne Enterprises",
    "Soylent Corp",
    "Hooli",
    "Vandelay Industries",
]
COUNTRIES = {
    "IE": "+353 1 {} {}",
    "DE": "+49 30 {}{}",
    "US": "+1 415 55{} {}",
    "FR": "+33 1 4{} {}",
    "JP": "+81 3 {} {}",
}
REGIONS = {"IE": "EMEA", "DE": "EMEA", "FR": "EMEA", "US": "NA", "JP": "APAC"}
PLANS = {"eur": [4900, 12900, 29900], "usd": [5900, 14900], "jpy": [6000, 15000]}
FX = {"USD": 0.9, "JPY": 0.006}  # EUR per unit, every month
MONTHS = [date(2025, 11, 1) + timedelta(days=31 * i) for i in range(13)]
MONTHS = [m.replace(day=1) for m in MONTHS]  # 2025-11 .. 2026-11
FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
TICKET_STATUS = {2: "open", 3: "pending", 4: "solved", 5: "closed"}
TICKET_PRIORITY = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
TICKET_SOURCE = {1: "email", 2: "web", 3: "phone", 7: "chat", 9: "web", 10: "email"}

CONFIG = """\
# HubSpot, Stripe and Freshdesk exports, mapped by configuration alone.
name: foreign shapes
base_currency: EUR
kpi: {launch_date: 2026-06-01, baseline_months: 6}
quality:
  blocking: {quarantine_rate: 0.2}
sources:
  hubspot_contacts:
    system: crm
    object: contacts
    path: exports/hubspot/contacts.json
    columns:
      record_id: id
      first_name: properties.firstname
      last_name: properties.lastname
      email: properties.email
      phone: properties.phone
      company_name: properties.company
      country: properties.country
      created_at: {from: properties.createdate, format: epoch_ms}
      updated_at: {from: properties.lastmodifieddate, format: epoch_ms}
  hubspot_deals:
    system: crm
    object: deals
    path: exports/hubspot/deals.json
    columns:
      record_id: id
      name: properties.dealname
      stage: properties.dealstage
      status: {from: properties.dealstage, map: {closedwon: won, closedlost: lost, "*": open}}
      amount: properties.amount
      currency: properties.deal_currency_code
      created_at: {from: properties.createdate, format: epoch_ms}
      closed_at: {from: properties.closedate, format: epoch_ms}
  stripe_customers:
    system: billing
    object: contacts
    path: exports/stripe/customers.csv
    columns:
      record_id: id
      first_name: {from: name, name_part: first}
      last_name: {from: name, name_part: last}
      email: email
      phone: phone
      country: {from: address_country, case: upper}
      created_at: {from: created, format: epoch}
  stripe_invoices:
    system: billing
    object: invoices
    path: exports/stripe/invoices.ndjson
    columns:
      record_id: id
      customer_id: customer
      invoice_date: {from: created, format: epoch}
      amount: {from: amount_due, minor_units: true}
      currency: currency
      status: {from: status, map: {uncollectible: open, draft: open}}
      region: metadata.region
      segment: metadata.rollout
  fx_rates:
    system: finance
    object: fx_rates
    path: exports/finance/fx_rates.csv
    columns: {month: month, currency: currency, rate: rate}
  freshdesk_contacts:
    system: support
    object: contacts
    path: exports/freshdesk/contacts.csv
    columns:
      record_id: id
      first_name: {from: name, email_local: true, name_part: first}
      last_name: {from: name, email_local: true, name_part: last}
      email: email
      phone: phone
      created_at: created_at
  freshdesk_tickets:
    system: support
    object: tickets
    path: exports/freshdesk/tickets.json
    columns:
      record_id: id
      contact_id: requester_id
      subject: subject
      status: {from: status, map: {2: open, 3: pending, 4: solved, 5: closed}}
      priority: {from: priority, map: {1: low, 2: normal, 3: high, 4: urgent}}
      channel: {from: source, map: {1: email, 2: web, 3: phone, 7: chat, 9: web, 10: email}}
      region: custom_fields.cf_region
      segment: custom_fields.cf_rollout
      created_at: created_at
      first_response_at: stats.first_responded_at
      solved_at: stats.resolved_at
"""
ROI = """\
# What the integration cost and what it is meant to return (amounts in EUR).
horizon_months: 24
discount_rate: 0.08
costs:
  one_time: [{name: Stripe and Freshdesk connectors, amount: 30000}]
  recurring: [{name: iPaaS licence, amount_per_month: 900}]
value_drivers:
  - {name: Fewer customers lost, type: churn_reduction}
  - {name: No more copying tickets into the CRM, type: hours_saved, hours_per_month: 30,
     hourly_rate: 45}
"""


@dataclass
class Truth:
    """What was written, in plain Python values."""

    people: list[dict] = field(default_factory=list)
    # per contact source: the record ids written (in file order, duplicates included)
    contact_ids: dict[str, list[str]] = field(default_factory=dict)
    # rows per source as the file holds them (a ragged CSV line included)
    rows: dict[str, int] = field(default_factory=dict)
    invoices: list[dict] = field(default_factory=list)  # id, customer, month, amount_eur, status
    tickets: list[dict] = field(default_factory=list)  # id, created, first_response, solved
    deals: list[dict] = field(default_factory=list)  # id, status, created, closed
    faults: dict[str, str] = field(default_factory=dict)  # "source:id" -> what is wrong


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(rng: random.Random, month: date) -> datetime:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    return start + timedelta(seconds=rng.randrange(27 * 86400))


def _people(rng: random.Random, n: int) -> list[dict]:
    people = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        country = rng.choice(list(COUNTRIES))
        local = f"{first}.{last}".lower()
        local = "".join(c for c in local if c.isascii() and (c.isalnum() or c == "."))
        domain = rng.choice(["gmail.com", "outlook.com", "acme.io", "globex.de", "hooli.com"])
        digits = f"{rng.randrange(100, 999)}", f"{rng.randrange(1000, 9999)}"
        people.append(
            {
                "i": i,
                "first": first,
                "last": last,
                "email": f"{local}{i}@{domain}",
                "phone": COUNTRIES[country].format(*digits),
                "country": country,
                "company": rng.choice(COMPANIES),
                "created": _moment(rng, rng.choice(MONTHS[:6])),
                "rollout": "canary" if i % 2 else "control",
            }
        )
    return people


def write_project(root: Path, *, people: int = 240, seed: int = 7) -> Truth:
    """Write the exports and ``workbench.yaml`` into ``root``; return what they hold."""
    rng = random.Random(seed)
    truth = Truth(people=_people(rng, people))
    exports = root / "exports"
    for sub in ("hubspot", "stripe", "freshdesk", "finance"):
        (exports / sub).mkdir(parents=True, exist_ok=True)
    (root / "workbench.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "roi.yaml").write_text(ROI, encoding="utf-8")
    _hubspot(rng, truth, exports / "hubspot")
    _stripe(rng, truth, exports / "stripe")
    _freshdesk(rng, truth, exports / "freshdesk")
    rates = ["month,currency,rate"]
    rates += [f"{m.isoformat()},{c},{r}" for m in MONTHS for c, r in FX.items()]
    (exports / "finance" / "fx_rates.csv").write_text("\n".join(rates) + "\n")
    truth.rows["fx_rates"] = len(rates) - 1
    return truth


def _hubspot(rng: random.Random, truth: Truth, folder: Path) -> None:
    contacts, ids = [], []
    for p in truth.people:
        if rng.random() > 0.8:
            continue
        rid = str(1000 + p["i"])
        email = p["email"].upper() if rng.random() < 0.2 else p["email"]
        props = {
            "firstname": p["first"],
            "lastname": p["last"],
            "email": email,
            "phone": p["phone"],
            "company": p["company"],
            "country": p["country"],
            "createdate": _ms(p["created"]),
            "lastmodifieddate": _ms(p["created"] + timedelta(days=3)),
            "hs_lead_status": rng.choice(["NEW", "OPEN", "IN_PROGRESS", None]),
        }
        contacts.append(
            {
                "id": rid,
                "properties": props,
                "archived": False,
                "associations": {"companies": {"results": [{"id": "77", "type": "primary"}]}},
            }
        )
        ids.append(rid)
    # faults in optional fields: the person is still real and must still be resolved
    contacts[0]["properties"]["email"] = "not-an-email"
    truth.faults[f"hubspot_contacts:{contacts[0]['id']}"] = "email"
    contacts[1]["properties"]["createdate"] = _ms(FUTURE)
    truth.faults[f"hubspot_contacts:{contacts[1]['id']}"] = "created_at in the future"
    contacts[2]["properties"]["lastmodifieddate"] = "yesterday"
    truth.faults[f"hubspot_contacts:{contacts[2]['id']}"] = "updated_at unreadable"
    (folder / "contacts.json").write_text(json.dumps(contacts, ensure_ascii=False, indent=1))
    truth.contact_ids["hubspot_contacts"] = ids
    truth.rows["hubspot_contacts"] = len(contacts)

    deals = []
    stages = ["closedwon", "closedlost", "appointmentscheduled", "contractsent"]
    for n in range(160):
        created = _moment(rng, rng.choice(MONTHS[:12]))
        stage = rng.choice(stages)
        closed = (
            created + timedelta(days=rng.randrange(5, 60)) if stage.startswith("closed") else None
        )
        status = {"closedwon": "won", "closedlost": "lost"}.get(stage, "open")
        if closed is not None and closed > datetime(2026, 11, 28, tzinfo=UTC):
            closed = datetime(2026, 11, 28, tzinfo=UTC)
        deals.append(
            {
                "id": str(9000 + n),
                "properties": {
                    "dealname": f"{rng.choice(COMPANIES)} – renewal {n}",
                    "dealstage": stage,
                    "amount": f"{rng.randrange(1000, 50000)}.{rng.randrange(0, 99):02d}",
                    "deal_currency_code": "EUR",
                    "createdate": _ms(created),
                    "closedate": _ms(closed) if closed else None,
                    "pipeline": "default",
                },
            }
        )
        truth.deals.append(
            {"id": str(9000 + n), "status": status, "created": created, "closed": closed}
        )
    (folder / "deals.json").write_text(json.dumps(deals, ensure_ascii=False))
    truth.rows["hubspot_deals"] = len(deals)


def _stripe(rng: random.Random, truth: Truth, folder: Path) -> None:
    header = [
        "id",
        "email",
        "name",
        "phone",
        "created",
        "address_country",
        "currency",
        "description",
    ]
    lines, ids, customers = [",".join(header)], [], []
    for p in truth.people:
        if rng.random() > 0.5:
            continue
        cid = f"cus_{p['i']:04d}{rng.choice('ABCDEFGH')}x"
        currency = {"US": "usd", "JP": "jpy"}.get(p["country"], "eur")
        email = p["email"].replace("@", "+billing@") if rng.random() < 0.3 else p["email"]
        row = [
            cid,
            email,
            f"{p['first']} {p['last']}",
            p["phone"].replace(" ", ""),
            str(int(p["created"].timestamp()) + 3600),
            p["country"].lower(),
            currency,
            "Customer for " + p["company"],
        ]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(row)
        lines.append(buf.getvalue())
        ids.append(cid)
        customers.append((cid, p, currency))
    truth.faults[f"stripe_customers:{ids[3]}"] = "duplicate id"
    lines.insert(6, lines[4])  # the same customer twice: the later copy is quarantined
    ids.insert(5, ids[3])
    lines.insert(9, "cus_broken,only,three")  # a ragged line: set aside by ingest
    truth.rows["stripe_customers"] = len(lines) - 1
    # mixed line ends: most CRLF, some LF
    text = "".join(line + ("\n" if i % 3 == 0 else "\r\n") for i, line in enumerate(lines))
    (folder / "customers.csv").write_bytes(text.encode("utf-8"))
    truth.contact_ids["stripe_customers"] = ids

    out = []
    for cid, p, currency in customers:
        plan = rng.choice(PLANS[currency])
        start = rng.randrange(0, 6)
        end = rng.randrange(start + 2, 14)  # churned before the last month, or not
        for m in MONTHS[start:end]:
            status = rng.choices(["paid", "open", "void", "uncollectible"], [80, 10, 5, 5])[0]
            iid = f"in_{len(out):05d}"
            moment = datetime(m.year, m.month, 2, 9, tzinfo=UTC) + timedelta(hours=p["i"] % 24)
            out.append(
                {
                    "id": iid,
                    "object": "invoice",
                    "customer": cid,
                    "customer_email": p["email"],
                    "amount_due": plan,
                    "amount_paid": plan if status == "paid" else 0,
                    "currency": currency,
                    "created": int(moment.timestamp()),
                    "status": status,
                    "lines": {"object": "list", "data": [{"amount": plan, "plan": "pro"}]},
                    "metadata": {"region": REGIONS[p["country"]], "rollout": p["rollout"]},
                }
            )
            digits = 0 if currency == "jpy" else 2
            amount = plan / 10**digits
            eur = amount * FX.get(currency.upper(), 1.0)
            truth.invoices.append(
                {
                    "id": iid,
                    "customer": cid,
                    "month": m,
                    "amount_eur": eur,
                    "status": {"uncollectible": "open"}.get(status, status),
                }
            )
    text = "\n".join(json.dumps(r) for r in out) + "\n"
    (folder / "invoices.ndjson").write_text(text)
    truth.rows["stripe_invoices"] = len(out)


def _freshdesk(rng: random.Random, truth: Truth, folder: Path) -> None:
    header = ["id", "name", "email", "phone", "mobile", "created_at", "updated_at"]
    rows, ids, requesters = [header], [], []
    for p in truth.people:
        if rng.random() > 0.45:
            continue
        rid = str(70000 + p["i"])
        local = p["email"].split("@")[0]
        name = local if rng.random() < 0.6 else f"{p['first']} {p['last']}"
        phone = p["phone"] if rng.random() < 0.5 else ""
        created = p["created"] + timedelta(days=rng.randrange(1, 40))
        rows.append([rid, name, p["email"], phone, "", _iso(created), _iso(created)])
        ids.append(rid)
        requesters.append(rid)
    rows[2][2] = "anna@@broken"  # an invalid optional email
    truth.faults[f"freshdesk_contacts:{rows[2][0]}"] = "email"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    (folder / "contacts.csv").write_text(buf.getvalue(), newline="")
    truth.contact_ids["freshdesk_contacts"] = ids
    truth.rows["freshdesk_contacts"] = len(rows) - 1

    tickets = []
    for n in range(300):
        created = _moment(rng, rng.choice(MONTHS[:12]))
        first = created + timedelta(minutes=rng.randrange(5, 3000)) if rng.random() < 0.9 else None
        status = rng.choice([2, 3, 4, 5, 4, 5])
        solved = created + timedelta(hours=rng.randrange(1, 200)) if status in (4, 5) else None
        source = rng.choice(list(TICKET_SOURCE))
        tickets.append(
            {
                "id": 500 + n,
                "requester_id": int(rng.choice(requesters)),
                "subject": rng.choice(
                    [
                        "Can't log in",
                        "Invoice isn't right",
                        "Café order",
                        'Quote "urgent"',
                        "Refund; please",
                    ]
                ),
                "status": status,
                "priority": rng.randrange(1, 5),
                "source": source,
                "created_at": _iso(created),
                "updated_at": _iso(solved or created),
                "stats": {
                    "first_responded_at": _iso(first) if first else None,
                    "resolved_at": _iso(solved) if solved else None,
                },
                "custom_fields": {
                    "cf_region": rng.choice(["EMEA", "NA", "APAC"]),
                    "cf_rollout": rng.choice(["canary", "control"]),
                },
                "tags": ["billing"] if n % 4 == 0 else [],
            }
        )
        truth.tickets.append(
            {"id": str(500 + n), "created": created, "first_response": first, "solved": solved}
        )
    tickets[5]["created_at"] = _iso(FUTURE)  # a required timestamp in the future: quarantined
    truth.tickets[5]["created"] = FUTURE
    truth.faults[f"freshdesk_tickets:{tickets[5]['id']}"] = "created_at in the future"
    (folder / "tickets.json").write_text(json.dumps(tickets, ensure_ascii=False))
    truth.rows["freshdesk_tickets"] = len(tickets)
