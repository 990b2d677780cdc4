"""The two consoles of the command line, which print data as plain text.

Values from exports (names, emails, file names, quarantined raw lines) reach the terminal
in tables and messages. They must never be read as rich markup (a value holding ``[/]``
would crash the print, ``[link=...]`` would become a link) nor reach the terminal as
escape sequences (ANSI colours, OSC titles and hyperlinks, a carriage return that
overwrites the line, bidirectional overrides). So both consoles here parse no markup and
show every such character as a visible escape (:func:`workbench.formatting.plain`);
Workbench's own styling is applied with :class:`rich.text.Text` styles, never markup.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.text import Text

from workbench.formatting import plain


class PlainConsole(Console):
    """A rich console that takes every string as plain text (see the module doc)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        kwargs.setdefault("highlight", False)
        kwargs.setdefault("emoji", False)
        super().__init__(**kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        """Every string printed (also table cells and titles) passes here."""
        kwargs["markup"] = False
        kwargs["emoji"] = False
        return super().render_str(plain(text), **kwargs)


def styled(text: str, style: str) -> Text:
    """``text`` (made plain) in a rich style, for Workbench's own emphasis."""
    return Text(plain(text), style=style)


# Results go to stdout (wide when piped, so tables keep whole names); progress and errors
# go to stderr.
out = PlainConsole(width=None if sys.stdout.isatty() else 160)
err = PlainConsole(stderr=True)
