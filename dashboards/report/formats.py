"""Numbers for a policy reader, in one place: every number in the report's tables is written by :func:`number`.

A column has a *kind* that fixes its unit and its rounding:

- ``percent``: shares (fractions in the data) shown in percent with one decimal, "92.4%";
- ``points``: differences of shares in percentage points, signed, one decimal, "+7.6";
- ``count``: reports, arrests, runs: thousands separators, whole numbers from 10 up ("39,938"; a mean over
  replications is rounded), one decimal for small means ("2.5");
- ``days``: the same rounding: no decimals from 10 days up ("109"), one below ("2.5");
- ``level``: other factor values (staff, volume): as few decimals as the value needs ("200", "1.25").

The kind of a metric comes from its unit in :data:`model.metrics.METRICS`, the kind of a scenario parameter
from its unit in the schema (a "share of ..." parameter is a percent too).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from model.metrics import METRICS
from model.schema import field_info

PERCENT, POINTS, COUNT, DAYS, LEVEL = "percent", "points", "count", "days", "level"
KINDS = (PERCENT, POINTS, COUNT, DAYS, LEVEL)


def metric_kind(metric: str) -> str:
    """The kind of a summary metric: percent for shares, days for durations, else a count."""
    known = METRICS.get(metric)
    if known is None:
        return LEVEL
    return PERCENT if known.is_share else DAYS if known.unit == "days" else COUNT


def parameter_kind(key: str) -> str:
    """The kind of a scenario parameter (a sweep factor): percent for shares, days for days, else a level."""
    info = field_info(key)
    unit = info.unit if info is not None else ""
    if unit == "share" or unit.startswith("share of"):
        return PERCENT
    return DAYS if unit in ("days", "day") else LEVEL


def kind_of(name: str) -> str:
    """The kind of a column named by a metric or a scenario key."""
    return metric_kind(name) if name in METRICS else parameter_kind(name)


def scale(kind: str) -> float:
    """The factor from the data's unit to the shown one (shares are fractions, shown in percent)."""
    return 100.0 if kind in (PERCENT, POINTS) else 1.0


def parameter_unit(key: str) -> str:
    """A parameter's unit as a table shows it: "share of cases ..." becomes "% of cases ...", "share" becomes "%"."""
    info = field_info(key)
    unit = info.unit if info is not None else ""
    if parameter_kind(key) == PERCENT:
        return "%" + unit[len("share"):]
    return unit


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)


def rounded(size: float, decimals: int) -> Decimal:
    """`size` rounded half up, as people round (68.5 reports -> 69; Python's format would give 68)."""
    return Decimal(repr(size)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def number(value: Any, kind: str, signed: bool = False) -> str:
    """`value` (already in the shown unit: percent, not a fraction) written for a reader; "-" when missing.

    `signed`: a difference, with its sign ("+" or "-"; none on zero). Points are always signed.
    """
    if value is None or (is_number(value) and not math.isfinite(float(value))):
        return "-"
    if not is_number(value):
        return str(value)
    if kind not in KINDS:
        raise ValueError(f"unknown number kind {kind!r} (one of {', '.join(KINDS)})")
    v = float(value)
    size = abs(v)
    if kind in (PERCENT, POINTS):
        decimals = 1
    elif kind in (COUNT, DAYS):  # the same rounding, in their own units
        decimals = 0 if v.is_integer() or size >= 10 else 1
    else:
        decimals = 0 if v.is_integer() or size >= 100 else 1 if size >= 10 else 2
    text = f"{rounded(size, decimals):,.{decimals}f}"
    if kind == LEVEL and decimals == 2:
        text = text.rstrip("0").rstrip(".")
    if kind == PERCENT:
        text += "%"
    if set(text) <= set("0.,%"):  # rounds to zero: no sign, no "-0.0"
        return text
    sign = "-" if v < 0 else ("+" if signed or kind == POINTS else "")
    return sign + text
