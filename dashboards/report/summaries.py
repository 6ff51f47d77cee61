"""Means of sweep runs with their confidence intervals (:func:`model.experiments.mean_interval`), by factor."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dashboards.report.inputs import ReportError
from dashboards.report.style import PRIMARY_METRICS, WINDOW
from model.experiments import mean_interval
from model.metrics import METRICS

#: A second factor drawn as one line per level when it has at most this many levels.
MAX_LINES = 6


def primary_metric(rows: pd.DataFrame) -> str:
    """The evidence-lost metric that leads: the US rate, else the best older one the rows have."""
    for m in PRIMARY_METRICS:
        if m in rows.columns:
            return m
    raise ReportError("sweep rows have no evidence-lost metric column")


def line_factor(rows: pd.DataFrame, factors: Sequence[str], x: str = WINDOW) -> str | None:
    """The factor drawn as one line per level beside `x`: the first other one with few levels."""
    return next((f for f in factors if f != x and f in rows and rows[f].nunique() <= MAX_LINES), None)


def group_summary(rows: pd.DataFrame, metric: str, keys: Sequence[str]) -> pd.DataFrame:
    """Mean of `metric` per combination of `keys` with its 95% CI across the runs (columns: keys, mean,
    ci_low, ci_high, n), sorted by the keys; the interval is cut to the values the metric can take."""
    bounds = METRICS[metric].bounds if metric in METRICS else (-math.inf, math.inf)
    out = []
    for key, group in rows.groupby(list(keys), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        interval = mean_interval(pd.to_numeric(group[metric], errors="coerce").to_numpy(float), bounds=bounds)
        out.append({**dict(zip(keys, key, strict=True)), "mean": interval.mean, "ci_low": interval.low,
                    "ci_high": interval.high, "n": interval.n})
    return pd.DataFrame(out, columns=[*keys, "mean", "ci_low", "ci_high", "n"])


def window_summary(rows: pd.DataFrame, metric: str, by: str | None = None) -> pd.DataFrame:
    """Mean of `metric` per window (and per level of `by`) with its 95% CI across replications."""
    return group_summary(rows, metric, [WINDOW] + ([by] if by else []))


def coinciding_levels(table: pd.DataFrame, by: str, x: str = WINDOW) -> list[list[Any]]:
    """Groups of levels of `by` whose mean lines over `x` are identical (they would hide each other)."""
    lines = {level: g.sort_values(x)["mean"].to_numpy(float) for level, g in table.groupby(by, sort=True)}
    groups: list[list[Any]] = []
    for level, y in lines.items():
        for group in groups:
            other = lines[group[0]]
            if len(other) == len(y) and np.allclose(other, y, rtol=1e-9, atol=1e-12, equal_nan=True):
                group.append(level)
                break
        else:
            groups.append([level])
    return [g for g in groups if len(g) > 1]
