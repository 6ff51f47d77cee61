"""Scenario discovery: where in the assumptions does a condition on the answer hold?

PRIM (the Patient Rule Induction Method; Friedman and Fisher 1999, Statistics and Computing 9:123), as
kept in the EMA Workbench (``ema_workbench.analysis.prim``; Kwakkel 2017, Environmental Modelling &
Software 96:239), peels the box of plausible values down to a region where the condition holds for most
points. With many assumptions and few points PRIM overfits, so it peels only the assumptions that matter
most for the condition's outcome (:data:`MAX_DIMENSIONS`, ranked by partial rank correlation). The box on the
peeling trajectory with the largest coverage among those of density at least `min_density` is chosen, and
of its limits only those with a quasi-p-value below 0.05 are kept (the workbench's test that the limit
raises the density), so a limit that small samples leave by chance is not reported; coverage and density
are those of the reported region. *Coverage*: the share of all points where the condition holds that lie
in the region; *density*: the share of the region's points where it holds.
"""

from __future__ import annotations

import logging
import math
import operator
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from model.uncertainty.assumptions import Assumption

#: ``rate_us_b>0.10``: an outcome of the study, a comparison and a number (shares as fractions).
CONDITION = re.compile(r"^\s*(?P<outcome>[a-z_]+)\s*(?P<op>[<>])\s*(?P<value>[-+0-9.eE]+)\s*$")
#: PRIM peels at most this many assumptions: those with the largest partial rank correlation with the outcome.
MAX_DIMENSIONS = 6
#: A box limit is reported only if PRIM's quasi-p-value (a one-sided binomial test of the limit) is below this.
SIGNIFICANT = 0.05


@dataclass(frozen=True)
class Condition:
    """A condition on one outcome per point, e.g. ``rate_us_b > 0.10``."""

    outcome: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str, outcomes: list[str]) -> Condition:
        match = CONDITION.match(text)
        if match is None or match["outcome"] not in outcomes:
            raise ValueError(f"--condition {text!r}: expected OUTCOME>VALUE or OUTCOME<VALUE with OUTCOME one of "
                             f"{', '.join(outcomes)} (shares as fractions: rate_us_b>0.10)")
        return cls(match["outcome"], match["op"], float(match["value"]))

    def holds(self, points: pd.DataFrame) -> np.ndarray:
        compare = operator.gt if self.op == ">" else operator.lt
        return compare(points[self.outcome].to_numpy(float), self.value)

    def __str__(self) -> str:
        return f"{self.outcome} {self.op} {self.value:g}"


def _prim() -> Any:
    logging.getLogger("EMA").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # optional parts of the workbench (ipyparallel) are not needed here
        from ema_workbench.analysis import prim
    return prim


def discover(values: pd.DataFrame, holds: np.ndarray, assumptions: Mapping[str, Assumption],
             min_density: float = 0.8) -> dict[str, Any]:
    """The region of the assumptions (`values`: one column per assumption, in its unit) where `holds`.

    Returns ``share`` (of points where it holds), ``coverage``, ``density``, ``mass`` (share of points in
    the region), ``conditions`` (per restricted assumption: ``parameter``, ``low``, ``high`` and words)
    and ``text``, one plain sentence.
    """
    share = float(holds.mean()) if len(holds) else 0.0
    base = {"method": "PRIM (ema_workbench)", "share": share, "points": len(holds), "min_density": min_density}
    if holds.all() or not holds.any():
        where = "every" if holds.all() else "no"
        return {**base, "coverage": None, "density": None, "mass": None, "conditions": [],
                "text": f"It holds at {where} point of the plausible assumptions; there is no region to find."}
    prim = _prim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(values.reset_index(drop=True), holds.astype(bool), peel_alpha=0.05, paste_alpha=0.05,
                           mass_min=0.05)
        box = finder.find_box()
    trajectory = box.peeling_trajectory
    dense = trajectory[trajectory["density"] >= min_density]
    chosen = int(dense["coverage"].idxmax()) if len(dense) else int(trajectory["density"].idxmax())
    limits, initial = box.box_lims[chosen], finder.box_init
    _, quasi_p = box.inspect(chosen, style="data")[0]
    conditions, inside = [], np.ones(len(values), bool)
    for name in quasi_p.index:           # the box's restricted dimensions
        low, high = float(limits[name].iloc[0]), float(limits[name].iloc[1])
        p_low, p_high = (float(x) for x in quasi_p.loc[name].iloc[2:4])
        cut_low = low > float(initial[name].iloc[0]) and p_low < SIGNIFICANT
        cut_high = high < float(initial[name].iloc[1]) and p_high < SIGNIFICANT
        if not (cut_low or cut_high):
            continue   # unrestricted, or a restriction PRIM's quasi-p-value does not support
        column = values[name].to_numpy(float)
        inside &= (column >= low if cut_low else True) & (column <= high if cut_high else True)
        conditions.append({"parameter": name, "low": low if cut_low else None, "high": high if cut_high else None,
                           "text": _words(assumptions[name], low, high, cut_low, cut_high)})
    found = {**base, "coverage": float(holds[inside].sum() / holds.sum()), "density": float(holds[inside].mean()),
             "mass": float(inside.mean()), "conditions": conditions}
    if not conditions:
        return {**found, "text": f"it holds at {share:.0%} of the points, and no region of the assumptions "
                                 "concentrates it significantly (PRIM found none with quasi-p below 0.05)"}
    region = " and ".join(c["text"] for c in conditions)
    return {**found, "text": f"when {region} (coverage {found['coverage']:.0%}: that share of the points where it "
                             f"holds lie in this region; density {found['density']:.0%}: it holds at that share of "
                             f"the region's points)"}


def _words(assumption: Assumption, low: float, high: float, from_above: bool, from_below: bool) -> str:
    share = assumption.unit.startswith("share")
    unit = "" if share or not assumption.unit else f" {assumption.unit}"

    def number(x: float) -> str:
        if share and 0 <= x <= 1:
            return f"{x:.0%}"
        if abs(x) >= 1000:   # three significant digits with thousands separators, not 2.24e+03
            return f"{round(x, 2 - math.floor(math.log10(abs(x)))):,.0f}{unit}"
        return f"{x:,.3g}{unit}"
    if from_above and from_below:
        return f"{assumption.name} is between {number(low)} and {number(high)}"
    if from_above:
        return f"{assumption.name} is above {number(low)}"
    return f"{assumption.name} is below {number(high)}"
