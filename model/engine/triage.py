"""NCMEC's triage, compiled: the same steps as :class:`model.agents.Ncmec` (the reference).

Reports join one queue (a :class:`~model.engine.lanes.LaneQueue` with a single group) in the order of
the triage policy; each day reports past the backlog limit are passed on unreviewed, expired ones move
behind the rest under ``deadline_first``, and the analysts' time is spent in queue order. Reports
without usable data end as informational; referrals go to their agency's inbox (urgent ones today).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.typed import List

from model.engine import calendar, lanes
from model.engine.calendar import BATCH, INBOX, Calendars
from model.engine.columns import Columns, release_row
from model.engine.lanes import LaneQueue
from model.engine.ledger import INFORMATIONAL, OPEN_OTHER, UNREVIEWED, Ledger

FIFO, QUALITY_FIRST, DEADLINE_FIRST = 0, 2, 3                          # model.params.QueuePolicy (desk.POLICIES)
URGENT_TIER, FIRST_TIER, QUALITY_BANDS, EXPIRED_TIER = 0, 1, 8, 9    # model.policies


class Triage(NamedTuple):
    """The scenario's NCMEC numbers."""

    policy: int
    bundling: bool
    known_cost: np.float32       # analyst time of a known-hash report, in novel-report units
    budget: float                # novel reports a day
    backlog_limit: int           # days
    referral_delay: int          # days


@njit(_nrt=False, cache=True)
def _end_row(led: Ledger, col: Columns, row: int) -> None:
    """A report that goes no further (no usable data, or a bundled viral copy): counted, then freed. Compiled without
    reference counting, as the desk's per-row helpers (:mod:`model.engine.desk`)."""
    if col.counted[row]:
        led.counts[INFORMATIONAL] += 1
        led.counts[OPEN_OTHER] -= 1
    release_row(col, row)


@njit(cache=True)
def _end_informational(arenas: List, led: Ledger, col: Columns, rows: np.ndarray) -> None:
    """Reports that go no further: :func:`_end_row`."""
    for row in rows:
        _end_row(led, col, row)


@njit(cache=True)
def receive(arenas: List, led: Ledger, col: Columns, q: LaneQueue, triage: Triage, rows: np.ndarray, urgent: np.ndarray,
            known: np.ndarray, viral: np.ndarray, day: int) -> int:
    """A platform's reports of the day join the queue (viral copies are bundled if bundling is on). Returns how
    many were bundled."""
    bundled = 0
    if triage.bundling:
        _end_informational(arenas, led, col, rows[viral])
        bundled = int(np.sum(viral))
        keep = ~viral
        rows, urgent, known = rows[keep], urgent[keep], known[keep]
    n = len(rows)
    tier, order = np.empty(n, np.int64), np.zeros(n, np.int64)
    for i in range(n):
        row = rows[i]
        col.triage_cost[row] = triage.known_cost if known[i] and not urgent[i] else np.float32(1.0)
        if triage.policy == FIFO:
            tier[i] = FIRST_TIER
        elif urgent[i]:
            tier[i] = URGENT_TIER
        elif triage.policy == QUALITY_FIRST:
            tier[i] = FIRST_TIER + int(min(col.quality[row] * np.float32(QUALITY_BANDS), np.float32(QUALITY_BANDS)))
        else:
            tier[i] = FIRST_TIER
            if triage.policy == DEADLINE_FIRST:
                order[i] = col.deadline[row]
    lanes.push(arenas, q, rows, np.zeros(n, np.int64), tier, order, day)
    return bundled


@njit(cache=True)
def _pass_on(arenas: List, led: Ledger, col: Columns, c: Calendars, route_of: np.ndarray, triage: Triage, rows: np.ndarray,
             day: int) -> None:
    """Informational reports end; referrals go into their agencies' inbox (urgent ones today), in one pass."""
    n = len(rows)
    now, later = np.empty(n, np.int64), np.empty(n, np.int64)
    n_now = n_later = 0
    for row in rows:
        if col.quality[row] >= 1:
            _end_row(led, col, row)
            continue
        if col.counted[row]:
            led.referred[route_of[col.agency[row]]] += 1
        if col.urgent[row]:
            now[n_now] = row
            n_now += 1
        else:
            later[n_later] = row
            n_later += 1
    calendar.schedule(arenas, c, INBOX, BATCH, now[:n_now], np.full(n_now, day, np.int64), day)
    calendar.schedule(arenas, c, INBOX, BATCH, later[:n_later], np.full(n_later, day + triage.referral_delay, np.int64),
                      day)


@njit(cache=True, nogil=True)
def triage_day(arenas: List, led: Ledger, col: Columns, q: LaneQueue, c: Calendars, route_of: np.ndarray, triage: Triage,
               credit: float, day: int) -> tuple:
    """Triage within today's analyst time (reports past the backlog limit passed on unreviewed first).

    Returns (analyst time used, the credit carried to tomorrow), in novel-report units.
    """
    unreviewed = np.empty(q.totals[0], np.int64)
    n = lanes.drop_entered_before(arenas, q, day - triage.backlog_limit, unreviewed)
    if n:
        for row in unreviewed[:n]:
            if col.counted[row]:
                led.counts[UNREVIEWED] += 1
        _pass_on(arenas, led, col, c, route_of, triage, unreviewed[:n], day)
    if triage.policy == DEADLINE_FIRST:
        lanes.demote(arenas, q, 0, FIRST_TIER, day, EXPIRED_TIER)
    credit += triage.budget
    popped = np.empty(q.totals[0], np.int64)
    n, used = lanes.pop_budget(arenas, q, 0, col.triage_cost, credit, popped, 0)
    _pass_on(arenas, led, col, c, route_of, triage, popped[:n], day)
    return used, (credit - used if q.totals[0] else 0.0)
