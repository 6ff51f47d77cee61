"""Executors: where runs happen — in this process, in local worker processes, or on a Dask cluster.

One executor serves every command that runs many models (``tipline compare``, ``sweep``, ``equivalence``):
:func:`open_executor` gives one and its number of parallel slots, :func:`map_unordered` keeps a bounded
number of tasks in flight and yields results as they finish, :func:`progress_bar` shows rate and ETA.
On the way out of :func:`open_executor` with an exception (Ctrl-C, SIGTERM under :func:`sigterm_as_exit`),
worker processes are stopped rather than waited for; a Dask cluster is closed client first, then its
workers, then its scheduler, so a good run ends without errors from workers that lost their scheduler.
Worker processes (forkserver) import the calling script again: call these under
``if __name__ == "__main__":`` in a script.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, suppress
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


#: Exit status of a command ended by SIGTERM (128 + 15), as a shell reports it.
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(SystemExit):
    """SIGTERM arrived: raised in the main thread so that cleanup runs (workers stopped, results flushed)."""

    def __init__(self) -> None:
        super().__init__(EXIT_TERMINATED)


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (a SystemExit with code 143) in the main thread, as
    Ctrl-C raises KeyboardInterrupt, so ``finally`` blocks and context managers clean up; further SIGTERMs
    are ignored while they do. Outside the main thread (no signal handlers there) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dask_slots(client: Any) -> int:
    return max(1, sum(client.nthreads().values()))


def _close_dask(client: Any, cluster: Any) -> None:
    """Client first (the scheduler forgets its results), then the local cluster's workers (closed, and waited
    for), then its scheduler: no worker outlives the scheduler it sends heartbeats to."""
    client.close()
    if cluster is None:
        return
    with suppress(Exception):
        cluster.scale(0)
        deadline = time.monotonic() + 30
        while cluster.workers and time.monotonic() < deadline:
            time.sleep(0.05)
    cluster.close()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a local pool's worker processes now (on an interrupt), rather than waiting for their runs."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with suppress(Exception):
            process.terminate()


#: The environment variable that turns drawing ahead on or off (model.engine.ahead).
DRAW_AHEAD_VARIABLE = "TIPLINE_DRAW_AHEAD"


def usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


def _draws_inline(workers: int) -> dict[str, str] | None:
    """The environment of `workers` worker processes that keep every core busy: their platforms do not draw ahead in
    a thread of their own (unless this environment says so), which would only take time from the other workers (a
    national run drawing ahead beside a busy core: 0.3-0.9 s of its 10.6-11.0 s less wall time, but 0.2-0.7 s more
    CPU time, taken from the other worker). None if a core is left over."""
    if workers < usable_cpus():
        return None
    return {DRAW_AHEAD_VARIABLE: os.environ.get(DRAW_AHEAD_VARIABLE, "0")}


def _set_environment(env: dict[str, str]) -> None:
    """A pool worker's initializer: set `env` in its environment."""
    os.environ.update(env)


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
                # No dashboard (its port 8787 may be taken: a warning); the cluster's own log lines are
                # silenced: a worker closing while a heartbeat is in flight logs a harmless ERROR with a
                # traceback. A failed run is recorded in its row; a lost worker stops the sweep with a message.
                n_workers = workers or os.cpu_count() or 1
                cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                       processes=True, host="127.0.0.1", dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                       silence_logs=logging.CRITICAL, env=_draws_inline(n_workers))
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
            _close_dask(client, cluster)
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        yield InlineExecutor(), 1
        return
    env = _draws_inline(workers)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
                               initializer=_set_environment if env else None, initargs=(env,) if env else ())
    try:
        yield pool, workers
    except BaseException:
        _stop_workers(pool)  # interrupted (Ctrl-C, SIGTERM) or failed: do not wait for the runs in flight
        pool.shutdown(wait=True, cancel_futures=True)
        raise
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
