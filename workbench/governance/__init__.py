"""Governance: who did what to the data (audit), forgetting a person (erasure), keeping
records only as long as allowed (retention), and copies to fall back on (backup).

One module per concept: :mod:`.erasure`, :mod:`.retention`, :mod:`.backup`;
:mod:`.lineage` finds and removes rows along their load lineage for erasure and retention.
"""
