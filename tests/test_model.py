"""Behaviour of the whole pipeline: conservation, determinism, cohorts, and monotone responses to policy."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import RetentionModel, Scenario, run
from model.agency import Agency
from model.cases import Step
from model.model import DAILY_SERIES, PIPELINE
from model.outcomes import STAGE_NAMES, TERMINAL_STATES, US

UNLIMITED = ["ncmec.analysts=100000", "law_enforcement.investigators=10000000",
             "foreign.investigators=10000000", "downstream.forensic_exams_per_day=1000000"]


def conserved(model: RetentionModel, summary: dict) -> bool:
    """Every counted report is in exactly one terminal state or undecided."""
    states = model.outcomes.terminal_counts(model.day)
    return set(states) == set(TERMINAL_STATES) and summary["reports"] == sum(states.values()) + summary["undecided"]


def test_default_model_runs_with_no_arguments():
    model = RetentionModel()
    model.run_for(5)
    assert model.day == 5 and model.time == 5


def test_a_shipped_scenario_and_dotted_overrides_as_keywords():
    model = RetentionModel("x_platform", **{"retention.window_days": 365, "law_enforcement.investigators": 200})
    assert model.params.name == "x_platform"
    assert model.params.retention.window_days == 365 and model.params.law_enforcement.investigators == 200


def test_the_day_is_the_pipeline_stages_in_order():
    assert PIPELINE[0].__name__ == "Platform" and PIPELINE[-1].__name__ == "ForensicLab"
    model = RetentionModel("x_platform", **{"run.days": 3, "run.warmup_days": 0})
    assert all(isinstance(a, PIPELINE) for a in model.agents)   # a compiled stage subclasses its stage
    assert [stage for stage, _ in model.stages] == list(PIPELINE)
    assert all(len(agents) for _, agents in model.stages)
    assert len(model.agents_by_type[Agency]) == len(model.params.agencies)


@pytest.mark.parametrize("overrides", [
    [],
    ["ncmec.bundling=true"],
    ["ncmec.triage_policy=fifo", "law_enforcement.priority_policy=deadline_first"],
    ["ncmec.triage_policy=quality_first", "law_enforcement.priority_policy=quality_first"],
    ["ncmec.triage_policy=deadline_first", "retention.preservation_request_timing=review"],
    ["ncmec.analysts=1", "law_enforcement.investigators=5"],          # heavily overloaded
    ["law_enforcement.priority_threshold=0.3", "law_enforcement.expired_case_policy=close"],
    ["retention.window_days=365", "retention.voluntary_extra_days=30", "platforms.X.voluntary_retention_days=60"],
    ["demand.surges=[{start_day=60, duration_days=20, multiplier=3.0, viral_share=1.0}]"],
    ["run.warmup_days=0"],
])
def test_conservation_holds_exactly(small, overrides):
    model, summary = run(small(*overrides))
    assert summary["reports"] > 0
    assert conserved(model, summary)
    assert summary["undecided"] == 0
    assert summary["referred_us"] + summary["referred_foreign"] + summary["informational"] <= summary["reports"]
    assert summary["legal_process_needed"] == summary["legal_process_served"] + summary["evidence_lost"]


@pytest.mark.parametrize("wait", ["foreign.mlat_sigma", "law_enforcement.warrant_approval_sigma",
                                  "law_enforcement.approval_sigma", "platforms.X.response_sigma"])
def test_a_wait_with_the_longest_allowed_tail_is_long_not_negative(small, wait):
    """A sigma of 5 draws waits of a median times e^30 and more: longer than any run, never wrapped round to a
    negative (or one-day) wait."""
    from model.draws import MAX_DELAY_DAYS, lognormal_days

    days = lognormal_days(240.0, 5.0, np.array([0.0, 6.0, 7.5], np.float32))
    assert days.tolist() == [240, MAX_DELAY_DAYS, MAX_DELAY_DAYS]
    model, summary = run(small(f"{wait}=5"))
    assert conserved(model, summary) and summary["undecided"] == 0


def test_where_evidence_was_lost_adds_up(small):
    _, s = run(small("law_enforcement.investigators=20"))
    assert sum(s[f"evidence_lost_at_{stage}"] for stage in STAGE_NAMES) == s["evidence_lost"]
    assert sum(s[f"evidence_lost_us_at_{stage}"] for stage in STAGE_NAMES) == s["evidence_lost_us"]
    assert s["evidence_lost_us_at_mlat"] == 0 and s["evidence_lost_at_mlat"] == s["evidence_lost_foreign"]


def test_the_headline_is_the_us_rate_and_pooling_is_only_for_scripts(small):
    _, s = run(small())
    keys = list(s)
    assert keys.index("evidence_lost_rate_us") < keys.index("evidence_lost_rate_foreign") < keys.index("evidence_lost_rate")
    assert s["evidence_lost_rate_us"] == pytest.approx(
        s["evidence_lost_us"] / (s["evidence_lost_us"] + s["legal_process_served_us"]))


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
    """Common random numbers: arrivals, routing and case facts do not depend on window, staffing or order."""
    base = run(small())[1]
    for change in (["retention.window_days=365"], ["law_enforcement.investigators=200"],
                   ["ncmec.triage_policy=fifo"], ["law_enforcement.wilson_share=1.0"],
                   ["law_enforcement.priority_policy=quality_first"], ["law_enforcement.backlog_limit_days=30"]):
        other = run(small(*change))[1]
        for key in ("reports", "referred_us", "referred_foreign", "legal_process_needed", "legal_process_needed_us"):
            assert other[key] == base[key], (change, key)


@pytest.mark.parametrize(("short", "long"), [(30, 90), (90, 180), (90, 365), (365, 730)])
def test_a_longer_window_never_loses_more_evidence(small, short, long):
    """The window changes no one's workload (expired cases go on), so on the same draws it can only help."""
    lost_short = run(small(f"retention.window_days={short}", "law_enforcement.investigators=30"))[1]
    lost_long = run(small(f"retention.window_days={long}", "law_enforcement.investigators=30"))[1]
    assert lost_long["evidence_lost_us"] <= lost_short["evidence_lost_us"]
    assert lost_long["evidence_lost"] <= lost_short["evidence_lost"]


def test_the_one_year_window_loses_clearly_less_than_90_days(small):
    rate_90 = run(small("retention.window_days=90"))[1]["evidence_lost_rate_us"]
    rate_365 = run(small("retention.window_days=365"))[1]["evidence_lost_rate_us"]
    assert rate_365 < 0.5 * rate_90


def test_unlimited_staff_leaves_no_queue_and_loses_only_to_waits_outside_investigators_hands(small):
    model, s = run(small(*UNLIMITED))
    daily = model.timeseries()
    assert daily["ncmec_backlog"].max() == 0 and daily["agency_backlog"].max() == 0
    assert s["closed_unworked"] == 0
    assert s["evidence_lost_us"] == s["evidence_lost_us_at_identification"] + s["evidence_lost_us_at_drafting"] \
        + s["evidence_lost_us_at_warrant"]


def test_an_overloaded_agency_closes_referrals_so_backlog_and_memory_stay_bounded(small):
    model, s = run(small("law_enforcement.investigators=4", "run.days=400"))
    daily = model.timeseries()
    assert s["closed_unworked_us"] > 0.5 * s["referred_us"]
    assert s["undecided"] == 0
    limit = model.params.law_enforcement.backlog_limit_days
    referrals_a_day = s["referred_us"] / (400 - 30)
    assert daily["agency_backlog"].max() < 1.2 * limit * referrals_a_day   # not more than the limit's worth
    assert model.store.in_flight < 0.25 * s["reports"]


def test_overloaded_analysts_pass_reports_on_unreviewed_so_ncmec_backlog_and_memory_stay_bounded(small):
    model, s = run(small("ncmec.analysts=1", "ncmec.reports_per_analyst_day=5", "run.days=400"))
    daily = model.timeseries()
    limit = model.params.ncmec.backlog_limit_days
    assert s["ncmec_unreviewed"] > 0.3 * s["reports"]
    assert s["undecided"] == 0
    assert daily["ncmec_mean_wait_days"].max() <= limit + 1
    assert daily["ncmec_backlog"].max() < 1.2 * (limit + 1) * daily["reports_filed"].mean()
    assert s["referred_us"] > 0   # passed on unreviewed, referrals still reach the agencies


def test_only_cases_count_as_waiting_for_legal_process_while_reports_queue_at_ncmec():
    """Store rows are reused: an informational report waiting at NCMEC must not look like a case through a column
    written for the row's earlier occupant (it used to, and so was counted among the censored cases)."""
    model = RetentionModel("x_platform", **{"ncmec.analysts": 1, "ncmec.reports_per_analyst_day": 100,
                                            "run.days": 300, "run.warmup_days": 30})
    model.run_for(250)
    waiting, store = model.waiting_cases(), model.store
    assert len(model.ncmec.queue) > 10_000 and len(waiting) > 0
    assert (store.quality[waiting] < 1).all()


def test_without_a_backlog_limit_an_overloaded_run_ends_at_the_drain_cap_with_undecided_reports(small):
    _, s = run(small("law_enforcement.investigators=4", "law_enforcement.backlog_limit_days=3650",
                     "run.drain_max_days=30"))
    assert s["drain_days"] == 30 and s["undecided"] > 0


def test_the_drain_follows_counted_reports_until_decided(small):
    model, s = run(small("retention.window_days=365"))
    assert s["drain_days"] > 0 and s["undecided"] == 0
    assert model.day == model.params.run.days + s["drain_days"]
    assert s["days"] == model.params.run.days


def test_urgent_first_serves_urgent_reports_before_others():
    scenario = Scenario.model_validate({
        "run": {"days": 3, "warmup_days": 0},
        "platforms": [{"name": "P", "reports_per_day": 2000.0, "urgent_share": 0.05, "known_content_share": 0.0}],
        "ncmec": {"analysts": 1, "reports_per_analyst_day": 200.0, "triage_policy": "urgent_first"},
    })
    model = RetentionModel(scenario)
    model.step()
    waiting = model.ncmec.queue.rows
    assert 1500 < len(waiting) < 1900                # 200 of about 2,000 were triaged
    assert not model.store.urgent[waiting].any()     # and the about 100 urgent ones were among them


def test_cases_in_progress_come_before_new_referrals_at_an_agency(small):
    model = RetentionModel(small("law_enforcement.investigators=10"))
    for _ in range(60):
        model.step()
    queue = model.casework.queue
    for agency in model.agencies:
        steps = model.store.step[agency.waiting()]
        if (steps == Step.REVIEW).any() and (steps != Step.REVIEW).any():
            first_review = int(np.argmax(steps == Step.REVIEW))
            urgent = model.store.urgent[agency.waiting()]
            assert (steps[first_review:][~urgent[first_review:]] == Step.REVIEW).all()
    assert len(queue) == sum(a.work_waiting for a in model.agencies)


def test_bundling_turns_viral_copies_into_informational_reports(small):
    off = run(small("ncmec.bundling=false"))[1]
    on = run(small("ncmec.bundling=true"))[1]
    assert on["reports"] == off["reports"]
    assert on["informational"] > off["informational"]
    assert on["closed_not_actionable"] < off["closed_not_actionable"]


def test_a_surge_adds_reports_only_during_the_surge(small):
    plain = run(small())[0].timeseries().set_index("day")["reports_filed"]
    surge = run(small("demand.surges=[{start_day=100, duration_days=10, multiplier=3.0}]"))[0].timeseries()
    surge = surge.set_index("day")["reports_filed"]
    assert surge.loc[100:109].mean() > 2.5 * plain.loc[100:109].mean()
    assert surge.loc[:99].equals(plain.loc[:99])


def test_daily_series_has_the_documented_columns(small):
    model, s = run(small())
    daily = model.timeseries()
    assert list(daily.columns) == list(DAILY_SERIES)
    assert len(daily) == 1 + 240 + s["drain_days"]  # day 0, the run and the drain
    assert daily["evidence_lost"].is_monotonic_increasing
    assert daily["lost_today"].sum() == daily["evidence_lost"].iloc[-1]
    agencies = model.datacollector.get_agenttype_vars_dataframe(Agency)
    assert set(agencies.columns) >= {"backlog", "utilisation"}


def test_a_run_without_the_daily_series_has_the_same_summary_and_says_it_kept_no_series(small):
    scenario = small()
    _, with_series = run(scenario)
    model, without = run(scenario, daily_series=False)
    with_series.pop("wall_seconds"), without.pop("wall_seconds")
    assert json.dumps(without) == json.dumps(with_series)
    with pytest.raises(RuntimeError, match="daily_series=False"):
        model.timeseries()
    with pytest.raises(RuntimeError, match="daily_series=False"):   # Mesa's own readers too, not an empty table
        model.datacollector.get_agenttype_vars_dataframe(Agency)


def test_a_sweep_run_keeps_no_daily_series(small):
    from model.sweeps.runs import _default_simulate
    model, _ = _default_simulate(small(), 1)
    assert model.daily_series is False


def test_flows_cover_every_counted_report(small):
    model, s = run(small())
    flows = model.flows()
    into_ncmec = sum(n for a, b, n in flows if b == "NCMEC")
    assert into_ncmec == s["reports"]
    needed_us = sum(n for a, b, n in flows if a == "US: platform legal process needed")
    assert needed_us == s["legal_process_needed_us"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), windows=st.lists(st.integers(20, 500), min_size=2, max_size=2, unique=True),
       investigators=st.integers(5, 60))
def test_property_conservation_and_window_monotonicity(small, seed, windows, investigators):
    short, long = sorted(windows)
    base = ["run.days=150", f"law_enforcement.investigators={investigators}"]
    m_short, s_short = run(small(f"retention.window_days={short}", *base), seed=seed)
    m_long, s_long = run(small(f"retention.window_days={long}", *base), seed=seed)
    assert conserved(m_short, s_short) and conserved(m_long, s_long)
    assert s_long["evidence_lost"] <= s_short["evidence_lost"]
    assert s_short["reports"] == s_long["reports"]


def test_time_to_legal_process_does_not_depend_on_the_window(small):
    """The window changes no workload, so the days to legal process must not change either: cases still
    waiting when a shorter window's run stops draining are censored (Kaplan-Meier), not dropped."""
    s90 = run(small("retention.window_days=90"))[1]
    s365 = run(small("retention.window_days=365"))[1]
    assert s90["drain_days"] < s365["drain_days"]
    for key in ("median_days_to_legal_process_us", "p90_days_to_legal_process_us", "p90_days_to_legal_process"):
        assert s90[key] == s365[key], key


def test_routing_sends_a_location_at_or_above_an_edge_to_the_next_agency():
    """Routing compares float32 location uniforms with float32 edges; it must agree with exact comparisons,
    also at the edges themselves and their float32 neighbours."""
    routing = RetentionModel("national").platforms[0].routing
    edges = np.float32(routing.bounds)
    location = np.concatenate([np.random.default_rng(7).random(200_000, dtype=np.float32), edges,
                               np.nextafter(edges, np.float32(0)), np.nextafter(edges, np.float32(1))])
    exact_band = (location.astype(np.float64)[None, :] >= routing.bounds[:, None]).sum(axis=0)
    assert np.array_equal(routing.agency(location), routing.agencies[exact_band])


@pytest.mark.parametrize("name", ["national", "x_platform", "baseline_90day"])
def test_a_location_is_us_exactly_when_its_agency_is(name):
    """The one-comparison test for a US route (the compiled platforms' waits) agrees with the routing table."""
    for platform in RetentionModel(name).platforms:
        routing = platform.routing
        edges = routing.edges32
        location = np.concatenate([np.random.default_rng(8).random(100_000, dtype=np.float32), edges,
                                   np.nextafter(edges, np.float32(0)), np.nextafter(edges, np.float32(1))])
        assert np.array_equal(routing.is_us(location), routing.route[routing.agency(location)] == US)


def test_decided_series_count_outcomes_already_fixed_and_end_at_the_summary(small):
    model = RetentionModel(small("retention.window_days=365"))
    while model.running:
        model.step()
        out, tally = model.outcomes, model.outcomes.tally()
        served, lost = out.served_decided(model.day), out.lost_decided(model.day).sum(axis=1)
        assert (tally.served_decided, tally.served_us_decided) == (served.sum(), served[US])
        assert (tally.lost_decided, tally.lost_us_decided) == (lost.sum(), lost[US])
        assert (tally.served, tally.served_us, tally.lost, tally.lost_us, tally.closed_unworked) == (
            out.served.sum(), out.served[US], out.lost.sum(), out.lost[US].sum(), out.closed_unworked.sum())
    last, summary = model.timeseries().iloc[-1], model.summary()
    for key in ("legal_process_served", "evidence_lost", "legal_process_served_us", "evidence_lost_us"):
        assert last[f"{key}_decided"] == summary[key], key
        assert last[key] <= summary[key], key
