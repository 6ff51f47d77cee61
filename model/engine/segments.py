"""Many first-in-first-out lists of report rows in one growable array (for the compiled queues and calendars).

Each list (a queue lane, a calendar's day) is a ring buffer, a segment of one shared array, the arena:
``arena[base + (start + i) % cap]`` is its i-th row, for i below ``size``. Rows of a list sit side by
side, so walking a list reads memory in order (a linked list through the rows would wait on memory at
every row: measured 18 times slower for 100,000 rows of a 4-million-row store). A full list moves to a
segment half as large again at the arena's top; when the top reaches the end, every list is packed into a
new arena sized to what they hold.

A list's items are int64 values: a row, or a row with a day packed above it, so that a list
keeps what it needs to know about its rows (the day each entered a queue) side by side with them instead of
in a column by row.

The arenas are the items of a numba typed list (``arenas``, passed to the kernels beside the named tuples:
inside a named tuple it would make every call type each array in Python), so a kernel can replace one when it
grows. Kernels append in their own loops (a call per row would cost more than the append) and call
:func:`grow` when a list is full.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.typed import List

#: A packed value is ``day << DAY_SHIFT | row``: rows below 2**40, days below 2**23.
DAY_SHIFT = 40
ROW_MASK = (1 << DAY_SHIFT) - 1


class Segments(NamedTuple):
    """Lists of rows, by list index."""

    which: int        # the index of its arena (int64 rows) in ``arenas``
    base: np.ndarray  # int64 by list: where its segment starts in the arena
    cap: np.ndarray   # int64 by list: its segment's length
    start: np.ndarray  # int64 by list: its first row's position in the segment
    size: np.ndarray  # int64 by list: its rows
    top: np.ndarray   # int64 [1]: the arena's first unused position


@njit(cache=True)
def new_arenas(n: int, rows: int) -> List:
    """`n` empty arenas of `rows` rows each, as a typed list (made here: a typed list built from Python compiles its
    methods in every process)."""
    arenas = List()
    for _ in range(n):
        arenas.append(np.zeros(rows, np.int64))
    return arenas


def new_segments(which: int, n_lists: int) -> Segments:
    """Empty lists in arena `which`."""
    return Segments(which, np.zeros(n_lists, np.int64), np.zeros(n_lists, np.int64), np.zeros(n_lists, np.int64),
                    np.zeros(n_lists, np.int64), np.zeros(1, np.int64))


@njit(cache=True)
def grow(arenas: List, s: Segments, index: int, more: int) -> np.ndarray:
    """Make room in list `index` for `more` rows; returns the arena (a new array if it had to grow).

    A list grows by half (not doubling: NCMEC's queue holds millions of rows in an overloaded national run).
    Packing gives every list a quarter more room than it holds, and leaves the arena free room of a quarter of that,
    two places per list or four times the rows being added, whichever is most, so that packing (a pass over every
    list) is rare. A calendar's lists show why all three are needed: a day's batch needs a new segment (packing
    leaves an emptied list none), and a quarter of what the lists hold is less than a day's batches. With the
    quarter alone the calendars' arena was packed on 850 of `x_platform`'s 910 days (6,572 lists for about 7,000
    rows) and on 399 of the national run's first 400 (a new 3.4 MB arena each day); now on 286 and 210.
    """
    arena = arenas[s.which]
    size = s.size[index]
    cap = max(8, s.cap[index] + s.cap[index] // 2, size + more)
    if s.top[0] + cap > len(arena):
        needed = cap
        for i in range(len(s.size)):
            if i != index:
                needed += s.size[i] + s.size[i] // 4
        packed = np.empty(needed + max(needed // 4, 2 * len(s.size), 4 * more, 4096), np.int64)
        top = 0
        for i in range(len(s.size)):
            n = s.size[i]
            room = cap if i == index else n + n // 4
            for j in range(n):
                k = s.start[i] + j
                if k >= s.cap[i]:
                    k -= s.cap[i]
                packed[top + j] = arena[s.base[i] + k]
            s.base[i], s.cap[i], s.start[i] = top, room, 0
            top += room
        s.top[0] = top
        arenas[s.which] = packed
        return packed
    for j in range(size):
        k = s.start[index] + j
        if k >= s.cap[index]:
            k -= s.cap[index]
        arena[s.top[0] + j] = arena[s.base[index] + k]
    s.base[index], s.cap[index], s.start[index] = s.top[0], cap, 0
    s.top[0] += cap
    return arena


@njit(cache=True)
def take(arenas: List, s: Segments, index: int, k: int, out: np.ndarray, n_out: int) -> int:
    """Remove the first `k` rows of list `index` into `out` from `n_out`; returns the new end of `out`."""
    arena = arenas[s.which]
    base, cap, start = s.base[index], s.cap[index], s.start[index]
    for j in range(k):
        p = start + j
        if p >= cap:
            p -= cap
        out[n_out + j] = arena[base + p]
    drop(s, index, k)
    return n_out + k


@njit(cache=True)
def drop(s: Segments, index: int, k: int) -> None:
    """Forget the first `k` rows of list `index`."""
    s.size[index] -= k
    start = s.start[index] + k
    if start >= s.cap[index]:
        start -= s.cap[index]
    s.start[index] = start if s.size[index] else 0


@njit(cache=True)
def copy_rows(arenas: List, s: Segments, index: int, out: np.ndarray, n_out: int) -> int:
    """Copy the rows of list `index` (any packed day masked off), in order, into `out` from `n_out`; the list is left
    as it is. Returns the new end of `out`."""
    return copy_part(arenas, s, index, 0, s.size[index], out, n_out)


@njit(cache=True)
def copy_part(arenas: List, s: Segments, index: int, first: int, k: int, out: np.ndarray, n_out: int) -> int:
    """Copy `k` rows of list `index` from its `first` (any packed day masked off), in order, into `out` from `n_out`;
    the list is left as it is. Returns the new end of `out`."""
    arena = arenas[s.which]
    for j in range(first, first + k):
        p = s.start[index] + j
        if p >= s.cap[index]:
            p -= s.cap[index]
        out[n_out + j - first] = arena[s.base[index] + p] & ROW_MASK
    return n_out + k
