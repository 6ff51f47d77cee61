"""A calendar of report rows waiting for a fixed delay (a judge, an approval, MLAT, a platform's answer).

Rows are ``int64`` row indices of :class:`model.reports.ReportStore`, as in :mod:`model.queues`.
"""

from __future__ import annotations

import numpy as np

from model.queues import joined, stable_order
from model.reports import Rows


class Calendar:
    """Rows waiting for a fixed delay to end, released on the day they are due.

    ``pop(day)`` hands back every row due on or before `day`: first the rows scheduled with a due day
    each, in order of due day, then batches scheduled whole for one day, in order of due day; rows due
    the same day leave in the order they were scheduled. Days must be popped in increasing order.

    A whole-day batch (a constant delay) is filed under its day. Rows with a due day each go, if due
    within the next :attr:`WINDOW` days, to a short array kept sorted by due day (each day's new rows
    merged in at the next ``pop``), and otherwise to a far list in scheduling order, sorted into the
    short array once a window. So a long calendar (MLAT waits of months) is not re-merged every day.
    """

    WINDOW = 32  # days

    def __init__(self) -> None:
        self._by_day: dict[int, list[Rows]] = {}
        self._rows = np.empty(0, np.int64)   # due before the horizon, sorted by due day (stable)
        self._days = np.empty(0, np.int64)
        self._pending: list[tuple[Rows, np.ndarray]] = []  # due before the horizon, not yet merged
        self._far: list[tuple[Rows, np.ndarray]] = []      # due on or after the horizon, in scheduling order
        self._horizon = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def schedule(self, rows: Rows, days: np.ndarray | int) -> None:
        """File each row under its due day (one day for all, or one per row)."""
        if len(rows) == 0:
            return
        self._count += len(rows)
        if np.ndim(days) == 0:
            self._by_day.setdefault(int(days), []).append(rows)
            return
        days = np.asarray(days, np.int64)
        near = days < self._horizon
        if near.all():
            self._pending.append((rows, days))
        elif not near.any():
            self._far.append((rows, days))
        else:
            self._pending.append((rows.compress(near), days.compress(near)))
            far = ~near
            self._far.append((rows.compress(far), days.compress(far)))

    def _advance(self, day: int) -> None:
        """Move the horizon to `day` + WINDOW: far rows now within it join the sorted rows, after them."""
        self._horizon = day + self.WINDOW
        if not self._far:
            return
        rows = joined([r for r, _ in self._far])
        days = np.concatenate([d for _, d in self._far])
        near = days < self._horizon
        self._far = [(rows.compress(~near), days.compress(~near))] if not near.all() else []
        if near.any():   # every such row is due after every sorted row: sort them and append
            rows, days = rows.compress(near), days.compress(near)
            order = stable_order(days)
            self._rows = np.concatenate([self._rows, rows[order]])
            self._days = np.concatenate([self._days, days[order]])

    def _merge(self) -> None:
        rows = joined([r for r, _ in self._pending])
        days = np.concatenate([d for _, d in self._pending])
        self._pending.clear()
        order = stable_order(days)
        rows, days = rows[order], days[order]
        if len(self._days) == 0 or days[0] >= self._days[-1]:
            self._rows = np.concatenate([self._rows, rows])
            self._days = np.concatenate([self._days, days])
            return
        # Stable merge of two sorted runs: new rows go after existing rows due the same day.
        at = self._days.searchsorted(days, side="right") + np.arange(len(days))
        merged_rows = np.empty(len(self._rows) + len(rows), np.int64)
        merged_days = np.empty_like(merged_rows)
        existing = np.ones(len(merged_rows), bool)
        existing[at] = False
        merged_rows[at], merged_days[at] = rows, days
        merged_rows[existing], merged_days[existing] = self._rows, self._days
        self._rows, self._days = merged_rows, merged_days

    def pop(self, day: int) -> Rows:
        """All rows due on or before `day`: those scheduled with a day each first, then whole-day batches."""
        if self._pending:
            self._merge()
        if day >= self._horizon:
            self._advance(day)
        k = int(self._days.searchsorted(day, side="right"))
        chunks = [self._rows[:k]] if k else []
        if k:
            self._rows, self._days = self._rows[k:], self._days[k:]
        if self._by_day:
            for due in sorted(d for d in self._by_day if d <= day):
                chunks += self._by_day.pop(due)
        out = joined(chunks)
        self._count -= len(out)
        return out

    def items(self) -> tuple[Rows, np.ndarray]:
        """Every row waiting and its due day (any order)."""
        batches = [(self._rows, self._days), *self._pending, *self._far]
        batches += [(r, np.full(len(r), d, np.int64)) for d, chunks in self._by_day.items() for r in chunks]
        return np.concatenate([r for r, _ in batches]), np.concatenate([d for _, d in batches])

    @property
    def rows(self) -> Rows:
        """Every row waiting (any order), as :attr:`PriorityQueue.rows`."""
        return self.items()[0]
