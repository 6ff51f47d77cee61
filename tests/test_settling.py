"""The settling checks: a run says when the two halves of its counted period lost different shares of US evidence,
or when a queue's longest wait was still growing."""

from __future__ import annotations

import math

import pytest

from model.settling import (
    FILLING_DAYS,
    GROWTH,
    GROWTH_QUEUE,
    NOTE_FILLING_DAYS,
    SETTLING_Z,
    Filling,
    drift,
    filling,
    is_unsettled,
    settling_note,
    wait_growth,
)


def summary(first: float | None, second: float | None, needed: int = 2000) -> dict:
    return {"evidence_lost_rate_us_first_half": first, "evidence_lost_rate_us_second_half": second,
            "legal_process_needed_us": needed}


def test_equal_halves_are_settled_and_get_no_note():
    found = drift([summary(0.27, 0.27)])
    assert found.z == 0 and not found.unsettled
    assert settling_note([summary(0.27, 0.27)], "x") is None


def test_the_difference_is_counted_in_binomial_standard_errors_of_half_the_cases_each():
    found = drift([summary(0.20, 0.30, needed=2000)])
    se = math.sqrt((0.2 * 0.8 + 0.3 * 0.7) / 1000)
    assert found.z == pytest.approx(0.10 / se) and found.unsettled and found.points == pytest.approx(10.0)
    note = settling_note([summary(0.20, 0.30)], "x_platform")
    assert note.startswith("x_platform: the US loss rose from 20.0% (reports created in the first half")
    assert "30.0% (second half), 5.2 standard errors apart" in note
    assert "fell from 30.0%" in settling_note([summary(0.30, 0.20)], "x")


def test_a_small_difference_is_chance_and_replications_narrow_it():
    one = drift([summary(0.26, 0.28)])
    assert abs(one.z) < SETTLING_Z
    many = drift([summary(0.26, 0.28)] * 16)
    assert many.first == pytest.approx(0.26) and many.z == pytest.approx(4 * one.z) and many.unsettled


def test_no_verdict_without_both_halves():
    assert drift([summary(None, 0.3)]) is None and drift([summary(0.3, 0.3, needed=0)]) is None
    assert drift([{"evidence_lost_rate_us": 0.3}]) is None and settling_note([], "x") is None


def test_the_queue_whose_longest_wait_grew_most_is_named_and_none_when_no_wait_grew():
    start = {"NCMEC": 2, "ICAC overloaded": 73, "ICAC severely overloaded": 120}
    end = {"NCMEC": 3, "ICAC overloaded": 120, "ICAC severely overloaded": 120}
    assert wait_growth(start, end) == {GROWTH: 47, GROWTH_QUEUE: "ICAC overloaded"}
    assert wait_growth(end, start) == {GROWTH: 0, GROWTH_QUEUE: None}   # waits that shrank are not growth


def growth(days: float | None, queue: str | None = "ICAC overloaded") -> dict:
    return {**summary(0.3, 0.3), GROWTH: days, GROWTH_QUEUE: queue}


def test_a_study_reruns_a_filling_queue_beyond_its_screen_while_a_single_run_is_told_only_beyond_two_months():
    assert not is_unsettled([growth(FILLING_DAYS)]) and is_unsettled([growth(FILLING_DAYS + 1)])
    assert settling_note([growth(NOTE_FILLING_DAYS)], "x") is None   # equal halves, a queue filling slowly
    note = settling_note([growth(NOTE_FILLING_DAYS + 1)], "x")
    assert note.startswith(f"x: the longest wait in ICAC overloaded's queue grew by {NOTE_FILLING_DAYS + 1} days")
    both = settling_note([{**growth(90), **summary(0.2, 0.3)}], "x")
    assert "(second half), 5.2 standard errors apart; and the longest wait in ICAC overloaded's queue" in both


def test_replications_are_judged_on_their_mean_growth_and_runs_without_the_check_get_no_verdict():
    found = filling([growth(10, "NCMEC"), growth(30)])
    assert found == Filling("ICAC overloaded", 20.0) and found.unsettled and not found.noted
    assert filling([growth(None, None)]) is None and filling([summary(0.3, 0.3)]) is None
    assert not is_unsettled([summary(0.3, 0.3)])
