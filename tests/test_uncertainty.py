"""The uncertainty study: the answer over the plausible assumptions, its drivers and the region where a
condition holds (``tipline uncertainty``, :mod:`model.uncertainty`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from model import load_scenario
from model.cli import main
from model.params import Scenario
from model.uncertainty import run_study, summarize
from model.uncertainty.assumptions import choose, settings
from model.uncertainty.cli import _print as show
from model.uncertainty.discovery import Condition, discover
from model.uncertainty.drivers import prcc

#: A small X scenario whose two rules differ: a fifth of X's reports and of its staff, 200 days.
SMALL = ["run.days=200", "run.warmup_days=30", "platforms.X.reports_per_day=400", "law_enforcement.investigators=40",
         "ncmec.analysts=1"]
THREE = ("law_enforcement.drafting_hours", "law_enforcement.review_hours", "downstream.exams_per_case")


def drafting_only(scenario: Scenario, seed: int) -> tuple[None, dict]:
    """A stand-in model whose US difference between the rules depends on drafting hours alone."""
    noise = np.random.default_rng(seed).normal(0, 0.001)
    drafting = scenario.law_enforcement.drafting_hours
    old_rule = scenario.retention.window_days == 90
    rate = 0.05 + (0.02 * drafting if old_rule else 0.0) + noise
    return None, {"evidence_lost_rate_us": rate, "evidence_lost_rate_foreign": 0.5 + noise}


# --- assumptions ---------------------------------------------------------------------------------------


def test_every_parameter_with_a_plausible_range_is_an_assumption_and_platforms_move_together():
    found = settings(load_scenario("national"))
    assert "law_enforcement.drafting_hours" in found and "retention.window_days" not in found
    platforms = found["platforms.*.automated_share"][1]
    assert [s.key for s in platforms] == [f"platforms.{i}.automated_share" for i in range(4)]
    x = next(s for s in platforms if s.value == 0.095)      # X's own share: its range scales with it
    assert x.low < 0.095 < x.high < 0.2


def test_parameters_in_which_a_and_b_differ_are_held_unless_their_range_scales():
    a, b = load_scenario("x_platform"), load_scenario("x_platform", ["law_enforcement.drafting_hours=6",
                                                                      "law_enforcement.investigators=400"])
    chosen, held, side_a, side_b = choose(a, b)
    names = [c.name for c in chosen]
    assert "law_enforcement.drafting_hours" not in names and any("drafting_hours" in h for h in held)
    assert "law_enforcement.investigators" in names
    assert side_b["law_enforcement.investigators"][0].low == 2 * side_a["law_enforcement.investigators"][0].low


def test_unknown_assumption_names_are_refused_with_the_allowed_ones():
    a = load_scenario("x_platform")
    with pytest.raises(ValueError, match=r"allowed: .*law_enforcement\.drafting_hours"):
        choose(a, a, only=["law_enforcement.drafting_hour"])


# --- drivers and discovery on known answers ------------------------------------------------------------


def test_prcc_finds_a_monotone_effect_and_gives_an_inert_input_an_interval_around_zero():
    rng = np.random.default_rng(3)
    x = rng.random((120, 3))
    y = np.exp(4 * x[:, 0]) - x[:, 1] + 0.05 * rng.standard_normal(120)
    strong, weak, inert = prcc(x, y)
    assert strong["value"] > 0.95 and weak["value"] < -0.5
    assert abs(inert["value"]) < 0.25 and inert["low"] < 0 < inert["high"]


def test_prim_finds_the_box_where_a_condition_holds():
    rng = np.random.default_rng(5)
    values = pd.DataFrame({"drafting": rng.uniform(2, 12, 600), "review": rng.uniform(1, 6, 600),
                           "exams": rng.uniform(4, 9, 600)})
    holds = ((values["drafting"] > 7) & (values["review"] < 3)).to_numpy()
    study_assumptions = {name: _assumption(name) for name in values}
    found = discover(values, holds, study_assumptions)
    bounds = {c["parameter"]: (c["low"], c["high"]) for c in found["conditions"]}
    assert set(bounds) == {"drafting", "review"}
    # the densest boxes are exactly the rule; the chosen one gives up density (down to 0.8) for coverage
    assert 6.5 <= bounds["drafting"][0] <= 7.5 and 3 <= bounds["review"][1] <= 3.8
    assert found["density"] >= 0.8 and found["coverage"] > 0.7
    assert "drafting is above" in found["text"] and "review is below" in found["text"]


def _assumption(name: str):
    from model.uncertainty.assumptions import Assumption
    return Assumption(name, "hours", "linear", False, False, "test", "")


def test_a_condition_names_an_outcome_and_a_threshold():
    assert str(Condition.parse("rate_us_b>0.10", ["rate_us_b"])) == "rate_us_b > 0.1"
    with pytest.raises(ValueError, match="OUTCOME>VALUE"):
        Condition.parse("rate_us_c>0.1", ["rate_us_b"])


# --- studies ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("design,samples", [("lhs", 30), ("sobol", 64)])
def test_when_the_answer_depends_on_one_assumption_it_is_ranked_first_and_inert_ones_near_zero(design, samples):
    study = run_study("x_platform", samples=samples, design=design, only=THREE, workers=1, simulate=drafting_only)
    summary = summarize(study)
    first, *others = summary["drivers"]
    assert first["parameter"] == "law_enforcement.drafting_hours" and first["importance"] > 0.9
    assert all(d["importance"] < 0.3 for d in others)
    assert summary["difference_us"]["median"] < 0 and summary["rate_us_b"]["p95"] < 0.06


def test_a_sobol_study_with_a_failed_point_ranks_drivers_by_partial_rank_correlation_and_says_why():
    def fails_once(scenario: Scenario, seed: int) -> tuple[None, dict]:
        if scenario.law_enforcement.drafting_hours == failing:
            raise RuntimeError("boom")
        return drafting_only(scenario, seed)

    first = run_study("x_platform", samples=64, design="sobol", only=THREE, workers=1, simulate=drafting_only)
    failing = first.runs["a"]["law_enforcement.drafting_hours"].iloc[5]
    study = run_study("x_platform", samples=64, design="sobol", only=THREE, workers=1, simulate=fails_once)
    summary = summarize(study)
    assert summary["drivers"][0]["method"] == "partial rank correlation (PRCC)"
    assert summary["drivers"][0]["parameter"] == "law_enforcement.drafting_hours"
    assert summary["drivers_note"].startswith(f"{len(study.unit) - np.isfinite(study.points['difference_us']).sum()} "
                                              f"of {len(study.unit)} points of the Saltelli design have no result")


def test_the_study_summary_holds_every_documented_key(tmp_path):
    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=drafting_only, out=tmp_path / "u")
    summary = summarize(study, condition="difference_us<-0.2")
    for key in ("rate_us_a", "rate_us_b", "difference_us", "rate_foreign_a", "rate_foreign_b", "difference_foreign"):
        assert set(summary[key]) >= {"median", "p05", "p95", "mean"}, key
    assert {"parameter", "importance", "method"} <= set(summary["drivers"][0])
    region = summary["discovery"]["conditions"]
    assert [c["parameter"] for c in region] == ["law_enforcement.drafting_hours"] and region[0]["low"] > 9
    assert (tmp_path / "u" / "a" / "manifest.json").exists() and (tmp_path / "u" / "b" / "manifest.json").exists()
    json.dumps(summary, allow_nan=False)


def test_runs_that_end_their_drain_with_undecided_reports_are_counted_and_named(capsys):
    """An overloaded draw can reach the drain cap with counted reports undecided: its rate leaves them out, so the
    study says how many runs did, in summary.json and on the screen."""
    def overloaded_at_long_drafting(scenario: Scenario, seed: int) -> tuple[None, dict]:
        _, summary = drafting_only(scenario, seed)
        return None, {**summary, "undecided": 7 if scenario.law_enforcement.drafting_hours > 9 else 0}

    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=overloaded_at_long_drafting)
    expected = sum(int((study.runs[side]["law_enforcement.drafting_hours"] > 9).sum()) for side in ("a", "b"))
    summary = summarize(study)
    assert 0 < expected < 60 and summary["undecided_runs"] == expected
    show(summary, None)
    assert f"{expected} runs ended their drain with counted reports still undecided" in capsys.readouterr().out
    clean = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=drafting_only)
    assert summarize(clean)["undecided_runs"] == 0


def test_runs_whose_counted_halves_differ_are_counted_as_unsettled(capsys):
    """An overloaded draw whose queues still fill during the counted year loses more in its second half: the study
    counts such runs (model/settling.py), in summary.json and on the screen."""
    def rising_at_long_drafting(scenario: Scenario, seed: int) -> tuple[None, dict]:
        _, summary = drafting_only(scenario, seed)
        rise = 0.2 if scenario.law_enforcement.drafting_hours > 9 else 0.0
        return None, {**summary, "evidence_lost_rate_us_first_half": 0.4, "evidence_lost_rate_us_second_half": 0.4 + rise,
                      "legal_process_needed_us": 2000}

    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=rising_at_long_drafting)
    expected = sum(int((study.runs[side]["law_enforcement.drafting_hours"] > 9).sum()) for side in ("a", "b"))
    summary = summarize(study)
    assert 0 < expected < 60 and summary["unsettled_runs"] == expected
    assert f"{expected} of 60 runs may not have settled" in summary["headline"]
    show(summary, None)
    assert f"{expected} runs may not have settled (the halves of the counted period lost" in capsys.readouterr().out
    assert summarize(run_study("x_platform", samples=30, only=THREE, workers=1, simulate=drafting_only))["unsettled_runs"] == 0


def settles_after_a_long_warmup(scenario: Scenario, seed: int) -> tuple[None, dict]:
    """A stand-in whose draws with long drafting are still filling their queues after the scenario's own warm-up (the
    second half of the counted period loses more) and settle, losing more, after twice as long."""
    _, summary = drafting_only(scenario, seed)
    slow = scenario.law_enforcement.drafting_hours > 9
    settled = scenario.run.warmup_days >= 2 * 365 or not slow
    understated = 0.2 if scenario.retention.window_days == 90 else 0.1   # the 90-day rule's queues fill more
    rate = summary["evidence_lost_rate_us"] + (0.0 if settled else -understated) + (0.3 if slow else 0.0)
    halves = (rate, rate) if settled else (rate - 0.05, rate + 0.05)
    return None, {**summary, "evidence_lost_rate_us": rate, "evidence_lost_rate_us_first_half": halves[0],
                  "evidence_lost_rate_us_second_half": halves[1], "legal_process_needed_us": 20_000}


def test_draws_that_had_not_settled_are_rerun_with_twice_the_warmup_on_both_sides():
    """A draw counted before its queues settled understates its loss: the study reruns both sides of every draw with a
    flagged run, with the warm-up doubled and the counted days kept, and uses the reruns (model/uncertainty/settle.py)."""
    kept = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=settles_after_a_long_warmup,
                     settle_rounds=0)
    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=settles_after_a_long_warmup)
    slow = sorted(int(p) for p in kept.runs["a"].loc[kept.runs["a"]["law_enforcement.drafting_hours"] > 9, "point"])
    assert 0 < len(slow) < 30
    assert [(r.round, r.points, r.warmup_days, r.unsettled_runs) for r in study.settling] == \
        [(1, slow, {"a": 730, "b": 730}, 2 * len(slow))]
    for side in ("a", "b"):
        runs = study.runs[side].set_index("point")
        assert runs.loc[slow, "settle_round"].eq(1).all() and runs.drop(slow)["settle_round"].eq(0).all()
        assert list(study.runs[side]["run_id"]) == list(range(30))
    rose = study.points["rate_us_a"] - kept.points["rate_us_a"]
    assert np.allclose(rose[slow], 0.2, atol=0.01) and np.allclose(rose.drop(slow), 0.0)
    summary = summarize(study)
    assert summary["unsettled_runs"] == 0 and summary["settling"][0]["points"] == slow
    assert f"{len(slow)} draws with a run that may not have settled" in summary["headline"]
    assert "were rerun with 730 days of warm-up; none was flagged again." in summary["headline"]
    assert summarize(kept)["unsettled_runs"] == 2 * len(slow) and summarize(kept)["settling"] == []


def fills_slowly(scenario: Scenario, seed: int) -> tuple[None, dict]:
    """A stand-in whose draws with long drafting have a queue still filling after the scenario's own warm-up: the halves
    agree, but the longest wait grows by 40 days over the counted year; after twice the warm-up it has filled, and
    the draw loses more."""
    _, summary = drafting_only(scenario, seed)
    filling = scenario.law_enforcement.drafting_hours > 9 and scenario.run.warmup_days < 2 * 365
    rate = summary["evidence_lost_rate_us"] + (0.2 if filling else 0.3)
    return None, {**summary, "evidence_lost_rate_us": rate, "evidence_lost_rate_us_first_half": rate,
                  "evidence_lost_rate_us_second_half": rate, "legal_process_needed_us": 20_000,
                  "longest_wait_growth_days": 40 if filling else 2, "longest_wait_growth_queue": "ICAC overloaded"}


def test_draws_with_a_queue_still_filling_are_rerun_even_when_their_halves_agree():
    kept = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=fills_slowly, settle_rounds=0)
    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=fills_slowly)
    slow = sorted(int(p) for p in kept.runs["a"].loc[kept.runs["a"]["law_enforcement.drafting_hours"] > 9, "point"])
    assert 0 < len(slow) < 30 and summarize(kept)["unsettled_runs"] == 2 * len(slow)
    assert [(r.points, r.unsettled_runs) for r in study.settling] == [(slow, 2 * len(slow))]
    rose = study.points["rate_us_a"] - kept.points["rate_us_a"]
    assert np.allclose(rose[slow], 0.1) and np.allclose(rose.drop(slow), 0.0)
    assert summarize(study)["unsettled_runs"] == 0


def test_each_round_of_reruns_doubles_the_warmup_again_for_the_draws_still_flagged(capsys):
    def settles_after_four_times(scenario: Scenario, seed: int) -> tuple[None, dict]:
        _, summary = drafting_only(scenario, seed)
        slow = scenario.law_enforcement.drafting_hours > 9 and scenario.run.warmup_days < 4 * 365
        halves = (0.3, 0.4) if slow else (0.35, 0.35)
        return None, {**summary, "evidence_lost_rate_us_first_half": halves[0],
                      "evidence_lost_rate_us_second_half": halves[1], "legal_process_needed_us": 20_000}

    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=settles_after_four_times,
                      settle_rounds=3)
    assert [r.warmup_days["a"] for r in study.settling] == [730, 1460]   # the third round finds nothing to rerun
    assert study.settling[0].points == study.settling[1].points
    assert {int(r) for r in study.runs["a"]["settle_round"]} == {0, 2}
    summary = summarize(study)
    assert summary["unsettled_runs"] == 0 and "rerun with 730 and then 1,460 days of warm-up" in summary["headline"]
    show(summary, None)
    printed = capsys.readouterr().out
    assert "Settling, round 1:" in printed and "Settling, round 2:" in printed


def test_when_many_draws_had_not_settled_none_is_rerun_and_the_study_says_to_lengthen_every_warmup(capsys):
    """Flagged draws rerun alone would be counted after a longer warm-up than those that escaped the flag by chance."""
    def most_still_filling(scenario: Scenario, seed: int) -> tuple[None, dict]:
        _, summary = drafting_only(scenario, seed)
        halves = (0.3, 0.4) if scenario.law_enforcement.drafting_hours > 3 else (0.35, 0.35)
        return None, {**summary, "evidence_lost_rate_us_first_half": halves[0],
                      "evidence_lost_rate_us_second_half": halves[1], "legal_process_needed_us": 20_000}

    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=most_still_filling)
    flagged = int((study.runs["a"]["law_enforcement.drafting_hours"] > 3).sum())
    assert flagged > 0.5 * 30 and study.settling == [] and "settle_round" not in study.runs["a"]
    assert study.settling_note.startswith(f"{flagged} of 30 draws had a run that may not have settled, more than 50%")
    assert study.settling_note.endswith("--set run.warmup_days=730 --days 1095")   # x_platform counts 365 days
    summary = summarize(study)
    assert summary["unsettled_runs"] == 2 * flagged and "the warm-up looks short for the whole study" in summary["headline"]
    show(summary, None)
    assert f"Settling: {flagged} of 30 draws" in capsys.readouterr().out


def test_a_study_with_reruns_resumes_from_its_stores_and_reads_back_as_it_ran(tmp_path):
    from model.uncertainty.settle import stored_runs

    out = tmp_path / "study"
    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=settles_after_a_long_warmup, out=out)
    assert study.settling and (out / "a-settle1").is_dir() and (out / "b-settle1").is_dir()
    resumed = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=_must_not_run, out=out, resume=True)
    pd.testing.assert_frame_equal(resumed.points, study.points)
    stored = stored_runs(out, summarize(study)["settling"], study.replications)
    for side in ("a", "b"):
        columns = ["run_id", "point", "settle_round", "evidence_lost_rate_us"]
        pd.testing.assert_frame_equal(stored[side][columns], study.runs[side][columns], check_dtype=False)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The real model, small: drafting hours and forensic exams per case (which cannot act on evidence lost)."""
    return run_study("x_platform", samples=16, overrides=SMALL, workers=2, progress=False,
                     only=["law_enforcement.drafting_hours", "downstream.exams_per_case"],
                     out=tmp_path_factory.mktemp("real") / "study")


def test_in_the_model_forensic_exams_cannot_act_on_evidence_lost(real):
    drivers = {d["parameter"]: d for d in summarize(real)["drivers"]}
    exams = drivers["downstream.exams_per_case"]
    assert exams["importance"] < 0.5 and exams["low"] < 0 < exams["high"]
    assert drivers["law_enforcement.drafting_hours"]["importance"] > exams["importance"]


def test_a_study_gives_the_same_results_on_one_worker_and_on_two(real):
    again = run_study("x_platform", samples=16, overrides=SMALL, workers=1,
                      only=["law_enforcement.drafting_hours", "downstream.exams_per_case"])
    pd.testing.assert_frame_equal(again.points, real.points)


def test_a_study_resumes_from_its_stores(real):
    resumed = run_study("x_platform", samples=16, overrides=SMALL, workers=1, resume=True, out=real.out,
                        only=["law_enforcement.drafting_hours", "downstream.exams_per_case"],
                        simulate=_must_not_run)
    pd.testing.assert_frame_equal(resumed.points, real.points)


def _must_not_run(scenario, seed):
    raise AssertionError("a resumed study re-ran a stored run")


def arrests_follow_drafting(scenario: Scenario, seed: int) -> tuple[None, dict]:
    """The stand-in model, also making 1,500 arrests a year per drafting hour over its counted days."""
    _, summary = drafting_only(scenario, seed)
    counted = scenario.run.days - scenario.run.warmup_days
    return None, {**summary, "arrests": 1_500 * scenario.law_enforcement.drafting_hours * counted / 365}


def test_conditioned_on_calibration_only_the_draws_that_reproduce_the_published_arrests_count():
    study = run_study("x_platform", samples=20, only=["law_enforcement.drafting_hours"], workers=1,
                      simulate=arrests_follow_drafting)
    block = summarize(study, calibration="2023")["calibrated"]
    drafting = study.runs["a"].groupby("point")["law_enforcement.drafting_hours"].first().to_numpy()
    # 10,800 arrests a year within 30%: 7,560 to 14,040, so 5.04 to 9.36 drafting hours
    kept = (1_500 * drafting >= 0.7 * 10_800) & (1_500 * drafting <= 1.3 * 10_800)
    assert 0 < kept.sum() < len(kept) and block["points"] == kept.sum() and block["of"] == 20
    [arrests] = block["targets"]   # the stand-in's runs have no investigations: conditioned on arrests alone
    assert block["not_measured"] == ["US referrals", "ICAC investigations"] and block["target"] == "ICAC arrests"
    assert arrests["published"] == 10_800 and arrests["tolerance"] == "+-30%" and arrests["points"] == kept.sum()
    expected = study.points["difference_us"].to_numpy()[kept]
    assert block["difference_us"]["median"] == pytest.approx(np.median(expected))
    assert block["difference_us"]["n"] == kept.sum()
    assert arrests["model_per_year"]["median"] == pytest.approx(np.median(1_500 * drafting))
    assert "that reproduce the published ICAC arrests (10,800 a year, +-30%)" in \
        summarize(study, calibration="2023")["headline"]


def investigations_follow_review(scenario: Scenario, seed: int) -> tuple[None, dict]:
    """The stand-in above, whose investigations a year also follow the review hours (60,000 per hour), with the
    published US referrals."""
    _, summary = arrests_follow_drafting(scenario, seed)
    counted = scenario.run.days - scenario.run.warmup_days
    return None, {**summary, "investigations_us": 60_000 * scenario.law_enforcement.review_hours * counted / 365,
                  "referred_us": 1_100_000 * counted / 365}


def test_conditioned_on_calibration_a_draw_must_reproduce_every_target_its_runs_measure():
    study = run_study("x_platform", samples=40, only=["law_enforcement.drafting_hours", "law_enforcement.review_hours"],
                      workers=1, simulate=investigations_follow_review)
    block = summarize(study, calibration="2023")["calibrated"]
    first = study.runs["a"].groupby("point").first()
    arrests = 1_500 * first["law_enforcement.drafting_hours"].to_numpy()
    investigations = 60_000 * first["law_enforcement.review_hours"].to_numpy()
    arrests_ok = np.abs(arrests - 10_800) <= 0.3 * 10_800
    investigations_ok = np.abs(investigations - 184_700) <= 0.25 * 184_700
    both = arrests_ok & investigations_ok
    assert 0 < both.sum() < min(arrests_ok.sum(), investigations_ok.sum())   # each target removes draws
    assert block["points"] == both.sum() and not block["not_measured"]
    assert [(t["key"], t["points"]) for t in block["targets"]] == [("referred_us", 40),
                                                                    ("investigations_us", investigations_ok.sum()),
                                                                    ("arrests", arrests_ok.sum())]
    assert block["rate_us_a"]["median"] == pytest.approx(np.median(study.points["rate_us_a"].to_numpy()[both]))
    assert ("published US referrals (1,100,000 a year, +-25%), ICAC investigations (184,700, +-25%) and ICAC arrests "
            "(10,800, +-30%)" in summarize(study, calibration="2023")["headline"])
    fy2024 = summarize(study, calibration="2024")["calibrated"]   # no published count of US referrals for FY2024
    assert [t["published"] for t in fy2024["targets"]] == [203_467, 12_600] and not fy2024["not_measured"]


def test_the_draws_that_reproduce_the_published_figures_are_located_in_the_assumptions():
    """The stand-in reproduces the FY2023 arrests at 5.04-9.36 drafting hours and the investigations at 2.31-3.85
    review hours: PRIM finds that box."""
    study = run_study("x_platform", samples=160, only=["law_enforcement.drafting_hours", "law_enforcement.review_hours"],
                      workers=1, simulate=investigations_follow_review)
    region = summarize(study, calibration="2023")["calibrated"]["region"]
    limits = {c["parameter"]: (c["low"], c["high"]) for c in region["conditions"]}
    assert limits["law_enforcement.drafting_hours"] == pytest.approx((5.04, 9.36), rel=0.1)
    assert limits["law_enforcement.review_hours"] == pytest.approx((2.31, 3.85), rel=0.15)
    assert region["coverage"] >= 0.9 and region["density"] >= 0.8


def test_an_unknown_calibration_regime_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["uncertainty", "x_platform", "-n", "40", "--calibration", "2025", "--out", str(tmp_path / "unc")])
    assert stopped.value.code == 2 and "choose from '2023', '2024'" in capsys.readouterr().err
    assert not (tmp_path / "unc").exists()


# --- the command ---------------------------------------------------------------------------------------------


def test_the_command_writes_its_summary_and_leads_with_the_headline(tmp_path, capsys):
    out = tmp_path / "unc"
    code = main(["uncertainty", "x_platform", "-n", "8", "--only", "law_enforcement.drafting_hours",
                 "--workers", "1", "--out", str(out), *[f"--set={s}" for s in SMALL]])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Over 8 draws of 1 plausible assumptions")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["points"] == 8 and summary["drivers"][0]["parameter"] == "law_enforcement.drafting_hours"


@pytest.mark.parametrize("arguments,message", [
    (["-n", "10"], "needs at least"),
    (["-n", "40", "--only", "nope"], "allowed: "),
    (["-n", "40", "--condition", "rate_us_b=0.1"], "OUTCOME>VALUE"),
    (["-n", "12", "--design", "sobol", "--only", "law_enforcement.drafting_hours"],
     "-n 12: a Sobol design needs a power of two (Sobol' sequence balance), e.g. -n 8 or -n 16"),
    (["-n", "100000000", "--only", "law_enforcement.drafting_hours"], "-n 100000000: Input should be less than or equal"),
    (["-n", "40", "--settle-rounds", "5"], "--settle-rounds 5: must be 0 to 4"),
])
def test_bad_options_exit_2_with_a_message_and_write_nothing(arguments, message, tmp_path, capsys):
    out = tmp_path / "unc"
    assert main(["uncertainty", "x_platform", *arguments, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "validation error" not in err and "pydantic" not in err   # the option as typed
    assert not out.exists()


@pytest.mark.parametrize(("low", "unit", "text"), [(2243.7, "FTE", "above 2,240 FTE"), (22437.0, "FTE", "above 22,400 FTE"),
                                                   (8.8234, "hours", "above 8.82 hours"), (0.25, "share", "above 25%")])
def test_a_region_limit_is_written_for_people(low, unit, text):
    from model.uncertainty.assumptions import Assumption
    from model.uncertainty.discovery import _words

    assumption = Assumption("x", unit, "linear", False, False, "", "")
    assert _words(assumption, low, float("nan"), True, False) == f"x is {text}"


@pytest.mark.parametrize(("share", "text"), [(-0.0764, "-7.6"), (0.076, "+7.6"), (-0.00009, "0.0"), (0.0, "0.0")])
def test_differences_in_points_have_a_sign_unless_they_round_to_zero(share, text):
    from model.uncertainty.summary import signed

    assert signed(share) == text


def test_a_study_drawing_long_backlog_limits_warms_up_for_three_times_the_longest_and_keeps_the_counted_days():
    """Queues settle in up to three times the backlog limit (docs/ODD.md, warm-up): a draw with a 365-day limit counted
    after a 365-day warm-up would meet queues still filling and understate its losses."""
    from model.experiments import scenario_pair
    from model.params import STEADY_STATE_BACKLOGS
    from model.uncertainty.study import BACKLOG_KEY, steady_warmup

    a, b = scenario_pair("x_platform", None)
    _, _, side_a, side_b = choose(a, b, (), ())
    longest = max(s.high for group in side_a.values() for s in group if s.key == BACKLOG_KEY)
    (raised_a, raised_b), note = steady_warmup((a, b), (side_a, side_b))
    assert STEADY_STATE_BACKLOGS == 3
    assert raised_a.run.warmup_days == raised_b.run.warmup_days == 3 * longest > a.run.warmup_days
    assert raised_a.run.days - raised_a.run.warmup_days == a.run.days - a.run.warmup_days
    assert note.startswith(f"run.warmup_days raised from {a.run.warmup_days} to {3 * longest:g} days")
    _, _, side_a, side_b = choose(a, b, (), (BACKLOG_KEY,))   # held at the default: the default warm-up suffices
    assert steady_warmup((a, b), (side_a, side_b)) == ((a, b), None)
