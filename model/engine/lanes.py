"""A compiled priority queue of report rows: the agencies' work, and NCMEC's queue.

The same order as :class:`model.queues.PriorityQueue` (the reference): a lane per group (an agency;
NCMEC has one), tier and order within the tier (a deadline day under ``deadline_first``, else 0),
served in that order; within a lane rows leave in order of the day they entered, then arrival. Each
lane is a list of :mod:`model.engine.segments`, each item a row packed with the day it entered.

Functions here are numba kernels on a :class:`LaneQueue` (a named tuple of arrays).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.typed import List

from model.engine import segments
from model.engine.segments import DAY_SHIFT, ROW_MASK, Segments, new_segments

#: Tiers a queue key can have (model.policies: urgent 0, bands 1-8, expired 9; referrals + 10).
N_TIERS = 20
END = -1


class LaneQueue(NamedTuple):
    """The lanes of every group. Lane ``(group * N_TIERS + tier) * n_orders + order``."""

    lanes: Segments        # rows packed with the day they entered the queue
    tier_rows: np.ndarray  # int64 by (group, tier): rows queued in the tier
    lowest: np.ndarray     # int64 by (group, tier): no row has a smaller order
    totals: np.ndarray     # int64 [rows queued, sum of their entry days]


def new_queue(arena: int, n_groups: int, n_orders: int) -> LaneQueue:
    """An empty queue whose lanes are in arena number `arena`."""
    return LaneQueue(lanes=new_segments(arena, n_groups * N_TIERS * n_orders),
                     tier_rows=np.zeros(n_groups * N_TIERS, np.int64),
                     lowest=np.full(n_groups * N_TIERS, n_orders, np.int64), totals=np.zeros(2, np.int64))


@njit(cache=True)
def push(arenas: List, q: LaneQueue, rows: np.ndarray, group: np.ndarray, tier: np.ndarray, order: np.ndarray, day: int) -> None:
    """Queue each row at the tail of its lane (its group, tier and order), entering on `day` (no lane holds a later
    entry day), in the order given."""
    s = q.lanes
    n_orders = len(s.size) // len(q.tier_rows)
    arena = arenas[s.which]
    for i in range(len(rows)):
        row = rows[i]
        if order[i] >= n_orders:
            raise ValueError("queue order (a deadline day) beyond the queue's horizon")
        lanes_group = group[i] * N_TIERS + tier[i]
        lane = lanes_group * n_orders + order[i]
        if s.size[lane] == s.cap[lane]:
            arena = segments.grow(arenas, s, lane, 1)
        p = s.start[lane] + s.size[lane]
        if p >= s.cap[lane]:
            p -= s.cap[lane]
        arena[s.base[lane] + p] = (day << DAY_SHIFT) | row
        s.size[lane] += 1
        q.tier_rows[lanes_group] += 1
        if order[i] < q.lowest[lanes_group]:
            q.lowest[lanes_group] = order[i]
    q.totals[0] += len(rows)
    q.totals[1] += day * len(rows)


@njit(cache=True)
def _first_lane(q: LaneQueue, group: int, n_orders: int, start: int) -> int:
    """The first nonempty lane of a (group, tier) from order `start` (END if none); moves its lowest order up."""
    for order in range(max(start, q.lowest[group]), n_orders):
        lane = group * n_orders + order
        if q.lanes.size[lane]:
            return lane
        if order == q.lowest[group]:
            q.lowest[group] = order + 1
    return END


@njit(cache=True)
def pop_budget(arenas: List, q: LaneQueue, group: int, cost: np.ndarray, credit: float, out: np.ndarray, n_out: int) -> tuple:
    """Pop the longest prefix of `group`'s rows whose cost fits in `credit`, into `out` from `n_out`.

    Costs add up lane by lane in float64, in queue order, as the reference's ``cumsum``; a lane that does not
    fit whole ends the pop. Returns (end of the rows in `out`, cost used).
    """
    s = q.lanes
    n_orders = len(s.size) // len(q.tier_rows)
    arena = arenas[s.which]
    used = 0.0
    for tier in range(N_TIERS):
        tier_group = group * N_TIERS + tier
        order = 0
        while q.tier_rows[tier_group] > 0:
            lane = _first_lane(q, tier_group, n_orders, order)
            if lane == END:
                break
            order = lane - tier_group * n_orders + 1
            left = credit - used
            spent = 0.0
            base, cap, start, size = s.base[lane], s.cap[lane], s.start[lane], s.size[lane]
            taken = 0
            entered = 0
            while taken < size:
                p = start + taken
                if p >= cap:
                    p -= cap
                value = arena[base + p]
                row = value & ROW_MASK
                total = spent + np.float64(cost[row])
                if total > left:
                    break
                spent = total
                out[n_out + taken] = row
                entered += value >> DAY_SHIFT
                taken += 1
            segments.drop(s, lane, taken)
            n_out += taken
            q.tier_rows[tier_group] -= taken
            q.totals[0] -= taken
            q.totals[1] -= entered
            used += spent
            if taken < size:
                return n_out, used
    return n_out, used


@njit(cache=True)
def drop_entered_before(arenas: List, q: LaneQueue, day: int, out: np.ndarray) -> int:
    """Remove every row that entered before `day`, lane by lane in queue order, into `out`; returns how many."""
    s = q.lanes
    n_orders = len(s.size) // len(q.tier_rows)
    arena = arenas[s.which]
    n = 0
    for group in range(len(q.tier_rows)):
        if q.tier_rows[group] == 0:
            continue
        for order in range(q.lowest[group], n_orders):
            lane = group * n_orders + order
            base, cap, start, size = s.base[lane], s.cap[lane], s.start[lane], s.size[lane]
            taken = 0
            while taken < size:
                p = start + taken
                if p >= cap:
                    p -= cap
                value = arena[base + p]
                if value >> DAY_SHIFT >= day:
                    break
                out[n + taken] = value & ROW_MASK
                q.totals[1] -= value >> DAY_SHIFT
                taken += 1
            segments.drop(s, lane, taken)
            n += taken
            q.tier_rows[group] -= taken
            q.totals[0] -= taken
    return n


@njit(cache=True)
def demote(arenas: List, q: LaneQueue, group: int, tier: int, below_order: int, to_tier: int) -> None:
    """Move the rows of `tier` whose order is below `below_order` to `to_tier` (order 0), keeping their entry days:
    merged by entry day behind the rows already there (among the moved, equal days in order of their lanes)."""
    s = q.lanes
    n_orders = len(s.size) // len(q.tier_rows)
    source = group * N_TIERS + tier
    if q.tier_rows[source] == 0:
        return
    moved = np.empty(q.tier_rows[source], np.int64)
    n = 0
    for order in range(q.lowest[source], min(below_order, n_orders)):
        lane = source * n_orders + order
        n = segments.take(arenas, s, lane, s.size[lane], moved, n)
    if n == 0:
        return
    q.tier_rows[source] -= n
    q.lowest[source] = max(q.lowest[source], below_order)
    moved = moved[:n]   # packed values
    moved = moved[np.argsort(moved >> DAY_SHIFT, kind="mergesort")]
    target = group * N_TIERS + to_tier
    lane = target * n_orders
    there = np.empty(s.size[lane], np.int64)
    segments.take(arenas, s, lane, len(there), there, 0)
    # Merge by entry day: on equal days, rows already there first.
    merged = np.empty(len(there) + n, np.int64)
    i = j = 0
    while i < len(there) or j < n:
        if j == n or (i < len(there) and there[i] >> DAY_SHIFT <= moved[j] >> DAY_SHIFT):
            merged[i + j] = there[i]
            i += 1
        else:
            merged[i + j] = moved[j]
            j += 1
    arena = segments.grow(arenas, s, lane, len(merged)) if s.cap[lane] < len(merged) else arenas[s.which]
    base = s.base[lane]
    for k in range(len(merged)):
        arena[base + k] = merged[k]
    s.start[lane] = 0
    s.size[lane] = len(merged)
    q.tier_rows[target] += n
    q.lowest[target] = 0


@njit(cache=True)
def first_entry(arenas: List, q: LaneQueue, first_group: int, last_group: int) -> int:
    """The earliest entry day among the rows of (group, tier) pairs [first_group, last_group); -1 if none."""
    s = q.lanes
    n_orders = len(s.size) // len(q.tier_rows)
    arena = arenas[s.which]
    best = -1
    for group in range(first_group, last_group):
        if q.tier_rows[group] == 0:
            continue
        for order in range(q.lowest[group], n_orders):
            lane = group * n_orders + order
            if s.size[lane]:
                entered = arena[s.base[lane] + s.start[lane]] >> DAY_SHIFT
                if best < 0 or entered < best:
                    best = entered
    return best


@njit(cache=True)
def rows_of(arenas: List, q: LaneQueue, first_group: int, last_group: int) -> np.ndarray:
    """The rows of (group, tier) pairs [first_group, last_group), in service order."""
    s = q.lanes
    n_orders = len(s.size) // len(q.tier_rows)
    total = 0
    for group in range(first_group, last_group):
        total += q.tier_rows[group]
    out = np.empty(total, np.int64)
    n = 0
    for group in range(first_group, last_group):
        if q.tier_rows[group] == 0:
            continue
        for order in range(q.lowest[group], n_orders):
            n = segments.copy_rows(arenas, s, group * n_orders + order, out, n)
    return out
