"""The interactive browser dashboard: a Mesa SolaraViz page of the CyberTipline pipeline, run live.

Start it with ``tipline dashboard`` (or ``solara run dashboards/app.py`` with the offline asset
environment of :mod:`dashboards.assets`). The page runs a small, fast scenario (X/Twitter alone, no
warm-up, one step = one day) and, in lockstep on the same seed, a *twin* run under the other retention
rule (a window shorter than one year is compared with the REPORT Act's 365 days, a window of a year or
more with the former 90 days). Both runs see the same reports and the same draws (common random
numbers), so the gap between the two cumulative evidence-lost lines is the effect of the window alone.

Controls are generated from the parameter schema (:mod:`model.params`): the label's unit, the slider's
lower and upper bounds (clamped to a display range) and the default all come from the schema and the
base scenario, so no parameter default is written here.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter
from pydantic import BaseModel

from model import RetentionModel, Scenario, load_scenario
from model.agents import Agency
from model.model import DAILY_SERIES
from model.params import field_metadata

#: The base scenario of the page and its overrides: X alone (about 2,000 reports a day), no warm-up so
#: every report counts from day 1. A day takes about 1 ms to simulate (2 ms with the twin).
BASE_SCENARIO = "x_platform"
BASE_OVERRIDES: tuple[str, ...] = ("run.warmup_days=0",)
#: The two retention rules compared: 18 U.S.C. 2258A(h) before and after the REPORT Act (days).
OLD_RULE_DAYS, REPORT_ACT_DAYS = 90, 365
#: Seeds offered by the seed slider (any integer works in the model; the slider needs a range).
SEED_RANGE = (0, 1000)


def counterfactual_window(window_days: int) -> int:
    """The other retention rule (days): 365 for a window under a year, else 90."""
    return REPORT_ACT_DAYS if window_days < REPORT_ACT_DAYS else OLD_RULE_DAYS


@cache
def base_scenario() -> Scenario:
    """The page's base scenario (validated once)."""
    return load_scenario(BASE_SCENARIO, list(BASE_OVERRIDES))


def schema_field(key: str) -> Any:
    """The pydantic FieldInfo of a dotted scenario key; ``platforms.x`` means the field of every platform."""
    model_cls: type[BaseModel] = Scenario
    *sections, name = key.split(".")
    for section in sections:
        annotation = model_cls.model_fields[section].annotation
        args = typing.get_args(annotation)  # list[Platform] -> (Platform,)
        model_cls = args[0] if args else annotation
    return model_cls.model_fields[name]


@dataclass(frozen=True)
class Control:
    """One sidebar control, generated from the schema field ``key``.

    ``title`` is the short plain-language name; the unit, the meaning and the bounds come from the schema.
    ``low``/``high`` narrow the schema's allowed range to a useful slider (never widen it).
    """

    name: str  #: keyword argument of DashboardModel
    key: str  #: dotted scenario key (``platforms.<field>`` applies to every platform)
    title: str
    low: float | None = None
    high: float | None = None
    step: float = 1

    @property
    def field(self) -> Any:
        return schema_field(self.key)

    @property
    def metadata(self) -> dict[str, Any]:
        """Unit, allowed range, source and meaning from the schema."""
        return field_metadata(self.field)

    def default(self, scenario: Scenario | None = None) -> Any:
        """The value in the (base) scenario."""
        scenario = scenario or base_scenario()
        *sections, name = self.key.split(".")
        obj: Any = scenario
        for section in sections:
            obj = getattr(obj, section)
            if isinstance(obj, list):
                obj = obj[0]
        return getattr(obj, name)

    def bounds(self) -> tuple[float, float]:
        """Slider range: the schema's range clamped to the display range."""
        meta = {type(m).__name__: m for m in self.field.metadata}
        low = meta["Ge"].ge if "Ge" in meta else self.low
        high = meta["Le"].le if "Le" in meta else self.high
        if self.low is not None:
            low = max(low, self.low)
        if self.high is not None:
            high = min(high, self.high)
        return low, high

    def label(self) -> str:
        """Short label with the schema's unit (long units shortened to their first word, e.g. "share")."""
        unit = self.metadata["unit"]
        if not unit or unit in ("policy", "text"):
            return self.title
        return f"{self.title} ({unit if len(unit) <= 10 else unit.split()[0]})"

    def widget(self) -> dict[str, Any]:
        """The SolaraViz ``model_params`` entry."""
        choices = typing.get_args(self.field.annotation)
        if choices and all(isinstance(c, str) for c in choices):
            return {"type": "Select", "value": self.default(), "values": list(choices), "label": self.label()}
        low, high = self.bounds()
        integer = self.field.annotation is int
        kind = "SliderInt" if integer else "SliderFloat"
        cast = int if integer else float
        return {"type": kind, "value": cast(self.default()), "min": cast(low), "max": cast(high),
                "step": cast(self.step), "label": self.label()}

    def overrides(self, value: Any, scenario: Scenario | None = None) -> list[str]:
        """``--set`` style overrides that put `value` into a scenario."""
        scenario = scenario or base_scenario()
        section, *rest = self.key.split(".")
        if section == "platforms":
            return [f"platforms.{p.name}.{rest[0]}={value}" for p in scenario.platforms]
        return [f"{self.key}={value}"]


#: The sidebar's model controls, in display order. Display ranges are chosen so that 90 and 365 days
#: lie on the window slider's grid and the staff sliders reach a few times the base scenario's staff.
CONTROLS: tuple[Control, ...] = (
    Control("window_days", "retention.window_days", "Preservation window", low=15, high=730, step=5),
    Control("analysts", "ncmec.analysts", "NCMEC analysts", high=20),
    Control("investigators", "law_enforcement.investigators", "US investigators", high=600, step=10),
    Control("scale", "demand.scale", "Report volume", high=5, step=0.1),
    Control("automated_share", "platforms.automated_share", "Unviewed reports", step=0.05),
    Control("wilson_share", "law_enforcement.wilson_share", "Wilson warrants", step=0.05),
    Control("preservation_request_share", "retention.preservation_request_share", "2703(f) requests", step=0.05),
    Control("triage_policy", "ncmec.triage_policy", "NCMEC triage order"),
)
CONTROLS_BY_NAME = {c.name: c for c in CONTROLS}


def build_scenario(values: dict[str, Any], window_days: int | None = None) -> Scenario:
    """The base scenario with control `values` (by control name); `window_days` overrides the window."""
    overrides = list(BASE_OVERRIDES)
    for name, value in values.items():
        if value is not None:
            overrides += CONTROLS_BY_NAME[name].overrides(value)
    if window_days is not None:
        overrides.append(f"retention.window_days={window_days}")
    return load_scenario(BASE_SCENARIO, overrides)


class DashboardModel(RetentionModel):
    """The page's model: the base scenario with the controls' values, plus its counterfactual twin.

    Every argument left as ``None`` keeps the base scenario's value. ``rng`` is the root seed; the twin
    uses the same seed, so both runs see identical reports and draws.

    Args:
        window_days: platform preservation window (days).
        analysts: NCMEC analysts (FTE).
        investigators: US investigators (FTE).
        scale: multiplier of every platform's report volume.
        automated_share: share of reports no person at the platform viewed.
        wilson_share: share of unviewed files that need a warrant before viewing.
        preservation_request_share: share of cases with a 2703(f) preservation request.
        triage_policy: order of the NCMEC queue.
        rng: root random seed (integer).
    """

    def __init__(self, window_days: int | None = None, analysts: int | None = None, investigators: int | None = None,
                 scale: float | None = None, automated_share: float | None = None, wilson_share: float | None = None,
                 preservation_request_share: float | None = None, triage_policy: str | None = None,
                 rng: int | None = 1) -> None:
        values = {"window_days": window_days, "analysts": analysts, "investigators": investigators, "scale": scale,
                  "automated_share": automated_share, "wilson_share": wilson_share,
                  "preservation_request_share": preservation_request_share, "triage_policy": triage_policy}
        seed = SEED_RANGE[0] if rng is None else int(rng)
        scenario = build_scenario(values)
        super().__init__(scenario, rng=seed)
        self.twin_window = counterfactual_window(scenario.retention.window_days)
        self.twin = RetentionModel(build_scenario(values, self.twin_window), rng=seed)

    def step(self) -> None:
        """Advance both runs one day."""
        super().step()
        self.twin.step()


# --- figures (pure functions of a model, so they are testable without a browser) -----------------

STAGES: dict[str, str] = {  # daily series -> short stage name
    "ncmec_backlog": "NCMEC triage",
    "agency_backlog": "Agency intake",
    "in_legal_process": "Legal process",
    "forensic_backlog": "Forensic lab",
}
#: Plot size fits a grid cell of the SolaraViz page at a window width of 1,400 px or more.
LAYOUT = {"height": 330, "width": 520, "margin": {"l": 60, "r": 10, "t": 40, "b": 45}, "template": "plotly_white",
          "legend": {"orientation": "h", "y": -0.25}}


def _series(model: RetentionModel) -> pd.DataFrame:
    return model.timeseries()


def backlog_figure(model: RetentionModel) -> go.Figure:
    """Reports waiting at each stage, per day."""
    df = _series(model)
    fig = go.Figure([go.Scatter(x=df["day"], y=df[col], mode="lines", name=f"{stage}: {DAILY_SERIES[col]}")
                     for col, stage in STAGES.items()])
    fig.update_layout(title="Queue backlog per stage", xaxis_title="day", yaxis_title="reports waiting", **LAYOUT)
    fig.update_layout(height=400, legend={"orientation": "h", "y": -0.3, "font": {"size": 10}})
    return fig


def waiting_days_left(model: RetentionModel) -> dict[str, np.ndarray]:
    """Days left before the preservation deadline (negative: passed) of the waiting reports that will
    need legal process on the platform, by the stage where they wait."""
    st = model.store
    stages = {"NCMEC triage": model.ncmec_queue.rows,
              "Agency intake": np.concatenate([a.queue.rows for a in model.agencies]),
              "Legal process": model.to_service.rows()}
    out = {}
    for stage, rows in stages.items():
        rows = rows[st.quality[rows] & st.actionable[rows] & st.needs_process[rows]]
        out[stage] = (st.deadline[rows].astype(np.int64) - model.day)
    return out


def deadline_figure(model: RetentionModel) -> go.Figure:
    """Histogram of the waiting cases' days left before their preservation deadline, per stage."""
    fig = go.Figure()
    for stage, left in waiting_days_left(model).items():
        fig.add_trace(go.Histogram(x=left, name=f"{stage} ({len(left):,} waiting)", xbins={"size": 10},
                                   opacity=0.75))
    fig.add_vline(x=0, line_dash="dash", line_color="firebrick", annotation_text="deadline",
                  annotation_position="top left")
    fig.update_layout(title="Waiting cases: days left before the preservation deadline", barmode="stack",
                      xaxis_title="days left (below 0: evidence lost)",
                      yaxis_title="cases needing legal process", **LAYOUT)
    return fig


def evidence_lost_figure(model: DashboardModel) -> go.Figure:
    """Cumulative evidence lost under this run's window and, on the same draws, under the other rule."""
    df, twin = _series(model), _series(model.twin)
    window = model.settings.retention.window_days
    fig = go.Figure([
        go.Scatter(x=df["day"], y=df["evidence_lost"], mode="lines", name=f"this run: {window}-day window",
                   line={"color": "firebrick", "width": 3}),
        go.Scatter(x=twin["day"], y=twin["evidence_lost"], mode="lines",
                   name=f"same reports, {model.twin_window}-day window", line={"color": "steelblue", "dash": "dash"}),
    ])
    fig.update_layout(title="Cumulative evidence lost (legal process after the deadline)", xaxis_title="day",
                      yaxis_title="reports with evidence lost", **LAYOUT)
    fig.update_layout(height=255, margin={"t": 30, "b": 40})
    return fig


def utilisation_figure(model: RetentionModel) -> go.Figure:
    """Share of analysts' and investigators' daily capacity used (percent)."""
    df = _series(model)
    fig = go.Figure([go.Scatter(x=df["day"], y=100 * df[col], mode="lines", name=name) for col, name in
                     (("analyst_utilisation", "NCMEC analysts"), ("investigator_utilisation", "US investigators"))])
    fig.update_layout(title="Staff utilisation", xaxis_title="day", yaxis_title="capacity used (%)",
                      yaxis_range=[0, 105], **LAYOUT)
    return fig


def agency_backlog_frame(model: RetentionModel) -> pd.DataFrame:
    """Referrals waiting per agency per day: columns day, agency, backlog."""
    df = model.datacollector.get_agenttype_vars_dataframe(Agency).reset_index()
    names = {a.unique_id: a.spec.name for a in model.agencies}
    return pd.DataFrame({"day": df["Step"].astype(int), "agency": df["AgentID"].map(names), "backlog": df["backlog"]})


def agency_backlog_figure(model: RetentionModel) -> go.Figure:
    """Referrals waiting for an investigator, one line per agency."""
    df = agency_backlog_frame(model)
    fig = go.Figure([go.Scatter(x=g["day"], y=g["backlog"], mode="lines", name=str(name))
                     for name, g in df.groupby("agency", sort=False)])
    fig.update_layout(title="Referrals waiting per agency", xaxis_title="day", yaxis_title="referrals waiting",
                      **LAYOUT)
    return fig


def settings_line(model: DashboardModel) -> str:
    """The run's control values in words (the sliders show positions only; this shows what is running)."""
    parts = []
    for c in CONTROLS:
        value = c.default(model.settings)
        unit = c.metadata["unit"]
        if isinstance(value, float) and unit.startswith("share"):
            text = f"{100 * value:.3g}%"
        elif unit.startswith("x "):
            text = f"x{value:g}"
        elif isinstance(value, float):
            text = f"{value:g} {unit}"
        elif isinstance(value, int):
            text = f"{value:,} {unit}"
        else:
            text = str(value)
        parts.append(f"{c.title} {text}")
    return "This run: " + "; ".join(parts) + f"; seed {model.seed}."


def headline(model: DashboardModel) -> dict[str, Any]:
    """The numbers shown above the plots."""
    out, twin = model.outcomes, model.twin.outcomes
    decided = out.evidence_lost + out.legal_process_served
    return {"day": model.day, "days": model.settings.run.days, "window": model.settings.retention.window_days,
            "twin_window": model.twin_window, "lost": out.evidence_lost, "twin_lost": twin.evidence_lost,
            "served": out.legal_process_served, "rate": out.evidence_lost / decided if decided else 0.0,
            "reports": out.reports}


# --- Solara components ---------------------------------------------------------------------------
# Real components (not plain functions): SolaraViz wraps plain functions in a new component class on
# every page render, so a Reset would rebuild every plot widget in the browser (seconds of work);
# components keep their widgets and only receive new data. Each reads ``update_counter`` so it
# re-renders after every Step.


@solara.component
def Headline(model: DashboardModel) -> Any:
    """The run's key numbers, in words."""
    update_counter.get()
    h = headline(model)
    gap = h["lost"] - h["twin_lost"]
    text = (f"**Day {h['day']} of {h['days']}.** Reports filed: {h['reports']:,}. "
            f"Legal process served in time: {h['served']:,}.\n\n"
            f"Evidence lost so far with the {h['window']}-day window: **{h['lost']:,}** reports "
            f"({100 * h['rate']:.1f}% of cases decided). "
            f"With the {h['twin_window']}-day window on the same reports: **{h['twin_lost']:,}** reports "
            f"(difference {gap:+,}).\n\n<small>{settings_line(model)}</small>")
    return solara.Markdown(text, style={"padding": "0 8px", "max-width": "520px"})


@solara.component
def EvidenceLostPlot(model: DashboardModel) -> Any:
    """The headline numbers above the evidence-lost plot (one grid cell)."""
    update_counter.get()
    with solara.Column(gap="0px") as column:
        Headline(model)
        solara.FigurePlotly(evidence_lost_figure(model))
    return column


@solara.component
def BacklogPlot(model: RetentionModel) -> Any:
    """Reports waiting at each stage, per day."""
    update_counter.get()
    return solara.FigurePlotly(backlog_figure(model))


@solara.component
def DeadlinePlot(model: RetentionModel) -> Any:
    """Waiting cases by days left before their preservation deadline."""
    update_counter.get()
    return solara.FigurePlotly(deadline_figure(model))


@solara.component
def UtilisationPlot(model: RetentionModel) -> Any:
    """Analysts' and investigators' capacity used (%)."""
    update_counter.get()
    return solara.FigurePlotly(utilisation_figure(model))


@solara.component
def AgencyBacklogPlot(model: RetentionModel) -> Any:
    """Referrals waiting per agency, per day."""
    update_counter.get()
    return solara.FigurePlotly(agency_backlog_figure(model))


@solara.component
def ControlsHelp(model: RetentionModel) -> Any:
    """What each control means, its unit, allowed range and source (from the schema)."""
    rows = ["| control | meaning | unit | allowed | source |", "|---|---|---|---|---|"]
    for c in CONTROLS:
        m = c.metadata
        rows.append(f"| {c.title} | {m['meaning']} | {m['unit']} | {m['allowed']} | {m['source']} |")
    intro = (f"Base scenario: `{BASE_SCENARIO}` ({model.settings.description}), no warm-up. "
             "Change a control, then press **Reset** to start a new run with it. One step is one day.")
    return solara.Markdown(intro + "\n\n" + "\n".join(rows))


COMPONENTS: list[tuple[Any, int]] = [
    (EvidenceLostPlot, 0), (BacklogPlot, 0), (DeadlinePlot, 0), (UtilisationPlot, 0),
    (AgencyBacklogPlot, 0), (ControlsHelp, 1),
]


def model_params() -> dict[str, Any]:
    """SolaraViz ``model_params``: one control per schema field, plus the seed."""
    params = {c.name: c.widget() for c in CONTROLS}
    params["rng"] = {"type": "SliderInt", "value": 1, "min": SEED_RANGE[0], "max": SEED_RANGE[1], "step": 1,
                     "label": "Random seed"}
    return params


model = DashboardModel()
page = SolaraViz(model, components=COMPONENTS, model_params=model_params(),
                 name="CyberTipline: evidence lost before legal process reaches the platform")
