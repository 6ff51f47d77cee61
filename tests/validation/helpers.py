"""Scenarios and independent calculations shared by the validation tests (DESIGN §10).

The independent values are computed here from first principles (scipy distributions, numerical
convolution, Lindley recursion, the stationary distribution of a Markov chain); none of this code
calls the model's own delay or queue functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from model.params import Scenario

#: One platform whose every report is an actionable, US-located referral that needs legal process.
PURE_CASES = {"automated_share": 0.0, "urgent_share": 0.0, "viral_share": 0.0, "known_content_share": 0.0,
              "quality_share": 1.0, "quality_signal": 0.0, "us_share": 1.0, "unknown_location_share": 0.0,
              "actionable_share": 1.0}

#: One ICAC agency takes every US referral; the federal agency has no staff and gets none.
ONE_AGENCY = [{"name": "A", "kind": "icac", "routing_share": 1.0, "staff_share": 1.0},
              {"name": "Federal", "kind": "federal", "routing_share": 1.0, "staff_share": 0.0},
              {"name": "Foreign", "kind": "foreign", "routing_share": 1.0, "staff_share": 1.0}]

UNLIMITED_ANALYSTS = {"analysts": 100_000, "reports_per_analyst_day": 1e6}
#: Investigators without limit, and a case that is review then drafting (no warrant, no identification).
UNLIMITED_INVESTIGATORS = {"investigators": 10_000_000, "legal_process_share": 1.0, "wilson_share": 0.0,
                           "identification_share": 0.0, "work_sigma": 0.0, "follow_up_hours": 0.0,
                           "priority_policy": "fifo", "backlog_limit_days": 3650}


def scenario(*, days: int, warmup: int = 0, seed: int = 1, window: int = 90, reports_per_day: float = 2000.0,
             platform: dict[str, Any] | None = None, ncmec: dict[str, Any] | None = None,
             law_enforcement: dict[str, Any] | None = None, retention: dict[str, Any] | None = None) -> Scenario:
    """A validation scenario: pure cases, unlimited analysts and investigators, one agency, no 2703(f) letters."""
    return Scenario.model_validate({
        "name": "validation",
        "run": {"days": days, "warmup_days": warmup, "seed": seed},
        "retention": {"window_days": window, "preservation_request_share": 0.0, **(retention or {})},
        "platforms": [{"name": "P", "reports_per_day": reports_per_day, **PURE_CASES, **(platform or {})}],
        "ncmec": {**UNLIMITED_ANALYSTS, "referral_delay_days": 0, "triage_policy": "fifo", **(ncmec or {})},
        "law_enforcement": {**UNLIMITED_INVESTIGATORS, **(law_enforcement or {})},
        "agencies": ONE_AGENCY,
    })


# --- delays -----------------------------------------------------------------------------------

def ceil_lognormal_pmf(median: float, sigma: float, n: int) -> np.ndarray:
    """P(ceil(X) = k), k = 0..n-1, for X lognormal with the given median; the tail mass is dropped."""
    cdf = stats.lognorm.cdf(np.arange(n), s=sigma, scale=median)
    pmf = np.diff(cdf, prepend=0.0)   # P(k-1 < X <= k); P(X <= 0) = 0
    return pmf


def delay_exceeds(budget: int, *, median: float, sigma: float, warrant_share: float = 0.0,
                  warrant_median: float = 7.0, warrant_sigma: float = 0.7) -> float:
    """P(ceil(LN1) [+ ceil(LN2) with prob. warrant_share] > budget) for an integer `budget` of days, by convolution."""
    if warrant_share == 0.0:
        return float(stats.lognorm.sf(budget, s=sigma, scale=median))
    n = budget + 1
    process = ceil_lognormal_pmf(median, sigma, n)
    warrant = ceil_lognormal_pmf(warrant_median, warrant_sigma, n)
    both = np.convolve(process, warrant)[:n]
    within = (1 - warrant_share) * process.sum() + warrant_share * both.sum()   # P(total <= budget)
    return float(1.0 - within)


# --- one capacity-limited FIFO stage ----------------------------------------------------------

def stationary_loss(rate: float, capacity: int, window: int, size: int = 4000) -> float:
    """P(wait > window) for a random report at stationarity, from the backlog's Markov chain.

    Backlog at the end of a day: Q' = max(0, Q + A - c), A ~ Poisson(rate). A report arriving on a
    day has Q (yesterday's backlog) plus U reports of its own day ahead of it, where U is uniform
    over the positions of a size-biased Poisson batch; it waits more than W days iff
    Q + U + 1 > (W + 1) c.
    """
    a = stats.poisson.pmf(np.arange(size), rate)
    q = np.zeros(size)
    q[0] = 1.0
    for _ in range(100_000):
        total = np.convolve(q, a)[:2 * size]
        new = np.zeros(size)
        new[0] = total[:capacity + 1].sum()
        new[1:] = total[capacity + 1:capacity + size]
        if np.abs(new - q).sum() < 1e-13:
            q = new
            break
        q = new
    others = stats.poisson.pmf(np.arange(size), rate)             # size-biased batch minus the report
    ahead = np.cumsum((others / np.arange(1, size + 1))[::-1])[::-1]  # P(U = u) = sum_{n>=u} P(N=n)/(n+1)
    threshold = (window + 1) * capacity                           # lost iff Q + U + 1 > threshold
    lq = np.convolve(q, ahead)[:threshold]                        # P(Q + U = k)
    return float(1.0 - lq.sum())


def batch_ratio(lost: np.ndarray, served: np.ndarray, batches: int) -> tuple[float, float]:
    """Ratio lost / (lost + served) and its standard error by batch means over consecutive days."""
    n = len(lost) // batches * batches
    lb = lost[:n].reshape(batches, -1).sum(axis=1)
    sb = served[:n].reshape(batches, -1).sum(axis=1)
    rates = lb / (lb + sb)
    ratio = lost[:n].sum() / (lost[:n].sum() + served[:n].sum())
    return float(ratio), float(rates.std(ddof=1) / math.sqrt(batches))
