"""Benchmarks: Workbench stages against the plain library doing the same work, in one run.

Run with ``make bench`` (``python -m workbench.bench``). Every case runs in its own
subprocess so that its peak memory is its own; times are the best of ``--repeat`` runs,
measured inside the subprocess around the work alone (not interpreter start-up).
"""
