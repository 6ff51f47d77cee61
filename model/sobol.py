"""Sobol sensitivity indices of a Saltelli design's output, through SALib: one place for ``tipline analyze``
(a sweep's ``sobol`` design) and ``tipline uncertainty --design sobol`` (the drivers of the answer).

The Saltelli/Jansen estimators combine each base point with its cross-sampled partners, so they need a value
at every point of the design: a design with a missing point (every run of it failed) has no indices, and
:func:`saltelli_indices` says so instead of filling the gap with a made-up value.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np


class MissingPoints(ValueError):
    """Some points of the Saltelli design have no value, so Sobol indices cannot be estimated."""


def saltelli_indices(names: Sequence[str], output: np.ndarray, *, second_order: bool = False,
                     confidence: float = 0.95, num_resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """First-order (``S1``), total (``ST``) and, with `second_order`, second-order (``S2``) indices of each input,
    with the half-widths of their bootstrap `confidence` intervals (``*_conf``), as SALib returns them.

    `output`: one value per point of the Saltelli sample (unit hypercube inputs), in the sample's order.
    Raises :class:`MissingPoints` if any value is not finite.
    """
    from SALib.analyze import sobol

    y = np.asarray(output, float)
    missing = int((~np.isfinite(y)).sum())
    if missing:
        raise MissingPoints(f"{missing} of {len(y)} design points have no value")
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)   # a constant output: SALib divides by its zero variance
        return sobol.analyze(problem, y, calc_second_order=second_order, num_resamples=num_resamples,
                             conf_level=confidence, seed=seed % 2**32)
