"""Drawing a platform's next day in a background thread while the rest of the day runs (the compiled engine).

A platform's draws (how many reports, their attributes, their cases' latent draws and waits) come from its own
random streams only: common random numbers, so nothing downstream changes them. Drawing day d + 1 during day d
therefore gives the same numbers in the same order, and the same results. numpy's generators and the draw kernels
release the GIL, and so do the kernels of the day (``nogil``), so on a second core the draws cost no time: a
national two-year run 1.28 times as fast (benchmarks/RESULTS.md, section H). One thread serves every platform of
every model in the process.

Handing a day to the thread costs about 0.2 ms of CPU time (the GIL changes hands), more than drawing a small
platform's day takes, so a platform draws ahead only when it files at least :data:`MIN_REPORTS_PER_DAY` reports a
day and the process may use two CPUs. ``RetentionModel(draw_ahead=...)`` or the environment variable
``TIPLINE_DRAW_AHEAD`` (``0`` or ``1``) decides instead; sweeps' worker processes set it to ``0`` when they already
use every core.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from model.errors import BadInput
from model.executors import DRAW_AHEAD_VARIABLE, usable_cpus

#: Expected reports a day from which a platform draws ahead (``x_platform``'s 2,000 ran 5-15% slower, 8,000 ran
#: 1.17 times as fast; RESULTS.md section H).
MIN_REPORTS_PER_DAY = 5_000
#: The environment variable that turns drawing ahead on (1) or off (0) when the model does not say.
ENVIRONMENT = DRAW_AHEAD_VARIABLE

_pool: ThreadPoolExecutor | None = None


def draws_ahead(choice: bool | None, reports_per_day: float) -> bool:
    """Whether a platform expecting `reports_per_day` reports draws ahead: `choice` if given, else the environment
    variable, else whether it files enough reports and the process may use two CPUs."""
    if choice is not None:
        return choice
    setting = os.environ.get(ENVIRONMENT)
    if setting is not None:
        if setting not in ("0", "1"):
            raise BadInput(f"environment variable {ENVIRONMENT}={setting!r}: allowed 0 (off) or 1 (on)")
        return setting == "1"
    return reports_per_day >= MIN_REPORTS_PER_DAY and usable_cpus() >= 2


class DrawAhead[Draws]:
    """A day's draws, made by `draw(day)` in the background thread the day before (or now, on the first day)."""

    def __init__(self, draw: Callable[[int], Draws]) -> None:
        self._draw = draw
        self._next: tuple[int, Future[Draws]] | None = None

    def take(self, day: int) -> Draws:
        """Day `day`'s draws, and the next day's started. Days come one after another; an error in a draw is raised
        here, on the day it was for."""
        ahead, self._next = self._next, None
        if ahead is None:
            draws = self._draw(day)
        elif ahead[0] == day:
            draws = ahead[1].result()
        else:   # the streams have moved on to another day: today's numbers cannot be drawn any more
            raise RuntimeError(f"draws were made ahead for day {ahead[0]}, not for day {day}")
        self._next = (day + 1, _thread().submit(self._draw, day + 1))
        return draws


def _thread() -> ThreadPoolExecutor:
    """The process's drawing thread (started on first use)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tipline-draws")
    return _pool
