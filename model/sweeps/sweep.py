"""Running a sweep: every (design point, replication) on an executor, one row per run, into the store.

:func:`run_sweep` resolves the design (:mod:`model.sweeps.designs`), skips the runs a resumed store already
holds (:mod:`model.sweeps.store`), runs the rest on an executor (:mod:`model.executors`, one task per run:
:func:`model.sweeps.runs.execute_run`) and writes the rows in atomic chunks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from model.executors import map_unordered, open_executor, progress_bar, sigterm_as_exit
from model.sweeps.designs import Design, RunTask, design_from
from model.sweeps.runs import Simulate, execute_run
from model.sweeps.spec import RUN_COLUMNS, SweepError, SweepSpec
from model.sweeps.store import ResultStore, order_columns


class RowSink:
    """Where a sweep's rows go: a store, flushed in chunks of `chunk_rows` rows or every `chunk_seconds`, or a list."""

    def __init__(self, store: ResultStore | None, chunk_rows: int, chunk_seconds: float) -> None:
        self.store, self.chunk_rows, self.chunk_seconds = store, chunk_rows, chunk_seconds
        self.rows: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()

    def add(self, row: dict[str, Any]) -> None:
        if self.store is None:
            self.rows.append(row)
            return
        self.store.add(row)
        if self.store.buffered >= self.chunk_rows or time.monotonic() - self.last_flush >= self.chunk_seconds:
            self.flush()

    def flush(self) -> None:
        if self.store is not None:
            self.store.flush()
            self.last_flush = time.monotonic()

    def frame(self, design: Design) -> pd.DataFrame:
        if self.store is not None:
            return self.store.load()
        if not self.rows:
            return pd.DataFrame(columns=[*RUN_COLUMNS, *design.factor_names, "error"])
        return order_columns(pd.DataFrame(self.rows), design.factor_names)


def open_store(design: Design, out: str | Path | None, resume: bool) -> tuple[ResultStore | None, list[RunTask]]:
    """The store in `out` (new, or reopened to resume; locked for this writer) and the runs it does not hold yet."""
    tasks = design.tasks()
    if out is None:
        return None, tasks
    store = ResultStore.open(out, design.manifest(), resume)  # locked until store.close()
    try:
        done = store.finished_run_ids()
    except BaseException:
        store.close()
        raise
    return store, [t for t in tasks if t.run_id not in done]


@contextmanager
def worker_deaths_reported(out: str | Path | None) -> Iterator[None]:
    """A worker process that dies takes the pool with it: say so, and that finished runs are kept."""
    try:
        yield
    except BrokenProcessPool as exc:
        stored = f"; finished runs are stored in {out}, --resume continues" if out is not None else ""
        raise RuntimeError(f"a worker process died (killed, or out of memory?): {exc}{stored}") from exc


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
    with ExitStack() as stack:
        stack.enter_context(sigterm_as_exit())  # SIGTERM: workers stopped, finished chunks kept, exit 143
        locked = stack.enter_context(ExitStack())  # left after the executor: the lock outlives the workers
        executor, slots = stack.enter_context(open_executor(workers, scheduler, dask_local))
        store, tasks = open_store(design, out, resume)
        if store is not None:
            locked.callback(store.close)  # the directory's lock, held for the whole sweep
        sink = RowSink(store, chunk_rows, chunk_seconds)
        bar = progress_bar(design.runs, design.runs - len(tasks), design.spec.name or "sweep", progress)
        failed = 0
        work = partial(execute_run, design.base.model_dump(mode="json"), simulate=simulate)
        with worker_deaths_reported(out):
            try:
                for row in map_unordered(executor, work, tasks, 2 * slots):
                    row.update(design.points[row["point"]])
                    failed += row["error"] is not None
                    sink.add(row)
                    bar.update(1)
                    if failed:
                        bar.set_postfix(failed=failed, refresh=False)
            finally:
                sink.flush()
                bar.close()
        frame = sink.frame(design)
    frame.attrs["failed"] = int(frame["error"].notna().sum()) if "error" in frame else 0
    frame.attrs["design"] = design.manifest_design()
    return frame
