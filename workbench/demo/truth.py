"""The ground truth: which person each contact record is, and which records are traps."""

from __future__ import annotations

import polars as pl

from workbench.demo.world import World

CONTACT_SOURCES = ("crm_contacts", "billing_customers", "support_requesters")
TRAP_KINDS = ("namesake", "household", "shared_mailbox")


def contacts_truth(owners: dict[str, pl.DataFrame], world: World) -> pl.DataFrame:
    """``source, record_id, person_id, injected_error`` (plus ``person_idx``) of every
    contact record, in export order.

    ``owners`` maps each contact source to its ``record_id, person_idx, injected_error`` in
    export order. ``injected_error`` is the kind of error injected into the record (see
    ``truth/injected_errors.csv``), empty for most. A ``duplicate_id`` record repeats the
    ``record_id`` of an earlier, valid record (its ``person_id`` is its own person's): the
    pair ``(source, record_id)`` is unique only among records without that mark.
    """
    truth = pl.concat(
        owners[source].select(
            pl.lit(source).alias("source"), "record_id", "person_idx", "injected_error"
        )
        for source in CONTACT_SOURCES
    )
    return truth.with_columns(
        person_id=world.people["person_id"].gather(truth["person_idx"])
    ).select("source", "record_id", "person_id", "injected_error", "person_idx")


def trap_pairs(truth: pl.DataFrame, world: World) -> pl.DataFrame:
    """Every pair of records of two trap people: they look alike but are different people."""

    def side(suffix: str) -> pl.DataFrame:
        return truth.select(
            pl.col("person_idx").alias(f"person_{suffix}"),
            pl.col("source").alias(f"source_{suffix}"),
            pl.col("record_id").alias(f"record_id_{suffix}"),
        )

    return (
        world.traps.join(side("l"), on="person_l")
        .join(side("r"), on="person_r")
        .select("source_l", "record_id_l", "source_r", "record_id_r", "trap")
        .sort("trap", "source_l", "record_id_l", "source_r", "record_id_r")
    )
