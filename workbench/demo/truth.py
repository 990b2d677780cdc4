"""The ground truth: which person each contact record is, and which records are traps."""

from __future__ import annotations

import polars as pl

from workbench.demo.world import World

CONTACT_SOURCES = ("crm_contacts", "billing_customers", "support_requesters")
TRAP_KINDS = ("namesake", "household", "shared_mailbox")


def contacts_truth(owners: dict[str, pl.DataFrame], world: World) -> pl.DataFrame:
    """``source, record_id, person_id`` (plus ``person_idx``) of every contact record.

    ``owners`` maps each contact source to its ``record_id, person_idx`` in export order.
    """
    truth = pl.concat(
        owners[source].select(pl.lit(source).alias("source"), "record_id", "person_idx")
        for source in CONTACT_SOURCES
    )
    return truth.with_columns(
        person_id=world.people["person_id"].gather(truth["person_idx"])
    ).select("source", "record_id", "person_id", "person_idx")


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
