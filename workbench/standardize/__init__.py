"""Standardize: the rules that make values from different systems comparable.

Each rule is a small function over polars expressions or series (:mod:`.rules`);
:func:`standardize` applies them to one object's staged rows as the dictionary says.
"""

from workbench.standardize.apply import standardize

__all__ = ["standardize"]
