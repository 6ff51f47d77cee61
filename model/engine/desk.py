"""The agencies' day, compiled: the same steps as :meth:`model.casework.Casework.step` (the reference), in one
call a day.

1. Arrivals (the inbox): new referrals (closed below the priority threshold, letters on receipt, queued
   for review), signed warrants and answers (queued for their next step).
2. Stale referrals closed unworked; cases older than the backlog limit queued again.
3. Under ``deadline_first``, work whose deadline passed moves behind the rest.
4. Each agency spends its hours on its queue in order (:func:`model.engine.lanes.pop_budget`).
5. Finished steps, in Step order: reviews, warrants, identification subpoenas, drafted legal process,
   follow-ups (arrest-bound cases are handed back for the lab).
6. Legal process due today reaches the platform.

Rows are handled in the reference's order wherever order matters (queue lanes, calendars), so results
are identical (tests/test_engine.py runs both). The numbers below mirror the reference's enums and
constants (a test checks them). Helpers take whole batches, as the reference's numpy steps do:
a numba call that passes the state's arrays costs reference counting on each, too much to pay per row.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.typed import List

from model.engine import calendar, lanes, ledger
from model.engine.calendar import EACH, INBOX, SERVICE, Calendars
from model.engine.columns import Columns
from model.engine.lanes import LaneQueue
from model.engine.ledger import ISP_LOGS_LOST, OPEN_OTHER, Ledger

REVIEW, WARRANT, IDENTIFY, DRAFT, FOLLOW_UP = 0, 1, 2, 3, 4                 # model.cases.Step
NCMEC, AGENCY_QUEUE, WARRANT_STAGE, IDENTIFICATION, DRAFTING, MLAT = 0, 1, 2, 3, 4, 5   # model.outcomes.Stage
STAGE_OF_STEP = np.array([AGENCY_QUEUE, WARRANT_STAGE, IDENTIFICATION, DRAFTING, 255], np.int64)
FIFO, URGENT_FIRST, QUALITY_FIRST, DEADLINE_FIRST = 0, 1, 2, 3            # model.params.QueuePolicy
POLICIES = ("fifo", "urgent_first", "quality_first", "deadline_first")
URGENT_TIER, FIRST_TIER, QUALITY_BANDS, EXPIRED_TIER, REVIEW_OFFSET = 0, 1, 8, 9, 10   # model.policies
US, FOREIGN = 0, 1


class Rules(NamedTuple):
    """The scenario's numbers the desk uses (hours, days, shares), and its policies."""

    step_hours: np.ndarray    # float32 by Step
    review_hours: np.float32
    screening_hours: np.float32
    letter_hours: np.float32
    letter_cost: float        # the same, float64, for the agencies' credit
    emergency_hours: np.float32
    priority_cutoff: np.float32
    letters_at_receipt: bool
    preservation_days: int
    close_expired: bool
    policy: int
    backlog_limit: int
    upload_to_report_days: int
    subpoena_days: int
    log_retention_days: int
    arrest_probability: float
    arrest_probability_evidence_lost: float


class Staff(NamedTuple):
    """Each agency's hours and its waiting work (model.agency.Agency's fields), by agency index."""

    route: np.ndarray            # int64
    hours_per_day: np.ndarray    # float64
    credit: np.ndarray           # float64
    used_today: np.ndarray       # float64
    work_waiting: np.ndarray     # int64
    reviews_waiting: np.ndarray  # int64


@njit(cache=True)
def _release(arenas: List, col: Columns, rows: np.ndarray) -> None:
    for row in rows:
        col.free[col.n_free[0]] = row
        col.n_free[0] += 1


@njit(cache=True)
def _move_to(arenas: List, led: Ledger, col: Columns, staff: Staff, rows: np.ndarray, stage: int, day: int) -> None:
    ledger.move(led, col, staff.route, rows, np.full(len(rows), stage, np.int64), day)


@njit(cache=True)
def _move_to_step(arenas: List, led: Ledger, col: Columns, staff: Staff, rows: np.ndarray, day: int) -> None:
    """Rows move to the stage of their next step."""
    ledger.move(led, col, staff.route, rows, STAGE_OF_STEP[col.step[rows].astype(np.int64)], day)


@njit(cache=True)
def _close_unworked(arenas: List, led: Ledger, col: Columns, staff: Staff, rows: np.ndarray, day: int) -> None:
    ledger.close_unworked(led, col, staff.route, rows, day)
    _release(arenas, col, rows)


@njit(cache=True)
def _send_letters(arenas: List, led: Ledger, col: Columns, staff: Staff, rules: Rules, rows: np.ndarray, day: int) -> np.ndarray:
    """2703(f) letters for the cases that get one: preservation held from today. Returns the letters by agency."""
    new = day + rules.preservation_days
    sent = np.zeros(len(staff.route), np.int64)
    extended = np.empty(len(rows), np.int64)
    n = 0
    for row in rows:
        if col.actionable[row] and col.letter[row] and col.needs_process[row]:
            sent[col.agency[row]] += 1
            if day <= col.deadline[row] < new:
                extended[n] = row
                n += 1
    ledger.extend(led, col, staff.route, extended[:n], new, day)
    for row in extended[:n]:
        col.deadline[row] = new
    return sent


@njit(cache=True)
def _enqueue(arenas: List, col: Columns, q: LaneQueue, staff: Staff, rules: Rules, rows: np.ndarray, day: int) -> None:
    """Price each row's next step in hours and queue it at its agency, entering today."""
    n = len(rows)
    agency, tier, order = np.empty(n, np.int64), np.empty(n, np.int64), np.zeros(n, np.int64)
    for i in range(n):
        row = rows[i]
        step, factor, urgent = col.step[row], col.work_factor[row], col.urgent[row]
        if step == REVIEW:
            if col.actionable[row]:
                work = rules.review_hours * factor
                if not rules.letters_at_receipt and col.letter[row] and col.needs_process[row]:
                    work += rules.letter_hours
            else:
                work = rules.screening_hours
        elif step == DRAFT and urgent:
            work = rules.emergency_hours
        else:
            work = rules.step_hours[step] * factor
        col.work[row] = work
        offset = REVIEW_OFFSET if step == REVIEW else 0
        if rules.policy == FIFO:
            tier[i] = FIRST_TIER + offset
        elif urgent:
            tier[i] = URGENT_TIER
        elif rules.policy == QUALITY_FIRST:
            band = min(col.quality[row] * np.float32(QUALITY_BANDS), np.float32(QUALITY_BANDS))
            tier[i] = FIRST_TIER + int(band) + offset
        else:
            tier[i] = FIRST_TIER + offset
            if rules.policy == DEADLINE_FIRST:
                order[i] = col.deadline[row]
        agency[i] = col.agency[row]
        staff.work_waiting[agency[i]] += 1
        if step == REVIEW:
            staff.reviews_waiting[agency[i]] += 1
    lanes.push(arenas, q, rows, agency, tier, order, day)


@njit(cache=True)
def _check_isp_logs(arenas: List, led: Ledger, col: Columns, rules: Rules, rows: np.ndarray, log_age: np.ndarray) -> None:
    """The ISP subpoena for cases with an IP lead: the logs are gone if older than the ISP keeps them, or
    unattributable behind carrier-grade NAT."""
    for i in range(len(rows)):
        row = rows[i]
        if col.ip_lead[row] and (col.ip_unattributable[row] or log_age[i] > rules.log_retention_days):
            col.evidence_missing[row] = True
            if col.counted[row]:
                led.counts[ISP_LOGS_LOST] += 1


@njit(cache=True)
def _schedule_service(arenas: List, led: Ledger, col: Columns, staff: Staff, c: Calendars, rows: np.ndarray, day: int) -> None:
    """Drafted legal process waits for its approval (MLAT, an emergency request's answer): its outcome is now fixed."""
    due = day + col.process_days[rows].astype(np.int64)
    ledger.schedule(led, col, staff.route, rows, due, day)
    calendar.schedule(arenas, c, SERVICE, EACH, rows, due, day)


@njit(cache=True)
def _where(arenas: List, rows: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return rows[keep]


@njit(cache=True)
def _take_in(arenas: List, led: Ledger, col: Columns, q: LaneQueue, staff: Staff, rules: Rules, arrived: np.ndarray,
             day: int) -> None:
    """New referrals, signed warrants and answers: queued (referrals first, then the rest, each in arrival order)."""
    step = col.step[arrived]
    moving = _where(arenas, arrived, (step == IDENTIFY) | (step == DRAFT))
    _move_to_step(arenas, led, col, staff, moving, day)
    new = _where(arenas, arrived, step == REVIEW)
    col.received[new] = day
    below = (col.quality[new] >= rules.priority_cutoff) & ~col.urgent[new]
    _close_unworked(arenas, led, col, staff, new[below], day)
    referrals = new[~below]
    _move_to(arenas, led, col, staff, referrals, AGENCY_QUEUE, day)
    if rules.letters_at_receipt:
        sent = _send_letters(arenas, led, col, staff, rules, referrals, day)
        for agency in range(len(staff.route)):
            staff.credit[agency] -= sent[agency] * rules.letter_cost
    _enqueue(arenas, col, q, staff, rules, referrals, day)
    _enqueue(arenas, col, q, staff, rules, _where(arenas, arrived, step != REVIEW), day)


@njit(cache=True)
def _close_stale(arenas: List, led: Ledger, col: Columns, q: LaneQueue, staff: Staff, rules: Rules, stale: np.ndarray,
                 day: int) -> None:
    """Referrals nobody picked up within the backlog limit are closed; opened cases are queued again."""
    review = col.step[stale] == REVIEW
    for i in range(len(stale)):
        agency = col.agency[stale[i]]
        staff.work_waiting[agency] -= 1
        staff.reviews_waiting[agency] -= review[i]
    _close_unworked(arenas, led, col, staff, stale[review], day)
    _enqueue(arenas, col, q, staff, rules, stale[~review], day)


@njit(cache=True)
def _reviewed(arenas: List, led: Ledger, col: Columns, q: LaneQueue, c: Calendars, staff: Staff, rules: Rules, rows: np.ndarray,
              day: int) -> int:
    """Reviews done: closed, investigated without platform legal process, or opened. Returns the US cases."""
    route = staff.route[col.agency[rows].astype(np.int64)]
    for i in range(len(rows)):
        row = rows[i]
        if col.counted[row]:
            led.reviewed[route[i]] += 1
            led.days_to_review[route[i]] += day - col.received[row]
            if not col.actionable[row]:
                led.closed_not_actionable[route[i]] += 1
                led.counts[OPEN_OTHER] -= 1
    actionable = col.actionable[rows]
    _release(arenas, col, rows[~actionable])
    needs = col.needs_process[rows]
    without = actionable & ~needs
    for i in range(len(rows)):
        if without[i] and col.counted[rows[i]]:
            led.investigated_without_legal_process[route[i]] += 1
            led.counts[OPEN_OTHER] -= 1
    us_without = rows[without & (route == US)]
    col.evidence_missing[us_without] = False
    col.step[us_without] = FOLLOW_UP
    _release(arenas, col, rows[without & (route == FOREIGN)])
    opened = rows[actionable & needs]
    col.evidence_missing[opened] = False
    if not rules.letters_at_receipt:
        _send_letters(arenas, led, col, staff, rules, opened, day)
    mlat = (route[actionable & needs] == FOREIGN) & ~col.urgent[opened]
    to_mlat = opened[mlat]
    _move_to(arenas, led, col, staff, to_mlat, MLAT, day)
    _schedule_service(arenas, led, col, staff, c, to_mlat, day)
    opened = opened[~mlat]
    for row in opened:
        col.step[row] = WARRANT if col.wilson[row] else (IDENTIFY if col.identify[row] else DRAFT)
    _move_to_step(arenas, led, col, staff, opened, day)
    _enqueue(arenas, col, q, staff, rules, us_without, day)
    _enqueue(arenas, col, q, staff, rules, opened, day)
    return int(np.sum(actionable & (route == US)))


@njit(cache=True)
def _finish(arenas: List, led: Ledger, col: Columns, q: LaneQueue, c: Calendars, staff: Staff, rules: Rules, done: np.ndarray,
            day: int) -> tuple:
    """Each finished step's consequence, in Step order. Returns (US cases reviewed, arrest-bound rows)."""
    steps = col.step[done]
    investigations_us = _reviewed(arenas, led, col, q, c, staff, rules, done[steps == REVIEW], day)
    warrants = done[steps == WARRANT]   # to the judge; back to identify the suspect or draft
    for row in warrants:
        col.step[row] = IDENTIFY if col.identify[row] else DRAFT
    calendar.schedule(arenas, c, INBOX, EACH, warrants,
                      day + np.maximum(col.warrant_days[warrants], 1).astype(np.int64), day)
    subpoenas = done[steps == IDENTIFY]   # out today (the ISP's with the report's IP); back with their answers
    _check_isp_logs(arenas, led, col, rules, subpoenas,
                    day - col.created[subpoenas].astype(np.int64) + rules.upload_to_report_days)
    col.step[subpoenas] = DRAFT
    calendar.schedule(arenas, c, INBOX, EACH, subpoenas,
                      day + np.maximum(col.identification_days[subpoenas], 1).astype(np.int64), day)
    _schedule_service(arenas, led, col, staff, c, done[steps == DRAFT], day)
    followed = done[steps == FOLLOW_UP]   # an arrest (forensic exam first) or the end
    bound = np.empty(len(followed), np.bool_)
    for i in range(len(followed)):
        row = followed[i]
        chance = rules.arrest_probability_evidence_lost if col.evidence_missing[row] else rules.arrest_probability
        bound[i] = np.float64(col.arrest_draw[row]) < chance
    _release(arenas, col, followed[~bound])
    return investigations_us, followed[bound]


@njit(cache=True)
def _serve(arenas: List, led: Ledger, col: Columns, q: LaneQueue, c: Calendars, staff: Staff, rules: Rules, rows: np.ndarray,
           day: int) -> None:
    """Legal process reaches the platform today: in time if the platform still holds the content."""
    route = staff.route[col.agency[rows].astype(np.int64)]
    _release(arenas, col, rows[route == FOREIGN])
    rows = rows[route == US]
    in_time = day <= col.deadline[rows]
    response = col.response_days[rows].astype(np.int64)
    col.evidence_missing[rows[~in_time]] = True
    later = in_time & ~col.identify[rows]   # the ISP subpoena follows the platform's answer
    log_age = (day + response[later] + rules.subpoena_days - col.created[rows[later]].astype(np.int64)
               + rules.upload_to_report_days)
    _check_isp_logs(arenas, led, col, rules, rows[later], log_age)
    go_on = in_time | (not rules.close_expired)
    _release(arenas, col, rows[~go_on])
    answered = rows[go_on]
    col.step[answered] = FOLLOW_UP
    calendar.schedule(arenas, c, INBOX, EACH, answered, day + np.maximum(response[go_on], 1), day)


@njit(cache=True)
def desk_day(arenas: List, col: Columns, led: Ledger, q: LaneQueue, c: Calendars, staff: Staff, rules: Rules,
             day: int) -> tuple:
    """The agencies' day (module doc). Returns (US cases reviewed today, arrest-bound rows for the lab)."""
    arrived = calendar.pop(arenas, c, INBOX, day)
    if len(arrived):
        _take_in(arenas, led, col, q, staff, rules, arrived, day)
    stale = np.empty(q.totals[0], np.int64)
    n = lanes.drop_entered_before(arenas, q, day - rules.backlog_limit, stale)
    if n:
        _close_stale(arenas, led, col, q, staff, rules, stale[:n], day)
    n_agencies = len(staff.route)
    if rules.policy == DEADLINE_FIRST:
        for agency in range(n_agencies):
            for offset in (0, REVIEW_OFFSET):
                lanes.demote(arenas, q, agency, FIRST_TIER + offset, day, EXPIRED_TIER + offset)
    done = np.empty(q.totals[0], np.int64)
    n_done = 0
    for agency in range(n_agencies):
        staff.credit[agency] += staff.hours_per_day[agency]
        start = n_done
        n_done, used = lanes.pop_budget(arenas, q, agency, col.work, staff.credit[agency], done, n_done)
        staff.used_today[agency] = used
        staff.work_waiting[agency] -= n_done - start
        for row in done[start:n_done]:
            if col.step[row] == REVIEW:
                staff.reviews_waiting[agency] -= 1
        left = staff.credit[agency] - used
        # Idle hours do not bank, but an overdraft (letters sent on receipt) is worked off.
        staff.credit[agency] = left if staff.work_waiting[agency] else min(left, 0.0)
    investigations_us = 0
    bound = np.empty(0, np.int64)
    if n_done:
        investigations_us, bound = _finish(arenas, led, col, q, c, staff, rules, done[:n_done], day)
    served = calendar.pop(arenas, c, SERVICE, day)
    if len(served):
        _serve(arenas, led, col, q, c, staff, rules, served, day)
    return investigations_us, bound
