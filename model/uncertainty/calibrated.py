"""The answer among the draws that reproduce what was observed: a study conditioned on calibration targets.

A study draws every assumption over its plausible range, so many draws describe a pipeline that would not
produce the figures published for it. Keeping only the draws whose side-A runs reproduce a regime's published
calibration targets within their tolerances (:data:`model.calibration.TARGETS`, the figures ``tipline
calibration`` checks) conditions the answer on those observations. This is the first step of history
matching: the targets a run's summary measures (referrals to US agencies, ICAC investigations and arrests a
year, counted over the days after the warm-up, as the calibration counts them), a yes-or-no filter, and no
emulator; the draws kept are as uniform over the consistent region as the design was over the whole.

A study whose runs predate a summary key (``investigations_us`` is newer than ``arrests``) is conditioned on
the targets its runs measure, and the block says which were left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from model.calibration import REGIMES, TARGETS, Target

if TYPE_CHECKING:
    from model.uncertainty.study import Study

#: The calibration targets a study can condition on, in order: run summary key -> (target key, short name).
MEASURABLE = {"referred_us": ("referred_us", "US referrals"), "investigations_us": ("investigations", "ICAC investigations"),
              "arrests": ("arrests", "ICAC arrests")}


def targets_of(regime: str) -> dict[str, Target]:
    """The published figures of a calibration regime (2023: before bundling; 2024: bundling) that a run's summary
    measures, by summary key (FY2024 has no published count of US referrals)."""
    if regime not in REGIMES:
        raise ValueError(f"--calibration {regime}: allowed: {', '.join(REGIMES)}")
    found = {t.key: t for t in TARGETS if t.regime == regime and t.platform is None}
    return {key: found[target_key] for key, (target_key, _) in MEASURABLE.items() if target_key in found}


def measured(study: Study, keys: list[str]) -> list[str]:
    """Those of the summary `keys` that side A's runs have."""
    runs = study.runs["a"]
    return [key for key in keys if key in runs and runs[key].notna().any()]


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
    published = targets_of(regime)
    keys = measured(study, list(published))
    values = {key: per_year(study, key) for key in keys}
    within = {key: np.array([published[key].within(v) for v in values[key]], bool)   # NaN is never within
              for key in keys}
    keep = np.logical_and.reduce([*within.values()]) if keys else np.zeros(len(study.unit), bool)
    targets = [{"key": key, "name": MEASURABLE[key][1], "target": published[key].label,
                "published": published[key].published, "tolerance": published[key].tolerance_text(),
                "source": published[key].source, "points": int(within[key].sum())} for key in keys]
    return {"regime": regime, "target": _listed([t["name"] for t in targets]),
            "targets": targets, "not_measured": [MEASURABLE[key][1] for key in published if key not in keys],
            "measured_on": study.a, "points": int(keep.sum()), "of": len(keep)}, keep, values


def published_text(block: dict[str, Any]) -> str:
    """The targets for people: "US referrals (1,100,000 a year, +-25%), ICAC investigations (184,700, +-25%) and
    ICAC arrests (10,800, +-30%)"."""
    texts = [f"{t['name']} ({t['published']:,.0f}{' a year' if i == 0 else ''}, {t['tolerance']})"
             for i, t in enumerate(block["targets"])]
    return _listed(texts)


def _listed(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"; "(no target measured)" for none."""
    if not items:
        return "(no target measured)"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
