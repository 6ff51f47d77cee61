"""Paired comparisons of two scenarios on common random numbers, with confidence intervals.

Replication ``i`` of both scenarios uses the same seed, so both see the same reports and the same
per-report draws; only the policy differs. The difference is then estimated from the paired
differences, whose variance is far smaller than that of two independent samples.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from tqdm import tqdm

from model.model import run
from model.params import Scenario
from model.scenarios import load_scenario

#: Summary keys that describe the run rather than measure it.
NOT_METRICS = ("scenario", "seed", "days", "wall_seconds")


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Independent seeds for replications, derived from a root seed (same root, same seeds)."""
    state = np.random.SeedSequence(root_seed).generate_state(replications, np.uint64)
    return [int(s >> np.uint64(1)) for s in state]


def _summary(scenario: Scenario, seed: int) -> dict[str, Any]:
    return run(scenario, seed)[1]


def run_replications(scenarios: Sequence[Scenario], seeds: Sequence[int], workers: int | None = None,
                     progress: bool = False) -> list[list[dict[str, Any]]]:
    """Run every scenario on every seed (in worker processes if `workers` > 1).

    Returns one list of summaries per scenario, in seed order. Results do not depend on `workers`.
    `progress` shows a tqdm bar of finished runs (on stderr).
    """
    tasks = [(scenario, seed) for scenario in scenarios for seed in seeds]
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    bar = tqdm(total=len(tasks), unit="run", disable=not progress, leave=False)
    if workers <= 1:
        results = []
        for scenario, seed in tasks:
            results.append(_summary(scenario, seed))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
            futures = [pool.submit(_summary, scenario, seed) for scenario, seed in tasks]
            for future in as_completed(futures):
                future.result()  # raise early if a run failed
                bar.update()
            results = [future.result() for future in futures]
    bar.close()
    n = len(seeds)
    return [results[i * n:(i + 1) * n] for i in range(len(scenarios))]


def paired_table(runs_a: list[dict[str, Any]], runs_b: list[dict[str, Any]],
                 confidence: float = 0.95) -> pd.DataFrame:
    """Per metric: mean of A and B, mean paired difference B - A, its standard error and CI."""
    rows = []
    for metric in runs_a[0]:
        if metric in NOT_METRICS:
            continue
        a = np.array([_number(r[metric]) for r in runs_a])
        b = np.array([_number(r[metric]) for r in runs_b])
        diff = b - a
        rows.append({"metric": metric, "a": _mean(a), "a_se": _se(a), "b": _mean(b), "b_se": _se(b),
                     "difference": _mean(diff), "difference_se": _se(diff),
                     **dict(zip(("ci_low", "ci_high"), _interval(diff, confidence), strict=True))})
    return pd.DataFrame(rows).set_index("metric")


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _mean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if len(x) else math.nan


def _se(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan


def _interval(x: np.ndarray, confidence: float) -> tuple[float, float]:
    """Student-t confidence interval of the mean."""
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def compare(a: str | Scenario = "baseline_90day", b: str | Scenario = "report_act_1yr",
            replications: int = 5, overrides: Iterable[str] = (), seed: int | None = None,
            workers: int | None = None, confidence: float = 0.95, progress: bool = False) -> pd.DataFrame:
    """Paired comparison of scenarios `a` and `b` over `replications` common seeds.

    `overrides` (``key=value`` strings) apply to both scenarios. The seeds derive from `seed`
    (default: scenario A's ``run.seed``). Returns one row per metric with columns ``a``, ``b``,
    ``difference`` (B - A), their standard errors and the ``ci_low``/``ci_high`` interval; the
    per-replication summaries are in ``table.attrs["runs"]``.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    overrides = list(overrides)
    scenario_a = a if isinstance(a, Scenario) else load_scenario(a, overrides)
    scenario_b = b if isinstance(b, Scenario) else load_scenario(b, overrides)
    seeds = replication_seeds(scenario_a.run.seed if seed is None else seed, replications)
    runs_a, runs_b = run_replications([scenario_a, scenario_b], seeds, workers, progress)
    table = paired_table(runs_a, runs_b, confidence)
    table.attrs.update(a=scenario_a.name, b=scenario_b.name, seeds=seeds, confidence=confidence,
                       runs={"a": runs_a, "b": runs_b})
    return table
