"""Figures of comparisons and single runs: A vs B, where the evidence was lost, runs by window, daily series.

Sankey diagrams of the reports' paths are in :mod:`dashboards.sankey` (shared with the dashboard).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards.labels import BACKLOG_LABELS, RULE_COLORS, STAGE_COLORS, STAGE_LABELS, rule_color
from dashboards.report.inputs import RunResult
from dashboards.report.style import FOREIGN_RATE, LAYOUT, POOLED_RATE, US_RATE, WINDOW, label, legend_below, panel_title
from model.model import DAILY_SERIES
from model.outcomes import STAGE_NAMES


def compare_rates(payload: Mapping[str, Any]) -> list[str]:
    """The rate metrics of a comparison to plot: US first, foreign beside it (pooled only if nothing else)."""
    metrics = payload["metrics"]
    rates = [m for m in (US_RATE, FOREIGN_RATE) if m in metrics]
    return rates or [m for m in metrics if m.startswith(POOLED_RATE)] or list(metrics)[:2]


def value_of(entry: Mapping[str, Any], key: str) -> float:
    value = entry.get(key)
    return math.nan if value is None else float(value)


def compare_figure(name: str, payload: dict[str, Any]) -> go.Figure:
    """A vs B for the evidence-lost rates (US first, foreign beside it), with the 95% CI of the paired
    difference as the error bar on B."""
    metrics = payload["metrics"]
    rates = compare_rates(payload)
    x = [panel_title(m) if m != POOLED_RATE else label(m) for m in rates]

    def pct(key: str) -> list[float]:
        return [100 * value_of(metrics[m], key) for m in rates]

    a, b, low, high, diff = pct("a"), pct("b"), pct("ci_low"), pct("ci_high"), pct("difference")
    up = [h - d if math.isfinite(h - d) else 0.0 for h, d in zip(high, diff, strict=True)]
    down = [d - lo if math.isfinite(d - lo) else 0.0 for lo, d in zip(low, diff, strict=True)]
    fig = go.Figure([
        go.Bar(x=x, y=a, name=f"A: {payload['a']}", marker_color=RULE_COLORS["short"], text=[f"{v:.1f}%" for v in a],
               textposition="outside"),
        go.Bar(x=x, y=b, name=f"B: {payload['b']}", marker_color=RULE_COLORS["long"], text=[f"{v:.1f}%" for v in b],
               textposition="outside",
               error_y={"type": "data", "symmetric": False, "array": up, "arrayminus": down, "color": "#333"}),
    ])
    fig.update_layout(title=f"Evidence lost: {payload['a']} vs {payload['b']} "
                            f"({payload.get('replications', '?')} paired replications)",
                      barmode="group", yaxis_title="evidence lost (% of cases needing legal process)", **LAYOUT)
    legend_below(fig, 100)
    return fig




def where_lost_values(values: Mapping[str, Any]) -> dict[str, dict[str, float]] | None:
    """US and foreign reports lost at each stage, from summary-like keys; None if the keys are missing."""
    if not all(f"evidence_lost_us_at_{s}" in values and f"evidence_lost_at_{s}" in values for s in STAGE_NAMES):
        return None

    def number(key: str) -> float:
        value = values.get(key)
        return 0.0 if value is None or (isinstance(value, float) and not math.isfinite(value)) else float(value)
    us = {s: number(f"evidence_lost_us_at_{s}") for s in STAGE_NAMES}
    return {"us": us, "foreign": {s: number(f"evidence_lost_at_{s}") - us[s] for s in STAGE_NAMES}}


def where_lost_figure(groups: Sequence[tuple[str, Mapping[str, Any]]], title: str, xaxis: str = "") -> go.Figure:
    """Reports whose evidence was lost, by the stage where the deadline passed: stacked bars per group
    (a run, a side of a comparison, a window), US cases left, foreign cases right."""
    data = [(name, where_lost_values(values)) for name, values in groups]
    data = [(name, v) for name, v in data if v is not None]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.12,
                        subplot_titles=("US cases", "foreign cases (MLAT)"))
    names = [name for name, _ in data]
    for col, route in ((1, "us"), (2, "foreign")):
        for stage in STAGE_NAMES:
            y = [v[route][stage] for _, v in data]
            if stage == "mlat" and route == "us" and not any(y):
                continue
            fig.add_trace(go.Bar(x=names, y=y, name=STAGE_LABELS[stage], legendgroup=stage,
                                 marker_color=STAGE_COLORS[stage], showlegend=col == 1 or stage == "mlat",
                                 hovertemplate="%{x}: %{y:,.0f} reports lost at " + STAGE_LABELS[stage]
                                               + "<extra></extra>"), row=1, col=col)
        fig.update_yaxes(title_text="reports with evidence lost" if col == 1 else "", row=1, col=col)
        fig.update_xaxes(title_text=xaxis, type="category", row=1, col=col)
    fig.update_layout(title=title, barmode="stack", **LAYOUT)
    legend_below(fig)
    fig.update_layout(height=LAYOUT["height"] + 40)
    return fig



def runs_window_figure(runs: list[RunResult]) -> go.Figure:
    """The US and foreign rates against the window for run directories (one point per run)."""
    fig = go.Figure()
    for metric, color, dash in ((US_RATE, RULE_COLORS["short"], "solid"), (FOREIGN_RATE, "#777777", "dot")):
        points = sorted((r.window_days, r.summary[metric], r.name) for r in runs
                        if r.window_days is not None and isinstance(r.summary.get(metric), int | float))
        if points:
            fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[100 * p[1] for p in points],
                                     mode="lines+markers+text", text=[p[2] for p in points], textposition="top center",
                                     name=panel_title(metric), line={"color": color, "dash": dash},
                                     hovertemplate="window %{x} d: %{y:.1f}%<extra>%{text}</extra>"))
    fig.update_layout(title="Evidence lost by run and window", xaxis_title=label(WINDOW),
                      yaxis_title="evidence lost (% of cases needing legal process)", **LAYOUT)
    legend_below(fig, 100)
    return fig


def timeseries_figure(runs: list[RunResult], column: str, title: str, yaxis: str) -> go.Figure:
    """One line per run of a daily series (coloured by its retention rule)."""
    fig = go.Figure([go.Scatter(x=r.timeseries.get("day", r.timeseries.index), y=r.timeseries[column], mode="lines",
                                name=r.title, line={"color": rule_color(r.window_days) if len(runs) <= 2 else None})
                     for r in runs if r.timeseries is not None and column in r.timeseries])
    fig.update_layout(title=title, xaxis_title="day", yaxis_title=yaxis, **LAYOUT)
    legend_below(fig, 100)
    return fig


def backlog_figure(run: RunResult) -> go.Figure:
    """Reports and cases waiting at each stage in one run."""
    ts = run.timeseries
    assert ts is not None
    cols = [c for c in BACKLOG_LABELS if c in ts]
    fig = go.Figure([go.Scatter(x=ts["day"], y=ts[c], mode="lines", name=BACKLOG_LABELS[c],
                                hovertemplate="day %{x}: %{y:,}<br>" + DAILY_SERIES.get(c, c) + "<extra></extra>")
                     for c in cols])
    fig.update_layout(title=f"Waiting at each stage: {run.title}", xaxis_title="day",
                      yaxis_title="reports or cases waiting", **LAYOUT)
    legend_below(fig, 100)
    return fig

