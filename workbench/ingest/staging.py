"""Staging: map a source's raw text columns onto the canonical fields, with transforms.

For each canonical field the source maps, :func:`field_sql` builds a DuckDB expression from
the source column: trim, null tokens, name splitting, value maps, case, then parsing into the
field's type (dates with formats and time zones, decimal commas, currency codes). A value
that is present but cannot be parsed is never turned into a silent NULL: the row keeps it
in ``_problems`` (``field: cannot read 'x' as date``) for validation to quarantine.

All values from the config (null tokens, formats, zones, maps) are bound as parameters.
:func:`canonical_rows` reads a source's raw rows, of every load, in the same canonical form
(for erasure, retention and the suppression of erased people at load).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench.config import FieldMap, Project, Source
from workbench.dictionary import FieldType, ObjectSpec
from workbench.formats import EPOCH_UNITS, is_epoch, minor_unit_exponents
from workbench.store import Store, quote_ident, table

LINEAGE_COLUMNS = {
    "_source": "VARCHAR",
    "_system": "VARCHAR",
    "_load_id": "BIGINT",
    "_row_number": "BIGINT",
}
CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "¥": "JPY", "CHF": "CHF"}
# 'on'/'off': a web form's checkbox, and a value map's on/off (YAML keeps them as text)
TRUE_WORDS = ["true", "t", "yes", "y", "1", "ja", "oui", "si", "x", "on"]
FALSE_WORDS = ["false", "f", "no", "n", "0", "nein", "non", "off"]
_TRIMMED_CODES = "32, 9, 13, 10, 160"  # the code points raw_text_sql trims: ' \t\r\n', NBSP
_OFFSET_AT_END = r"\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|z|[+-]\d\d(:?\d\d)?|UTC|GMT)$"
# what DuckDB's cast needs of such a time: seconds, a numeric offset right after them, Z
_NO_SECONDS = r"(^|[^:\d])(\d{1,2}:\d\d)(\s*(Z|z|[+-]\d\d(:?\d\d)?|UTC|GMT))$"
_SPACED_OFFSET = r"\s+([+-]\d\d(:?\d\d)?)$"


@dataclass
class SqlBuilder:
    """Collects named parameters while SQL text is assembled."""

    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"


def staging_columns(spec: ObjectSpec) -> dict[str, str]:
    """The columns of an object's staging table and their DuckDB types."""
    cols = dict(LINEAGE_COLUMNS)
    cols |= {n: f.type.sql_type for n, f in spec.fields.items()}
    cols["_problems"] = "VARCHAR[]"
    return cols


def staging_table_sql(object_name: str, spec: ObjectSpec) -> str:
    """DDL of the staging table of one canonical object."""
    cols = [f"{quote_ident(n)} {t}" for n, t in staging_columns(spec).items()]
    return f"CREATE TABLE IF NOT EXISTS {table('stg', object_name)} ({', '.join(cols)})"


def staging_changes(store: Store, object_name: str, spec: ObjectSpec) -> list[str]:
    """The ``ALTER TABLE`` statements that bring the object's staging table, staged before
    the dictionary changed, to its fields (none when it fits, or does not exist yet)."""
    if not store.table_exists("stg", object_name):
        return []
    wanted = staging_columns(spec)
    shape = "_wb_stg_shape"
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE {shape} "
        f"({', '.join(f'{quote_ident(n)} {t}' for n, t in wanted.items())})"
    )
    try:  # the types as DuckDB spells them (TIMESTAMPTZ is TIMESTAMP WITH TIME ZONE)
        types = "SELECT column_name, data_type FROM information_schema.columns WHERE "
        now = dict(
            store.rows(
                types + "table_catalog = current_database() AND table_schema = 'stg' "
                "AND table_name = $t",
                {"t": object_name},
            )
        )
        expected = dict(store.rows(types + "table_catalog = 'temp' AND table_name = $t",
                                   {"t": shape}))  # fmt: skip
    finally:
        store.execute(f"DROP TABLE IF EXISTS {shape}")
    stg = table("stg", object_name)
    changes = []
    for name, kind in wanted.items():
        col = quote_ident(name)
        if name not in now:
            changes.append(f"ALTER TABLE {stg} ADD COLUMN {col} {kind}")
        elif now[name] != expected.get(name, now[name]):
            changes.append(f"ALTER TABLE {stg} ALTER COLUMN {col} TYPE {kind} USING NULL")
    changes += [f"ALTER TABLE {stg} DROP COLUMN {quote_ident(n)}" for n in now.keys() - wanted]
    return changes


def conform_staging(store: Store, object_name: str, spec: ObjectSpec) -> None:
    """Create the object's staging table, or bring one staged before the dictionary changed
    to its fields: columns of new fields are added, those of removed fields dropped, and a
    field whose type changed gets the new type, empty (every source of the object is then
    staged again: see ``staging_changes`` in the loader's check of what is current)."""
    for statement in staging_changes(store, object_name, spec):
        store.execute(statement)
    store.execute(staging_table_sql(object_name, spec))


def mapping_fingerprint(source: Source, spec: ObjectSpec) -> str:
    """Changes whenever the way a source is staged changes (mapping, options, field types)."""
    payload = {
        # defaults left out: an option added to Workbench does not re-stage every source
        "columns": {
            k: v.model_dump(by_alias=True, exclude_defaults=True) for k, v in source.columns.items()
        },
        "options": source.options.model_dump(exclude_defaults=True),
        "types": {k: v.type.value for k, v in spec.fields.items()},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def raw_text_sql(fmap: FieldMap, b: SqlBuilder) -> str:
    """The field's source column (or constant), trimmed of spaces, tabs, line ends, NBSP.

    ``trim`` with a set of characters costs more per value than the rest of staging
    together, so it runs only on values that start or end with one of them (``ascii`` and
    ``right`` read code points, as ``trim`` does); the others are already trimmed.
    """
    expr = quote_ident(fmap.from_) if fmap.from_ is not None else b.bind(fmap.value)
    if not fmap.trim:
        return expr
    ends = f"ascii({expr}) IN ({_TRIMMED_CODES}) OR ascii(right({expr}, 1)) IN ({_TRIMMED_CODES})"
    return f"CASE WHEN {ends} THEN {_trimmed(expr)} ELSE {expr} END"


def blank_sql(expr: str) -> str:
    """Whether the text ``expr`` is NULL, empty, or only what :func:`raw_text_sql` trims
    (``trim`` runs only on a value that starts with one of those characters)."""
    return (
        f"({expr} IS NULL OR length({expr}) = 0 OR "
        f"(ascii({expr}) IN ({_TRIMMED_CODES}) AND {_trimmed(expr)} = ''))"
    )


def _trimmed(expr: str) -> str:
    return f"trim({expr}, ' \t\r\n' || chr(160))"


def null_token_sql(expr: str, nulls: list[str], b: SqlBuilder) -> str:
    """NULL where the value is one of the source's null tokens (N/A, #N/A, -, ...)."""
    if not nulls:
        return expr
    longest = max(len(t) for t in nulls)
    return (
        f"CASE WHEN length({expr}) <= {longest} AND list_contains({b.bind(nulls)}::VARCHAR[], "
        f"{expr}) THEN NULL ELSE {expr} END"
    )


def text_sql(expr: str, fmap: FieldMap, b: SqlBuilder) -> str:
    """Text transforms on a cleaned value: email local part, name split, value map, case."""
    if fmap.email_local:
        expr = _email_local_sql(expr)
    if fmap.name_part:
        expr = _name_part_sql(expr, fmap.name_part, fmap.name_order)
    if fmap.map:
        pairs = {k: v for k, v in fmap.map.items() if k != "*"}
        other = b.bind(fmap.map["*"]) if "*" in fmap.map else expr
        keys, targets = b.bind(list(pairs)), b.bind(list(pairs.values()))
        expr = (
            f"CASE WHEN {expr} IS NULL THEN NULL "
            f"WHEN list_contains({keys}::VARCHAR[], {expr}) "
            f"THEN ({targets}::VARCHAR[])[list_position({keys}::VARCHAR[], {expr})] "
            f"ELSE {other} END"
        )
    if fmap.case == "lower":
        expr = f"lower({expr})"
    elif fmap.case == "upper":
        expr = f"upper({expr})"
    elif fmap.case == "title":
        # upper case at the start and after a space or hyphen; after an apostrophe only
        # behind a one-letter start (O'Brien, D'Arcy; not Macy'S); never after a digit (3rd)
        chars = f"string_split(lower(nfc_normalize({expr})), '')"
        word = r"'[\pL\pM\pN]'"
        after_start = f"(i = 3 OR NOT regexp_matches({chars}[i - 3], {word}))"
        expr = (
            f"array_to_string(list_transform({chars}, lambda c, i: CASE WHEN i = 1 OR "
            f"(NOT regexp_matches({chars}[i - 1], {word}) AND ({chars}[i - 1] <> chr(39) "
            f"OR {after_start})) THEN upper(c) ELSE c END), '')"
        )
    return expr


def _email_local_sql(expr: str) -> str:
    """``anna.obrien83@x.com`` or ``anna.obrien83`` -> ``anna obrien``; a name with spaces
    and no ``@`` is taken as a name already."""
    local = f"split_part({expr}, '@', 1)"
    words = (
        f"regexp_replace(regexp_replace(regexp_replace({local}, '\\+.*$', ''), "
        "'[0-9]+', '', 'g'), '[._]+', ' ', 'g')"
    )
    return (
        f"CASE WHEN regexp_matches({expr}, '\\s') AND NOT contains({expr}, '@') THEN {expr} "
        f"ELSE nullif(trim({words}), '') END"
    )


# First names, then the last word with the particles before it: "Anna van der Berg",
# "Seán St. John", "Anna Maria de la Cruz" (RE2, as DuckDB's regexp functions).
_PARTICLES = r"van|von|der|den|de|del|della|di|da|du|dos|das|le|la|st\.?|ten|ter|bin|ibn|al"
_FIRST_LAST = rf"^(.*?\S)\s+((?:(?i:{_PARTICLES})\s+)*\S+)$"
# Honorifics before a name and suffixes after it are no part of it: "Dr. Mateo Rossi Jr."
# is Mateo Rossi. Whole words only, with or without a dot ("Drew", "Sirius", "Misses" are
# names), honorifics in any case and one after another ("Prof. Dr."), and only before more
# of the name (a lone "Dr." stays). Suffixes follow a space or a comma; Jr, Sr, Esq and PhD
# in any case, II, III, IV and MD in capitals only ("Ii" and "Md" are names).
_HONORIFICS = r"^(?:(?i:mrs|mr|ms|miss|mx|dr|prof|herr|frau|sir|dame)(?:\.\s*|\s+))+(\S)"
_SUFFIX = r"(?:(?i:jr|sr|esq|phd|ph\.d)|II|III|IV|MD|M\.D)\.?"
_SUFFIXES = rf"^(.*?[^\s,])(?:(?:\s*,\s*|\s+){_SUFFIX})+\s*$"


def _name_part_sql(expr: str, part: str, order: str) -> str:
    """Split a full name: ``Last, First`` (comma) or ``First Middle Last`` (last word, with
    particles such as van der), honorifics and suffixes left out.

    A single word left after an honorific is a surname ("Frau Müller"); otherwise a single
    word is a first name (``last_first``: a last name).
    """
    full = f"trim({expr})"
    name = _unsuffixed_sql(_untitled_sql(full))
    comma = f"strpos({name}, ',')"
    given = _untitled_sql(f"trim(substr({name}, {comma} + 1))")  # Rossi, Dr. Mateo
    family = _unsuffixed_sql(f"trim(split_part({name}, ',', 1))")  # Rossi Jr., Mateo
    last_first = f"CASE WHEN {comma} > 0 THEN " + (
        f"nullif(trim({given}), '')" if part == "first" else f"nullif({family}, '')"
    )
    spaced = f"regexp_extract({name}, '{_FIRST_LAST}', {1 if part == 'first' else 2})"
    titled = f"regexp_matches({full}, '{_HONORIFICS}')"
    one_word = (
        f"CASE WHEN {titled} THEN NULL ELSE {name} END"
        if part == "first"
        else f"CASE WHEN {titled} THEN {name} END"
    )
    first_last = f"CASE WHEN NOT regexp_matches({name}, '\\s') THEN {one_word} ELSE {spaced} END"
    if order == "first_last":
        return first_last
    return (
        f"{last_first} ELSE {first_last} END"
        if order == "auto"
        else (f"{last_first} ELSE " + (name if part == "last" else "NULL") + " END")
    )


def _untitled_sql(expr: str) -> str:
    """The text without the honorifics it starts with (when more follows them)."""
    return f"regexp_replace({expr}, '{_HONORIFICS}', '\\1')"


def _unsuffixed_sql(expr: str) -> str:
    """The text without the suffixes it ends with (when something precedes them)."""
    return f"regexp_replace({expr}, '{_SUFFIXES}', '\\1')"


def typed_sql(
    text: str,
    kind: FieldType,
    fmap: FieldMap,
    source: Source,
    b: SqlBuilder,
    currency: str | None = None,
) -> str:
    """Parse cleaned text into the field's type; NULL where it cannot be parsed.

    ``currency`` names the field holding a money amount's currency (for ``minor_units``).
    """
    opts = source.options
    decimal = fmap.decimal or opts.decimal
    if kind.is_dated:
        fmt = formats_of(kind, fmap, source)
        if fmt:
            fmts = fmt if isinstance(fmt, list) else [fmt]
            zone = fmap.timezone or opts.timezone
            parts = [_time_sql(text, f, kind, zone, b) for f in fmts]
            return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
        if kind is FieldType.DATE:
            return (
                f"coalesce(TRY_CAST({text} AS DATE), CAST(TRY_CAST({text} AS TIMESTAMP) AS DATE))"
            )
        return (
            f"CASE WHEN regexp_matches({text}, '{_OFFSET_AT_END}') "
            f"THEN coalesce(TRY_CAST({text} AS TIMESTAMPTZ), "
            f"TRY_CAST({_offset_spelled_sql(text)} AS TIMESTAMPTZ)) "
            f"ELSE timezone({b.bind(fmap.timezone or opts.timezone)}, "
            f"TRY_CAST({text} AS TIMESTAMP)) END"
        )
    if kind in (FieldType.DECIMAL, FieldType.INTEGER):
        number = _number_text_sql(text, decimal)
        target = kind.sql_type
        if kind is FieldType.INTEGER:
            wide = f"TRY_CAST(TRY_CAST({number} AS DECIMAL(38,6)) AS BIGINT)"
            return (
                f"CASE WHEN regexp_matches({number}, '^[+-]?\\d+(\\.0*)?$') "
                f"THEN coalesce(TRY_CAST({number} AS BIGINT), {wide}) END"
            )
        if fmap.minor_units is not None:
            return _minor_units_sql(number, fmap.minor_units, currency, kind, b)
        return _decimal_sql(number, target)
    if kind is FieldType.BOOLEAN:
        return (
            f"CASE WHEN list_contains({b.bind(TRUE_WORDS)}::VARCHAR[], lower({text})) "
            f"THEN true WHEN list_contains({b.bind(FALSE_WORDS)}::VARCHAR[], lower({text})) "
            "THEN false END"
        )
    if kind is FieldType.CURRENCY:
        return _currency_sql(text, b)
    return text


def _offset_spelled_sql(text: str) -> str:
    """A time with an offset as DuckDB casts it, from spellings it does not: the offset after
    a space (Rails, Shopify: ``2026-03-04 10:22:33 -0500``), a lower-case ``z``, a time
    without seconds (``10:22Z``). Only rows the plain cast could not read get here."""
    seconds = f"regexp_replace({text}, '{_NO_SECONDS}', '\\1\\2:00\\3')"
    joined = f"regexp_replace({seconds}, '{_SPACED_OFFSET}', '\\1')"
    return f"regexp_replace({joined}, 'z$', 'Z')"


def _time_sql(text: str, fmt: str, kind: FieldType, zone: str, b: SqlBuilder) -> str:
    """One format's reading of a date or timestamp (UTC), NULL where it does not fit."""
    if is_epoch(fmt):
        # through DOUBLE: exact for every epoch up to microseconds; NULL far out of range
        micros = f"TRY_CAST(round(TRY_CAST({text} AS DOUBLE) * {EPOCH_UNITS[fmt]}) AS BIGINT)"
        naive = f"CASE WHEN abs({micros}) < 100000000000000000 THEN make_timestamp({micros}) END"
        return f"CAST({naive} AS DATE)" if kind is FieldType.DATE else f"timezone('UTC', {naive})"
    parsed = _strptime(text, fmt, b)
    if kind is FieldType.DATE:
        return f"CAST({parsed} AS DATE)"
    if "%z" in fmt or "%Z" in fmt:  # the offset in the value says where it is
        return f"CAST({parsed} AS TIMESTAMPTZ)"
    return f"timezone({b.bind(zone)}, CAST({parsed} AS TIMESTAMP))"


def _key_sql(text: str) -> str:
    """An id (a record's, or one referring to a record) written as a whole number with a
    zero fraction as that number: ``103.0`` is how pandas writes an id column with gaps, in
    JSON and CSV, and it must match ``103`` where another export refers to it."""
    whole = f"regexp_replace({text}, '^([+-]?[0-9]+)\\.0+$', '\\1')"
    return f"CASE WHEN contains({text}, '.') THEN {whole} ELSE {text} END"


def _decimal_sql(number: str, target: str) -> str:
    """``number`` as the decimal ``target`` (``DECIMAL(p,s)``), NULL where it is none.

    DuckDB reads text into a decimal of at most 18 digits about a hundred times faster than
    into a wider one, so a value is read as ``DECIMAL(18,s)`` first and only one too large
    for that is read as ``target`` (both round to ``s`` places alike)."""
    precision, scale = (int(x) for x in target.removeprefix("DECIMAL(").rstrip(")").split(","))
    if precision <= 18:
        return f"TRY_CAST({number} AS {target})"
    return f"coalesce(TRY_CAST({number} AS DECIMAL(18,{scale})), TRY_CAST({number} AS {target}))"


def _currency_sql(text: str, b: SqlBuilder) -> str:
    keys, values = list(CURRENCY_SYMBOLS), list(CURRENCY_SYMBOLS.values())
    return (
        f"coalesce(map_from_entries(list_zip({b.bind(keys)}::VARCHAR[], "
        f"{b.bind(values)}::VARCHAR[]))[upper({text})], upper({text}))"
    )


def _other_currency_sql(name: str, currency: str, b: SqlBuilder) -> tuple[str, str]:
    """When an amount's text names a currency (``EUR 20``, ``20 USD``, ``€20``) other than
    its row's currency field: the condition, and the problem to record. Only marks that
    name one currency count: ``$`` and ``£`` are written for several."""
    t, c = quote_ident(f"_t_{name}"), quote_ident(currency)
    mark = f"regexp_extract({t}, '^(€|[A-Z]{{3}})|(€|[A-Z]{{3}})$')"  # one regex a row
    named = f"CASE {mark} WHEN '' THEN NULL WHEN '€' THEN 'EUR' ELSE {mark} END"
    clash = f"{named} <> {c}"  # NULL (no clash) without a mark or a currency
    said = (
        f"{b.bind(f'{name}: ')} || '''' || {t} || '''' || {b.bind(' is written in ')} || "
        f"{named} || {b.bind(f', but the row says {currency} ')} || {c}"
    )
    return clash, said


def _minor_units_sql(
    number: str, minor: bool | int, currency: str | None, kind: FieldType, b: SqlBuilder
) -> str:
    """A whole number of minor units (cents) as an amount: divided by 10^exponent, exactly."""
    if minor is True and currency is not None:  # config checks the currency is mapped
        exponents = minor_unit_exponents()
        exponent = (
            f"coalesce(map_from_entries(list_zip({b.bind(list(exponents))}::VARCHAR[], "
            f"{b.bind(list(exponents.values()))}::INTEGER[]))"
            f"[{_currency_sql(quote_ident('_t_' + currency), b)}], 2)"
        )
    else:
        exponent = str(int(minor))
    factor = f"CAST(1 / pow(10, {exponent}) AS DECIMAL(18,10))"
    # a whole number, also as a JSON exporter writes one it holds as a float ('1000.0')
    whole = f"regexp_replace({number}, '\\.0+$', '')"
    return (
        f"CASE WHEN regexp_matches({number}, '^[+-]?\\d{{1,18}}(\\.0+)?$') THEN "
        f"CAST(CAST({whole} AS DECIMAL(28,0)) * {factor} AS {kind.sql_type}) END"
    )


def _strptime(text: str, fmt: str, b: SqlBuilder) -> str:
    # One format per call: DuckDB's list-of-formats form is about ten times slower.
    parsed = f"try_strptime({text}, {b.bind(fmt)})"
    if "%Y" in fmt:  # DuckDB reads '25' as the year 25: %Y means the year in four digits
        return f"CASE WHEN year({parsed}) >= 1000 THEN {parsed} END"
    return parsed


def _signed_sql(text: str) -> str:
    """Accounting spellings of a negative amount as a leading minus: ``(123.45)``,
    ``123.45-`` (SAP), ``-$50.00`` and ``-EUR 5`` (the sign before the currency mark). Only
    a value starting with a sign or a parenthesis, or ending in a minus, is rewritten."""
    paren = f"regexp_replace({text}, '^\\((.*)\\)$', '-\\1')"
    trailing = f"regexp_replace({paren}, '^([0-9]|[^+-].*[0-9])\\s*-$', '-\\1')"
    marked = f"regexp_replace({trailing}, '^([+-])\\s*(€|\\$|£|[A-Z]{{3}})\\s*', '\\1')"
    return f"CASE WHEN regexp_matches({text}, '^[(+-]|-$') THEN {marked} ELSE {text} END"


def _number_text_sql(text: str, decimal: str) -> str:
    """Drop currency marks and thousands separators; make '.' the decimal point; read the
    accounting spellings of a negative amount (:func:`_signed_sql`), also with the minus
    sign (U+2212) CLDR's Swedish, Finnish and Norwegian formats write."""
    signed = _signed_sql(f"replace({text}, '\u2212', '-')")
    marks = "'^(€|\\$|£|[A-Z]{3})\\s*|\\s*(€|\\$|£|[A-Z]{3})$'"
    bare = f"regexp_replace({signed}, {marks}, '', 'g')"
    # thousands grouped by a space of any kind (NBSP, CLDR's narrow no-break space) or "'"
    bare = f"regexp_replace({bare}, '[\\s''\\p{{Zs}}]', '', 'g')"
    if decimal == ",":
        # '.' may only group thousands (1.234,56); '12.50' is not read as 1250
        return (
            f"CASE WHEN regexp_matches({bare}, '^[+-]?(\\d{{1,3}}(\\.\\d{{3}})+|\\d+)(,\\d+)?$') "
            f"THEN replace(replace({bare}, '.', ''), ',', '.') END"
        )
    return (
        f"CASE WHEN regexp_matches({bare}, '^[+-]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?$') "
        f"THEN replace({bare}, ',', '') ELSE {bare} END"
    )


def formats_of(kind: FieldType, fmap: FieldMap, source: Source) -> str | list[str] | None:
    """The strptime format(s) a date or timestamp field is read with (None: ISO 8601).

    A timestamp field without a format of its own may hold plain dates (date_format).
    """
    opts = source.options
    if kind is FieldType.TIMESTAMP:
        return fmap.format or opts.timestamp_format or opts.date_format
    if kind is FieldType.DATE:
        return fmap.format or opts.date_format
    return None


def _problem_sql(name: str, kind: FieldType, fmap: FieldMap, source: Source, b: SqlBuilder) -> str:
    fmt = formats_of(kind, fmap, source)
    how = f" with format {fmt}" if fmt else (" in minor units" if fmap.minor_units else "")
    t, v = quote_ident(f"_t_{name}"), quote_ident(name)
    label = b.bind(f"{name}: cannot read ")
    suffix = b.bind(f" as {kind.value}{how}")
    quoted = f"{label} || '''' || {t} || '''' || {suffix}"
    return f"CASE WHEN {t} IS NOT NULL AND {v} IS NULL THEN {quoted} END"


def select_staged_sql(
    source_name: str, source: Source, spec: ObjectSpec, raw_table: str, load_filter: str
) -> tuple[str, dict[str, Any]]:
    """SELECT producing the staged rows of ``source`` from its raw table.

    Built in layers, each naming its columns for the next: trimmed (``_r_``), null tokens
    removed (``_c_``), text transforms (``_t_``), typed (the field name), then ``_problems``.
    """
    b = SqlBuilder()
    nulls = list(source.options.null_values)
    trimmed, cleaned, texts, typed, problems, checks = [], [], [], [], [], []
    for name, fmap in source.columns.items():
        kind = spec.fields[name].type
        r, c, t = (quote_ident(f"_{p}_{name}") for p in "rct")
        trimmed.append(f"{raw_text_sql(fmap, b)} AS {r}")
        cleaned.append(f"{null_token_sql(r, nulls, b)} AS {c}")
        texts.append(f"{text_sql(c, fmap, b)} AS {t}")
        money = spec.fields[name].currency_field
        value = typed_sql(t, kind, fmap, source, b, money)
        if kind is FieldType.TEXT and (name == "record_id" or spec.fields[name].rules.references):
            value = _key_sql(value)
        typed.append(f"{value} AS {quote_ident(name)}")
        if kind not in (FieldType.TEXT, FieldType.EMAIL, FieldType.PHONE):
            problems.append(_problem_sql(name, kind, fmap, source, b))
            checks.append(f"({t} IS NOT NULL AND {quote_ident(name)} IS NULL)")
        if money in source.columns and kind is FieldType.DECIMAL:
            clash, said = _other_currency_sql(name, money, b)
            problems.append(f"CASE WHEN {clash} THEN {said} END")
            checks.append(f"({clash})")
    problem_list = (
        f"CASE WHEN {' OR '.join(checks)} THEN list_filter([{', '.join(problems)}]::VARCHAR[], "
        "lambda x: x IS NOT NULL) ELSE []::VARCHAR[] END"
        if problems
        else "[]::VARCHAR[]"
    )
    keep = "_source, _system, _load_id, _row_number"
    names = ", ".join(quote_ident(n) for n in source.columns)
    sql = (
        f"SELECT {keep}, {names}, {problem_list} AS _problems FROM ("
        f"SELECT *, {', '.join(typed)} FROM ("
        f"SELECT *, {', '.join(texts)} FROM ("
        f"SELECT *, {', '.join(cleaned)} FROM ("
        f"SELECT {b.bind(source_name)} AS _source, {b.bind(source.system)} AS _system, "
        f"_load_id, _row_number, {', '.join(trimmed)} FROM {raw_table} WHERE {load_filter}))))"
    )
    return sql, b.params


def restage_source(store: Store, project: Project, source_name: str) -> int:
    """Replace the source's rows in its object's staging table with its current snapshot.

    Returns the number of rows staged.
    """
    source = project.source(source_name)
    spec = project.dictionary.object(source.object)
    conform_staging(store, source.object, spec)
    stg = table("stg", source.object)
    store.execute(f"DELETE FROM {stg} WHERE _source = $s", {"s": source_name})
    raw = table("raw", source_name)
    if not store.table_exists("raw", source_name):
        return 0
    select, params = select_staged_sql(
        source_name,
        source,
        spec,
        raw,
        "_load_id IN (SELECT load_id FROM meta.loads WHERE source = $src AND is_current)",
    )
    params["src"] = source_name
    store.execute(f"INSERT INTO {stg} BY NAME {select}", params)
    return int(store.scalar(f"SELECT count(*) FROM {stg} WHERE _source = $s", {"s": source_name}))


def prune_staging(project: Project, store: Store) -> int:
    """Drop staged rows of sources no longer configured for that object; returns rows removed.

    Renaming or removing a source (or moving it to another object) must not leave its old
    rows behind to be validated, counted or matched.
    """
    removed = 0
    for obj in store.tables("stg"):
        keep = [n for n, s in project.config.sources.items() if s.object == obj]
        stg = table("stg", obj)
        before = int(store.scalar(f"SELECT count(*) FROM {stg}"))
        store.execute(
            f"DELETE FROM {stg} WHERE NOT list_contains($keep::VARCHAR[], _source)", {"keep": keep}
        )
        removed += before - int(store.scalar(f"SELECT count(*) FROM {stg}"))
    return removed


def canonical_rows(
    store: Store,
    project: Project,
    source_name: str,
    fields: list[str],
    where: str = "true",
    params: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """``_load_id``, ``_row_number`` and the canonical ``fields`` (typed as staging types
    them; NULL where the source does not map a field) of the source's raw rows, every load,
    that satisfy ``where`` (SQL over the raw columns, values bound through ``params``)."""
    source = project.source(source_name)
    spec = project.dictionary.object(source.object)
    wanted = [f for f in dict.fromkeys(fields) if f in spec.fields]
    if not store.table_exists("raw", source_name):
        schema: dict[str, Any] = {"_load_id": pl.Int64, "_row_number": pl.Int64}
        return pl.DataFrame(schema=schema | {f: pl.String for f in wanted})
    sql, bound = select_staged_sql(source_name, source, spec, table("raw", source_name), where)
    mapped = [f for f in wanted if f in source.columns]
    cols = ", ".join(["_load_id", "_row_number", *(quote_ident(f) for f in mapped)])
    frame = store.frame(f"SELECT {cols} FROM ({sql})", {**bound, **(params or {})})
    return frame.with_columns(pl.lit(None, pl.String).alias(f) for f in wanted if f not in mapped)
