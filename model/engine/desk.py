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
constants (a test checks them).

Arrivals and reviews are handled in one pass over their rows, calling a helper per row. Such helpers are
compiled without numba's reference counting (``_nrt=False``, a private numba option; they allocate nothing,
and one that did would fail to compile): numba counts references on every array of a named tuple passed to
a function, even an inlined one, and the store's columns are 29 arrays (measured 440-950 ns a call with
counting, 14 ns without). Helpers that allocate take whole batches.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.typed import List

from model.engine import calendar, lanes, ledger
from model.engine.calendar import EACH, INBOX, SERVICE, Calendars
from model.engine.columns import Columns, release_row
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


@njit(_nrt=False, cache=True)
def _send_letter(led: Ledger, col: Columns, staff: Staff, row: int, extended: int, sent: np.ndarray, day: int) -> None:
    """A 2703(f) letter if the case gets one (counted in `sent` by agency): preservation held until `extended`."""
    if col.actionable[row] and col.letter[row] and col.needs_process[row]:
        sent[col.agency[row]] += 1
        if day <= col.deadline[row] < extended:
            ledger.extend_row(led, col, staff.route, row, extended, day)
            col.deadline[row] = extended


@njit(cache=True)
def _release(arenas: List, col: Columns, rows: np.ndarray) -> None:
    for row in rows:
        release_row(col, row)


@njit(cache=True)
def _close_unworked(arenas: List, led: Ledger, col: Columns, staff: Staff, rows: np.ndarray, day: int) -> None:
    ledger.close_unworked(led, col, staff.route, rows, day)
    _release(arenas, col, rows)


@njit(_nrt=False, cache=True)
def _price(col: Columns, staff: Staff, rules: Rules, row: int, queued: np.ndarray, i: int) -> None:
    """Price a row's next step in hours (its ``work``) and count it as waiting at its agency; its row, agency, tier and
    order go to column `i` of `queued` (:func:`_push` queues them)."""
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
    order = 0
    if rules.policy == FIFO:
        tier = FIRST_TIER + offset
    elif urgent:
        tier = URGENT_TIER
    elif rules.policy == QUALITY_FIRST:
        band = min(col.quality[row] * np.float32(QUALITY_BANDS), np.float32(QUALITY_BANDS))
        tier = FIRST_TIER + int(band) + offset
    else:
        tier = FIRST_TIER + offset
        if rules.policy == DEADLINE_FIRST:
            order = col.deadline[row]
    agency = col.agency[row]
    staff.work_waiting[agency] += 1
    if step == REVIEW:
        staff.reviews_waiting[agency] += 1
    queued[0, i], queued[1, i], queued[2, i], queued[3, i] = row, agency, tier, order


@njit(cache=True)
def _push(arenas: List, q: LaneQueue, queued: np.ndarray, n: int, day: int) -> None:
    """Queue the first `n` priced rows of `queued` (:func:`_price`) at their agencies, in order, entering today."""
    lanes.push(arenas, q, queued[0, :n], queued[1, :n], queued[2, :n], queued[3, :n], day)


@njit(cache=True)
def _enqueue(arenas: List, col: Columns, q: LaneQueue, staff: Staff, rules: Rules, rows: np.ndarray, day: int) -> None:
    """Price each row's next step in hours and queue it at its agency, entering today."""
    queued = np.empty((4, len(rows)), np.int64)
    for i in range(len(rows)):
        _price(col, staff, rules, rows[i], queued, i)
    _push(arenas, q, queued, len(rows), day)


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
def _take_in(arenas: List, led: Ledger, col: Columns, q: LaneQueue, staff: Staff, rules: Rules, arrived: np.ndarray,
             day: int) -> None:
    """New referrals, signed warrants and answers, in one pass: referrals below the priority threshold are closed,
    the others (with a letter if letters go on receipt) queued for review first, then the rest, each in arrival
    order."""
    n = len(arrived)
    referrals, rest = np.empty((4, n), np.int64), np.empty((4, n), np.int64)
    n_referrals = n_rest = 0
    sent = np.zeros(len(staff.route), np.int64)
    extended = day + rules.preservation_days
    for row in arrived:
        step = col.step[row]
        if step != REVIEW:
            if step in (IDENTIFY, DRAFT):
                ledger.move_row(led, col, staff.route, row, STAGE_OF_STEP[step], day)
            _price(col, staff, rules, row, rest, n_rest)
            n_rest += 1
            continue
        col.received[row] = day
        if col.quality[row] >= rules.priority_cutoff and not col.urgent[row]:
            ledger.close_unworked_row(led, col, staff.route, row, day)
            release_row(col, row)
            continue
        ledger.move_row(led, col, staff.route, row, AGENCY_QUEUE, day)
        if rules.letters_at_receipt:
            _send_letter(led, col, staff, row, extended, sent, day)
        _price(col, staff, rules, row, referrals, n_referrals)
        n_referrals += 1
    if rules.letters_at_receipt:
        for agency in range(len(staff.route)):
            staff.credit[agency] -= sent[agency] * rules.letter_cost
    _push(arenas, q, referrals, n_referrals, day)
    _push(arenas, q, rest, n_rest, day)


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
    """Reviews done, in one pass: closed (freed at once), investigated without platform legal process (US cases go on
    to follow-up, foreign ones end), or opened (a letter if letters go at review; foreign cases to MLAT, the rest
    to their first step). Returns the US cases."""
    n = len(rows)
    follow_up, opened = np.empty((4, n), np.int64), np.empty((4, n), np.int64)
    ended, to_mlat = np.empty(n, np.int64), np.empty(n, np.int64)
    n_follow_up = n_ended = n_mlat = n_opened = 0
    sent = np.zeros(len(staff.route), np.int64)
    extended = day + rules.preservation_days
    investigations_us = 0
    for row in rows:
        route = staff.route[col.agency[row]]
        counted = col.counted[row]
        if counted:
            led.reviewed[route] += 1
            led.days_to_review[route] += day - col.received[row]
        if not col.actionable[row]:
            if counted:
                led.closed_not_actionable[route] += 1
                led.counts[OPEN_OTHER] -= 1
            release_row(col, row)
            continue
        investigations_us += route == US
        if not col.needs_process[row]:
            if counted:
                led.investigated_without_legal_process[route] += 1
                led.counts[OPEN_OTHER] -= 1
            if route == US:
                col.evidence_missing[row] = False
                col.step[row] = FOLLOW_UP
                _price(col, staff, rules, row, follow_up, n_follow_up)
                n_follow_up += 1
            else:
                ended[n_ended] = row
                n_ended += 1
            continue
        col.evidence_missing[row] = False
        if not rules.letters_at_receipt:   # its hours are part of the review's (_price): no credit to book
            _send_letter(led, col, staff, row, extended, sent, day)
        if route == FOREIGN and not col.urgent[row]:
            ledger.move_row(led, col, staff.route, row, MLAT, day)
            to_mlat[n_mlat] = row
            n_mlat += 1
        else:
            step = WARRANT if col.wilson[row] else (IDENTIFY if col.identify[row] else DRAFT)
            col.step[row] = step
            ledger.move_row(led, col, staff.route, row, STAGE_OF_STEP[step], day)
            _price(col, staff, rules, row, opened, n_opened)
            n_opened += 1
    for row in ended[:n_ended]:   # freed after the closed ones, as the reference frees them
        release_row(col, row)
    _schedule_service(arenas, led, col, staff, c, to_mlat[:n_mlat], day)
    _push(arenas, q, follow_up, n_follow_up, day)
    _push(arenas, q, opened, n_opened, day)
    return investigations_us


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


@njit(cache=True, nogil=True)
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
