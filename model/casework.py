"""The agencies' shared desk: what arrives, what a finished step leads to, and serving legal process.

Every agency works its own queue with its own hours (:class:`model.agency.Agency`), but what happens
around that work is the same for all of them, so it is done here for all agencies at once, each row
knowing its agency and route:

1. **Arrivals** (one calendar for all agencies): new referrals from NCMEC — closed at once if below
   the priority threshold, 2703(f) letters sent if that is the timing, queued for review — warrants
   the judge signed, and platforms' answers.
2. **Stale referrals**: nobody picked them up within the backlog limit; closed unworked.
3. **Finished steps**: a reviewed referral is closed (not actionable), investigated without platform
   legal process, or opened (warrant, drafting, or for foreign cases the MLAT / CLOUD Act route); a
   drafted warrant goes to the judge; drafted legal process to its approval; a follow-up to the lab
   or to its end.
4. **Service**: legal process whose approval (MLAT, emergency request) is through reaches the
   platform: in time if the platform still holds the content. The platform answers after its
   response time, and the case comes back for follow-up (or, if the content expired and the agencies
   close such cases, ends).

Waits for a judge, an approval, MLAT or the platform need no investigator time; everything else
does, so the time to legal process grows when hours are short.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.agency import Agency
from model.calendars import Calendar
from model.cases import Step
from model.outcomes import FOREIGN, US, Outcomes, Stage, route_counts
from model.params import Scenario
from model.policies import REVIEW_OFFSET, demote_expired, enqueue
from model.queues import PriorityQueue, joined
from model.reports import ReportStore, Rows

#: The ledger stage of a case waiting for each step (by Step; REVIEW: the agency's queue; FOLLOW_UP: no stage).
STAGE_OF_STEP = np.array([Stage.AGENCY_QUEUE, Stage.WARRANT, Stage.IDENTIFICATION, Stage.DRAFTING, 255], np.uint8)


class Casework:
    """Arrivals, the consequences of finished steps, and service, for every agency (see module doc)."""

    def __init__(self, scenario: Scenario, store: ReportStore, outcomes: Outcomes, lab: object) -> None:
        self.store, self.outcomes, self.lab = store, outcomes, lab
        police, retention = scenario.law_enforcement, scenario.retention
        self.hours = police
        #: Investigator hours of each step (review is priced separately), by Step.
        self.step_hours = np.array([0.0, police.warrant_hours, police.subpoena_hours, police.drafting_hours,
                                    police.follow_up_hours], np.float32)
        self.priority_cutoff = np.float32(1 - police.priority_threshold)  # quality scores at or above it are closed
        self.close_expired = police.expired_case_policy == "close"
        self.letters_at_receipt = retention.preservation_request_timing == "receipt"
        self.preservation_days = retention.preservation_extension_days * (1 + retention.preservation_max_extensions)
        self.isp, self.downstream = scenario.isp, scenario.downstream
        self.policy, self.backlog_limit = police.priority_policy, police.backlog_limit_days
        self.inbox = Calendar()        # referrals on their way, signed warrants, platforms' answers
        self.queue = PriorityQueue()   # every agency's work waiting for investigators, partitioned by agency
        self.service = Calendar()      # legal process approved (or MLAT on its way): served when due
        self.agencies: list[Agency] = []
        self.route = np.zeros(0, np.int64)
        self.investigations_us_today = 0  # actionable US referrals reviewed today (all reports)

    def attach(self, agencies: Sequence[Agency]) -> None:
        """The agencies served by this desk, in index order."""
        self.agencies = list(agencies)
        self.route = np.array([a.route for a in agencies], np.int64)

    def routes(self, rows: Rows) -> np.ndarray:
        """US or FOREIGN, per row, from its agency."""
        return self.route[self.store.agency[rows]]

    # --- the day ----------------------------------------------------------------------------------

    def step(self, day: int) -> None:
        arrived = self.inbox.pop(day)
        if len(arrived):
            self._enqueue(self._take_in(arrived, day), day)
        stale = self.queue.drop_entered_before(day - self.backlog_limit)
        if len(stale):
            self._close_stale(stale, day)
        demote_expired(self.queue, self.policy, day, (0, REVIEW_OFFSET), range(len(self.agencies)))
        done = joined([agency.work(self.store) for agency in self.agencies])
        self.investigations_us_today = 0
        if len(done):
            self._finish(done, day)
        served = self.service.pop(day)
        if len(served):
            self._serve(served, day)

    def end_of_day(self, day: int) -> None:
        """Book the day's end in the ledger (:meth:`Outcomes.end_of_day <model.outcomes.Outcomes.end_of_day>`), once
        every stage has acted."""
        self.outcomes.end_of_day(day)

    # --- arrivals ---------------------------------------------------------------------------------

    def _take_in(self, rows: Rows, day: int) -> Rows:
        """Arrivals: new referrals, signed warrants, platforms' answers; returns the rows to queue."""
        store = self.store
        step = store.step[rows]
        new = step == Step.REVIEW
        if not new.all():  # a signed warrant, or the identification subpoenas' answers: the next step's stage
            moving = (step == Step.IDENTIFY) | (step == Step.DRAFT)
            self._move(rows.compress(moving), STAGE_OF_STEP[step.compress(moving)], day)
        if not new.any():
            return rows
        referrals = self._receive_referrals(rows.compress(new), day)
        return referrals if new.all() else np.concatenate([referrals, rows.compress(~new)])

    def _receive_referrals(self, rows: Rows, day: int) -> Rows:
        """New referrals: close those below the priority threshold, send letters on receipt; returns the rest."""
        store = self.store
        store.received[rows] = day
        below = (store.quality[rows] >= self.priority_cutoff) & ~store.urgent[rows]
        if below.any():
            self._close_unworked(rows.compress(below), day)
            rows = rows.compress(~below)
        self._move(rows, Stage.AGENCY_QUEUE, day)
        if self.letters_at_receipt:
            sent = self._send_letters(rows, day)
            cost = np.bincount(store.agency[sent], minlength=len(self.agencies)) * self.hours.preservation_letter_hours
            for agency, hours in zip(self.agencies, cost.tolist(), strict=True):
                agency.credit -= hours
        return rows

    def _close_stale(self, rows: Rows, day: int) -> None:
        """Rows that entered the queue before the backlog limit: referrals never picked up are closed."""
        review = self.store.step[rows] == Step.REVIEW
        self._count_waiting(self.store.agency[rows], review, -1)
        self._close_unworked(rows.compress(review), day)
        in_progress = rows.compress(~review)
        if len(in_progress):  # cases already opened are never closed for their age: queued again, ahead of referrals
            self._enqueue(in_progress, day)

    def _close_unworked(self, rows: Rows, day: int) -> None:
        store = self.store
        counted = rows.compress(store.counted[rows])
        needs = store.actionable[counted] & store.needs_process[counted]
        self.outcomes.close_unworked(self.routes(counted), store.stage[counted].astype(np.int64),
                                     store.created[counted], store.deadline[counted].astype(np.int64), needs, day)
        store.release(rows)

    def _send_letters(self, rows: Rows, day: int) -> Rows:
        """2703(f) letters for the cases that get one: preservation held `preservation_days` from today."""
        store = self.store
        cases = rows.compress(store.actionable[rows])
        cases = cases.compress(store.letter[cases] & store.needs_process[cases])
        old = store.deadline[cases]
        extended = cases.compress((old >= day) & (old < day + self.preservation_days))
        counted = extended.compress(store.counted[extended])
        if len(counted):
            self.outcomes.extend(self.routes(counted), store.stage[counted].astype(np.int64), store.created[counted],
                                 store.deadline[counted].astype(np.int64),
                                 np.full(len(counted), day + self.preservation_days), day)
        store.deadline[extended] = day + self.preservation_days
        return cases

    def _enqueue(self, rows: Rows, day: int) -> None:
        """Price each row's next step in hours and queue it at its agency, entering today."""
        store, hours = self.store, self.hours
        step = store.step[rows]
        factor = store.work_factor[rows]
        work = self.step_hours[step] * factor
        review = step == Step.REVIEW
        if review.any():
            reviewed = rows.compress(review)
            actionable = store.actionable[reviewed]
            work[review] = np.where(actionable, hours.review_hours * factor[review], hours.screening_hours)
            if not self.letters_at_receipt:
                letter = actionable & store.letter[reviewed] & store.needs_process[reviewed]
                work[review] += letter * np.float32(hours.preservation_letter_hours)
        urgent = store.urgent[rows]
        work[(step == Step.DRAFT) & urgent] = hours.emergency_hours
        store.work[rows] = work
        agency = store.agency[rows]
        enqueue(self.queue, self.policy, store, rows, day, REVIEW_OFFSET * review, agency, urgent)
        self._count_waiting(agency, review, 1)

    def _count_waiting(self, agency: np.ndarray, review: np.ndarray, sign: int) -> None:
        """Keep each agency's counts of queued work and of queued referrals (rows' agencies, and which are referrals)."""
        n = len(self.agencies)
        work = np.bincount(agency, minlength=n)
        reviews = work if review.all() else np.bincount(agency.compress(review), minlength=n)
        for target, w, r in zip(self.agencies, work.tolist(), reviews.tolist(), strict=True):
            target.work_waiting += sign * w
            target.reviews_waiting += sign * r

    # --- finished steps -----------------------------------------------------------------------------

    def _finish(self, done: Rows, day: int) -> None:
        """Each finished step's consequence, step by step in Step order (rows keep their order within a step)."""
        step = self.store.step[done]
        order = step.argsort(kind="stable")
        ends = np.bincount(step, minlength=len(Step)).cumsum().tolist()
        done = done[order]
        handlers = (self._reviewed, self._warrant_drafted, self._identification_drafted, self._schedule_service,
                    self._followed_up)   # in Step order
        for start, end, handle in zip([0, *ends[:-1]], ends, handlers, strict=True):
            if end > start:
                handle(done[start:end], day)

    def _reviewed(self, rows: Rows, day: int) -> None:
        store, out = self.store, self.outcomes
        counted = rows.compress(store.counted[rows])
        out.review(self.routes(counted), day - store.received[counted])
        actionable = store.actionable[rows]
        closed = rows.compress(~actionable)
        self._count_decided(out.closed_not_actionable, closed)
        store.release(closed)
        cases = rows.compress(actionable)
        route = self.routes(cases)
        self.investigations_us_today = int(np.count_nonzero(route == US))
        needs = store.needs_process[cases]
        without, us = cases.compress(~needs), route.compress(~needs) == US
        self._count_decided(out.investigated_without_legal_process, without)
        us_without = without.compress(us)
        store.evidence_missing[us_without] = False
        store.step[us_without] = Step.FOLLOW_UP
        store.release(without.compress(~us))
        opened, route = cases.compress(needs), route.compress(needs)
        store.evidence_missing[opened] = False
        if not self.letters_at_receipt:
            self._send_letters(opened, day)
        mlat = (route == FOREIGN) & ~store.urgent[opened]
        to_mlat = opened.compress(mlat)
        self._move(to_mlat, Stage.MLAT, day)
        self._schedule_service(to_mlat, day)
        opened = opened.compress(~mlat)
        step = np.where(store.wilson[opened], Step.WARRANT, np.where(store.identify[opened], Step.IDENTIFY, Step.DRAFT))
        self._move(opened, STAGE_OF_STEP[step], day)
        store.step[opened] = step
        self._enqueue(np.concatenate([us_without, opened]), day)

    def _warrant_drafted(self, rows: Rows, day: int) -> None:
        """The warrant goes to the judge; when signed, the case comes back to identify the suspect or draft."""
        store = self.store
        store.step[rows] = np.where(store.identify[rows], Step.IDENTIFY, Step.DRAFT)
        self.inbox.schedule(rows, day + np.maximum(store.warrant_days[rows], 1).astype(np.int64))

    def _identification_drafted(self, rows: Rows, day: int) -> None:
        """The subpoenas go out (the ISP's with the report's IP address, today); the case comes back with
        their answers to draft the content warrant."""
        store, isp = self.store, self.isp
        log_age = day - store.created[rows] + isp.upload_to_report_days
        self._check_isp_logs(rows, log_age)
        store.step[rows] = Step.DRAFT
        self.inbox.schedule(rows, day + np.maximum(store.identification_days[rows], 1).astype(np.int64))

    def _schedule_service(self, rows: Rows, day: int) -> None:
        """Drafted legal process waits for its approval (MLAT, an emergency request for its answer).

        The case leaves the investigators' hands: its service day, and so its outcome, is now fixed.
        """
        if len(rows) == 0:
            return
        store = self.store
        due = day + store.process_days[rows].astype(np.int64)
        is_counted = store.counted[rows]
        counted = rows.compress(is_counted)
        self.outcomes.schedule(self.routes(counted), store.stage[counted].astype(np.int64),
                               store.created[counted].astype(np.int64), store.deadline[counted].astype(np.int64),
                               due.compress(is_counted).astype(np.int64), day)
        self.service.schedule(rows, due)

    def _followed_up(self, rows: Rows, day: int) -> None:
        """Follow-up done: the case leads to an arrest (forensic exam first) or ends."""
        store, ds = self.store, self.downstream
        chance = np.where(store.evidence_missing[rows], ds.arrest_probability_evidence_lost, ds.arrest_probability)
        bound = store.arrest_draw[rows] < chance
        store.release(rows.compress(~bound))
        self.lab.receive(rows.compress(bound), day)

    # --- service ------------------------------------------------------------------------------------

    def _serve(self, rows: Rows, day: int) -> None:
        """Legal process reaches the platform today: in time if the platform still holds the content."""
        store, isp = self.store, self.isp
        route = self.routes(rows)  # the outcome was booked when the legal process was scheduled
        store.release(rows.compress(route == FOREIGN))
        rows = rows.compress(route == US)
        in_time = day <= store.deadline[rows]
        response = store.response_days[rows].astype(np.int64)
        store.evidence_missing[rows] |= ~in_time
        later = in_time & ~store.identify[rows]  # the ISP subpoena follows the platform's answer
        log_age = day + response[later] + isp.subpoena_days - store.created[rows[later]] + isp.upload_to_report_days
        later = rows[later]
        self._check_isp_logs(later, log_age)
        go_on = in_time | (not self.close_expired)
        store.release(rows.compress(~go_on))
        answered = rows.compress(go_on)
        store.step[answered] = Step.FOLLOW_UP
        self.inbox.schedule(answered, day + np.maximum(response[go_on], 1))

    def _check_isp_logs(self, rows: Rows, log_age: np.ndarray) -> None:
        """The ISP subpoena for cases with an IP lead: the logs are gone if older than the ISP keeps them, or
        unattributable behind carrier-grade NAT."""
        store = self.store
        lead = store.ip_lead[rows]
        lost = lead & (store.ip_unattributable[rows] | (log_age > self.isp.log_retention_days))
        store.evidence_missing[rows.compress(lost)] = True
        self.outcomes.isp_logs_lost += int(np.count_nonzero(lost & store.counted[rows]))

    # --- bookkeeping --------------------------------------------------------------------------------

    def _count_decided(self, counter: np.ndarray, rows: Rows) -> None:
        """Counted rows that need no legal process reach a terminal state: add them to a per-route counter."""
        counted = rows.compress(self.store.counted[rows])
        counter += route_counts(self.routes(counted))
        self.outcomes.decided_other(len(counted))

    def _move(self, rows: Rows, to_stage: Stage | np.ndarray, day: int) -> None:
        """Rows change stage (one for all, or one each); counted cases needing legal process move in the ledger."""
        store = self.store
        picked = (store.counted[rows] & store.actionable[rows]).nonzero()[0]
        picked = picked.compress(store.needs_process[rows[picked]])
        if len(picked):
            counted = rows[picked]
            self.outcomes.move(self.routes(counted), store.deadline[counted].astype(np.int64),
                               to_stage if np.ndim(to_stage) == 0 else to_stage[picked],
                               store.stage[counted].astype(np.int64), day)
        store.stage[rows] = to_stage

