"""The dashboard without a browser: schema-generated controls, the twin model, the figures' data, every
component rendered with ``solara.render``, the controller buttons, the offline asset helper and the CLI."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import solara
from plotly.graph_objs._figurewidget import FigureWidget

from dashboards import app, assets
from dashboards import cli as dash_cli
from dashboards.labels import BACKLOG_LABELS
from dashboards.live import components, controls, figures
from dashboards.live import text as live_text
from dashboards.live.twin import DashboardModel
from model import RetentionModel, load_scenario
from model.cli import main

SEED = 7


@pytest.fixture(scope="module")
def stepped() -> DashboardModel:
    """A dashboard model (90-day window) after 150 days: the 90-day rule has started to lose evidence."""
    model = DashboardModel(window_days=90, rng=SEED)
    for _ in range(150):
        model.step()
    return model


# --- controls generated from the schema ----------------------------------------------------------------

def test_every_control_is_a_model_keyword_and_a_schema_field():
    from mesa.visualization.solara_viz import _check_model_params

    params = controls.model_params()
    _check_model_params(DashboardModel(), params)  # raises on a name the model does not take
    assert set(params) == {c.name for c in controls.CONTROLS} | {"rng"}
    for control in controls.CONTROLS:
        assert control.field.key == control.key


def test_control_defaults_bounds_and_labels_come_from_the_schema_and_base_scenario():
    base = controls.base_scenario()
    params = controls.model_params()
    window = params["window_days"]
    assert window["value"] == base.retention.window_days
    assert params["analysts"]["value"] == base.ncmec.analysts
    assert params["investigators"]["value"] == base.law_enforcement.investigators
    assert params["automated_percent"]["value"] == pytest.approx(100 * base.platforms[0].automated_share)
    assert params["wilson_percent"]["value"] == pytest.approx(100 * base.law_enforcement.wilson_share)
    assert params["triage_policy"]["values"] == ["fifo", "urgent_first", "deadline_first", "quality_first"]
    assert params["triage_policy"]["value"] == base.ncmec.triage_policy
    for control in controls.CONTROLS:
        widget = params[control.name]
        if widget["type"] == "Select":
            continue
        field = control.field
        assert control.factor * field.low <= widget["min"] <= widget["value"] <= widget["max"] <= control.factor * field.high
        assert widget["label"].startswith(control.title)
    assert window["label"] == "Preservation window (days)"  # unit from the schema
    assert params["wilson_percent"]["label"] == "Wilson warrants (%)"  # shares in percent
    # 90 and 365 days are on the window slider's grid
    for days in (90, 365):
        assert (days - window["min"]) % window["step"] == 0


#: Mesa's own sliders (solara_viz.SolaraViz): name -> (the page's default, min, max, step).
MESA_SLIDERS = {"Play Interval (ms)": (controls.PLAY_INTERVAL, 1, 500, 10),
                "Render Interval (steps)": (controls.RENDER_INTERVAL, 1, 100, 2)}


def test_every_default_lies_on_its_slider_grid():
    """A slider snaps its value to its grid (min + k * step): X's 9.5% unviewed share became 10% after Reset
    with a 0.05 step on a 0-1 slider. Exact arithmetic on the written decimals, for every slider."""
    from fractions import Fraction

    sliders = {name: (w["value"], w["min"], w["max"], w["step"])
               for name, w in controls.model_params().items() if w["type"] != "Select"}
    assert set(sliders) == {c.name for c in controls.CONTROLS if not c.field.choices} | {"rng"}
    for name, (value, low, high, step) in {**sliders, **MESA_SLIDERS}.items():
        k = (Fraction(str(value)) - Fraction(str(low))) / Fraction(str(step))
        assert k.denominator == 1 and low <= value <= high, (name, value, low, high, step)
    assert controls.model_params()["automated_percent"]["value"] == 9.5


def test_every_default_survives_a_reset():
    """Reset with the sidebar's values as ModelCreator sets them (every slider's default) runs the base
    scenario exactly, and gives every slider its default back."""
    import ipyvuetify as vw
    from mesa.visualization.solara_viz import ModelController

    params = controls.model_params()
    model = solara.reactive(DashboardModel(window_days=365, automated_percent=50, rng=5))  # not the defaults
    controller = ModelController(model, model_parameters=solara.reactive({k: w["value"] for k, w in params.items()}),
                                 play_interval=solara.reactive(controls.PLAY_INTERVAL),
                                 render_interval=solara.reactive(controls.RENDER_INTERVAL),
                                 use_threads=solara.reactive(False))
    _, rc = solara.render(controller, handle_error=False)
    rc.find(vw.Btn, children=["Reset"]).widget.click()
    reset = model.value
    assert reset.params == controls.base_scenario() and reset.twin.params.ncmec == reset.params.ncmec
    values = controls.scenario_values(reset.params)
    for control in controls.CONTROLS:
        assert control.slider_value(values[control.key]) == params[control.name]["value"], control.name
    assert reset.seed == params["rng"]["value"]
    assert live_text.settings_line(reset) == live_text.settings_line(DashboardModel())


def test_controls_read_the_schema_and_the_scenario_through_the_model():
    from model.schema import field_info

    automated = controls.CONTROLS_BY_NAME["automated_percent"]
    assert automated.field == field_info("platforms.automated_share") and automated.field.unit == "share"
    assert automated.overrides(50) == [
        f"platforms.{p.name}.automated_share=0.5" for p in controls.base_scenario().platforms]
    values = controls.scenario_values(controls.base_scenario())
    assert values["platforms.automated_share"] == controls.base_scenario().platforms[0].automated_share
    assert values["retention.window_days"] == controls.base_scenario().retention.window_days
    with pytest.raises(KeyError, match="not a scenario parameter"):
        controls.Control("nothing", "retention.no_such_key")


def test_control_names_are_written_once():
    """SolaraViz reads the model's signature; it is generated from the controls, and other names are refused."""
    import inspect

    names = list(inspect.signature(DashboardModel).parameters)
    assert names == [c.name for c in controls.CONTROLS] + ["rng"]
    model = DashboardModel(rng=2)
    assert list(model.values) == [c.name for c in controls.CONTROLS] and set(model.values.values()) == {None}
    with pytest.raises(TypeError, match="unknown control window"):
        DashboardModel(window=90)


# --- the model and its twin --------------------------------------------------------------------------------

def test_dashboard_model_applies_every_control():
    model = DashboardModel(window_days=365, analysts=5, investigators=300, scale=0.5, automated_percent=60,
                               wilson_percent=90, preservation_request_percent=10, triage_policy="fifo", rng=3)
    s = model.params
    assert (s.retention.window_days, s.ncmec.analysts, s.law_enforcement.investigators) == (365, 5, 300)
    assert s.demand.scale == 0.5 and s.platforms[0].automated_share == 0.6
    assert s.law_enforcement.wilson_share == 0.9 and s.retention.preservation_request_share == 0.1
    assert s.ncmec.triage_policy == "fifo" and s.run.warmup_days == 0
    assert model.seed == 3 and model.twin.seed == 3
    twin = model.twin.params
    assert twin.retention.window_days == 90 == model.twin_window
    assert twin.model_copy(update={"retention": s.retention}) == s  # the twin differs only in the window


def test_default_model_runs_the_base_scenario():
    model = DashboardModel()
    assert model.params == controls.base_scenario()
    assert model.params.platforms[0].automated_share == 0.095  # X's 9.5%, not a slider-rounded value


def test_counterfactual_rule():
    assert [controls.counterfactual_window(d) for d in (15, 90, 364, 365, 730)] == [365, 365, 365, 90, 90]


def test_twin_sees_the_same_reports_and_matches_a_separate_run(stepped):
    assert stepped.twin.day == stepped.day == 150
    assert stepped.twin.outcomes.reports == stepped.outcomes.reports
    us, twin_us = stepped.routes.last()["lost_us"], stepped.twin_routes.last()["lost_us"]
    assert us > 0, "the 90-day rule lost no US evidence in 150 days"
    assert twin_us <= us  # one year never loses more on the same draws
    # The twin is exactly the run the other window would give on its own.
    mirror = DashboardModel(window_days=365, rng=SEED)
    for _ in range(150):
        mirror.step()
    assert mirror.outcomes.evidence_lost == stepped.twin.outcomes.evidence_lost
    assert mirror.twin.outcomes.evidence_lost == stepped.outcomes.evidence_lost


def test_route_series_follow_the_outcomes(stepped):
    from model.outcomes import FOREIGN, US

    frame = stepped.routes.frame()
    assert list(frame["day"]) == list(range(151))
    last = frame.iloc[-1]
    out = stepped.outcomes
    assert last["lost_us"] == out.lost[US].sum() and last["lost_foreign"] == out.lost[FOREIGN].sum()
    assert last["served_us"] == out.served[US] and last["served_foreign"] == out.served[FOREIGN]
    assert last["lost_us"] + last["lost_foreign"] == out.evidence_lost  # the pooled count, split by route
    daily = stepped.timeseries()
    np.testing.assert_array_equal(frame["lost_us"] + frame["lost_foreign"], daily["evidence_lost"])
    assert np.all(np.diff(frame["lost_us"]) >= 0)


def test_a_different_seed_gives_different_reports():
    a, b = DashboardModel(rng=1), DashboardModel(rng=2)
    a.step()
    b.step()
    assert a.outcomes.reports != b.outcomes.reports


# --- figures: the plotted data is the model's data -------------------------------------------------------

FIGURES = ("evidence_lost_figure", "backlog_figure", "deadline_figure", "utilisation_figure", "agency_backlog_figure",
           "this_flows", "twin_flows")


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_is_valid_plotly(name, stepped):
    """The page builds figures without plotly's validation (for speed); here they are validated."""
    import plotly.graph_objects as go

    fig = getattr(figures, name)(stepped)
    checked = go.Figure(fig.to_dict())  # raises on any invalid property
    assert checked.data and checked.layout.title.text
    assert checked.layout.width is None  # the width follows the cell
    assert checked.layout.height == (figures.FLOWS_HEIGHT if "flows" in name else figures.HEIGHT)


def test_evidence_lost_figure_plots_both_rules_us_first(stepped):
    fig = figures.evidence_lost_figure(stepped)
    us, foreign, twin_us, twin_foreign = fig.data
    assert (us.xaxis, foreign.xaxis) == ("x", "x2")
    assert list(us.x) == list(range(151)) and us.y[-1] == stepped.routes.last()["lost_us"]
    assert foreign.y[-1] == stepped.routes.last()["lost_foreign"]
    assert twin_us.y[-1] == stepped.twin_routes.last()["lost_us"]
    assert twin_foreign.y[-1] == stepped.twin_routes.last()["lost_foreign"]
    assert "90-day" in us.name and "365-day" in twin_us.name
    assert us.line.color != twin_us.line.color and us.line.dash != twin_us.line.dash  # tell the rules apart
    assert [t.showlegend for t in fig.data] == [True, False, True, False]  # one legend entry per rule
    assert fig.layout.legend.yref == "container"  # in the margin: never clipped by, or covering, the plot
    assert [a.text for a in fig.layout.annotations] == ["<b>US cases</b>", "<b>foreign (MLAT)</b>"]


def test_backlog_and_utilisation_figures_follow_the_daily_series(stepped):
    daily = stepped.timeseries()
    fig = figures.backlog_figure(stepped)
    assert [t.name for t in fig.data] == list(BACKLOG_LABELS.values())
    for trace, column in zip(fig.data, BACKLOG_LABELS, strict=True):
        np.testing.assert_array_equal(trace.y, daily[column])
    assert daily["in_legal_process"].iloc[-1] > 0 and daily["cases_in_progress"].iloc[-1] > 0
    util = figures.utilisation_figure(stepped)
    np.testing.assert_allclose(util.data[0].y, 100 * daily["analyst_utilisation"])
    np.testing.assert_allclose(util.data[1].y, 100 * daily["investigator_utilisation"])
    assert util.layout.yaxis.title.text == "share of the day's hours used (%)"


def test_deadline_figure_reads_every_stage_where_cases_wait(stepped):
    from model.outcomes import US

    rows = figures.waiting_rows(stepped)
    assert list(rows) == [*figures.WAITING, figures.FOREIGN_WAITING]
    store, desk = stepped.store, stepped.casework
    everything = np.concatenate(list(rows.values()))
    assert len(np.unique(everything)) == len(everything)  # each case waits in one place
    for name in figures.WAITING:
        chosen = rows[name]
        assert np.all(store.needs_process[chosen] & store.actionable[chosen] & (store.quality[chosen] < 1))
        assert np.all(desk.routes(chosen) == US)
    scheduled = desk.service.rows
    scheduled = scheduled[store.actionable[scheduled] & store.needs_process[scheduled]]
    assert len(rows["legal process scheduled"]) + len(rows[figures.FOREIGN_WAITING]) == len(scheduled) > 0
    queued = desk.queue.rows
    from model.agency import Step

    us_reviews = queued[(store.step[queued] == Step.REVIEW) & (desk.routes(queued) == US)]
    us_reviews = us_reviews[store.actionable[us_reviews] & store.needs_process[us_reviews]]
    assert len(rows["referrals waiting for review"]) == len(us_reviews)
    assert len(rows["cases in progress"]) > 0
    left = figures.waiting_days_left(stepped)
    assert left["legal process scheduled"].max() <= 2 * stepped.params.retention.preservation_extension_days
    assert (left[figures.FOREIGN_WAITING] < 0).any()  # MLAT takes months: some foreign cases are past the deadline
    fig = figures.deadline_figure(stepped)
    assert [len(t.x) for t in fig.data] == [len(v) for v in left.values()]
    assert fig.data[-1].visible == "legendonly" and all(t.visible is True for t in fig.data[:-1])


def test_agency_backlog_figure_sums_to_the_total_backlog(stepped):
    frame = figures.agency_backlog_frame(stepped)
    assert set(frame["agency"]) == {a.spec.name for a in stepped.agencies}
    total = frame.groupby("day")["backlog"].sum()
    np.testing.assert_array_equal(total.to_numpy(), stepped.timeseries()["agency_backlog"].to_numpy())
    fig = figures.agency_backlog_figure(stepped)
    assert len(fig.data) == len(stepped.agencies)
    assert fig.data[0].customdata is not None  # hours used, shown on hover


def test_flows_figures_show_each_rule_with_us_and_foreign_apart(stepped):
    for fig, model in ((figures.this_flows(stepped), stepped), (figures.twin_flows(stepped), stepped.twin)):
        sankey = fig.data[0]
        labels = list(sankey.node.label)
        names = [label.rsplit(": ", 1)[0] for label in labels]
        values = dict(zip(names, (int(label.rsplit(": ", 1)[1].replace(",", "")) for label in labels), strict=True))
        assert values["X"] == model.outcomes.reports
        # flows() counts outcomes already fixed: legal process scheduled to arrive later is decided.
        assert values["US: served in time"] == model.outcomes.served_decided(model.day)[0]
        assert "served in time" not in names  # never pooled across routes
        lost = sum(v for n, v in values.items() if n.startswith("US: lost at"))
        assert lost == model.outcomes.lost_decided(model.day)[0].sum()
        # Conservation: what leaves each intermediate node equals what entered it (undecided drawn where it waits).
        inflow = np.zeros(len(names))
        outflow = np.zeros(len(names))
        np.add.at(inflow, list(sankey.link.target), list(sankey.link.value))
        np.add.at(outflow, list(sankey.link.source), list(sankey.link.value))
        assert outflow[names.index("NCMEC")] == inflow[names.index("NCMEC")]
    assert "365-day window (same reports)" in figures.twin_flows(stepped).layout.title.text


def test_headline_numbers(stepped):
    from model.outcomes import FOREIGN, US

    h = live_text.headline(stepped)
    out = stepped.outcomes
    assert h["day"] == 150 and h["lost_us"] == out.lost[US].sum() and h["lost_foreign"] == out.lost[FOREIGN].sum()
    assert h["twin_lost_us"] == stepped.twin.outcomes.lost[US].sum() and h["twin_window"] == 365
    assert h["rate_us"] == pytest.approx(out.lost[US].sum() / (out.lost[US].sum() + out.served[US]))
    assert sum(h["lost_us_at"].values()) == h["lost_us"]
    text = live_text.headline_markdown(stepped)
    assert text.startswith(f"### Day 150 of {stepped.params.run.days}: US evidence lost {100 * h['rate_us']:.1f}%")
    assert text.index("US: evidence lost") < text.index("foreign (MLAT)")  # US first
    assert f"**{h['lost_us']:,}** reports" in text and "Page 2" in text


def test_headline_explains_why_nothing_is_lost_yet():
    model = DashboardModel(rng=1)
    assert "Nothing can be lost before day 90" in live_text.headline_markdown(model)


def test_settings_line_names_the_running_values():
    model = DashboardModel(window_days=365, investigators=250, scale=1.5, wilson_percent=25,
                               triage_policy="fifo", rng=9)
    line = live_text.settings_line(model)
    for text in ("Preservation window 365 days", "US investigators 250 FTE", "Report volume x1.5",
                 "Wilson warrants 25%", "Unviewed reports 9.5%", "NCMEC triage order fifo", "seed 9"):
        assert text in line


def test_controls_help_shows_the_sliders_ranges_not_the_schemas():
    text = live_text.controls_markdown()
    assert "| Preservation window (days) | 15 days to 730 days (step 5) | 90 days |" in text
    assert "| US investigators (FTE) | 0 FTE to 600 FTE (step 10) | 200 FTE |" in text
    assert "| Unviewed reports (%) | 0% to 100% (step 0.5) | 9.5% |" in text
    for control in controls.CONTROLS:
        widget = control.widget()
        if widget["type"] != "Select":
            assert f"| {control.label()} | {control.text(widget['min'])} to {control.text(widget['max'])} " in text
    # The schema's wider ranges (what a scenario file may hold) are not the page's: not shown.
    assert "10,000,000" not in text and "3,650" not in text and "schema" not in text


def test_every_slider_shows_its_value_with_its_unit():
    """The page's CSS writes each slider's aria-valuenow with the unit of its label under the knob."""
    css = components.PAGE_CSS
    expected = {"Play Interval (ms)": ("", " ms"), "Render Interval (steps)": ("", " steps"),
                "Preservation window (days)": ("", " days"), "NCMEC analysts (FTE)": ("", " FTE"),
                "US investigators (FTE)": ("", " FTE"), "Report volume (x)": ("x", ""),
                "Unviewed reports (%)": ("", "%"), "Wilson warrants (%)": ("", "%"),
                "2703(f) requests (%)": ("", "%")}
    for label, (prefix, suffix) in expected.items():
        rule = f'[aria-label="{label}"]::after {{ content: "{prefix}" attr(aria-valuenow) "{suffix}"; }}'
        assert rule in css, label
    assert set(components.MESA_SLIDERS) == set(MESA_SLIDERS)  # Mesa's labels, as the tests know them
    for control in controls.CONTROLS:  # the affixes are those of the page's text
        prefix, suffix = control.affixes()
        assert control.text(7) == f"{prefix}7{suffix}"


def test_live_update_keeps_a_hidden_trace_hidden(stepped):
    widget = FigureWidget()
    components.update_widget(widget, figures.backlog_figure(stepped))
    assert [t.name for t in widget.data] == list(BACKLOG_LABELS.values())
    widget.data[0].visible = "legendonly"  # a person clicked the legend entry
    model = DashboardModel(rng=2)
    model.step()
    components.update_widget(widget, figures.backlog_figure(model))
    assert widget.data[0].visible == "legendonly"
    assert list(widget.data[1].y) == list(model.timeseries()["agency_backlog"])
    components.update_widget(widget, figures.deadline_figure(model))  # other trace kinds: replaced whole
    assert [t.type for t in widget.data] == ["histogram"] * 5


# --- rendering -----------------------------------------------------------------------------------------------

def _render(function: Any, model: Any) -> Any:
    @solara.component
    def Host() -> Any:
        return function(model)

    _, rc = solara.render(Host(), handle_error=False)
    return rc


@pytest.mark.parametrize("component, plots", [
    (components.BacklogPlot, 1), (components.DeadlinePlot, 1), (components.UtilisationPlot, 1),
    (components.AgencyBacklogPlot, 1), (components.EvidenceLostPlot, 1), (components.FlowsPage, 2)])
def test_each_plot_component_renders_plotly_widgets_with_data(component, plots, stepped):
    rc = _render(component, stepped)
    widgets = rc.find(FigureWidget).widgets
    assert len(widgets) == plots
    for widget in widgets:
        data = widget.data
        assert data and (data[0].type == "sankey" or any(len(t.x if t.x is not None else []) for t in data))


def test_headline_and_help_components_render_text(stepped):
    import html

    import ipyvue

    rc = _render(components.Headline, stepped)
    text = html.unescape(" ".join(w.template for w in rc.find(ipyvue.VueTemplate).widgets))
    assert f"{stepped.routes.last()['lost_us']:,}</strong> reports" in text and "Day 150 of" in text
    assert "aria-valuenow" in text  # the slider values' style
    rc = _render(components.ControlsHelp, stepped)
    help_text = html.unescape(" ".join(w.template for w in rc.find(ipyvue.VueTemplate).widgets))
    for control in controls.CONTROLS:
        assert control.title in help_text and control.field.source[:25] in help_text


def test_page_renders_every_plot_of_page_0():
    _, rc = solara.render(app.page, handle_error=False)
    assert len(rc.find(FigureWidget).widgets) == 5


def test_step_and_reset_buttons_drive_both_runs():
    import ipyvuetify as vw
    from mesa.visualization.solara_viz import ModelController

    model = solara.reactive(DashboardModel(rng=1))
    defaults = {name: widget["value"] for name, widget in controls.model_params().items()}
    params = solara.reactive({**defaults, "window_days": 365, "rng": 4})
    controller = ModelController(model, model_parameters=params, play_interval=solara.reactive(100),
                                 render_interval=solara.reactive(controls.RENDER_INTERVAL), use_threads=solara.reactive(False))
    _, rc = solara.render(controller, handle_error=False)
    rc.find(vw.Btn, children=["Step"]).widget.click()
    assert model.value.day == controls.RENDER_INTERVAL and model.value.twin.day == controls.RENDER_INTERVAL
    rc.find(vw.Btn, children=["Reset"]).widget.click()
    assert model.value.day == 0 and model.value.seed == 4
    assert model.value.params.retention.window_days == 365 and model.value.twin_window == 90
    assert model.value.params.platforms[0].automated_share == 0.095  # X's share survives a Reset


def test_five_steps_show_the_rules_diverge():
    """With the defaults, five clicks of Step (or five frames of Play) reach a day on which the 90-day rule
    has lost US evidence and the one-year rule none: nothing can be lost before day 90."""
    model = DashboardModel()
    for _ in range(5 * controls.RENDER_INTERVAL):
        model.step()
    assert model.day == 5 * controls.RENDER_INTERVAL
    assert model.routes.last()["lost_us"] > 0 and model.twin_routes.last()["lost_us"] == 0


def test_step_is_fast_enough_for_live_play():
    """Not a timing test: a sanity bound 10x above the measured ~4 ms a day (model and twin)."""
    import time

    model = DashboardModel(rng=1)
    start = time.perf_counter()
    for _ in range(50):
        model.step()
    assert (time.perf_counter() - start) / 50 < 0.05


# --- offline assets ------------------------------------------------------------------------------------------

def test_offline_env_points_the_cdn_at_this_machine(tmp_path):
    env = assets.offline_env(tmp_path, base={"PATH": "/usr/bin"})
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(tmp_path)
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false" and env["PATH"] == "/usr/bin"


def test_assets_missing_and_install_with_a_stand_in_npm(tmp_path):
    assert assets.missing(tmp_path) == [name for name, _, _ in assets.PACKAGES]
    # A stand-in for `npm pack SPEC --pack-destination DIR`: writes a tarball with package/<marker>.
    tarballs = tmp_path / "tarballs"
    tarballs.mkdir()
    for name, spec, marker in assets.PACKAGES:
        data = f"/* {name} */".encode()
        with tarfile.open(tarballs / (spec.replace("/", "_").replace("@", "") + ".tgz"), "w:gz") as tar:
            info = tarfile.TarInfo(f"package/{marker}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    fake = tmp_path / "npm"
    fake.write_text(f"""#!/bin/sh
spec="$2"; dest="$5"
file="{tarballs}/$(echo "$spec" | tr '/' '_' | tr -d '@').tgz"
cp "$file" "$dest/"
""")
    fake.chmod(0o755)
    cache = tmp_path / "cache"
    done = assets.install(cache, npm=str(fake))
    assert done == [name for name, _, _ in assets.PACKAGES]
    assert assets.missing(cache) == []
    assert (cache / "requirejs@2.3.6" / "require.js").read_text() == "/* requirejs@2.3.6 */"
    assert assets.install(cache, npm=str(fake)) == []  # nothing left to do
    assert assets.main(["--dir", str(cache), "--check"]) == 0
    assert assets.main(["--dir", str(tmp_path / "empty"), "--check"]) == 1


# --- command line ----------------------------------------------------------------------------------------------

def test_dashboard_command_starts_solara_on_localhost_offline(monkeypatch, tmp_path):
    for name, _, marker in assets.PACKAGES:
        (tmp_path / name / marker).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name / marker).write_text("x")
    monkeypatch.setenv("SOLARA_ASSETS_PROXY_CACHE_DIR", str(tmp_path))
    started: dict[str, Any] = {}

    class FakeProcess:
        def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
            started.update(cmd=cmd, env=env)

        def wait(self, timeout: float | None = None) -> int:
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    assert main(["dashboard", "--port", "8899"]) == 0
    cmd, env = started["cmd"], started["env"]
    assert cmd[1:3] == ["run", str(dash_cli.APP)]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "8899"
    assert "--production" in cmd and "--no-open" in cmd
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(tmp_path) and "127.0.0.1" in env["SOLARA_ASSETS_CDN"]
    assert env["PYTHONWARNINGS"].endswith(dash_cli.COOKIE_WARNING)


def test_server_env_ignores_solaras_cookie_warning_only(monkeypatch, tmp_path):
    """In the server's environment, Solara's SameSite cookie warning is ignored; other warnings (also other
    warnings of the same module) are still printed, and a PYTHONWARNINGS already set still applies."""
    import sys

    monkeypatch.setenv("PYTHONWARNINGS", "error::DeprecationWarning")
    env = dash_cli.server_env(tmp_path)
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(tmp_path)
    assert env["PYTHONWARNINGS"] == f"error::DeprecationWarning,{dash_cli.COOKIE_WARNING}"
    script = """import warnings
def warn(message, module):
    warnings.warn_explicit(message, UserWarning, "starlette.py", 621, module=module)
warn("Cookies with samesite=none require https, but according to the asgi framework, the scheme is 'http'",
     "solara.server.starlette")
warn("Origin as determined by starlette does not match", "solara.server.starlette")
warn("Cookies with samesite=none require https (elsewhere)", "another.module")
print("ran")
"""
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout == "ran\n"
    assert "scheme is 'http'" not in done.stderr
    assert "Origin as determined" in done.stderr and "(elsewhere)" in done.stderr


def test_dashboard_command_bad_input(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SOLARA_ASSETS_PROXY_CACHE_DIR", str(tmp_path / "none"))
    assert main(["dashboard"]) == 2
    assert "python -m dashboards.assets" in capsys.readouterr().err
    assert main(["dashboard", "--port", "0"]) == 2


def test_the_base_scenario_is_small():
    """The page's scenario must stay fast: one platform, no warm-up."""
    base = controls.base_scenario()
    assert base.run.warmup_days == 0 and len(base.platforms) == 1
    assert base == load_scenario(controls.BASE_SCENARIO, list(controls.BASE_OVERRIDES))
    assert isinstance(app.model, RetentionModel)
    assert controls.RENDER_INTERVAL % 2 == 1 and controls.PLAY_INTERVAL % 10 == 1  # on Mesa's sliders' grids


def test_app_file_exists_where_the_command_runs_it():
    assert Path(dash_cli.APP).is_file() and dash_cli.APP.name == "app.py"
