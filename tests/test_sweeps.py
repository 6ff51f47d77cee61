"""Sweeps: designs, validation of sweep files, runners (processes, Dask), failure isolation and resume after SIGKILL."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from SALib.sample import sobol as salib_sobol

from model.cli import main
from model.experiments import replication_seeds
from model.model import run
from model.sweeps import ResultStore, design_from, load_results, load_sweep, resolve_design, run_sweep, scenario_at

ROOT = Path(__file__).resolve().parent.parent
#: X alone at a fifth of its volume for 240 days (as tests/conftest.py SMALL): about 0.1 s a run.
SMALL_SET = {"run.days": 240, "run.warmup_days": 30, "platforms.X.reports_per_day": 400,
             "law_enforcement.investigators": 34, "foreign.investigators": 240}


def small_sweep(**changes: object) -> dict:
    """A 2 x 2 grid on the small X scenario, 2 replications: 8 runs."""
    spec = {"base": "x_platform", "set": dict(SMALL_SET), "design": "grid", "replications": 2, "seed": 7,
            "factors": [{"key": "retention.window_days", "name": "window_days", "values": [60, 365]},
                        {"key": "law_enforcement.investigators", "name": "investigators", "values": [20, 34]}]}
    spec.update(changes)
    return spec


def toml_text(spec: dict) -> str:
    import tomli_w
    return tomli_w.dumps(spec)


def write_sweep(tmp_path: Path, spec: dict, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(toml_text(spec))
    return path


def same_results(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return a.drop(columns="wall_seconds").reset_index(drop=True).equals(b.drop(columns="wall_seconds").reset_index(drop=True))


def flaky_simulate(scenario, seed):
    """A run function that fails at one window (a stand-in for a model bug hit at some parameter values)."""
    if scenario.retention.window_days == 60:
        raise RuntimeError("injected failure at window 60")
    return run(scenario, seed)


# ---------------------------------------------------------------------------------------------- designs


def test_grid_is_the_full_factorial_with_common_seeds():
    spec = small_sweep(factors=[
        {"key": "retention.window_days", "values": [30, 90, 365]},
        {"key": "law_enforcement.investigators", "low": 10, "high": 40, "levels": 4, "integer": True},
        {"key": "demand.scale", "name": "scale", "low": 0.5, "high": 2.0, "levels": 3, "distribution": "loguniform"}])
    design = design_from(spec)
    assert len(design.points) == 3 * 4 * 3 and design.runs == 72
    assert design.points[0] == {"retention.window_days": 30, "law_enforcement.investigators": 10, "scale": 0.5}
    assert design.points[-1] == {"retention.window_days": 365, "law_enforcement.investigators": 40, "scale": 2.0}
    assert sorted({p["law_enforcement.investigators"] for p in design.points}) == [10, 20, 30, 40]
    assert sorted({p["scale"] for p in design.points}) == pytest.approx([0.5, 1.0, 2.0])
    tasks = design.tasks()
    assert [t.run_id for t in tasks] == list(range(72))
    # common random numbers: replication r has the same seed at every point
    assert design.seeds == replication_seeds(7, 2)
    assert {t.seed for t in tasks if t.replication == 1} == {design.seeds[1]}
    assert (tasks[5].point, tasks[5].replication) == (2, 1)
    assert tasks[5].overrides == ("retention.window_days=30", "law_enforcement.investigators=10", "demand.scale=2.0")


def test_lhs_puts_one_sample_in_each_stratum_and_depends_on_the_seed():
    factors = [{"key": "retention.preservation_request_share", "name": "share", "low": 0.0, "high": 1.0},
               {"key": "law_enforcement.investigators", "name": "staff", "low": 10, "high": 19, "integer": True},
               {"key": "demand.scale", "name": "scale", "low": 0.1, "high": 10.0, "distribution": "loguniform"}]
    design = design_from(small_sweep(design="lhs", samples=10, factors=factors))
    shares = [p["share"] for p in design.points]
    assert sorted(math.floor(s * 10) for s in shares) == list(range(10))      # Latin hypercube strata
    assert sorted(p["staff"] for p in design.points) == list(range(10, 20))    # each integer once
    scales = np.log10([p["scale"] for p in design.points])
    assert sorted(np.floor((scales + 1) / 0.2).astype(int)) == list(range(10))  # strata in log space
    again = design_from(small_sweep(design="lhs", samples=10, factors=factors))
    other = design_from(small_sweep(design="lhs", samples=10, factors=factors, seed=8))
    assert again.points == design.points and other.points != design.points


@pytest.mark.parametrize("second_order", [False, True])
def test_sobol_design_is_salibs_saltelli_sample_mapped_to_the_ranges(second_order):
    factors = [{"key": "retention.window_days", "name": "window", "low": 30, "high": 730, "integer": True},
               {"key": "law_enforcement.wilson_share", "name": "wilson", "low": 0.0, "high": 1.0},
               {"key": "demand.scale", "name": "scale", "low": 0.5, "high": 2.0, "distribution": "loguniform"}]
    design = design_from(small_sweep(design="sobol", samples=16, calc_second_order=second_order, factors=factors))
    unit = salib_sobol.sample({"num_vars": 3, "names": ["window", "wilson", "scale"], "bounds": [[0, 1]] * 3},
                              16, calc_second_order=second_order, seed=7)
    assert len(design.points) == 16 * (2 * 3 + 2 if second_order else 3 + 2) == len(unit)
    assert [p["wilson"] for p in design.points] == pytest.approx(unit[:, 1])
    assert [p["window"] for p in design.points] == [30 + math.floor(u * 701) for u in unit[:, 0]]
    assert [p["scale"] for p in design.points] == pytest.approx(0.5 * 4 ** unit[:, 2])
    assert design.manifest_design()["sobol"] == {"N": 16, "calc_second_order": second_order}


def test_star_key_sets_every_platform():
    spec = small_sweep(set={}, factors=[{"key": "platforms.*.automated_share", "name": "automated_share",
                                         "values": [0.2, 0.7]}])
    spec["base"] = "national"
    design = design_from(spec)
    names = [p.name for p in design.base.platforms]
    assert len(names) > 1 and design.keys["automated_share"] == [f"platforms.{n}.automated_share" for n in names]
    scenario = scenario_at(design.base.model_dump(mode="json"), design.point_overrides(1))
    assert {p.automated_share for p in scenario.platforms} == {0.7}


def test_shipped_sweeps_resolve_to_the_documented_designs():
    grid = resolve_design(*load_sweep("window_x_investigators"))
    assert grid.factor_names == ["retention.window_days", "law_enforcement.investigators"] and grid.runs == 8 * 6 * 5
    assert {p["retention.window_days"] for p in grid.points} >= {30, 90, 365, 730}
    sobol = resolve_design(*load_sweep("sobol_main"))
    assert sobol.spec.design == "sobol" and len(sobol.factor_names) == 8
    assert len(sobol.points) == 128 * (8 + 2)
    assert sobol.keys["platforms.*.automated_share"] == ["platforms.X.automated_share"]
    curve = resolve_design(*load_sweep("staffing_curve"))
    assert curve.runs == 9 * 2 * 3 and curve.base.law_enforcement.investigators == 200
    staffing = sorted({p["law_enforcement.investigators"] for p in curve.points})
    assert staffing[0] == 200 / 4 and staffing[-1] == 200 * 4      # a quarter to four times today's


# ---------------------------------------------------------------------------------------------- bad sweep files

BAD = [
    ({"colour": "red"}, ["unknown key", "colour", "allowed keys: name, description, base, set"]),
    ({"design": "factorial"}, ["design", "'grid', 'lhs' or 'sobol'"]),
    ({"factors": [{"key": "retention.window_days", "valus": [1]}]}, ["factors[0] (retention.window_days).valus",
                                                                      "unknown key", "allowed keys: key, name, values"]),
    ({"factors": [{"key": "retention.window_days", "values": [30], "low": 1, "high": 2}]}, ["not both"]),
    ({"factors": [{"key": "retention.window_days", "low": 90, "high": 30, "levels": 2}]}, ["low (90) must be less"]),
    ({"factors": [{"key": "retention.window_days", "values": [30, 0]}]},
     ["factors[0] (retention.window_days) = 0", "greater than or equal to 1", "allowed: 1"]),
    ({"factors": [{"key": "retention.windw_days", "values": [30]}]},
     ["factors[0] (retention.windw_days)", "unknown key 'windw_days'", "window_days"]),
    ({"factors": [{"key": "retention.window_days", "low": 30, "high": 90}]}, ["levels = N"]),
    ({"design": "sobol", "samples": 12}, ["power of two"]),
    ({"design": "lhs"}, ["needs samples"]),
    ({"replications": 0}, ["replications", "greater than or equal to 1"]),
    ({"base": "no_such_scenario"}, ["base", "no such scenario file"]),
    ({"set": {"run": {"dayz": 3}}}, ["set.run.dayz", "unknown key 'dayz'"]),
    ({"set": {"run": {"days": 0}}}, ["set.run.days", "run.days", "greater than or equal to 1"]),
    ({"factors": [{"key": "agencies.*", "values": [1]}]}, ["factors[0] (agencies.*)"]),
]


@pytest.mark.parametrize(("change", "expected"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_sweep_file_exits_2_naming_file_and_key_and_writes_nothing(tmp_path, capsys, change, expected):
    path = write_sweep(tmp_path, small_sweep(**change))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 2
    message = capsys.readouterr().err
    assert str(path) in message or "no such scenario" in message
    for text in expected:
        assert text in message, message
    assert not out.exists()


def test_unparsable_sweep_file_and_missing_file_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.toml"
    broken.write_text("base = \n")
    assert main(["sweep", str(broken), "--out", str(tmp_path / "o")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "absent.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "no such sweep file" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- running


def test_same_results_in_one_or_two_processes_and_on_a_dask_cluster():
    from distributed import LocalCluster

    spec = small_sweep()
    serial = run_sweep(spec, workers=1)
    assert len(serial) == 8 and serial.attrs["failed"] == 0
    assert list(serial.columns[:7]) == ["run_id", "point", "replication", "seed", "window_days", "investigators", "error"]
    assert serial["evidence_lost"].notna().all()
    # common random numbers: same seeds, same reports at every point
    assert serial.groupby("replication")["reports"].nunique().eq(1).all()
    parallel = run_sweep(spec, workers=2)
    assert same_results(serial, parallel)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        on_dask = run_sweep(spec, scheduler=cluster.scheduler_address)
    assert same_results(serial, on_dask)


def test_sweep_command_writes_manifest_and_parquet_quietly_and_matches_the_api(tmp_path, capsys):
    settled = {**SMALL_SET, "law_enforcement.backlog_limit_days": 10}   # warm-up 30 >= 3 limits: no note either
    path = write_sweep(tmp_path, small_sweep(set=settled))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--chunk-rows", "3"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    assert "8 of 8 runs" in captured.out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design"]["runs"] == 8 and manifest["design"]["seeds"] == replication_seeds(7, 2)
    assert manifest["base_scenario"]["run"]["days"] == 240 and manifest["tipline_version"]
    chunks = [pq.ParquetFile(p).metadata.num_rows for p in (out / "results").glob("part-*.parquet")]
    assert sum(chunks) == 8 and max(chunks) <= 3 and len(chunks) >= 3  # at most 3 runs a chunk (or 10 s' worth)
    stored = load_results(out)
    assert same_results(stored, run_sweep(path, workers=1))
    assert main(["sweep", str(path), "--out", str(out)]) == 2  # not empty, no --resume
    assert "--resume" in capsys.readouterr().err


def test_progress_bar_on_request(tmp_path, capsys):
    path = write_sweep(tmp_path, small_sweep(replications=1, factors=[{"key": "retention.window_days",
                                                                       "values": [60, 365]}]))
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1", "--progress"]) == 0
    err = capsys.readouterr().err
    assert "2/2" in err and ("run/s" in err or "s/run" in err)


def test_failing_runs_are_recorded_and_the_others_finish(tmp_path, capsys):
    # run.days=120 with run.warmup_days=150 is rejected by the scenario schema: a real failure in the worker
    spec = small_sweep(factors=[{"key": "run.days", "values": [120, 200]},
                                {"key": "run.warmup_days", "values": [30, 150]}])
    path = write_sweep(tmp_path, spec)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2"]) == 1
    assert "2 failed" in capsys.readouterr().out
    stored = load_results(out)
    assert len(stored) == 8
    failed = stored[stored["error"].notna()]
    assert set(zip(failed["run.days"], failed["run.warmup_days"], strict=True)) == {(120, 150)}
    assert failed["error"].str.contains("warmup_days").all()
    assert stored.loc[stored["error"].isna(), "evidence_lost"].notna().all()


def test_an_exception_inside_a_worker_process_fails_only_its_runs():
    frame = run_sweep(small_sweep(), workers=2, simulate=flaky_simulate)
    assert frame.attrs["failed"] == 4
    assert (frame.loc[frame["window_days"] == 60, "error"] == "RuntimeError: injected failure at window 60").all()
    assert frame.loc[frame["window_days"] == 365, "error"].isna().all()
    assert frame.loc[frame["window_days"] == 365, "evidence_lost"].notna().all()


# ---------------------------------------------------------------------------------------------- resume


def test_resume_after_sigkill_completes_without_duplicates_or_corrupt_files(tmp_path, capsys):
    spec = small_sweep(replications=3, factors=[
        {"key": "retention.window_days", "name": "window_days", "values": [60, 90, 180, 365, 545]},
        {"key": "law_enforcement.investigators", "name": "investigators", "values": [20, 34]}])  # 30 runs
    path = write_sweep(tmp_path, spec)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "model", "sweep", str(path), "--out", str(out), "--workers", "2",
               "--chunk-rows", "2"]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    try:
        while len(list((out / "results").glob("part-*.parquet"))) < 2:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the sweep wrote no chunk in time"
            time.sleep(0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the command and its worker processes, as kill -9 of the job
        child.wait()
    assert child.returncode == -signal.SIGKILL
    before = load_results(out)
    assert 0 < len(before) < 30, "the kill should land mid-sweep"
    (out / "results" / ".part-00999.parquet.tmp").write_bytes(b"half a file")  # as left by a kill mid-write
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--resume"]) == 0
    assert "30 of 30 runs" in capsys.readouterr().out
    assert not list((out / "results").glob(".*"))
    parts = sorted((out / "results").glob("part-*.parquet"))
    ids = [i for part in parts for i in pq.read_table(part).column("run_id").to_pylist()]  # every file readable
    assert sorted(ids) == list(range(30))
    resumed = load_results(out)
    assert same_results(resumed.iloc[before["run_id"]], before)  # stored runs kept as they were
    assert same_results(resumed, run_sweep(path, workers=1))     # and the whole equals an uninterrupted sweep


def test_resume_refuses_a_different_design(tmp_path, capsys):
    path = write_sweep(tmp_path, small_sweep(replications=1, factors=[{"key": "retention.window_days",
                                                                       "values": [60]}]))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--resume"]) == 0  # nothing left to run
    assert len(load_results(out)) == 1
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--set", "retention.voluntary_extra_days=5"]) == 2
    assert "differs from the one stored there" in capsys.readouterr().err
    write_sweep(tmp_path, small_sweep(replications=2, factors=[{"key": "retention.window_days", "values": [60]}]))
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 2
    assert "design (factors, points, seeds) differs" in capsys.readouterr().err
    assert len(load_results(out)) == 1


def test_store_ignores_temporary_files_and_numbers_chunks_after_existing_ones(tmp_path):
    design = design_from(small_sweep())
    store = ResultStore.create(tmp_path / "s", design.manifest())
    store.add({"run_id": 3, "point": 1, "replication": 1, "seed": design.seeds[1], **design.points[1], "error": None,
               "x": 1.0})
    store.flush()
    (store.results / ".part-00001.parquet.tmp").write_bytes(b"junk")
    again = ResultStore.reopen(tmp_path / "s", design.manifest())
    assert again.finished_run_ids() == {3} and not list(again.results.glob(".*"))
    again.add({"run_id": 4, "point": 2, "replication": 0, "seed": design.seeds[0], **design.points[2],
               "error": "ValueError: x"})
    again.flush()
    assert [p.name for p in again.parts()] == ["part-00000.parquet", "part-00001.parquet"]
    frame = load_results(tmp_path / "s")
    assert list(frame["run_id"]) == [3, 4] and math.isnan(frame.loc[1, "x"])


def test_dry_run_prints_the_design_and_writes_nothing(tmp_path, capsys):
    path = write_sweep(tmp_path, small_sweep())
    assert main(["sweep", str(path), "--dry-run"]) == 0
    assert "4 points x 2 replications = 8 runs" in capsys.readouterr().out
    assert main(["sweep", str(path)]) == 2


def test_sweep_notes_design_points_counted_before_their_queues_settle(tmp_path, capsys):
    """A backlog limit of 120 days needs 360 days of warm-up (docs/sweeps.md, warm-up); the note says how many
    points fall short and the warm-up that covers them all, and is silent when the warm-up is long enough."""
    limits = {"key": "law_enforcement.backlog_limit_days", "values": [10, 120]}
    path = write_sweep(tmp_path, small_sweep(factors=[limits]))
    assert main(["sweep", str(path), "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert "1 of 2 design points have run.warmup_days shorter than 3 times" in err and "run.warmup_days=360" in err
    long_enough = small_sweep(factors=[limits], set={**SMALL_SET, "run.days": 500, "run.warmup_days": 360})
    assert main(["sweep", str(write_sweep(tmp_path, long_enough, "long.toml")), "--dry-run"]) == 0
    assert "warmup_days" not in capsys.readouterr().err
    warmups = {"key": "run.warmup_days", "values": [30, 360]}   # read from the factor: 1 point (120, 30), not 2
    both = small_sweep(factors=[limits, warmups], set={**SMALL_SET, "run.days": 500})
    assert main(["sweep", str(write_sweep(tmp_path, both, "both.toml")), "--dry-run"]) == 0
    assert "1 of 4 design points" in capsys.readouterr().err


@pytest.fixture(scope="module")
def stored_sweep(tmp_path_factory) -> Path:
    """The small 2 x 2 grid, 2 replications, run into a sweep directory."""
    tmp = tmp_path_factory.mktemp("stored")
    out = tmp / "out"
    assert main(["sweep", str(write_sweep(tmp, small_sweep())), "--out", str(out), "--workers", "1"]) == 0
    return out


def test_run_reruns_one_design_point_of_a_sweep_as_its_runs_did_and_with_changes(stored_sweep, capsys):
    """`tipline run DIR --point N [--replication R]`: the stored run's scenario and seed, then --set (e.g. a longer
    warm-up, to check a draw the settling check flagged)."""
    out = stored_sweep
    stored = load_results(out).set_index(["point", "replication"])
    capsys.readouterr()
    for point, replication in ((1, 0), (2, 1)):
        assert main(["run", str(out), "--point", str(point), "--replication", str(replication), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        row = stored.loc[(point, replication)]
        assert summary["seed"] == row["seed"] and summary["evidence_lost_us"] == row["evidence_lost_us"]
        assert summary["evidence_lost_rate_us"] == row["evidence_lost_rate_us"]
    assert main(["run", str(out), "--point", "1", "--set", "run.warmup_days=60", "--days", "300", "--json"]) == 0
    longer = json.loads(capsys.readouterr().out)
    assert longer["days"] == 300 and longer["seed"] == stored.loc[(1, 0), "seed"]
    assert longer["evidence_lost_us"] != stored.loc[(1, 0), "evidence_lost_us"]


@pytest.mark.parametrize("args, message", [
    (["{out}"], "{out}: a sweep directory; choose one of its design points with --point N"),
    (["{out}", "--point", "4"], "--point 4: {out} has design points 0 to 3"),
    (["{out}", "--point", "0", "--replication", "2"], "--replication 2: {out} has replications 0 to 1"),
    (["x_platform", "--point", "0"], "--point 0: x_platform is not a sweep directory"),
    (["x_platform", "--replication", "1"], "--replication needs --point and a sweep directory"),
])
def test_rerunning_a_design_point_that_does_not_exist_is_bad_input(stored_sweep, capsys, args, message):
    capsys.readouterr()
    assert main(["run", *(a.format(out=stored_sweep) for a in args)]) == 2
    assert f"tipline: error: {message.format(out=stored_sweep)}" in capsys.readouterr().err
