"""Validation 5: conservation exactly; monotone responses on common random numbers.

* Conservation: every counted report ends in exactly one terminal state or is undecided, and the
  per-route counts add up, in capacity-limited and unlimited runs alike.
* A longer window never loses more evidence on the same draws (exact, seed by seed): the window
  changes no one's workload (expired cases go on with other leads).
* More investigators never lose more US evidence on the same draws, seed by seed, over a grid from
  heavily overloaded to ample; more analysts likewise where NCMEC is the bottleneck. (Priority orders
  could in principle make a single seed move the other way; on these seeds none does, and the mean
  over seeds must fall by more than its noise.)
"""

from __future__ import annotations

import numpy as np
import pytest

from model import load_scenario, run
from model.experiments import replication_seeds
from model.outcomes import TERMINAL_STATES

#: X at 400 reports a day, overloaded analysts and investigators: many losses, in both stages.
LOADED = ["run.days=400", "run.warmup_days=30", "platforms.X.reports_per_day=400", "ncmec.analysts=1",
          "ncmec.reports_per_analyst_day=40", "law_enforcement.investigators=20", "foreign.investigators=240"]
SEEDS = replication_seeds(4, 3)


def scenario(*overrides: str):
    return load_scenario("x_platform", [*LOADED, *overrides])


@pytest.mark.parametrize("overrides", [
    [], ["retention.window_days=365"], ["ncmec.bundling=true", "law_enforcement.priority_policy=deadline_first"],
    ["ncmec.analysts=100000", "law_enforcement.investigators=10000000"],
])
def test_conservation_holds_exactly(overrides):
    for seed in SEEDS[:2]:
        model, s = run(scenario(*overrides), seed=seed)
        states = model.outcomes.terminal_counts(model.day)
        assert list(states) == list(TERMINAL_STATES)
        assert s["reports"] == sum(states.values()) + s["undecided"]
        assert s["evidence_lost"] == s["evidence_lost_us"] + s["evidence_lost_foreign"]
        assert s["legal_process_served"] == s["legal_process_served_us"] + s["legal_process_served_foreign"]
        assert s["legal_process_served"] + s["evidence_lost"] == s["legal_process_needed"]


def test_a_longer_window_never_loses_more_on_the_same_draws():
    for seed in SEEDS[:3]:
        lost = [run(scenario(f"retention.window_days={w}"), seed=seed)[1]["evidence_lost"] for w in (30, 90, 180, 365)]
        print(f"seed {seed}: lost by window 30/90/180/365 = {lost}")
        assert lost == sorted(lost, reverse=True)
        assert lost[0] > lost[-1]


@pytest.mark.parametrize(("key", "levels", "fixed"), [
    ("law_enforcement.investigators", (10, 20, 30, 50, 100), ["ncmec.analysts=2", "ncmec.reports_per_analyst_day=150"]),
    ("ncmec.analysts", (1, 2, 3), ["law_enforcement.investigators=100", "ncmec.reports_per_analyst_day=36"]),
], ids=["investigators", "analysts"])
def test_more_staff_never_loses_more_on_the_same_draws(key, levels, fixed):
    lost = np.array([[run(scenario(*fixed, f"{key}={n}"), seed=seed)[1]["evidence_lost_us"] for n in levels]
                     for seed in SEEDS])
    print(f"{key} {levels}:\n{lost}")
    assert (np.diff(lost, axis=1) <= 0).all()          # seed by seed
    change = lost[:, -1] - lost[:, 0]
    assert change.mean() + 4 * change.std(ddof=1) / np.sqrt(len(change)) < 0   # and it clearly helps
