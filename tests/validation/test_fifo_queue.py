"""Validation 2: one capacity-limited FIFO stage against an independent day-granular queue.

Only the investigators' stage has limited capacity (c cases a day, an integer, so no fractional
credit); analysts are unlimited, the referral and legal-process delays are zero, so a report's wait
is the days it spends in the agency queue and it is lost iff that wait exceeds the window.

Two independent checks:

* **path-wise**: the Lindley recursion ``Q_t = max(0, Q_{t-1} + A_t - c)`` run on the model's own
  daily arrivals gives exactly the model's counts of lost and served reports;
* **stationary**: the model's lost fraction agrees, within 4 batch-means standard errors, with the
  probability computed from the stationary distribution of the backlog's Markov chain (Poisson
  arrivals), for a load below 1 (0.8) and near 1 (0.95).
"""

from __future__ import annotations

import numpy as np
import pytest

from model.model import run
from tests.validation.helpers import batch_ratio, lindley_path, scenario, stationary_loss

WARMUP = 200
DAYS = 7000


def queue_scenario(rate: float, capacity: int, window: int, seed: int):
    return scenario(days=DAYS, warmup=WARMUP, window=window, reports_per_day=rate, seed=seed,
                    law_enforcement={"investigators": 1, "cases_per_investigator_month": capacity * 365 / 12,
                                     "legal_process_median_days": 0.0})


@pytest.mark.parametrize(("rate", "capacity", "window", "seeds"), [
    (4.0, 5, 1, (11,)),            # load 0.8
    (9.5, 10, 2, (21, 22, 23)),    # load 0.95: slower mixing, so three runs
], ids=["load-0.8", "load-0.95"])
def test_one_fifo_stage_matches_the_lindley_recursion(rate, capacity, window, seeds):
    lost_days, served_days = [], []
    for seed in seeds:
        model, summary = run(queue_scenario(rate, capacity, window, seed))
        daily = model.timeseries()
        arrivals = daily["reports_filed"].to_numpy()[1:].astype(np.int64)   # row 0 is day 0
        exact = lindley_path(arrivals, capacity, window, WARMUP, DAYS)
        assert (summary["evidence_lost"], summary["legal_process_served"]) == exact
        first = WARMUP + window + 1   # from here on, every loss and service is of a counted report
        lost_days.append(daily["lost_today"].to_numpy()[first:])
        served_days.append(daily["served_today"].to_numpy()[first:])
    batches = [batch_ratio(lost, served, 20) for lost, served in zip(lost_days, served_days, strict=True)]
    lost = np.concatenate(lost_days)
    served = np.concatenate(served_days)
    observed = lost.sum() / (lost.sum() + served.sum())
    # standard error of the pooled ratio from the batch means of every run
    se = float(np.sqrt(sum(s ** 2 for _, s in batches)) / len(batches))
    expected = stationary_loss(rate, capacity, window)
    print(f"load {rate / capacity:.2f}: model {observed:.4f} +- {se:.4f}, Markov chain {expected:.4f}, "
          f"z = {(observed - expected) / se:+.2f}")
    assert abs(observed - expected) < 4 * se
    assert se < 0.35 * expected   # the check has teeth


def test_the_markov_chain_oracle_on_cases_with_known_answers():
    """An empty queue loses nothing for a long window; more load means more loss."""
    assert stationary_loss(0.01, 1000, 1) == pytest.approx(0.0, abs=1e-12)
    assert 0 < stationary_loss(2.0, 3, 1) < stationary_loss(2.8, 3, 1) < 1
    # c = 1, W = 1, deterministic-like small load: lost iff Q + U + 1 > 2
    rate = 0.2
    assert stationary_loss(rate, 1, 1) < 0.2
