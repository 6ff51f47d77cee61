"""The uncertain inputs of a study: every parameter with a plausible range, drawn on the unit cube.

An :class:`Assumption` is one schema parameter; a per-platform parameter (``platforms.*.quality_signal``)
is one assumption whose entries move together, each at the same point of its own plausible range (all
platforms answer slowly together). Points are drawn on the unit cube (Latin hypercube or Sobol) and
mapped to each side's own ranges, so a range that scales with the value (staff, automated shares) is
explored around each scenario's value, and A and B see the same draw.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.params import Scenario
from model.schema import Parameter, parameters
from model.sweeps.designs import unit_cube

#: ``platforms[X].quality_signal`` -> array "platforms", entry "X", field "quality_signal".
ENTRY = re.compile(r"^(?P<array>\w+)\[(?P<entry>[^\]]+)\]\.(?P<field>.+)$")


@dataclass(frozen=True)
class Assumption:
    """One uncertain input: a parameter's name (``*`` for every entry of an array), unit, scale and source."""

    name: str
    unit: str
    scale: str            # "linear" or "log": how the plausible range is sampled
    integer: bool
    relative: bool        # the range scales with each scenario's value
    source: str
    meaning: str


@dataclass(frozen=True)
class Setting:
    """One concrete scenario key of an assumption on one side, with its plausible range there."""

    key: str              # sweep key: "law_enforcement.drafting_hours", "platforms.0.quality_signal"
    low: float
    high: float
    value: Any            # the scenario's own value


def _name_and_key(p: Parameter, index: dict[tuple[str, str], int]) -> tuple[str, str]:
    match = ENTRY.match(p.key)
    if match is None:
        return p.key, p.key
    array, entry, field = match["array"], match["entry"], match["field"]
    position = index.setdefault((array, entry), sum(1 for a, _ in index if a == array))
    return f"{array}.*.{field}", f"{array}.{position}.{field}"


def settings(scenario: Scenario) -> dict[str, tuple[Assumption, list[Setting]]]:
    """Every parameter of `scenario` with a plausible range: assumption name -> (assumption, its keys)."""
    found: dict[str, tuple[Assumption, list[Setting]]] = {}
    index: dict[tuple[str, str], int] = {}
    for p in parameters(scenario):
        name, key = _name_and_key(p, index)
        if p.plausible is None:
            continue
        assumption = Assumption(name, p.unit, p.scale, p.is_integer, p.relative, p.source, p.meaning)
        entry = found.setdefault(name, (assumption, []))
        entry[1].append(Setting(key, float(p.plausible[0]), float(p.plausible[1]), p.value))
    return found


def choose(scenario_a: Scenario, scenario_b: Scenario, only: Sequence[str] = (),
           fix: Sequence[str] = ()) -> tuple[list[Assumption], list[str], dict[str, list[Setting]],
                                             dict[str, list[Setting]]]:
    """The assumptions a study varies, the ones it holds (with why), and each side's settings.

    All parameters with a plausible range, or those named in `only`; less those in `fix`, and less those
    whose values differ between A and B (unless their range scales with the value): varying them would
    erase the difference the comparison is about. Unknown names are errors that list the known ones.
    """
    a, b = settings(scenario_a), settings(scenario_b)
    known = sorted(a)
    for option, names in (("--only", only), ("--fix", fix)):
        unknown = [n for n in names if n not in a]
        if unknown:
            raise ValueError(f"{option} {', '.join(unknown)}: not a parameter with a plausible range; "
                             f"allowed: {', '.join(known)}")
    held = [f"{n} (--fix)" for n in fix]
    chosen = []
    for name in (only or known):
        if name in fix:
            continue
        assumption, settings_a = a[name]
        settings_b = b.get(name, (None, []))[1]
        same_keys = [s.key for s in settings_a] == [s.key for s in settings_b]
        same_values = same_keys and all(x.value == y.value for x, y in zip(settings_a, settings_b, strict=True))
        if not same_keys or not (same_values or assumption.relative):
            held.append(f"{name} (A and B differ in it)")
            continue
        chosen.append(a[name][0])
    if not chosen:
        raise ValueError("no assumption left to vary (check --only and --fix)")
    return chosen, held, {n.name: a[n.name][1] for n in chosen}, {n.name: b[n.name][1] for n in chosen}


def unit_points(assumptions: Sequence[Assumption], samples: int, design: str, seed: int) -> np.ndarray:
    """The design on the unit cube, as a sweep draws it: `samples` Latin hypercube rows, or SALib's Saltelli
    rows for `sobol` (``samples * (k + 2)`` rows for k assumptions)."""
    return unit_cube([a.name for a in assumptions], samples, design, seed)


def value_at(u: float, setting: Setting, scale: str, integer: bool) -> float | int:
    """The value at position `u` (0 to 1) of a setting's plausible range, uniform on its scale."""
    low, high = setting.low, setting.high
    x = math.exp(math.log(low) + u * math.log(high / low)) if scale == "log" else low + u * (high - low)
    if integer:
        return int(min(max(round(x), math.ceil(low)), math.floor(high)))
    return float(x)


def design_points(assumptions: Sequence[Assumption], side: dict[str, list[Setting]],
                  unit: np.ndarray) -> list[dict[str, Any]]:
    """Every point's values for one side: sweep key -> value."""
    return [{s.key: value_at(float(u), s, a.scale, a.integer) for a, u in zip(assumptions, row, strict=True)
             for s in side[a.name]} for row in unit]


def describe(assumptions: Iterable[Assumption], side: dict[str, list[Setting]]) -> list[dict[str, Any]]:
    """The assumptions as JSON-ready rows: name, unit, scale, range (of the first entry) and source."""
    return [{"parameter": a.name, "unit": a.unit, "scale": a.scale, "low": side[a.name][0].low,
             "high": side[a.name][0].high, "value": side[a.name][0].value, "keys": [s.key for s in side[a.name]],
             "source": a.source} for a in assumptions]
