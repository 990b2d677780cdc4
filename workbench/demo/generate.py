"""Generate a demo project: the exports, the ground truth and ``workbench.yaml``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources
from pathlib import Path

import polars as pl

from workbench.demo import billing, crm, integration, invalid, support
from workbench.demo.effects import EFFECTS, effects_document, observed_effects
from workbench.demo.sizes import Sizes, assign_records, sizes_for
from workbench.demo.timeline import window_dates
from workbench.demo.truth import TRAP_KINDS, contacts_truth, trap_pairs
from workbench.demo.world import World, build_world
from workbench.demo.writers import (
    write_bytes,
    write_csv,
    write_json,
    write_json_array,
    write_ndjson,
)

CONFIG_TEMPLATE = "project.yaml"
ROI_TEMPLATE = "roi.yaml"
DICTIONARY_TEMPLATE = "dictionary.yaml"  # the project's additions to the shipped dictionary
STEPS = ("people", "crm exports", "billing exports", "support exports", "sync events", "truth",
         "config")  # fmt: skip
EXPORT_PATHS = {
    "crm_contacts": "exports/crm/contacts.csv",
    "crm_accounts": "exports/crm/accounts.csv",
    "crm_leads": "exports/crm/leads.csv",
    "crm_deals": "exports/crm/opportunities.csv",
    "billing_customers": "exports/billing/customers.csv",
    "billing_invoices": "exports/billing/invoices.csv",
    "fx_rates": billing.FX_FILES[-1],  # the newest of its files (see EARLIER_EXPORTS)
    "support_requesters": "exports/support/requesters.json",
    "support_tickets": "exports/support/tickets.ndjson",
    "sync_events": "exports/integration/sync_events.ndjson.gz",
}
EARLIER_EXPORTS = {"fx_rates": billing.FX_FILES[:-1]}
"""Sources with more than one file (append mode): their files before the newest."""
TRUTH_PATHS = {
    "contacts": "truth/contacts_truth.csv",
    "trap_pairs": "truth/trap_pairs.csv",
    "effects": "truth/effects.json",
    "injected_errors": "truth/injected_errors.csv",
}


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate_demo` wrote.

    Attributes:
        project_dir: the project folder.
        config_path: its ``workbench.yaml``.
        seed, contacts: the arguments the demo was made with.
        people: distinct people behind the contact records.
        people_in_several_systems: people with contact records in two or three systems.
        launch_date, window_start, window_end: the rollout date and the activity window
            (first and last day).
        rows: rows (records) per source name, e.g. ``rows["crm_contacts"]``.
        paths: export file per source name (the newest, for a source with several).
        files: every export file per source name, oldest first (fx_rates has two, one
            per year, whose columns differ: see :func:`billing.fx_rate_files`).
        truth: ``contacts``, ``trap_pairs``, ``effects`` and ``injected_errors`` files of
            the ground truth.
        trap_pairs: trap record pairs per kind (namesake, household, shared_mailbox).
        injected_errors: rows made invalid on purpose, per kind (see
            ``truth/injected_errors.csv``).
    """

    project_dir: Path
    config_path: Path
    seed: int
    contacts: int
    people: int
    people_in_several_systems: int
    launch_date: date
    window_start: date
    window_end: date
    rows: dict[str, int]
    paths: dict[str, Path]
    truth: dict[str, Path]
    trap_pairs: dict[str, int]
    injected_errors: dict[str, int] = field(default_factory=dict)
    files: dict[str, list[Path]] = field(default_factory=dict)


def generate_demo(
    project_dir: Path,
    *,
    contacts: int = 5000,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Write a complete demo project into ``project_dir``.

    A B2B company's CRM, billing system and support desk hold overlapping, dirty records
    of the same people (typos, nicknames, stripped accents, phone formats, company
    spellings, duplicates within and across systems) and traps that must not be merged
    (namesakes, shared role mailboxes, family members at one address). Activity runs from
    2025-09-01 to 2026-10-31. The rollout is staggered: on 2026-05-01 the ``canary``
    segment (about 30%) gets the integration, on 2026-08-01 the ``wave2`` segment (about
    18%), and ``control`` never, with the effects described in ``truth/effects.json``.
    About 0.4% of the rows of six exports hold one invalid value each (a malformed email, an
    impossible date, an Id used twice, ...) for validation to quarantine;
    ``truth/injected_errors.csv`` lists them.

    Files written (previous demo files are replaced):

    - ``exports/crm/{contacts,accounts,leads,opportunities}.csv``
    - ``exports/billing/{customers,invoices}.csv`` (Latin-1, ``;``) and
      ``fx_rates_{2025,2026}.csv``, one file per year of one source, the newer with a
      renamed and an added column (a schema change for the change log)
    - ``exports/support/requesters.json`` and ``tickets.ndjson``
    - ``exports/integration/sync_events.ndjson.gz``
    - ``truth/contacts_truth.csv``, ``truth/trap_pairs.csv``, ``truth/effects.json``,
      ``truth/injected_errors.csv``
    - ``workbench.yaml``, the project configuration mapping every export, ``roi.yaml`` and
      ``dictionary.yaml`` (owners, legal bases and the CRM's marketing consent field)

    The output depends only on ``contacts`` and ``seed``: the same arguments give the same
    bytes.

    Args:
        project_dir: folder to write into; created if missing.
        contacts: contact records across the three contact exports (about 50% CRM, 25%
            billing, 25% support); at least 200. Other exports scale with it: leads and
            tickets about 0.5x, deals 0.1x, sync events 1x.
        seed: random seed.
        progress: called with each step's label (see :data:`STEPS`) as the step starts.

    Returns:
        A :class:`DemoSummary` with row counts and paths.

    Example:
        >>> summary = generate_demo(Path("demo"), contacts=2000)  # doctest: +SKIP
        >>> summary.rows["crm_contacts"]  # doctest: +SKIP
        1000
    """
    report = progress or (lambda _step: None)
    sizes = sizes_for(contacts)
    out = _Output(Path(project_dir))
    out.root.mkdir(parents=True, exist_ok=True)

    report(STEPS[0])
    world = build_world(sizes, seed)
    records = assign_records(sizes, seed)
    report(STEPS[1])
    crm_owners, leads = _crm(out, world, records["crm"], sizes, seed)
    report(STEPS[2])
    billing_owners = _billing(out, world, records["billing"], seed)
    report(STEPS[3])
    support_owners, tickets = _support(out, world, records["support"], sizes, seed)
    report(STEPS[4])
    events, sync = integration.sync_events(sizes.sync_events, EFFECTS, seed)
    out.ndjson("sync_events", invalid.sync_events(events, seed), compress=True)
    del events

    report(STEPS[5])
    owners = {
        "crm_contacts": crm_owners,
        "billing_customers": billing_owners,
        "support_requesters": support_owners,
    }
    truth = contacts_truth(owners, world)
    pairs = trap_pairs(truth, world)
    write_csv(truth.drop("person_idx"), out.root / TRUTH_PATHS["contacts"])
    write_csv(pairs, out.root / TRUTH_PATHS["trap_pairs"])
    observed = observed_effects(leads, tickets, sync)
    document = effects_document(EFFECTS, seed=seed, contacts=contacts, observed=observed)
    write_json(document, out.root / TRUTH_PATHS["effects"])
    errors = pl.concat(out.errors)
    write_csv(errors, out.root / TRUTH_PATHS["injected_errors"])

    report(STEPS[6])
    config_path = out.root / "workbench.yaml"
    write_bytes(config_path, _config_text(seed, contacts).encode())
    for template in (ROI_TEMPLATE, DICTIONARY_TEMPLATE):
        text = resources.files("workbench.demo").joinpath(template).read_bytes()
        write_bytes(out.root / template, text)

    start, end, launch = window_dates()
    systems = truth.group_by("person_idx").agg(pl.col("source").n_unique())["source"]
    return DemoSummary(
        project_dir=out.root,
        config_path=config_path,
        seed=seed,
        contacts=contacts,
        people=len(systems),
        people_in_several_systems=int((systems > 1).sum()),
        launch_date=launch,
        window_start=start,
        window_end=end,
        rows=out.rows,
        paths={name: out.root / path for name, path in EXPORT_PATHS.items()},
        files={
            name: [out.root / p for p in (*EARLIER_EXPORTS.get(name, ()), path)]
            for name, path in EXPORT_PATHS.items()
        },
        truth={name: out.root / path for name, path in TRUTH_PATHS.items()},
        trap_pairs={kind: int((pairs["trap"] == kind).sum()) for kind in TRAP_KINDS},
        injected_errors={
            kind: int((errors["kind"] == kind).sum())
            for kind in invalid.KINDS
            if (errors["kind"] == kind).any()
        },
    )


@dataclass
class _Output:
    """Writes each source's export to its path, counts its rows and collects the injected
    errors of those written as :class:`invalid.Injected`."""

    root: Path
    rows: dict[str, int] = field(default_factory=dict)
    errors: list[pl.DataFrame] = field(default_factory=list)

    def csv(
        self,
        name: str,
        frame: pl.DataFrame | invalid.Injected,
        *,
        german: bool = False,
        path: str | None = None,
    ) -> None:
        """UTF-8 and ``,``; or, for ``german`` (billing) exports, Latin-1, ``;`` and CRLF.
        ``path``: one of the source's several files (their rows add up)."""
        frame = self._export(frame)
        target = self.root / (path or EXPORT_PATHS[name])
        if german:
            write_csv(frame, target, delimiter=";", encoding="latin-1", line_end="\r\n")
        else:
            write_csv(frame, target)
        self.rows[name] = self.rows.get(name, 0) + frame.height

    def json_array(self, name: str, frame: pl.DataFrame) -> None:
        write_json_array(frame, self.root / EXPORT_PATHS[name])
        self.rows[name] = frame.height

    def ndjson(
        self, name: str, frame: pl.DataFrame | invalid.Injected, *, compress: bool = False
    ) -> None:
        frame = self._export(frame)
        write_ndjson(frame, self.root / EXPORT_PATHS[name], compress=compress)
        self.rows[name] = frame.height

    def _export(self, frame: pl.DataFrame | invalid.Injected) -> pl.DataFrame:
        if isinstance(frame, invalid.Injected):
            self.errors.append(frame.errors)
            return frame.export
        return frame


def _crm(
    out: _Output, world: World, records: pl.DataFrame, sizes: Sizes, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Write the CRM exports; return the contacts' owners and the leads' truth."""
    contacts = crm.contacts(world, records, seed)
    injected = invalid.crm_contacts(contacts.export, _in_trap(world, contacts.person_idx), seed)
    contacts = replace(contacts, export=injected.export)  # deals see the ids as written
    crm_people = pl.int_range(sizes.crm_people, eager=True)
    lead_only = pl.int_range(sizes.contact_people, sizes.people, eager=True)
    leads = crm.leads(world, crm_people, lead_only, sizes.leads, EFFECTS, seed)
    out.csv("crm_contacts", injected)
    out.csv("crm_accounts", crm.accounts(world, seed))
    out.csv("crm_leads", leads.export)
    out.csv("crm_deals", invalid.crm_deals(crm.deals(world, contacts, sizes.deals, seed), seed))
    return _owners(contacts.export["Id"], contacts.person_idx, injected), leads.truth


def _billing(out: _Output, world: World, records: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Write the billing exports; return the customers' owners."""
    customers, facts = billing.customers(world, records, seed)
    invoices = billing.invoices(facts, seed)
    injected = invalid.billing_customers(
        billing.with_revenue(customers, invoices), _in_trap(world, facts["person_idx"]), seed
    )
    out.csv("billing_customers", injected, german=True)
    out.csv("billing_invoices", invalid.billing_invoices(invoices.drop("cents"), seed), german=True)
    for path, rates in billing.fx_rate_files(seed).items():
        out.csv("fx_rates", rates, path=path)
    return _owners(facts["KundenNr"], facts["person_idx"], injected)


def _support(
    out: _Output, world: World, records: pl.DataFrame, sizes: Sizes, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Write the support exports; return the requesters' owners and the tickets' truth."""
    requesters = support.requesters(world, records, seed)
    tickets = support.tickets(requesters, sizes.tickets, EFFECTS, seed)
    out.json_array(
        "support_requesters", support.requesters_export(requesters, tickets.first_ticket)
    )
    out.ndjson("support_tickets", invalid.support_tickets(tickets.export, seed))
    frame = requesters.frame
    return _owners(frame["id"].cast(pl.String), frame["person_idx"], None), tickets.truth


def _in_trap(world: World, person_idx: pl.Series) -> pl.Series:
    """Per record: is its person part of a trap pair (never given an injected error)."""
    return world.people["in_trap"].gather(person_idx)


def _owners(
    record_id: pl.Series, person_idx: pl.Series, injected: invalid.Injected | None
) -> pl.DataFrame:
    """``record_id, person_idx, injected_error`` per contact record, in export order."""
    n = len(record_id)
    kind = injected.kind if injected is not None else pl.Series([None] * n, dtype=pl.String)
    return pl.DataFrame(
        {
            "record_id": record_id.cast(pl.String),
            "person_idx": person_idx.cast(pl.Int64),
            "injected_error": kind,
        }
    )


def _config_text(seed: int, contacts: int) -> str:
    template = resources.files("workbench.demo").joinpath(CONFIG_TEMPLATE).read_text("utf-8")
    header = f"# Generated by `workbench demo` (seed {seed}, {contacts} contact records).\n"
    return header + template
