"""Reports: parameterized notebooks run by papermill into offline HTML with plotly charts.

The notebooks in ``notebooks/`` are thin: a tagged ``parameters`` cell, then calls into the
modules here, one per report (:mod:`.data_quality`, :mod:`.duplicates`, :mod:`.kpi_baseline`,
:mod:`.roi`, :mod:`.governance`). :mod:`.runner` executes and renders them; :mod:`.index`
writes ``reports/index.html``.
"""
