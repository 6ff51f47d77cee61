"""The interactive browser dashboard: a Mesa SolaraViz page of the CyberTipline pipeline, run live.

Start it with ``tipline dashboard`` (or ``solara run dashboards/app.py`` with the offline asset
environment of :mod:`dashboards.assets`). The page runs a small, fast scenario (X/Twitter alone, no
warm-up, one model step = one day) and, in lockstep on the same seed, a *twin* run under the other
retention rule (a window shorter than one year is compared with the REPORT Act's 365 days, a window of
a year or more with the former 90 days). Both runs see the same reports and the same draws (common
random numbers), so the gap between their evidence-lost lines is the effect of the window alone.

US cases lead everywhere (legal process served in the US); foreign cases (MLAT / CLOUD Act) are shown
beside them, never pooled into the headline.

Controls are generated from the parameter schema (:mod:`model.schema`): the label's unit, the slider's
bounds (the schema's valid range, narrowed to a useful display range) and the default all come from the
schema and the base scenario, so no parameter default is written here. Shares are shown in percent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import ipyvue
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import solara
import traitlets
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter
from plotly.graph_objs._figurewidget import FigureWidget

from dashboards.report import STAGE_LABELS, rule_color, sankey_spec
from model import RetentionModel, Scenario, load_scenario
from model.agency import Agency, Step
from model.model import DAILY_SERIES
from model.outcomes import FOREIGN, STAGE_NAMES, US
from model.schema import Parameter, field_info

#: The base scenario of the page and its overrides: X alone (about 2,000 reports a day), no warm-up so
#: every report counts from day 1. A day takes about 2 ms to simulate (4 ms with the twin).
BASE_SCENARIO = "x_platform"
BASE_OVERRIDES: tuple[str, ...] = ("run.warmup_days=0",)
#: The two retention rules compared: 18 U.S.C. 2258A(h) before and after the REPORT Act (days).
OLD_RULE_DAYS, REPORT_ACT_DAYS = 90, 365
#: Seeds offered by the seed slider (any integer works in the model; the slider needs a range).
SEED_RANGE = (0, 1000)
#: Days per click of Step and per frame of Play (Mesa's "Render Interval" slider: 1, 3, 5, ... 99), and
#: the pause between frames (ms; its slider: 1, 11, 21, ...). Fifteen days a frame: the 90-day rule starts
#: losing US evidence after about 7 frames, 3-4 s after pressing play in headless Chromium on two cores.
#: The pause lets the browser draw each frame before the next: with much shorter pauses the server runs
#: ahead of what the page shows, and the page answers a click on pause only seconds later.
RENDER_INTERVAL, PLAY_INTERVAL = 15, 301


def counterfactual_window(window_days: int) -> int:
    """The other retention rule (days): 365 for a window under a year, else 90."""
    return REPORT_ACT_DAYS if window_days < REPORT_ACT_DAYS else OLD_RULE_DAYS


@cache
def base_scenario() -> Scenario:
    """The page's base scenario (validated once)."""
    return load_scenario(BASE_SCENARIO, list(BASE_OVERRIDES))


def schema_field(key: str) -> Parameter:
    """What the schema says about a dotted scenario key (``platforms.x``: the field of every platform)."""
    info = field_info(key)
    if info is None:
        raise KeyError(f"{key}: not a scenario parameter")
    return info


@dataclass(frozen=True)
class Control:
    """One sidebar control, generated from the schema field ``key``.

    ``title`` is the short plain-language name; the unit, the meaning and the bounds come from the schema.
    ``low``/``high`` narrow the schema's valid range to a useful slider (never widen it). A ``percent``
    control shows a share (0-1) in percent: the slider and the model keyword are in %.
    """

    name: str  #: keyword argument of DashboardModel
    key: str  #: dotted scenario key (``platforms.<field>`` applies to every platform)
    title: str
    low: float | None = None
    high: float | None = None
    step: float = 1
    percent: bool = False

    @property
    def field(self) -> Parameter:
        return schema_field(self.key)

    @property
    def unit(self) -> str:
        """The unit shown: % for percent controls, else the schema's."""
        return "%" if self.percent else self.field.unit

    @property
    def factor(self) -> float:
        """Slider value = factor x scenario value."""
        return 100.0 if self.percent else 1.0

    def default(self, scenario: Scenario | None = None) -> Any:
        """The scenario value (of the base scenario by default), in the scenario's unit."""
        obj: Any = scenario or base_scenario()
        *sections, name = self.key.split(".")
        for section in sections:
            obj = getattr(obj, section)
            if isinstance(obj, list):
                obj = obj[0]
        return getattr(obj, name)

    def bounds(self) -> tuple[float, float]:
        """Slider range in the slider's unit: the schema's range clamped to the display range."""
        field = self.field
        low, high = field.low, field.high
        if self.low is not None:
            low = self.low if low is None else max(low, self.low)
        if self.high is not None:
            high = self.high if high is None else min(high, self.high)
        assert low is not None and high is not None, f"{self.key}: a slider needs a range"
        return self.factor * low, self.factor * high

    def label(self) -> str:
        """Short label with the unit, e.g. "Preservation window (days)", "Unviewed reports (%)"."""
        unit = self.unit
        if not unit or unit in ("policy", "text"):
            return self.title
        return f"{self.title} ({unit if len(unit) <= 10 else unit.split()[0]})"

    def slider_value(self, scenario: Scenario | None = None) -> Any:
        """The scenario value in the slider's unit (integers stay integers)."""
        value = self.default(scenario)
        if isinstance(value, str):
            return value
        return round(self.factor * value, 6) if self.percent or isinstance(value, float) else value

    def widget(self) -> dict[str, Any]:
        """The SolaraViz ``model_params`` entry."""
        field = self.field
        if field.choices:
            return {"type": "Select", "value": self.default(), "values": list(field.choices), "label": self.label()}
        low, high = self.bounds()
        integer = field.is_integer and not self.percent
        cast = int if integer else float
        return {"type": "SliderInt" if integer else "SliderFloat", "value": cast(self.slider_value()),
                "min": cast(low), "max": cast(high), "step": cast(self.step), "label": self.label()}

    def to_scenario(self, value: Any) -> Any:
        """A slider value in the scenario's unit."""
        if self.percent:
            return round(float(value) / 100.0, 9)
        return value

    def overrides(self, value: Any, scenario: Scenario | None = None) -> list[str]:
        """``--set`` style overrides that put a slider `value` into a scenario."""
        scenario = scenario or base_scenario()
        value = self.to_scenario(value)
        section, *rest = self.key.split(".")
        if section == "platforms":
            return [f"platforms.{p.name}.{rest[0]}={value}" for p in scenario.platforms]
        return [f"{self.key}={value}"]

    def text(self, value: Any) -> str:
        """A slider value in words, e.g. "90 days", "9.5%", "x1.5", "190 FTE"."""
        if isinstance(value, str):
            return value
        if self.percent:
            return f"{value:g}%"
        unit = self.unit
        if unit.startswith("x "):
            return f"x{value:g}"
        number = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        return f"{number} {unit}"


#: The sidebar's model controls, in display order. Display ranges are chosen so that 90 and 365 days
#: lie on the window slider's grid, the staff sliders reach a few times the base scenario's staff, and
#: every default (e.g. X's 9.5% unviewed) lies on its slider's grid (a slider snaps its value to the grid).
CONTROLS: tuple[Control, ...] = (
    Control("window_days", "retention.window_days", "Preservation window", low=15, high=730, step=5),
    Control("analysts", "ncmec.analysts", "NCMEC analysts", high=20),
    Control("investigators", "law_enforcement.investigators", "US investigators", high=600, step=10),
    Control("scale", "demand.scale", "Report volume", high=5, step=0.1),
    Control("automated_percent", "platforms.automated_share", "Unviewed reports", step=0.5, percent=True),
    Control("wilson_percent", "law_enforcement.wilson_share", "Wilson warrants", step=0.5, percent=True),
    Control("preservation_request_percent", "retention.preservation_request_share", "2703(f) requests", step=0.5,
            percent=True),
    Control("triage_policy", "ncmec.triage_policy", "NCMEC triage order"),
)
CONTROLS_BY_NAME = {c.name: c for c in CONTROLS}


def build_scenario(values: dict[str, Any], window_days: int | None = None) -> Scenario:
    """The base scenario with slider `values` (by control name); `window_days` overrides the window."""
    overrides = list(BASE_OVERRIDES)
    for name, value in values.items():
        if value is not None:
            overrides += CONTROLS_BY_NAME[name].overrides(value)
    if window_days is not None:
        overrides.append(f"retention.window_days={window_days}")
    return load_scenario(BASE_SCENARIO, overrides)


class RouteSeries:
    """Cumulative evidence lost and legal process served per route, one row per day, from a model's outcomes.

    The model's daily series pool US and foreign cases; the dashboard leads with US cases, so it records
    the per-route counters itself after every day.
    """

    COLUMNS = ("day", "lost_us", "lost_foreign", "served_us", "served_foreign")

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, int]] = []

    def record(self, model: RetentionModel) -> None:
        out = model.outcomes
        lost = out.lost.sum(axis=1)
        self.rows.append((model.day, int(lost[US]), int(lost[FOREIGN]), int(out.served[US]), int(out.served[FOREIGN])))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(self.COLUMNS))

    def last(self) -> dict[str, int]:
        return dict(zip(self.COLUMNS, self.rows[-1], strict=True))


class DashboardModel(RetentionModel):
    """The page's model: the base scenario with the sliders' values, plus its counterfactual twin.

    Every argument left as ``None`` keeps the base scenario's value. ``rng`` is the root seed; the twin
    uses the same seed, so both runs see identical reports and draws.

    Args:
        window_days: platform preservation window (days).
        analysts: NCMEC analysts (FTE).
        investigators: US investigators (FTE).
        scale: multiplier of every platform's report volume.
        automated_percent: reports no person at the platform viewed (%).
        wilson_percent: unviewed files that need a warrant before viewing (%).
        preservation_request_percent: cases needing legal process with a 2703(f) preservation letter (%).
        triage_policy: order of the NCMEC queue.
        rng: root random seed (integer).
    """

    def __init__(self, window_days: int | None = None, analysts: int | None = None, investigators: int | None = None,
                 scale: float | None = None, automated_percent: float | None = None,
                 wilson_percent: float | None = None, preservation_request_percent: float | None = None,
                 triage_policy: str | None = None, rng: int | None = 1) -> None:
        self.values = {"window_days": window_days, "analysts": analysts, "investigators": investigators,
                       "scale": scale, "automated_percent": automated_percent, "wilson_percent": wilson_percent,
                       "preservation_request_percent": preservation_request_percent, "triage_policy": triage_policy}
        seed = SEED_RANGE[0] if rng is None else int(rng)
        scenario = build_scenario(self.values)
        super().__init__(scenario, rng=seed)
        self.twin_window = counterfactual_window(scenario.retention.window_days)
        self.twin = RetentionModel(build_scenario(self.values, self.twin_window), rng=seed)
        self.routes, self.twin_routes = RouteSeries(), RouteSeries()
        self.routes.record(self)
        self.twin_routes.record(self.twin)

    @property
    def window(self) -> int:
        return self.params.retention.window_days

    def step(self) -> None:
        """Advance both runs one day (until both have decided every counted report)."""
        super().step()
        self.twin.step()
        self.routes.record(self)
        self.twin_routes.record(self.twin)
        self.running = self.running or self.twin.running


# --- figures (pure functions of a model, so they are testable without a browser) -----------------

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
#: Daily backlog series -> short legend name (the long meaning is in the hover text).
STAGES: dict[str, str] = {
    "ncmec_backlog": "NCMEC queue",
    "agency_backlog": "referrals waiting for review",
    "cases_in_progress": "cases in progress",
    "in_legal_process": "legal process scheduled",
    "forensic_backlog": "forensic lab",
}
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
                    for col, name in STAGES.items()],
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


def settings_line(model: DashboardModel) -> str:
    """The running values of every control in words (the sliders show what the next Reset will use)."""
    parts = [f"{c.title} {c.text(c.slider_value(model.params))}" for c in CONTROLS]
    return "This run: " + "; ".join(parts) + f"; seed {model.seed}."


def _rate(lost: int, served: int) -> float | None:
    return lost / (lost + served) if lost + served else None


def headline(model: DashboardModel) -> dict[str, Any]:
    """The numbers shown above the plots: US first, foreign beside it."""
    this, twin = model.routes.last(), model.twin_routes.last()
    out: dict[str, Any] = {"day": model.day, "days": model.params.run.days, "window": model.window,
                           "twin_window": model.twin_window, "reports": model.outcomes.reports}
    for prefix, values in (("", this), ("twin_", twin)):
        for route in ("us", "foreign"):
            lost, served = values[f"lost_{route}"], values[f"served_{route}"]
            out[f"{prefix}lost_{route}"] = lost
            out[f"{prefix}served_{route}"] = served
            out[f"{prefix}rate_{route}"] = _rate(lost, served)
    for prefix, run in (("", model), ("twin_", model.twin)):
        out[f"{prefix}lost_us_at"] = {name: int(n) for name, n in zip(STAGE_NAMES, run.outcomes.lost[US], strict=True)}
    return out


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def headline_markdown(model: DashboardModel) -> str:
    """The headline in Markdown: US evidence lost under both rules, foreign beside it, the stages where US
    evidence was lost, and the running values of the controls."""
    h = headline(model)
    short = min(h["window"], h["twin_window"])
    note = ""
    if h["day"] < short:
        note = f" Nothing can be lost before day {short} (every report is held {short} days or more): press ▶."
    where = ", ".join(f"{STAGE_LABELS[name]} {n:,} / {h['twin_lost_us_at'][name]:,}" for name, n in
                      h["lost_us_at"].items() if n or h["twin_lost_us_at"][name]) or "nowhere yet"
    return (
        f"### Day {h['day']} of {h['days']}: US evidence lost {_percent(h['rate_us'])} vs {_percent(h['twin_rate_us'])}"
        f"\n\n| | {h['window']}-day window (this run) | {h['twin_window']}-day window (same reports) |\n"
        f"|---|---:|---:|\n"
        f"| **US: evidence lost** | **{h['lost_us']:,}** reports ({_percent(h['rate_us'])}) "
        f"| **{h['twin_lost_us']:,}** reports ({_percent(h['twin_rate_us'])}) |\n"
        f"| US: served in time | {h['served_us']:,} | {h['twin_served_us']:,} |\n"
        f"| foreign (MLAT): lost | {h['lost_foreign']:,} ({_percent(h['rate_foreign'])}) "
        f"| {h['twin_lost_foreign']:,} ({_percent(h['twin_rate_foreign'])}) |\n\n"
        f"US evidence lost at (this run / same reports): {where}.{note}\n\n"
        f"<small>Rate: lost / (lost + served in time), of the cases decided so far; {h['reports']:,} reports "
        f"counted. Page 2: every report's path. {settings_line(model)} Move a slider, then press Reset.</small>")


# --- Solara components ---------------------------------------------------------------------------
# Real components (not plain functions): SolaraViz wraps plain functions in a new component class on
# every page render, so a Reset would rebuild every plot widget in the browser (seconds of work);
# components keep their widgets and only receive new data. Each reads ``update_counter`` so it
# re-renders after every Step.

#: The page's own CSS. (1) Each slider's value under its knob (Mesa's sliders show it only while dragged;
#: Vuetify keeps it in the knob's aria-valuenow attribute). (2) The headline's text a little smaller, so it
#: fits its grid cell. (3) Pages 1 and 2 hold a single cell: it takes the page's whole width and its
#: content's height (Mesa's grid makes every cell half wide and 390 px high).
PAGE_CSS = """
.v-slider__thumb-container[aria-valuenow]::after {
  content: attr(aria-valuenow); position: absolute; top: 9px; left: 50%; transform: translateX(-50%);
  font-size: 11px; line-height: 1; color: rgba(0, 0, 0, 0.75); white-space: nowrap; pointer-events: none;
}
.v-input__slider { padding-bottom: 6px; }
.tipline-headline { font-size: 13.5px; line-height: 1.35; }
.tipline-headline h3 { font-size: 17px; margin: 4px 0 6px 0; }
.tipline-headline table td, .tipline-headline table th { padding: 2px 6px !important; }
.tipline-headline p { margin-bottom: 6px; }
.vue-grid-item:has(.tipline-fullwidth) {
  width: calc(100% - 20px) !important; height: auto !important; transform: translate3d(10px, 10px, 0) !important;
}
.vue-grid-item:has(.tipline-fullwidth) > .vue-resizable-handle { display: none; }
"""


class ResizeKick(ipyvue.VueTemplate):
    """An invisible widget that, for a few seconds after it appears, tells the page its size changed whenever
    a plot is not as wide as its cell: a plot made on a page that was just opened (page 2) otherwise keeps
    plotly's default width of 700 px instead of its cell's."""

    template = traitlets.Unicode("""<template><span style="display: none"></span></template>
<script>
module.exports = {
  mounted() {
    let ticks = 0;
    this.timer = setInterval(() => {
      ticks += 1;
      const off = Array.from(document.querySelectorAll('.js-plotly-plot')).some(gd => {
        const svg = gd.querySelector('.main-svg');
        return svg && Math.abs(svg.getBoundingClientRect().width - gd.getBoundingClientRect().width) > 4;
      });
      if (off) { window.dispatchEvent(new Event('resize')); }
      if (ticks > 60) { clearInterval(this.timer); }
    }, 250);
  },
  destroyed() { clearInterval(this.timer); },
};
</script>""").tag(sync=True)


@solara.component
def PageStyle() -> Any:
    """The page's CSS (see PAGE_CSS) and the plot-width fix (ResizeKick); rendered on every page."""
    with solara.Div(style={"display": "none"}) as div:
        solara.Style(PAGE_CSS)
        ResizeKick.element()
    return div


@solara.component
def Headline(model: DashboardModel) -> Any:
    """The run's key numbers, in words (US first), and the values of this run's controls."""
    update_counter.get()
    with solara.Column(gap="0px", classes=["tipline-headline"],
                       style={"padding": "0 8px", "height": "385px", "overflow-y": "auto"}) as column:
        PageStyle()
        solara.Markdown(headline_markdown(model))
    return column


#: Trace properties a live update copies into the plot (not ``visible``: a trace a person hid by clicking
#: its legend entry stays hidden while the model runs).
LIVE_KEYS = ("x", "y", "name", "customdata", "node", "link")


def update_widget(widget: FigureWidget, fig: go.Figure) -> None:
    """Show `fig` in a plot widget: when the traces are of the same kinds as those shown, only their data and
    names change (cheap, and a person's zoom and legend choices stay); otherwise everything is replaced."""
    shown = [t.type for t in widget.data]
    if shown and shown == [t.type for t in fig.data]:
        with widget.batch_update():
            for old, new in zip(widget.data, fig.data, strict=True):
                for key in LIVE_KEYS:
                    if key in new and new[key] is not None:
                        old[key] = new[key]
            if widget.layout.title.text != fig.layout.title.text:
                widget.layout.title.text = fig.layout.title.text
        return
    widget.layout = fig.layout
    length = len(widget.data)
    widget.add_traces(fig.data)
    widget.data = list(widget.data)[length:]


class ResponsiveFigureWidget(FigureWidget):
    """A plot widget that follows its container's width when the window (or the page) changes size
    (plotly's ``responsive`` option; FigureWidget otherwise keeps the width it was first drawn with, which
    is plotly's default of 700 px for a plot made on a page that was just opened)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._config = {**self._config, "responsive": True}


@solara.component
def LivePlot(build: Callable[[Any], go.Figure], model: Any) -> Any:
    """A plotly figure of `model`, rebuilt after every step and updated in place (solara.FigurePlotly
    replaces the whole figure, and reacton would compare whole figures as props: both slow Play down)."""
    update_counter.get()
    element = ResponsiveFigureWidget.element()
    solara.use_effect(lambda: update_widget(solara.get_widget(element), build(model)), None)
    return element


@solara.component
def EvidenceLostPlot(model: DashboardModel) -> Any:
    """Cumulative evidence lost under both rules, US and foreign."""
    return LivePlot(evidence_lost_figure, model)


def this_flows(model: DashboardModel) -> go.Figure:
    return flows_figure(model, model.window, True)


def twin_flows(model: DashboardModel) -> go.Figure:
    return flows_figure(model.twin, model.twin_window, False)


@solara.component
def FlowsPage(model: DashboardModel) -> Any:
    """Page 2: where the counted reports went, one Sankey diagram per rule, the page's full width."""
    with solara.Column(gap="12px", classes=["tipline-fullwidth"]) as column:
        PageStyle()
        solara.Markdown("Counted reports so far, from the platform through NCMEC and the agencies to their outcome "
                        "(outcomes fixed so far: legal process already scheduled counts as served in time or lost). "
                        "US and foreign cases are drawn apart; red: evidence lost.")
        LivePlot(this_flows, model)
        LivePlot(twin_flows, model)
    return column


@solara.component
def BacklogPlot(model: RetentionModel) -> Any:
    """Reports and cases waiting at each stage, per day."""
    return LivePlot(backlog_figure, model)


@solara.component
def DeadlinePlot(model: RetentionModel) -> Any:
    """Waiting cases by days left before their preservation deadline."""
    return LivePlot(deadline_figure, model)


@solara.component
def UtilisationPlot(model: RetentionModel) -> Any:
    """Analysts' and investigators' hours used (%)."""
    return LivePlot(utilisation_figure, model)


@solara.component
def AgencyBacklogPlot(model: RetentionModel) -> Any:
    """Referrals waiting per agency, per day."""
    return LivePlot(agency_backlog_figure, model)


def controls_markdown(model: DashboardModel) -> str:
    """Page 1: each control's slider range and step, the default, its meaning, and what the schema allows."""
    rows = ["| control | slider range (step) | default | meaning | schema allows | source |",
            "|---|---|---|---|---|---|"]
    for c in CONTROLS:
        widget, field = c.widget(), c.field
        if widget["type"] == "Select":
            slider = ", ".join(widget["values"])
        else:
            slider = f"{c.text(widget['min'])} to {c.text(widget['max'])} (step {widget['step']:g})"
        allowed = field.allowed + (f" {field.unit}" if field.low is not None and field.unit not in ("policy",) else "")
        if c.percent:
            allowed += f" ({c.text(c.factor * field.low)} to {c.text(c.factor * field.high)})"
        rows.append(f"| {c.label()} | {slider} | {c.text(c.slider_value())} | {field.meaning} | {allowed} "
                    f"| {field.source} |")
    intro = (f"Base scenario: `{BASE_SCENARIO}` ({base_scenario().description}), no warm-up: every report filed "
             f"from day 1 to day {base_scenario().run.days} is counted and followed to its outcome. One step is one "
             f"day; **Step** and each frame of **▶** advance the sidebar's *Render Interval* (default "
             f"{RENDER_INTERVAL} days). Move a slider, then press **Reset** to start a new run with it; the value "
             "under each slider's knob is what the next Reset uses, the headline's last line what is running now. "
             "The twin run uses the same seed and every setting but the window: 365 days for a window under a "
             "year, else 90.")
    return intro + "\n\n" + "\n".join(rows)


@solara.component
def ControlsHelp(model: DashboardModel) -> Any:
    """Page 1: what each control means: slider range, unit, default, the schema's valid range and the source."""
    with solara.Column(classes=["tipline-fullwidth"]) as column:
        PageStyle()
        solara.Markdown(controls_markdown(model))
    return column


#: Page 0: the run (headline, evidence lost, what waits where, staff); page 1: the controls explained; page 2:
#: where the reports went, a Sankey diagram per rule (on its own page: eight live plots on one page would
#: halve the speed of Play, and the browser only draws the page shown).
COMPONENTS: list[tuple[Any, int]] = [
    (Headline, 0), (EvidenceLostPlot, 0), (DeadlinePlot, 0), (BacklogPlot, 0), (UtilisationPlot, 0),
    (AgencyBacklogPlot, 0), (ControlsHelp, 1), (FlowsPage, 2),
]


def model_params() -> dict[str, Any]:
    """SolaraViz ``model_params``: one control per schema field, plus the seed."""
    params = {c.name: c.widget() for c in CONTROLS}
    params["rng"] = {"type": "SliderInt", "value": 1, "min": SEED_RANGE[0], "max": SEED_RANGE[1], "step": 1,
                     "label": "Random seed"}
    return params


model = DashboardModel()
page = SolaraViz(model, components=COMPONENTS, model_params=model_params(), play_interval=PLAY_INTERVAL,
                 render_interval=RENDER_INTERVAL,
                 name="CyberTipline: evidence lost before legal process reaches the platform")
