"""The dashboard's plots: pure functions of a model, so they are testable without a browser.

Figures are built from plain trace and layout dicts without plotly's validation (the page builds seven a
frame while playing; the unit tests validate every one). US cases lead; foreign cases (MLAT / CLOUD Act)
are shown beside them, never pooled into a headline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.labels import BACKLOG_LABELS, rule_color
from dashboards.live.twin import DashboardModel
from dashboards.sankey import sankey_spec
from model import RetentionModel
from model.agency import Agency, Step
from model.model import DAILY_SERIES
from model.outcomes import FOREIGN, US

#: Plot height fits a SolaraViz grid cell (10 rows of 30 px + 9 gaps of 10 px = 390 px); the width
#: follows the cell (the grid's cells are half the main area; a person can resize them).
HEIGHT = 380
#: Height of a Sankey diagram (page 2 has the page's whole width for them).
FLOWS_HEIGHT = 460
GRID = "#EBF0F8"
#: Layout of every plot: plotly_white's look, the legend in the bottom margin (never over the data, never
#: squeezing the plot: the figure keeps its height), no fixed width.
LAYOUT: dict[str, Any] = {
    "height": HEIGHT, "autosize": True, "paper_bgcolor": "white", "plot_bgcolor": "white",
    "font": {"color": "#2a3f5f"}, "hovermode": "closest",
    "margin": {"l": 60, "r": 15, "t": 40, "b": 95}, "title": {"x": 0.01, "font": {"size": 15}},
    "legend": {"orientation": "h", "x": 0.01, "xref": "container", "xanchor": "left", "y": 0, "yanchor": "bottom",
               "yref": "container", "font": {"size": 11}},
}
AXIS = {"gridcolor": GRID, "zerolinecolor": GRID, "linecolor": GRID, "automargin": True}
#: Where waiting cases are, for the deadline histogram (all US cases needing platform legal process).
WAITING = ("NCMEC queue or on the way", "referrals waiting for review", "cases in progress",
           "legal process scheduled")
FOREIGN_WAITING = "foreign: MLAT / CLOUD Act on its way"


def _figure(traces: list[dict[str, Any]], title: str, x_title: str, y_title: str, **layout: Any) -> go.Figure:
    """A figure from plain trace and layout dicts, built without plotly's validation (a tenth of the time:
    the page builds seven figures a frame while playing; a unit test validates every figure)."""
    spec = {**LAYOUT, "title": {**LAYOUT["title"], "text": title},
            "xaxis": {**AXIS, "title": {"text": x_title}}, "yaxis": {**AXIS, "title": {"text": y_title}}}
    for key, value in layout.items():
        spec[key] = {**spec[key], **value} if isinstance(value, dict) and isinstance(spec.get(key), dict) else value
    return go.Figure({"data": traces, "layout": spec}, _validate=False)


def daily(model: RetentionModel) -> pd.DataFrame:
    """The model's daily series (built once per day however many figures read it)."""
    cached = getattr(model, "_dashboard_daily", None)
    if cached is None or cached[0] != model.day:
        cached = (model.day, model.timeseries())
        model._dashboard_daily = cached  # type: ignore[attr-defined]
    return cached[1]


def rule_name(window: int, this_run: bool) -> str:
    return f"{window}-day window" + (" (this run)" if this_run else " (same reports)")


def evidence_lost_figure(model: DashboardModel) -> go.Figure:
    """Cumulative evidence lost, US cases (left, the headline) and foreign cases (right), under this run's
    window and, on the same draws, under the other rule."""
    traces = []
    for series, window, this in ((model.routes, model.window, True), (model.twin_routes, model.twin_window, False)):
        df = series.frame()
        style = {"color": rule_color(window), "width": 3.5 if this else 2.5, "dash": "solid" if this else "dash"}
        for axis, route in (("", "us"), ("2", "foreign")):
            what = "US" if route == "us" else "foreign"
            traces.append({"type": "scatter", "x": df["day"].to_numpy(), "y": df[f"lost_{route}"].to_numpy(),
                           "mode": "lines", "line": style, "xaxis": f"x{axis}", "yaxis": f"y{axis}",
                           "name": rule_name(window, this), "legendgroup": str(window), "showlegend": route == "us",
                           "hovertemplate": f"day %{{x}}: %{{y:,}} {what} reports lost<extra>{window}-day window"
                                            "</extra>"})
    titles = (("US cases", 0.0), ("foreign (MLAT)", 0.68))
    return _figure(
        traces, "Cumulative evidence lost (reports)", "day", "reports with evidence lost",
        margin={"t": 62}, xaxis={"domain": [0.0, 0.56]}, yaxis={"rangemode": "tozero"},
        xaxis2={**AXIS, "domain": [0.68, 1.0], "anchor": "y2", "title": {"text": "day"}},
        yaxis2={**AXIS, "anchor": "x2", "rangemode": "tozero"},
        annotations=[{"text": f"<b>{text}</b>", "x": x, "xref": "paper", "xanchor": "left", "y": 1.0, "yref": "paper",
                      "yanchor": "bottom", "showarrow": False, "font": {"size": 12}} for text, x in titles])


def backlog_figure(model: RetentionModel) -> go.Figure:
    """Reports and cases waiting at each stage, per day."""
    df = daily(model)
    day = df["day"].to_numpy()
    return _figure([{"type": "scatter", "x": day, "y": df[col].to_numpy(), "mode": "lines", "name": name,
                     "hovertemplate": f"day %{{x}}: %{{y:,}}<br>{DAILY_SERIES[col]}<extra>{name}</extra>"}
                    for col, name in BACKLOG_LABELS.items()],
                   "Waiting at each stage", "day", "reports or cases waiting")


def waiting_rows(model: RetentionModel) -> dict[str, np.ndarray]:
    """Rows of the waiting cases that need legal process on the platform, by where they wait (US cases), plus
    foreign cases on the MLAT / CLOUD Act route.

    NCMEC's queue and the referrals on their way to the agency; the agencies' queue (referrals waiting for
    review; steps of opened cases: warrant, identification, drafting) and the cases waiting for a judge or
    the identification subpoenas' answers; legal process approved and scheduled, not yet served (its
    outcome is fixed: served in time if due before the deadline).
    """
    store, desk = model.store, model.casework

    def cases(rows: np.ndarray) -> np.ndarray:
        rows = rows[(store.quality[rows] < 1) & store.actionable[rows]]
        return rows[store.needs_process[rows]]

    def route(rows: np.ndarray, which: int) -> np.ndarray:
        return rows[desk.routes(rows) == which]

    queued = desk.queue.rows
    inbox = desk.inbox.rows
    service = cases(desk.service.rows)
    steps = (Step.WARRANT, Step.IDENTIFY, Step.DRAFT)
    out = {
        WAITING[0]: np.concatenate([model.ncmec.queue.rows, inbox[store.step[inbox] == Step.REVIEW]]),
        WAITING[1]: queued[store.step[queued] == Step.REVIEW],
        WAITING[2]: np.concatenate([queued[np.isin(store.step[queued], steps)],
                                    inbox[np.isin(store.step[inbox], steps)]]),
        WAITING[3]: service,
    }
    out = {name: route(cases(rows), US) for name, rows in out.items()}
    out[FOREIGN_WAITING] = route(service, FOREIGN)
    return out


def waiting_days_left(model: RetentionModel) -> dict[str, np.ndarray]:
    """Days left before the preservation deadline (negative: passed, evidence lost) of the waiting cases,
    by where they wait (see :func:`waiting_rows`)."""
    deadline = model.store.deadline
    return {name: deadline[rows].astype(np.int64) - model.day for name, rows in waiting_rows(model).items()}


WAITING_COLORS = ("#8c6bb1", "#e08214", "#b2182b", "#1b7837", "#999999")


def deadline_figure(model: RetentionModel) -> go.Figure:
    """Histogram of the waiting cases' days left before their preservation deadline, by where they wait."""
    traces = [{"type": "histogram", "x": left, "name": f"{name} ({len(left):,})", "xbins": {"size": 10},
               "marker": {"color": color}, "visible": "legendonly" if name == FOREIGN_WAITING else True,
               "hovertemplate": "%{x} days left: %{y:,} cases<extra>" + name + "</extra>"}
              for (name, left), color in zip(waiting_days_left(model).items(), WAITING_COLORS, strict=True)]
    return _figure(traces, "US cases waiting: days left before the deadline", "days left (below 0: evidence lost)",
                   "cases needing legal process", barmode="stack",
                   shapes=[{"type": "line", "x0": 0, "x1": 0, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
                            "line": {"color": "firebrick", "dash": "dash"}}],
                   annotations=[{"text": "deadline", "x": 0, "xref": "x", "xanchor": "right", "y": 1, "yref": "paper",
                                 "showarrow": False, "font": {"color": "firebrick"}}])


def utilisation_figure(model: RetentionModel) -> go.Figure:
    """Share of analysts' and US investigators' daily hours used (percent)."""
    df = daily(model)
    day = df["day"].to_numpy()
    return _figure([{"type": "scatter", "x": day, "y": 100 * df[col].to_numpy(), "mode": "lines", "name": name,
                     "hovertemplate": "day %{x}: %{y:.0f}%<extra>" + name + "</extra>"}
                    for col, name in (("analyst_utilisation", "NCMEC analysts"),
                                      ("investigator_utilisation", "US investigators"))],
                   "Staff time used", "day", "share of the day's hours used (%)", yaxis={"range": [0, 105]})


def agency_backlog_frame(model: RetentionModel) -> pd.DataFrame:
    """Referrals waiting for review per agency per day: columns day, agency, backlog, utilisation."""
    df = model.datacollector.get_agenttype_vars_dataframe(Agency).reset_index()
    names = {a.unique_id: a.spec.name for a in model.agencies}
    return pd.DataFrame({"day": df["Step"].astype(int), "agency": df["AgentID"].map(names), "backlog": df["backlog"],
                         "utilisation": df["utilisation"]})


def agency_backlog_figure(model: RetentionModel) -> go.Figure:
    """Referrals waiting for an investigator's review, one line per agency (hours used in the hover text)."""
    df = agency_backlog_frame(model)
    return _figure([{"type": "scatter", "x": g["day"].to_numpy(), "y": g["backlog"].to_numpy(), "mode": "lines",
                     "name": str(name), "customdata": 100 * g["utilisation"].to_numpy(),
                     "hovertemplate": "day %{x}: %{y:,} referrals waiting, %{customdata:.0f}% of hours used"
                                      "<extra>" + str(name) + "</extra>"}
                    for name, g in df.groupby("agency", sort=False)],
                   "Referrals waiting for review, per agency", "day", "referrals waiting")


def flows_figure(model: RetentionModel, window: int, this_run: bool) -> go.Figure:
    """Sankey diagram of the counted reports' paths so far, from ``model.flows()``."""
    spec = sankey_spec(model.flows(), f"Where the reports went: {rule_name(window, this_run)}, day {model.day}")
    layout = {**spec["layout"], "height": FLOWS_HEIGHT, "autosize": True, "paper_bgcolor": "white",
              "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "title": {**LAYOUT["title"], "text": spec["layout"]
                                                                          ["title"]["text"]}, "font": {"size": 10}}
    for key in ("template", "width"):  # plotly_white costs tens of ms a frame; the width follows the page
        layout.pop(key)
    return go.Figure({"data": spec["data"], "layout": layout}, _validate=False)


def this_flows(model: DashboardModel) -> go.Figure:
    """Where this run's reports went."""
    return flows_figure(model, model.window, True)


def twin_flows(model: DashboardModel) -> go.Figure:
    """Where the twin's reports went (the same reports under the other rule)."""
    return flows_figure(model.twin, model.twin_window, False)
