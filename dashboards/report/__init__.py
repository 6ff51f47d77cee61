"""Reports and paper figures from results: ``tipline report DIR_OR_FILE [DIR_OR_FILE ...] --out report.html``.

The inputs are run directories (``tipline run --out``), compare JSON files (``tipline compare --json``),
sweep directories (``tipline sweep --out``, with ``tipline analyze``'s Sobol indices if present), Sobol
tables, or directories holding several of them. US cases lead every headline, table and figure
(``evidence_lost_rate_us``); foreign cases (MLAT / CLOUD Act) are shown beside them and never pooled into a
headline. Rates are shown in percent.

The HTML report is self-contained: plotly.js is embedded once and each figure's data is stored as JSON in
the page, so it opens offline and in an e-mail attachment. Static figures (PNG, SVG, PDF) are drawn by
kaleido with the local Chromium, so no request leaves the machine.

Modules: :mod:`~dashboards.report.inputs` (reading the inputs), :mod:`~dashboards.report.summaries` (means
and confidence intervals by factor), :mod:`~dashboards.report.style` (labels, units, layout),
:mod:`~dashboards.report.sweep_figures` and :mod:`~dashboards.report.result_figures` (the figures),
:mod:`~dashboards.report.headlines` and :mod:`~dashboards.report.tables` (words and numbers),
:mod:`~dashboards.report.sections` (assembling the report), :mod:`~dashboards.report.page` (the HTML page
and the static files).
"""

from dashboards.report.inputs import Inputs, ReportError, discover
from dashboards.report.page import FigureItem, Report, render_figures
from dashboards.report.sections import build_report

__all__ = ["FigureItem", "Inputs", "Report", "ReportError", "build_report", "discover", "render_figures"]
