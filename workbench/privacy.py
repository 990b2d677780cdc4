"""PII masking: what a person sees of personal data unless a run is explicitly unmasked.

This module is the one place personal data is masked: the CLI's listings and exports, the
report notebooks (Splink's views included), the review UI, the quarantine and the erasure
preview all call it. The dictionary's ``pii`` class of a field decides:

- ``contact`` values are partly shown: an email address its first letter and domain
  (``j***@acme.com``), a phone number its last two digits (``***67``), anything else its
  first character (``A***``);
- ``sensitive`` values are not shown at all (``***``);
- ``pii: none`` values are shown as they are.

The functions work at four levels:

- one value: :func:`mask_value` (by PII class and field type);
- an object's records, by its :class:`~workbench.dictionary.ObjectSpec`: :func:`mask_rules`
  (the :class:`Rule` of each field), :func:`mask_record` (a dict) and :func:`mask_frame`
  (a polars frame);
- values of several objects' fields in one long frame (``object``, ``column``, value), as
  the quarantine and validation keep failing values: :func:`field_rule`,
  :func:`mask_by_field`;
- free text no field can be told from (a row ingest could not read): :func:`mask_text`.

:func:`check_unmask` decides whether to mask at all (and audits an unmasked view).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import polars as pl

from workbench.dictionary import Dictionary, FieldType, ObjectSpec
from workbench.errors import ConfigError

if TYPE_CHECKING:
    from workbench.config import Project

HIDDEN = "***"
PHONE_DIGITS = 7  # digits from which a number in free text may be a phone number


class Rule(NamedTuple):
    """How the values of one field are masked: its PII class and its type
    (``mask_value(value, *rule)``)."""

    pii: str  # none, contact or sensitive
    kind: FieldType = FieldType.TEXT


# the rule of a value whose field is not known to be safe: masked as contact data
CONTACT = Rule("contact", FieldType.TEXT)


def mask_value(value: object, pii: str, kind: FieldType = FieldType.TEXT) -> object:
    """The masked form of one value of a field with PII class ``pii`` and type ``kind``.

    ``None`` stays ``None`` and ``pii: none`` values are returned as they are; any other
    value is masked to a string (see the module docstring)::

        >>> mask_value("anna.mueller@acme.com", "contact", FieldType.EMAIL)
        'a***@acme.com'
        >>> mask_value("+49 30 1234567", "contact", FieldType.PHONE)
        '***67'
        >>> mask_value("Anna", "contact"), mask_value("1980-02-01", "sensitive")
        ('A***', '***')
    """
    if value is None or pii == "none":
        return value
    text = str(value)
    if pii == "sensitive" or not text:
        return HIDDEN
    if kind is FieldType.EMAIL and "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}{HIDDEN}@{domain}"
    if kind is FieldType.PHONE:
        digits = [c for c in text if c.isdigit()]
        return f"{HIDDEN}{''.join(digits[-2:])}" if len(digits) > 2 else HIDDEN
    return f"{text[:1]}{HIDDEN}"


def mask_rules(spec: ObjectSpec) -> dict[str, Rule]:
    """The :class:`Rule` of every field of ``spec`` that needs masking (``pii`` other than
    ``none``), with the columns staging derives from them: ``<email>_norm`` and
    ``<phone>_raw``. A column not in it is shown as it is."""
    out: dict[str, Rule] = {}
    for name, field in spec.fields.items():
        if field.pii == "none":
            continue
        out[name] = Rule(field.pii, field.type)
        if field.type is FieldType.EMAIL:
            out[f"{name}_norm"] = Rule(field.pii, field.type)
        if field.type is FieldType.PHONE:
            out[f"{name}_raw"] = Rule(field.pii, field.type)
    return out


def mask_record(record: Mapping[str, Any], spec: ObjectSpec) -> dict[str, Any]:
    """A record (field -> value) of object ``spec`` with its personal fields masked."""
    rules = mask_rules(spec)
    return {k: mask_value(v, *rules[k]) if k in rules else v for k, v in record.items()}


def mask_frame(frame: pl.DataFrame, rules: ObjectSpec | Mapping[str, Rule | None]) -> pl.DataFrame:
    """``frame`` with its personal columns masked, value by value as :func:`mask_value`.

    ``rules``: an object's spec (its columns masked by :func:`mask_rules`), or the rule of
    each column to mask (``None``, or a column left out: shown as it is). A masked column
    becomes a string column; a list column is masked element by element (a list of
    strings). Masking a frame gives the same values as masking each of its values.
    """
    by_column = mask_rules(rules) if isinstance(rules, ObjectSpec) else rules
    masked = []
    for column in frame.columns:
        rule = by_column.get(column)
        if rule is None:
            continue
        values: list[Any]
        if isinstance(frame.schema[column], pl.List):
            values = [
                None if v is None else [mask_value(x, *rule) for x in v]
                for v in frame[column].to_list()
            ]
            masked.append(pl.Series(column, values, dtype=pl.List(pl.String)))
        else:
            values = [mask_value(v, *rule) for v in frame[column].to_list()]
            masked.append(pl.Series(column, values, dtype=pl.String))
    return frame.with_columns(masked) if masked else frame


def field_rule(dictionary: Dictionary, obj: str, field: str | None) -> Rule | None:
    """The rule of field ``field`` of object ``obj`` (None: shown as it is, also where the
    dictionary no longer has the object or field)."""
    spec = dictionary.objects.get(obj)
    if spec is None or field is None:
        return None
    return mask_rules(spec).get(field)


def mask_by_field(
    frame: pl.DataFrame, values: str, dictionary: Dictionary, *, obj: str | None = None
) -> pl.DataFrame:
    """``frame`` with its column ``values`` masked row by row, each by the rule of the
    field its row names: of the object in column ``object`` (or ``obj`` for every row) and
    the field in column ``column`` (the layout of failing values, e.g. ``quar.failures``)."""
    objects = [obj] * frame.height if obj is not None else frame["object"].to_list()
    rules = {o: mask_rules(dictionary.objects[o]) for o in set(objects) if o in dictionary.objects}
    shown = []
    for o, column, value in zip(objects, frame["column"], frame[values], strict=True):
        rule = rules.get(o, {}).get(column)
        shown.append(value if rule is None else mask_value(value, *rule))
    return frame.with_columns(pl.Series(values, shown, dtype=pl.String))


# A JSON key (kept: a name without spaces or @ names a field, it holds no value), an email
# address, a run of digits that may be a phone number (7 or more), a word (2 letters or more).
_TOKENS = re.compile(
    r'(?P<key>"[A-Za-z_][\w.-]{0,63}"(?=\s*:))'
    r"|(?P<email>[^\s@,;|\t\"'<>()\[\]{}:=]+@[^\s@,;|\t\"'<>()\[\]{}:=]+)"
    r"|(?P<digits>\+?\d[\d ()./-]{5,}\d)"
    r"|(?P<word>[^\W\d_]{2,})"
)


def mask_text(text: str) -> str:
    """Free text (the raw text of a row no reader could split into fields) with whatever
    could be personal masked as contact data.

    The text cannot be matched to the dictionary's fields, so every word keeps only its
    first letter (``Anna`` -> ``A***``), email addresses their first letter and domain,
    runs of :data:`PHONE_DIGITS` or more digits (phone numbers, also dates) their last two
    digits. Punctuation, delimiters, short numbers (ids, amounts) and JSON keys stay, so
    the row's shape can be seen::

        >>> mask_text("7,Müller,Straße 5,ab@c.de")
        '7,M***,S*** 5,a***@c.de'
    """

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.lastgroup == "key":
            return token
        if match.lastgroup == "email":
            return str(mask_value(token, *Rule("contact", FieldType.EMAIL)))
        if match.lastgroup == "digits":
            digits = sum(c.isdigit() for c in token)
            phone = Rule("contact", FieldType.PHONE)
            return str(mask_value(token, *phone)) if digits >= PHONE_DIGITS else token
        return str(mask_value(token, *CONTACT))

    return _TOKENS.sub(one, text)


def check_unmask(project: Project, unmask: bool, *, what: str | None = None) -> bool:
    """Whether to mask PII; ``unmask`` is refused unless the project allows it.

    An allowed unmasked view named by ``what`` (the command, e.g. ``"quarantine list"``)
    is written to the audit trail before anything is shown; call it before opening the
    warehouse read-only.

    Raises:
        ConfigError: unmasking was asked for and ``privacy.allow_unmask`` is not set.
    """
    if unmask and not project.config.privacy.allow_unmask:
        raise ConfigError(
            "Showing personal data unmasked is not allowed in this project.",
            where="workbench.yaml, key privacy.allow_unmask",
            fix="Leave out --unmask, or set privacy.allow_unmask: true if you may see it.",
        )
    if unmask and what is not None:
        from workbench import audit

        audit.record_now(project, "unmask", {"view": what})
    return not unmask
