"""Splink's own views of a resolution, offline and masked: the comparison viewer and cluster
studio dashboards, the model's parameters (m, u and match weight of every comparison level)
and a pair's match-weight waterfall.

The views read a small sample drawn deterministically from the stored resolution and scored
again by Splink with the stored model (``id.runs.model_json``):

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
Only the sampled records' matching features are computed, with the company names their
employer can be (those whose key is the domain of a sampled record's email). The term
frequencies a model adjusts for are those of every record: up to
:data:`EXACT_TF_MAX_RECORDS` records they are counted in one pass of the features over all
of them, so each pair scores exactly what the resolution scored. Above that the pass would
cost seconds, and the views score without the term-frequency adjustments (said where they
are shown); the waterfall then shows the adjustments of the pair as one bar, the
difference to the weight the resolution stored.

Personal data is masked before anything reaches a view (unless the report is unmasked): the
dictionary's ``pii`` classes decide, and columns derived from personal fields (full name,
forename variants) are masked like the field they come from. Splink sees the scores of the
real values but renders masked copies of the records.

The dashboards are Splink's own HTML pages, which carry their JavaScript inline (Splink ships
vega, vega-lite, vega-embed and Observable's standard library); the only remote references
in them, links to Google Fonts, are removed, so they open without a network.
"""

from __future__ import annotations

import copy
import html
import json
import logging
import re
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from splink import DuckDBAPI, Linker

from workbench.config import Project
from workbench.dictionary import FieldType
from workbench.privacy import mask_value, masker
from workbench.resolve.engine import splink_db
from workbench.resolve.explain import Explanation, Step, explanation
from workbench.resolve.features import DOMAIN_STEM, Features
from workbench.resolve.inputs import matching_features
from workbench.resolve.nicknames import TABLE as NAME_FORMS
from workbench.resolve.nicknames import name_forms
from workbench.standardize.rules import COMPANY_KEY
from workbench.store import Store, quote_ident, table

CLUSTERS = 12  # entities in cluster studio
MAX_CLUSTER_RECORDS = 30  # larger entities are left out of cluster studio
PAIRS = 400  # scored pairs behind the comparison viewer
EXAMPLES_PER_VECTOR = 2  # example pairs the comparison viewer keeps per comparison vector
# records up to which term frequencies are counted over all records (a second or two)
EXACT_TF_MAX_RECORDS = 200_000
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
# columns of the matching input that are not values of a record
NOT_VALUES = {"unique_id", "source", "record_id", "feature_hash", "cluster_id"}
DROPPED = ("feature_hash", "rare_full_name")  # not shown: a hash of values, a blocking key
REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*", re.I)
REMOTE_LOAD = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I
)

Rule = tuple[str, FieldType]


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


@dataclass(frozen=True)
class SplinkViews:
    """What Splink shows of one resolution (see the module docstring)."""

    model: dict[str, Any]
    parameters: pl.DataFrame  # Splink's records of the levels: comparison_name, label, m, u, ...
    sample: Sample
    comparison_viewer: str | None  # offline HTML page (None: no scored pair)
    cluster_studio: str | None  # offline HTML page (None: no entity of several records)
    waterfall: Explanation | None
    exact: bool  # scored with the term frequencies of all records
    # without them: the largest difference between a sampled pair's weight and the stored one
    tf_gap: float
    masked: bool
    seconds: float


def latest_model(store: Store, obj: str) -> dict[str, Any] | None:
    """The model of the object's latest resolution run (None before the first)."""
    if not store.table_exists("id", "runs"):
        return None
    found = store.scalar(
        "SELECT model_json FROM id.runs WHERE object = $o ORDER BY run_id DESC LIMIT 1",
        {"o": obj},
    )
    return json.loads(found) if found else None


def build(
    project: Project,
    store: Store,
    obj: str,
    *,
    masked: bool = True,
    candidates: pl.DataFrame | None = None,
) -> SplinkViews | None:
    """Splink's views of the latest resolution of ``obj`` (None when it has none).

    ``candidates``: cluster studio's candidate entities (entity_id, size, k) when the caller
    has read them with the memberships already (:data:`CANDIDATES_SQL`).
    """
    clock = time.perf_counter()
    with _held(store):  # the reads share one connection, closed before Splink runs
        model = latest_model(store, obj)
        if model is None:
            return None
        feats = matching_features(project, store, obj)
        sample = draw_sample(store, obj, candidates)
        records = sample_input(store, feats, sample)
        adjusted = tf_columns(model)
        exact = sample.records <= EXACT_TF_MAX_RECORDS
        frequencies = (
            term_frequencies(store, feats, records, adjusted) if exact and adjusted else {}
        )
    rules = mask_rules(project, obj, feats) if masked else {}
    with splink_db(project.config.duckdb) as db:
        linker = Linker(
            db.register(records.to_arrow()),
            _settings(model, exact),
            log_level=logging.ERROR,
            # the stored model was checked when it was trained; its warnings would be hidden
            validate_settings=False,
        )
        parameters = _parameters(linker)
        for column, lookup in frequencies.items():
            linker.table_management.register_term_frequency_lookup(
                db.register(lookup.to_arrow()), column
            )
        viewer = studio = None
        waterfall = None
        tf_gap = 0.0
        if sample.pairs.height:
            scored = _score(db, linker, sample.pairs)
            if not exact:
                gaps = scored.join(sample.pairs, on=["unique_id_l", "unique_id_r"]).select(
                    (pl.col("match_weight") - pl.col("match_weight_right")).abs().max()
                )
                tf_gap = float(gaps.item() or 0.0)
            waterfall = _waterfall(model, scored, sample.uncertain, exact)
            shown = _masked(scored.drop(_dropped(scored.columns)), rules)
            viewer_pairs = shown.join(
                sample.pairs.filter("viewer").select("unique_id_l", "unique_id_r"),
                on=["unique_id_l", "unique_id_r"],
                how="semi",
            )
            viewer = comparison_viewer(db, linker, viewer_pairs)
            if sample.members.height:
                nodes = records.join(sample.members, on="unique_id")
                nodes = _masked_nodes(nodes.drop(_dropped(nodes.columns)), rules)
                studio = cluster_studio(db, linker, shown, nodes, sample)
    return SplinkViews(
        model,
        parameters,
        sample,
        viewer,
        studio,
        waterfall,
        exact,
        tf_gap,
        masked,
        time.perf_counter() - clock,
    )


def _settings(model: dict[str, Any], exact: bool) -> dict[str, Any]:
    """The stored model as the views score with it: every weight kept, the records' source
    shown, and without term-frequency adjustments unless they are ``exact``."""
    settings = copy.deepcopy(model)
    settings["retain_matching_columns"] = True
    settings["retain_intermediate_calculation_columns"] = True
    settings["additional_columns_to_retain"] = ["source"]
    if not exact:
        for comparison in settings["comparisons"]:
            for level in comparison["comparison_levels"]:
                level.pop("tf_adjustment_column", None)
                level.pop("tf_adjustment_weight", None)
    return settings


def _parameters(linker: Linker) -> pl.DataFrame:
    """Splink's records of the model's levels (prior first): what its match weights and
    m/u parameter charts draw."""
    chart = linker.visualisations.match_weights_chart().chart_dict
    return pl.DataFrame(chart["data"]["values"], infer_schema_length=None)


def _held(store: Store) -> AbstractContextManager[Any]:
    """``store.held()`` where the store has it (one connection for the reads in the block,
    for a store that otherwise opens the warehouse per read)."""
    held = getattr(store, "held", None)
    return held() if held is not None else nullcontext(store)


def _dropped(columns: list[str]) -> list[str]:
    return [c for c in columns if re.sub(r"_[lr]$", "", c) in DROPPED]


def _waterfall(
    model: dict[str, Any],
    scored: pl.DataFrame,
    uncertain: tuple[str, str, float] | None,
    exact: bool,
) -> Explanation | None:
    """The waterfall of the most uncertain pair; without exact term frequencies their
    adjustments are one bar, the difference to the weight the resolution stored."""
    if uncertain is None:
        return None
    left, right, stored = uncertain
    row = scored.filter((pl.col("unique_id_l") == left) & (pl.col("unique_id_r") == right))
    if not row.height:
        return None
    found = explanation(model, row.row(0, named=True), left, right)
    if exact or abs(stored - found.match_weight) < 1e-9:
        return found
    label = "how common the values are (term frequencies, all comparisons together)"
    step = Step("term frequencies", label, stored - found.match_weight)
    return Explanation(left, right, [*found.steps, step])


# -- the sample ------------------------------------------------------------------------------


def draw_sample(store: Store, obj: str, candidates: pl.DataFrame | None = None) -> Sample:
    """The entities and pairs the views show; the same for the same resolution
    (``candidates`` as for :func:`build`)."""
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


# -- scoring and masking ---------------------------------------------------------------------


def _score(db: DuckDBAPI, linker: Linker, pairs: pl.DataFrame) -> pl.DataFrame:
    """Splink's predictions for exactly ``pairs`` (no blocking)."""
    blocked = pairs.select(
        pl.lit("0").alias("match_key"),
        pl.col("unique_id_l").alias("join_key_l"),
        pl.col("unique_id_r").alias("join_key_r"),
    )
    linker.table_management.register_blocked_pairs_for_predict(db.register(blocked.to_arrow()))
    return linker.inference.predict().as_duckdbpyrelation().pl()


def mask_rules(project: Project, obj: str, feats: Features) -> dict[str, Rule | None]:
    """How each column of the matching input is masked (None: shown as it is): the
    dictionary's pii class of the field, or of the field a derived column comes from."""
    rules: dict[str, Rule | None] = dict(masker(project.dictionary.object(obj)))
    for field in feats.fields:
        rules.setdefault(field.name, None)
    names = feats.of_kind("name")
    if names:
        for derived in ("full_name", "rare_full_name", "first_forms"):
            rules[derived] = rules.get(names[0])
    companies = feats.of_kind("company")
    if feats.employer and companies:
        rules[feats.employer] = rules.get(companies[0])
    return rules


def _masking(rule: Rule | None) -> Callable[[Any], Any] | None:
    """The function masking one value (a list element by element)."""
    if rule is None:
        return None

    def one(value: Any) -> Any:
        if isinstance(value, list | pl.Series):
            return [mask_value(v, *rule) for v in value]
        return mask_value(value, *rule)

    return one


def _rule_of(column: str, rules: dict[str, Rule | None]) -> Rule | None:
    """The rule of an input column; a column not known to be safe is masked as contact data."""
    if column in rules:
        return rules[column]
    return ("contact", FieldType.TEXT)


def _masked(scored: pl.DataFrame, rules: dict[str, Rule | None]) -> pl.DataFrame:
    """Scored pairs with the values of both records masked (``rules`` empty: unmasked)."""
    if not rules:
        return scored
    out = []
    for column in scored.columns:
        base = re.sub(r"_[lr]$", "", column)
        value_column = (
            column.endswith(("_l", "_r"))
            and not column.startswith(("tf_", "bf_", "gamma_", "mw_"))
            and base not in NOT_VALUES
        )
        if not value_column:
            continue
        mask = _masking(_rule_of(base, rules))
        if mask is not None:
            out.append(_apply(scored, column, mask))
    return scored.with_columns(out)


def _masked_nodes(nodes: pl.DataFrame, rules: dict[str, Rule | None]) -> pl.DataFrame:
    """Records with their values masked (``rules`` empty: unmasked)."""
    if not rules:
        return nodes
    out = []
    for column in nodes.columns:
        if column in NOT_VALUES:
            continue
        mask = _masking(_rule_of(column, rules))
        if mask is not None:
            out.append(_apply(nodes, column, mask))
    return nodes.with_columns(out)


def _apply(frame: pl.DataFrame, column: str, mask: Callable[[Any], Any]) -> pl.Series:
    dtype = frame.schema[column]
    values = [mask(v) for v in frame[column].to_list()]
    if isinstance(dtype, pl.List):
        return pl.Series(column, values, dtype=pl.List(pl.String))
    return pl.Series(column, values, dtype=pl.String)


# -- the dashboards --------------------------------------------------------------------------


def _table(db: DuckDBAPI, name: str, frame: pl.DataFrame) -> None:
    """``frame`` as a table of Splink's DuckDB (Splink's SQL reads its rowid)."""
    con = db.duckdb_con
    con.register(f"{name}_arrow", frame.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")


def comparison_viewer(db: DuckDBAPI, linker: Linker, shown: pl.DataFrame) -> str:
    """Splink's comparison viewer of the scored pairs ``shown`` (already masked)."""
    _table(db, "_wb_viewer_pairs", shown)
    df_predict = db.table_to_splink_dataframe("__splink__df_predict", "_wb_viewer_pairs")
    with tempfile.TemporaryDirectory(prefix="workbench-splink-") as folder:
        page = linker.visualisations.comparison_viewer_dashboard(
            df_predict,
            str(Path(folder) / "comparison_viewer.html"),
            overwrite=True,
            num_example_rows=EXAMPLES_PER_VECTOR,
            return_html_as_string=True,
        )
    return offline(page or "")


def cluster_studio(
    db: DuckDBAPI, linker: Linker, shown: pl.DataFrame, nodes: pl.DataFrame, sample: Sample
) -> str:
    """Splink's cluster studio of the sampled entities: their records (``nodes``, masked)
    and the scored pairs between them (from ``shown``, masked)."""
    _table(db, "_wb_studio_pairs", shown)
    _table(db, "_wb_studio_nodes", nodes)
    sizes = sample.members.group_by("cluster_id").len().sort("len", "cluster_id", descending=True)
    names = [f"{c}: {n} records" for c, n in sizes.iter_rows()]
    with tempfile.TemporaryDirectory(prefix="workbench-splink-") as folder:
        page = linker.visualisations.cluster_studio_dashboard(
            db.table_to_splink_dataframe("__splink__df_predict", "_wb_studio_pairs"),
            db.table_to_splink_dataframe("__splink__df_clustered", "_wb_studio_nodes"),
            str(Path(folder) / "cluster_studio.html"),
            cluster_ids=sizes["cluster_id"].to_list(),
            cluster_names=names,
            overwrite=True,
            return_html_as_string=True,
        )
    return offline(page or "")


def offline(page: str) -> str:
    """A Splink dashboard without its remote font links; refused if anything else would
    still be loaded from the network."""
    page = REMOTE_LINK.sub("", page)
    found = REMOTE_LOAD.search(page)
    if found:
        raise ValueError(f"A Splink dashboard still loads from the network: {found.group(0)}")
    return page


def embedded(page: str, title: str, height: int = 1100) -> str:
    """An HTML fragment showing ``page`` in an iframe of its own (``srcdoc``): the report
    stays one self-contained file."""
    return (
        f"<iframe class='wb-splink' title='{html.escape(title, quote=True)}' "
        f'srcdoc="{html.escape(page, quote=True)}" '
        f"style='width:100%;height:{height}px;border:1px solid #e6e9ef'></iframe>"
    )
