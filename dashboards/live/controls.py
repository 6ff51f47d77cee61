"""The sidebar's controls, generated from the parameter schema, and the page's base scenario.

Each :class:`Control` names a schema field (:func:`model.schema.field_info`): the label's unit, the slider's
bounds (the schema's valid range, narrowed to a useful display range) and the default (the base scenario's
value, read through :func:`model.schema.parameters`) all come from the model, so no parameter default is
written here. Shares are shown in percent. The control names written in :data:`CONTROLS` are the only
place they are written: the page's model takes them as keyword arguments (:mod:`dashboards.live.twin`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from dashboards.labels import PARAMETER_TITLES, with_unit
from model import Scenario, load_scenario
from model.experiments import OLD_RULE_DAYS, REPORT_ACT_DAYS
from model.schema import Parameter, field_info, parameters

#: The base scenario of the page and its overrides: X alone (about 2,000 reports a day), no warm-up so
#: every report counts from day 1. A day takes about 2 ms to simulate (4 ms with the twin).
BASE_SCENARIO = "x_platform"
BASE_OVERRIDES: tuple[str, ...] = ("run.warmup_days=0",)
#: Seeds offered by the seed slider (any integer works in the model; the slider needs a range).
SEED_RANGE = (0, 1000)
#: Days per click of Step and per frame of Play (Mesa's "Render Interval" slider: 1, 3, 5, ... 99), and
#: the pause between frames (ms; its slider: 1, 11, 21, ...). Every day is simulated; the page is drawn
#: once per 21 days. Nothing can be lost before day 90 (the shortest rule), so five clicks of Step (day
#: 105) or five frames of Play, about 3 s in headless Chromium on two cores, show the 90-day rule losing
#: US evidence while the one-year rule loses none. The pause lets the browser draw each frame before
#: the next: with much shorter pauses the server runs ahead of what the page shows, and the page answers
#: a click on pause only seconds later.
RENDER_INTERVAL, PLAY_INTERVAL = 21, 301
#: ``platforms[X].automated_share`` -> ``platforms.automated_share`` (a control sets every platform alike).
_ENTRY = re.compile(r"\[[^\]]*\]")


def counterfactual_window(window_days: int) -> int:
    """The other retention rule (days): the REPORT Act's year for a window under a year, else the old 90 days."""
    return REPORT_ACT_DAYS if window_days < REPORT_ACT_DAYS else OLD_RULE_DAYS


@cache
def base_scenario() -> Scenario:
    """The page's base scenario (validated once)."""
    return load_scenario(BASE_SCENARIO, list(BASE_OVERRIDES))


def scenario_values(scenario: Scenario) -> dict[str, Any]:
    """Every parameter value of `scenario` by dotted key; an array of tables gives its first entry's value
    under the key without the entry (``platforms.automated_share``)."""
    values: dict[str, Any] = {}
    for parameter in parameters(scenario):
        values.setdefault(_ENTRY.sub("", parameter.key), parameter.value)
    return values


@dataclass(frozen=True)
class Control:
    """One sidebar control, generated from the schema field ``key``.

    The title is the short plain-language name (:data:`dashboards.labels.PARAMETER_TITLES`); the unit, the
    meaning and the bounds come from the schema. ``low``/``high`` narrow the schema's valid range to a useful
    slider (never widen it). A ``percent`` control shows a share (0-1) in percent: the slider and the model
    keyword are in %.
    """

    name: str  #: keyword argument of DashboardModel
    key: str  #: dotted scenario key (``platforms.<field>`` applies to every platform)
    low: float | None = None
    high: float | None = None
    step: float = 1
    percent: bool = False

    def __post_init__(self) -> None:
        if field_info(self.key) is None:
            raise KeyError(f"{self.key}: not a scenario parameter")

    @property
    def field(self) -> Parameter:
        info = field_info(self.key)
        assert info is not None  # checked when the control was made
        return info

    @property
    def title(self) -> str:
        return PARAMETER_TITLES[self.key]

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
        return scenario_values(scenario or base_scenario())[self.key]

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
        return with_unit(self.title, self.unit)

    def slider_value(self, value: Any) -> Any:
        """A scenario value in the slider's unit (integers stay integers)."""
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
        return {"type": "SliderInt" if integer else "SliderFloat", "value": cast(self.slider_value(self.default())),
                "min": cast(low), "max": cast(high), "step": cast(self.step), "label": self.label()}

    def overrides(self, value: Any, scenario: Scenario | None = None) -> list[str]:
        """``--set`` style overrides that put a slider `value` into a scenario."""
        scenario = scenario or base_scenario()
        if self.percent:
            value = round(float(value) / 100.0, 9)
        section, *rest = self.key.split(".")
        if section == "platforms":
            return [f"platforms.{p.name}.{rest[0]}={value}" for p in scenario.platforms]
        return [f"{self.key}={value}"]

    def affixes(self) -> tuple[str, str]:
        """What a value is written between: ``("", "%")``, ``("x", "")``, ``("", " days")``."""
        if self.percent:
            return "", "%"
        unit = self.unit
        if unit.startswith("x "):
            return "x", ""
        return "", f" {unit}" if unit else ""

    def text(self, value: Any) -> str:
        """A slider value in words, e.g. "90 days", "9.5%", "x1.5", "190 FTE"."""
        if isinstance(value, str):
            return value
        prefix, suffix = self.affixes()
        number = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        return f"{prefix}{number}{suffix}"


#: The sidebar's model controls, in display order. Display ranges are chosen so that 90 and 365 days
#: lie on the window slider's grid, the staff sliders reach a few times the base scenario's staff, and
#: every default (e.g. X's 9.5% unviewed) lies on its slider's grid (a slider snaps its value to the grid).
CONTROLS: tuple[Control, ...] = (
    Control("window_days", "retention.window_days", low=15, high=730, step=5),
    Control("analysts", "ncmec.analysts", high=20),
    Control("investigators", "law_enforcement.investigators", high=600, step=10),
    Control("scale", "demand.scale", high=5, step=0.1),
    Control("automated_percent", "platforms.automated_share", step=0.5, percent=True),
    Control("wilson_percent", "law_enforcement.wilson_share", step=0.5, percent=True),
    Control("preservation_request_percent", "retention.preservation_request_share", step=0.5, percent=True),
    Control("triage_policy", "ncmec.triage_policy"),
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


def model_params() -> dict[str, Any]:
    """SolaraViz ``model_params``: one control per schema field, plus the seed."""
    params = {c.name: c.widget() for c in CONTROLS}
    params["rng"] = {"type": "SliderInt", "value": 1, "min": SEED_RANGE[0], "max": SEED_RANGE[1], "step": 1,
                     "label": "Random seed"}
    return params
