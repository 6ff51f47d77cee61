"""The evidence ledger's updates, compiled, for a batch of rows.

The same bookkeeping as :class:`model.outcomes.Outcomes` (the reference, whose arrays these are: the
kernels write into the model's own :class:`~model.outcomes.Outcomes`). Each function takes rows of the
store and books those that are counted (and, where it says so, need legal process); ``route_of`` gives
an agency's route, US (0) or FOREIGN (1).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from model.engine.columns import Columns
from model.outcomes import Outcomes, Stage

CLOSED_UNWORKED = int(Stage.CLOSED_UNWORKED)
#: Indices into Ledger.counts.
OPEN_OTHER, ISP_LOGS_LOST, INFORMATIONAL, UNREVIEWED = 0, 1, 2, 3


class Ledger(NamedTuple):
    """Views of an Outcomes' arrays, with its horizon and split day, and its scalar counters as changes."""

    expiring: np.ndarray
    served_on: np.ndarray
    lost_on: np.ndarray
    days_to_process: np.ndarray
    late_expiring: np.ndarray
    served: np.ndarray
    lost: np.ndarray
    served_pending: np.ndarray
    lost_pending: np.ndarray
    late_served: np.ndarray
    late_lost: np.ndarray
    closed_unworked: np.ndarray
    closed_unworked_other: np.ndarray
    closed_not_actionable: np.ndarray
    investigated_without_legal_process: np.ndarray
    reviewed: np.ndarray
    days_to_review: np.ndarray
    referred: np.ndarray
    counts: np.ndarray       # int64 [open_other, isp_logs_lost, informational, unreviewed]: changes, added after a call
    horizon: int
    split_day: int


def ledger_of(out: Outcomes) -> Ledger:
    return Ledger(out.expiring, out.served_on, out.lost_on, out.days_to_process, out.late_expiring, out.served, out.lost,
                  out.served_pending, out.lost_pending, out.late_served, out.late_lost, out.closed_unworked,
                  out.closed_unworked_other, out.closed_not_actionable, out.investigated_without_legal_process,
                  out.reviewed, out.days_to_review, out.referred, np.zeros(4, np.int64), out.horizon, out.split_day)


def settle(ledger: Ledger, out: Outcomes) -> None:
    """Add the scalar changes the kernels booked to the Outcomes: at the day's end (``CompiledCasework.end_of_day``),
    and after ``CompiledNcmec.receive``, which is called apart from the kernels of the day."""
    open_other, isp_logs_lost, informational, unreviewed = ledger.counts.tolist()
    out.open_other += open_other
    out.isp_logs_lost += isp_logs_lost
    out.informational += informational
    out.unreviewed += unreviewed
    ledger.counts.fill(0)


# Each booking is a function of one row, compiled without reference counting (``_nrt=False``: numba would count
# references on each of the named tuples' arrays at every call), so a kernel can book rows in its own loop; the
# batch forms below (for the kernels that book whole batches) loop over rows. Bookings are sums: rows may be booked
# in any order.

@njit(_nrt=False, cache=True)
def move_row(led: Ledger, col: Columns, route_of: np.ndarray, row: int, to_stage: int, day: int) -> None:
    """A row changes stage; an undecided counted case needing legal process moves in the ledger (one whose deadline
    passed stays where it was lost)."""
    deadline = col.deadline[row]
    if col.counted[row] and col.actionable[row] and col.needs_process[row] and deadline >= day:
        route = route_of[col.agency[row]]
        led.expiring[route, col.stage[row], deadline] -= 1
        led.expiring[route, to_stage, deadline] += 1
    col.stage[row] = to_stage


@njit(_nrt=False, cache=True)
def extend_row(led: Ledger, col: Columns, route_of: np.ndarray, row: int, new: int, day: int) -> None:
    """A counted case, still undecided, gets a later deadline, `new` (a 2703(f) letter); the caller sets it."""
    old = col.deadline[row]
    if not col.counted[row] or old < day:
        return
    route, stage, created = route_of[col.agency[row]], col.stage[row], col.created[row]
    led.expiring[route, stage, old] -= 1
    led.expiring[route, stage, new] += 1
    if day > led.split_day and created > led.split_day:
        led.late_expiring[route, old] -= 1
        led.late_expiring[route, new] += 1


@njit(_nrt=False, cache=True)
def schedule_row(led: Ledger, col: Columns, route_of: np.ndarray, row: int, due: int, day: int) -> None:
    """Legal process scheduled today to reach the platform on day `due`: a counted case's outcome is fixed."""
    if not col.counted[row]:
        return
    route, stage, created, deadline = route_of[col.agency[row]], col.stage[row], col.created[row], col.deadline[row]
    if deadline >= day:
        led.expiring[route, stage, deadline] -= 1
        in_time = due <= deadline
        if in_time:
            led.served_on[route, min(due, led.horizon)] += 1
            led.served_pending[route] += 1
        else:
            led.lost_on[route, stage, deadline] += 1
            led.lost_pending[route] += 1
        if day > led.split_day and created > led.split_day:
            led.late_expiring[route, deadline] -= 1
            if in_time:
                led.late_served[route] += 1
            else:
                led.late_lost[route] += 1
    led.days_to_process[route, min(due - created, led.horizon)] += 1


@njit(_nrt=False, cache=True)
def close_unworked_row(led: Ledger, col: Columns, route_of: np.ndarray, row: int, day: int) -> None:
    """A referral closed unworked: lost at once if it needed legal process and was still undecided."""
    if not col.counted[row]:
        return
    route, deadline = route_of[col.agency[row]], col.deadline[row]
    led.closed_unworked[route] += 1
    if not (col.actionable[row] and col.needs_process[row]):
        led.closed_unworked_other[route] += 1
        led.counts[OPEN_OTHER] -= 1
    elif deadline >= day:
        led.expiring[route, col.stage[row], deadline] -= 1
        led.lost[route, CLOSED_UNWORKED] += 1
        if day > led.split_day and col.created[row] > led.split_day:
            led.late_expiring[route, deadline] -= 1
            led.late_lost[route] += 1


@njit(cache=True)
def schedule(led: Ledger, col: Columns, route_of: np.ndarray, rows: np.ndarray, due: np.ndarray, day: int) -> None:
    """Legal process scheduled today to reach the platform on day `due`: :func:`schedule_row`."""
    for i in range(len(rows)):
        schedule_row(led, col, route_of, rows[i], due[i], day)


@njit(cache=True)
def close_unworked(led: Ledger, col: Columns, route_of: np.ndarray, rows: np.ndarray, day: int) -> None:
    """Referrals closed unworked: :func:`close_unworked_row`."""
    for row in rows:
        close_unworked_row(led, col, route_of, row, day)


@njit(cache=True, nogil=True)
def end_of_day(led: Ledger, day: int) -> None:
    """Book the day (:meth:`Outcomes.end_of_day <model.outcomes.Outcomes.end_of_day>`): legal process served today,
    and evidence whose deadline is today lost where it waits."""
    if day > led.horizon:
        return
    for route in range(2):
        served = led.served_on[route, day]
        led.served[route] += served
        led.served_pending[route] -= served
        for stage in range(led.lost.shape[1]):
            lost_late = led.lost_on[route, stage, day]
            led.lost[route, stage] += led.expiring[route, stage, day] + lost_late
            led.lost_pending[route] -= lost_late
            led.expiring[route, stage, day] = 0
        if day > led.split_day:
            led.late_lost[route] += led.late_expiring[route, day]
            led.late_expiring[route, day] = 0
