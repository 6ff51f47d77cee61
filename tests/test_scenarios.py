"""Scenario files: inheritance, overrides, round trips, and a clear error for every kind of bad input."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from model import ScenarioError, load_scenario
from model.scenarios import SCENARIO_DIR, to_toml

SHIPPED = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_is_valid(name):
    assert load_scenario(name).name == name


def test_the_issue_names_these_scenarios():
    assert {"national", "baseline_90day", "report_act_1yr", "x_platform", "double_analysts",
            "double_investigators", "viral_surge"} <= set(SHIPPED)


def test_baseline_and_report_act_differ_only_in_the_window():
    a, b = load_scenario("baseline_90day"), load_scenario("report_act_1yr")
    assert (a.retention.window_days, b.retention.window_days) == (90, 365)
    da, db = a.model_dump(exclude={"name", "description"}), b.model_dump(exclude={"name", "description"})
    da["retention"].pop("window_days"), db["retention"].pop("window_days")
    assert da == db


def test_child_overrides_parent_key_by_key(tmp_path):
    write(tmp_path, "parent.toml", "[retention]\nwindow_days = 200\nvoluntary_extra_days = 5\n")
    child = write(tmp_path, "child.toml", 'extends = "parent.toml"\n[retention]\nwindow_days = 30\n')
    s = load_scenario(child)
    assert (s.retention.window_days, s.retention.voluntary_extra_days) == (30, 5)
    assert s.name == "child"


def test_set_overrides_by_dotted_path_and_platform_name():
    s = load_scenario("national", ["retention.window_days=365", "platforms.X.reports_per_day=2500",
                                   "platforms.0.us_share=0.03", "ncmec.triage_policy=fifo"])
    assert s.retention.window_days == 365
    assert s.platforms[2].name == "X" and s.platforms[2].reports_per_day == 2500
    assert s.platforms[0].us_share == 0.03
    assert s.ncmec.triage_policy == "fifo"


def test_resolved_toml_loads_back_to_the_same_scenario(tmp_path):
    s = load_scenario("viral_surge", ["ncmec.analysts=70"])
    path = write(tmp_path, "resolved.toml", to_toml(s))
    assert load_scenario(path) == s
    assert tomllib.loads(to_toml(s))["ncmec"]["analysts"] == 70


# --- bad input: one clear message naming the file, the key and what is allowed ------------------

def error_of(source, overrides=()) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides)
    return str(info.value)


def test_unknown_key_names_file_key_and_allowed_keys(tmp_path):
    path = write(tmp_path, "s.toml", "[retention]\nwindow_dayz = 30\n")
    message = error_of(path)
    assert str(path) in message and "retention.window_dayz" in message
    assert "unknown key" in message and "window_days" in message


def test_wrong_type_names_the_key_and_range(tmp_path):
    path = write(tmp_path, "s.toml", '[retention]\nwindow_days = "a year"\n')
    message = error_of(path)
    assert str(path) in message and "retention.window_days" in message and "1 to 3,650" in message


def test_out_of_range_share_names_platform_and_range(tmp_path):
    path = write(tmp_path, "s.toml", '[[platforms]]\nname = "X"\nautomated_share = 1.5\n')
    message = error_of(path)
    assert "platforms['X'].automated_share" in message and "0 to 1" in message


def test_negative_staff_is_refused(tmp_path):
    path = write(tmp_path, "s.toml", "[law_enforcement]\ninvestigators = -10\n")
    message = error_of(path)
    assert "law_enforcement.investigators" in message and "greater than or equal to 0" in message


def test_unknown_policy_lists_the_policies():
    message = error_of("x_platform", ["ncmec.triage_policy=random"])
    assert "--set ncmec.triage_policy=random" in message
    for policy in ("fifo", "urgent_first", "deadline_first", "quality_first"):
        assert policy in message


def test_missing_extends_names_the_file(tmp_path):
    path = write(tmp_path, "s.toml", 'extends = "nowhere.toml"\n')
    message = error_of(path)
    assert str(path.resolve()) in message and "nowhere.toml" in message and "no such scenario" in message


def test_cyclic_extends_shows_the_cycle(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    message = error_of(tmp_path / "a.toml")
    assert "cyclic" in message and "a.toml -> " in message and "b.toml" in message


def test_unreadable_and_malformed_files(tmp_path):
    assert "no such scenario file" in error_of(tmp_path / "absent.toml")
    assert "not valid TOML" in error_of(write(tmp_path, "bad.toml", "x = [\n"))
    directory = tmp_path / "dir.toml"
    directory.mkdir()
    assert "dir.toml" in error_of(directory)


@pytest.mark.parametrize(("override", "expected"), [
    ("retention.windw=3", "unknown key 'windw' in retention"),
    ("platforms.Y.reports_per_day=3", "has no entry 'Y'"),
    ("run.days.x=3", "is a value, not a table"),
    ("no_equals_sign", "expected KEY=VALUE"),
    ("bogus=1", "unknown key 'bogus' in the top level"),
])
def test_bad_set_paths(override, expected):
    message = error_of("x_platform", [override])
    assert expected in message and override in message


def test_cross_field_rules():
    assert "warmup_days" in error_of("x_platform", ["run.warmup_days=800"])
    assert "routing_share" in error_of("x_platform", ["agencies.0.routing_share=0.5"])
    assert "us_share + unknown_location_share" in error_of("x_platform", ["platforms.X.us_share=0.995"])
