"""Seeded benchmark inputs, generated with DuckDB and reused while they exist."""

from __future__ import annotations

from pathlib import Path

import duckdb

CONTACT_COLUMNS = (
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "Account.Name",
    "MailingCity",
    "MailingCountry",
    "CreatedDate",
)

_CONTACTS_SQL = """
COPY (
  SELECT '003' || lpad(i::VARCHAR, 15, '0') AS "Id",
    (['Anna','Bob','Carla','David','Eva','Frank','Greta','Hans','Ines','Jörg'])
        [1 + (hash(i, $seed, 1) % 10)::BIGINT] AS "FirstName",
    (['Müller','Smith','García','Rossi','Dubois','Jansen','Novak','Kowalski','Silva','Brown'])
        [1 + (hash(i, $seed, 2) % 10)::BIGINT] AS "LastName",
    CASE WHEN i % 200 = 7 THEN 'user' || i || ' at example.com'
         ELSE 'user' || i || '@example' || (hash(i, $seed, 3) % 1000) || '.com' END AS "Email",
    '+49 30 ' || (1000000 + hash(i, $seed, 4) % 8999999) AS "Phone",
    'Company ' || (hash(i, $seed, 5) % 50000) || ' GmbH' AS "Account.Name",
    (['Berlin','Hamburg','London','Paris','Madrid'])[1 + (hash(i, $seed, 6) % 5)::BIGINT]
        AS "MailingCity",
    (['DE','DE','GB','FR','ES'])[1 + (hash(i, $seed, 6) % 5)::BIGINT] AS "MailingCountry",
    strftime(TIMESTAMP '2024-01-01' + to_seconds((hash(i, $seed, 7) % 60000000)::BIGINT),
             '%Y-%m-%dT%H:%M:%S.000+0000') AS "CreatedDate"
  FROM range($rows) t(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""

CONTACTS_CONFIG = """\
# Benchmark project: one Salesforce-style contact export.
sources:
  crm_contacts:
    system: crm
    object: contacts
    path: contacts.csv
    options: {delimiter: ","}
    columns:
      record_id: Id
      first_name: FirstName
      last_name: LastName
      email: Email
      phone: Phone
      company_name: Account.Name
      city: MailingCity
      country: MailingCountry
      created_at: {from: CreatedDate, format: "%Y-%m-%dT%H:%M:%S.%g%z"}
"""


def contacts_csv(folder: Path, rows: int, seed: int = 7) -> Path:
    """A Salesforce-style contact CSV of ``rows`` rows (about 130 bytes a row).

    One row in 200 has a malformed email, so that validation has something to quarantine.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"contacts_v2_{rows}_{seed}.csv"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        con = duckdb.connect()
        # COPY's target cannot be a parameter; the path is ours, not user input.
        con.execute(
            _CONTACTS_SQL.format(path=str(tmp).replace("'", "''")), {"rows": rows, "seed": seed}
        )
        con.close()
        tmp.rename(path)
    return path
