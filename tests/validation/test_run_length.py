"""Validation 2: rates do not depend on the run length beyond Monte Carlo error (no censoring).

The 0.1.0 model counted a loss only when its deadline fell inside the run, so `x_platform` under
one-year retention printed 0.048 at 730 days, 0.089 at 1,460 and 0.097 at 2,190. With cohort
accounting every counted report is followed to its outcome, so a longer run only adds reports: the US
rate at 730 and 1,460 days must agree within 4 standard errors of the difference of their means over
independent seeds.
"""

from __future__ import annotations

import math

import numpy as np

from model import load_scenario, run
from model.experiments import replication_seeds

#: X at a fifth of its volume and staff (the congested strata stay congested), one-year retention.
BASE = ["platforms.X.reports_per_day=400", "law_enforcement.investigators=38", "foreign.investigators=240",
        "retention.window_days=365"]


def test_the_rates_do_not_depend_on_the_run_length():
    summaries = {days: [run(load_scenario("x_platform", [*BASE, f"run.days={days}"]), seed=s)[1] for s in seeds]
                 for days, seeds in ((730, replication_seeds(7, 4)), (1460, replication_seeds(8, 3)))}
    for route in ("us", "foreign"):
        key = f"evidence_lost_rate_{route}"
        short = np.array([s[key] for s in summaries[730]])
        long = np.array([s[key] for s in summaries[1460]])
        se = math.sqrt(short.var(ddof=1) / len(short) + long.var(ddof=1) / len(long))
        print(f"{key}: 730 days {short.mean():.4f} (sd {short.std(ddof=1):.4f}), "
              f"1460 days {long.mean():.4f} (sd {long.std(ddof=1):.4f}); z = {(long.mean() - short.mean()) / se:+.2f}")
        assert abs(long.mean() - short.mean()) < 4 * se
        assert se < 0.25 * short.mean()   # the check has teeth: the 0.1.0 bias (x2) would fail it
