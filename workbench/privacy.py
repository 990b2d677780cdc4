"""PII masking: what a person sees of personal data unless a run is explicitly unmasked.

The dictionary's ``pii`` class of a field decides: ``contact`` values are partly shown
(``j***@acme.com``, a phone's last two digits, a name's first letter), ``sensitive`` values
not at all. Fields with ``pii: none`` are shown as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.dictionary import FieldType, ObjectSpec
from workbench.errors import ConfigError

if TYPE_CHECKING:
    from workbench.config import Project

HIDDEN = "***"


def mask_value(value: object, pii: str, kind: FieldType = FieldType.TEXT) -> object:
    """The masked form of one value of a field with PII class ``pii``."""
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


def masker(spec: ObjectSpec) -> dict[str, tuple[str, FieldType]]:
    """PII class and type of every field that needs masking, derived columns included."""
    out: dict[str, tuple[str, FieldType]] = {}
    for name, field in spec.fields.items():
        if field.pii == "none":
            continue
        out[name] = (field.pii, field.type)
        if field.type is FieldType.EMAIL:
            out[f"{name}_norm"] = (field.pii, field.type)
        if field.type is FieldType.PHONE:
            out[f"{name}_raw"] = (field.pii, field.type)
    return out


def mask_record(record: dict, spec: ObjectSpec) -> dict:
    """A record (field -> value) with its PII fields masked."""
    rules = masker(spec)
    return {k: mask_value(v, *rules[k]) if k in rules else v for k, v in record.items()}


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
