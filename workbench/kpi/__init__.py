"""KPIs: the registry, their values per period and segment, baselines, targets, canary vs
control. Reads the ``core`` tables; writes ``kpi.*``."""
