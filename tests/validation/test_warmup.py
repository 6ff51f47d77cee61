"""Validation 3: rates do not depend on the warm-up beyond Monte Carlo error once the queues have settled.

Queues fill for up to three times the agencies' backlog limit (120 days by default): US loss of `x_platform`'s
cohorts rises from 17% (created on days 121-300) and 25% (241-420) to a steady 27-27.5% from day 301 on
(docs/ODD.md, warm-up). The 180-day warm-up this model used before counted those early cohorts and
understated the steady loss by about a tenth. Counting a year after the default warm-up (365 days) must
agree with counting a year after 730 days within 4 standard errors; and the check must have teeth: a year
counted after 90 days, whose first cohorts meet queues still filling, must come out lower by more than 3
standard errors.

The settling check (model.settling) must tell these apart within each run: no run counted after 365 or 730
days is flagged, most runs counted after 90 days are (a fifth of X's volume gives it little power); and each
half's rate is exactly the rate of a run that counts only that half (outcomes do not depend on which reports
are counted).

The halves can agree while a queue is still filling (docs/ODD.md, "How much the check misses"): with a backlog
limit of 300 days the overloaded strata gain months of waiting a year, and their referrals lose more only as
their wait nears the platform's retention. The second check, the growth of each queue's longest wait over the
counted period, must flag such runs and pass them once the queues have filled.
"""

from __future__ import annotations

import math

import numpy as np

from model import load_scenario, run
from model.experiments import replication_seeds
from model.model import split_day
from model.settling import FILLING_DAYS, drift, filling

#: X at a fifth of its volume and staff (the congested strata stay congested), the 90-day rule.
BASE = ["platforms.X.reports_per_day=400", "law_enforcement.investigators=38", "foreign.investigators=240"]


def counted_year_after(warmup: int, root: int) -> list[dict]:
    """Summaries of a counted year after `warmup` days, for six independent seeds."""
    scenario = load_scenario("x_platform", [*BASE, f"run.warmup_days={warmup}", f"run.days={warmup + 365}"])
    return [run(scenario, seed=s)[1] for s in replication_seeds(root, 6)]


def us_rates(summaries: list[dict]) -> np.ndarray:
    return np.array([s["evidence_lost_rate_us"] for s in summaries])


def standard_error(a: np.ndarray, b: np.ndarray) -> float:
    return math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))


def test_the_rates_do_not_depend_on_the_warm_up_beyond_the_default_and_each_run_says_whether_it_settled():
    runs = {warmup: counted_year_after(warmup, root) for warmup, root in ((365, 11), (730, 12), (90, 13))}
    z = {warmup: [round(drift([s]).z, 1) for s in summaries] for warmup, summaries in runs.items()}
    print(f"settling check, standard errors between the halves, by warm-up: {z}")
    assert not any(drift([s]).unsettled for s in runs[365] + runs[730])
    # At a fifth of X's volume a year has about 2,600 US cases, a standard error of about 1.7 points between the
    # halves; after 90 days the halves are 4-8 of them apart: most runs are flagged, every one leans the right way.
    assert sum(drift([s]).unsettled for s in runs[90]) >= 4 and min(z[90]) > 3
    default, long, early = us_rates(runs[365]), us_rates(runs[730]), us_rates(runs[90])
    se = standard_error(default, long)
    print(f"US lost, a year counted after 90 days {early.mean():.4f}, after 365 {default.mean():.4f}, "
          f"after 730 {long.mean():.4f}; z(365 vs 730) = {(default.mean() - long.mean()) / se:+.2f}, "
          f"z(90 vs 730) = {(early.mean() - long.mean()) / standard_error(early, long):+.2f}")
    assert abs(default.mean() - long.mean()) < 4 * se
    assert long.mean() - early.mean() > 3 * standard_error(early, long)   # teeth: a transient shows


def test_each_halfs_rate_is_the_rate_of_a_run_that_counts_only_that_half():
    """Congested, with 2703(f) letters on receipt (deadlines move) and referrals closed unworked."""
    common = [*BASE, "law_enforcement.investigators=25", 'retention.preservation_request_timing="receipt"']
    whole = load_scenario("x_platform", [*common, "run.warmup_days=60", "run.days=300"])
    middle = split_day(60, 300)
    _, both = run(whole, seed=5)
    _, first = run(load_scenario("x_platform", [*common, "run.warmup_days=60", f"run.days={middle}"]), seed=5)
    _, second = run(load_scenario("x_platform", [*common, f"run.warmup_days={middle}", "run.days=300"]), seed=5)
    assert both["closed_unworked_us"] > 0 and both["evidence_lost_us"] > 0
    assert both["evidence_lost_rate_us_first_half"] == first["evidence_lost_rate_us"]
    assert both["evidence_lost_rate_us_second_half"] == second["evidence_lost_rate_us"]
    assert first["legal_process_needed_us"] + second["legal_process_needed_us"] == both["legal_process_needed_us"]


def test_a_queue_still_filling_is_flagged_where_the_halves_agree_and_passes_once_it_has_filled():
    def counted_year(warmup: int, root: int) -> list[dict]:
        scenario = load_scenario("x_platform", [*BASE, "law_enforcement.backlog_limit_days=300",
                                                f"run.warmup_days={warmup}", f"run.days={warmup + 365}"])
        return [run(scenario, seed=s)[1] for s in replication_seeds(root, 3)]

    filling_year, filled_year = counted_year(365, 21), counted_year(1460, 22)
    growth = {w: [s["longest_wait_growth_days"] for s in runs] for w, runs in ((365, filling_year), (1460, filled_year))}
    print(f"longest wait's growth over the counted year (days), by warm-up: {growth}")
    assert all(filling([s]).unsettled for s in filling_year) and min(growth[365]) > 4 * FILLING_DAYS
    assert not any(filling([s]).unsettled for s in filled_year)
    assert not any(drift([s]).unsettled for s in filling_year)   # the halves alone do not see it
    early, late = us_rates(filling_year), us_rates(filled_year)
    print(f"US lost after 365 days {early.mean():.4f}, after 1,460 {late.mean():.4f}")
    assert late.mean() - early.mean() > 3 * standard_error(early, late)   # and the loss was understated
