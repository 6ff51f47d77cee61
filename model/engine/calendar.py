"""The desk's calendars, compiled: rows waiting for a fixed delay (a judge, an approval, MLAT, an answer).

The same order as :class:`model.calendars.Calendar` (the reference): on its due day a calendar hands
back first the rows scheduled with a due day each, then the rows scheduled as a whole day's batch,
each in the order they were scheduled. Each calendar keeps, per due day, one list of each kind
(:mod:`model.engine.segments`) in a ring of `days` slots; rows due further ahead wait in a far list,
packed with their due day, until their day comes within the ring.

Calendars: :data:`INBOX` (referrals, signed warrants, answers) and :data:`SERVICE` (approved legal
process), each with its two kinds of list.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.typed import List

from model.engine import segments
from model.engine.segments import DAY_SHIFT, ROW_MASK, Segments, new_segments

INBOX, SERVICE = 0, 1
EACH, BATCH = 0, 1      # scheduled with a due day each / as a whole day's batch
NEVER = 1 << 62


class Calendars(NamedTuple):
    """Lists by (calendar, kind, due day mod ring size), then the far lists by (calendar, kind)."""

    lists: Segments
    far_first: np.ndarray  # int64 [2, 2]: the earliest due day in each far list
    waiting: np.ndarray    # int64 [2]: rows in each calendar


def new_calendars(arena: int, days: int) -> Calendars:
    """Empty calendars whose lists are in arena number `arena`, with a ring of `days`."""
    return Calendars(lists=new_segments(arena, 4 * days + 4),
                     far_first=np.full((2, 2), NEVER, np.int64), waiting=np.zeros(2, np.int64))


@njit(cache=True)
def schedule(arenas: List, c: Calendars, calendar: int, kind: int, rows: np.ndarray, due: np.ndarray, day: int) -> None:
    """File each of `rows` under its due day (on or after `day`, today), in order."""
    s = c.lists
    days = (len(s.size) - 4) // 4
    arena = arenas[s.which]
    far = 4 * days + calendar * 2 + kind
    index, last_due = -1, -1
    for i in range(len(rows)):
        value = rows[i]
        if due[i] != last_due:   # rows due the same day (a batch) share their list
            last_due = due[i]
            index = (calendar * 2 + kind) * days + last_due % days if last_due - day < days else far
        if index == far:
            c.far_first[calendar, kind] = min(c.far_first[calendar, kind], last_due)
            value |= last_due << DAY_SHIFT
        if s.size[index] == s.cap[index]:   # a batch's rows all go to one list: room for the rest at once
            arena = segments.grow(arenas, s, index, len(rows) - i if kind == BATCH else 1)
        p = s.start[index] + s.size[index]
        if p >= s.cap[index]:
            p -= s.cap[index]
        arena[s.base[index] + p] = value
        s.size[index] += 1
    c.waiting[calendar] += len(rows)


@njit(cache=True)
def _bring_near(arenas: List, c: Calendars, calendar: int, kind: int, day: int) -> None:
    """Far rows now due within the ring join their day's list (in the order they were scheduled)."""
    s = c.lists
    days = (len(s.size) - 4) // 4
    far = 4 * days + calendar * 2 + kind
    packed = np.empty(s.size[far], np.int64)
    segments.take(arenas, s, far, len(packed), packed, 0)
    c.far_first[calendar, kind] = NEVER
    c.waiting[calendar] -= len(packed)
    schedule(arenas, c, calendar, kind, packed & ROW_MASK, packed >> DAY_SHIFT, day)


@njit(cache=True)
def pop(arenas: List, c: Calendars, calendar: int, day: int) -> np.ndarray:
    """The rows due on `day`: rows with a due day each first, then batches, each in the order scheduled."""
    s = c.lists
    days = (len(s.size) - 4) // 4
    for kind in (0, 1):
        if c.far_first[calendar, kind] - day < days:
            _bring_near(arenas, c, calendar, kind, day)
    each, batch = (calendar * 2) * days + day % days, (calendar * 2 + 1) * days + day % days
    out = np.empty(s.size[each] + s.size[batch], np.int64)
    n = segments.take(arenas, s, each, s.size[each], out, 0)
    segments.take(arenas, s, batch, s.size[batch], out, n)
    c.waiting[calendar] -= len(out)
    return out


@njit(cache=True)
def rows_of(arenas: List, c: Calendars, calendar: int) -> np.ndarray:
    """Every row waiting in `calendar` (any order)."""
    s = c.lists
    days = (len(s.size) - 4) // 4
    out = np.empty(c.waiting[calendar], np.int64)
    n = 0
    for k in range(2 * days + 2):
        index = calendar * 2 * days + k if k < 2 * days else 4 * days + calendar * 2 + k - 2 * days
        n = segments.copy_rows(arenas, s, index, out, n)
    return out
