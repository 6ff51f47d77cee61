"""Behaviour of the whole pipeline: conservation, determinism, and monotone responses to policy."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import RetentionModel, Scenario, run
from model.model import DAILY_SERIES
from model.outcomes import TERMINAL_STATES

UNLIMITED = ["ncmec.analysts=100000", "law_enforcement.investigators=10000000",
             "foreign.investigators=10000000", "downstream.forensic_exams_per_day=1000000"]


def conserved(summary: dict) -> bool:
    """Every counted report is in exactly one terminal state or pending."""
    return summary["reports"] == sum(summary[k] for k in TERMINAL_STATES) + summary["pending"]


def test_default_model_runs_with_no_arguments():
    model = RetentionModel()
    model.run_for(5)
    assert model.day == 5 and model.time == 5


@pytest.mark.parametrize("overrides", [
    [],
    ["ncmec.bundling=true"],
    ["ncmec.triage_policy=fifo", "law_enforcement.priority_policy=deadline_first"],
    ["ncmec.triage_policy=quality_first", "law_enforcement.priority_policy=quality_first"],
    ["ncmec.analysts=1", "law_enforcement.investigators=5"],          # heavily overloaded
    ["retention.window_days=365", "retention.voluntary_extra_days=30"],
    ["demand.surges=[{start_day=60, duration_days=20, multiplier=3.0, viral_share=1.0}]"],
    ["run.warmup_days=0"],
])
def test_conservation_holds_exactly(small, overrides):
    _, summary = run(small(*overrides))
    assert summary["reports"] > 0
    assert conserved(summary)
    assert summary["referred_us"] + summary["referred_foreign"] + summary["informational"] <= summary["reports"]
    assert summary["legal_process_needed"] >= summary["legal_process_served"] + summary["evidence_lost"]


def test_same_seed_gives_identical_results_and_series(small):
    scenario = small()
    m1, s1 = run(scenario)
    m2, s2 = run(scenario)
    s1.pop("wall_seconds"), s2.pop("wall_seconds")
    assert json.dumps(s1) == json.dumps(s2)
    assert m1.timeseries().equals(m2.timeseries())


def test_different_seeds_give_different_results(small):
    assert run(small(), seed=1)[1]["reports"] != run(small(), seed=2)[1]["reports"]


def test_policy_changes_see_the_same_reports(small):
    """Common random numbers: arrivals and routing do not depend on window or staffing."""
    base = run(small())[1]
    for change in (["retention.window_days=365"], ["law_enforcement.investigators=200"],
                   ["ncmec.triage_policy=fifo"], ["law_enforcement.wilson_share=1.0"]):
        other = run(small(*change))[1]
        for key in ("reports", "referred_us", "referred_foreign", "legal_process_needed"):
            assert other[key] == base[key], (change, key)


@pytest.mark.parametrize(("short", "long"), [(30, 90), (90, 180), (90, 365), (365, 730)])
def test_a_longer_window_never_loses_more_evidence(small, short, long):
    lost_short = run(small(f"retention.window_days={short}"))[1]["evidence_lost"]
    lost_long = run(small(f"retention.window_days={long}"))[1]["evidence_lost"]
    assert lost_long <= lost_short


def test_the_one_year_window_loses_clearly_less_than_90_days(small):
    rate_90 = run(small("retention.window_days=90"))[1]["evidence_lost_rate"]
    rate_365 = run(small("retention.window_days=365"))[1]["evidence_lost_rate"]
    assert rate_365 < 0.5 * rate_90


def test_unlimited_staff_loses_no_more_than_limited_staff(small):
    # Without 2703(f) requests a report's deadline is fixed, so earlier intake can only help.
    limited = run(small("retention.preservation_request_share=0", "law_enforcement.investigators=20"))[1]
    unlimited = run(small("retention.preservation_request_share=0", *UNLIMITED))[1]
    assert unlimited["evidence_lost"] <= limited["evidence_lost"]
    assert unlimited["evidence_lost"] < limited["evidence_lost"]  # the limit binds in this scenario


def test_unlimited_staff_leaves_no_queue(small):
    model, _ = run(small(*UNLIMITED))
    daily = model.timeseries()
    assert daily["ncmec_backlog"].max() == 0 and daily["agency_backlog"].max() == 0


def test_preservation_requests_reduce_losses(small):
    without = run(small("retention.preservation_request_share=0"))[1]["evidence_lost"]
    every = run(small("retention.preservation_request_share=1"))[1]["evidence_lost"]
    assert every < without


def test_wilson_warrants_delay_legal_process(small):
    none = run(small("law_enforcement.wilson_share=0", "platforms.X.automated_share=1", *UNLIMITED))[1]
    every = run(small("law_enforcement.wilson_share=1", "platforms.X.automated_share=1", *UNLIMITED))[1]
    assert every["median_days_to_legal_process"] > none["median_days_to_legal_process"]
    assert every["evidence_lost"] >= none["evidence_lost"]


def test_bundling_turns_viral_copies_into_informational_reports(small):
    off = run(small("ncmec.bundling=false"))[1]
    on = run(small("ncmec.bundling=true"))[1]
    assert on["reports"] == off["reports"]
    assert on["informational"] > off["informational"]
    assert on["closed_not_actionable"] < off["closed_not_actionable"]


def test_a_surge_adds_reports_only_during_the_surge(small):
    plain = run(small())[0].timeseries()
    surge = run(small("demand.surges=[{start_day=100, duration_days=10, multiplier=3.0}]"))[0].timeseries()
    during = surge["day"].between(100, 109)
    assert surge.loc[during, "reports_filed"].mean() > 2.5 * plain.loc[during, "reports_filed"].mean()
    assert surge.loc[surge["day"] < 100, "reports_filed"].equals(plain.loc[plain["day"] < 100, "reports_filed"])


def test_urgent_first_serves_urgent_reports_before_others():
    scenario = Scenario.model_validate({
        "run": {"days": 3, "warmup_days": 0},
        "platforms": [{"name": "P", "reports_per_day": 2000, "urgent_share": 0.05, "known_content_share": 0}],
        "ncmec": {"analysts": 1, "reports_per_analyst_day": 200, "triage_policy": "urgent_first"},
    })
    model = RetentionModel(scenario)
    model.step()
    waiting = model.ncmec_queue.rows
    assert 1500 < len(waiting) < 1900                # 200 of about 2,000 were triaged
    assert not model.store.urgent[waiting].any()   # and the about 100 urgent ones were among them


def test_memory_follows_reports_in_flight(small):
    model, summary = run(small("run.days=400", *UNLIMITED))
    assert model.store.in_flight < summary["reports"] / 5


def test_daily_series_has_the_documented_columns(small):
    model, _ = run(small())
    daily = model.timeseries()
    assert list(daily.columns) == list(DAILY_SERIES)
    assert len(daily) == 241  # day 0 and 240 days
    assert daily["evidence_lost"].is_monotonic_increasing
    agencies = model.datacollector.get_agenttype_vars_dataframe(type(model.agencies[0]))
    assert set(agencies.columns) >= {"backlog", "utilisation"}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), windows=st.lists(st.integers(20, 500), min_size=2, max_size=2, unique=True),
       investigators=st.integers(5, 60))
def test_property_conservation_and_window_monotonicity(small, seed, windows, investigators):
    short, long = sorted(windows)
    base = ["run.days=150", f"law_enforcement.investigators={investigators}"]
    s_short = run(small(f"retention.window_days={short}", *base), seed=seed)[1]
    s_long = run(small(f"retention.window_days={long}", *base), seed=seed)[1]
    assert conserved(s_short) and conserved(s_long)
    assert s_long["evidence_lost"] <= s_short["evidence_lost"]
    assert np.isclose(s_short["reports"], s_long["reports"])
