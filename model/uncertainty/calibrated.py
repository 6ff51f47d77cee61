"""The answer among the draws that reproduce what was observed: a study conditioned on calibration targets.

A study draws every assumption over its plausible range, so many draws describe a pipeline that would not
produce the figures published for it. Keeping only the draws whose side-A runs reproduce a regime's published
calibration targets within their tolerances (:data:`model.calibration.TARGETS`, the figures ``tipline
calibration`` checks) conditions the answer on those observations. This is the first step of history
matching: the targets a run's summary measures (ICAC investigations and arrests a year, counted over the days
after the warm-up, as the calibration counts them), a yes-or-no filter, and no emulator; the draws kept are as
uniform over the consistent region as the design was over the whole.

A study whose runs predate a summary key (``investigations_us`` is newer than ``arrests``) is conditioned on
the targets its runs measure, and the block says which were left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model.calibration import REGIMES, TARGETS, Target
from model.uncertainty.study import Study

#: The calibration targets a study can condition on, in order: run summary key -> (target key, short name).
MEASURABLE = {"investigations_us": ("investigations", "ICAC investigations"), "arrests": ("arrests", "ICAC arrests")}


def target(regime: str, key: str = "arrests") -> Target:
    """The published figure of summary key `key` in a calibration regime (2023: before bundling; 2024: bundling)."""
    if regime not in REGIMES:
        raise ValueError(f"--calibration {regime}: allowed: {', '.join(REGIMES)}")
    return next(t for t in TARGETS if t.regime == regime and t.key == MEASURABLE[key][0])


def measured(study: Study) -> list[str]:
    """The summary keys of :data:`MEASURABLE` that side A's finished runs have."""
    runs = study.runs["a"]
    return [key for key in MEASURABLE if key in runs and runs[key].notna().any()]


def per_year(study: Study, key: str = "arrests") -> np.ndarray:
    """Per point, side A's `key` a year: the mean over its finished replications, per 365 counted days."""
    runs = study.runs["a"]
    finished = runs[runs["error"].isna()] if "error" in runs else runs
    if key not in finished:   # no run finished, or runs without the key
        return np.full(len(study.unit), np.nan)
    means = finished.groupby("point")[key].mean().reindex(np.arange(len(study.unit)))
    return means.to_numpy(float) * 365 / study.counted_days


def check(study: Study, regime: str) -> tuple[dict[str, Any], np.ndarray, dict[str, np.ndarray]]:
    """Which draws reproduce every measured target of `regime` (a mask over points), with the block's facts and
    the model's figure a year at every point, per target key."""
    keys = measured(study)
    published = {key: target(regime, key) for key in MEASURABLE}   # also checks the regime
    values = {key: per_year(study, key) for key in keys}
    within = {key: np.array([published[key].within(v) for v in values[key]], bool)   # NaN is never within
              for key in keys}
    keep = np.logical_and.reduce([*within.values()]) if keys else np.zeros(len(study.unit), bool)
    targets = [{"key": key, "name": MEASURABLE[key][1], "target": published[key].label,
                "published": published[key].published, "tolerance": published[key].tolerance_text(),
                "source": published[key].source, "points": int(within[key].sum())} for key in keys]
    return {"regime": regime, "target": " and ".join(t["name"] for t in targets) or "(no target measured)",
            "targets": targets, "not_measured": [MEASURABLE[key][1] for key in MEASURABLE if key not in keys],
            "measured_on": study.a, "points": int(keep.sum()), "of": len(keep)}, keep, values


def published_text(block: dict[str, Any]) -> str:
    """The targets for people: "ICAC investigations (184,700 a year, +-25%) and ICAC arrests (10,800, +-30%)"."""
    texts = [f"{t['name']} ({t['published']:,.0f}{' a year' if i == 0 else ''}, {t['tolerance']})"
             for i, t in enumerate(block["targets"])]
    return " and ".join(texts) or "(no target measured)"
