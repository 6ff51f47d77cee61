"""Validation 3: one congested agency whose hours per case are fixed, against independent queue computations.

Only the investigators have limited time (B hours a day); analysts are unlimited, the referral delay
and the approval wait are zero, and every report is a case that needs its legal process: a review of
`R` hours, then drafting of `D` hours, first in first out, with cases already reviewed before new
referrals (the agencies' rule), the day's hours spent on the longest prefix of the queue that fits,
unused hours kept only while work waits, and referrals not picked up within L days closed unworked.

* **path-wise**: a plain re-implementation of those rules (deques and a loop, none of the model's
  code), fed with the model's own daily arrivals, gives exactly the model's counts of evidence lost,
  served in time and closed unworked;
* **stationary**: with drafting free (D = 0) and R dividing B, the agency reviews c = B / R cases a
  day, the case is served the day after its review, and its loss probability is that of a
  day-granular FIFO queue with c servers a day, computed from the stationary distribution of the
  backlog's Markov chain with Poisson arrivals (load 0.8 and 0.95).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from model.model import run
from tests.validation.helpers import batch_ratio, scenario, stationary_loss

#: 73 investigators x 500 hours a year = 100.0 hours a day exactly; review and drafting hours are exact binary fractions.
STAFF = {"investigators": 73, "hours_per_investigator_year": 500.0}
REVIEW, DRAFT, BUDGET = 1.5, 3.0, 100.0


def independent_fifo_agency(arrivals: np.ndarray, *, review: float, draft: float, budget: float, window: int,
                            backlog_limit: int, first_counted: int, last_counted: int) -> dict[str, int]:
    """Outcomes of counted cases (created on days first_counted..last_counted) in a FIFO agency with hours."""
    waiting: deque[int] = deque()            # creation days of referrals waiting for review, in order
    drafting: deque[int] = deque()           # creation days of reviewed cases waiting for drafting, in order
    lost = served = closed = 0
    credit = 0.0
    counted = range(first_counted, last_counted + 1)
    for index, n in enumerate(arrivals.tolist()):
        day = index + 1
        waiting.extend([day] * n)
        while waiting and waiting[0] < day - backlog_limit:   # not picked up in time: closed unworked
            created = waiting.popleft()
            if created in counted:
                closed += 1
                lost += 1
        credit += budget
        used, reviewed, stop = 0.0, [], False
        for queue, cost in ((drafting, draft), (waiting, review)):   # cases in progress first
            while queue and not stop:
                if used + cost > credit:
                    stop = True
                    break
                used += cost
                created = queue.popleft()
                if queue is waiting:
                    reviewed.append(created)
                elif created in counted:                      # drafted today, served today (no approval wait)
                    lost, served = (lost + 1, served) if day > created + window else (lost, served + 1)
        credit = credit - used if (waiting or drafting) else min(credit - used, 0.0)
        drafting.extend(reviewed)
    still = [c for c in (*waiting, *drafting) if c in counted]   # deadline passed: lost while waiting
    return {"lost": lost + len(still), "served": served, "closed": closed}


@pytest.mark.parametrize(("rate", "window", "limit", "seed"), [(21.8, 2, 3650, 5), (24.0, 15, 25, 6)],
                         ids=["load-0.98", "overloaded-with-backlog-limit"])
def test_a_congested_agency_matches_an_independent_computation_on_the_same_arrivals(rate, window, limit, seed):
    le = {**STAFF, "review_hours": REVIEW, "drafting_hours": DRAFT, "approval_median_days": 0.0,
          "backlog_limit_days": limit}
    model, s = run(scenario(days=700, warmup=100, window=window, reports_per_day=rate, seed=seed, law_enforcement=le))
    arrivals = model.timeseries()["reports_filed"].to_numpy()[1:].astype(np.int64)   # row 0 is day 0
    exact = independent_fifo_agency(arrivals, review=REVIEW, draft=DRAFT, budget=BUDGET, window=window,
                                    backlog_limit=limit, first_counted=101, last_counted=700)
    print(f"rate {rate}: model lost {s['evidence_lost_us']:,} served {s['legal_process_served_us']:,} "
          f"closed {s['closed_unworked_us']:,}; independent {exact}")
    assert s["evidence_lost_us"] > 500 and s["legal_process_served_us"] > 1000   # congested, not hopeless
    assert s["evidence_lost_us"] > s["closed_unworked_us"]                       # some served after the deadline
    assert (s["evidence_lost_us"], s["legal_process_served_us"], s["closed_unworked_us"]) == (
        exact["lost"], exact["served"], exact["closed"])


@pytest.mark.parametrize(("rate", "capacity", "window", "seeds"), [
    (4.0, 5, 2, (11,)),            # load 0.8
    (9.5, 10, 3, (21, 22, 23)),    # load 0.95: slower mixing, so three runs
], ids=["load-0.8", "load-0.95"])
def test_one_fifo_stage_matches_the_markov_chain(rate, capacity, window, seeds):
    le = {**STAFF, "review_hours": BUDGET / capacity, "drafting_hours": 0.0, "approval_median_days": 0.0}
    lost_days, served_days = [], []
    for seed in seeds:
        model, _ = run(scenario(days=5000, warmup=200, window=window, reports_per_day=rate, seed=seed,
                                law_enforcement=le))
        daily = model.timeseries()
        first = 200 + window + 1   # from here on, every loss and service is of a counted report
        lost_days.append(daily["lost_today"].to_numpy()[first:5000])
        served_days.append(daily["served_today"].to_numpy()[first:5000])
    batches = [batch_ratio(lost, served, 20) for lost, served in zip(lost_days, served_days, strict=True)]
    lost = np.concatenate(lost_days)
    served = np.concatenate(served_days)
    observed = lost.sum() / (lost.sum() + served.sum())
    se = float(np.sqrt(sum(s ** 2 for _, s in batches)) / len(batches))
    expected = stationary_loss(rate, capacity, window - 1)   # served the day after the review
    print(f"load {rate / capacity:.2f}: model {observed:.4f} +- {se:.4f}, Markov chain {expected:.4f}, "
          f"z = {(observed - expected) / se:+.2f}")
    assert abs(observed - expected) < 4 * se
    assert se < 0.35 * expected   # the check has teeth


def test_the_markov_chain_oracle_on_cases_with_known_answers():
    """An empty queue loses nothing for a long window; more load means more loss."""
    assert stationary_loss(0.01, 1000, 1) == pytest.approx(0.0, abs=1e-12)
    assert 0 < stationary_loss(2.0, 3, 1) < stationary_loss(2.8, 3, 1) < 1
    assert stationary_loss(0.2, 1, 1) < 0.2


def test_the_independent_agency_on_a_case_worked_by_hand():
    """Two cases on day 1, one on day 2; 4.5 hours a day; review 1.5, drafting 3: by hand, day 1 reviews
    both (3 h; the third would not fit), day 2 drafts the first (3 h) and reviews the third (1.5 h), day 3
    drafts the second, day 4 the third. With a 2-day window the second case (served on day 3) is in time
    and the third (created day 2, served day 4) is in time too; a 1-day window loses both."""
    arrivals = np.array([2, 1, 0, 0, 0])
    two = independent_fifo_agency(arrivals, review=1.5, draft=3.0, budget=4.5, window=2, backlog_limit=99,
                                  first_counted=1, last_counted=2)
    one = independent_fifo_agency(arrivals, review=1.5, draft=3.0, budget=4.5, window=1, backlog_limit=99,
                                  first_counted=1, last_counted=2)
    assert two == {"lost": 0, "served": 3, "closed": 0}
    assert one == {"lost": 2, "served": 1, "closed": 0}
