"""The dashboard's Solara components: the headline, the live plots, page 1's help and page 2's flows.

Real components (not plain functions): SolaraViz wraps plain functions in a new component class on every
page render, so a Reset would rebuild every plot widget in the browser (seconds of work); components keep
their widgets and only receive new data. Each reads ``update_counter`` so it re-renders after every Step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ipyvue
import plotly.graph_objects as go
import solara
import traitlets
from mesa.visualization.utils import update_counter
from plotly.graph_objs._figurewidget import FigureWidget

from dashboards.live.controls import CONTROLS
from dashboards.live.figures import (
    agency_backlog_figure,
    backlog_figure,
    deadline_figure,
    evidence_lost_figure,
    this_flows,
    twin_flows,
    utilisation_figure,
)
from dashboards.live.text import controls_markdown, headline_markdown
from dashboards.live.twin import DashboardModel
from model import RetentionModel

#: Mesa's own sliders (the sidebar's "Controls" card): label -> what their values are written between.
MESA_SLIDERS = {"Play Interval (ms)": ("", " ms"), "Render Interval (steps)": ("", " steps")}


def slider_value_css() -> str:
    """CSS that writes each slider's value with its unit under its knob ("90 days", "9.5%", "x1", "200 FTE").

    Mesa's sliders show their value only while dragged; Vuetify keeps it in the knob's ``aria-valuenow``
    attribute and the label in its ``aria-label``, so one rule per label adds the unit (the seed has none).
    """
    affixes = {**MESA_SLIDERS, **{c.label(): c.affixes() for c in CONTROLS if not c.field.choices}}
    rules = [f'.v-slider__thumb-container[aria-label={json.dumps(label)}]::after '
             f'{{ content: {json.dumps(prefix)} attr(aria-valuenow) {json.dumps(suffix)}; }}'
             for label, (prefix, suffix) in affixes.items()]
    return "\n".join(rules)


#: The page's own CSS. (1) Each slider's value under its knob, with its unit (:func:`slider_value_css`);
#: the slider keeps room on its right for the value at the slider's end. (2) The headline's text a little
#: smaller, so it fits its grid cell. (3) Pages 1 and 2 hold a single cell: it takes the page's whole width
#: and its content's height (Mesa's grid makes every cell half wide and 390 px high).
PAGE_CSS = """
.v-slider__thumb-container[aria-valuenow]::after {
  content: attr(aria-valuenow); position: absolute; top: 9px; left: 50%; transform: translateX(-50%);
  font-size: 11px; line-height: 1; color: rgba(0, 0, 0, 0.75); white-space: nowrap; pointer-events: none;
}
.v-input__slider { padding-bottom: 6px; }
.v-input__slider .v-slider { margin-right: 14px; }
""" + slider_value_css() + """
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


@solara.component
def ControlsHelp(model: DashboardModel) -> Any:
    """Page 1: what each control means: slider range, unit, default, the schema's valid range and the source."""
    with solara.Column(classes=["tipline-fullwidth"]) as column:
        PageStyle()
        solara.Markdown(controls_markdown())
    return column


#: Page 0: the run (headline, evidence lost, what waits where, staff); page 1: the controls explained; page 2:
#: where the reports went, a Sankey diagram per rule (on its own page: eight live plots on one page would
#: halve the speed of Play, and the browser only draws the page shown).
COMPONENTS: list[tuple[Any, int]] = [
    (Headline, 0), (EvidenceLostPlot, 0), (DeadlinePlot, 0), (BacklogPlot, 0), (UtilisationPlot, 0),
    (AgencyBacklogPlot, 0), (ControlsHelp, 1), (FlowsPage, 2),
]


