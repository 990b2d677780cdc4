"""The governance matrix and consent coverage: who answers for which personal data, on what
legal basis, for how long, and how much of it carries a consent decision.

:func:`governance_matrix` needs only the project (dictionary and ``workbench.yaml``), so the
command line shows it without a warehouse (``workbench dictionary matrix``);
:func:`consent_coverage` reads the consent metrics of the validation runs in ``dq.metrics``
(:mod:`workbench.quality.consent`). The governance review shows both.
"""

from __future__ import annotations

import polars as pl

from workbench.config import Project
from workbench.store import Store

NOT_SET = "not set"
PII_CLASSES = ("contact", "sensitive")  # the dictionary's pii classes other than none
MATRIX_COLUMNS = (
    "object",
    "pii",
    "contact_fields",
    "sensitive_fields",
    "retention",
    "owner",
    "legal_basis",
    "consent_fields",
    "gaps",
)


def governance_matrix(project: Project) -> pl.DataFrame:
    """One row per dictionary object: its PII classes and the fields of each, retention
    (``retention:`` in workbench.yaml), owner and legal basis (the dictionary's), consent
    fields, and its gaps.

    Every column is text: ``pii`` lists the classes present (``none`` without personal
    data), ``retention`` reads ``730 days by created_at``, a missing owner, legal basis or
    retention reads ``not set``. ``gaps`` names, for an object holding personal data, what
    governance lacks (``no owner``, ``no legal basis``, ``no retention``), and for any object
    processed on consent without a field recording it, ``consent basis without a consent
    field``; ``;``-separated, empty when nothing is missing.
    """
    rows = []
    for name, spec in project.dictionary.objects.items():
        by_class = {
            pii: [f for f, fspec in spec.fields.items() if fspec.pii == pii] for pii in PII_CLASSES
        }
        present = [pii for pii in PII_CLASSES if by_class[pii]]
        rule = project.config.retention.get(name)
        retention = NOT_SET
        if rule is not None:
            dated = rule.field or spec.dated_fields()[0]  # the config checked there is one
            retention = f"{rule.days} days by {dated}"
        consent = spec.consent_fields()
        gaps = []
        if present:
            gaps += ["no owner"] if not spec.owner else []
            gaps += ["no legal basis"] if not spec.legal_basis else []
            gaps += ["no retention"] if rule is None else []
        if "consent" in spec.legal_basis and not consent:
            gaps.append("consent basis without a consent field")
        rows.append(
            {
                "object": name,
                "pii": ", ".join(present) or "none",
                "contact_fields": ", ".join(by_class["contact"]),
                "sensitive_fields": ", ".join(by_class["sensitive"]),
                "retention": retention,
                "owner": spec.owner or NOT_SET,
                "legal_basis": ", ".join(spec.legal_basis) or NOT_SET,
                "consent_fields": ", ".join(consent),
                "gaps": "; ".join(gaps),
            }
        )
    return pl.DataFrame(rows, schema=dict.fromkeys(MATRIX_COLUMNS, pl.String))


COVERAGE_SCHEMA = {
    "object": pl.String,
    "source": pl.String,
    "field": pl.String,
    "mapped": pl.Boolean,
    "run_id": pl.Int64,
    "valid": pl.Int64,
    "recorded": pl.Int64,
    "coverage": pl.Float64,
    "granted": pl.Float64,
    "previous_coverage": pl.Float64,
}


def consent_coverage(project: Project, store: Store) -> pl.DataFrame:
    """Per consent field and source of its object: whether the source maps the field, the
    latest validation run's valid records, those with a recorded decision, ``coverage`` and
    ``granted`` shares, and the coverage of the run before it that recorded one (None if
    none did).

    A source that does not map the consent field (it records no consent) has a row whose
    figures are empty. No consent field in the dictionary: no rows."""
    history = consent_history(store)
    rows = []
    for name, spec in project.dictionary.objects.items():
        for field in spec.consent_fields():
            for source_name, source in project.config.sources.items():
                if source.object != name:
                    continue
                row: dict[str, object] = dict.fromkeys(COVERAGE_SCHEMA)
                row.update(object=name, source=source_name, field=field)
                row["mapped"] = field in source.columns
                runs = history.filter(
                    (pl.col("object") == name)
                    & (pl.col("source") == source_name)
                    & (pl.col("field") == field)
                ).sort("run_id")
                if runs.height:
                    last = runs.row(-1, named=True)
                    row.update({k: last[k] for k in ("run_id", "valid", "recorded")})
                    row.update(coverage=last["coverage"], granted=last["granted"])
                    if runs.height > 1:
                        row["previous_coverage"] = runs["coverage"][-2]
                rows.append(row)
    return pl.DataFrame(rows, schema=COVERAGE_SCHEMA)


def consent_history(store: Store) -> pl.DataFrame:
    """Every validation run's consent coverage and granted share per object, source and
    field (the columns of :func:`consent_coverage` but ``mapped`` and
    ``previous_coverage``), oldest run first."""
    if not store.table_exists("dq", "metrics"):
        skip = ("mapped", "previous_coverage")
        return pl.DataFrame(schema={k: v for k, v in COVERAGE_SCHEMA.items() if k not in skip})
    return store.frame(
        """SELECT run_id, object, source, field,
                  CAST(any_value(denominator) FILTER (metric = 'consent_coverage') AS BIGINT)
                    AS valid,
                  CAST(any_value(numerator) FILTER (metric = 'consent_coverage') AS BIGINT)
                    AS recorded,
                  any_value(value) FILTER (metric = 'consent_coverage') AS coverage,
                  any_value(value) FILTER (metric = 'consent_granted_rate') AS granted
           FROM dq.metrics
           WHERE metric IN ('consent_coverage', 'consent_granted_rate')
           GROUP BY ALL ORDER BY run_id, object, source, field"""
    ).select("object", "source", "field", "run_id", "valid", "recorded", "coverage", "granted")
