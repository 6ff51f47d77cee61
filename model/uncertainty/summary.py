"""What a study found, as one JSON-ready dict and a headline: the answer's distribution over the plausible
assumptions, what drives it, and where a condition holds."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.atomic import write_file
from model.uncertainty.assumptions import describe, value_at
from model.uncertainty.calibrated import check, published_text
from model.uncertainty.discovery import MAX_DIMENSIONS, Condition, discover
from model.uncertainty.drivers import rank_drivers
from model.uncertainty.options import DEFAULT_CONDITION
from model.uncertainty.settle import warmup_text
from model.uncertainty.study import OUTCOMES, Study, summary_counts

#: The outcomes per point a summary describes (shares as fractions; differences are B - A).
DESCRIBED = [f"{name}_{side}" for name in OUTCOMES for side in ("a", "b")] + \
            [name.replace("rate", "difference") for name in OUTCOMES]


def distribution(values: np.ndarray) -> dict[str, float | int | None]:
    """Median, 5th and 95th percentiles and mean of the finite values (over the design's points)."""
    x = values[np.isfinite(values)]
    if not len(x):
        return {"median": None, "p05": None, "p95": None, "mean": None, "n": 0}
    p05, median, p95 = np.percentile(x, [5, 50, 95])
    return {"median": float(median), "p05": float(p05), "p95": float(p95), "mean": float(x.mean()), "n": len(x)}


def assumption_values(study: Study) -> pd.DataFrame:
    """Per point, each assumption's value on side A in its unit (a per-platform one: its first entry)."""
    return pd.DataFrame({a.name: [value_at(float(u), study.settings_a[a.name][0], a.scale, a.integer)
                                  for u in study.unit[:, j]] for j, a in enumerate(study.assumptions)})


def summarize(study: Study, condition: str = DEFAULT_CONDITION, min_density: float = 0.8,
              confidence: float = 0.95, calibration: str | None = None) -> dict[str, Any]:
    """The study's ``summary.json``: sizes, the assumptions varied and held, each outcome's distribution,
    the drivers of the US difference and the region where `condition` holds; with `calibration` (a regime,
    e.g. ``"2023"``), also each outcome's distribution over the draws whose A runs reproduce every published figure
    of that regime a run measures, and where in the assumptions those draws lie
    (:mod:`model.uncertainty.calibrated`)."""
    points = study.points
    finite = np.isfinite(points["difference_us"].to_numpy(float))
    rule = Condition.parse(condition, DESCRIBED)
    values = assumption_values(study)
    summary: dict[str, Any] = {
        "kind": "uncertainty", "a": study.a, "b": study.b, "design": study.design, "samples": study.samples,
        "seed": study.seed, **summary_counts(study),
        "assumptions": describe(study.assumptions, study.settings_a), "held": study.held,
        "warmup_note": study.warmup_note,
        **{name: distribution(points[name].to_numpy(float)) for name in DESCRIBED},
        "drivers": _drivers(study, finite, confidence),
        "drivers_of": "difference_us", "confidence": confidence,
        "drivers_note": _drivers_note(study, finite),
        "discovery": _discovery(study, rule, values, finite, min_density),
    }
    if calibration is not None:
        meta, keep, per_year = check(study, calibration)
        for entry in meta["targets"]:
            entry["model_per_year"] = distribution(per_year[entry["key"]])
        summary["calibrated"] = {**meta, **{name: distribution(points[name].to_numpy(float)[keep]) for name in DESCRIBED},
                                 "region": _region(study, values, keep.astype(float), keep, np.ones(len(keep), bool),
                                                   min_density)}
    summary["headline"] = headline(summary)
    return _no_nan(json.loads(json.dumps(summary, default=_plain)))


def _discovery(study: Study, rule: Condition, values: pd.DataFrame, finite: np.ndarray,
               min_density: float) -> dict[str, Any]:
    """PRIM over the assumptions that matter most for the condition's outcome (see :mod:`discovery`)."""
    outcome = study.points[rule.outcome].to_numpy(float)
    ok = finite & np.isfinite(outcome)
    return {"condition": str(rule), **_region(study, values, outcome, rule.holds(study.points), ok, min_density)}


def _region(study: Study, values: pd.DataFrame, outcome: np.ndarray, holds: np.ndarray, ok: np.ndarray,
            min_density: float) -> dict[str, Any]:
    """Where in the assumptions `holds`, over the points `ok`: PRIM peels the assumptions with the largest partial
    rank correlation with `outcome` (all of them if there are too few points to rank)."""
    ranked = rank_drivers(study.names, study.unit[ok], outcome[ok], "lhs") if ok.sum() > len(study.names) + 3 else []
    peeled = [d["parameter"] for d in ranked[:MAX_DIMENSIONS]] or study.names
    found = discover(values.loc[ok, peeled].astype(float), holds[ok], {a.name: a for a in study.assumptions},
                     min_density)
    return {"peeled": peeled, **found}


def _drivers_note(study: Study, finite: np.ndarray) -> str:
    """What limits the ranking of drivers, if anything."""
    if study.design == "sobol" and not finite.all():
        return (f"{int((~finite).sum())} of {len(finite)} points of the Saltelli design have no result (failed runs): "
                "Sobol indices need every point, so the drivers are partial rank correlations over the rest")
    if study.design == "lhs" and finite.sum() < 4 * len(study.assumptions):
        return (f"{int(finite.sum())} points for {len(study.assumptions)} assumptions: fewer than four per "
                "assumption, so the ranking is rough (see the intervals)")
    return ""


def _drivers(study: Study, finite: np.ndarray, confidence: float) -> list[dict[str, Any]]:
    """Drivers of the US difference: PRCC over the points with a result; Sobol indices need every point of the
    Saltelli design (with a point missing they cannot be estimated, and PRCC over the rest stands in)."""
    output = study.points["difference_us"].to_numpy(float)
    if study.design == "sobol" and finite.all():
        return rank_drivers(study.names, study.unit, output, study.design, confidence, study.seed)
    return rank_drivers(study.names, study.unit[finite], output[finite], "lhs", confidence)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)


def _share(d: dict[str, Any]) -> str:
    if d["median"] is None:
        return "no result"
    return f"{d['median']:.1%} (5-95%: {d['p05']:.1%} to {d['p95']:.1%})"


def _points(d: dict[str, Any]) -> str:
    if d["median"] is None:
        return "no result"
    return f"{signed(d['median'])} points (5-95%: {signed(d['p05'])} to {signed(d['p95'])})"


def signed(share: float) -> str:
    """A difference of shares in percentage points with its sign, one decimal; "0.0" when it rounds to zero (as the
    report's number formatter)."""
    points = round(100 * share, 1) + 0.0
    return f"{points:+.1f}" if points else "0.0"


def headline(summary: dict[str, Any]) -> str:
    """One paragraph: the US answer under each side and the difference over the assumptions, the top
    drivers, and the discovered region."""
    top = ", ".join(f"{d['parameter']} ({d['importance']:.2f})" for d in summary["drivers"][:3])
    found = summary["discovery"]
    region = f"{found['condition']} ({found['share']:.0%} of the points): {found['text']}"
    return (f"Over {summary['points']:,} draws of {len(summary['assumptions'])} plausible assumptions "
            f"({summary['design']}, {summary['replications']} replication(s) each, the same seeds throughout), "
            f"US evidence lost before legal process: {summary['a']} {_share(summary['rate_us_a'])}; "
            f"{summary['b']} {_share(summary['rate_us_b'])}; difference B - A {_points(summary['difference_us'])}. "
            f"Foreign: {_share(summary['rate_foreign_a'])} and {_share(summary['rate_foreign_b'])}. "
            f"What drives the US difference ({summary['drivers'][0]['method']}): {top}. "
            f"Where {region}.{_calibrated_sentence(summary.get('calibrated'))}{_settling_sentence(summary)}")


def _settling_sentence(summary: dict[str, Any]) -> str:
    rounds = summary.get("settling") or []
    unsettled = summary.get("unsettled_runs") or 0
    their, losses = ("its", "its loss") if unsettled == 1 else ("their", "their losses")
    still = (f"{unsettled} of {summary['runs']:,} runs may not have settled (the halves of {their} counted period lost "
             f"different shares of US evidence, or a queue was still filling): {losses} may be understated.")
    if summary.get("settling_note"):
        still += " Too many to rerun alone: the warm-up looks short for the whole study."
    if not rounds:
        return f" {still}" if unsettled else ""
    warmups = " and then ".join(warmup_text(r["warmup_days"]) for r in rounds)
    rerun = (f" {len(rounds[0]['points'])} draws with a run that may not have settled (the halves of its counted period "
             f"lost different shares of US evidence, or a queue was still filling) were rerun with {warmups} days of "
             "warm-up")
    return f"{rerun}; {still}" if unsettled else f"{rerun}; none was flagged again."


def _calibrated_sentence(block: dict[str, Any] | None) -> str:
    if block is None:
        return ""
    kept = f"{block['points']} of {block['of']} draws"
    published = f"published {published_text(block)}"
    if not block["points"]:
        return f" None of the {block['of']} draws reproduces the {published}."
    region = block["region"]
    where = f" They lie {region['text'].replace('when ', 'where ', 1)}." if region["conditions"] else ""
    return (f" Among the {kept} that reproduce the {published}, the US difference is "
            f"{_points(block['difference_us'])}.{where}")


def write_summary(summary: dict[str, Any], out: Path) -> Path:
    """Write ``out/summary.json`` atomically."""
    path = Path(out) / "summary.json"
    text = json.dumps(_no_nan(summary), indent=1, allow_nan=False) + "\n"
    write_file(path, lambda tmp: tmp.write_text(text))
    return path


def _no_nan(value: Any) -> Any:
    """NaN (undefined, e.g. an interval with too few points) as JSON null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value
