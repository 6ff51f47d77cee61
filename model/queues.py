"""Priority queues of report rows.

Queues hold ``int64`` row indices of :class:`model.reports.ReportStore`; a stage pushes and pops whole
batches. A :class:`PriorityQueue` serves rows in the order of integer keys (:func:`queue_key`: group,
tier, order within the tier, entry day) in lanes of equal group and tier. Rows waiting for a fixed
delay are in a :class:`model.calendars.Calendar`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

import numpy as np

from model.reports import Rows

# --- queue keys ---------------------------------------------------------------------------------------
# A queue key is an int64: bits 58-62 a group (e.g. the agency: one queue holds every agency's work,
# each popped separately), bits 52-57 the tier (served in increasing order), bits 32-51 an order within
# the tier (e.g. a deadline day), bits 0-31 the day the row entered (first in, first out within equal
# keys, and the queue's mean wait).
GROUP_SHIFT, TIER_SHIFT, ORDER_SHIFT = 58, 52, 32
ENTRY_MASK = (1 << ORDER_SHIFT) - 1
ORDER_MASK = (1 << (TIER_SHIFT - ORDER_SHIFT)) - 1
ORDER_BITS = ORDER_MASK << ORDER_SHIFT
MAX_GROUPS = 1 << (63 - GROUP_SHIFT)


def queue_key(tier: int | np.ndarray, order: int | np.ndarray, entry: int | np.ndarray,
              group: int | np.ndarray = 0) -> int | np.ndarray:
    """Compose queue keys (scalars or arrays) from group, tier, order within the tier and entry day."""
    if type(tier) is int and type(order) is int and type(entry) is int and type(group) is int:
        return group << GROUP_SHIFT | tier << TIER_SHIFT | order << ORDER_SHIFT | entry
    key = (np.asarray(group, np.int64) << GROUP_SHIFT) | (np.asarray(tier, np.int64) << TIER_SHIFT)
    if not (isinstance(order, int) and order == 0):
        key = key | (np.asarray(order, np.int64) << ORDER_SHIFT)
    return key | np.asarray(entry, np.int64)


def lane_codes(tier: int | np.ndarray, group: int | np.ndarray = 0) -> int | np.ndarray:
    """A queue key's bits above the order (group and tier), shifted down: one small int per row, or one for all."""
    if isinstance(tier, int) and isinstance(group, int):
        return group << (GROUP_SHIFT - TIER_SHIFT) | tier
    return np.asarray(group, np.uint16) << (GROUP_SHIFT - TIER_SHIFT) | np.asarray(tier, np.uint16)


def group_range(group: int | None) -> tuple[int, int]:
    """The keys [low, high) of a group (None: every key)."""
    if group is None:
        return 0, 1 << 63
    return group << GROUP_SHIFT, (group + 1) << GROUP_SHIFT


def stable_order(keys: np.ndarray) -> np.ndarray:
    """Indices that sort integer `keys` stably; a linear-time radix sort when their range is small."""
    if len(keys) == 0:
        return np.empty(0, np.int64)
    low, high = keys.min(), keys.max()
    if high - low < 2**16:
        return (keys - low).astype(np.uint16).argsort(kind="stable")
    return keys.argsort(kind="stable")


def lane_starts(keys: np.ndarray) -> list[int]:
    """Where each lane (a key without its entry day) begins in sorted keys."""
    lanes = keys & ~ENTRY_MASK
    return [0, *((lanes[1:] != lanes[:-1]).nonzero()[0] + 1).tolist()]


#: A chunk's entry days: one int when all its rows entered that day (a day's batch), else one per row.
Entries = np.ndarray | int
#: A lane's last chunk takes in the next batch while it has fewer rows than this: a lane that gets a few rows a
#: day is costed in a few chunks, one that gets thousands keeps a chunk a day and is never copied whole.
SMALL_CHUNK = 512


def entry_days(entries: Entries, n: int) -> np.ndarray:
    """The entry day of each of a chunk's `n` rows."""
    return np.full(n, entries, np.int64) if isinstance(entries, int) else entries


def joined_entry_days(chunks: list[Rows], entries: list[Entries]) -> np.ndarray:
    """The entry day of every row of `chunks`, in order, as one array."""
    return np.concatenate([entry_days(e, len(c)) for c, e in zip(chunks, entries, strict=True)])


def entry_sum(entries: Entries, n: int) -> int:
    """The sum of a chunk's `n` entry days."""
    return entries * n if isinstance(entries, int) else int(entries.sum())


class Lane:
    """The rows of one queue key without its entry day (group, tier, order), in service order.

    Rows enter in order of entry day (first in, first out among equal days), kept as chunks of rows with
    their entry days (one int for a day's batch). Rows leave from the front chunk by chunk, so a long lane
    (a backlog of months) is not copied whole every day.
    """

    __slots__ = ("chunks", "entries")

    def __init__(self) -> None:
        self.chunks: list[Rows] = []
        self.entries: list[Entries] = []

    def __len__(self) -> int:
        return sum(len(c) for c in self.chunks)

    def first_entry(self) -> int:
        first = self.entries[0]
        return first if isinstance(first, int) else int(first[0])

    def last_entry(self) -> int:
        last = self.entries[-1]
        return last if isinstance(last, int) else int(last[-1])

    def append(self, rows: Rows, entries: Entries) -> None:
        first = entries if isinstance(entries, int) else int(entries[0])
        if self.chunks and first < self.last_entry():   # older than the tail: merge by entry day
            chunks, days = [*self.chunks, rows], [*self.entries, entries]
            merged = joined_entry_days(chunks, days)
            order = merged.argsort(kind="stable")
            self.chunks, self.entries = [np.concatenate(chunks)[order]], [merged[order]]
        elif self.chunks and len(self.chunks[-1]) < SMALL_CHUNK:
            tail, tail_entries = self.chunks[-1], self.entries[-1]
            self.chunks[-1] = np.concatenate([tail, rows])
            same_day = isinstance(tail_entries, int) and isinstance(entries, int) and tail_entries == entries
            self.entries[-1] = tail_entries if same_day else joined_entry_days([tail, rows], [tail_entries, entries])
        else:
            # A chunk can wait in the lane for months: it keeps its own rows, not a view that would keep a whole
            # day's batch (every agency's rows) alive.
            self.chunks.append(rows if rows.base is None else rows.copy())
            self.entries.append(entries)

    def front(self) -> tuple[Rows, np.ndarray]:
        """All rows and entry days as one pair of arrays."""
        if len(self.chunks) > 1 or isinstance(self.entries[0], int):
            self.entries = [joined_entry_days(self.chunks, self.entries)]
            self.chunks = [np.concatenate(self.chunks)]
        return self.chunks[0], self.entries[0]

    def count_entered_before(self, day: int) -> int:
        """How many rows at the front entered before `day` (entry days never decrease along a lane)."""
        k = 0
        for rows, entries in zip(self.chunks, self.entries, strict=True):
            if isinstance(entries, int):
                if entries >= day:
                    return k
                k += len(rows)
            elif entries[-1] < day:
                k += len(rows)
            else:
                return k + int(entries.searchsorted(day))
        return k

    def take(self, k: int) -> tuple[Rows, int]:
        """Remove the first `k` rows; return them and the sum of their entry days."""
        chunks, entries = self.chunks, self.entries
        n = total = 0
        while n < len(chunks) and k >= len(chunks[n]):   # whole chunks
            k -= len(chunks[n])
            total += entry_sum(entries[n], len(chunks[n]))
            n += 1
        rows = chunks[:n]
        if k:
            rows.append(chunks[n][:k])
            part = entries[n]
            if isinstance(part, int):
                total += part * k
            else:
                total += int(part[:k].sum())
                entries[n] = part[k:]
            chunks[n] = chunks[n][k:]
        del chunks[:n], entries[:n]
        return joined(rows), total


class PriorityQueue:
    """Row indices served in order of an integer key (:func:`queue_key`); equal keys leave in arrival order.

    Rows are kept in lanes, one per key without its entry day (group, tier, order), kept sorted; within a
    lane rows leave in order of entry day, then arrival. Lanes of order 0 persist while the queue lives, so
    a day's work joins and leaves them without creating anything. Rows can also leave by age
    (:meth:`drop_entered_before`) and be moved to another tier (:meth:`demote`), e.g. when their deadline
    passes.
    """

    def __init__(self) -> None:
        self._lanes: dict[int, Lane] = {}
        self._keys: list[int] = []   # the lane keys, sorted
        self._count = 0
        self._entered_sum = 0        # sum over queued rows of their entry day
        self._mean_cost = 1.0        # of the last rows popped by budget: sizes the next look-ahead

    def __len__(self) -> int:
        return self._count

    def mean_wait(self, day: int) -> float:
        """Mean days the queued rows have waited since they entered (0 for an empty queue)."""
        return day - self._entered_sum / self._count if self._count else 0.0

    @property
    def rows(self) -> Rows:
        """The queued rows in service order (a new array)."""
        return self.group_rows(None)

    def row_chunks(self) -> Iterator[Rows]:
        """The queued rows in service order, a chunk at a time (the queue's own arrays: do not change them)."""
        for key in self._keys_of(None):
            yield from self._lanes[key].chunks

    def group_rows(self, group: int | None) -> Rows:
        """The queued rows of `group` (None: all) in service order (a new array)."""
        chunks = [chunk for key in self._keys_of(group) for chunk in self._lanes[key].chunks]
        return np.concatenate(chunks) if chunks else np.empty(0, np.int64)

    def _keys_of(self, group: int | None) -> list[int]:
        return self._keys_between(*group_range(group))

    def _keys_between(self, low: int, high: int) -> list[int]:
        """The lane keys in [low, high), in order."""
        return self._keys[bisect.bisect_left(self._keys, low):bisect.bisect_left(self._keys, high)]

    def first_entry(self, low: int = 0, high: int = 1 << 63) -> int | None:
        """The earliest entry day of the rows with keys in [low, high) (None when there are none)."""
        firsts = [self._lanes[key].first_entry() for key in self._keys_between(low, high) if self._lanes[key].chunks]
        return min(firsts) if firsts else None

    def push(self, rows: Rows, keys: np.ndarray | int) -> None:
        """Add rows with their keys (smaller leaves first); `keys` is one per row, or one int for all."""
        if len(rows) == 0:
            return
        if isinstance(keys, int):
            self._add(keys & ~ENTRY_MASK, rows, keys & ENTRY_MASK)
            return
        entry = int(keys[0]) & ENTRY_MASK
        one_day = bool(((keys & ENTRY_MASK) == entry).all())
        if one_day and not (keys & ORDER_BITS).any():
            self._add_by_lane(rows, (keys >> TIER_SHIFT).astype(np.uint16), entry)
            return
        order = stable_order(keys)   # rows entering on several days, or with an order within the tier
        rows, keys = rows[order], keys[order]
        lanes = keys & ~ENTRY_MASK
        starts = lane_starts(keys)
        ends = [*starts[1:], len(rows)]
        for lane, start, end in zip(lanes[starts].tolist(), starts, ends, strict=True):
            self._add(lane, rows[start:end], entry if one_day else keys[start:end] & ENTRY_MASK)

    def push_lanes(self, rows: Rows, lanes: np.ndarray | int, entry: int) -> None:
        """The usual day's push: every row enters on day `entry`, with order 0, so a row's lane is its group and
        tier (`lanes`: :func:`lane_codes`, one per row or one for all); arrival order is kept within each lane."""
        if len(rows) == 0:
            return
        entry = int(entry)
        if isinstance(lanes, int):
            self._add(lanes << TIER_SHIFT, rows, entry)
        else:
            self._add_by_lane(rows, lanes, entry)

    def _add_by_lane(self, rows: Rows, lanes: np.ndarray, entry: int) -> None:
        counts = np.bincount(lanes)
        codes = counts.nonzero()[0].tolist()
        if len(codes) == 1:
            self._add(codes[0] << TIER_SHIFT, rows, entry)
        elif len(codes) <= 3:   # a few lanes (e.g. urgent or not): one selection each beats a sort
            for code in codes:
                self._add(code << TIER_SHIFT, rows.compress(lanes == code), entry)
        else:
            rows = rows[lanes.argsort(kind="stable")]
            start = 0
            for code in codes:
                end = start + int(counts[code])
                self._add(code << TIER_SHIFT, rows[start:end], entry)
                start = end

    def _add(self, key: int, rows: Rows, entries: Entries) -> None:
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = Lane()
            bisect.insort(self._keys, key)
        lane.append(rows, entries)
        self._count += len(rows)
        self._entered_sum += entry_sum(entries, len(rows))

    def _took(self, key: int, lane: Lane, rows: Rows, entered: int) -> None:
        """Book `rows` that left a lane (`entered`: the sum of their entry days); an emptied lane of a nonzero
        order (a deadline day) is removed."""
        self._count -= len(rows)
        self._entered_sum -= entered
        if not lane.chunks and (key >> ORDER_SHIFT) & ORDER_MASK:
            del self._lanes[key]
            del self._keys[bisect.bisect_left(self._keys, key)]

    def pop_budget(self, costs: np.ndarray, credit: float, group: int | None = None) -> tuple[Rows, float]:
        """Pop the longest prefix (of `group`, or of the whole queue) whose total cost fits in `credit`.

        `costs` is the per-row cost column of the store (indexed by row). Returns the rows and the cost used.
        """
        taken: list[Rows] = []
        used = 0.0
        for key in self._keys_of(group):
            lane = self._lanes[key]
            if not lane.chunks:
                continue
            k, spent_in_lane, emptied = self._affordable(lane, costs, credit - used)
            if k:
                out, entered = lane.take(k)
                taken.append(out)
                used += spent_in_lane
                self._took(key, lane, out, entered)
            if not emptied:
                break
        popped = joined(taken)
        if len(popped) and used > 0:
            self._mean_cost = used / len(popped)
        return popped, used

    def _affordable(self, lane: Lane, costs: np.ndarray, left: float) -> tuple[int, float, bool]:
        """How many rows at the front of `lane` fit in `left` (their running cost, summed in float64 in lane
        order, at most `left`), what they cost, and whether that is the whole lane.

        Only as much of the lane is costed as the credit can cover, chunk by chunk: a window sized by the last
        mean cost, grown until it costs more than is left. A later chunk's sum starts from the earlier chunks'
        total, so every partial sum is the one a single pass over the whole lane would give.
        """
        k, spent_before = 0, 0.0
        for i, rows in enumerate(lane.chunks):
            n = len(rows)
            window = max(int(1.25 * (left - spent_before) / self._mean_cost), 0) + 64   # left < 0: an overdraft
            while True:
                costed = costs[rows[:window]]
                spent = (costed.cumsum(dtype=np.float64) if i == 0 else
                         np.concatenate(([spent_before], costed)).cumsum()[1:])
                if spent[-1] > left or window >= n:
                    break
                window *= 4
            fit = int(spent.searchsorted(left, side="right"))
            if fit:
                spent_before = float(spent[fit - 1])
            k += fit
            if fit < n:
                return k, spent_before, False
        return k, spent_before, True

    def pop(self, k: int) -> Rows:
        """Remove and return the first `k` rows."""
        taken: list[Rows] = []
        for key in list(self._keys):
            if k <= 0:
                break
            lane = self._lanes[key]
            if not lane.chunks:
                continue
            out, entered = lane.take(min(k, len(lane)))
            taken.append(out)
            k -= len(out)
            self._took(key, lane, out, entered)
        return joined(taken)

    def drop_entered_before(self, day: int) -> Rows:
        """Remove and return every row that entered before `day` (queue order is not kept)."""
        taken: list[Rows] = []
        for key in list(self._keys):
            lane = self._lanes[key]
            if not lane.chunks or lane.first_entry() >= day:
                continue
            out, entered = lane.take(lane.count_entered_before(day))
            taken.append(out)
            self._took(key, lane, out, entered)
        return joined(taken)

    def demote(self, tier: int, below_order: int, to_tier: int, group: int = 0) -> None:
        """Move rows of `tier` (in `group`) whose order is below `below_order` to `to_tier` (order 0), keeping
        their entry days: rows whose deadline passed go behind those that can still be saved."""
        moved = []
        for key in self._keys_between(queue_key(tier, 0, 0, group), queue_key(tier, below_order, 0, group)):
            lane = self._lanes[key]
            if lane.chunks:
                rows, entries = lane.front()
                out, entered = lane.take(len(rows))
                moved.append((out, entries))
                self._took(key, lane, out, entered)
            elif key in self._lanes and (key >> ORDER_SHIFT) & ORDER_MASK:
                del self._lanes[key]
                del self._keys[bisect.bisect_left(self._keys, key)]
        if moved:
            rows = np.concatenate([r for r, _ in moved])
            entries = np.concatenate([e for _, e in moved])
            order = entries.argsort(kind="stable")   # by entry day; equal days in deadline order
            self._add(queue_key(to_tier, 0, 0, group), rows[order], entries[order])


def joined(chunks: list[Rows]) -> Rows:
    """One array of rows from a list of arrays."""
    if not chunks:
        return np.empty(0, np.int64)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
