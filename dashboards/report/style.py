"""The report's words and looks: which metric leads, short labels with units, the figures' layout.

Which columns are metrics, their units and meanings come from :data:`model.metrics.METRICS`; the units of
scenario parameters from the schema (:func:`dashboards.labels.parameter_label`). This module adds only the
short titles shown on axes and in tables (:data:`METRIC_TITLES`) and the figures' common layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from dashboards.labels import parameter_label
from model.metrics import METRICS
from model.model import DAILY_SERIES
from model.schema import field_info

US_RATE, FOREIGN_RATE, POOLED_RATE = "evidence_lost_rate_us", "evidence_lost_rate_foreign", "evidence_lost_rate"
#: Metric shown first in sweep figures, in order of preference (older results may lack the US rate).
PRIMARY_METRICS = (US_RATE, POOLED_RATE, "evidence_lost_us", "evidence_lost")
WINDOW = "retention.window_days"
INVESTIGATORS = "law_enforcement.investigators"
#: Staffing factors for the heatmap, in order of preference.
STAFFING = (INVESTIGATORS, "ncmec.analysts", "foreign.investigators")
#: Short titles of the metrics shown in the tables and on axes (METRICS' meanings are sentences). The tables
#: show these metrics, in METRICS' order (US first); every key is a metric (a test checks).
METRIC_TITLES = {
    US_RATE: "US: evidence lost", "evidence_lost_us": "US: evidence lost",
    "legal_process_served_us": "US: served in time", "legal_process_needed_us": "US: needed legal process",
    "median_days_to_legal_process_us": "US: median days to legal process",
    "p90_days_to_legal_process_us": "US: 90th percentile days to legal process",
    FOREIGN_RATE: "foreign (MLAT): evidence lost", "evidence_lost_foreign": "foreign (MLAT): evidence lost",
    "legal_process_served_foreign": "foreign (MLAT): served in time",
    "median_days_to_legal_process_foreign": "foreign (MLAT): median days to legal process",
    "reports": "counted reports", "referred_us": "referred to US agencies", "referred_foreign": "referred abroad",
    "closed_unworked_us": "US: closed unworked", "isp_logs_lost": "ISP logs lost", "arrests": "arrests",
    "investigations_us": "US: investigations taken on",
    "undecided": "undecided (overload)", POOLED_RATE: "pooled US + foreign: evidence lost",
    "evidence_lost": "pooled US + foreign: evidence lost",
}
#: Every figure's layout (static size: the PNG, SVG and PDF files are drawn at it).
LAYOUT: dict[str, Any] = {"template": "plotly_white", "width": 860, "height": 480,
                          "margin": {"l": 70, "r": 20, "t": 60, "b": 60}}
PALETTE = ("#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214", "#4d4d4d")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")


def is_share(metric: str) -> bool:
    """A rate (a fraction in the data, shown in %)."""
    known = METRICS.get(metric)
    return known is not None and known.is_share


def metric_unit(metric: str) -> str:
    """The unit shown for a metric: % for shares, else METRICS' unit ("" if unknown)."""
    known = METRICS.get(metric)
    if known is None:
        return ""
    return "%" if known.is_share else known.unit


def metric_title(metric: str) -> str:
    """The short title of a metric (METRIC_TITLES), else METRICS' meaning, else the key in words."""
    known = METRICS.get(metric)
    return METRIC_TITLES.get(metric) or (known.meaning if known else metric.replace("_", " "))


def label(name: str) -> str:
    """Plain-language axis label of a factor, a metric or a daily series, with its unit."""
    if field_info(name) is not None:
        return parameter_label(name, sentence=True)
    if name in METRICS:
        return f"{metric_title(name)} ({metric_unit(name)})"
    return DAILY_SERIES.get(name) or name


def foreign_of(metric: str) -> str | None:
    """The foreign counterpart of a US metric (``..._us`` -> ``..._foreign``)."""
    return metric[:-3] + "_foreign" if metric.endswith("_us") else None


def panel_title(metric: str) -> str:
    """The route a metric covers, as a panel title."""
    if metric.endswith("_us"):
        return "US cases"
    if metric.endswith("_foreign"):
        return "foreign cases (MLAT)"
    return "US and foreign pooled" if metric in (POOLED_RATE, "evidence_lost") else label(metric)


def panels(metric: str, columns: Any) -> list[str]:
    """`metric` and, when `columns` hold it, its foreign counterpart beside it."""
    foreign = foreign_of(metric)
    return [metric] + ([foreign] if foreign and foreign in columns else [])


def level_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float | np.integer | np.floating) else str(value)


def legend_below(fig: go.Figure, bottom: int = 110) -> None:
    """A horizontal legend under the plot (in the figure's margin, so it never covers the data)."""
    fig.update_layout(legend={"orientation": "h", "x": 0.01, "xref": "container", "xanchor": "left", "y": 0,
                              "yanchor": "bottom", "yref": "container"}, margin={"b": bottom})
