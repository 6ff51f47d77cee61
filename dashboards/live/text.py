"""The dashboard in words: the headline above the plots (US first, foreign beside it) and page 1's help."""

from __future__ import annotations

from typing import Any

from dashboards.labels import STAGE_LABELS
from dashboards.live.controls import BASE_SCENARIO, CONTROLS, RENDER_INTERVAL, base_scenario, scenario_values
from dashboards.live.twin import DashboardModel
from model.experiments import OLD_RULE_DAYS, REPORT_ACT_DAYS
from model.metrics import format_metric
from model.outcomes import STAGE_NAMES, US

US_RATE, FOREIGN_RATE = "evidence_lost_rate_us", "evidence_lost_rate_foreign"


def settings_line(model: DashboardModel) -> str:
    """The running values of every control in words (the sliders show what the next Reset will use)."""
    values = scenario_values(model.params)
    parts = [f"{c.title} {c.text(c.slider_value(values[c.key]))}" for c in CONTROLS]
    return "This run: " + "; ".join(parts) + f"; seed {model.seed}."


def _rate(lost: int, served: int) -> float | None:
    return lost / (lost + served) if lost + served else None


def headline(model: DashboardModel) -> dict[str, Any]:
    """The numbers shown above the plots: US first, foreign beside it."""
    out: dict[str, Any] = {"day": model.day, "days": model.params.run.days, "window": model.window,
                           "twin_window": model.twin_window, "reports": model.outcomes.reports}
    for prefix, values in (("", model.routes.last()), ("twin_", model.twin_routes.last())):
        for route in ("us", "foreign"):
            lost, served = values[f"lost_{route}"], values[f"served_{route}"]
            out[f"{prefix}lost_{route}"] = lost
            out[f"{prefix}served_{route}"] = served
            out[f"{prefix}rate_{route}"] = _rate(lost, served)
    for prefix, run in (("", model), ("twin_", model.twin)):
        out[f"{prefix}lost_us_at"] = {name: int(n) for name, n in zip(STAGE_NAMES, run.outcomes.lost[US], strict=True)}
    return out


def headline_markdown(model: DashboardModel) -> str:
    """The headline in Markdown: US evidence lost under both rules, foreign beside it, the stages where US
    evidence was lost, and the running values of the controls."""
    h = headline(model)
    us, twin_us = format_metric(US_RATE, h["rate_us"]), format_metric(US_RATE, h["twin_rate_us"])
    foreign, twin_foreign = format_metric(FOREIGN_RATE, h["rate_foreign"]), format_metric(FOREIGN_RATE,
                                                                                           h["twin_rate_foreign"])
    short = min(h["window"], h["twin_window"])
    note = ""
    if h["day"] < short:
        note = f" Nothing can be lost before day {short} (every report is held {short} days or more): press ▶."
    where = ", ".join(f"{STAGE_LABELS[name]} {n:,} / {h['twin_lost_us_at'][name]:,}" for name, n in
                      h["lost_us_at"].items() if n or h["twin_lost_us_at"][name]) or "nowhere yet"
    return (
        f"### Day {h['day']} of {h['days']}: US evidence lost {us} vs {twin_us}"
        f"\n\n| | {h['window']}-day window (this run) | {h['twin_window']}-day window (same reports) |\n"
        f"|---|---:|---:|\n"
        f"| **US: evidence lost** | **{h['lost_us']:,}** reports ({us}) | **{h['twin_lost_us']:,}** reports ({twin_us}) |\n"
        f"| US: served in time | {h['served_us']:,} | {h['twin_served_us']:,} |\n"
        f"| foreign (MLAT): lost | {h['lost_foreign']:,} ({foreign}) | {h['twin_lost_foreign']:,} ({twin_foreign}) |\n\n"
        f"US evidence lost at (this run / same reports): {where}.{note}\n\n"
        f"<small>Rate: lost / (lost + served in time), of the cases decided so far; {h['reports']:,} reports "
        f"counted. Page 2: every report's path. {settings_line(model)} Move a slider, then press Reset.</small>")


def controls_markdown() -> str:
    """Page 1: each control's slider range and step (the range the page offers, not the wider range the model
    accepts from a scenario file), the default, its meaning and its source."""
    rows = ["| control | slider range (step) | default | meaning | source |", "|---|---|---|---|---|"]
    for c in CONTROLS:
        widget = c.widget()
        if widget["type"] == "Select":
            slider = ", ".join(widget["values"])
        else:
            slider = f"{c.text(widget['min'])} to {c.text(widget['max'])} (step {widget['step']:g})"
        rows.append(f"| {c.label()} | {slider} | {c.text(c.slider_value(c.default()))} | {c.field.meaning} "
                    f"| {c.field.source} |")
    base = base_scenario()
    intro = (f"Base scenario: `{BASE_SCENARIO}` ({base.description}), no warm-up: every report filed from day 1 to "
             f"day {base.run.days} is counted and followed to its outcome, so you see the queues fill. The reports of "
             "the first months meet queues that are still filling (they settle in up to three times the agencies' backlog "
             "limit), so the rates here run below the steady ones that `tipline run` counts after a year of warm-up. "
             "One step is one day; **Step** and each "
             f"frame of **▶** advance the sidebar's *Render Interval* of steps (default {RENDER_INTERVAL}, "
             f"so {RENDER_INTERVAL} days). Move a "
             "slider, then press **Reset** to start a new run with it; the value under each slider's knob is what the "
             "next Reset uses, the headline's last line what is running now. The twin run uses the same seed and "
             f"every setting but the window: {REPORT_ACT_DAYS} days for a window under a year, else {OLD_RULE_DAYS}.")
    return intro + "\n\n" + "\n".join(rows)
