"""Validation 3: rates do not depend on the warm-up beyond Monte Carlo error once the queues have settled.

Queues fill for up to three times the agencies' backlog limit (120 days by default): US loss of `x_platform`'s
cohorts rises from 17% (created on days 121-300) and 25% (241-420) to a steady 27-27.5% from day 301 on
(docs/ODD.md, warm-up). The 180-day warm-up this model used before counted those early cohorts and
understated the steady loss by about a tenth. Counting a year after the default warm-up (365 days) must
agree with counting a year after 730 days within 4 standard errors; and the check must have teeth: a year
counted after 90 days, whose first cohorts meet queues still filling, must come out lower by more than 3
standard errors.
"""

from __future__ import annotations

import math

import numpy as np

from model import load_scenario, run
from model.experiments import replication_seeds

#: X at a fifth of its volume and staff (the congested strata stay congested), the 90-day rule.
BASE = ["platforms.X.reports_per_day=400", "law_enforcement.investigators=38", "foreign.investigators=240"]


def counted_year_after(warmup: int, root: int) -> np.ndarray:
    """US loss rates of a counted year after `warmup` days, over six independent seeds."""
    scenario = load_scenario("x_platform", [*BASE, f"run.warmup_days={warmup}", f"run.days={warmup + 365}"])
    return np.array([run(scenario, seed=s)[1]["evidence_lost_rate_us"] for s in replication_seeds(root, 6)])


def standard_error(a: np.ndarray, b: np.ndarray) -> float:
    return math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))


def test_the_rates_do_not_depend_on_the_warm_up_beyond_the_default():
    default, long = counted_year_after(365, 11), counted_year_after(730, 12)
    early = counted_year_after(90, 13)
    se = standard_error(default, long)
    print(f"US lost, a year counted after 90 days {early.mean():.4f}, after 365 {default.mean():.4f}, "
          f"after 730 {long.mean():.4f}; z(365 vs 730) = {(default.mean() - long.mean()) / se:+.2f}, "
          f"z(90 vs 730) = {(early.mean() - long.mean()) / standard_error(early, long):+.2f}")
    assert abs(default.mean() - long.mean()) < 4 * se
    assert long.mean() - early.mean() > 3 * standard_error(early, long)   # teeth: a transient shows
