"""Which assumptions drive the answer: partial rank correlation (any design) and Sobol indices (Sobol designs).

Partial rank correlation (PRCC; Marino et al. 2008, J. Theor. Biol. 254:178) measures a monotone effect of
one input on the output with the others' effects removed: rank-transform every input and the output, regress
the ranks of one input and of the output on the ranks of all other inputs, and correlate the residuals. Its
confidence interval uses Fisher's z with ``n - 2 - (k - 1)`` degrees of freedom. Sobol total-order indices
(through SALib) measure any effect, interactions included, and need the Saltelli design.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from model.sobol import saltelli_indices


def prcc(inputs: np.ndarray, output: np.ndarray, confidence: float = 0.95) -> list[dict[str, float]]:
    """PRCC of each input column with `output`, with a Fisher-z confidence interval.

    `inputs`: one row per point, one column per input. Rows with a non-finite output are dropped. An
    input that does not vary, or an output that does not vary, gets 0 with an interval of NaN.
    """
    keep = np.isfinite(output)
    x, y = inputs[keep], output[keep]
    n, k = x.shape
    ranks = np.column_stack([stats.rankdata(x[:, j]) for j in range(k)] + [stats.rankdata(y)])
    ranks -= ranks.mean(axis=0)
    results = []
    dof = n - 2 - (k - 1)
    z_crit = stats.norm.ppf(0.5 + confidence / 2)
    for j in range(k):
        others = np.delete(ranks[:, :k], j, axis=1)
        design = np.column_stack([np.ones(n), others])
        residual_x = ranks[:, j] - design @ np.linalg.lstsq(design, ranks[:, j], rcond=None)[0]
        residual_y = ranks[:, k] - design @ np.linalg.lstsq(design, ranks[:, k], rcond=None)[0]
        scale = math.sqrt(float(residual_x @ residual_x) * float(residual_y @ residual_y))
        if scale < 1e-12 or dof < 2:
            results.append({"importance": 0.0, "value": 0.0, "low": math.nan, "high": math.nan})
            continue
        r = float(np.clip(residual_x @ residual_y / scale, -0.999999, 0.999999))
        half = z_crit / math.sqrt(dof - 1)
        low, high = math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)
        results.append({"importance": abs(r), "value": r, "low": low, "high": high})
    return results


def sobol_total(names: Sequence[str], output: np.ndarray, confidence: float = 0.95,
                seed: int = 0) -> list[dict[str, float]]:
    """Sobol first-order and total indices of a Saltelli design's output (:func:`model.sobol.saltelli_indices`;
    raises :class:`model.sobol.MissingPoints` if a point has no value)."""
    result = saltelli_indices(names, output, confidence=confidence, seed=seed)
    return [{"importance": float(st), "value": float(st), "low": float(st - conf), "high": float(st + conf),
             "S1": float(s1), "S1_conf": float(s1c)}
            for st, conf, s1, s1c in zip(result["ST"], result["ST_conf"], result["S1"], result["S1_conf"],
                                         strict=True)]


def rank_drivers(names: Sequence[str], unit: np.ndarray, output: np.ndarray, design: str,
                 confidence: float = 0.95, seed: int = 0) -> list[dict[str, Any]]:
    """The assumptions ranked by their influence on `output`, largest first.

    Each entry: ``parameter``, ``importance`` (|PRCC|, or the Sobol total index), ``method``, the
    signed ``value`` and its ``low``/``high`` confidence limits (and ``S1`` for Sobol). Sobol indices need a
    value at every point of the Saltelli design (`seed`: their bootstrap's).
    """
    if design == "sobol":
        found = sobol_total(names, output, confidence, seed)
        method = "sobol total-order index (SALib, Saltelli design)"
    else:
        found = prcc(unit, output, confidence)
        method = "partial rank correlation (PRCC)"
    rows = [{"parameter": name, "method": method, **entry} for name, entry in zip(names, found, strict=True)]
    return sorted(rows, key=lambda row: -row["importance"])
