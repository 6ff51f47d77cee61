"""Hostile input: every bad scenario file, --set, sweep file or option is a clear error (exit 2) that names
the file or option and the key, leaks no traceback and writes nothing. Table-driven, then property-based
(hypothesis) from the schema itself."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.cli import main
from model.params import Scenario
from model.schema import parameters

#: name -> (scenario file body, or None for bytes below; fragments the message must hold)
SCENARIO_FILES = {
    "string for a number": ('[retention]\nwindow_days = "90"\n', ["retention.window_days", "valid integer"]),
    "bool for an integer": ("[ncmec]\nanalysts = true\n", ["ncmec.analysts", "valid integer"]),
    "NaN in a list": ("[demand]\nweekday_factors = [1, 1, 1, 1, 1, 1, nan]\n", ["demand.weekday_factors[6]", "finite"]),
    "infinity": ("[law_enforcement]\ndrafting_hours = inf\n", ["law_enforcement.drafting_hours", "finite"]),
    "unknown key": ("[retention]\nwindow_dayz = 90\n", ["retention.window_dayz", "unknown key"]),
    "out of range": ("[retention]\nwindow_days = 0\n", ["retention.window_days", "1 to 3,650"]),
    "negative share": ("[retention]\npreservation_request_share = -0.1\n", ["retention.preservation_request_share"]),
    "policy not allowed": ('[ncmec]\ntriage_policy = "random"\n', ["ncmec.triage_policy", "fifo"]),
    "scalar for a list": ("[demand]\nweekday_factors = 1\n", ["demand.weekday_factors"]),
    "not TOML": ("[retention\nwindow_days = 90\n", ["not valid TOML"]),
    "extends a missing file": (None, ["extends", "nope.toml"]),
    "two rules at odds": ("[run]\ndays = 100\nwarmup_days = 200\n", ["run.warmup_days", "run.days"]),
}


def call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    return code, err


def scenario_file(tmp_path: Path, body: str | None) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text('extends = "nope.toml"\n' if body is None else f'extends = "x_platform"\n{body}')
    return path


@pytest.mark.parametrize("case", sorted(SCENARIO_FILES))
def test_a_bad_scenario_file_names_the_file_and_key_and_writes_nothing(case, tmp_path, capsys):
    body, fragments = SCENARIO_FILES[case]
    path = scenario_file(tmp_path, body)
    out = tmp_path / "out"
    for argv in (["validate", str(path)], ["run", str(path), "--out", str(out)]):
        code, err = call(capsys, *argv)
        assert code == 2, (case, err)
        assert str(path) in err and all(f in err for f in fragments), (case, err)
    assert not out.exists()


def test_files_that_are_not_utf8_are_named_scenario_parent_and_sweep(tmp_path, capsys):
    parent = tmp_path / "parent.toml"
    parent.write_bytes(b'extends = "x_platform"\n# caf\xe9\n')
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\n')
    sweep = tmp_path / "sweep.toml"
    sweep.write_bytes(b'base = "x_platform"\n# \xff\n')
    for argv, named in ((["validate", str(child)], parent), (["sweep", str(sweep), "--dry-run"], sweep)):
        code, err = call(capsys, *argv)
        assert code == 2 and str(named) in err and "not UTF-8" in err and "line 2" in err, err


def test_a_long_extends_chain_is_refused_before_python_recursion_gives_up(tmp_path, capsys):
    for i in range(2000):
        (tmp_path / f"s{i}.toml").write_text(f'extends = "s{i + 1}.toml"\n')
    (tmp_path / "s2000.toml").write_text('extends = "x_platform"\n')
    code, err = call(capsys, "validate", str(tmp_path / "s0.toml"))
    assert code == 2 and "chain of more than 32 files" in err and "s0.toml" in err


@pytest.mark.parametrize("override,fragments", [
    ("retention.window_days", ["expected KEY=VALUE"]),
    ("retention.window_days=abc", ["retention.window_days", "valid integer"]),
    ("retention.nope=1", ["retention.nope", "unknown key"]),
    ("platforms.5.reports_per_day=5", ["no entry '5'", "index 0 or a name: X"]),
    ("demand.surges.0.start_day=5", ["'demand.surges' is empty"]),
    ("run.days=10", ["--set run.days=10", "run.warmup_days"]),   # the rule is blamed on the --set that broke it
])
def test_a_bad_set_names_the_option_and_key(override, fragments, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = call(capsys, "run", "x_platform", "--set", override, "--out", str(out))
    assert code == 2 and all(f in err for f in fragments), err
    assert not out.exists()


@pytest.mark.parametrize("argv,fragment", [
    (["compare", "x_platform", "--workers", "0"], "--workers: 0: must be at least 1"),
    (["compare", "x_platform", "--workers", "-1"], "must be at least 1"),
    (["compare", "x_platform", "-r", "0"], "--replications 0: must be 1 to 100,000"),
    (["compare", "x_platform", "-r", "200000"], "--replications 200,000: must be 1 to 100,000"),
    (["uncertainty", "x_platform", "-r", "100001"], "--replications 100,001: must be 1"),
    (["equivalence", "x_platform", "-r", "0"], "--replications 0: must be 1 to 100,000"),
    (["uncertainty", "x_platform", "-n", "1"], "-n 1"),
    (["uncertainty", "x_platform", "--workers", "0"], "must be at least 1"),
    (["report", "nothing_here", "--out", "r.html"], "nothing_here"),
    (["report", ".", "--out", "r.html", "--formats", "gif"], "--formats gif"),
    (["run", "x_platform", "--out", "/proc/tipline-test"], "cannot write in /proc"),
    (["run", "x_platform", "--out", "{file}/sub"], "is a file, not a folder"),
    (["uncertainty", "x_platform", "--out", "{file}/sub"], "is a file, not a folder"),
    (["report", "{file}", "--out", "{file}/r.html"], "is a file, not a folder"),
    (["sweep", "window_x_investigators", "--out", "/proc/tipline-test"], "cannot write in /proc"),
    (["sweep", "window_x_investigators", "--out", "{file}/sub"], "is a file, not a folder"),
])
def test_bad_options_exit_2_before_any_work(argv, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    argv = [a.replace("{file}", str(tmp_path / "afile")) for a in argv]
    try:
        code, err = call(capsys, *argv)
    except SystemExit as exc:          # argparse's own errors (type checks) exit 2 too
        code, err = exc.code, capsys.readouterr().err
    assert code == 2 and fragment in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.parametrize("design", [
    'design = "lhs"\nsamples = 10000000\n[[factors]]\nkey = "retention.window_days"\nlow = 30\nhigh = 730\n',
    '[[factors]]\nkey = "retention.window_days"\nlow = 30\nhigh = 730\nlevels = 3\n'
    '[[factors]]\nkey = "ncmec.analysts"\nlow = 1\nhigh = 10000\nlevels = 10000\n'
    '[[factors]]\nkey = "law_enforcement.investigators"\nlow = 100\nhigh = 10000\nlevels = 10000\n',
])
def test_a_design_too_large_to_hold_is_refused_with_its_size_before_it_is_built(design, tmp_path, capsys):
    path = tmp_path / "huge.toml"
    path.write_text(f'base = "x_platform"\n{design}')
    code, err = call(capsys, "sweep", str(path), "--dry-run")
    assert code == 2 and "the design would make" in err and "at most 2,000,000" in err and str(path) in err


# --- property-based: values drawn for every numeric parameter of the schema ---------------------------

NUMERIC = [p for p in parameters(Scenario()) if p.low is not None and p.high is not None and "[" not in p.key
           and isinstance(p.value, int | float) and not isinstance(p.value, bool)]


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


values = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                   st.booleans(), st.text(alphabet="abc09.-", max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parameter=st.sampled_from(NUMERIC), value=values, through_set=st.booleans())
def test_any_value_of_any_parameter_is_accepted_or_refused_with_its_key(parameter, value, through_set, tmp_path,
                                                                        capsys):
    section, _, key = parameter.key.rpartition(".")
    if through_set:
        argv = ["validate", "x_platform", "--set", f"{parameter.key}={_toml(value)}"]
    else:
        path = tmp_path / "generated.toml"
        path.write_text(f'extends = "x_platform"\n[{section}]\n{key} = {_toml(value)}\n')
        argv = ["validate", str(path)]
    code, err = call(capsys, *argv)
    wrong_type = isinstance(value, bool | str) or (parameter.is_integer and isinstance(value, float))
    bad = wrong_type or not (isinstance(value, int | float) and math.isfinite(value)
                             and parameter.low <= value <= parameter.high)
    if bad:
        assert code == 2 and parameter.key in err, (parameter.key, value, err)
    else:
        # in range and of the right type: valid, unless a rule tying it to another key says otherwise
        assert code == 0 or (code == 2 and "(scenario)" in err), (parameter.key, value, err)
