"""Scenario sweeps: run every (design point, replication) of a sweep and keep one row per run.

:func:`run_sweep` ties together the parts, each in its own module:

- :mod:`model.sweep_spec`: sweep files (TOML), their schema and validation;
- :mod:`model.designs`: experimental designs (grid, lhs, sobol), factor keys and common seeds;
- :mod:`model.runners`: running one task, and executors (in-process, local processes, Dask);
- :mod:`model.result_store`: the resumable Parquet store of a sweep directory.

Their public names are re-exported here, so ``from model.sweeps import load_results`` and the like
keep working.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from model.designs import (
    MANIFEST_FORMAT,
    Design,
    RunTask,
    design_from,
    design_points,
    expand_key,
    flatten,
    resolve_design,
    scenario_at,
    toml_value,
    unit_samples,
)
from model.result_store import ResultStore, load_results, order_columns, read_manifest
from model.runners import InlineExecutor, Simulate, execute_run, map_unordered, open_executor, progress_bar
from model.sweep_spec import (
    RESERVED_NAMES,
    RUN_COLUMNS,
    SWEEP_DIR,
    Factor,
    SweepError,
    SweepSpec,
    load_sweep,
    parse_spec,
)

__all__ = [
    "MANIFEST_FORMAT",
    "RESERVED_NAMES",
    "RUN_COLUMNS",
    "SWEEP_DIR",
    "Design",
    "Factor",
    "InlineExecutor",
    "ResultStore",
    "RunTask",
    "Simulate",
    "SweepError",
    "SweepSpec",
    "design_from",
    "design_points",
    "execute_run",
    "expand_key",
    "flatten",
    "load_results",
    "load_sweep",
    "map_unordered",
    "open_executor",
    "order_columns",
    "parse_spec",
    "progress_bar",
    "read_manifest",
    "resolve_design",
    "run_sweep",
    "scenario_at",
    "toml_value",
    "unit_samples",
]


def run_sweep(sweep: str | Path | SweepSpec | Mapping[str, Any] | Design, out: str | Path | None = None, *,
              workers: int | None = None, scheduler: str | None = None, dask_local: bool = False,
              resume: bool = False, overrides: Sequence[str] = (), progress: bool | None = None,
              chunk_rows: int = 64, chunk_seconds: float = 10.0, simulate: Simulate | None = None) -> pd.DataFrame:
    """Run every (design point, replication) of a sweep; return one row per run as a DataFrame.

    `sweep`: a sweep file (path or shipped name), a :class:`SweepSpec`, a dict shaped like the TOML,
    or a resolved :class:`Design`. `out`: a directory for the Parquet store (None: results only in
    memory). `resume`: continue the sweep stored in `out`, skipping stored runs. `workers`: local
    processes (default all cores; 1 runs in this process), or Dask workers with `dask_local`;
    `scheduler`: address of an existing Dask scheduler. `progress`: a bar with rate and ETA
    (default: only on a terminal). Rows are written in chunks of at most `chunk_rows` runs or every
    `chunk_seconds` seconds. `simulate(scenario, seed) -> (model, summary)` replaces
    :func:`model.model.run` (it must be importable by workers). Failed runs have an ``error`` text
    and no metrics; ``frame.attrs["failed"]`` counts them. Results do not depend on the runner.
    """
    design = design_from(sweep, overrides)
    if chunk_rows < 1:
        raise SweepError(f"chunk_rows {chunk_rows}: must be at least 1")
    tasks = design.tasks()
    base_table = design.base.model_dump(mode="json")
    rows: list[dict[str, Any]] = []
    with open_executor(workers, scheduler, dask_local) as (executor, slots):
        store: ResultStore | None = None
        if out is not None:
            out = Path(out)
            manifest = design.manifest()
            store = (ResultStore.reopen(out, manifest) if resume and (out / ResultStore.MANIFEST).exists()
                     else ResultStore.create(out, manifest))
            done = store.finished_run_ids()
            tasks = [t for t in tasks if t.run_id not in done]
        bar = progress_bar(design.runs, design.runs - len(tasks), design.spec.name or "sweep", progress)
        failed = 0
        last_flush = time.monotonic()
        try:
            work = partial(execute_run, base_table, simulate=simulate)
            for row in map_unordered(executor, work, tasks, 2 * slots):
                row.update(design.points[row["point"]])
                failed += row["error"] is not None
                if store is None:
                    rows.append(row)
                else:
                    store.add(row)
                    if store.buffered >= chunk_rows or time.monotonic() - last_flush >= chunk_seconds:
                        store.flush()
                        last_flush = time.monotonic()
                bar.update(1)
                if failed:
                    bar.set_postfix(failed=failed, refresh=False)
        except BrokenProcessPool as exc:
            stored = f"; finished runs are stored in {out}, --resume continues" if out is not None else ""
            raise RuntimeError(f"a worker process died (killed, or out of memory?): {exc}{stored}") from exc
        finally:
            if store is not None:
                store.flush()
            bar.close()
    if store is not None:
        frame = store.load()
    else:
        frame = order_columns(pd.DataFrame(rows), design.factor_names) if rows else pd.DataFrame(
            columns=[*RUN_COLUMNS, *design.factor_names, "error"])
    frame.attrs["failed"] = int(frame["error"].notna().sum()) if "error" in frame else 0
    frame.attrs["design"] = design.manifest_design()
    return frame
