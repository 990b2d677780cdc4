"""Expanding a source's path glob without being caught in symbolic-link loops.

:func:`expand` matches the way ``glob.glob(pattern, recursive=True)`` does: ``*``, ``?``
and ``[...]`` match within one path component, ``**`` as a whole component matches zero or
more folders, and wildcards do not match names starting with a dot unless the pattern's
component starts with one (``**`` never enters such folders).

Symbolic links to folders are followed (an export folder is often a link to a share), but
one ``**`` enters each folder (by device and inode) once, so a link back to a folder above
it (``exports/a/loop -> ..``) adds nothing instead of recursing until the path is too long;
``glob.glob`` follows such a loop and, with more than one, takes exponential time. Folders
that cannot be listed are skipped, as ``glob`` skips them.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from pathlib import Path

_MAGIC = re.compile(r"[*?[]")


def expand(pattern: str) -> list[Path]:
    """Every existing path matching ``pattern``, each once, in the order found."""
    parts = Path(pattern).parts
    first = next((i for i, part in enumerate(parts) if _MAGIC.search(part)), len(parts))
    if first == len(parts):
        return [Path(pattern)] if os.path.lexists(pattern) else []
    base = Path(*parts[:first]) if first else Path(os.curdir)
    if not _is_dir(base):
        return []
    return list(dict.fromkeys(_match(base, parts[first:])))


def _match(folder: Path, parts: tuple[str, ...]) -> Iterator[Path]:
    """Paths under ``folder`` matching the pattern components ``parts``."""
    head, rest = parts[0], parts[1:]
    if head == "**":
        for below in _folders(folder):
            if rest:
                yield from _match(below, rest)
            else:
                yield below
                yield from (below / name for name, is_dir in _entries(below, head) if not is_dir)
        return
    if not _MAGIC.search(head):
        candidate = folder / head
        if rest:
            if _is_dir(candidate):
                yield from _match(candidate, rest)
        elif os.path.lexists(candidate):
            yield candidate
        return
    for name, is_dir in _entries(folder, head):
        if not fnmatch.fnmatch(name, head):
            continue
        if rest:
            if is_dir:
                yield from _match(folder / name, rest)
        else:
            yield folder / name


def _folders(start: Path) -> Iterator[Path]:
    """``start`` and every folder below it (links followed, hidden ones not), each once."""
    seen = {_identity(start)}
    stack = [start]
    while stack:
        folder = stack.pop()
        yield folder
        below = []
        for name, is_dir in _entries(folder, "**"):
            if not is_dir:
                continue
            key = _identity(folder / name)
            if key is None or key in seen:
                continue  # unreadable, or entered already (a loop, or a second link)
            seen.add(key)
            below.append(folder / name)
        stack.extend(reversed(below))  # depth first, in name order


def _entries(folder: Path, component: str) -> list[tuple[str, bool]]:
    """(name, is a folder) of each entry a wildcard component may match, sorted by name."""
    hidden_ok = component.startswith(".")
    try:
        with os.scandir(folder) as listing:
            return sorted(
                (entry.name, _entry_is_dir(entry))
                for entry in listing
                if hidden_ok or not entry.name.startswith(".")
            )
    except OSError:
        return []


def _entry_is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a symbolic link
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino
