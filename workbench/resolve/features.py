"""The matching input: one row per core record, identity fields prepared by comparison kind.

Which columns take part, and how they are prepared, comes from the dictionary's ``identity``
kinds: names lower-cased without accents, emails from their normalized column, phones as
their last eight digits, postcodes without spaces, company names without legal suffixes.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.dictionary import ObjectSpec
from workbench.record_ids import unique_id_sql
from workbench.resolve.nicknames import TABLE as NAME_FORMS
from workbench.standardize.rules import COMPANY_KEY, ROLE_MAILBOXES
from workbench.store import quote_ident, table

EMPLOYER = "employer"  # derived column: company key, else the company a work address names
# the label before the public suffix: acme for x@acme.com, x@mail.acme.co.uk, x@acme.com.sg
DOMAIN_STEM = (
    "regexp_extract(split_part({x}, '@', 2), "
    "'([a-z0-9-]+)(\\.(co|com|net|org|ac|gov|or|ne|edu))?\\.[a-z]+$', 1)"
)
RARE_NAME_MAX = 25  # records sharing a full name for it to be a blocking key on its own


@dataclass(frozen=True)
class IdentityField:
    """One column of the matching input."""

    name: str
    kind: str


@dataclass(frozen=True)
class Features:
    """The matching input of an object: its SQL and its identity columns."""

    object: str
    sql: str
    fields: list[IdentityField]
    employer: str | None = None  # the derived employer column, when there is one
    reads: tuple[str, ...] = ()  # the core columns ``sql`` reads

    def sql_over(self, relation: str) -> str:
        """``sql`` reading ``relation`` instead of the core table."""
        return self.sql.replace(table("core", self.object), relation)

    def of_kind(self, kind: str) -> list[str]:
        return [f.name for f in self.fields if f.kind == kind]

    @property
    def model_columns(self) -> list[str]:
        """The columns Splink needs (comparisons, blocking, term frequencies), no more:
        lineage and the fingerprint stay out of its database."""
        names = self.of_kind("name")
        derived = ["full_name", "first_forms", "rare_full_name"] if len(names) >= 2 else []
        fields = [f.name for f in self.fields]
        if self.employer:  # it stands for the first company field
            fields = [f for f in fields if f != self.of_kind("company")[0]] + [self.employer]
        return ["unique_id", *fields, *derived]


def features(object_name: str, spec: ObjectSpec, core_columns: list[str]) -> Features:
    """SELECT of the matching input from ``core.<object>``.

    ``unique_id`` is ``source:record_id``; only identity fields present in core take part.
    """
    selected = [
        f"{unique_id_sql()} AS unique_id",
        "_source AS source",
        "CAST(record_id AS VARCHAR) AS record_id",
    ]
    fields: list[IdentityField] = []
    reads = ["_source", "record_id"]
    mail_domain = None  # the stem of the first email field's domain (acme for x@acme.co.uk)
    for name, field in spec.fields.items():
        if field.identity is None or name not in core_columns:
            continue
        col = quote_ident(name)
        kind = field.identity
        if kind == "name":
            expr = f"nullif(strip_accents(lower(trim({col}))), '')"
        elif kind == "email":
            norm = f"{name}_norm"
            email = quote_ident(norm) if norm in core_columns else f"lower({col})"
            reads += [norm] if norm in core_columns else []
            # a role mailbox (info@, sales@, team@) is shared by many people: no evidence
            expr = (
                f"CASE WHEN regexp_matches({email}, '^({ROLE_MAILBOXES})@') "
                f"THEN NULL ELSE {email} END"
            )
            if mail_domain is None:
                mail_domain = DOMAIN_STEM.format(x=email)
        elif kind == "postcode":
            expr = f"nullif(upper(replace({col}, ' ', '')), '')"
        elif kind == "company":
            expr = COMPANY_KEY.format(x=col)
        elif kind == "date":
            expr = f"CAST({col} AS VARCHAR)"
        elif kind == "text":
            expr = f"nullif(lower(trim({col})), '')"
        elif kind == "phone":
            # The last 8 digits: the same number whether or not it could be read as E.164
            # (a national number without a known country keeps only its raw spelling).
            raw = quote_ident(f"{name}_raw") if f"{name}_raw" in core_columns else col
            reads += [f"{name}_raw"] if f"{name}_raw" in core_columns else []
            digits = f"regexp_replace(coalesce({col}, {raw}), '[^0-9]', '', 'g')"
            expr = f"CASE WHEN length({digits}) >= 8 THEN right({digits}, 8) END"
        else:  # exact
            expr = f"CAST({col} AS VARCHAR)"
        selected.append(f"{expr} AS {quote_ident(name)}")
        fields.append(IdentityField(name, kind))
        reads.append(name)
    names = [f.name for f in fields if f.kind == "name"]
    companies = [f.name for f in fields if f.kind == "company"]
    outer = "f.*"
    joins = ""
    if companies and mail_domain is not None:
        # The employer: the company key without spaces, else the work address's domain
        # when it names a company of the data (acme.co.uk for "ACME Ltd"; never gmail.com
        # unless some record works for a company called Gmail).
        selected.append(f"{mail_domain} AS _domain")
        key = f"replace(f.{quote_ident(companies[0])}, ' ', '')"
        outer = "f.* EXCLUDE (_domain)"
        outer += f", coalesce({key}, k.employer) AS {EMPLOYER}"
        joins += (
            f" LEFT JOIN (SELECT DISTINCT {key} AS employer FROM f) k ON k.employer = f._domain"
        )
    if len(names) >= 2:
        # built from the prepared names (lower case, no accents), in the outer query
        full = " || ' ' || ".join(f"coalesce(f.{quote_ident(n)}, '')" for n in names[:2])
        outer += f", nullif(trim({full}), '') AS full_name"
        # forename variants: Bob and Robert share the form 'robert'
        first = quote_ident(names[0])
        outer += f", coalesce(v.forms, [f.{first}]) AS first_forms"
        joins += f" LEFT JOIN {NAME_FORMS} v ON v.name = f.{first}"
    # A fingerprint of everything matching looks at (63 bits of its MD5): a record whose
    # fingerprint changed is matched again by an incremental run.
    hashed = ", ".join(
        f"coalesce(CAST(f.{quote_ident(x.name)} AS VARCHAR), chr(0))" for x in fields
    )
    digest = f"(md5_number(concat_ws(chr(31), {hashed})) >> 65)::BIGINT"  # Spark: signed
    outer += f", {digest} AS feature_hash" if fields else ""
    sql = (
        f"WITH f AS (SELECT {', '.join(selected)} FROM {table('core', object_name)}) "
        f"SELECT {outer} FROM f{joins}"
    )
    if len(names) >= 2:
        # A full name shared by few records is worth comparing on its own; a common one
        # (thousands of John Smiths) needs more in common, or the pairs explode.
        sql = (
            "SELECT *, CASE WHEN count(*) OVER (PARTITION BY full_name) <= "
            f"{RARE_NAME_MAX} THEN full_name END AS rare_full_name FROM ({sql})"
        )
    sql = f"SELECT * FROM ({sql}) ORDER BY unique_id"
    employer = EMPLOYER if companies and mail_domain is not None else None
    return Features(
        object=object_name, sql=sql, fields=fields, employer=employer, reads=tuple(reads)
    )
