"""Consent coverage: how many valid records hold a consent decision, per source.

For every field the dictionary marks ``consent: true`` and every source that maps it,
over the source's valid records (its rows of ``core.<object>``, which passed validation):

- ``consent_coverage``: the share with a recorded decision (the field has a value);
- ``consent_granted_rate``: the share with consent granted (a boolean field true; a date
  or timestamp field has a value, the time consent was given).

Numerator and denominator are kept with each value, like every metric in ``dq.metrics``.
A value validation set aside as unreadable is empty in core: no decision. A source that
does not map the field records neither metric (the governance report lists it as not
recording consent). Both are higher-is-better, so ``quality.blocking`` can set a floor
(``consent_coverage: 0.8``) and a drop shows as a regression.
"""

from __future__ import annotations

from workbench.config import Project
from workbench.dictionary import FieldType
from workbench.store import Store, quote_ident, table


def record_consent(project: Project, store: Store, run_id: int) -> None:
    """Store ``consent_coverage`` and ``consent_granted_rate`` of the run in ``dq.metrics``,
    per object, consent field and source that maps it (none when nothing is valid)."""
    for name, spec in project.dictionary.objects.items():
        fields = spec.consent_fields()
        if not fields or not store.table_exists("core", name):
            continue
        present = set(store.columns("core", name))
        for source_name, source in project.config.sources.items():
            if source.object != name:
                continue
            for field in fields:
                if field in source.columns and field in present:
                    boolean = spec.fields[field].type is FieldType.BOOLEAN
                    store.execute(
                        consent_sql(table("core", name), field, boolean=boolean),
                        {"run": run_id, "o": name, "s": source_name, "f": field},
                    )


def consent_sql(core: str, field: str, *, boolean: bool) -> str:
    """Insert the two consent metrics of source ``$s``'s valid records of ``core``."""
    col = quote_ident(field)
    granted = f"{col} IS TRUE" if boolean else f"{col} IS NOT NULL"
    return f"""
        INSERT INTO dq.metrics
        WITH c AS (SELECT count(*) AS total, count({col}) AS recorded,
                          count(*) FILTER (WHERE {granted}) AS granted
                   FROM {core} WHERE _source = $s)
        SELECT $run, $o, $s, $f, 'consent_coverage', recorded / total, recorded, total
        FROM c WHERE total > 0
        UNION ALL
        SELECT $run, $o, $s, $f, 'consent_granted_rate', granted / total, granted, total
        FROM c WHERE total > 0"""
