"""Figures of sweep results: evidence lost against the window, the staffing curve, staffing x window, Sobol.

Means are over the runs at each setting with 95% confidence bands (:mod:`dashboards.report.summaries`).
US cases lead; the foreign rate is drawn beside them where it answers the same question.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards.labels import rule_color, short_unit
from dashboards.report.style import (
    DASHES,
    INVESTIGATORS,
    LAYOUT,
    PALETTE,
    PRIMARY_METRICS,
    SYMBOLS,
    US_RATE,
    WINDOW,
    is_share,
    label,
    legend_below,
    level_text,
    panel_title,
    panels,
)
from dashboards.report.summaries import coinciding_levels, group_summary, line_factor, window_summary
from model.schema import field_info


def _mean_line(fig: go.Figure, g: pd.DataFrame, x: str, scale: float, name: str, style: dict[str, Any],
               hover: str, col: int | None = None, legend: bool = True) -> None:
    """The mean over `x` as a line with markers, and its 95% CI as a shaded band behind it (in subplot column
    `col` of a figure made by make_subplots)."""
    cell = {"row": 1, "col": col} if col is not None else {}
    if g["ci_low"].notna().any():
        fig.add_trace(go.Scatter(x=list(g[x]) + list(g[x])[::-1], y=list(scale * g["ci_high"]) +
                                 list(scale * g["ci_low"])[::-1], fill="toself", fillcolor=style["color"],
                                 opacity=0.18, line={"width": 0}, mode="lines", hoverinfo="skip", showlegend=False,
                                 legendgroup=name, name=f"{name}: 95% CI"), **cell)
    fig.add_trace(go.Scatter(x=g[x], y=scale * g["mean"], mode="lines+markers", name=name, legendgroup=name,
                             showlegend=legend, line={"color": style["color"], "dash": style["dash"],
                                                      "width": style.get("width", 2)},
                             marker={"symbol": style["symbol"], "size": style.get("size", 8)}, customdata=g["n"],
                             hovertemplate=hover + ": %{y:.1f}" + ("%" if scale == 100 else "")
                                           + " (n=%{customdata})<extra></extra>"), **cell)


def _style(i: int, color: str | None = None) -> dict[str, Any]:
    return {"color": color or PALETTE[i % len(PALETTE)], "dash": DASHES[i % len(DASHES)],
            "symbol": SYMBOLS[i % len(SYMBOLS)]}


def _stacked(style: dict[str, Any], k: int, m: int) -> dict[str, Any]:
    """The style of the k-th of m coinciding lines: drawn first, drawn wider and with larger markers, so each
    later one lies inside it and all stay visible (concentric markers, a stripe of each colour)."""
    return {**style, "width": 2 + 1.5 * (m - 1 - k), "size": 8 + 4 * (m - 1 - k)}


def coincide_note(panel: str, group: Sequence[Any], levels: int) -> str:
    """A legend note that some lines of a panel coincide."""
    which = f"all {levels} lines" if len(group) == levels else \
        f"the lines for {', '.join(level_text(v) for v in group)}"
    return f"{panel_title(panel)}: {which} coincide (identical means)"


def window_figure(rows: pd.DataFrame, metric: str, factors: Sequence[str] = ()) -> go.Figure:
    """`metric` (the US rate) against the window, one line per level of a second factor (if few), with 95% CI
    bands; the foreign counterpart in a second panel beside it when the rows have it.

    Lines that coincide (identical means) are drawn one inside the other, wider and with larger markers first,
    with different dashes and markers, and say so in the legend: "(same as ...)" in the first panel's entries,
    a note entry for another panel's.
    """
    by = line_factor(rows, factors)
    shown = panels(metric, rows.columns)
    fig = make_subplots(rows=1, cols=len(shown), column_widths=[0.6, 0.4] if len(shown) > 1 else None,
                        horizontal_spacing=0.12, subplot_titles=[panel_title(m) for m in shown])
    for col, panel in enumerate(shown, start=1):
        table = window_summary(rows, panel, by)
        scale = 100.0 if is_share(panel) else 1.0
        coinciding = coinciding_levels(table, by) if by else []
        same = {level: group for group in coinciding for level in group}
        groups = table.groupby(by, sort=True) if by else [(None, table)]
        for i, (level, g) in enumerate(groups):
            name = f"{label(by)} = {level_text(level)}" if by else "mean"
            style = _style(i)
            if level in same:
                name += " (same as " + ", ".join(level_text(v) for v in same[level] if v != level) + ")"
                style = _stacked(style, same[level].index(level), len(same[level]))
            _mean_line(fig, g, WINDOW, scale, name, style, "window %{x} d", col=col, legend=col == 1)
        for group in coinciding if col > 1 else []:  # the legend's entries are the first panel's: a note
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line={"width": 0}, hoverinfo="skip",
                                     name=coincide_note(panel, group, table[by].nunique())),
                          row=1, col=col)
        fig.update_yaxes(title_text=label(panel), row=1, col=col, rangemode="tozero")
        fig.update_xaxes(title_text=label(WINDOW), row=1, col=col)
    fig.update_layout(title="Evidence lost against the preservation window (mean and 95% CI)", **LAYOUT)
    legend_below(fig)
    fig.update_layout(height=LAYOUT["height"] + 40)
    return fig


def staffing_figure(rows: pd.DataFrame, today: float | None = None, metric: str = US_RATE,
                    staffing: str = INVESTIGATORS) -> go.Figure:
    """`metric` (US evidence lost, %) against the staffing factor, one line per window with 95% CI bands, and
    today's staffing (the base scenario's) marked when it lies within the sweep's levels. Windows are coloured
    by rule when there are two."""
    keys = [WINDOW, staffing] if WINDOW in rows else [staffing]
    table = group_summary(rows, metric, keys)
    windows = sorted(table[WINDOW].unique()) if WINDOW in table else [None]
    by_rule = len(windows) == 2 and rule_color(windows[0]) != rule_color(windows[1])
    scale = 100.0 if is_share(metric) else 1.0
    fig = go.Figure()
    for i, window in enumerate(windows):
        g = table if window is None else table[table[WINDOW] == window]
        name = "mean" if window is None else f"{level_text(window)}-day window"
        _mean_line(fig, g, staffing, scale, name, _style(i, rule_color(window) if by_rule else None),
                   f"{name}, {label(staffing)} %{{x:,}}")
    if today is not None and table[staffing].min() <= today <= table[staffing].max():
        info = field_info(staffing)
        text = f"today: {today:,g} {short_unit(info.unit) if info else ''}".rstrip()
        fig.add_vline(x=today, line={"color": "#333", "dash": "dot", "width": 1.5},
                      annotation={"text": text, "yanchor": "bottom", "font": {"size": 12}},
                      annotation_position="top")
    fig.update_layout(title=f"{panel_title(metric)}: evidence lost against {label(staffing).split(' (')[0]} "
                            "(mean and 95% CI)", xaxis_title=label(staffing), yaxis_title=label(metric), **LAYOUT)
    fig.update_yaxes(rangemode="tozero")
    legend_below(fig, 100)
    return fig


def heatmap_figure(rows: pd.DataFrame, metric: str, staffing: str) -> go.Figure:
    """Mean metric (the US rate) on a staffing x window grid, with the foreign rate beside it when present."""
    shown = panels(metric, rows.columns)
    fig = make_subplots(rows=1, cols=len(shown), horizontal_spacing=0.2, subplot_titles=[panel_title(m) for m in shown])
    for col, panel in enumerate(shown, start=1):
        pivot = rows.pivot_table(index=staffing, columns=WINDOW, values=panel, aggfunc="mean").sort_index()
        scale = 100.0 if is_share(panel) else 1.0
        z = scale * pivot.to_numpy(float)
        fmt = "{:.1f}%" if scale == 100 else "{:,.0f}"
        text = [[fmt.format(v) if np.isfinite(v) else "" for v in row] for row in z]
        bar_x = 0.4 if (len(shown) > 1 and col == 1) else 1.0
        fig.add_trace(go.Heatmap(z=z, x=[f"{c:g}" for c in pivot.columns], y=[f"{i:g}" for i in pivot.index],
                                 text=text, texttemplate="%{text}", colorscale="Reds" if col == 1 else "Blues",
                                 colorbar={"title": "%" if scale == 100 else "", "x": bar_x, "len": 0.9},
                                 hovertemplate="window %{x} d, " + label(staffing) + " %{y}: %{text}<extra></extra>"),
                      row=1, col=col)
        fig.update_xaxes(title_text=label(WINDOW), type="category", row=1, col=col)
        fig.update_yaxes(title_text=label(staffing) if col == 1 else "", type="category", row=1, col=col)
    fig.update_layout(title=f"Evidence lost (%): {label(staffing).split(' (')[0]} x preservation window", **LAYOUT)
    return fig


def sobol_figure(sobol: pd.DataFrame) -> tuple[go.Figure, str]:
    """First-order and total Sobol indices per parameter with their confidence half-widths."""
    df = sobol
    metric = ""
    for col in ("metric", "output"):
        if col in df.columns:
            choices = list(df[col].unique())
            metric = next((m for m in PRIMARY_METRICS if m in choices), choices[0])
            df = df[df[col] == metric]
    df = df.sort_values("ST", ascending=False)
    fig = go.Figure()
    for index, name in (("S1", "first order (S1)"), ("ST", "total (ST)")):
        conf = df.get(f"{index}_conf")
        fig.add_trace(go.Bar(x=df["parameter"].map(label), y=df[index], name=name,
                             error_y={"type": "data", "array": conf.tolist()} if conf is not None else None))
    fig.update_layout(title="Sobol sensitivity indices" + (f" of {label(metric)}" if metric else ""),
                      barmode="group", yaxis_title="share of output variance", xaxis_title="parameter", **LAYOUT)
    legend_below(fig, 100)
    return fig, metric
