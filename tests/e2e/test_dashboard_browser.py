"""End to end: the dashboard in headless Chromium, offline.

Starts ``solara run dashboards/app.py`` on a free 127.0.0.1 port (the fixture), clicks Reset, steps the
model, changes the preservation-window slider, resets and steps again, and checks that the numbers and
the plots change as the model says they must. Fails if the page requests anything that is not on this
machine, or if the server had to fetch a missing asset. Saves screenshots to ``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dashboards.app import CONTROLS_BY_NAME, counterfactual_window

LOCAL = {"127.0.0.1", "localhost", "::1"}
HEADLINE = re.compile(r"Day (\d+) of (\d+)\..*?with the (\d+)-day window: ([\d,]+) reports.*?"
                      r"With the (\d+)-day window on the same reports: ([\d,]+) reports", re.S)
PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
  title: (gd.layout && gd.layout.title && gd.layout.title.text) || '',
  traces: (gd.data || []).map(t => ({name: t.name || '', x: Array.from(t.x || []), y: Array.from(t.y || [])}))}))"""


def headline(page: Any) -> dict[str, int]:
    match = HEADLINE.search(page.inner_text("body"))
    assert match, "headline numbers not shown"
    day, days, window, lost, twin_window, twin_lost = (int(g.replace(",", "")) for g in match.groups())
    return {"day": day, "days": days, "window": window, "lost": lost, "twin_window": twin_window, "twin_lost": twin_lost}


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


def step_until_day(page: Any, minimum: int) -> dict[str, int]:
    """Click Step until the headline shows at least day `minimum`; return the headline."""
    step = page.get_by_role("button", name="Step", exact=True)
    while True:
        before = headline(page)["day"]
        if before >= minimum:
            return headline(page)
        step.click()
        wait_until(lambda b=before: headline(page)["day"] > b, what="the day to advance")


def test_dashboard_in_browser(dashboard_server: dict[str, Any], browser_page: tuple[Any, list[str]],
                              artifacts: Path) -> None:
    page, requests = browser_page
    page.goto(dashboard_server["url"])
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=30_000)
    page.get_by_role("button", name="Reset", exact=True).click()  # the module-level model is shared by sessions
    wait_until(lambda: headline(page)["day"] == 0, what="day 0 after Reset")
    first = headline(page)
    default_window = CONTROLS_BY_NAME["window_days"].default()
    assert first["window"] == default_window
    assert first["twin_window"] == counterfactual_window(default_window)
    assert first["lost"] == first["twin_lost"] == 0

    # Many days per click: the Render Interval slider to its maximum.
    set_slider(page, "Render Interval (steps)", "End")
    run_a = step_until_day(page, 150)
    assert run_a["lost"] > 0, "the 90-day window lost no evidence in 150 days"
    assert run_a["twin_lost"] < run_a["lost"], "a one-year window must lose less on the same draws"
    shown = plots(page)
    lost_plot = shown["Cumulative evidence lost (legal process after the deadline)"]
    assert lost_plot[0]["x"][-1] == run_a["day"] and lost_plot[0]["y"][-1] == run_a["lost"]
    assert lost_plot[1]["y"][-1] == run_a["twin_lost"]
    backlog = shown["Queue backlog per stage"]
    assert len(backlog) == 4 and all(len(t["x"]) == run_a["day"] + 1 for t in backlog)
    assert max(backlog[2]["y"]) > 0, "no case ever in legal process"
    assert any(len(t["x"]) for t in shown["Waiting cases: days left before the preservation deadline"])
    page.screenshot(path=str(artifacts / "dashboard-90-day.png"), full_page=True)

    # A one-year-plus window: move the slider to its maximum, Reset, step the same number of days.
    set_slider(page, CONTROLS_BY_NAME["window_days"].label(), "End")
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_until(lambda: headline(page)["day"] == 0, what="day 0 after the second Reset")
    high = CONTROLS_BY_NAME["window_days"].bounds()[1]
    assert headline(page)["window"] == high and headline(page)["twin_window"] == 90
    run_b = step_until_day(page, run_a["day"])
    if run_b["day"] == run_a["day"]:
        # Same seed, same days: the twin now runs the 90-day rule on the same draws as run A did.
        assert run_b["twin_lost"] == run_a["lost"]
    assert run_b["lost"] <= run_b["twin_lost"]
    assert run_b["lost"] < run_a["lost"]
    lost_plot = plots(page)["Cumulative evidence lost (legal process after the deadline)"]
    assert lost_plot[0]["name"].startswith(f"this run: {int(high)}-day")
    assert lost_plot[0]["y"][-1] == run_b["lost"]
    assert "This run: Preservation window 730 days" in page.inner_text("body")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    # Play runs on by itself; pause stops it.
    page.get_by_role("button", name="▶", exact=True).click()
    wait_until(lambda: headline(page)["day"] > run_b["day"], what="Play to advance the day")
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.get_by_role("button", name="▶", exact=True).wait_for()

    def settled() -> int:  # the step in flight when pausing may still finish: wait for a stable day
        before = headline(page)["day"]
        time.sleep(1.0)
        return before if headline(page)["day"] == before else 0

    paused = wait_until(settled, what="the pause to settle")
    time.sleep(1.5)
    assert headline(page)["day"] == paused > run_b["day"], "the model kept running after pause"

    outside = sorted({u for u in requests if urlparse(u).scheme not in ("data", "blob", "about")
                      and urlparse(u).hostname not in LOCAL})
    assert not outside, f"requests left the machine: {outside}"
    assert any("/_solara/cdn/" in u for u in requests), "the page should load its assets through the local cache"
    log = Path(dashboard_server["log"]).read_text()
    assert "Could not load URL" not in log, "the server lacked an offline asset (python -m dashboards.assets)"
