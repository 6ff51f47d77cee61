"""Analysis of sweep results: per-point means with confidence intervals, and Sobol sensitivity indices.

:func:`point_summary` gives, per design point and metric, the mean over replications with a Student-t
confidence interval (replications share seeds across points, so the intervals of two points are
positively correlated; compare points with :func:`model.experiments.paired_table` on the runs).
:func:`sobol_indices` estimates first-order (S1) and total (ST) Sobol indices with SALib on the mean
over replications at each point of a ``sobol`` design, with bootstrap confidence intervals.
:func:`write_analysis` writes both to ``DIR/analysis/`` as CSV and Parquet.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from model.designs import RunTask
from model.experiments import replication_seeds
from model.metrics import METRICS
from model.params import Scenario
from model.result_store import load_results, read_manifest
from model.runners import Simulate, execute_run, map_unordered, open_executor, progress_bar
from model.sweep_spec import RUN_COLUMNS, SweepError


def metric_columns(results: pd.DataFrame, factors: Sequence[str] = ()) -> list[str]:
    """The outcome columns of a results frame: the summary metrics (model.metrics.METRICS) it holds."""
    return [c for c in results.columns if c in METRICS and c not in factors]


def _check_metrics(requested: Sequence[str] | None, available: Sequence[str]) -> list[str]:
    if requested is None:
        return list(available)
    unknown = [m for m in requested if m not in available]
    if unknown:
        raise SweepError(f"metric {unknown[0]!r}: not in the results (available: {', '.join(available)})")
    return list(requested)


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, standard deviation and Student-t confidence interval of the finite values (NaN if < 2)."""
    x = values[np.isfinite(values)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1)) * sd / math.sqrt(len(x))
    return mean, sd, mean - half, mean + half


def point_summary(results: pd.DataFrame, design: Mapping[str, Any], metrics: Sequence[str] | None = None,
                  confidence: float = 0.95) -> pd.DataFrame:
    """Per design point and metric: factor values, runs, failed runs, mean, sd and CI over replications.

    `design` is the manifest's ``design`` table. Long ("tidy") format: one row per (point, metric), the
    factor values on every row. Points whose runs all failed appear with NaN statistics.
    """
    factors: list[str] = list(design["factors"])
    chosen = _check_metrics(metrics, metric_columns(results, factors))
    ok = results[results["error"].isna()] if "error" in results else results
    groups = {point: frame for point, frame in ok.groupby("point")}
    attempted = results.groupby("point").size() if len(results) else pd.Series(dtype=int)
    rows = []
    for point, values in enumerate(design["points"]):
        frame = groups.get(point)
        runs = 0 if frame is None else len(frame)
        failed = int(attempted.get(point, 0)) - runs
        for metric in chosen:
            data = np.array([], float) if frame is None else frame[metric].to_numpy(dtype=float)
            mean, sd, low, high = mean_interval(data, confidence)
            rows.append({"point": point, **values, "metric": metric, "runs": runs, "failed": failed,
                         "mean": mean, "sd": sd, "ci_low": low, "ci_high": high})
    table = pd.DataFrame(rows)
    table.attrs["confidence"] = confidence
    return table


def point_means(results: pd.DataFrame, n_points: int, metric: str) -> np.ndarray:
    """Mean of `metric` over the successful replications of each point 0..n_points-1 (NaN if none)."""
    ok = results[results["error"].isna()] if "error" in results else results
    means = ok.groupby("point")[metric].mean()
    return means.reindex(range(n_points)).to_numpy(dtype=float)


def sobol_indices(results: pd.DataFrame, design: Mapping[str, Any], metrics: Sequence[str] | None = None,
                  confidence: float = 0.95, num_resamples: int = 1000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First-order and total Sobol indices per metric and factor (column ``parameter``), with bootstrap CIs (SALib).

    Uses the per-point mean over replications (common seeds) as the model output. Returns the
    S1/ST table (columns ``S1``, ``S1_conf``, ``ST``, ``ST_conf``, ``*_conf`` being the half-width of
    the `confidence` interval) and, if the design sampled them, the second-order table (``S2``).
    A metric with a missing point (all its runs failed) is skipped and listed in ``attrs["skipped"]``.
    """
    from SALib.analyze import sobol

    if design.get("kind") != "sobol" or not design.get("sobol"):
        raise SweepError(f"Sobol indices need a sobol design; this sweep is a {design.get('kind')} design")
    factors: list[str] = list(design["factors"])
    chosen = _check_metrics(metrics, metric_columns(results, factors))
    second = bool(design["sobol"]["calc_second_order"])
    problem = {"num_vars": len(factors), "names": factors, "bounds": [[0.0, 1.0]] * len(factors)}
    first_rows: list[dict[str, Any]] = []
    second_rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for metric in chosen:
        y = point_means(results, len(design["points"]), metric)
        if not np.all(np.isfinite(y)):
            skipped[metric] = f"{int((~np.isfinite(y)).sum())} design points have no value"
            continue
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            indices = sobol.analyze(problem, y, calc_second_order=second, num_resamples=num_resamples,
                                    conf_level=confidence, seed=int(design["seed"]) % 2**32)
        for i, name in enumerate(factors):
            first_rows.append({"metric": metric, "parameter": name, "S1": float(indices["S1"][i]),
                               "S1_conf": float(indices["S1_conf"][i]), "ST": float(indices["ST"][i]),
                               "ST_conf": float(indices["ST_conf"][i])})
        if second:
            for i, j in zip(*np.triu_indices(len(factors), 1), strict=True):
                second_rows.append({"metric": metric, "parameter_a": factors[i], "parameter_b": factors[j],
                                    "S2": float(indices["S2"][i, j]), "S2_conf": float(indices["S2_conf"][i, j])})
    first_table = pd.DataFrame(first_rows, columns=["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"])
    second_table = pd.DataFrame(second_rows, columns=["metric", "parameter_a", "parameter_b", "S2", "S2_conf"])
    for table in (first_table, second_table):
        table.attrs.update(confidence=confidence, skipped=skipped)
    return first_table, second_table


def analyze_sweep(directory: Path | str, metrics: Sequence[str] | None = None,
                  confidence: float = 0.95) -> dict[str, pd.DataFrame]:
    """Tables of a sweep directory: ``points``, and ``sobol`` (+ ``sobol_second_order``) for sobol designs."""
    if not 0 < confidence < 1:
        raise SweepError(f"confidence {confidence}: must lie strictly between 0 and 1")
    manifest = read_manifest(directory)
    design = manifest["design"]
    results = load_results(directory)
    if results.empty:
        raise SweepError(f"{directory}: no stored runs yet (run or resume the sweep first)")
    tables = {"points": point_summary(results, design, metrics, confidence)}
    if design["kind"] == "sobol":
        sobol_metrics = metrics if metrics is not None else [
            m for m in design["spec"]["metrics"] if m in metric_columns(results, design["factors"])]
        first, second = sobol_indices(results, design, sobol_metrics, confidence)
        tables["sobol"] = first
        if design["sobol"]["calc_second_order"]:
            tables["sobol_second_order"] = second
    return tables


def write_analysis(directory: Path | str, tables: Mapping[str, pd.DataFrame]) -> Path:
    """Write each table as CSV and Parquet into ``DIR/analysis`` (replaced whole, atomically)."""
    target = Path(directory) / "analysis"
    tmp = Path(tempfile.mkdtemp(prefix=".analysis.", dir=directory))
    try:
        for name, table in tables.items():
            table.to_csv(tmp / f"{name}.csv", index=False)
            table.to_parquet(tmp / f"{name}.parquet", index=False)
        old = None
        if target.exists():
            old = target.with_name(f".analysis.old.{os.getpid()}")
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# --------------------------------------------------------------------------------------------------
# Staffing equivalence

#: Staff kinds for :func:`staffing_equivalence` and the scenario key each one sets.
STAFF_KEYS = {"investigators": "law_enforcement.investigators", "analysts": "ncmec.analysts"}


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


def _value_at(table: Mapping[str, Any], key: str) -> Any:
    node: Any = table
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def staffing_equivalence(baseline: str | Scenario = "baseline_90day", target: str | Scenario = "report_act_1yr",
                         staff: str = "investigators", metric: str = "evidence_lost_us", replications: int = 5,
                         overrides: Sequence[str] = (), seed: int | None = None, workers: int | None = None,
                         scheduler: str | None = None, dask_local: bool = False, max_staff: int | None = None,
                         confidence: float = 0.95, progress: bool | None = None,
                         simulate: Simulate | None = None) -> Equivalence:
    """How many `staff` the `baseline` rule needs to lose no more `metric` than `target` with today's staff.

    Both scenarios run on the same `replications` seeds (common random numbers; derived from `seed`,
    default the baseline's ``run.seed``). For a staffing n, the paired difference per seed is
    ``metric(baseline with n) - metric(target as given)``; its mean over seeds is non-increasing in n
    when more staff never loses more on the same draws, so an integer search (gallop, then bisection)
    finds the smallest n whose mean difference is <= 0 (``needed``). Running the same search on the
    upper and lower bounds of the difference's Student-t confidence interval gives the interval:
    below its low end the baseline loses significantly more, from its high end on significantly no
    more. The search starts at today's staffing (the baseline's value) and stops at `max_staff`
    (default 100 times today's) or when doubling the staff changes no replication (staff no longer
    binds: then no staffing reaches the target). `overrides` apply to both scenarios.
    """
    from model.scenarios import load_scenario

    if staff not in STAFF_KEYS:
        raise SweepError(f"--staff {staff}: unknown (allowed: {', '.join(STAFF_KEYS)})")
    if replications < 1:
        raise SweepError(f"--replications {replications}: must be at least 1")
    if not 0 < confidence < 1:
        raise SweepError(f"confidence {confidence}: must lie strictly between 0 and 1")
    key = STAFF_KEYS[staff]
    base_a = baseline if isinstance(baseline, Scenario) else load_scenario(baseline, overrides)
    base_b = target if isinstance(target, Scenario) else load_scenario(target, overrides)
    table_a, table_b = base_a.model_dump(mode="json"), base_b.model_dump(mode="json")
    today = int(_value_at(table_a, key))
    limit = _limit_of(key)
    max_staff = min(limit, max(1, 100 * today)) if max_staff is None else max_staff
    if not today <= max_staff <= limit:
        raise SweepError(f"--max-staff {max_staff}: must lie between today's {staff} ({today}) and {limit}")
    seeds = replication_seeds(base_a.run.seed if seed is None else seed, replications)
    result = Equivalence(baseline=base_a.name, target=base_b.name, staff=staff, key=key, metric=metric,
                         today=today, target_staff=int(_value_at(table_b, key)), target_mean=math.nan,
                         replications=replications, seeds=seeds, confidence=confidence, max_staff=max_staff)
    bar = progress_bar(None, 0, f"equivalence ({staff})", progress)
    with open_executor(workers, scheduler, dask_local) as (executor, slots):
        def run_all(table: Mapping[str, Any], overrides_: tuple[str, ...]) -> np.ndarray:
            tasks = [RunTask(r, 0, r, s, overrides_) for r, s in enumerate(seeds)]
            rows = sorted(map_unordered(executor, partial(execute_run, table, simulate=simulate), tasks, 2 * slots),
                          key=lambda row: row["run_id"])
            bar.update(len(rows))
            failed = [row["error"] for row in rows if row["error"] is not None]
            if failed:
                raise RuntimeError(f"a run failed, so the comparison cannot be made: {failed[0]}")
            if metric not in rows[0]:
                known = [k for k, v in rows[0].items() if isinstance(v, int | float) and k not in RUN_COLUMNS]
                raise SweepError(f"--metric {metric}: not a summary metric (metrics: {', '.join(known)})")
            return np.array([math.nan if row[metric] is None else float(row[metric]) for row in rows])

        try:
            target_values = run_all(table_b, ())
            result.target_mean = float(np.nanmean(target_values))

            def level(n: int) -> StaffingLevel:
                if n not in result.levels:
                    values = run_all(table_a, (f"{key}={n}",))
                    diff = values - target_values
                    mean, _, low, high = mean_interval(diff, confidence)
                    result.levels[n] = StaffingLevel(n, float(np.nanmean(values)), mean, low, high, tuple(diff))
                return result.levels[n]

            def unchanged(low: int, high: int) -> bool:
                if level(low).differences == level(high).differences:
                    result.plateau = True
                    return True
                return False

            result.needed = smallest_satisfying(lambda n: level(n).difference <= 0, today, 0, max_staff, unchanged)
            if replications > 1:
                upper = smallest_satisfying(lambda n: level(n).ci_high <= 0, result.needed or today, 0, max_staff,
                                            unchanged)
                lower = smallest_satisfying(lambda n: level(n).ci_low <= 0, result.needed or today, 0, max_staff,
                                            unchanged)
                result.interval = (lower, upper)
        finally:
            bar.close()
    return result


def _limit_of(key: str) -> int:
    """The schema's upper bound for a staffing key."""
    from model.schema import field_info

    info = field_info(key)
    return int(info.high) if info is not None and info.high is not None else 10**9
