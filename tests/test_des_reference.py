"""The SimPy discrete-event reference (benchmarks/des_reference.py) and the ABM implement the same pipeline.

Two kinds of check:

* **Exact day-level conventions** (no queueing, a fixed approval wait): with ample staff a report filed
  on day c is triaged on day c, reaches the agency on c + delay, is reviewed that day, drafted the next
  and served after the approval wait, so service is on day c + delay + 1 + A. Legal process served on the
  deadline day (c + window) is in time, a day later is lost. Both models must put every report on the
  same side of that boundary, and the DES's daily budgets must follow their stated rules exactly.
* **Agreement in distribution under load** (NCMEC load 0.85, agency load 0.9, a x1.4 surge on days
  120-179, lognormal approval): independent replications at 100 reports a day for 200 days (5 of the ABM,
  3 of the DES, about 4 s). Under the hypothesis that both simulate the same stochastic model, the
  difference of the mean US lost rates divided by its pooled standard error is t-distributed with 6
  degrees of freedom; |t| > 4 has probability 0.7% (two-sided), so a tolerance of 4 combined standard
  errors makes a spurious failure unlikely (the seeds are fixed, so the test is deterministic; the 0.7%
  is the risk when the seeds or the model's random streams change). One run's lost rate has a standard
  deviation of about 0.003 here, so 4 SE is about 1 percentage point: enough to catch a wrong mechanism
  (an ABM whose referrals take 5 more days, +1.6 points, is rejected below) but not a single day's shift
  (+0.3 points), which the exact check catches instead.
"""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("simpy", reason="the DES reference needs simpy")

import simpy

from benchmarks.des_reference import CASES, REFERRALS, DailyBudget
from benchmarks.des_vs_abm import Pipeline, compare_rates, run_abm, run_des

SMALL = Pipeline(reports_per_day=100, days=200)
#: Ample staff (queues never form), no surge, a fixed approval wait: every report takes the same days.
AMPLE = Pipeline(reports_per_day=100, days=60, warmup_days=10, window_days=20, ncmec_load=0.01, agency_load=0.01,
                 surge_days=0, approval_sigma=0.0)
TOLERANCE_SE = 4.0


def test_des_and_abm_agree_on_the_lost_rate():
    abm = [run_abm(SMALL, seed)["lost_rate"] for seed in range(1, 6)]
    des = [run_des(SMALL, seed)["lost_rate"] for seed in range(101, 104)]
    same = compare_rates(abm, des)
    print(f"ABM {same['abm_mean']:.4f} +- {same['abm_se']:.4f}, DES {same['des_mean']:.4f} +- {same['des_se']:.4f}, "
          f"t = {same['t']:+.2f}")
    assert 0.1 < same["des_mean"] < 0.25  # queues and approval waits matter, yet most reports are served
    assert abs(same["t"]) <= TOLERANCE_SE
    assert same["se_difference"] < 0.004  # 4 SE resolve about a percentage point

    slower = dataclasses.replace(SMALL, referral_delay_days=SMALL.referral_delay_days + 5)
    late = compare_rates([run_abm(slower, seed)["lost_rate"] for seed in range(1, 3)], des)
    assert late["t"] > TOLERANCE_SE


@pytest.mark.parametrize("delay", [0, 1, 3])
def test_service_on_the_deadline_day_is_in_time_and_a_day_later_is_lost(delay):
    last_in_time = AMPLE.window_days - delay - 1  # approval days that put service on the deadline day
    for approval, served in ((last_in_time, True), (last_in_time + 1, False)):
        p = dataclasses.replace(AMPLE, referral_delay_days=delay, approval_median_days=float(approval))
        for result in (run_des(p, 7), run_abm(p, 7)):
            assert result["undecided"] == 0 and result["counted"] > 0
            assert result["served" if served else "lost"] == result["counted"]  # every counted report, one way
            assert result["lost_rate"] == (0.0 if served else 1.0)
            assert result["median_days_to_legal_process"] == result["p90_days_to_legal_process"] == delay + 1 + approval


def test_des_with_ample_staff_and_no_approval_wait_loses_nothing():
    result = run_des(dataclasses.replace(AMPLE, approval_median_days=0.0, approval_sigma=1.0), 3)
    assert result["lost"] == 0 and result["served"] == result["counted"] > 0
    assert result["median_days_to_legal_process"] == AMPLE.referral_delay_days + 1


def test_des_counts_only_reports_after_the_warm_up_and_follows_each_to_its_outcome():
    result = run_des(dataclasses.replace(AMPLE, approval_median_days=200.0, approval_sigma=0.0), 5)
    counted_share = (AMPLE.days - AMPLE.warmup_days) / (AMPLE.days + result["drain_days"])
    assert result["counted"] == pytest.approx(counted_share * result["reports"], rel=0.05)
    assert result["lost"] == result["counted"] and result["undecided"] == 0
    assert result["drain_days"] == AMPLE.referral_delay_days + 1  # decided once drafted, not when served


def test_daily_budget_works_a_prefix_in_priority_order_and_banks_hours_only_while_work_waits():
    env = simpy.Environment()
    desk = DailyBudget(env, per_day=10.0, levels=2)
    referrals = [desk.request(4.0, REFERRALS) for _ in range(3)]
    assert desk.open() == 8.0  # 4 + 4 fit in 10, the third does not: the 2 hours left carry over
    assert [e.triggered for e in referrals] == [True, True, False] and desk.credit == 2.0
    case = desk.request(9.0, CASES)  # opened cases come before waiting referrals
    assert desk.open() == 9.0  # 12 hours: the case (9), then the referral (4) does not fit in 3
    assert case.triggered and not referrals[2].triggered and desk.credit == 3.0
    assert desk.open() == 4.0 and referrals[2].triggered
    assert desk.credit == 0.0 and len(desk) == 0  # nothing waits: unused hours lapse
    assert desk.open() == 0.0 and desk.credit == 0.0
    big = desk.request(25.0, REFERRALS)  # longer than a day: done on the day the banked hours reach it
    assert (desk.open(), desk.open(), desk.credit) == (0.0, 0.0, 20.0)
    assert desk.open() == 25.0 and big.triggered and desk.credit == 0.0
