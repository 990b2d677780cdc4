"""Governance operations: forgetting a person (erasure), keeping records only as long as
allowed (retention), and copies to fall back on (backup, restore, compact).

Operations sit above the stages: each composes what the stages offer, and no stage imports
them. An erasure asks each stage to forget the person's rows (the stages' ``forget``
modules, :mod:`workbench.forget`); the audit trail (:mod:`workbench.audit`) and the
tombstones of erased people (:mod:`workbench.tombstones`) are low-level services every stage
may use.

One module per concept: :mod:`.erasure` (with :mod:`.person`, who is erased, and
:mod:`.outputs`, what is left outside the warehouse), :mod:`.reapply` (erasing again after
a restore), :mod:`.retention`, :mod:`.backup` (with :mod:`.manifest` and :mod:`.rebuild`),
:mod:`.compact`; :mod:`.lineage` removes rows along their load lineage for erasure and
retention.
"""
