"""Queue orders: the NCMEC triage policy and the agencies' priority policy.

A policy turns rows into queue keys (:func:`model.queues.queue_key`): a tier served first to last,
an order within the tier, and the entry day (first in, first out among equal keys).

* ``fifo``: entry order only.
* ``urgent_first``: urgent reports, then the rest in entry order.
* ``quality_first``: urgent reports, then referrals by completeness (eight bands, the most complete
  first; informational reports last), each band in entry order.
* ``deadline_first``: urgent reports, then the earliest preservation deadline that has not passed,
  then reports whose deadline has passed (moved there by :func:`demote_expired` each day: nothing can
  save their platform evidence any more).

At an agency, work on cases already picked up (warrant, drafting, follow-up) comes before new
referrals waiting for review (``offset`` = :data:`REVIEW_OFFSET` adds to their tiers), and the policy
orders each group; urgent referrals come first of all. Investigators finish what they started.

Deadlines differ between reports through each platform's voluntary retention, 2703(f) letters and
the time already spent at NCMEC; where they do not (one platform, no letters, equal waits),
``deadline_first`` is ``fifo`` with urgent reports first, as it should be.

Adding a policy: a name in :data:`model.params.QueuePolicy` and a branch in :func:`tiers`.
"""

from __future__ import annotations

import numpy as np

from model.queues import PriorityQueue, lane_codes, queue_key
from model.reports import ReportStore, Rows

URGENT_TIER = 0
FIRST_TIER = 1
#: quality_first: referrals fall into this many completeness bands (tiers 1..QUALITY_BANDS);
#: informational reports go after them.
QUALITY_BANDS = 8
#: deadline_first: reports whose deadline has passed.
EXPIRED_TIER = QUALITY_BANDS + 1
#: Added to the tiers of referrals waiting for their first review at an agency.
REVIEW_OFFSET = 10


def tiers(policy: str, store: ReportStore, rows: Rows, offset: int | np.ndarray = 0,
          urgent: np.ndarray | None = None) -> tuple[int | np.ndarray, int | np.ndarray]:
    """The tier of each row under `policy` and its order within the tier (one int when equal for all).

    `offset` (one, or one per row) is added to every tier but the urgent one. `urgent` is the rows' urgent
    column, if the caller has it already.
    """
    if policy == "fifo":
        return FIRST_TIER + offset, 0
    urgent = store.urgent[rows] if urgent is None else urgent
    if policy == "urgent_first":
        if not urgent.any():
            return FIRST_TIER + offset, 0
        return np.where(urgent, URGENT_TIER, FIRST_TIER + offset), 0
    if policy == "quality_first":
        band = FIRST_TIER + np.minimum(store.quality[rows] * QUALITY_BANDS, QUALITY_BANDS).astype(np.int64)
        return np.where(urgent, URGENT_TIER, band + offset), 0
    if policy == "deadline_first":
        deadline = store.deadline[rows].astype(np.int64)
        return np.where(urgent, URGENT_TIER, FIRST_TIER + offset), np.where(urgent, 0, deadline)
    raise ValueError(f"unknown queue policy {policy!r}")


def queue_keys(policy: str, store: ReportStore, rows: Rows, entry: int | np.ndarray,
               offset: int | np.ndarray = 0, group: int | np.ndarray = 0,
               urgent: np.ndarray | None = None) -> np.ndarray | int:
    """Queue keys of `rows` entering on day(s) `entry` under `policy` (one int when all keys are equal).

    `offset` and `urgent` as for :func:`tiers`; `group` (one, or one per row) partitions a queue shared by
    several agencies.
    """
    tier, order = tiers(policy, store, rows, offset, urgent)
    return queue_key(tier, order, entry, group)


def enqueue(queue: PriorityQueue, policy: str, store: ReportStore, rows: Rows, day: int,
            offset: int | np.ndarray = 0, group: int | np.ndarray = 0, urgent: np.ndarray | None = None) -> None:
    """Queue `rows` entering today under `policy`: the same as ``queue.push(rows, queue_keys(...))``, without
    building the keys when the policy has no order within tiers (every policy but ``deadline_first``)."""
    tier, order = tiers(policy, store, rows, offset, urgent)
    if isinstance(order, int) and order == 0:
        queue.push_lanes(rows, lane_codes(tier, group), day)
    else:
        queue.push(rows, queue_key(tier, order, day, group))


def demote_expired(queue: PriorityQueue, policy: str, day: int, offsets: tuple[int, ...] = (0,),
                   groups: range | tuple[int, ...] = (0,)) -> None:
    """Under ``deadline_first``, move rows whose deadline passed before `day` behind the others."""
    if policy == "deadline_first":
        for group in groups:
            for offset in offsets:
                queue.demote(FIRST_TIER + offset, day, EXPIRED_TIER + offset, group)
