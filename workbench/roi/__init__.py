"""ROI: what the integration cost and returned, from KPI changes priced by ``roi.yaml``."""
