"""Staffing equivalence: how many staff the 90-day rule needs to lose no more evidence than one-year retention.

Both scenarios run on the same seeds (common random numbers). For a staffing n, the paired difference per
seed is ``metric(baseline with n staff) - metric(target as given)``; its mean over the seeds does not
increase with n (more staff never loses more on the same draws), so an integer search (gallop from today's
staffing, then bisection) finds the smallest n whose mean difference is <= 0. The same search on the bounds
of the difference's Student-t confidence interval gives the interval: below its low end the baseline loses
significantly more, from its high end on significantly no more. The search stops at ``max_staff``, or when
doubling the staff changes no replication: staff no longer binds and no staffing reaches the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from model.executors import map_unordered, open_executor, progress_bar
from model.experiments import mean_interval, replication_seeds, rule_pair
from model.params import Scenario
from model.schema import field_info
from model.sweeps.designs import RunTask
from model.sweeps.runs import Simulate, execute_run
from model.sweeps.spec import RUN_COLUMNS, SweepError

#: Staff kinds and the scenario key each one sets.
STAFF_KEYS = {"investigators": "law_enforcement.investigators", "analysts": "ncmec.analysts"}
#: Without --max-staff, the search goes up to this many times today's staff.
DEFAULT_MAX_FACTOR = 100


@dataclass(frozen=True)
class StaffingLevel:
    """The paired difference (baseline at `staff` minus target) of a metric over the common seeds."""

    staff: int
    baseline_mean: float
    difference: float   # mean over replications of baseline(staff) - target, in the metric's unit
    ci_low: float
    ci_high: float
    differences: tuple[float, ...]  # per replication


@dataclass
class Equivalence:
    """How much staff the baseline rule needs to lose no more (by `metric`) than the target rule.

    ``needed``: the smallest staffing whose mean paired difference is <= 0 (None: none up to
    ``max_staff``). ``interval``: (smallest staffing whose CI lower bound is <= 0, smallest whose CI
    upper bound is <= 0); None for an end not reached by ``max_staff``.
    """

    baseline: str
    target: str
    staff: str
    key: str
    metric: str
    today: int
    target_staff: int
    target_mean: float
    replications: int
    seeds: list[int]
    confidence: float
    max_staff: int
    needed: int | None = None
    interval: tuple[int | None, int | None] = (None, None)
    plateau: bool = False  # doubling the staff changed no replication: staff no longer binds
    levels: dict[int, StaffingLevel] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def clean(x: float) -> float | None:
            return None if isinstance(x, float) and not math.isfinite(x) else x
        return {"baseline": self.baseline, "target": self.target, "staff": self.staff, "key": self.key,
                "metric": self.metric, "today": self.today, "target_staff": self.target_staff,
                "target_mean": clean(self.target_mean),
                "replications": self.replications, "seeds": self.seeds, "confidence": self.confidence,
                "max_staff": self.max_staff, "staff_needed": self.needed, "interval": list(self.interval),
                "plateau": self.plateau,
                "levels": [{"staff": lv.staff, "baseline_mean": clean(lv.baseline_mean), "difference": clean(lv.difference),
                            "ci_low": clean(lv.ci_low), "ci_high": clean(lv.ci_high)}
                           for _, lv in sorted(self.levels.items())]}


def smallest_satisfying(satisfied: Callable[[int], bool], start: int, floor: int, ceiling: int,
                        stop_growing: Callable[[int, int], bool] | None = None) -> int | None:
    """Smallest integer n in [floor, ceiling] with ``satisfied(n)``, for a predicate false below and true above.

    Gallops from `start` (doubling the distance upward, or halving downward), then bisects the bracket.
    Returns None if ``satisfied(ceiling)`` is false, or if ``stop_growing(lower, upper)`` says that growing
    further cannot help (checked after each unsatisfied doubling).
    """
    if satisfied(start):
        high, step = start, 1
        while high > floor:
            low = max(floor, start - step)
            if not satisfied(low):
                break
            high, step = low, step * 2
        else:
            return floor
        low = max(floor, start - step)
    else:
        low = start
        while True:
            if low >= ceiling:
                return None
            high = min(ceiling, max(low + 1, 2 * low))
            if satisfied(high):
                break
            if stop_growing is not None and stop_growing(low, high):
                return None
            low = high
    while high - low > 1:  # invariant: satisfied(high), not satisfied(low)
        middle = (low + high) // 2
        if satisfied(middle):
            high = middle
        else:
            low = middle
    return high


class EquivalenceSearch:
    """Runs the baseline at staffing levels on the common seeds, each level once, and records them in `result`."""

    def __init__(self, result: Equivalence, executor: Any, slots: int, tables: tuple[Mapping[str, Any], Mapping[str, Any]],
                 simulate: Simulate | None, bar: Any) -> None:
        self.result, self.executor, self.slots, self.simulate, self.bar = result, executor, slots, simulate, bar
        self.baseline_table, self.target_table = tables
        self.target_values = self.run_all(self.target_table, ())
        result.target_mean = float(np.nanmean(self.target_values))

    def run_all(self, table: Mapping[str, Any], overrides: tuple[str, ...]) -> np.ndarray:
        """The metric of every replication of a scenario table with overrides."""
        metric = self.result.metric
        tasks = [RunTask(r, 0, r, seed, overrides) for r, seed in enumerate(self.result.seeds)]
        rows = sorted(map_unordered(self.executor, partial(execute_run, table, simulate=self.simulate), tasks,
                                    2 * self.slots), key=lambda row: row["run_id"])
        self.bar.update(len(rows))
        failed = [row["error"] for row in rows if row["error"] is not None]
        if failed:
            raise RuntimeError(f"a run failed, so the comparison cannot be made: {failed[0]}")
        if metric not in rows[0]:
            known = [k for k, v in rows[0].items() if isinstance(v, int | float) and k not in RUN_COLUMNS]
            raise SweepError(f"--metric {metric}: not a summary metric (metrics: {', '.join(known)})")
        return np.array([math.nan if row[metric] is None else float(row[metric]) for row in rows])

    def level(self, n: int) -> StaffingLevel:
        if n not in self.result.levels:
            values = self.run_all(self.baseline_table, (f"{self.result.key}={n}",))
            diff = values - self.target_values
            interval = mean_interval(diff, self.result.confidence)
            self.result.levels[n] = StaffingLevel(n, float(np.nanmean(values)), interval.mean, interval.low,
                                                  interval.high, tuple(diff))
        return self.result.levels[n]

    def unchanged(self, low: int, high: int) -> bool:
        """Doubling the staff changed no replication: staff no longer binds."""
        if self.level(low).differences == self.level(high).differences:
            self.result.plateau = True
            return True
        return False

    def smallest(self, bound: str, start: int) -> int | None:
        """Smallest staffing whose `bound` (difference, ci_low or ci_high) is <= 0."""
        return smallest_satisfying(lambda n: getattr(self.level(n), bound) <= 0, start, 0, self.result.max_staff,
                                   self.unchanged)


def staffing_equivalence(baseline: str | Scenario = "baseline_90day", target: str | Scenario | None = "report_act_1yr",
                         staff: str = "investigators", metric: str = "evidence_lost_us", replications: int = 5,
                         overrides: Sequence[str] = (), seed: int | None = None, workers: int | None = None,
                         scheduler: str | None = None, dask_local: bool = False, max_staff: int | None = None,
                         confidence: float = 0.95, progress: bool | None = None,
                         simulate: Simulate | None = None) -> Equivalence:
    """How many `staff` the `baseline` rule needs to lose no more `metric` than `target` with today's staff.

    See the module documentation for the method. The seeds derive from `seed` (default: the baseline's
    ``run.seed``); the search starts at today's staffing (the baseline's value) and stops at `max_staff`
    (default 100 times today's). `overrides` apply to both scenarios. `target` None: the baseline under one-year
    retention, and the baseline under the 90-day rule (as ``compare`` reads one scenario).
    """
    base_a = baseline if isinstance(baseline, Scenario) else _load(baseline, overrides)
    if target is None:
        base_a, base_b = rule_pair(base_a)
    else:
        base_b = target if isinstance(target, Scenario) else _load(target, overrides)
    result = _new_result(base_a, base_b, staff, metric, replications, seed, max_staff, confidence)
    bar = progress_bar(None, 0, f"equivalence ({staff})", progress)
    try:
        with open_executor(workers, scheduler, dask_local) as (executor, slots):
            search = EquivalenceSearch(result, executor, slots, (base_a.model_dump(mode="json"),
                                                                 base_b.model_dump(mode="json")), simulate, bar)
            result.needed = search.smallest("difference", result.today)
            if replications > 1:
                start = result.needed or result.today
                result.interval = (search.smallest("ci_low", start), search.smallest("ci_high", start))
    finally:
        bar.close()
    return result


def _load(name: str, overrides: Sequence[str]) -> Scenario:
    from model.scenarios import load_scenario
    return load_scenario(name, overrides)


def _new_result(base_a: Scenario, base_b: Scenario, staff: str, metric: str, replications: int, seed: int | None,
                max_staff: int | None, confidence: float) -> Equivalence:
    """Check the options and set up the result (today's staff, seeds, the search's ceiling)."""
    if staff not in STAFF_KEYS:
        raise SweepError(f"--staff {staff}: unknown (allowed: {', '.join(STAFF_KEYS)})")
    if replications < 1:
        raise SweepError(f"--replications {replications}: must be at least 1")
    if not 0 < confidence < 1:
        raise SweepError(f"confidence {confidence}: must lie strictly between 0 and 1")
    key = STAFF_KEYS[staff]
    today, target_staff = int(_value_at(base_a, key)), int(_value_at(base_b, key))
    info = field_info(key)
    limit = int(info.high) if info is not None and info.high is not None else 10**9
    max_staff = min(limit, max(1, DEFAULT_MAX_FACTOR * today)) if max_staff is None else max_staff
    if not today <= max_staff <= limit:
        raise SweepError(f"--max-staff {max_staff}: must lie between today's {staff} ({today}) and {limit}")
    seeds = replication_seeds(base_a.run.seed if seed is None else seed, replications)
    return Equivalence(baseline=base_a.name, target=base_b.name, staff=staff, key=key, metric=metric, today=today,
                       target_staff=target_staff, target_mean=math.nan, replications=replications, seeds=seeds,
                       confidence=confidence, max_staff=max_staff)


def _value_at(scenario: Scenario, key: str) -> Any:
    node: Any = scenario
    for part in key.split("."):
        node = getattr(node, part)
    return node
