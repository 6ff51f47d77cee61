"""The settling check: a run says when the two halves of its counted period lost different shares of US evidence."""

from __future__ import annotations

import math

import pytest

from model.settling import SETTLING_Z, drift, settling_note


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
