"""The answer among the draws that reproduce what was observed: a study conditioned on a calibration target.

A study draws every assumption over its plausible range, so many draws describe a pipeline that would not
produce the figures published for it. Keeping only the draws whose side-A runs reproduce a published
calibration target within its tolerance (:data:`model.calibration.TARGETS`, the figures ``tipline
calibration`` checks) conditions the answer on that observation. This is the first step of history
matching: one target that a run's summary measures (ICAC arrests a year, counted over the days after the
warm-up, as the calibration does), a yes-or-no filter, and no emulator; the draws kept are as uniform over
the consistent region as the design was over the whole.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model.calibration import REGIMES, TARGETS, Target
from model.uncertainty.study import Study

#: The calibration targets a study can condition on: summary key -> target key (per year).
MEASURABLE = {"arrests": "arrests"}


def target(regime: str, key: str = "arrests") -> Target:
    """The published figure `key` of a calibration regime (2023: before bundling; 2024: bundling)."""
    if regime not in REGIMES:
        raise ValueError(f"--calibration {regime}: allowed: {', '.join(REGIMES)}")
    return next(t for t in TARGETS if t.regime == regime and t.key == MEASURABLE[key])


def per_year(study: Study, key: str = "arrests") -> np.ndarray:
    """Per point, side A's `key` a year: the mean over its finished replications, per 365 counted days."""
    runs = study.runs["a"]
    finished = runs[runs["error"].isna()] if "error" in runs else runs
    if key not in finished:   # no run finished, or a stand-in model without the key
        return np.full(len(study.unit), np.nan)
    means = finished.groupby("point")[key].mean().reindex(np.arange(len(study.unit)))
    return means.to_numpy(float) * 365 / study.counted_days


def check(study: Study, regime: str, key: str = "arrests") -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The target, which draws reproduce it (a mask over points), and the model's figure a year at every point."""
    published = target(regime, key)
    values = per_year(study, key)
    keep = np.array([published.within(v) for v in values], bool)   # NaN (no finished run) is never within
    return {"regime": regime, "key": key, "target": published.label, "published": published.published,
            "tolerance": published.tolerance_text(), "source": published.source, "measured_on": study.a,
            "points": int(keep.sum()), "of": len(keep)}, keep, values
