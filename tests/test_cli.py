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
from model.scenarios import load_scenario
from tests.conftest import SMALL

SMALL_SET = [arg for item in SMALL for arg in ("--set", item)]

#: The keys DESIGN §6 promises, with their types (rates are None only when nothing needed legal process).
RUN_KEYS = {"scenario": str, "seed": int, "days": int, "drain_days": int, "reports": int, "referred_us": int,
            "referred_foreign": int, "informational": int, "closed_not_actionable": int, "closed_unworked": int,
            "legal_process_needed": int, "legal_process_served": int, "evidence_lost": int,
            "evidence_lost_rate": float, "isp_logs_lost": int, "undecided": int,
            "median_days_to_legal_process": int, "p90_days_to_legal_process": int, "arrests": int,
            "evidence_lost_us": int, "legal_process_served_us": int, "evidence_lost_rate_us": float,
            "evidence_lost_foreign": int, "legal_process_served_foreign": int, "evidence_lost_rate_foreign": float,
            **{f"evidence_lost_at_{stage}": int for stage in ("ncmec", "agency_queue", "warrant", "identification",
                                                             "drafting", "mlat", "closed_unworked")},
            "wall_seconds": float}


def tipline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model", *args], capture_output=True, text=True, timeout=300)


def test_run_json_has_every_documented_key_with_its_type():
    result = tipline("run", "x_platform", *SMALL_SET, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    for key, kind in RUN_KEYS.items():
        assert isinstance(summary[key], kind), key
    assert summary["scenario"] == "x_platform" and summary["days"] == 240 and summary["undecided"] == 0
    assert list(summary).index("evidence_lost_rate_us") < list(summary).index("evidence_lost_rate")  # US first


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
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("x_platform: ")
    assert lines[1].startswith("Evidence lost before legal process reached the platform: US ") and "%" in lines[1]
    assert lines[1].index("US") < lines[1].index("foreign")
    assert lines[2].startswith("Counted: ") and "none undecided" in lines[2]
    assert any(line.startswith("evidence_lost_rate_us") and line.rstrip().endswith("share") for line in lines)


def test_an_overloaded_run_says_so(capsys):
    assert main(["run", "x_platform", *SMALL_SET, "--set", "law_enforcement.investigators=4",
                 "--set", "law_enforcement.backlog_limit_days=3650", "--set", "run.drain_max_days=20"]) == 0
    out = capsys.readouterr().out
    assert "undecided when the drain cap was reached: the pipeline is overloaded" in out


def test_run_out_writes_summary_series_and_resolved_scenario(tmp_path, capsys):
    out = tmp_path / "run1"
    assert main(["run", "x_platform", *SMALL_SET, "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in out.iterdir()) == ["flows.csv", "scenario.toml", "summary.json", "timeseries.csv",
                                                    "timeseries.parquet"]
    assert json.loads((out / "summary.json").read_text()) == printed
    daily = pd.read_csv(out / "timeseries.csv")
    assert len(daily) == 1 + 240 + printed["drain_days"]
    # the series books each loss on its day; legal process still on its way after the drain is in the summary
    assert 0.9 * printed["evidence_lost"] <= daily["evidence_lost"].iloc[-1] <= printed["evidence_lost"]
    flows = pd.read_csv(out / "flows.csv")
    assert list(flows.columns) == ["from", "to", "reports"]
    assert flows.loc[flows["to"] == "NCMEC", "reports"].sum() == printed["reports"]
    assert pd.read_parquet(out / "timeseries.parquet").equals(daily)
    resolved = tomllib.loads((out / "scenario.toml").read_text())
    assert resolved["run"]["days"] == 240 and resolved["platforms"][0]["reports_per_day"] == 400
    # the resolved scenario reproduces the run, without --out (and so without recording the daily series)
    assert main(["run", str(out / "scenario.toml"), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert {**again, "wall_seconds": 0} == {**printed, "wall_seconds": 0}


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


@pytest.mark.parametrize(("option", "typed"), [(["--days", "5"], "--days 5"), (["--seed", "-3"], "--seed -3")])
def test_a_bad_days_or_seed_is_reported_as_the_option_typed(option, typed, capsys):
    assert main(["run", "x_platform", *option]) == 2
    err = capsys.readouterr().err
    assert f"{typed}:" in err and "--set run." not in err.split(": (scenario)")[0]


def test_a_run_shorter_than_its_warm_up_is_refused_with_a_way_out(capsys):
    assert main(["run", "x_platform", "--days", "100"]) == 2
    assert "(shorten the warm-up too, e.g. --set run.warmup_days=25)" in capsys.readouterr().err
    assert main(["run", "x_platform", "--days", "100", "--set", "run.warmup_days=25", *SMALL_SET, "--json"]) == 0


def test_an_option_override_survives_pickling_and_copying():
    import copy
    import pickle

    from model.scenarios import Override

    days = Override("run.days=5", "--days 5")
    for copied in (pickle.loads(pickle.dumps(days)), copy.deepcopy(days)):
        assert copied == "run.days=5" and copied.origin == "--days 5"


def test_a_warm_up_shorter_than_three_backlog_limits_gets_a_note_and_the_defaults_none(capsys):
    """Queues settle in up to three times the agencies' backlog limit (docs/ODD.md, warm-up): counting earlier
    understates."""
    from model.params import warmup_note

    assert warmup_note(load_scenario("x_platform")) is None and warmup_note(load_scenario("baseline_90day")) is None
    assert "set run.warmup_days=1095" in warmup_note(load_scenario("x_platform", ["law_enforcement.backlog_limit_days=365"]))
    assert main(["run", "x_platform", *SMALL_SET, "--json"]) == 0
    assert "note: x_platform: run.warmup_days (30) is shorter than 3 times the agencies' backlog limit (360 days)" in \
        capsys.readouterr().err


def test_a_run_whose_counted_halves_differ_beyond_chance_says_so_and_a_settled_one_does_not(capsys):
    """The settling check (model/settling.py): the small run counts from day 31, its queues still filling."""
    assert main(["run", "x_platform", *SMALL_SET, "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["evidence_lost_rate_us_second_half"] > summary["evidence_lost_rate_us_first_half"]
    assert "note: x_platform: the US loss rose from" in captured.err
    assert main(["run", "x_platform", "--json"]) == 0   # a year of warm-up: settled
    assert "the US loss" not in capsys.readouterr().err


def test_running_out_of_memory_says_what_to_change_not_internal_error(monkeypatch, capsys):
    import model.cli as cli

    def too_big(args):
        raise MemoryError("Unable to allocate 625. MiB for an array")

    monkeypatch.setattr(cli, "cmd_run", too_big)
    assert main(["run", "x_platform"]) == 1
    err = capsys.readouterr().err
    assert "out of memory" in err and "demand.scale" in err and "internal error" not in err


def test_argparse_usage_errors_also_exit_2():
    assert tipline("run").returncode == 2
    assert tipline("frobnicate").returncode == 2


def test_compare_of_one_scenario_leads_with_the_us_headline_under_both_rules(capsys):
    assert main(["compare", "x_platform", *SMALL_SET, "-r", "3", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("US evidence lost before legal process: x_platform (90-day rule) ")
    assert "x_platform (one-year retention)" in lines[0] and "percentage points (95% CI" in lines[0]
    assert lines[1].startswith("Foreign (MLAT) evidence lost")
    assert "95% CI low" in captured.out and "evidence_lost_rate_us" in captured.out and "warning" not in captured.err
    assert "note: A (x_platform (90-day rule)): the US loss rose from" in captured.err   # counted from day 31


def test_compare_warns_when_a_and_b_differ_beyond_policy(capsys):
    args = ["compare", "x_platform", "x_platform", *SMALL_SET, "--set-b", "platforms.X.reports_per_day=300",
            "-r", "2", "--workers", "1"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "warning: A and B differ in 1 keys that are not policy or staffing (platforms[X].reports_per_day)" in err


#: Libraries the command's help must not wait for (together about 2 s of a 2.7 s ``tipline --help`` until 2026-11-27).
HEAVY = ("mesa", "pandas", "scipy", "pyarrow", "solara", "dask")


def test_help_answers_without_loading_the_model_or_the_data_libraries():
    code = (
        "import sys\n"
        "from model.cli import build_parser, main\n"
        "commands = [[]] + [[name] for name in build_parser()._subparsers._group_actions[0].choices]\n"
        "for command in commands:\n"
        "    try:\n"
        "        main([*command, '--help'])\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0, command\n"
        f"print(len(commands), sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, loaded = result.stderr.strip().split(" ", 1)
    assert int(count) >= 10 and loaded == "[]"


def test_the_python_api_still_offers_every_name_it_documents():
    import model
    import model.sweeps
    import model.uncertainty

    for package in (model, model.sweeps, model.uncertainty):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        model.nothing  # noqa: B018


def test_compare_help_shows_a_single_percent_sign():
    result = tipline("compare", "--help")
    assert "95% confidence interval" in result.stdout and "%%" not in result.stdout
    assert "--set-a" in result.stdout and "--set-b" in result.stdout


def test_compare_json_of_two_windows(tmp_path, capsys):
    one_year = tmp_path / "one_year.toml"
    one_year.write_text('extends = "x_platform"\n[retention]\nwindow_days = 365\n')
    assert main(["compare", "x_platform", str(one_year), *SMALL_SET, "-r", "3", "--workers", "2", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["a"], payload["b"], payload["replications"]) == ("x_platform", "one_year", 3)
    lost = payload["metrics"]["evidence_lost_rate_us"]
    assert lost["b"] < lost["a"] and lost["ci_high"] < 0 and lost["ci_low"] <= lost["difference"] <= lost["ci_high"]
    assert payload["metrics"]["reports"]["difference"] == 0  # same seeds, same reports
    assert payload["headline"].startswith("US ") and payload["differs"] == []
    assert payload["flows"]["a"][0][1] == "NCMEC"


def test_params_lists_value_unit_range_and_source(capsys):
    assert main(["params", "x_platform"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("retention.window_days"))
    assert "90" in line and "days" in line and "1 to 3,650" in line
    assert "sources §5" in out.split(line)[1].split("\n")[2]
    assert max(len(line) for line in out.splitlines()) <= 100   # readable in a 100-column terminal
    assert main(["params", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(r["source"] for r in rows)
    hours = next(r for r in rows if r["key"] == "law_enforcement.review_hours")
    assert hours["plausible"] == [1.0, 6.0] and hours["plausible_scale"] == "log"


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
