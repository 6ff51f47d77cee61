"""Paired comparisons of two scenarios on common random numbers, with confidence intervals.

Replication ``i`` of both scenarios uses the same seed, so both see the same reports and the same
per-report draws; only the policy differs. The difference is then estimated from the paired
differences, whose variance is far smaller than that of two independent samples.

:func:`compare` with one scenario compares it under the 90-day rule with itself under one-year
retention. The result leads with the US rate (:func:`headline`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from model.executors import map_unordered, open_executor, progress_bar
from model.metrics import METRICS
from model.model import run
from model.params import Scenario
from model.scenarios import load_scenario, scenario_with
from model.schema import parameters

#: The two preservation rules of 18 U.S.C. 2258A(h): before and after the REPORT Act (days).
OLD_RULE_DAYS, REPORT_ACT_DAYS = 90, 365
#: Scenario keys that are policy or staffing choices: A and B may differ in these without a warning.
POLICY_PREFIXES = ("name", "description", "run.seed", "retention.", "ncmec.analysts", "ncmec.reports_per_analyst_day",
                   "ncmec.triage_policy", "ncmec.bundling", "law_enforcement.", "foreign.investigators",
                   "downstream.forensic_exams_per_day")


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Independent seeds for replications, derived from a root seed (same root, same seeds)."""
    state = np.random.SeedSequence(root_seed).generate_state(replications, np.uint64)
    return [int(s >> np.uint64(1)) for s in state]


def _summary_and_flows(task: tuple[int, Scenario, int]) -> tuple[int, dict[str, Any]]:
    index, scenario, seed = task
    model, summary = run(scenario, seed, daily_series=False)   # summaries and flows only
    return index, {**summary, "flows": model.flows()}


def run_replications(scenarios: Sequence[Scenario], seeds: Sequence[int], workers: int | None = None,
                     progress: bool = False, scheduler: str | None = None,
                     dask_local: bool = False) -> list[list[dict[str, Any]]]:
    """Run every scenario on every seed on an executor (:func:`model.executors.open_executor`).

    Returns one list of summaries per scenario, in seed order, each with its ``flows``. Results do not
    depend on `workers` or the executor. `progress` shows a bar of finished runs (on stderr).
    """
    tasks = [(i, scenario, seed) for i, (scenario, seed) in enumerate((s, seed) for s in scenarios for seed in seeds)]
    workers = min(workers or os.cpu_count() or 1, len(tasks)) if not (scheduler or dask_local) else workers
    results: dict[int, dict[str, Any]] = {}
    bar = progress_bar(len(tasks), 0, "runs", progress)
    with open_executor(workers, scheduler, dask_local) as (executor, slots):
        for index, summary in map_unordered(executor, _summary_and_flows, tasks, 2 * slots):
            results[index] = summary
            bar.update(1)
    bar.close()
    n = len(seeds)
    return [[results[i * n + r] for r in range(n)] for i in range(len(scenarios))]


class Interval(NamedTuple):
    """The mean of replications with its standard error and Student-t confidence interval."""

    mean: float
    se: float
    low: float
    high: float
    n: int

    @property
    def sd(self) -> float:
        return self.se * math.sqrt(self.n) if self.n > 1 else math.nan


def mean_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95,
                  bounds: tuple[float, float] = (-math.inf, math.inf)) -> Interval:
    """Mean, standard error and Student-t confidence interval of the finite values (NaN where undefined).

    The project's one confidence-interval helper (comparisons, sweep points, staffing equivalence, the report).
    `bounds`: the values the quantity can take (a share: 0 to 1); the interval is cut to them, so a rate
    from few replications never gets a negative lower limit.
    """
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, n)
    se = float(x.std(ddof=1) / math.sqrt(n))
    if se == 0:
        return Interval(mean, 0.0, mean, mean, n)
    # Imported here, not at the top: SciPy's statistics take 0.4 s to import, and runs never need them.
    from scipy import stats

    low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=se)
    return Interval(mean, se, max(float(low), bounds[0]), min(float(high), bounds[1]), n)


def paired_table(runs_a: list[dict[str, Any]], runs_b: list[dict[str, Any]],
                 confidence: float = 0.95) -> pd.DataFrame:
    """Per metric (model.metrics.METRICS): mean of A and B with CIs, mean paired difference B - A and its CI."""
    rows = []
    for metric in (m for m in runs_a[0] if m in METRICS):
        a = np.array([_number(r[metric]) for r in runs_a])
        b = np.array([_number(r[metric]) for r in runs_b])
        bounds = METRICS[metric].bounds
        a_mean, a_se, a_low, a_high, _ = mean_interval(a, confidence, bounds)
        b_mean, b_se, b_low, b_high, _ = mean_interval(b, confidence, bounds)
        d_mean, d_se, d_low, d_high, _ = mean_interval(b - a, confidence)
        rows.append({"metric": metric, "a": a_mean, "a_se": a_se, "a_low": a_low, "a_high": a_high,
                     "b": b_mean, "b_se": b_se, "b_low": b_low, "b_high": b_high,
                     "difference": d_mean, "difference_se": d_se, "ci_low": d_low, "ci_high": d_high})
    return pd.DataFrame(rows).set_index("metric")


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def headline(table: pd.DataFrame, route: str = "us") -> str:
    """One sentence: the rate under A and B with their CIs, and the difference with its CI, in %."""
    row = table.loc[f"evidence_lost_rate_{route}"]
    level = f"{table.attrs.get('confidence', 0.95):.0%}"

    def pct(x: float) -> str:  # a share: its Student-t interval is cut to 0-100%
        return "-" if not math.isfinite(x) else f"{100 * min(max(x, 0.0), 1.0):.1f}%"

    def points(x: float) -> str:
        return "-" if not math.isfinite(x) else f"{100 * x:+.1f}"

    where = "US" if route == "us" else "Foreign (MLAT)"
    return (f"{where} evidence lost before legal process: {table.attrs.get('a', 'A')} {pct(row['a'])} "
            f"({level} CI {pct(row['a_low'])} to {pct(row['a_high'])}), {table.attrs.get('b', 'B')} {pct(row['b'])} "
            f"({pct(row['b_low'])} to {pct(row['b_high'])}); difference {points(row['difference'])} percentage "
            f"points ({level} CI {points(row['ci_low'])} to {points(row['ci_high'])}), "
            f"{len(table.attrs.get('seeds', []))} paired replications.")


def differing_keys(a: Scenario, b: Scenario) -> list[str]:
    """Keys whose values differ between two scenarios and that are not policy or staffing choices."""
    values_b = {p.key: p.value for p in parameters(b)}
    values_a = {p.key: p.value for p in parameters(a)}
    keys = set(values_a) | set(values_b)
    return sorted(k for k in keys if values_a.get(k) != values_b.get(k) and not k.startswith(POLICY_PREFIXES))


def rule_pair(scenario: Scenario) -> tuple[Scenario, Scenario]:
    """The scenario under the 90-day rule and under REPORT Act one-year retention."""
    return (scenario_with(scenario, [f"retention.window_days={OLD_RULE_DAYS}",
                                     f'name="{scenario.name} (90-day rule)"']),
            scenario_with(scenario, [f"retention.window_days={REPORT_ACT_DAYS}",
                                     f'name="{scenario.name} (one-year retention)"']))


def scenario_pair(a: str | Scenario, b: str | Scenario | None, overrides: Iterable[str] = (),
                  overrides_a: Iterable[str] = (), overrides_b: Iterable[str] = ()) -> tuple[Scenario, Scenario]:
    """Scenarios A and B as ``compare`` reads them: `b` None is `a` under the other retention rule
    (:func:`rule_pair`); `overrides` apply to both, `overrides_a` / `overrides_b` to one side; two sides
    with the same name are told apart by their overrides."""
    overrides, overrides_a, overrides_b = list(overrides), list(overrides_a), list(overrides_b)
    scenario_a = a if isinstance(a, Scenario) else load_scenario(a, overrides)
    if b is None:
        scenario_a, scenario_b = rule_pair(scenario_a)
    else:
        scenario_b = b if isinstance(b, Scenario) else load_scenario(b, overrides)
    if overrides_a:
        scenario_a = scenario_with(scenario_a, overrides_a)
    if overrides_b:
        scenario_b = scenario_with(scenario_b, overrides_b)
    if scenario_a.name == scenario_b.name:  # tell the sides apart by their own overrides
        scenario_a, scenario_b = (scenario_with(s, [f'name="{s.name} ({"; ".join(o) or "as given"})"'])
                                  for s, o in ((scenario_a, overrides_a), (scenario_b, overrides_b)))
    return scenario_a, scenario_b


def compare(a: str | Scenario = "baseline_90day", b: str | Scenario | None = "report_act_1yr", replications: int = 5,
            overrides: Iterable[str] = (), overrides_a: Iterable[str] = (), overrides_b: Iterable[str] = (),
            seed: int | None = None, workers: int | None = None, confidence: float = 0.95,
            progress: bool = False, scheduler: str | None = None, dask_local: bool = False) -> pd.DataFrame:
    """Paired comparison of scenarios `a` and `b` over `replications` common seeds.

    `b` None compares `a` under the 90-day rule with `a` under one-year retention. `overrides`
    (``key=value`` strings) apply to both, `overrides_a` / `overrides_b` to one side. The seeds derive
    from `seed` (default: scenario A's ``run.seed``). Returns one row per metric with columns ``a``,
    ``b`` (means with ``*_se``, ``*_low``, ``*_high``), ``difference`` (B - A), its ``difference_se``
    and ``ci_low``/``ci_high``; ``attrs`` hold the names, seeds, the per-replication summaries
    (``runs``), the flows of the first replication of each (``flows``), keys in which A and B differ
    beyond policy (``differs``) and the ``headline``.

    `workers`, `scheduler`, `dask_local`: where the runs happen (:func:`model.executors.open_executor`).
    Worker processes re-import the calling script: call this under ``if __name__ == "__main__":`` in
    a script (or pass ``workers=1``).
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    scenario_a, scenario_b = scenario_pair(a, b, overrides, overrides_a, overrides_b)
    seeds = replication_seeds(scenario_a.run.seed if seed is None else seed, replications)
    runs_a, runs_b = run_replications([scenario_a, scenario_b], seeds, workers, progress, scheduler, dask_local)
    table = paired_table(runs_a, runs_b, confidence)
    table.attrs.update(a=scenario_a.name, b=scenario_b.name, seeds=seeds, confidence=confidence,
                       runs={"a": [_without_flows(r) for r in runs_a], "b": [_without_flows(r) for r in runs_b]},
                       flows={"a": runs_a[0]["flows"], "b": runs_b[0]["flows"]},
                       differs=differing_keys(scenario_a, scenario_b))
    table.attrs["headline"] = headline(table)
    return table


def _without_flows(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "flows"}


__all__ = ["Interval", "compare", "headline", "mean_interval", "paired_table", "replication_seeds", "run_replications",
           "scenario_pair"]
