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
from model import RetentionModel, load_scenario
from model.cli import main
from model.params import Scenario

SEED = 7


@pytest.fixture(scope="module")
def stepped() -> app.DashboardModel:
    """A dashboard model (90-day window) after 150 days, with a little more volume to fill the queues."""
    model = app.DashboardModel(window_days=90, rng=SEED)
    for _ in range(150):
        model.step()
    return model


# --- controls generated from the schema ----------------------------------------------------------------

def test_every_control_is_a_model_keyword_and_a_schema_field():
    from mesa.visualization.solara_viz import _check_model_params

    params = app.model_params()
    _check_model_params(app.DashboardModel(), params)  # raises on a name the model does not take
    assert set(params) == {c.name for c in app.CONTROLS} | {"rng"}
    for control in app.CONTROLS:
        assert control.field is not None


def test_control_defaults_bounds_and_labels_come_from_the_schema_and_base_scenario():
    base = app.base_scenario()
    params = app.model_params()
    window = params["window_days"]
    assert window["value"] == base.retention.window_days
    assert params["analysts"]["value"] == base.ncmec.analysts
    assert params["investigators"]["value"] == base.law_enforcement.investigators
    assert params["automated_share"]["value"] == pytest.approx(base.platforms[0].automated_share)
    assert params["triage_policy"]["values"] == ["fifo", "urgent_first", "deadline_first", "quality_first"]
    assert params["triage_policy"]["value"] == base.ncmec.triage_policy
    for control in app.CONTROLS:
        widget = params[control.name]
        if widget["type"] == "Select":
            continue
        meta = {type(m).__name__: m for m in control.field.metadata}
        assert meta["Ge"].ge <= widget["min"] <= widget["value"] <= widget["max"] <= meta["Le"].le, control.name
        assert widget["label"].startswith(control.title)
    assert window["label"] == "Preservation window (days)"  # unit from the schema
    assert params["wilson_share"]["label"] == "Wilson warrants (share)"
    # 90 and 365 days are on the window slider's grid
    for days in (90, 365):
        assert (days - window["min"]) % window["step"] == 0


def test_schema_field_walks_lists_of_sections():
    assert app.schema_field("platforms.automated_share") is type(Scenario().platforms[0]).model_fields["automated_share"]
    assert app.CONTROLS_BY_NAME["automated_share"].overrides(0.5) == [
        f"platforms.{p.name}.automated_share=0.5" for p in app.base_scenario().platforms]


# --- the model and its twin --------------------------------------------------------------------------------

def test_dashboard_model_applies_every_control():
    model = app.DashboardModel(window_days=365, analysts=5, investigators=300, scale=0.5, automated_share=0.6,
                               wilson_share=0.9, preservation_request_share=0.1, triage_policy="fifo", rng=3)
    s = model.settings
    assert (s.retention.window_days, s.ncmec.analysts, s.law_enforcement.investigators) == (365, 5, 300)
    assert s.demand.scale == 0.5 and s.platforms[0].automated_share == 0.6
    assert s.law_enforcement.wilson_share == 0.9 and s.retention.preservation_request_share == 0.1
    assert s.ncmec.triage_policy == "fifo" and s.run.warmup_days == 0
    assert model.seed == 3 and model.twin.seed == 3
    twin = model.twin.settings
    assert twin.retention.window_days == 90 == model.twin_window
    assert twin.model_copy(update={"retention": s.retention}) == s  # the twin differs only in the window


def test_counterfactual_rule():
    assert [app.counterfactual_window(d) for d in (15, 90, 364, 365, 730)] == [365, 365, 365, 90, 90]


def test_twin_sees_the_same_reports_and_matches_a_separate_run(stepped):
    assert stepped.twin.day == stepped.day == 150
    assert stepped.twin.outcomes.reports == stepped.outcomes.reports
    assert stepped.outcomes.evidence_lost > 0
    assert stepped.twin.outcomes.evidence_lost <= stepped.outcomes.evidence_lost  # one year never loses more
    # The twin is exactly the run the other window would give on its own.
    mirror = app.DashboardModel(window_days=365, rng=SEED)
    for _ in range(150):
        mirror.step()
    assert mirror.outcomes.evidence_lost == stepped.twin.outcomes.evidence_lost
    assert mirror.twin.outcomes.evidence_lost == stepped.outcomes.evidence_lost


def test_a_different_seed_gives_different_reports():
    a, b = app.DashboardModel(rng=1), app.DashboardModel(rng=2)
    a.step()
    b.step()
    assert a.outcomes.reports != b.outcomes.reports


# --- figures: the plotted data is the model's data -------------------------------------------------------

def test_evidence_lost_figure_plots_both_runs(stepped):
    fig = app.evidence_lost_figure(stepped)
    this, twin = fig.data
    assert list(this.x) == list(range(151)) and this.y[-1] == stepped.outcomes.evidence_lost
    assert twin.y[-1] == stepped.twin.outcomes.evidence_lost
    assert "90-day" in this.name and "365-day" in twin.name
    assert fig.layout.yaxis.title.text and fig.layout.xaxis.title.text == "day"


def test_backlog_and_utilisation_figures_follow_the_daily_series(stepped):
    daily = stepped.timeseries()
    fig = app.backlog_figure(stepped)
    assert [t.name.split(":")[0] for t in fig.data] == list(app.STAGES.values())
    for trace, column in zip(fig.data, app.STAGES, strict=True):
        np.testing.assert_array_equal(trace.y, daily[column])
    assert daily["in_legal_process"].iloc[-1] > 0
    util = app.utilisation_figure(stepped)
    np.testing.assert_allclose(util.data[0].y, 100 * daily["analyst_utilisation"])
    assert util.layout.yaxis.title.text == "capacity used (%)"


def test_deadline_figure_counts_the_waiting_cases(stepped):
    left = app.waiting_days_left(stepped)
    waiting = stepped.to_service.rows()
    assert len(left["Legal process"]) == int(stepped.store.needs_process[waiting].sum()) > 0
    assert max(left["Legal process"].max(), 0) <= stepped.settings.retention.preservation_extension_days * 2 + 90
    fig = app.deadline_figure(stepped)
    assert sum(len(t.x) for t in fig.data) == sum(len(v) for v in left.values())


def test_agency_backlog_figure_sums_to_the_total_backlog(stepped):
    frame = app.agency_backlog_frame(stepped)
    assert set(frame["agency"]) == {a.spec.name for a in stepped.agencies}
    total = frame.groupby("day")["backlog"].sum()
    np.testing.assert_array_equal(total.to_numpy(), stepped.timeseries()["agency_backlog"].to_numpy())
    assert len(app.agency_backlog_figure(stepped).data) == len(stepped.agencies)


def test_headline_numbers(stepped):
    h = app.headline(stepped)
    assert h["day"] == 150 and h["lost"] == stepped.outcomes.evidence_lost
    assert h["twin_lost"] == stepped.twin.outcomes.evidence_lost and h["twin_window"] == 365
    decided = stepped.outcomes.evidence_lost + stepped.outcomes.legal_process_served
    assert h["rate"] == pytest.approx(stepped.outcomes.evidence_lost / decided)


def test_settings_line_names_the_running_values():
    model = app.DashboardModel(window_days=365, investigators=250, scale=1.5, wilson_share=0.25, triage_policy="fifo", rng=9)
    line = app.settings_line(model)
    for text in ("Preservation window 365 days", "US investigators 250 FTE", "Report volume x1.5",
                 "Wilson warrants 25%", "NCMEC triage order fifo", "seed 9"):
        assert text in line


# --- rendering -----------------------------------------------------------------------------------------------

def _render(function: Any, model: Any) -> Any:
    @solara.component
    def Host() -> Any:
        return function(model)

    _, rc = solara.render(Host(), handle_error=False)
    return rc


@pytest.mark.parametrize("component", [app.BacklogPlot, app.DeadlinePlot, app.UtilisationPlot,
                                       app.AgencyBacklogPlot, app.EvidenceLostPlot])
def test_each_plot_component_renders_a_plotly_widget_with_data(component, stepped):
    rc = _render(component, stepped)
    widgets = rc.find(FigureWidget).widgets
    assert len(widgets) == 1
    assert widgets[0].data and any(len(t.x if t.x is not None else []) for t in widgets[0].data)


def test_headline_and_help_components_render_text(stepped):
    import html

    import ipyvue

    rc = _render(app.Headline, stepped)
    text = html.unescape(rc.find(ipyvue.VueTemplate).widget.template)
    assert f"{stepped.outcomes.evidence_lost:,}</strong> reports" in text and "Day 150 of 730" in text
    assert f"{stepped.twin.outcomes.evidence_lost:,}</strong> reports" in text
    rc = _render(app.ControlsHelp, stepped)
    help_text = html.unescape(rc.find(ipyvue.VueTemplate).widget.template)
    for control in app.CONTROLS:
        assert control.title in help_text and control.metadata["source"][:25] in help_text


def test_page_renders_every_plot():
    _, rc = solara.render(app.page, handle_error=False)
    assert len(rc.find(FigureWidget).widgets) == 5


def test_step_and_reset_buttons_drive_both_runs():
    import ipyvuetify as vw
    from mesa.visualization.solara_viz import ModelController

    model = solara.reactive(app.DashboardModel(rng=1))
    params = solara.reactive({"window_days": 365, "rng": 4})
    controller = ModelController(model, model_parameters=params, play_interval=solara.reactive(100),
                                 render_interval=solara.reactive(3), use_threads=solara.reactive(False))
    _, rc = solara.render(controller, handle_error=False)
    rc.find(vw.Btn, children=["Step"]).widget.click()
    assert model.value.day == 3 and model.value.twin.day == 3
    rc.find(vw.Btn, children=["Reset"]).widget.click()
    assert model.value.day == 0 and model.value.seed == 4
    assert model.value.settings.retention.window_days == 365 and model.value.twin_window == 90


def test_step_is_fast_enough_for_live_play():
    """Not a timing test: a sanity bound 20x above the measured ~2 ms a day (model and twin)."""
    import time

    model = app.DashboardModel(rng=1)
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


def test_dashboard_command_bad_input(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SOLARA_ASSETS_PROXY_CACHE_DIR", str(tmp_path / "none"))
    assert main(["dashboard"]) == 2
    assert "python -m dashboards.assets" in capsys.readouterr().err
    assert main(["dashboard", "--port", "0"]) == 2


def test_the_base_scenario_is_small():
    """The page's scenario must stay fast: one platform, no warm-up."""
    base = app.base_scenario()
    assert base.run.warmup_days == 0 and len(base.platforms) == 1
    assert base == load_scenario(app.BASE_SCENARIO, list(app.BASE_OVERRIDES))
    assert isinstance(app.model, RetentionModel)


def test_app_file_exists_where_the_command_runs_it():
    assert Path(dash_cli.APP).is_file() and dash_cli.APP.name == "app.py"
