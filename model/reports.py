"""Reports as rows: a columnar store, priority queues of row indices, and a calendar of due days.

Reports are never Python objects. Each report in flight is one row of :class:`ReportStore`
(structure of arrays); queues and the calendar hold ``int64`` row indices; agents move whole
batches with numpy. Finished rows are released and reused, so memory follows the number of
reports in flight, not the number ever created.
"""

from __future__ import annotations

import heapq

import numpy as np

Rows = np.ndarray  # 1-D int64 array of row indices

#: Column name -> dtype. Days are model days (day 1 is the first simulated day). The columns from
#: ``needs_process`` on are written only for actionable reports (cases).
COLUMNS: dict[str, np.dtype] = {
    "created": np.dtype(np.int32),        # day the platform filed the report
    "deadline": np.dtype(np.int32),       # last day the platform still holds the content
    "platform": np.dtype(np.int16),
    "agency": np.dtype(np.int16),         # destination agency (index into model.agencies)
    "triage_cost": np.dtype(np.float32),  # analyst time, in novel-report units
    "case_cost": np.dtype(np.float32),    # investigator capacity, in case units
    "counted": np.dtype(bool),            # created after warm-up
    "urgent": np.dtype(bool),
    "quality": np.dtype(bool),            # usable user / IP data: NCMEC refers it (else informational)
    "actionable": np.dtype(bool),
    "needs_process": np.dtype(bool),      # legal process must be served on the platform
    "preservation_request": np.dtype(bool),
    "ip_lead": np.dtype(bool),            # next step is an ISP subpoena for the IP
    "ip_unattributable": np.dtype(bool),  # behind carrier-grade NAT
    "process_days": np.dtype(np.int32),   # intake -> legal process served (warrant + drafting/MLAT)
    "response_days": np.dtype(np.int32),  # platform's answer to served legal process
    "arrest_days": np.dtype(np.int32),    # forensic exam -> arrest
    "arrest_draw": np.dtype(np.float32),  # uniform compared with the arrest probability
}


class ReportStore:
    """Preallocated columns for reports in flight, grown geometrically, with a free list."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = max(int(capacity), 16)
        self.columns = {name: np.zeros(self.capacity, dtype) for name, dtype in COLUMNS.items()}
        self._free = np.arange(self.capacity - 1, -1, -1, dtype=np.int64)  # stack: pop from the end
        self._n_free = self.capacity

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def in_flight(self) -> int:
        """Rows currently allocated."""
        return self.capacity - self._n_free

    def allocate(self, n: int) -> Rows:
        """Reserve `n` rows and return their indices (contents are stale until written)."""
        if n > self._n_free:
            self._grow(max(self.capacity * 2, self.in_flight + n))
        start = self._n_free - n
        rows = self._free[start:self._n_free][::-1].copy()
        self._n_free = start
        return rows

    def release(self, rows: Rows) -> None:
        """Return rows to the free list."""
        n = len(rows)
        self._free[self._n_free:self._n_free + n] = rows
        self._n_free += n

    def _grow(self, capacity: int) -> None:
        old = self.capacity
        for name, column in self.columns.items():
            grown = np.zeros(capacity, column.dtype)
            grown[:old] = column
            self.columns[name] = grown
        # New rows go below the existing free ones so that freed rows keep being reused first.
        n_new = capacity - old
        free = np.empty(capacity, np.int64)
        free[:n_new] = np.arange(capacity - 1, old - 1, -1, dtype=np.int64)
        free[n_new:n_new + self._n_free] = self._free[: self._n_free]
        self._free = free
        self._n_free += n_new
        self.capacity = capacity


#: The low 32 bits of a queue key hold the day the row entered the queue.
ENTRY_DAY_MASK = (1 << 32) - 1


def stable_order(keys: np.ndarray) -> np.ndarray:
    """Indices that sort integer `keys` stably; a linear-time radix sort when their range is small."""
    if len(keys) == 0:
        return np.empty(0, np.int64)
    low, high = keys.min(), keys.max()
    if high - low < 2**16:
        return np.argsort((keys - low).astype(np.uint16), kind="stable")
    return np.argsort(keys, kind="stable")


class PriorityQueue:
    """Row indices served in order of an integer key; equal keys leave in arrival order.

    Rows are kept in buckets, one per distinct key (keys are small: a day, or a class and a day),
    each bucket a list of arrays in arrival order, with a heap of the keys present. Pushing and
    popping touch only the rows moved, never the whole queue. By convention the low 32 bits of a
    key are the day the row entered the queue, so the queue knows its mean wait without a column.
    """

    def __init__(self) -> None:
        self._buckets: dict[int, list[Rows]] = {}
        self._heap: list[int] = []
        self._count = 0
        self._entered_sum = 0  # sum over queued rows of their entry day
        self._mean_cost = 1.0  # of the last rows popped by budget: sizes the next look-ahead

    def mean_wait(self, day: int) -> float:
        """Mean days the queued rows have waited since they entered (0 for an empty queue)."""
        return day - self._entered_sum / self._count if self._count else 0.0

    def __len__(self) -> int:
        return self._count

    @property
    def rows(self) -> Rows:
        """The queued rows in service order (a new array)."""
        chunks = [chunk for key in sorted(self._buckets) for chunk in self._buckets[key]]
        return np.concatenate(chunks) if chunks else np.empty(0, np.int64)

    def push(self, rows: Rows, keys: np.ndarray | int) -> None:
        """Add rows with their priority keys (smaller leaves first; low 32 bits = entry day).

        `keys` is one key per row, or a single int key for all of them.
        """
        if len(rows) == 0:
            return
        self._count += len(rows)
        if isinstance(keys, int):
            self._add(keys, rows)
            return
        for _ in range(3):  # a few distinct keys (a class and a day): peel them off smallest first
            low = keys.min()
            if low == keys.max():
                self._add(int(low), rows)
                return
            first = keys == low
            self._add(int(low), rows[first])
            rows, keys = rows[~first], keys[~first]
        order = stable_order(keys)
        rows, keys = rows[order], keys[order]
        cuts = np.flatnonzero(np.diff(keys)) + 1
        for key, chunk in zip(keys[np.r_[0, cuts]].tolist(), np.split(rows, cuts), strict=True):
            self._add(key, chunk)

    def _add(self, key: int, rows: Rows) -> None:
        self._entered_sum += (key & ENTRY_DAY_MASK) * len(rows)
        bucket = self._buckets.get(key)
        if bucket is None:
            self._buckets[key] = [rows]
            heapq.heappush(self._heap, key)
        else:
            bucket.append(rows)

    def _front(self) -> tuple[int, Rows]:
        """The smallest key and its rows as one array."""
        key = self._heap[0]
        bucket = self._buckets[key]
        if len(bucket) > 1:
            bucket[:] = [np.concatenate(bucket)]
        return key, bucket[0]

    def _take(self, key: int, rows: Rows, k: int, n: int) -> Rows:
        """Remove the first `k` of the `n` rows of the front bucket."""
        if k == n:
            del self._buckets[key]
            heapq.heappop(self._heap)
        else:
            self._buckets[key] = [rows[k:]]
        self._count -= k
        self._entered_sum -= (key & ENTRY_DAY_MASK) * k
        return rows[:k]

    def pop_budget(self, costs: np.ndarray, credit: float) -> tuple[Rows, float]:
        """Pop the longest prefix whose total cost fits in `credit`; return it and the cost used.

        `costs` is the per-row cost column of the store (indexed by row).
        """
        taken: list[Rows] = []
        used = 0.0
        while self._heap:
            key, rows = self._front()
            n, left = len(rows), credit - used
            # Cost a window of the bucket large enough for the credit left, not the whole bucket.
            window = int(1.25 * left / self._mean_cost) + 64
            while True:
                spent = costs[rows[:window]].cumsum(dtype=np.float64)
                if spent[-1] > left or window >= n:
                    break
                window *= 4
            k = int(spent.searchsorted(left, side="right"))
            if k:
                taken.append(self._take(key, rows, k, n))
                used += float(spent[k - 1])
            if k < n:
                break
        popped = _joined(taken)
        if len(popped) and used > 0:
            self._mean_cost = used / len(popped)
        return popped, used

    def pop(self, k: int) -> Rows:
        """Remove and return the first `k` rows."""
        taken: list[Rows] = []
        while k > 0 and self._heap:
            key, rows = self._front()
            m = min(k, len(rows))
            taken.append(self._take(key, rows, m, len(rows)))
            k -= m
        return _joined(taken)


def _joined(chunks: list[Rows]) -> Rows:
    if not chunks:
        return np.empty(0, np.int64)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


class Calendar:
    """Rows waiting for a fixed delay to end, released on the day they are due.

    A batch due on one day (a constant delay) is filed whole under that day. A batch with many due
    days joins a pending list that the next ``pop`` merges, in one pass, into arrays kept sorted by
    due day (stable: rows due the same day leave in the order they were scheduled). Days must be
    popped in increasing order.
    """

    def __init__(self) -> None:
        self._by_day: dict[int, list[Rows]] = {}
        self._rows = np.empty(0, np.int64)
        self._days = np.empty(0, np.int64)
        self._pending: list[tuple[Rows, np.ndarray]] = []
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
        else:
            self._pending.append((rows, np.asarray(days, np.int64)))

    def _merge(self) -> None:
        rows = np.concatenate([r for r, _ in self._pending])
        days = np.concatenate([d for _, d in self._pending])
        self._pending.clear()
        order = stable_order(days)
        rows, days = rows[order], days[order]
        if len(self._days) == 0 or days[0] >= self._days[-1]:
            self._rows = np.concatenate([self._rows, rows])
            self._days = np.concatenate([self._days, days])
            return
        # Stable merge of two sorted runs: new rows go after existing rows due the same day.
        at = np.searchsorted(self._days, days, side="right") + np.arange(len(days))
        merged_rows = np.empty(len(self._rows) + len(rows), np.int64)
        merged_days = np.empty_like(merged_rows)
        existing = np.ones(len(merged_rows), bool)
        existing[at] = False
        merged_rows[at], merged_days[at] = rows, days
        merged_rows[existing], merged_days[existing] = self._rows, self._days
        self._rows, self._days = merged_rows, merged_days

    def pop(self, day: int) -> Rows:
        """All rows due on or before `day`: the sorted ones first, then whole-day batches."""
        if self._pending:
            self._merge()
        k = int(np.searchsorted(self._days, day, side="right"))
        chunks = [self._rows[:k]] if k else []
        if k:
            self._rows, self._days = self._rows[k:], self._days[k:]
        for due in sorted(d for d in self._by_day if d <= day):
            chunks += self._by_day.pop(due)
        out = _joined(chunks)
        self._count -= len(out)
        return out

    def rows(self) -> Rows:
        """Every row waiting (any order)."""
        return np.concatenate([self._rows, *(r for r, _ in self._pending),
                               *(r for chunks in self._by_day.values() for r in chunks)])
