"""`tipline calibration`: targets, the measurement of annual flows, and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model import cli
from model.calibration import REGIMES, TARGETS, Target, measure, regime_scenario
from model.scenarios import load_scenario


def test_every_target_has_a_source_with_a_tag_and_a_tolerance():
    assert {t.regime for t in TARGETS} == set(REGIMES)
    for t in TARGETS:
        assert t.source.startswith("sources §") and "[" in t.source
        assert (t.rel_tol is None) != (t.abs_tol is None)


def test_tolerance_check():
    t = Target("2023", "reports", "x", 100.0, "s", rel_tol=0.1)
    assert t.within(109) and not t.within(111)
    assert Target("2023", "x", "x", 0.095, "s", abs_tol=0.01).within(0.1)


def test_regimes_differ_in_bundling_and_volume():
    a, b = regime_scenario("2023"), regime_scenario("2024")
    assert not a.ncmec.bundling and b.ncmec.bundling
    assert sum(p.reports_per_day for p in b.platforms) < sum(p.reports_per_day for p in a.platforms)
    assert load_scenario("calibration_2023").model_dump(exclude={"name", "description", "run"}) == \
        load_scenario("national").model_dump(exclude={"name", "description", "run"})


def test_measure_counts_flows_on_a_small_run():
    scenario = load_scenario("x_platform", ["run.days=200", "run.warmup_days=20", "platforms.X.reports_per_day=400",
                                            "law_enforcement.investigators=34", "ncmec.bundling=true"])
    m = measure(scenario)
    years = 180 / 365
    assert m["reports"] == pytest.approx(400 * 365, rel=0.03)
    assert m["reports_after_bundling"] == pytest.approx(m["reports"] * 0.7, rel=0.03)
    assert m["platforms"]["X"]["automated_share"] == pytest.approx(0.095, abs=0.005)
    # actionable US referrals: 400 x quality 0.85 x US 0.11 x non-viral 0.7 x actionable 0.3 a day
    assert m["investigations"] == pytest.approx(400 * 0.85 * 0.11 * 0.7 * 0.3 * 365, rel=0.1)
    assert m["arrests"] > 0 and m["urgent"] > 0
    assert m["referred_us"] == pytest.approx(m["counted_summary"]["referred_us"] / years)
    # a run's summary counts investigations and arrests over the same days as the daily series
    assert m["investigations"] == m["counted_summary"]["investigations_us"] / years
    assert m["arrests"] == m["counted_summary"]["arrests"] / years


@pytest.mark.slow
def test_calibration_command_meets_every_target(capsys):
    assert cli.main(["calibration", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(TARGETS)
    misses = [(r["regime"], r["figure"], r["model"], r["published"]) for r in rows if not r["ok"]]
    assert not misses
    # docs/calibration.md shows this output: each row's model figure is the one the command prints today
    documented = (Path(__file__).parent.parent / "docs" / "calibration.md").read_text()
    for r in rows:
        shown = f"{r['model']:,.0f}" if r["model"] >= 10 else f"{r['model']:.3f}"
        assert f"| {r['regime']} | {r['figure']} | {shown} |" in documented, (r["regime"], r["figure"], shown)


def test_calibration_command_rejects_bad_overrides_with_exit_2(capsys):
    assert cli.main(["calibration", "--regime", "2023", "--set", "ncmec.analysts=-1"]) == 2
    assert "ncmec.analysts" in capsys.readouterr().err
