"""Read YAML files into pydantic models, with errors that name the key and line.

Used for every file a user writes (``workbench.yaml``, ``dictionary.yaml``).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from workbench.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class _TextKeys(yaml.SafeLoader):
    """YAML with every mapping key kept as written: a status code ``01`` stays ``'01'``
    and ``yes`` stays ``'yes'`` (YAML 1.1 would read them as 1 and True, and a value
    map would then never match the export's text). Values are typed as usual, but for the
    YAML 1.1 readings that turn text into something else (:func:`_bool`, :func:`_int`)."""


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping names the same key twice (YAML allows it and keeps the last: a silent
    loss of the first value, so Workbench refuses it)."""


def _mapping(loader: _TextKeys, node: yaml.MappingNode) -> dict[Any, Any]:
    _no_duplicates(node)
    loader.flatten_mapping(node)
    return {
        (k.value if isinstance(k, yaml.ScalarNode) else loader.construct_object(k, deep=True)): (
            loader.construct_object(v, deep=True)
        )
        for k, v in node.value
    }


def _no_duplicates(node: yaml.MappingNode) -> None:
    """Refuse a key written twice in one mapping (merge keys ``<<`` may repeat)."""
    seen: dict[str, yaml.Node] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        first = seen.setdefault(str(key.value), key)
        if first is not key:
            raise DuplicateKey(
                None,
                None,
                f"the key '{key.value}' appears twice in the same mapping (first at line "
                f"{first.start_mark.line + 1}); YAML would silently keep only the last one",
                key.start_mark,
            )


def _bool(loader: _TextKeys, node: yaml.ScalarNode) -> bool | str:
    """``true`` and ``false`` (any case) are booleans; YAML 1.1's other words (``yes``,
    ``no``, ``on``, ``off``, ``y``, ``n``) stay text as written: in a value map ``NO`` is
    Norway, not False. Where a setting wants a boolean, ``yes`` and ``no`` still read as
    one."""
    text = str(node.value)
    return text.lower() == "true" if text.lower() in ("true", "false") else text


def _int(loader: _TextKeys, node: yaml.ScalarNode) -> int | str:
    """An integer, except where YAML 1.1 would read a code as a number it is not: a
    leading zero (``0123`` is octal 83 there) or a colon (``10:30`` is 630) stays text."""
    text = str(node.value)
    digits = text.lstrip("+-").replace("_", "")
    if ":" in text or (len(digits) > 1 and digits[0] == "0" and digits[1:2].isdigit()):
        return text
    return int(loader.construct_yaml_int(node))


_TextKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_TextKeys.add_constructor("tag:yaml.org,2002:bool", _bool)
_TextKeys.add_constructor("tag:yaml.org,2002:int", _int)


class StrictModel(BaseModel):
    """Base of every model users write: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class YamlDoc:
    """A parsed YAML document that remembers the line of every key and value."""

    def __init__(self, path: Path, data: Any, root: yaml.Node | None) -> None:
        self.path = path
        self.data = data
        self.root = root

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """1-based line of the deepest node on ``loc`` that exists in the file."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                nxt = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
                if nxt is None:
                    continue  # pydantic-internal segment (e.g. a union member): skip it
                line = nxt[0].start_mark.line + 1
                node = nxt[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    break
                node = node.value[part]
                line = node.start_mark.line + 1
        return line


def read_yaml(path: Path, *, what: str) -> YamlDoc:
    """Parse a YAML file; a missing file or a syntax error is a :class:`ConfigError`."""
    if not path.exists():
        raise ConfigError(
            f"The {what} file {path} does not exist.",
            where=str(path),
            fix="Create it (`workbench init DIR` writes a starter project) or pass --project DIR.",
        )
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a {what} file.", where=str(path))
    text = _text(path, what)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=_TextKeys)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"The {what} file is not valid YAML: {problem}.",
            where=f"{path}{line}",
            fix="Keep one of the two keys (or merge their values)."
            if isinstance(exc, DuplicateKey)
            else "Check the indentation and quoting near that line.",
        ) from exc
    return YamlDoc(path, {} if data is None else data, root)


def _text(path: Path, what: str) -> str:
    """The file's text; anything but UTF-8 (a BOM is fine) is a ConfigError at its byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"The {what} file is not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be read.",
            where=f"{path}, line {line}, column {column}",
            fix="Save the file as UTF-8 (most editors offer it under 'Save as' / encoding).",
        ) from None


def _describe(err: dict[str, Any], model: type[BaseModel]) -> str:
    shown, found = _walk(model, [p for p in err["loc"] if not _is_internal(p)])
    key = ".".join(str(p) for p in shown) or "(top level)"
    if err["type"] == "extra_forbidden":
        allowed = _keys_of(found)
        hint = ""
        if allowed:
            close = difflib.get_close_matches(str(shown[-1]), allowed, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            hint += f" Allowed keys here: {', '.join(sorted(allowed))}."
        return f"{key}: unknown key.{hint}"
    if err["type"] == "missing":
        return f"{key}: this key is required but missing."
    value = err.get("input")
    msg = str(err["msg"]).removeprefix("Value error, ")
    plain = value is not None and not isinstance(value, dict | list) and repr(value) not in msg
    return f"{key}: {msg}" + (f" (got {value!r})" if plain else "")


_TYPE_NAMES = {"str", "int", "float", "bool", "list", "dict", "none"}


def _is_internal(part: str | int) -> bool:
    """Segments pydantic adds to a location for union members and validators."""
    return isinstance(part, str) and (
        "[" in part or part.lower() in _TYPE_NAMES or part.startswith("function-")
    )


def _walk(model: type[BaseModel], loc: list[str | int]) -> tuple[list[str | int], Any]:
    """``loc`` as the file spells it, and the type holding its last key (for 'did you
    mean' hints).

    pydantic puts the member a union chose into the location: a discriminated union's tag
    (``value_drivers.0.conversion_uplift.deal_value``), which is left out of what is shown
    (``value_drivers.0.deal_value``).
    """
    shown: list[str | int] = []
    current: Any = model
    for i, part in enumerate(loc):
        if i == len(loc) - 1:
            shown.append(part)
            break
        current = _unwrapped(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = field.annotation if field is not None else None
        elif get_origin(current) is dict:
            current = get_args(current)[1]  # ``part`` is a key of the mapping
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        else:  # a union: the member ``part`` names (its tag), else its first model
            members = [a for a in map(_unwrapped, get_args(current)) if _is_model(a)]
            tagged = [m for m in members if part in _tags(m)]
            current = (tagged or members or [None])[0]
            if tagged:
                continue
        shown.append(part)
    return shown, _unwrapped(current)


def _unwrapped(kind: Any) -> Any:
    """``Annotated[X, ...]`` as ``X``."""
    return get_args(kind)[0] if get_origin(kind) is Annotated else kind


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _tags(model: type[BaseModel]) -> tuple[Any, ...]:
    """The values of a model's ``type: Literal[...]`` field (its tag in a union)."""
    field = model.model_fields.get("type")
    return get_args(field.annotation) if field is not None else ()


def _keys_of(kind: Any) -> list[str]:
    """Field names (by alias) of a model; none for any other type."""
    if _is_model(kind):
        return [f.alias or n for n, f in kind.model_fields.items()]
    return []


def _refine_loc(doc: YamlDoc, loc: tuple[str | int, ...], msg: str) -> tuple[str | int, ...]:
    """Point at a child key the message quotes (e.g. a misspelt field under ``columns``)."""
    node: Any = doc.data
    for part in loc:
        if isinstance(node, dict) and part in node:  # noqa: SIM114 (mypy narrows each branch)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
    if isinstance(node, dict):
        for key in node:
            if f"'{key}'" in msg:
                return (*loc, key)
    return loc


def parse_model(model: type[M], doc: YamlDoc, *, what: str, context: Any = None) -> M:
    """Validate ``doc`` against ``model``; every problem is listed with its key and line."""
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:12]:
            line = doc.line_of(_refine_loc(doc, tuple(err["loc"]), str(err.get("msg", ""))))
            at = f"line {line}: " if line else ""
            problems.append(f"  - {at}{_describe(dict(err), model)}")
        more = exc.error_count() - len(problems)
        if more > 0:
            problems.append(f"  - ... and {more} more")
        raise ConfigError(
            f"The {what} file has {exc.error_count()} problem(s):\n" + "\n".join(problems),
            where=str(doc.path),
            fix=f"Edit {doc.path.name} at the lines above and run the command again.",
        ) from exc
