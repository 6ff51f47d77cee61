"""The report's tables: sweep means with confidence intervals, comparisons, run summaries.

Which summary keys are metrics, and their units, come from :data:`model.metrics.METRICS`; values are shown
in their unit (rates in %), US first, foreign beside it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboards.report.inputs import RunResult
from dashboards.report.result_figures import value_of
from dashboards.report.style import (
    METRIC_TITLES,
    POOLED_RATE,
    US_RATE,
    WINDOW,
    is_share,
    label,
    metric_title,
    metric_unit,
    panel_title,
    panels,
)
from dashboards.report.summaries import window_summary
from model.metrics import METRICS, format_metric

PCT, COUNT = "{:.1f}%", "{:,.0f}"
#: Metrics shown elsewhere (the where-lost figures), not as table rows.
STAGE_PREFIXES = ("evidence_lost_at_", "evidence_lost_us_at_")


@dataclass
class Table:
    """A report table: numbers in display units (rates already in %), one format per column, a caption."""

    title: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    caption: str = ""

    def cell(self, column: str, value: Any) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "-"
        fmt = self.formats.get(column)
        if fmt and isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
            return fmt.format(value)
        return str(value)

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.frame.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(self.cell(c, v))}</td>" for c, v in zip(
            self.frame.columns, row, strict=True)) + "</tr>" for row in self.frame.itertuples(index=False))
        caption = f'<p class="caption">{html.escape(self.caption)}</p>' if self.caption else ""
        return (f"<section><h2>{html.escape(self.title)}</h2>\n<table class=\"data\"><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>{caption}</section>")


def sweep_table(rows: pd.DataFrame, metric: str, by: str | None) -> Table:
    """Mean evidence lost per window (and staffing level) with 95% CIs: US first, foreign beside it."""
    keys = [WINDOW] + ([by] if by else [])
    frame = None
    formats: dict[str, str] = {label(k): "{:g}" for k in keys}
    for panel in panels(metric, rows.columns):
        table = window_summary(rows, panel, by)
        scale = 100.0 if is_share(panel) else 1.0
        unit = "%" if scale == 100 else "reports"
        part = pd.DataFrame({label(k): table[k] for k in keys})
        for column, what in (("mean", "mean"), ("ci_low", "95% CI low"), ("ci_high", "95% CI high")):
            name = f"{panel_title(panel)}: {what} ({unit})"
            part[name] = scale * table[column]
            formats[name] = PCT if scale == 100 else COUNT
        if frame is None:
            part["runs"] = table["n"]
            frame = part
        else:
            frame = frame.merge(part, on=[label(k) for k in keys])
    assert frame is not None
    formats["runs"] = "{:,}"
    cols = [c for c in frame.columns if c != "runs"] + ["runs"]
    return Table(f"Evidence lost by window{f' and {label(by)}' if by else ''} (mean over runs, 95% CI)",
                 frame[cols], formats,
                 "Rates are lost / (lost + legal process served in time), in percent; the interval is the t-based 95% "
                 "confidence interval of the mean over the runs at each setting.")


def signed(metric: str, value: float) -> str:
    """A difference in the metric's unit with its sign (rates in percentage points)."""
    if value is None or not math.isfinite(value):
        return "-"
    if is_share(metric):
        return f"{100 * value:+.1f}"
    return ("-" if value < 0 else "+") + format_metric(metric, abs(value))


def compare_table(payload: Mapping[str, Any]) -> Table:
    """Each metric of a comparison in its unit (rates in %): A, B, B - A and the 95% CI of the difference."""
    metrics = payload["metrics"]
    keys = [k for k in METRICS if k in metrics] + [k for k in metrics if k not in METRICS]
    records = []
    for key in (k for k in keys if not k.startswith(STAGE_PREFIXES) and isinstance(metrics[k], dict)):
        m = metrics[key]
        records.append({"metric": metric_title(key), "unit": "% (points for B - A)" if is_share(key) else metric_unit(key),
                        "A": format_metric(key, value_of(m, "a")), "B": format_metric(key, value_of(m, "b")),
                        "B - A": signed(key, value_of(m, "difference")),
                        "95% CI low": signed(key, value_of(m, "ci_low")),
                        "95% CI high": signed(key, value_of(m, "ci_high"))})
    return Table(f"Comparison: {payload['a']} (A) vs {payload['b']} (B)", pd.DataFrame(records), {},
                 f"Means over {payload.get('replications', '?')} paired replications (common random numbers); B - A "
                 "is the mean paired difference and its 95% confidence interval. US cases first; foreign cases "
                 "(MLAT) beside them; pooled rates only for scripts.")


def runs_table(runs: list[RunResult]) -> Table:
    """One row per run: US first, foreign beside it, with units in the headings."""
    keys = [k for k in METRICS if k in METRIC_TITLES and any(k in r.summary for r in runs)
            and k not in (POOLED_RATE, "evidence_lost")]
    if not any(US_RATE in r.summary for r in runs):  # an older summary: say it is pooled
        keys = [POOLED_RATE, "evidence_lost", *keys]
    columns = {k: f"{metric_title(k)} ({metric_unit(k)})" for k in keys}
    records = []
    for r in runs:
        record: dict[str, Any] = {"run": r.name, "window (days)": r.window_days}
        for k in keys:
            value = r.summary.get(k)
            record[columns[k]] = (100 * value if is_share(k) else value) if value is not None else None
        if any("drain_days" in run.summary for run in runs):
            record["drain days"] = r.summary.get("drain_days")
        records.append(record)
    formats = {"window (days)": "{:g}", "drain days": COUNT}
    formats.update({columns[k]: PCT if is_share(k) else COUNT for k in keys})
    return Table("Run summaries", pd.DataFrame(records), formats,
                 "Rates: lost / (lost + legal process served in time), of counted reports (created after the warm-up "
                 "and followed to their outcome). Drain days: days run after the last counted day until every counted "
                 "report was decided.")
