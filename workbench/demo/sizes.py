"""How many records of each kind a demo of a given size has, and who appears where.

``contacts`` is the total of contact records across the three contact exports: about half
in the CRM, a quarter each in billing and support. People are numbered so that
``[0, crm_people)`` are in the CRM, then billing-only, support-only and lead-only people.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from workbench.demo.rng import Stream

MIN_CONTACTS = 200


@dataclass(frozen=True)
class Sizes:
    """Record counts of every export, derived from the number of contact records."""

    crm: int
    billing: int
    support: int
    crm_duplicates: int
    billing_duplicates: int
    support_duplicates: int
    billing_from_crm: int
    support_from_crm: int
    support_from_billing: int
    leads: int
    lead_only_people: int
    deals: int
    tickets: int
    sync_events: int
    companies: int

    @property
    def crm_people(self) -> int:
        return self.crm - self.crm_duplicates

    @property
    def billing_only(self) -> int:
        return self.billing - self.billing_duplicates - self.billing_from_crm

    @property
    def support_only(self) -> int:
        return (
            self.support
            - self.support_duplicates
            - self.support_from_crm
            - self.support_from_billing
        )

    @property
    def contact_people(self) -> int:
        """People with at least one contact record."""
        return self.crm_people + self.billing_only + self.support_only

    @property
    def people(self) -> int:
        return self.contact_people + self.lead_only_people


def sizes_for(contacts: int) -> Sizes:
    """The sizes of a demo with ``contacts`` contact records in total."""
    if contacts < MIN_CONTACTS:
        raise ValueError(f"contacts must be at least {MIN_CONTACTS}, got {contacts}")
    crm = round(0.5 * contacts)
    billing = round(0.25 * contacts)
    support = contacts - crm - billing
    billing_duplicates = round(0.01 * billing)
    support_duplicates = round(0.03 * support)
    billing_people = billing - billing_duplicates
    support_people = support - support_duplicates
    billing_from_crm = round(0.62 * billing_people)
    leads = round(0.5 * contacts)
    return Sizes(
        crm=crm,
        billing=billing,
        support=support,
        crm_duplicates=round(0.04 * crm),
        billing_duplicates=billing_duplicates,
        support_duplicates=support_duplicates,
        billing_from_crm=billing_from_crm,
        support_from_crm=round(0.5 * support_people),
        support_from_billing=min(billing_people - billing_from_crm, round(0.1 * support_people)),
        leads=leads,
        lead_only_people=round(0.6 * leads),
        deals=round(0.1 * contacts),
        tickets=round(0.5 * contacts),
        sync_events=contacts,
        companies=max(40, round(crm / 8)),
    )


def assign_records(sizes: Sizes, seed: int) -> dict[str, pl.DataFrame]:
    """Which person each contact record belongs to, per system.

    Returns one frame per system (``crm``, ``billing``, ``support``) with ``person_idx``
    and ``duplicate`` (true for a second record of a person already in that system), in
    random order.
    """
    stream = Stream(seed, "records")
    crm_people = pl.int_range(sizes.crm_people, eager=True)
    billing_only_start = sizes.crm_people
    support_only_start = billing_only_start + sizes.billing_only

    crm_order = stream.permutation(sizes.crm_people)
    billing_people = pl.concat(
        [
            crm_order.head(sizes.billing_from_crm),
            pl.int_range(billing_only_start, support_only_start, eager=True),
        ]
    )
    billing_only_order = stream.permutation(sizes.billing_only) + billing_only_start
    support_people = pl.concat(
        [
            stream.permutation(sizes.crm_people).head(sizes.support_from_crm),
            billing_only_order.head(sizes.support_from_billing),
            pl.int_range(support_only_start, support_only_start + sizes.support_only, eager=True),
        ]
    )
    out = {}
    for system, people, duplicates in (
        ("crm", crm_people, sizes.crm_duplicates),
        ("billing", billing_people, sizes.billing_duplicates),
        ("support", support_people, sizes.support_duplicates),
    ):
        people = people.cast(pl.Int64)
        twice = people.gather(stream.permutation(len(people)).head(duplicates))
        frame = pl.DataFrame(
            {
                "person_idx": pl.concat([people, twice]),
                "duplicate": pl.concat(
                    [
                        pl.repeat(False, len(people), eager=True),
                        pl.repeat(True, duplicates, eager=True),
                    ]
                ),
            }
        )
        out[system] = frame.gather(stream.permutation(frame.height))
    return out
