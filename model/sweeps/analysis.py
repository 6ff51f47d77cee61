"""Analysis of sweep results: per-point means with confidence intervals, and Sobol sensitivity indices.

:func:`point_summary` gives, per design point and metric, the mean over replications with a Student-t
confidence interval (replications share seeds across points, so the intervals of two points are
positively correlated; compare points with :func:`model.experiments.paired_table` on the runs).
:func:`sobol_indices` estimates first-order (S1) and total (ST) Sobol indices with SALib on the mean
over replications at each point of a ``sobol`` design, with bootstrap confidence intervals.
:func:`write_analysis` writes both to ``DIR/analysis/`` as CSV and Parquet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.atomic import write_directory
from model.experiments import mean_interval
from model.metrics import METRICS
from model.sobol import MissingPoints, saltelli_indices
from model.sweeps.spec import SweepError
from model.sweeps.store import load_results, read_manifest


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
            interval = mean_interval(data, confidence, METRICS[metric].bounds)
            rows.append({"point": point, **values, "metric": metric, "runs": runs, "failed": failed,
                         "mean": interval.mean, "sd": interval.sd, "ci_low": interval.low, "ci_high": interval.high})
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
    if design.get("kind") != "sobol" or not design.get("sobol"):
        raise SweepError(f"Sobol indices need a sobol design; this sweep is a {design.get('kind')} design")
    factors: list[str] = list(design["factors"])
    chosen = _check_metrics(metrics, metric_columns(results, factors))
    second = bool(design["sobol"]["calc_second_order"])
    first_rows: list[dict[str, Any]] = []
    second_rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for metric in chosen:
        try:
            indices = saltelli_indices(factors, point_means(results, len(design["points"]), metric),
                                       second_order=second, confidence=confidence, num_resamples=num_resamples,
                                       seed=int(design["seed"]))
        except MissingPoints as exc:
            skipped[metric] = str(exc)
            continue
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
    files = {}
    for name, table in tables.items():
        files[f"{name}.csv"] = lambda p, t=table: t.to_csv(p, index=False)
        files[f"{name}.parquet"] = lambda p, t=table: t.to_parquet(p, index=False)
    write_directory(target, files, replace=True)
    return target
