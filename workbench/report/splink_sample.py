"""The sample Splink's views show, drawn deterministically from the stored resolution, and
its matching input (see :mod:`workbench.report.splink_views`):

- for cluster studio, up to :data:`CLUSTERS` entities of several records, one of each size
  where there are more sizes than that (none above :data:`MAX_CLUSTER_RECORDS` records;
  within a size, those spanning several systems first), with the scored pairs between their
  records;
- for the comparison viewer, up to :data:`PAIRS` scored pairs spread evenly over the range of
  match weights (the same number from each one-bit band, the first by an MD5 of the pair's
  ids), or all of them when there are fewer; and the most uncertain pair, whose waterfall
  the report draws.

The sample is drawn in the warehouse, each part by one small query (a top-k per band, not
a sort of every pair); the duplicates report reads cluster studio's candidates in the pass
over the memberships its other sections make (:data:`SIZED_SQL`, :data:`CANDIDATES_SQL`).
Only the sampled records' matching features are computed (:func:`sample_input`), and the
term frequencies the model adjusts for are counted over every record
(:func:`term_frequencies`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from workbench.resolve.features import DOMAIN_STEM, Features
from workbench.resolve.nicknames import TABLE as NAME_FORMS
from workbench.resolve.nicknames import name_forms
from workbench.standardize.rules import COMPANY_KEY
from workbench.store import Store, quote_ident, table

CLUSTERS = 12  # entities in cluster studio
MAX_CLUSTER_RECORDS = 30  # larger entities are left out of cluster studio
PAIRS = 400  # scored pairs behind the comparison viewer
IDS = "_wb_view_ids"  # the sample's records, registered in the warehouse connection
# every entity of an object ($o): its records and whether they come from several sources
# (compared as positions in the list of the object's sources: cheaper than the names)
SIZED_SQL = """SELECT entity_id, count(*) AS size, min(s) <> max(s) AS systems
FROM (SELECT entity_id, list_position((
          SELECT list(DISTINCT source) FILTER (WHERE source IS NOT NULL)
          FROM id.members WHERE object = $o), source) AS s
      FROM id.members WHERE object = $o)
GROUP BY entity_id"""
# cluster studio's candidates among the entities of {sized} (entity_id, size, systems): up to
# $clusters of each size from 2 to $most records, those spanning several systems first, then
# by entity id (a top-k per size, not a sort); k is the place within the size
CANDIDATES_SQL = """SELECT entity_id, size, k FROM (
    SELECT size, unnest(ids) AS entity_id, unnest(range(1, len(ids) + 1)) AS k FROM (
        SELECT size, min_by(entity_id, (NOT systems, entity_id), $clusters) AS ids
        FROM {sized} WHERE size BETWEEN 2 AND $most GROUP BY size))"""
CANDIDATES_PARAMS = {"most": MAX_CLUSTER_RECORDS, "clusters": CLUSTERS}


@dataclass(frozen=True)
class Sample:
    """The records and pairs the views show (ids only)."""

    # unique_id_l, unique_id_r, match_weight (stored), viewer (a pair of the comparison viewer)
    pairs: pl.DataFrame
    members: pl.DataFrame  # unique_id, cluster_id: the records of the entities shown
    records: int  # records of the object
    pairs_total: int  # scored pairs of the object
    uncertain: tuple[str, str, float] | None  # the pair nearest to p = 0.5, its stored weight

    @property
    def viewer_pairs(self) -> int:
        return int(self.pairs["viewer"].sum()) if self.pairs.height else 0


def draw_sample(store: Store, obj: str, candidates: pl.DataFrame | None = None) -> Sample:
    """The entities and pairs the views show; the same for the same resolution
    (``candidates`` as for :func:`workbench.report.splink_views.build`)."""
    params = {"o": obj}
    if candidates is None:
        candidates = cluster_candidates(store, obj)
    members = _cluster_members(store, obj, candidates)
    # the reads below share one connection (a report's store is opened per read otherwise)
    with store.registered(IDS, members.select("unique_id")):
        records = int(
            store.scalar("SELECT count(*) FROM id.members WHERE object = $o", params) or 0
        )
        bands = store.frame(
            "SELECT floor(match_weight) AS band, count(*) AS pairs FROM id.pairs "
            "WHERE object = $o GROUP BY ALL",
            params,
        )
        counts = bands["pairs"].to_list()
        if sum(counts) <= PAIRS:  # all of them
            viewer = store.frame(
                "SELECT unique_id_l, unique_id_r, match_weight FROM id.pairs WHERE object = $o",
                params,
            )
        else:  # the first of each band by the MD5 of the ids (a top-k, not a sort)
            viewer = store.frame(
                "SELECT p.unique_id_l, p.unique_id_r, p.match_weight FROM (SELECT unnest("
                "min_by({'unique_id_l': unique_id_l, 'unique_id_r': unique_id_r, "
                "'match_weight': match_weight}, md5(unique_id_l || ' ' || unique_id_r), $cap)"
                ") AS p FROM id.pairs WHERE object = $o GROUP BY floor(match_weight))",
                {**params, "cap": per_band(counts, PAIRS)},
            )
        uncertain = store.rows(
            "SELECT unique_id_l, unique_id_r, match_weight FROM id.pairs WHERE object = $o "
            "ORDER BY abs(match_probability - 0.5), unique_id_l, unique_id_r LIMIT 1",
            params,
        )
        edges = store.frame(
            f"SELECT unique_id_l, unique_id_r, match_weight FROM id.pairs WHERE object = $o "
            f"AND unique_id_l IN (SELECT unique_id FROM {IDS}) "
            f"AND unique_id_r IN (SELECT unique_id FROM {IDS})",
            params,
        )
    picked = [viewer.with_columns(viewer=pl.lit(True))]
    if uncertain:
        left, right, weight = uncertain[0]
        picked.append(
            pl.DataFrame(
                {"unique_id_l": [left], "unique_id_r": [right], "match_weight": [weight]}
            ).with_columns(viewer=pl.lit(True))
        )
    picked.append(edges.with_columns(viewer=pl.lit(False)))
    pairs = (
        pl.concat(picked, how="vertical_relaxed")
        .group_by("unique_id_l", "unique_id_r")
        .agg(pl.col("match_weight").first(), pl.col("viewer").any())
        .sort("unique_id_l", "unique_id_r")
    )
    total = int(bands["pairs"].sum()) if bands.height else 0
    return Sample(pairs, members, records, total, uncertain[0] if uncertain else None)


def per_band(counts: list[int], total: int) -> int:
    """The largest number of pairs to take from each band so that at most ``total`` are taken
    (every pair when they are fewer): ``sum(min(n, cap)) <= total``."""
    if sum(counts) <= total:
        return max(counts, default=0)
    cap = 0
    while sum(min(n, cap + 1) for n in counts) <= total:
        cap += 1
    return max(cap, 1)


def cluster_candidates(store: Store, obj: str) -> pl.DataFrame:
    """Cluster studio's candidate entities of ``obj`` (see :data:`CANDIDATES_SQL`)."""
    return store.frame(
        CANDIDATES_SQL.format(sized=f"({SIZED_SQL})"), {"o": obj, **CANDIDATES_PARAMS}
    )


def _cluster_members(store: Store, obj: str, candidates: pl.DataFrame) -> pl.DataFrame:
    """Records (unique_id, cluster_id) of up to CLUSTERS entities among the ``candidates``:
    one of each size, spread over the sizes, then more of the larger sizes; within a size
    those spanning several systems first, then by entity id (a hash, so an even spread)."""
    order = [False, True, False]  # k, then the larger sizes, then entity id
    candidates = candidates.sort("k", "size", "entity_id", descending=order)
    sizes = candidates["size"].unique().sort().to_list()
    if len(sizes) > CLUSTERS:
        step = (len(sizes) - 1) / (CLUSTERS - 1)
        sizes = sorted({sizes[round(i * step)] for i in range(CLUSTERS)})
    first = candidates.unique("size", keep="first", maintain_order=True)
    chosen = first.filter(pl.col("size").is_in(sizes))
    rest = candidates.join(chosen, on="entity_id", how="anti")
    chosen = pl.concat([chosen, rest.head(max(0, CLUSTERS - chosen.height))])
    return store.frame(
        "SELECT unique_id, entity_id AS cluster_id FROM id.members "
        "WHERE object = $o AND list_contains($ids, entity_id) ORDER BY entity_id, unique_id",
        {"o": obj, "ids": chosen["entity_id"].to_list()},
    )


def tf_columns(model: dict[str, Any]) -> list[str]:
    """The columns the model adjusts for how common a value is."""
    return sorted(
        {
            level["tf_adjustment_column"]
            for comparison in model["comparisons"]
            for level in comparison["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    )


def sample_input(store: Store, feats: Features, sample: Sample) -> pl.DataFrame:
    """The matching input of the sample's records, computed over those records alone.

    Where the employer is derived (a record's employer is the company its work address
    names when some record names it), the company names of the object whose key is the
    domain of a sampled record's email come along as name-only rows, dropped after: what
    the employer of a sampled record needs of all the names, without computing the matching
    features of every name.
    """
    ids = pl.concat(
        [
            sample.members.select("unique_id"),
            sample.pairs.select(pl.col("unique_id_l").alias("unique_id")),
            sample.pairs.select(pl.col("unique_id_r").alias("unique_id")),
        ]
    ).unique()
    core = table("core", feats.object)
    reads = ", ".join(quote_ident(c) for c in feats.reads)  # not every column of core
    sampled = (
        f"SELECT {reads} FROM {core} WHERE (_source, CAST(record_id AS VARCHAR)) IN "
        f"(SELECT source, record_id FROM id.members WHERE object = $o "
        f"AND unique_id IN (SELECT unique_id FROM {IDS}))"
    )
    relation = f"({sampled})"
    companies = feats.of_kind("company")
    if feats.employer and companies:
        relation = f"(WITH sampled AS MATERIALIZED ({sampled}) SELECT * FROM sampled"
        relation += f" UNION ALL BY NAME {_employer_names_sql(feats, companies[0])})"
    sql = (
        f"SELECT * FROM ({feats.sql_over(relation)}) "
        f"WHERE unique_id IN (SELECT unique_id FROM {IDS}) ORDER BY unique_id"
    )
    with store.registered(NAME_FORMS, name_forms()), store.registered(IDS, ids):
        return store.frame(sql, {"o": feats.object})


def _employer_names_sql(feats: Features, company: str) -> str:
    """One company name (as column ``company``) per employer key that is the domain stem of
    an email of relation ``sampled``: every name the employer lookup of those records can
    find (the key as the features compute it: the company key without spaces). Domains are
    taken from every email column, normalized or not: more than the features read, which
    is harmless, as a name only counts when its key is some record's domain."""
    emails = []
    for name in feats.of_kind("email"):
        emails.append(f"lower({quote_ident(name)})")
        if f"{name}_norm" in feats.reads:
            emails.append(quote_ident(f"{name}_norm"))
    stems = " UNION ".join(f"SELECT {DOMAIN_STEM.format(x=e)} AS stem FROM sampled" for e in emails)
    col = quote_ident(company)
    key = f"replace({COMPANY_KEY.format(x='name')}, ' ', '')"
    return (
        f"SELECT min(name) AS {col} FROM (SELECT name, {key} AS stem FROM "
        f"(SELECT DISTINCT {col} AS name FROM {table('core', feats.object)} "
        f"WHERE {col} IS NOT NULL)) SEMI JOIN ({stems}) USING (stem) GROUP BY stem"
    )


def term_frequencies(
    store: Store, feats: Features, records: pl.DataFrame, columns: list[str]
) -> dict[str, pl.DataFrame]:
    """For each column of ``columns``, how common the values of ``records`` are among all
    the object's records, as Splink counts it (records with the value over records with any
    value): one pass of the matching features over every record."""
    values = (
        pl.concat(
            [
                records.select(pl.lit(c).alias("col"), pl.col(c).cast(pl.String).alias("value"))
                for c in columns
            ]
        )
        .drop_nulls()
        .unique()
    )
    counted = " UNION ALL ".join(
        f"SELECT '{c}' AS col, CAST({quote_ident(c)} AS VARCHAR) AS value, count(*) AS n, "
        f"(SELECT count({quote_ident(c)}) FROM input) AS total FROM input "
        f"WHERE CAST({quote_ident(c)} AS VARCHAR) IN "
        f"(SELECT value FROM {IDS} WHERE col = '{c}') GROUP BY ALL"
        for c in columns
    )
    kept = ", ".join(quote_ident(c) for c in columns)
    sql = f"WITH input AS MATERIALIZED (SELECT {kept} FROM ({feats.sql})) {counted}"
    with store.registered(NAME_FORMS, name_forms()), store.registered(IDS, values):
        found = store.frame(sql)
    out = {}
    for c in columns:
        part = found.filter(pl.col("col") == c)
        out[c] = part.select(
            pl.col("value").cast(records.schema[c]).alias(c),
            (pl.col("n") / pl.col("total")).alias(f"tf_{c}"),
        )
    return out
