"""Validation 1: with unlimited capacity, the lost fraction equals P(total legal-process delay > window).

Every report is an actionable US referral that needs legal process; analysts and investigators are
effectively unlimited and there are no 2703(f) requests, so a report is lost iff
``referral_delay + process_days > window``, with ``process_days = ceil(LN(30, 1.63))`` (plus, for a
Wilson warrant, ``ceil(LN(7, 0.7))`` with probability ``wilson_share``). The independent value comes
from scipy's lognormal (and a numerical convolution of the two day-granular delays).

The model's value is the ratio of reports lost to reports resolved (lost + served in time) over the
days after the window: from then on both flows come from reports created within the run, so the
ratio estimates the probability without the bias of reports still pending at the end. Tolerance: 4
binomial standard errors.
"""

from __future__ import annotations

import math

import pytest

from model.model import run
from tests.validation.helpers import delay_exceeds, scenario, window_flows

WINDOWS = (30, 90, 180, 365)
REFERRAL_DELAY = 1


@pytest.mark.parametrize("wilson", [False, True], ids=["legal-process", "with-wilson-warrant"])
@pytest.mark.parametrize("window", WINDOWS)
def test_lost_fraction_equals_the_probability_the_delay_exceeds_the_window(window, wilson):
    platform = {"automated_share": 1.0} if wilson else {}
    le = {"wilson_share": 0.5} if wilson else {}
    model, summary = run(scenario(days=window + 400, window=window, seed=window + wilson, platform=platform,
                                  ncmec={"referral_delay_days": REFERRAL_DELAY}, law_enforcement=le))
    lost, served = window_flows(model, window)
    observed = lost / (lost + served)
    expected = delay_exceeds(window, referral_delay=REFERRAL_DELAY, median=30.0, sigma=1.63,
                             warrant_share=0.5 if wilson else 0.0)
    se = math.sqrt(expected * (1 - expected) / (lost + served))
    print(f"window {window} wilson={wilson}: model {observed:.5f}, independent {expected:.5f}, "
          f"z = {(observed - expected) / se:+.2f} (n = {lost + served:,})")
    assert lost + served > 500_000
    assert abs(observed - expected) < 4 * se
    assert summary["pending"] >= 0 and summary["reports"] == (summary["legal_process_served"]
                                                              + summary["evidence_lost"] + summary["pending"])


def test_the_analytic_probability_is_right_for_a_simple_case():
    """Cross-check the oracle: with a zero-sigma delay the probability is 0 or 1."""
    assert delay_exceeds(90, referral_delay=1, median=30.0, sigma=1e-9) == pytest.approx(0.0, abs=1e-9)
    assert delay_exceeds(20, referral_delay=1, median=30.0, sigma=1e-9) == pytest.approx(1.0, abs=1e-9)
    # median 30, referral delay 0: exactly half the delays exceed 30 days
    assert delay_exceeds(30, referral_delay=0, median=30.0, sigma=1.0) == pytest.approx(0.5, abs=1e-12)
