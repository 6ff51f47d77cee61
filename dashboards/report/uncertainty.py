"""The report's uncertainty section (``tipline uncertainty --out DIR``): how wide the answer is over the
plausible assumptions, what drives it, and where a condition holds.

Figures: the distribution of the US difference B - A over the design's points (with the 5-95% range), the
drivers as a tornado of their signed importance with intervals, and the two leading drivers' values at every
point, marked where the discovered condition holds. A table lists the discovered region; with ``--calibration``,
another sets the answer over every draw beside the answer over the draws that reproduce the published ICAC
investigations and arrests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.report.formats import PERCENT, POINTS, number
from dashboards.report.style import LAYOUT, PALETTE, legend_below
from model.uncertainty.calibrated import published_text
from model.uncertainty.summary import signed

DIFFERENCE_CAPTION = ("The US difference B - A (percentage points) at each draw of the plausible assumptions, both "
                      "rules run on the same seeds, with the 5th percentile (dashed), the median (solid) and the "
                      "95th (dotted). The spread is what is not known, not Monte Carlo noise.")
DRIVERS_CAPTION = ("The assumptions ranked by their influence on the US difference, with {confidence:.0%} intervals. "
                   "Partial rank correlation: the sign says whether raising the assumption widens (+) or narrows (-) "
                   "B - A; Sobol total index: the share of the difference's variance the assumption accounts for.")
REGION_CAPTION = ("Every draw, at the values of the two leading drivers; filled where the discovered condition holds. "
                  "The box is the region PRIM found (its limits on these two drivers).")


@dataclass
class UncertaintyResult:
    """One ``tipline uncertainty --out`` directory: its summary and the per-point outcomes of its two sweeps."""

    path: Path
    summary: dict[str, Any]
    points: pd.DataFrame          # per point: outcomes (rate_us_a, ..., difference_us) and A's factor values

    @property
    def name(self) -> str:
        return f"{self.summary['a']} vs {self.summary['b']}"


def is_uncertainty(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("kind") == "uncertainty"


def read_uncertainty(path: Path, summary: dict[str, Any]) -> UncertaintyResult:
    """The study's per-point outcomes from its sweep stores (``a/``, ``b/`` and any reruns), beside its summary."""
    from model.uncertainty.settle import stored_runs
    from model.uncertainty.study import point_outcomes

    runs = stored_runs(path, summary.get("settling") or [], int(summary["replications"]))
    runs_a, runs_b = runs["a"], runs["b"]
    points = point_outcomes(runs_a, runs_b, int(summary["points"]))
    factors = runs_a.drop_duplicates("point").set_index("point")
    for assumption in summary["assumptions"]:
        points[assumption["parameter"]] = factors[assumption["keys"][0]].reindex(points["point"]).to_numpy()
    return UncertaintyResult(path, summary, points)


def difference_figure(result: UncertaintyResult) -> go.Figure:
    values = 100 * result.points["difference_us"].dropna()
    fig = go.Figure(go.Histogram(x=values, nbinsx=min(40, max(10, len(values) // 4)), marker_color=PALETTE[1],
                                 name="draws"))
    d = result.summary["difference_us"]
    for key, label, dash in (("p05", "5th percentile", "dash"), ("median", "median", "solid"),
                             ("p95", "95th percentile", "dot")):
        if d[key] is not None:
            fig.add_vline(x=100 * d[key], line_dash=dash, line_color=PALETTE[0])
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line={"dash": dash, "color": PALETTE[0]},
                                     name=f"{label}: {signed(d[key])} points"))
    fig.update_layout(**LAYOUT, title="US evidence lost, B - A, over the plausible assumptions",
                      xaxis_title=f"difference (percentage points), B - A: {result.name}", yaxis_title="draws")
    legend_below(fig)
    return fig


def drivers_figure(result: UncertaintyResult, top: int = 12) -> go.Figure:
    drivers = result.summary["drivers"][:top][::-1]
    values = [d["value"] for d in drivers]
    low = [d["value"] - d["low"] if d["low"] is not None else 0 for d in drivers]
    high = [d["high"] - d["value"] if d["high"] is not None else 0 for d in drivers]
    fig = go.Figure(go.Bar(y=[d["parameter"] for d in drivers], x=values, orientation="h",
                           marker_color=[PALETTE[0] if v > 0 else PALETTE[1] for v in values],
                           error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low}))
    method = drivers[0]["method"] if drivers else ""
    fig.update_layout(**{**LAYOUT, "height": 140 + 28 * len(drivers), "margin": {"l": 300, "r": 20, "t": 60, "b": 60}},
                      title=f"What drives the US difference ({method})", xaxis_title="importance (signed)",
                      showlegend=False)
    return fig


def region_figure(result: UncertaintyResult) -> go.Figure | None:
    drivers = [d["parameter"] for d in result.summary["drivers"][:2]]
    if len(drivers) < 2:
        return None
    found = result.summary["discovery"]
    from model.uncertainty.discovery import Condition
    from model.uncertainty.summary import DESCRIBED

    holds = Condition.parse(found["condition"].replace(" ", ""), DESCRIBED).holds(result.points)
    x, y = drivers
    fig = go.Figure()
    for mask, name, symbol in ((holds, f"{found['condition']}", "circle"), (~holds, "not", "circle-open")):
        fig.add_trace(go.Scatter(x=result.points[x][mask], y=result.points[y][mask], mode="markers", name=name,
                                 marker={"symbol": symbol, "color": PALETTE[0] if symbol == "circle" else PALETTE[5]}))
    limits = {c["parameter"]: (c["low"], c["high"]) for c in found["conditions"]}
    if x in limits or y in limits:
        x0, x1 = limits.get(x, (np.nanmin(result.points[x]), np.nanmax(result.points[x])))
        y0, y1 = limits.get(y, (np.nanmin(result.points[y]), np.nanmax(result.points[y])))
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, line={"color": PALETTE[0], "dash": "dash"})
    fig.update_layout(**LAYOUT, title="Where the condition holds, at the two leading drivers", xaxis_title=x,
                      yaxis_title=y)
    legend_below(fig)
    return fig


def region_measures(found: dict[str, Any]) -> str:
    """A PRIM region's coverage and density (the summary's ``discovery``, or the calibrated block's ``region``)."""
    if found["coverage"] is None:
        return "no region to find."
    return f"coverage {found['coverage']:.0%}, density {found['density']:.0%}."


def region_rows(found: dict[str, Any]) -> pd.DataFrame:
    """A PRIM region (the summary's ``discovery``, or the calibrated block's ``region``): one row per limit."""
    rows = [{"assumption": c["parameter"], "region": c["text"]} for c in found["conditions"]]
    return pd.DataFrame(rows or [{"assumption": "-", "region": found["text"]}])


def calibrated_caption(block: dict[str, Any]) -> str:
    """Which draws the calibrated table keeps, and by which targets."""
    each = "; ".join(f"{t['name']} alone: {t['points']}" for t in block["targets"])
    missing = (f" Not measured by these runs (older runs, or a stand-in model): {', '.join(block['not_measured'])}."
               if block["not_measured"] else "")
    sources = "; ".join(dict.fromkeys(t["source"] for t in block["targets"]))
    return (f"Draws whose A runs ({block['measured_on']}) make the published {published_text(block)} within "
            f"tolerance: {block['points']} of {block['of']} ({each}). From {sources}. A rejection filter on the "
            f"calibration targets, the first step of history matching.{missing}")


def calibrated_region_caption(block: dict[str, Any]) -> str:
    return (f"PRIM (ema_workbench) with 'reproduces the published figures' as the condition ({block['points']} of "
            f"{block['of']} draws): {region_measures(block['region'])} What the published figures say about the "
            "assumptions.")


def calibrated_rows(result: UncertaintyResult) -> pd.DataFrame:
    """The US outcomes over every draw and over the draws that reproduce the calibration target (text cells)."""
    block = result.summary["calibrated"]

    def cell(d: dict[str, Any], difference: bool) -> str:
        if d["median"] is None:
            return "-"
        median, low, high = (number(100 * d[k], POINTS if difference else PERCENT) for k in ("median", "p05", "p95"))
        return f"{median} ({low} to {high})"

    rows = [{"outcome (median, 5-95%)": label, f"all {block['of']} draws": cell(result.summary[name], diff),
             f"the {block['points']} that reproduce the {block['target']}": cell(block[name], diff)}
            for name, label, diff in (("rate_us_a", f"US lost, A = {result.summary['a']}", False),
                                      ("rate_us_b", f"US lost, B = {result.summary['b']}", False),
                                      ("difference_us", "US difference B - A (points)", True))]
    return pd.DataFrame(rows)
