"""The desk's calendars, compiled: rows waiting for a fixed delay (a judge, an approval, MLAT, an answer).

The same order as :class:`model.calendars.Calendar` (the reference): on its due day a calendar hands
back first the rows scheduled with a due day each, then the rows scheduled as a whole day's batch,
each in the order they were scheduled. Each calendar keeps, per due day, one linked list of each kind
(through the links the desk's queue uses too: a row waits in one place at a time), in a ring of
`days` slots; rows due further ahead wait in a far list until their day comes within the ring.

Calendars: :data:`INBOX` (referrals, signed warrants, answers) and :data:`SERVICE` (approved legal
process), each with its two kinds of list.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

INBOX, SERVICE = 0, 1
EACH, BATCH = 0, 1      # scheduled with a due day each / as a whole day's batch
END = -1


class Calendars(NamedTuple):
    """Lists by (calendar, kind, due day mod ring size)."""

    head: np.ndarray       # int64 [2, 2, days]
    tail: np.ndarray       # int64 [2, 2, days]
    due: np.ndarray        # int32 by row: its due day
    far_head: np.ndarray   # int64 [2, 2]: rows due beyond the ring
    far_tail: np.ndarray
    far_first: np.ndarray  # int64 [2, 2]: the earliest due day in the far list
    waiting: np.ndarray    # int64 [2]: rows in each calendar


def new_calendars(capacity: int, days: int) -> Calendars:
    return Calendars(head=np.full((2, 2, days), END, np.int64), tail=np.full((2, 2, days), END, np.int64),
                     due=np.zeros(capacity, np.int32), far_head=np.full((2, 2), END, np.int64),
                     far_tail=np.full((2, 2), END, np.int64), far_first=np.full((2, 2), 1 << 62, np.int64),
                     waiting=np.zeros(2, np.int64))


@njit(cache=True)
def schedule(c: Calendars, link: np.ndarray, calendar: int, kind: int, rows: np.ndarray, due: np.ndarray,
             day: int) -> None:
    """File each of `rows` under its due day (on or after `day`, today), in order."""
    days = c.head.shape[2]
    for i in range(len(rows)):
        row = rows[i]
        c.due[row] = due[i]
        link[row] = END
        if due[i] - day < days:
            slot = due[i] % days
            if c.head[calendar, kind, slot] == END:
                c.head[calendar, kind, slot] = row
            else:
                link[c.tail[calendar, kind, slot]] = row
            c.tail[calendar, kind, slot] = row
        else:
            if c.far_head[calendar, kind] == END:
                c.far_head[calendar, kind] = row
            else:
                link[c.far_tail[calendar, kind]] = row
            c.far_tail[calendar, kind] = row
            c.far_first[calendar, kind] = min(c.far_first[calendar, kind], due[i])
    c.waiting[calendar] += len(rows)


@njit(cache=True)
def _bring_near(c: Calendars, link: np.ndarray, calendar: int, kind: int, day: int) -> None:
    """Far rows now due within the ring join their day's list (in the order they were scheduled)."""
    rows = np.empty(c.waiting[calendar], np.int64)
    n = 0
    row = c.far_head[calendar, kind]
    while row != END:
        rows[n] = row
        n += 1
        row = link[row]
    c.far_head[calendar, kind] = END
    c.far_tail[calendar, kind] = END
    c.far_first[calendar, kind] = 1 << 62
    c.waiting[calendar] -= n
    schedule(c, link, calendar, kind, rows[:n], c.due[rows[:n]].astype(np.int64), day)


@njit(cache=True)
def pop(c: Calendars, link: np.ndarray, calendar: int, day: int) -> np.ndarray:
    """The rows due on `day`: rows with a due day each first, then batches, each in the order scheduled."""
    days = c.head.shape[2]
    slot = day % days
    out = np.empty(c.waiting[calendar], np.int64)
    n = 0
    for kind in (EACH, BATCH):
        if c.far_first[calendar, kind] - day < days:
            _bring_near(c, link, calendar, kind, day)
        row = c.head[calendar, kind, slot]
        while row != END:
            out[n] = row
            n += 1
            row = link[row]
        c.head[calendar, kind, slot] = END
        c.tail[calendar, kind, slot] = END
    c.waiting[calendar] -= n
    return out[:n]


@njit(cache=True)
def rows_of(c: Calendars, link: np.ndarray, calendar: int) -> np.ndarray:
    """Every row waiting in `calendar` (any order)."""
    out = np.empty(c.waiting[calendar], np.int64)
    n = 0
    for kind in (EACH, BATCH):
        for slot in range(c.head.shape[2]):
            row = c.head[calendar, kind, slot]
            while row != END:
                out[n] = row
                n += 1
                row = link[row]
        row = c.far_head[calendar, kind]
        while row != END:
            out[n] = row
            n += 1
            row = link[row]
    return out

