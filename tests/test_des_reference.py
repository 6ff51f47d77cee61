"""The SimPy discrete-event reference (benchmarks/des_reference.py) agrees with the ABM on a small pipeline.

Independent replications of both, at 100 reports/day for a year with a surge: their evidence-lost rates
must agree by a pooled two-sample t-test at the 1% level. The check has teeth: it resolves differences of
about a percentage point, and it rejects a DES whose referrals take four days longer. About 10 s.
"""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("simpy", reason="the DES reference needs simpy")

from benchmarks.des_vs_abm import Pipeline, compare_rates, run_abm, run_des

SMALL = Pipeline(reports_per_day=100, days=365)


def test_des_and_abm_agree_on_the_lost_rate():
    abm = [run_abm(SMALL, seed)["lost_rate"] for seed in range(1, 9)]
    des = [run_des(SMALL, seed)["lost_rate"] for seed in range(101, 104)]
    same = compare_rates(abm, des)
    print(f"ABM {same['abm_mean']:.4f} +- {same['abm_se']:.4f}, DES {same['des_mean']:.4f} +- {same['des_se']:.4f}, "
          f"t = {same['t']:+.2f} (critical {same['critical_t']:.2f})")
    assert same["agree"]
    assert same["se_difference"] < 0.003  # resolves about one percentage point

    slower = dataclasses.replace(SMALL, referral_delay_days=SMALL.referral_delay_days + 4)
    late = compare_rates(abm, [run_des(slower, seed)["lost_rate"] for seed in range(101, 103)])
    assert not late["agree"] and late["des_mean"] > late["abm_mean"]
