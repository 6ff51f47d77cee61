"""Analysis of sweeps: per-point intervals, Sobol indices against an analytic case, staffing equivalence."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest

from model.cli import main
from model.sweeps import design_from
from model.sweeps.analysis import point_summary, sobol_indices
from model.sweeps.equivalence import smallest_satisfying, staffing_equivalence
from tests.test_sweeps import small_sweep, write_sweep

SMALL = ["run.days=240", "run.warmup_days=30", "platforms.X.reports_per_day=400", "foreign.investigators=240"]


def test_point_summary_gives_means_and_student_t_intervals():
    design = {"factors": ["w"], "points": [{"w": 30}, {"w": 90}, {"w": 365}]}
    results = pd.DataFrame({
        "run_id": range(6), "point": [0, 0, 0, 1, 1, 1], "replication": [0, 1, 2] * 2, "seed": [1, 2, 3] * 2,
        "w": [30] * 3 + [90] * 3, "error": [None, None, None, None, None, "ValueError: boom"],
        "evidence_lost_us": [10.0, 12.0, 14.0, 5.0, 7.0, math.nan], "wall_seconds": [0.1] * 6, "drain_days": [3] * 6})
    table = point_summary(results, design).set_index(["point", "metric"])
    assert list(table.index.get_level_values("metric").unique()) == ["evidence_lost_us"]  # run keys are not metrics
    first = table.loc[(0, "evidence_lost_us")]
    assert (first["w"], first["runs"], first["failed"], first["mean"]) == (30, 3, 0, 12.0)
    assert first["ci_high"] - 12.0 == pytest.approx(4.302653 * 2 / math.sqrt(3), rel=1e-6)  # t(0.975, 2) * sd / sqrt(n)
    second = table.loc[(1, "evidence_lost_us")]
    assert (second["runs"], second["failed"], second["mean"]) == (2, 1, 6.0)
    third = table.loc[(2, "evidence_lost_us")]  # never run: present, without statistics
    assert third["runs"] == 0 and math.isnan(third["mean"])


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values():
    """The design's ordering, ranges and SALib's estimator agree: S1 = .314, .442, 0; ST = .558, .442, .244."""
    # x_i uniform on [-pi, pi], sampled as demand.scale (allowed 0-100) in [0, 2 pi] and shifted; nothing runs
    factors = [{"key": "demand.scale", "name": f"x{i}", "low": 0.0, "high": 2 * math.pi} for i in (1, 2, 3)]
    design = design_from(small_sweep(design="sobol", samples=1024, replications=2, factors=factors))
    x = np.array([[p[f"x{i}"] for i in (1, 2, 3)] for p in design.points]) - math.pi
    y = ishigami(x)
    n = len(y)
    results = pd.DataFrame({"run_id": range(2 * n), "point": np.repeat(np.arange(n), 2), "replication": [0, 1] * n,
                            "seed": 0, "error": None,
                            "evidence_lost_us": np.repeat(y, 2) + np.tile([-0.01, 0.01], n)})
    first, second = sobol_indices(results, design.manifest_design(), ["evidence_lost_us"])
    table = first.set_index("parameter")
    assert table["S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert table["ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.05)
    assert (table["S1_conf"] > 0).all() and (table["S1_conf"] < 0.2).all()
    assert second.empty


def test_sweep_and_analyze_commands_on_a_small_sobol_design(tmp_path, capsys):
    spec = small_sweep(design="sobol", samples=4, replications=1, factors=[
        {"key": "retention.window_days", "name": "window_days", "low": 30, "high": 400, "integer": True},
        {"key": "law_enforcement.wilson_share", "name": "wilson_share", "low": 0.0, "high": 1.0}])
    path = write_sweep(tmp_path, spec)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Sobol indices" in printed and "window_days" in printed
    assert printed.startswith("evidence_lost_rate_us: mean over replications")   # US first, never the pooled rate
    for name in ("points.csv", "points.parquet", "sobol.csv", "sobol.parquet"):
        assert (out / "analysis" / name).is_file()
    sobol = pd.read_parquet(out / "analysis" / "sobol.parquet")
    assert "metrics" not in spec and set(sobol["metric"]) == {
        "evidence_lost_rate_us", "evidence_lost_rate_foreign", "evidence_lost_us", "evidence_lost_foreign", "arrests"}
    window = sobol[(sobol["metric"] == "evidence_lost_rate_us") & (sobol["parameter"] == "window_days")].iloc[0]
    assert window["ST"] > 0.5  # the window drives evidence loss here
    points = pd.read_csv(out / "analysis" / "points.csv")
    assert len(points[points["metric"] == "evidence_lost"]) == 4 * (2 + 2)
    assert main(["analyze", str(out), "--metric", "no_such_metric"]) == 2
    assert "available: " in capsys.readouterr().err
    assert main(["analyze", str(tmp_path)]) == 2  # not a sweep directory


def test_analyze_and_report_say_when_the_sweep_is_still_being_written(tmp_path, capsys):
    from dashboards.report.inputs import discover
    from model.sweeps.lock import DirectoryLock, writer

    spec = small_sweep(replications=1, factors=[{"key": "retention.window_days", "name": "window_days", "values": [90]}])
    out = tmp_path / "out"
    assert main(["sweep", str(write_sweep(tmp_path, spec)), "--out", str(out), "--workers", "1"]) == 0
    assert writer(out) is None
    assert main(["analyze", str(out)]) == 0 and "still being written" not in capsys.readouterr().err
    with DirectoryLock(out):   # a sweep writing into it (flock: another open file description, as another process)
        assert writer(out).startswith(f"pid {os.getpid()} on ")
        assert main(["analyze", str(out)]) == 0
        assert f"{out} is still being written (pid {os.getpid()} on " in capsys.readouterr().err
        assert "; still being written by pid" in discover(out).sources[0]
    assert writer(out) is None


@pytest.mark.parametrize("threshold", [0, 1, 7, 31, 32, 33, 100, 1000])
@pytest.mark.parametrize("start", [1, 32, 500])
def test_smallest_satisfying_finds_the_threshold_of_a_monotone_predicate(threshold, start):
    calls: list[int] = []

    def at_least(n: int) -> bool:
        calls.append(n)
        return n >= threshold

    found = smallest_satisfying(at_least, start, 0, 600)
    assert found == (threshold if threshold <= 600 else None)
    assert len(set(calls)) <= 2 * math.log2(600) + 3


def test_smallest_satisfying_stops_when_growth_stops_helping():
    seen = []
    assert smallest_satisfying(lambda n: seen.append(n) or False, 10, 0, 10**6, lambda lo, hi: hi >= 40) is None
    assert max(seen) == 40


def test_equivalence_recovers_a_known_staffing(small):
    """The target is the baseline itself with 30 investigators, so the answer is at most 30 and is a crossing."""
    baseline, target = small("law_enforcement.investigators=20"), small("law_enforcement.investigators=30")
    result = staffing_equivalence(baseline, target, staff="investigators", metric="evidence_lost_us",
                                  replications=3, workers=1)
    assert result.today == 20 and result.needed is not None and 20 < result.needed <= 30
    assert result.levels[result.needed].difference <= 0 < result.levels[result.needed - 1].difference
    low, high = result.interval
    assert low is not None and high is not None and low <= result.needed <= high
    assert result.levels[high].ci_high <= 0 < result.levels[high - 1].ci_high
    assert result.levels[low].ci_low <= 0 < result.levels[low - 1].ci_low


def test_equivalence_finds_the_staff_the_90_day_rule_needs(tmp_path, capsys):
    target = tmp_path / "one_year.toml"
    target.write_text('extends = "x_platform"\n[retention]\nwindow_days = 365\n')
    args = ["equivalence", "x_platform", str(target), "-r", "2", "--workers", "1", "--json",
            *(x for o in SMALL for x in ("--set", o)), "--set", "law_enforcement.investigators=20"]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["today"] == 20 and payload["staff_needed"] > 20
    low, high = payload["interval"]
    assert low <= payload["staff_needed"] <= high
    levels = {lv["staff"]: lv for lv in payload["levels"]}
    assert levels[20]["difference"] > 0 >= levels[payload["staff_needed"]]["difference"]
    assert payload["answer"].startswith("x_platform needs")


def test_equivalence_of_one_scenario_compares_it_with_itself_under_one_year_retention(tmp_path, capsys):
    """`tipline equivalence x_platform` reads one scenario as compare does: X under the two rules, not X against the
    national one-year scenario (whose absolute losses X's staff would match with none at all)."""
    options = ["-r", "2", "--workers", "1", "--json", *(x for o in SMALL for x in ("--set", o)),
               "--set", "law_enforcement.investigators=20"]
    assert main(["equivalence", "x_platform", *options]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert (alone["baseline"], alone["target"]) == ("x_platform (90-day rule)", "x_platform (one-year retention)")
    assert alone["today"] == alone["target_staff"] == 20
    target = tmp_path / "one_year.toml"
    target.write_text('extends = "x_platform"\n[retention]\nwindow_days = 365\n')
    assert main(["equivalence", "x_platform", str(target), *options]) == 0
    explicit = json.loads(capsys.readouterr().out)
    assert alone["staff_needed"] == explicit["staff_needed"] > 20
    assert [lv["difference"] for lv in alone["levels"]] == [lv["difference"] for lv in explicit["levels"]]


def test_equivalence_says_when_staff_cannot_close_the_gap(tmp_path, capsys):
    """With the subpoenas' answers taking months, the 90-day rule loses evidence whatever the staffing."""
    target = tmp_path / "one_year.toml"
    target.write_text('extends = "x_platform"\n[retention]\nwindow_days = 365\n')
    slow = ["law_enforcement.identification_share=1.0", "law_enforcement.identification_median_days=80"]
    args = ["equivalence", "x_platform", str(target), "-r", "2", "--workers", "1", "--json",
            *(x for o in [*SMALL, *slow] for x in ("--set", o)), "--set", "law_enforcement.investigators=20"]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["staff_needed"] is None and payload["plateau"] is True
    assert payload["answer"].startswith("Not reachable")
    levels = {lv["staff"]: lv for lv in payload["levels"]}
    assert levels[20]["difference"] > levels[max(levels)]["difference"] > 0  # staff helps, then stops helping


def test_equivalence_bad_input_exits_2(capsys):
    assert main(["equivalence", "no_such_scenario"]) == 2
    assert "no such scenario" in capsys.readouterr().err
    assert main(["equivalence", "x_platform", "x_platform", "-r", "1", "--workers", "1", "--metric", "nope",
                 *(x for o in SMALL for x in ("--set", o))]) == 2
    assert "not a summary metric" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["equivalence", "--staff", "cooks"])
    assert exit_info.value.code == 2
