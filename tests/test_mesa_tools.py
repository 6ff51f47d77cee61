"""Mesa users' own tools work on the model: ``mesa.batch_run`` gives the numbers ``tipline sweep`` gives."""

from __future__ import annotations

import mesa
import pandas as pd
import pytest

from model import RetentionModel
from model.sweeps import run_sweep

SHORT = {"run.days": 150, "run.warmup_days": 30, "platforms.X.reports_per_day": 400}
WINDOWS = [90, 365]
INVESTIGATORS = [60, 200]


@pytest.fixture(scope="module")
def sweep() -> pd.DataFrame:
    spec = {"name": "batch_run_twin", "base": "x_platform", "design": "grid", "replications": 2, "seed": 11,
            "set": SHORT,
            "factors": [{"key": "retention.window_days", "values": WINDOWS},
                        {"key": "law_enforcement.investigators", "values": INVESTIGATORS}]}
    return run_sweep(spec, workers=1, progress=False)


def test_batch_run_over_a_window_by_investigators_grid_matches_tipline_sweep(sweep):
    seeds = sorted(sweep["seed"].unique().tolist())
    rows = mesa.batch_run(RetentionModel,
                          parameters={"scenario": "x_platform", **SHORT,
                                      "retention.window_days": WINDOWS, "law_enforcement.investigators": INVESTIGATORS},
                          rng=seeds, max_steps=100_000, number_processes=1, display_progress=False)
    final = pd.DataFrame(rows).drop_duplicates("RunId").set_index(
        ["retention.window_days", "law_enforcement.investigators", "rng"])
    assert len(final) == len(WINDOWS) * len(INVESTIGATORS) * len(seeds) == len(sweep)
    for _, run in sweep.iterrows():
        mesa_run = final.loc[(run["retention.window_days"], run["law_enforcement.investigators"], run["seed"])]
        for key in ("legal_process_served_us", "evidence_lost_us", "legal_process_served", "evidence_lost"):
            assert mesa_run[f"{key}_decided"] == run[key], key
        for key in ("closed_unworked", "arrests"):
            assert mesa_run[key] == run[key], key
        lost, served = mesa_run["evidence_lost_us_decided"], mesa_run["legal_process_served_us_decided"]
        assert lost / (lost + served) == pytest.approx(run["evidence_lost_rate_us"], rel=1e-12)


def test_the_staffing_and_window_levers_show_in_batch_run_results(sweep):
    means = sweep.groupby(["retention.window_days", "law_enforcement.investigators"])["evidence_lost_rate_us"].mean()
    assert means[(365, 200)] < means[(90, 200)] and means[(90, 200)] < means[(90, 60)]


def test_the_collector_keeps_the_datacollector_contract():
    model = RetentionModel("x_platform", **{"run.days": 5, "run.warmup_days": 0})
    for _ in range(3):
        model.step()
    collector = model.datacollector
    assert collector._collection_steps == [0, 1, 2, 3]
    assert all(len(values) == 4 for values in collector.model_vars.values())
    assert collector.model_vars["day"] == [0, 1, 2, 3]
    assert list(collector.get_model_vars_dataframe().columns) == list(collector.model_vars)
