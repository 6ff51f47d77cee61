"""Executors: where runs happen — in this process, in local worker processes, or on a Dask cluster.

One executor serves every command that runs many models (``tipline compare``, ``sweep``, ``equivalence``):
:func:`open_executor` gives one and its number of parallel slots, :func:`map_unordered` keeps a bounded
number of tasks in flight and yields results as they finish, :func:`progress_bar` shows rate and ETA.
Worker processes (forkserver) import the calling script again: call these under
``if __name__ == "__main__":`` in a script.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from model.errors import BadInput


class InlineExecutor(Executor):
    """Runs each task at submission, in this process (one worker: no process start-up cost)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - delivered through the future, like a pool would
            future.set_exception(exc)
        return future


def _dask_slots(client: Any) -> int:
    return max(1, sum(client.nthreads().values()))


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None,
                  dask_local: bool = False) -> Iterator[tuple[Executor, int]]:
    """An executor and its number of parallel slots.

    Default: ``workers`` local processes (forkserver; default all cores; 1 = in this process).
    ``scheduler``: an existing Dask distributed scheduler address (``tcp://host:8786``).
    ``dask_local``: a ``distributed.LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1.
    """
    if workers is not None and workers < 1:
        raise BadInput(f"--workers {workers}: must be at least 1")
    if scheduler and dask_local:
        raise BadInput("--scheduler and --dask-local exclude each other (an existing cluster, or a new local one)")
    if scheduler or dask_local:
        from distributed import Client, LocalCluster
        cluster = None
        try:
            if dask_local:
                cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                       processes=True, host="127.0.0.1", dashboard_address=None)
            client = Client(cluster if cluster is not None else scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            if cluster is not None:
                cluster.close()
            where = f"--scheduler {scheduler}: cannot connect to the Dask scheduler" if scheduler else \
                "--dask-local: cannot start a Dask LocalCluster"
            raise BadInput(f"{where} ({type(exc).__name__}: {exc})") from None
        try:
            yield client.get_executor(pure=False), _dask_slots(client)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        yield InlineExecutor(), 1
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))
    try:
        yield pool, workers
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def map_unordered(executor: Executor, fn: Callable[[Any], Any], items: Iterable[Any],
                  in_flight: int) -> Iterator[Any]:
    """Apply `fn` to items with at most `in_flight` tasks submitted; yield results as they finish."""
    pending: set[Future] = set()
    source = iter(items)
    try:
        for item in itertools.islice(source, in_flight):
            pending.add(executor.submit(fn, item))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                for item in itertools.islice(source, 1):
                    pending.add(executor.submit(fn, item))
    finally:
        for future in pending:
            future.cancel()



def progress_bar(total: int | None, initial: int, label: str, show: bool | None) -> Any:
    """A tqdm bar of runs on stderr, with rate and ETA; `show` None: only when stderr is a terminal."""
    from tqdm import tqdm
    if show is None:
        show = sys.stderr.isatty()
    return tqdm(total=total, initial=initial, desc=label, unit="run", disable=not show, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)
