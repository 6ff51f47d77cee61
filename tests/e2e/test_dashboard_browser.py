"""End to end: the dashboard in headless Chromium, offline.

Starts ``solara run dashboards/app.py`` on a free 127.0.0.1 port (the fixture), clicks Reset, steps the
model, changes the preservation-window slider, resets and steps again, plays and pauses, opens the other
pages, and checks that the numbers and the plots change as the model says they must, that the slider
values and the legends are visible, and that the two rules diverge within seconds of pressing play. Fails
if the page requests anything that is not on this machine, or if the server had to fetch a missing asset.
Saves screenshots to ``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dashboards.live.controls import (
    CONTROLS,
    CONTROLS_BY_NAME,
    PLAY_INTERVAL,
    RENDER_INTERVAL,
    base_scenario,
    counterfactual_window,
    model_params,
)
from dashboards.live.text import settings_line
from dashboards.live.twin import DashboardModel

LOCAL = {"127.0.0.1", "localhost", "::1"}
HEADLINE = re.compile(r"Day (\d+) of (\d+): US evidence lost")
RULES = re.compile(r"(\d+)-day window \(this run\)\s+(\d+)-day window \(same reports\)")
US_LOST = re.compile(r"US: evidence lost\s+([\d,]+) reports \(([^)]*)\)\s+([\d,]+) reports \(([^)]*)\)")
EVIDENCE_PLOT = "Cumulative evidence lost (reports)"
PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
  title: (gd.layout && gd.layout.title && gd.layout.title.text) || '',
  traces: (gd.data || []).map(t => ({name: t.name || '', type: t.type, x: Array.from(t.x || []),
                                      y: Array.from(t.y || []),
                                      labels: t.node ? Array.from(t.node.label || []) : []}))}))"""
#: The box of a plot's legend and of the grid cell holding the plot, by plot title.
LEGEND_JS = """(title) => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(g => g.layout && g.layout.title && g.layout.title.text === title);
  const cell = gd.closest('.vue-grid-item');
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,
                                                                  bottom: r.bottom, width: r.width}; };
  const legend = gd.querySelector('.legend');
  return {legend: legend ? box(legend) : null, cell: box(cell), plot: box(gd.querySelector('.main-svg')),
          entries: legend ? Array.from(legend.querySelectorAll('.traces')).length : 0};
}"""


def headline(page: Any) -> dict[str, Any]:
    text = page.inner_text("body")
    day, rules, lost = HEADLINE.search(text), RULES.search(text), US_LOST.search(text)
    assert day and rules and lost, "headline numbers not shown"
    return {"day": int(day.group(1)), "days": int(day.group(2)), "window": int(rules.group(1)),
            "twin_window": int(rules.group(2)), "lost": int(lost.group(1).replace(",", "")), "rate": lost.group(2),
            "twin_lost": int(lost.group(3).replace(",", "")), "twin_rate": lost.group(4)}


def plots(page: Any) -> dict[str, list[dict[str, Any]]]:
    return {p["title"]: p["traces"] for p in page.evaluate(PLOTS_JS)}


def wait_until(check: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def set_slider(page: Any, label: str, key: str, presses: int = 1) -> None:
    """Move a slider with the keyboard (as a user would with the arrow keys)."""
    slider = page.get_by_role("slider", name=label, exact=True)
    slider.focus()
    for _ in range(presses):
        slider.press(key)


def shown_value(page: Any, label: str) -> str:
    """The value printed under a slider's knob (the page's CSS writes aria-valuenow with the unit)."""
    slider = page.get_by_role("slider", name=label, exact=True)
    return slider.evaluate("e => getComputedStyle(e, '::after').content").strip('"')


def default_values() -> dict[str, str]:
    """Every slider's label -> its default value as the page must write it, with its unit."""
    params = model_params()
    shown = {"Play Interval (ms)": f"{PLAY_INTERVAL} ms", "Render Interval (steps)": f"{RENDER_INTERVAL} steps",
             "Random seed": str(params["rng"]["value"])}
    shown.update({c.label(): c.text(params[c.name]["value"]) for c in CONTROLS if not c.field.choices})
    return shown


def assert_sliders_show(page: Any, expected: dict[str, str]) -> None:
    shown = {label: shown_value(page, label) for label in expected}
    assert shown == expected


def plots_at_day(page: Any, day: int) -> dict[str, list[dict[str, Any]]]:
    """The plots once they show `day` (the browser draws them a moment after the headline's text)."""
    def current() -> dict[str, list[dict[str, Any]]] | None:
        shown = plots(page)
        series = (shown.get(EVIDENCE_PLOT, [{}])[0], shown.get("Waiting at each stage", [{}])[0])
        return shown if all(t.get("x") and t["x"][-1] == day for t in series) else None
    return wait_until(current, what=f"the plots to reach day {day}")


def step_until_day(page: Any, minimum: int) -> dict[str, Any]:
    """Click Step until the headline shows at least day `minimum`; return the headline."""
    step = page.get_by_role("button", name="Step", exact=True)
    while True:
        before = headline(page)["day"]
        if before >= minimum:
            return headline(page)
        step.click()
        wait_until(lambda b=before: headline(page)["day"] > b, what="the day to advance")


def reset(page: Any) -> dict[str, Any]:
    page.get_by_role("button", name="Reset", exact=True).click()
    return wait_until(lambda: headline(page)["day"] == 0 and headline(page), what="day 0 after Reset")


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=30_000)
    reset(page)  # the module-level model is shared by sessions


def legend_inside_cell(page: Any, title: str, entries: int) -> dict[str, Any]:
    box = page.evaluate(LEGEND_JS, title)
    assert box["legend"] is not None and box["entries"] == entries, box
    legend, cell = box["legend"], box["cell"]
    assert cell["top"] <= legend["top"] and legend["bottom"] <= cell["bottom"] + 1, f"legend clipped: {box}"
    assert cell["left"] <= legend["left"] and legend["right"] <= cell["right"] + 1, f"legend clipped: {box}"
    return box


def test_dashboard_in_browser(dashboard_server: dict[str, Any], browser_page: tuple[Any, list[str]],
                              artifacts: Path) -> None:
    page, requests = browser_page
    open_page(page, dashboard_server["url"])
    first = headline(page)
    default_window = CONTROLS_BY_NAME["window_days"].default()
    assert first["window"] == default_window
    assert first["twin_window"] == counterfactual_window(default_window)
    assert first["lost"] == first["twin_lost"] == 0
    assert "Nothing can be lost before day 90" in page.inner_text("body")
    # Every slider shows its value with its unit, and after Reset every default is what runs (X's 9.5%
    # unviewed share, not a value snapped to a slider's grid): the running values are the defaults'.
    defaults = default_values()
    assert defaults["Unviewed reports (%)"] == "9.5%" and defaults["Report volume (x)"] == "x1"
    assert_sliders_show(page, defaults)
    assert settings_line(DashboardModel()) in page.inner_text("body")
    log = Path(dashboard_server["log"]).read_text()  # a session has loaded the page: no cookie warning
    assert "Solara server is starting" in log and "samesite" not in log.lower()

    # Many days per click: the Render Interval slider to its maximum.
    set_slider(page, "Render Interval (steps)", "End")
    run_a = step_until_day(page, 150)
    assert run_a["lost"] > 0, "the 90-day window lost no US evidence in 150 days"
    assert run_a["twin_lost"] < run_a["lost"], "a one-year window must lose less on the same draws"
    shown = plots_at_day(page, run_a["day"])
    lost_plot = shown[EVIDENCE_PLOT]
    assert [t["name"] for t in lost_plot[::2]] == ["90-day window (this run)", "365-day window (same reports)"]
    assert lost_plot[0]["x"][-1] == run_a["day"] and lost_plot[0]["y"][-1] == run_a["lost"]  # US first
    assert lost_plot[2]["y"][-1] == run_a["twin_lost"]
    assert lost_plot[1]["y"][-1] > 0  # foreign beside it
    backlog = shown["Waiting at each stage"]
    assert len(backlog) == 5 and all(len(t["x"]) == run_a["day"] + 1 for t in backlog)
    assert max(backlog[3]["y"]) > 0, "no case ever had legal process scheduled"
    waiting = shown["US cases waiting: days left before the deadline"]
    assert [t["name"].split(" (")[0] for t in waiting][:4] == ["NCMEC queue or on the way",
                                                               "referrals waiting for review", "cases in progress",
                                                               "legal process scheduled"]
    assert all(len(t["x"]) for t in waiting[1:4])
    assert len(shown["Referrals waiting for review, per agency"]) == len(base_scenario().agencies)
    legend_inside_cell(page, EVIDENCE_PLOT, 2)
    legend_inside_cell(page, "Waiting at each stage", 5)
    page.screenshot(path=str(artifacts / "dashboard-90-day.png"), full_page=True)

    # A one-year-plus window: move the slider to its maximum, Reset, step the same number of days.
    set_slider(page, CONTROLS_BY_NAME["window_days"].label(), "End")
    high = int(CONTROLS_BY_NAME["window_days"].bounds()[1])
    assert shown_value(page, "Preservation window (days)") == f"{high} days"
    second = reset(page)
    assert_sliders_show(page, {**defaults, "Preservation window (days)": f"{high} days",
                               "Render Interval (steps)": shown_value(page, "Render Interval (steps)")})
    assert settings_line(DashboardModel(window_days=high)) in page.inner_text("body")
    assert second["window"] == high and second["twin_window"] == 90
    run_b = step_until_day(page, run_a["day"])
    assert run_b["day"] == run_a["day"]
    # Same seed, same days: the twin now runs the 90-day rule on the same draws as run A did.
    assert run_b["twin_lost"] == run_a["lost"]
    assert run_b["lost"] <= run_b["twin_lost"] and run_b["lost"] < run_a["lost"]
    lost_plot = plots_at_day(page, run_b["day"])[EVIDENCE_PLOT]
    assert lost_plot[0]["name"] == f"{high}-day window (this run)"
    assert lost_plot[0]["y"][-1] == run_b["lost"]
    body = page.inner_text("body")
    assert f"This run: Preservation window {high} days" in body and "Unviewed reports 9.5%" in body
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    # Page 1 explains the controls with the sliders' ranges (not the schema's); page 2 draws every
    # report's path, per rule.
    page.get_by_role("tab", name="Page 1").click()
    page.get_by_text("0% to 100% (step 0.5)").first.wait_for()
    time.sleep(1.0)  # the tab's slide transition
    help_text = page.inner_text("body")
    for control in CONTROLS:
        widget = control.widget()
        if widget["type"] != "Select":
            low, top = control.text(widget["min"]), control.text(widget["max"])
            assert f"{low} to {top} (step {widget['step']:g})" in help_text, control.label()
    assert "0 FTE to 600 FTE (step 10)" in help_text and "10,000,000" not in help_text
    assert shown_value(page, "Unviewed reports (%)") == "9.5%"  # the slider values show on every page
    page.screenshot(path=str(artifacts / "dashboard-help.png"), full_page=True)
    page.get_by_role("tab", name="Page 2").click()
    wait_until(lambda: sum(1 for p in plots(page).values() if p and p[0]["type"] == "sankey") == 2,
               what="the two Sankey diagrams")
    def full_width() -> bool:  # a plot made on a page just opened takes its cell's width (ResizeKick)
        boxes = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd =>
            [gd.querySelector('.main-svg').getBoundingClientRect().width,
             gd.closest('.vue-grid-item').getBoundingClientRect().width])""")
        return len(boxes) == 2 and all(abs(plot - cell) < 30 for plot, cell in boxes)

    wait_until(full_width, what="the Sankey diagrams to take the page's width")
    time.sleep(0.5)
    flows = {title: traces[0]["labels"] for title, traces in plots(page).items() if traces[0]["type"] == "sankey"}
    assert set(flows) == {f"Where the reports went: {high}-day window (this run), day {run_b['day']}",
                          f"Where the reports went: 90-day window (same reports), day {run_b['day']}"}
    for labels in flows.values():
        assert any(label.startswith("US: served in time: ") for label in labels)
        assert not any(label.startswith("served in time") for label in labels)  # US and foreign apart
    page.screenshot(path=str(artifacts / "dashboard-flows.png"), full_page=True)
    page.get_by_role("tab", name="Page 0").click()
    page.get_by_text(EVIDENCE_PLOT).first.wait_for()

    outside = sorted({u for u in requests if urlparse(u).scheme not in ("data", "blob", "about")
                      and urlparse(u).hostname not in LOCAL})
    assert not outside, f"requests left the machine: {outside}"
    assert any("/_solara/cdn/" in u for u in requests), "the page should load its assets through the local cache"
    log = Path(dashboard_server["log"]).read_text()
    assert "Could not load URL" not in log, "the server lacked an offline asset (python -m dashboards.assets)"


def test_play_shows_the_rules_diverge_within_seconds(dashboard_server: dict[str, Any],
                                                     browser_page: tuple[Any, list[str]], artifacts: Path) -> None:
    """With the defaults, the evidence-lost plot shows the 90-day rule's US line above the one-year rule's
    within seconds of pressing Play (the only timed check: the goal is about 10 s, measured about 3 s
    on two cores); pause stops the run."""
    page, _ = browser_page
    open_page(page, dashboard_server["url"])
    assert_sliders_show(page, {"Play Interval (ms)": f"{PLAY_INTERVAL} ms",
                               "Render Interval (steps)": f"{RENDER_INTERVAL} steps"})  # the defaults

    def diverged() -> dict[str, Any] | None:
        traces = plots(page).get(EVIDENCE_PLOT, [])
        if len(traces) != 4 or not traces[0]["y"] or not traces[2]["y"]:
            return None  # not drawn yet
        us, twin_us = traces[0], traces[2]
        return {"day": us["x"][-1], "lost": us["y"][-1], "twin_lost": twin_us["y"][-1]} \
            if us["y"][-1] > twin_us["y"][-1] else None

    plots_at_day(page, 0)
    assert diverged() is None
    start = time.monotonic()
    page.get_by_role("button", name="▶", exact=True).click()
    seen = wait_until(diverged, timeout=60, what="the 90-day rule's US line above the one-year rule's")
    elapsed = time.monotonic() - start
    page.screenshot(path=str(artifacts / "dashboard-play.png"), full_page=False)
    (artifacts / "play-divergence.txt").write_text(
        f"the plot's lines diverged on day {seen['day']} ({seen['lost']} vs {seen['twin_lost']} US reports lost) "
        f"after {elapsed:.1f} s of Play\n")
    assert seen["twin_lost"] == 0 and seen["lost"] > 0
    assert elapsed < 10, f"the rules diverged only after {elapsed:.1f} s of Play (day {seen['day']})"
    clicked = time.monotonic()
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.get_by_role("button", name="▶", exact=True).wait_for()
    # The page keeps up with the run: it answers pause at once (not after drawing a backlog of frames).
    assert time.monotonic() - clicked < 5

    def settled() -> int:  # the step in flight when pausing may still finish: wait for a stable day
        before = headline(page)["day"]
        time.sleep(1.0)
        return before if headline(page)["day"] == before else 0

    paused = wait_until(settled, what="the pause to settle")
    time.sleep(1.5)
    assert headline(page)["day"] == paused >= seen["day"], "the model kept running after pause"


def plot_widths(page: Any) -> list[tuple[float, float]]:
    """(plot width, grid cell width) of every plot on the page."""
    return [tuple(pair) for pair in page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .map(gd => [gd.querySelector('.main-svg').getBoundingClientRect().width,
                    gd.closest('.vue-grid-item').getBoundingClientRect().width])""")]


def resize(page: Any, width: int, artifacts: Path) -> None:
    """Resize the window of an open page: every plot follows its cell's width (by more than 100 px)."""
    before = plot_widths(page)
    grew = width > page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": page.viewport_size["height"]})

    def followed() -> bool:
        now = plot_widths(page)
        return len(now) == len(before) == 5 and all(
            abs(plot - cell) < 30 and (plot > old + 100 if grew else plot < old - 100)
            for (plot, cell), (old, _) in zip(now, before, strict=True))

    wait_until(followed, what=f"the plots to follow a {width} px window")
    legend_inside_cell(page, EVIDENCE_PLOT, 2)
    page.screenshot(path=str(artifacts / f"dashboard-resized-{width}.png"), full_page=False)


def test_legends_and_widths_fit_the_window(dashboard_server: dict[str, Any], chromium_browser: Any,
                                           artifacts: Path) -> None:
    """At 1600x1000 and 1600x1400 (where the evidence-lost legend was clipped, or missing) every legend is
    inside its grid cell, and the plots follow the width of their cell: on pages opened at 1600 and 1200 px,
    and when the window of an open page is resized (narrower, then wider)."""
    widths = {}
    for width, height in ((1600, 1000), (1600, 1400), (1200, 900)):
        context = chromium_browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        try:
            open_page(page, dashboard_server["url"])
            page.get_by_role("button", name="Step", exact=True).click()
            wait_until(lambda p=page: headline(p)["day"] > 0, what="a step")
            box = legend_inside_cell(page, EVIDENCE_PLOT, 2)
            legend_inside_cell(page, "Waiting at each stage", 5)
            legend_inside_cell(page, "Referrals waiting for review, per agency", len(base_scenario().agencies))
            assert abs(box["plot"]["width"] - box["cell"]["width"]) < 30, box  # no fixed width
            widths[width] = box["plot"]["width"]
            page.screenshot(path=str(artifacts / f"dashboard-{width}x{height}.png"), full_page=False)
            if (width, height) == (1600, 1000):  # the same page, its window resized: narrower, then wider
                resize(page, 1100, artifacts)
                resize(page, 1900, artifacts)
        finally:
            context.close()
    assert widths[1600] > widths[1200] + 100
