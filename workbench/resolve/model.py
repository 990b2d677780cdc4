"""The Splink model generated from the dictionary's identity fields.

Comparisons follow each field's ``identity`` kind. Two choices keep look-alikes apart:

* the first two ``name`` fields are compared together (forename and surname as one
  comparison), so "same surname, other forename" is its own, weak level instead of a
  surname match that adds up with everything else;
* ``phone`` and ``postcode`` form one "contact point" comparison, because family members
  share both: counted separately they would outvote a different forename.

Email addresses compare on the normalized address only (exact, or a typo away): a matching
local part at another domain is what namesakes have, not evidence of one person.

Custom levels are written in DuckDB SQL. Those using functions Spark spells differently say
so: sqlglot translates them (``base_dialect_str``), or :class:`SparkSpelled` gives the Spark
spelling where sqlglot's is wrong; on DuckDB they run exactly as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule
from splink.internals.dialects import SplinkDialect

from workbench.resolve.features import Features


class SparkSpelled(cll.CustomLevel):
    """A custom level in DuckDB SQL and, for Splink's Spark backend, in Spark SQL."""

    def __init__(self, sql: str, spark_sql: str, label_for_charts: str | None = None) -> None:
        super().__init__(sql, label_for_charts=label_for_charts)
        self.spark_sql = spark_sql

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        return self.spark_sql if sql_dialect.sql_dialect_str == "spark" else self.sql_condition


@dataclass(frozen=True)
class Guard:
    """A pair whose forenames are unrelated links only if it shares an identifier.

    People keep their forename; twins, siblings and spouses share everything else
    (surname, birth date, address, phone), which a model that adds up independent
    evidence would otherwise take for one person. A shared employer counts as an
    identifier: a nickname the name comparison does not know (Basti for Sebastian)
    at the same phone and employer is one person, a household rarely works together.
    """

    name_gamma: str  # the gamma column of the person-name comparison
    unrelated_levels: tuple[int, ...]  # its levels meaning "forenames unrelated"
    # gamma columns of identifiers, each with its lowest level that counts as shared
    identifier_gammas: tuple[tuple[str, int], ...]

    def keep(self, pairs: pl.DataFrame) -> pl.Series:
        """Which scored pairs (with their gamma columns) may be linked."""
        if self.name_gamma not in pairs.columns:
            return pl.Series([True] * pairs.height)
        unrelated = pl.col(self.name_gamma).is_in(list(self.unrelated_levels))
        shared = [pl.col(g) >= lo for g, lo in self.identifier_gammas if g in pairs.columns]
        identified = pl.any_horizontal(shared) if shared else pl.lit(False)
        return pairs.select((~unrelated | identified.fill_null(False)).alias("keep"))["keep"]


@dataclass(frozen=True)
class ModelPlan:
    """Everything Splink needs: settings, and the rules to train with."""

    settings: SettingsCreator
    deterministic_rules: list[Any]
    training_rules: list[Any]
    blocking_rules: list[Any] = field(default_factory=list)
    guard: Guard | None = None


def comparisons(features: Features) -> list[Any]:
    """One Splink comparison per identity kind (names and contact points grouped)."""
    out: list[Any] = []
    names = features.of_kind("name")
    if len(names) >= 2:
        out.append(_person_name(names[0], names[1]))
        names = names[2:]
    out += [cl.NameComparison(n).configure(term_frequency_adjustments=True) for n in names]
    for email in features.of_kind("email"):
        out.append(
            cl.CustomComparison(
                comparison_levels=[
                    cll.NullLevel(email),
                    cll.ExactMatchLevel(email).configure(tf_adjustment_column=email),
                    cll.ElseLevel(),
                ],
                output_column_name=email,
            )
        )
    phones, postcodes = features.of_kind("phone"), features.of_kind("postcode")
    if phones and postcodes:
        out.append(_contact_point(phones[0], postcodes[0]))
        phones, postcodes = phones[1:], postcodes[1:]
    out += [_phone(p) for p in phones]
    out += [cl.ExactMatch(p) for p in postcodes]
    for i, company in enumerate(features.of_kind("company")):
        out.append(_company(features.employer if i == 0 and features.employer else company))
    out += [cl.LevenshteinAtThresholds(d, [1, 2]) for d in features.of_kind("date")]
    out += [cl.ExactMatch(e) for e in features.of_kind("exact")]
    out += [cl.JaroWinklerAtThresholds(t, [0.9, 0.8]) for t in features.of_kind("text")]
    return out


def _person_name(first: str, last: str) -> Any:
    """Forename and surname together; a full name split differently still matches."""
    both = cll.And(cll.ExactMatchLevel(first), cll.ExactMatchLevel(last))
    return cl.CustomComparison(
        comparison_levels=[
            cll.And(cll.NullLevel(first), cll.NullLevel(last)),
            both,
            cll.CustomLevel(
                "full_name_l = full_name_r", label_for_charts="same full name, split differently"
            ).configure(tf_adjustment_column="full_name"),
            cll.ColumnsReversedLevel(first, last),
            cll.And(cll.JaroWinklerLevel(first, 0.92), cll.JaroWinklerLevel(last, 0.92)),
            cll.And(cll.JaroWinklerLevel(first, 0.88), cll.JaroWinklerLevel(last, 0.88)),
            cll.And(cll.DamerauLevenshteinLevel(first, 1), cll.DamerauLevenshteinLevel(last, 1)),
            SparkSpelled(  # sqlglot writes DuckDB's list_has_any as `&&`, not Spark SQL
                f"list_has_any(first_forms_l, first_forms_r) AND {last}_l = {last}_r",
                f"arrays_overlap(first_forms_l, first_forms_r) AND {last}_l = {last}_r",
                label_for_charts="forename variant (Bob/Robert), same surname",
            ),
            cll.CustomLevel(
                f"{last}_l = {last}_r AND ({first}_l IS NULL OR {first}_r IS NULL)",
                label_for_charts="same surname, one forename missing",
            ).configure(tf_adjustment_column=last),
            cll.ExactMatchLevel(last).configure(tf_adjustment_column=last),
            cll.ExactMatchLevel(first).configure(tf_adjustment_column=first),
            cll.ElseLevel(),
        ],
        output_column_name=f"{first}_{last}",
    )


# In _person_name's order, counted from the bottom: 0 = nothing alike, 1 = forename only,
# 2 = surname only, 3 = surname and a missing forename (a household member's record too).
UNRELATED_NAME_LEVELS = (0, 2, 3)


def _contact_point(phone: str, postcode: str) -> Any:
    return cl.CustomComparison(
        comparison_levels=[
            cll.CustomLevel(
                f"({phone}_l IS NULL OR {phone}_r IS NULL) AND "
                f"({postcode}_l IS NULL OR {postcode}_r IS NULL)"
            ).configure(is_null_level=True),
            cll.CustomLevel(
                f"{phone}_l = {phone}_r AND {postcode}_l = {postcode}_r",
                label_for_charts=f"{phone} and {postcode}",
            ).configure(tf_adjustment_column=phone),
            cll.CustomLevel(f"{phone}_l = {phone}_r", label_for_charts=phone).configure(
                tf_adjustment_column=phone
            ),
            cll.CustomLevel(
                f"{postcode}_l = {postcode}_r AND ({phone}_l IS NULL OR {phone}_r IS NULL)",
                label_for_charts=f"{postcode}, a {phone} missing",
            ),
            # colleagues share an office's postcode, not their phone numbers
            cll.CustomLevel(
                f"{postcode}_l = {postcode}_r", label_for_charts=f"{postcode}, other {phone}s"
            ),
            cll.ElseLevel(),
        ],
        output_column_name=f"{phone}_{postcode}",
    )


EMPLOYER_SHARED_LEVEL = 3  # in _company's order from the bottom: 3 = the same key


def _company(key: str) -> Any:
    """Company keys: the same, one the start of the other (Acme / Acme Robotics), alike."""
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(key),
            cll.ExactMatchLevel(key).configure(tf_adjustment_column=key),
            cll.CustomLevel(
                f"starts_with({key}_l, {key}_r) OR starts_with({key}_r, {key}_l)",
                label_for_charts="one name starts the other",
                base_dialect_str="duckdb",  # Spark: startswith
            ),
            cll.JaroWinklerLevel(key, 0.9),
            cll.ElseLevel(),
        ],
        output_column_name=key,
    )


def _phone(phone: str) -> Any:
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(phone),
            cll.ExactMatchLevel(phone),
            cll.CustomLevel(
                f"right({phone}_l, 7) = right({phone}_r, 7)",
                label_for_charts="last 7 digits",
                base_dialect_str="duckdb",
            ),
            cll.ElseLevel(),
        ],
        output_column_name=phone,
    )


def blocking_rules(features: Features) -> list[Any]:
    """Pairs worth scoring: a shared email, phone, exact id or date, or a shared full name
    that few records have, or surname plus company or postcode."""
    rules: list[Any] = []
    for kind in ("email", "phone", "exact", "date"):
        rules += [block_on(col) for col in features.of_kind(kind)]
    names = features.of_kind("name")
    if names:
        rules.append(block_on("rare_full_name") if len(names) >= 2 else block_on(names[0]))
        last = names[1] if len(names) > 1 else names[0]
        companies = features.of_kind("company")
        if features.employer and companies:
            companies = [features.employer, *companies[1:]]
        rules += [block_on(last, col) for col in [*companies, *features.of_kind("postcode")]]
        if len(names) >= 2:  # a surname misspelt or split differently, at the same employer
            rules += [block_on(names[0], col) for col in companies[:1]]
    return rules


def plan(features: Features, *, overrides: list[str] | None = None) -> ModelPlan:
    """The model for an object: comparisons, blocking and training rules.

    EM is trained on rules that never let it see households as matches: a shared
    identifier (an exact id field, else the email; it trains names and contact points) and
    a shared full name (which trains the rest). The prior comes from identifier matches.
    """
    rules: list[Any] = [CustomRule(sql) for sql in (overrides or [])] or blocking_rules(features)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(features),
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=True,  # the guard reads the gamma columns
        retain_intermediate_calculation_columns=False,
    )
    names = features.of_kind("name")
    # identifiers people do not share: an exact id field, else the email address
    keys = features.of_kind("exact")[:1] or features.of_kind("email")[:1]
    training = [block_on(k) for k in keys]
    if len(names) >= 2:
        training.append(block_on(*names[:2]))
    if len(training) < 2:
        training += [r for r in rules if r not in training][: 2 - len(training)]
    if keys:
        deterministic = [block_on(k) for k in keys]
    elif names:  # no identifier at all: full name and date together
        deterministic = [block_on(*names[:2], *features.of_kind("date")[:1])]
    else:
        deterministic = rules[:1]
    guard = None
    if len(names) >= 2:
        identifiers = [(f"gamma_{i}", 1) for i in features.of_kind("exact")]
        identifiers += [(f"gamma_{i}", 1) for i in features.of_kind("email")]
        if features.employer:  # the same employer key (see _company)
            identifiers.append((f"gamma_{features.employer}", EMPLOYER_SHARED_LEVEL))
        guard = Guard(
            name_gamma=f"gamma_{names[0]}_{names[1]}",
            unrelated_levels=UNRELATED_NAME_LEVELS,
            identifier_gammas=tuple(identifiers),
        )
    return ModelPlan(settings, deterministic, training, rules, guard)
