"""One run of a sweep: a task (design point, replication, seed) to one result row.

:func:`execute_run` runs one task (in a worker process, a Dask worker or in-process) and records any
exception in the row's ``error``, so a failing run does not stop the sweep. A run depends only on its
point and seed, so results are the same whatever runs them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from model.params import Scenario
from model.sweeps.designs import RunTask, scenario_at

#: ``simulate(scenario, seed) -> (model, summary)``, as :func:`model.model.run` (importable by workers).
Simulate = Callable[[Scenario, int], tuple[Any, dict[str, Any]]]


def _default_simulate(scenario: Scenario, seed: int) -> tuple[Any, dict[str, Any]]:
    """:func:`model.model.run` without the daily series: a sweep keeps only the summary."""
    from model.model import run
    return run(scenario, seed, daily_series=False)


def execute_run(base: Mapping[str, Any], task: RunTask, simulate: Simulate | None = None) -> dict[str, Any]:
    """Run one task and return its row; any exception is caught and recorded in ``error``."""
    row: dict[str, Any] = {"run_id": task.run_id, "point": task.point, "replication": task.replication,
                           "seed": task.seed, "error": None}
    try:
        scenario = scenario_at(base, task.overrides, label=f"run {task.run_id}")
        _, summary = (simulate or _default_simulate)(scenario, task.seed)
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    for key, value in summary.items():
        if key not in row:
            row[key] = math.nan if value is None else value
    return row


