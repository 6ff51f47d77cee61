"""Every lever a user can move acts: on a congested scenario, the outcome moves in the documented direction.

Each row of :data:`LEVERS` is one lever (a scenario key exposed on the CLI or the dashboard), the
congested scenario where it should matter, its two settings, the outcome and the direction
``docs/levers.md`` documents. Runs share seeds (common random numbers), so a difference is the lever's.
Where a lever cannot act in some regime, or reverses, the docs say so (e.g. ``deadline_first`` at an
overloaded agency that closes referrals by age).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from model import RetentionModel, load_scenario, run

#: X at a fifth of its volume: the agencies congested (the understaffed task forces overloaded).
AGENCIES = ["run.days=300", "run.warmup_days=60", "platforms.X.reports_per_day=400", "foreign.investigators=240",
            "law_enforcement.investigators=28"]
#: The same with NCMEC the bottleneck (one analyst at about 110% load) and ample investigators.
NCMEC = ["run.days=300", "run.warmup_days=60", "platforms.X.reports_per_day=400", "foreign.investigators=240",
         "law_enforcement.investigators=200", "ncmec.analysts=1", "ncmec.reports_per_analyst_day=33"]
#: Two platforms, one keeping data 120 days beyond the window, so deadlines differ.
TWO_PLATFORMS = ["platforms=[{name='A', reports_per_day=200.0, us_share=0.1}, "
                 "{name='B', reports_per_day=200.0, us_share=0.1, voluntary_retention_days=120}]"]
#: One task force near full load (waits of weeks, nothing closed), 30-day window, half the cases with 2703(f) letters.
NEAR_FULL = ["law_enforcement.investigators=16", "retention.window_days=30", "retention.preservation_request_share=0.5"]


@dataclass(frozen=True)
class Lever:
    key: str
    scenario: str
    base: tuple[str, ...]
    low: str
    high: str
    metric: str
    direction: str  # "down": the metric is lower at `high` than at `low`; "up": higher

    def value(self, setting: str) -> float:
        return run(load_scenario(self.scenario, [*self.base, f"{self.key}={setting}"]))[1][self.metric]


LEVERS = [
    Lever("retention.window_days", "x_platform", (*AGENCIES,), "90", "365", "evidence_lost_rate_us", "down"),
    Lever("retention.voluntary_extra_days", "x_platform", (*AGENCIES,), "0", "90", "evidence_lost_rate_us", "down"),
    Lever("platforms.X.voluntary_retention_days", "x_platform", (*AGENCIES,), "0", "90", "evidence_lost_rate_us", "down"),
    Lever("retention.preservation_request_share", "x_platform", (*AGENCIES,), "0.0", "0.8", "evidence_lost_rate_us",
          "down"),
    Lever("retention.preservation_request_timing", "x_platform", (*AGENCIES,), "review", "receipt",
          "evidence_lost_rate_us", "down"),
    Lever("law_enforcement.wilson_share", "x_platform", (*AGENCIES, "platforms.X.automated_share=0.6"), "0.0", "1.0",
          "evidence_lost_rate_us", "up"),
    Lever("platforms.X.automated_share", "x_platform", (*AGENCIES,), "0.1", "0.9", "evidence_lost_rate_us", "up"),
    Lever("law_enforcement.investigators", "x_platform", (*AGENCIES,), "20", "60", "evidence_lost_rate_us", "down"),
    Lever("law_enforcement.investigators", "x_platform", (*AGENCIES,), "20", "60", "investigations_us", "up"),
    Lever("law_enforcement.hours_per_investigator_year", "x_platform", (*AGENCIES,), "900.0", "1600.0",
          "evidence_lost_rate_us", "down"),
    Lever("ncmec.analysts", "x_platform", (*NCMEC,), "1", "2", "evidence_lost_rate_us", "down"),
    Lever("ncmec.triage_policy", "x_platform", (*NCMEC,), "fifo", "quality_first", "evidence_lost_rate_us", "down"),
    Lever("ncmec.triage_policy", "x_platform", (*NCMEC, *TWO_PLATFORMS), "fifo", "deadline_first",
          "evidence_lost_rate_us", "down"),
    Lever("law_enforcement.priority_policy", "x_platform", (*AGENCIES,), "fifo", "quality_first",
          "evidence_lost_rate_us", "down"),
    Lever("law_enforcement.priority_policy", "task_force", (*NEAR_FULL,), "fifo", "deadline_first",
          "evidence_lost_rate_us", "down"),
    Lever("ncmec.backlog_limit_days", "x_platform", (*NCMEC,), "90", "7", "evidence_lost_rate_us", "down"),
    Lever("ncmec.backlog_limit_days", "x_platform", (*NCMEC,), "90", "7", "ncmec_unreviewed", "up"),
    Lever("law_enforcement.backlog_limit_days", "x_platform", (*AGENCIES,), "180", "30", "evidence_lost_rate_us", "down"),
    Lever("law_enforcement.backlog_limit_days", "x_platform", (*AGENCIES,), "180", "30", "closed_unworked_us", "up"),
    Lever("law_enforcement.priority_threshold", "x_platform", (*AGENCIES,), "0.0", "0.4", "closed_unworked_us", "up"),
    Lever("law_enforcement.priority_threshold", "x_platform", (*AGENCIES,), "0.0", "0.4",
          "evidence_lost_us_at_agency_queue", "down"),
    Lever("law_enforcement.expired_case_policy", "x_platform", (*AGENCIES, "law_enforcement.follow_up_hours=20"),
          "continue", "close", "evidence_lost_rate_us", "down"),
    Lever("demand.scale", "x_platform", (*AGENCIES,), "1.0", "1.5", "evidence_lost_rate_us", "up"),
]


@pytest.mark.parametrize("lever", LEVERS, ids=[f"{lv.key}:{lv.low}->{lv.high}:{lv.metric}" for lv in LEVERS])
def test_the_lever_moves_the_outcome_in_the_documented_direction(lever):
    low, high = lever.value(lever.low), lever.value(lever.high)
    print(f"{lever.key} {lever.low} -> {lever.high}: {lever.metric} {low:.4g} -> {high:.4g}")
    if lever.direction == "down":
        assert high < low
    else:
        assert high > low
    assert abs(high - low) > 0.05 * max(abs(low), abs(high))   # a visible effect, not noise


@pytest.mark.parametrize(("stage", "policy_key"), [("ncmec", "ncmec.triage_policy"),
                                                    ("agency", "law_enforcement.priority_policy")])
def test_urgent_first_lets_no_urgent_report_wait_behind_others(stage, policy_key):
    """Urgent reports (a child in imminent danger) are few, so the rates cannot show it; the queues do."""
    base = (NCMEC if stage == "ncmec" else AGENCIES) + ["platforms.X.urgent_share=0.02"]
    waiting = {}
    for policy in ("fifo", "urgent_first"):
        model = RetentionModel(load_scenario("x_platform", [*base, f"{policy_key}={policy}"]))
        counts = []
        for _ in range(150):
            model.step()
            queue = model.ncmec.queue if stage == "ncmec" else model.casework.queue
            rows = queue.rows
            counts.append(int(model.store.urgent[rows].sum()))
        waiting[policy] = np.mean(counts)
    print(f"{stage}: urgent reports waiting at the end of a day, fifo {waiting['fifo']:.1f}, "
          f"urgent_first {waiting['urgent_first']:.1f}")
    assert waiting["fifo"] > 1 and waiting["urgent_first"] < 0.05 * waiting["fifo"]


@pytest.mark.parametrize(("key", "route"), [("law_enforcement.investigators", "us"), ("foreign.investigators", "foreign")])
def test_no_investigators_at_all_loses_every_case_that_needs_legal_process(key, route):
    """The end of the staffing lever: nobody works the referrals, so each is closed unworked at the backlog limit
    and its evidence is lost; the other route is untouched."""
    other = "foreign" if route == "us" else "us"
    base = [*AGENCIES[:4], "law_enforcement.investigators=200"]
    summary = run(load_scenario("x_platform", [*base, f"{key}=0"]))[1]
    assert summary[f"evidence_lost_rate_{route}"] == 1.0 and summary["undecided"] == 0
    assert summary[f"evidence_lost_rate_{other}"] == run(load_scenario("x_platform", base))[1][f"evidence_lost_rate_{other}"]
