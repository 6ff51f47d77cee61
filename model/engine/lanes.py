"""The agencies' queue, compiled: every agency's waiting work as linked lists of report rows.

The same order as :class:`model.queues.PriorityQueue` (the reference): a lane per agency, tier and
order within the tier (a deadline day under ``deadline_first``, else 0), served in that order; within a
lane rows leave in order of the day they entered, then arrival. A lane is a singly linked list through
:attr:`LaneQueue.next_row` (a row waits in one place at a time), so joining and leaving cost nothing
per row beyond the link.

Functions here are numba kernels on a :class:`LaneQueue` (a named tuple of arrays).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

#: Tiers a queue key can have (model.policies: urgent 0, bands 1-8, expired 9; referrals + 10).
N_TIERS = 20
END = -1


class LaneQueue(NamedTuple):
    """The lanes of every agency. Lane ``(agency * N_TIERS + tier) * n_orders + order``."""

    next_row: np.ndarray   # int64 by row: the next row in its lane (END at the tail)
    entered: np.ndarray    # int32 by row: the day it entered the queue
    head: np.ndarray       # int64 by lane (END when empty)
    tail: np.ndarray       # int64 by lane
    tier_rows: np.ndarray  # int64 by (agency, tier): rows queued in the tier
    lowest: np.ndarray     # int64 by (agency, tier): no row has a smaller order
    totals: np.ndarray     # int64 [rows queued, sum of their entry days]


def new_queue(capacity: int, n_agencies: int, n_orders: int) -> LaneQueue:
    n_lanes = n_agencies * N_TIERS * n_orders
    return LaneQueue(next_row=np.full(capacity, END, np.int64), entered=np.zeros(capacity, np.int32),
                     head=np.full(n_lanes, END, np.int64), tail=np.full(n_lanes, END, np.int64),
                     tier_rows=np.zeros(n_agencies * N_TIERS, np.int64),
                     lowest=np.full(n_agencies * N_TIERS, n_orders, np.int64), totals=np.zeros(2, np.int64))


def n_orders_of(q: LaneQueue) -> int:
    return len(q.head) // len(q.tier_rows)


@njit(cache=True)
def push(q: LaneQueue, rows: np.ndarray, agency: np.ndarray, tier: np.ndarray, order: np.ndarray, day: int) -> None:
    """Queue each row at the tail of its lane (its agency, tier and order), entering on `day` (no lane holds a later
    entry day), in the order given."""
    n_orders = len(q.head) // len(q.tier_rows)
    for i in range(len(rows)):
        row = rows[i]
        if order[i] >= n_orders:
            raise ValueError("queue order (a deadline day) beyond the queue's horizon")
        group = agency[i] * N_TIERS + tier[i]
        lane = group * n_orders + order[i]
        q.next_row[row] = END
        q.entered[row] = day
        if q.head[lane] == END:
            q.head[lane] = row
        else:
            q.next_row[q.tail[lane]] = row
        q.tail[lane] = row
        q.tier_rows[group] += 1
        if order[i] < q.lowest[group]:
            q.lowest[group] = order[i]
    q.totals[0] += len(rows)
    q.totals[1] += day * len(rows)


@njit(cache=True)
def _first_lane(q: LaneQueue, group: int, n_orders: int, start: int) -> int:
    """The first nonempty lane of a tier from order `start` (END if none); moves the tier's lowest order up."""
    for order in range(max(start, q.lowest[group]), n_orders):
        lane = group * n_orders + order
        if q.head[lane] != END:
            return lane
        if order == q.lowest[group]:
            q.lowest[group] = order + 1
    return END


@njit(cache=True)
def pop_budget(q: LaneQueue, agency: int, cost: np.ndarray, credit: float, out: np.ndarray, n_out: int) -> tuple:
    """Pop the longest prefix of `agency`'s work whose cost fits in `credit` (hours), into `out` from `n_out`.

    Costs add up lane by lane in float64, in queue order, as the reference's ``cumsum``; a lane that does not
    fit whole ends the pop. Returns (rows in `out`, hours used).
    """
    n_orders = len(q.head) // len(q.tier_rows)
    used = 0.0
    for tier in range(N_TIERS):
        group = agency * N_TIERS + tier
        order = 0
        while q.tier_rows[group] > 0:
            lane = _first_lane(q, group, n_orders, order)
            if lane == END:
                break
            order = lane - group * n_orders + 1
            left = credit - used
            spent = 0.0
            row = q.head[lane]
            taken = 0
            entered = 0
            while row != END:
                total = spent + np.float64(cost[row])
                if total > left:
                    break
                spent = total
                out[n_out] = row
                n_out += 1
                taken += 1
                entered += q.entered[row]
                row = q.next_row[row]
            q.head[lane] = row
            if row == END:
                q.tail[lane] = END
            q.tier_rows[group] -= taken
            q.totals[0] -= taken
            q.totals[1] -= entered
            used += spent
            if row != END:
                return n_out, used
    return n_out, used


@njit(cache=True)
def drop_entered_before(q: LaneQueue, day: int, out: np.ndarray) -> int:
    """Remove every row that entered before `day`, lane by lane in queue order, into `out`; returns how many."""
    n_orders = len(q.head) // len(q.tier_rows)
    n = 0
    for group in range(len(q.tier_rows)):
        if q.tier_rows[group] == 0:
            continue
        for order in range(q.lowest[group], n_orders):
            lane = group * n_orders + order
            row = q.head[lane]
            taken = 0
            while row != END and q.entered[row] < day:
                out[n] = row
                n += 1
                taken += 1
                q.totals[1] -= q.entered[row]
                row = q.next_row[row]
            q.head[lane] = row
            if row == END:
                q.tail[lane] = END
            q.tier_rows[group] -= taken
            q.totals[0] -= taken
    return n


@njit(cache=True)
def demote(q: LaneQueue, agency: int, tier: int, below_order: int, to_tier: int) -> None:
    """Move the rows of `tier` whose order is below `below_order` to `to_tier` (order 0), keeping their entry days:
    merged by entry day behind the rows already there (among the moved, equal days in order of their lanes)."""
    n_orders = len(q.head) // len(q.tier_rows)
    group = agency * N_TIERS + tier
    if q.tier_rows[group] == 0:
        return
    moved = np.empty(q.tier_rows[group], np.int64)
    n = 0
    for order in range(q.lowest[group], min(below_order, n_orders)):
        lane = group * n_orders + order
        row = q.head[lane]
        while row != END:
            moved[n] = row
            n += 1
            row = q.next_row[row]
        q.head[lane] = END
        q.tail[lane] = END
    if n == 0:
        return
    q.tier_rows[group] -= n
    q.lowest[group] = max(q.lowest[group], below_order)
    moved = moved[:n]
    moved = moved[np.argsort(q.entered[moved], kind="mergesort")]
    target = (agency * N_TIERS + to_tier)
    lane = target * n_orders
    # Merge the lane (sorted by entry day) with the moved rows: on equal days, rows already there first.
    row = q.head[lane]
    previous = END
    i = 0
    while i < n:
        new = moved[i]
        while row != END and q.entered[row] <= q.entered[new]:
            previous = row
            row = q.next_row[row]
        if previous == END:
            q.head[lane] = new
        else:
            q.next_row[previous] = new
        q.next_row[new] = row
        previous = new
        i += 1
    if row == END:
        q.tail[lane] = previous
    q.tier_rows[target] += n
    q.lowest[target] = 0


@njit(cache=True)
def first_entry(q: LaneQueue, first_group: int, last_group: int) -> int:
    """The earliest entry day among the rows of (agency, tier) groups [first_group, last_group); -1 if none."""
    n_orders = len(q.head) // len(q.tier_rows)
    best = -1
    for group in range(first_group, last_group):
        if q.tier_rows[group] == 0:
            continue
        for order in range(q.lowest[group], n_orders):
            row = q.head[group * n_orders + order]
            if row != END and (best < 0 or q.entered[row] < best):
                best = q.entered[row]
    return best


@njit(cache=True)
def rows_of(q: LaneQueue, first_group: int, last_group: int) -> np.ndarray:
    """The rows of (agency, tier) groups [first_group, last_group), in service order."""
    n_orders = len(q.head) // len(q.tier_rows)
    total = 0
    for group in range(first_group, last_group):
        total += q.tier_rows[group]
    out = np.empty(total, np.int64)
    n = 0
    for group in range(first_group, last_group):
        if q.tier_rows[group] == 0:
            continue
        for order in range(q.lowest[group], n_orders):
            row = q.head[group * n_orders + order]
            while row != END:
                out[n] = row
                n += 1
                row = q.next_row[row]
    return out
