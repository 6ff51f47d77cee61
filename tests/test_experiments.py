"""Paired comparisons: seeds, pairing, confidence intervals and independence from the worker count."""

from __future__ import annotations

import numpy as np
import pytest

from model.experiments import compare, mean_interval, paired_table, replication_seeds


def test_replication_seeds_are_reproducible_and_distinct():
    assert replication_seeds(42, 5) == replication_seeds(42, 5)
    assert len(set(replication_seeds(42, 20))) == 20
    assert replication_seeds(42, 3) == replication_seeds(42, 5)[:3]


def test_paired_table_statistics():
    runs_a = [{"reports": 10, "scenario": "a"}, {"reports": 12, "scenario": "a"}, {"reports": 14, "scenario": "a"}]
    runs_b = [{"reports": 11, "scenario": "b"}, {"reports": 14, "scenario": "b"}, {"reports": 17, "scenario": "b"}]
    row = paired_table(runs_a, runs_b).loc["reports"]
    assert (row["a"], row["b"], row["difference"]) == (12, 14, 2)
    assert row["difference_se"] == pytest.approx(np.std([1, 2, 3], ddof=1) / np.sqrt(3))
    assert row["ci_low"] == pytest.approx(2 - 4.302653 * row["difference_se"], rel=1e-5)
    assert row["a_low"] == pytest.approx(12 - 4.302653 * 2 / np.sqrt(3), rel=1e-5)
    assert "scenario" not in paired_table(runs_a, runs_b).index


def test_compare_same_results_with_one_or_two_workers(small):
    a, b = small(), small("retention.window_days=365")
    serial = compare(a, b, replications=2, workers=1)
    parallel = compare(a, b, replications=2, workers=2)
    assert serial.drop(columns=[]).equals(parallel)
    assert serial.attrs["seeds"] == parallel.attrs["seeds"]


def test_compare_pairs_reports_and_finds_the_window_effect(small):
    table = compare(small(), small("retention.window_days=365"), replications=3, workers=1)
    assert table.loc["reports", "difference"] == 0
    assert table.loc["evidence_lost_rate_us", "ci_high"] < 0
    assert len(table.attrs["runs"]["a"]) == 3
    assert table.attrs["headline"].startswith("US evidence lost before legal process: ")
    assert table.attrs["differs"] == []                 # only the window differs: a policy
    assert {b for _, b, _ in table.attrs["flows"]["a"]} >= {"NCMEC", "served in time"}


def test_one_scenario_is_compared_under_both_retention_rules(small):
    table = compare(small(), None, replications=2, workers=1)
    assert table.attrs["a"].endswith("(90-day rule)") and table.attrs["b"].endswith("(one-year retention)")
    assert table.loc["evidence_lost_rate_us", "difference"] < 0
    assert table.loc["reports", "difference"] == 0


def test_scenarios_that_differ_beyond_policy_are_flagged(small):
    table = compare(small(), small("platforms.X.reports_per_day=300"), replications=2, workers=1)
    assert table.attrs["differs"] == ["platforms[X].reports_per_day"]


def test_an_interval_is_cut_to_the_values_its_quantity_can_take():
    rates = [0.0, 0.0, 0.09]                       # a rate from three replications, one of them with losses
    assert mean_interval(rates).low < 0
    interval = mean_interval(rates, bounds=(0.0, 1.0))
    assert interval.low == 0.0 and interval.high == mean_interval(rates).high and interval.mean == 0.03
