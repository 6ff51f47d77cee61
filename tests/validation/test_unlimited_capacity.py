"""Validation 1: with unlimited capacity, the lost fraction equals P(delay > window), at every window.

Every report is an actionable US referral that needs legal process; analysts and investigators are
unlimited and there are no 2703(f) letters. A report filed on day c reaches the agency on day c
(referral delay 0), is reviewed that day, its legal process is drafted the next day and served after
the approval wait A = ceil(LN(median, sigma)), so it is lost iff 1 + A > window, i.e. iff the
lognormal exceeds window - 1 (A is a whole number of days). With a Wilson warrant the judge's wait
W = max(ceil(LN2), 1) comes before the drafting, and the convolution of the two is computed numerically.

The run goes through ``tipline run`` with the shipped run length (730 days, 365 of warm-up): cohort
accounting must follow every counted report to its outcome, so the rate is unbiased even for windows
of one and two years, which end long after the last counted day (the censored accounting of 0.1.0
printed 0.0245 for an expected 0.0626 at 365 days). Tolerance: 4 binomial standard errors.
"""

from __future__ import annotations

import json
import math

import pytest

from model.cli import main
from model.scenarios import to_toml
from tests.validation.helpers import delay_exceeds, scenario

WINDOWS = (30, 90, 365, 730)
MEDIAN, SIGMA = 30.0, 1.63        # a heavy tail: P(> 365 days) is about 6%
WARRANT_MEDIAN, WARRANT_SIGMA = 7.0, 0.7


def run_cli(tmp_path, capsys, window: int, wilson: bool) -> dict:
    platform = {"automated_share": 1.0} if wilson else {}
    le = {"approval_median_days": MEDIAN, "approval_sigma": SIGMA,
          "wilson_share": 0.5 if wilson else 0.0, "warrant_approval_median_days": WARRANT_MEDIAN,
          "warrant_approval_sigma": WARRANT_SIGMA}
    spec = scenario(days=730, warmup=365, window=window, seed=window + wilson, reports_per_day=1200.0,
                    platform=platform, law_enforcement=le)
    path = tmp_path / "unlimited.toml"
    path.write_text(to_toml(spec))
    capsys.readouterr()
    assert main(["run", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def expected_loss(window: int, wilson: bool) -> float:
    return delay_exceeds(window - 1, median=MEDIAN, sigma=SIGMA, warrant_share=0.5 if wilson else 0.0,
                         warrant_median=WARRANT_MEDIAN, warrant_sigma=WARRANT_SIGMA)


@pytest.mark.parametrize("wilson", [False, True], ids=["legal-process", "with-wilson-warrant"])
@pytest.mark.parametrize("window", WINDOWS)
def test_lost_fraction_equals_the_probability_the_delay_exceeds_the_window(tmp_path, capsys, window, wilson):
    s = run_cli(tmp_path, capsys, window, wilson)
    decided = s["evidence_lost_us"] + s["legal_process_served_us"]
    observed = s["evidence_lost_rate_us"]
    expected = expected_loss(window, wilson)
    se = math.sqrt(expected * (1 - expected) / decided)
    print(f"window {window} wilson={wilson}: model {observed:.5f}, independent {expected:.5f}, "
          f"z = {(observed - expected) / se:+.2f} (n = {decided:,}, drain {s['drain_days']} days)")
    assert s["days"] == 730 and s["undecided"] == 0
    assert decided == s["legal_process_needed_us"] == s["reports"] > 400_000
    assert abs(observed - expected) < 4 * se


def test_the_analytic_probability_is_right_for_simple_cases():
    """Cross-check the oracle: with a zero-sigma delay the probability is 0 or 1."""
    assert delay_exceeds(89, median=30.0, sigma=1e-9) == pytest.approx(0.0, abs=1e-9)
    assert delay_exceeds(19, median=30.0, sigma=1e-9) == pytest.approx(1.0, abs=1e-9)
    assert delay_exceeds(30, median=30.0, sigma=1.0) == pytest.approx(0.5, abs=1e-12)  # half exceed the median
