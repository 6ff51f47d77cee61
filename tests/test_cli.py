"""The `tipline` command end to end, as a user runs it (subprocesses for the real entry points)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main
from tests.conftest import SMALL

SMALL_SET = [arg for item in SMALL for arg in ("--set", item)]

RUN_KEYS = {"scenario": str, "seed": int, "days": int, "reports": int, "referred_us": int,
            "referred_foreign": int, "informational": int, "closed_not_actionable": int,
            "legal_process_needed": int, "legal_process_served": int, "evidence_lost": int,
            "evidence_lost_rate": float, "isp_logs_lost": int, "pending": int,
            "median_days_to_legal_process": int, "p90_days_to_legal_process": int, "arrests": int,
            "wall_seconds": float}


def tipline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model", *args], capture_output=True, text=True, timeout=300)


def test_run_json_has_every_documented_key_with_its_type():
    result = tipline("run", "x_platform", *SMALL_SET, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    for key, kind in RUN_KEYS.items():
        assert isinstance(summary[key], kind), key
    assert summary["scenario"] == "x_platform" and summary["days"] == 240


def test_run_json_is_byte_identical_apart_from_wall_time(capsys):
    outputs = []
    for _ in range(2):
        assert main(["run", "x_platform", *SMALL_SET, "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        summary.pop("wall_seconds")
        outputs.append(json.dumps(summary))
    assert outputs[0] == outputs[1]


def test_seed_and_days_flags(capsys):
    assert main(["run", "x_platform", *SMALL_SET, "--seed", "7", "--days", "100", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["seed"], summary["days"]) == (7, 100)


def test_run_table_is_readable(capsys):
    assert main(["run", "x_platform", *SMALL_SET]) == 0
    out = capsys.readouterr().out
    assert "evidence_lost_rate" in out and "x_platform" in out


def test_run_out_writes_summary_series_and_resolved_scenario(tmp_path, capsys):
    out = tmp_path / "run1"
    assert main(["run", "x_platform", *SMALL_SET, "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in out.iterdir()) == ["scenario.toml", "summary.json", "timeseries.csv",
                                                    "timeseries.parquet"]
    assert json.loads((out / "summary.json").read_text()) == printed
    daily = pd.read_csv(out / "timeseries.csv")
    assert len(daily) == 241 and daily["evidence_lost"].iloc[-1] == printed["evidence_lost"]
    assert pd.read_parquet(out / "timeseries.parquet").equals(daily)
    resolved = tomllib.loads((out / "scenario.toml").read_text())
    assert resolved["run"]["days"] == 240 and resolved["platforms"][0]["reports_per_day"] == 400
    # the resolved scenario reproduces the run
    assert main(["run", str(out / "scenario.toml"), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["evidence_lost"] == printed["evidence_lost"]


def test_run_out_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("x")
    assert main(["run", "x_platform", *SMALL_SET, "--out", str(tmp_path)]) == 2
    assert "not an empty directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("args", [
    ["run", "no_such_scenario"],
    ["run", "x_platform", "--set", "ncmec.analysts=-1"],
    ["run", "x_platform", "--set", "retention.windw=3"],
    ["run", "x_platform", "--days", "0"],
    ["compare", "x_platform", "nope"],
    ["compare", "--replications", "0"],
    ["validate", "x_platform", "nope"],
])
def test_bad_input_exits_2_with_a_message_and_writes_nothing(tmp_path, args):
    out = tmp_path / "out"
    extra = ["--out", str(out)] if args[0] == "run" else []
    result = tipline(*args, *extra)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("tipline: error: ") and result.stdout.count("\n") <= 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_argparse_usage_errors_also_exit_2():
    assert tipline("run").returncode == 2
    assert tipline("frobnicate").returncode == 2


def test_compare_prints_a_paired_table(capsys):
    args = ["compare", "x_platform", "x_platform", *SMALL_SET, "--set", "retention.window_days=90",
            "-r", "3", "--workers", "1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "95% CI low" in out and "evidence_lost_rate" in out


def test_compare_json_of_two_windows(tmp_path, capsys):
    one_year = tmp_path / "one_year.toml"
    one_year.write_text('extends = "x_platform"\n[retention]\nwindow_days = 365\n')
    assert main(["compare", "x_platform", str(one_year), *SMALL_SET, "-r", "3", "--workers", "2", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["a"], payload["b"], payload["replications"]) == ("x_platform", "one_year", 3)
    lost = payload["metrics"]["evidence_lost"]
    assert lost["b"] < lost["a"] and lost["ci_high"] < 0 and lost["ci_low"] <= lost["difference"] <= lost["ci_high"]
    assert payload["metrics"]["reports"]["difference"] == 0  # same seeds, same reports


def test_params_lists_value_unit_range_and_source(capsys):
    assert main(["params", "x_platform"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("retention.window_days"))
    assert "90" in line and "days" in line and "1 to 3,650" in line and "calibration-sources §5" in line
    assert main(["params", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(r["source"] for r in rows)


def test_validate_reports_each_file(capsys):
    assert main(["validate", "x_platform", "national"]) == 0
    assert capsys.readouterr().out.count("ok: ") == 2


def test_help_explains_commands():
    result = tipline("--help")
    assert result.returncode == 0
    for command in ("run", "compare", "params", "validate"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("tipline")
    result = subprocess.run([str(script), "validate", "x_platform"], capture_output=True, text=True)
    assert result.returncode == 0 and "ok: x_platform" in result.stdout
