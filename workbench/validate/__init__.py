"""Validate: pandera schemas from the dictionary; valid rows to core, the rest to quarantine."""

from workbench.validate.run import SourceCounts, ValidationReport, validate

__all__ = ["SourceCounts", "ValidationReport", "validate"]
