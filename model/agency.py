"""A law-enforcement agency: its investigators and their hours.

Each agency (an ICAC task-force stratum, the federal agencies, foreign liaison) spends its own
investigators' hours on its own queue of work, in the order of the priority policy
(:mod:`model.policies`): steps of cases already opened (warrant, identification, drafting, follow-up) first, then
referrals waiting for review. What arrives, and what a finished step leads to, is the same for every
agency, so :class:`model.casework.Casework` does it for all of them at once; it also keeps the
agencies' queues in one priority queue partitioned by agency, so that a day's new work is queued in
one operation. :meth:`Agency.act` runs the agencies' day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mesa
import numpy as np

from model.cases import Step
from model.outcomes import FOREIGN, US
from model.params import AgencySpec
from model.policies import REVIEW_OFFSET
from model.queues import PriorityQueue, group_range, queue_key
from model.reports import ReportStore, Rows
from model.stage import StageAgent

DAYS_PER_YEAR = 365


class Agency(StageAgent):
    """One agency's investigators, their hours and what waits for them.

    Args:
        model: the model.
        spec: the agency's scenario table.
        index: its index in the model's agencies (the ``agency`` column of routed reports, and its
            partition of the shared queue).
        investigators: its investigators (FTE).
        hours_per_investigator_year: their casework hours a year.
        queue: the agencies' shared queue; this agency's work is its partition `index`.
        desk_day: the day of the desk the agencies share (``Casework.step``), run by :meth:`act`.
    """

    def __init__(self, model: mesa.Model, spec: AgencySpec, index: int, investigators: float,
                 hours_per_investigator_year: float, queue: PriorityQueue, desk_day: Callable[[int], None]) -> None:
        super().__init__(model)
        self.spec, self.index, self.investigators = spec, index, investigators
        self.route = FOREIGN if spec.kind == "foreign" else US
        self.hours_per_day = investigators * hours_per_investigator_year / DAYS_PER_YEAR
        self.queue, self.desk_day = queue, desk_day
        self.credit = 0.0           # hours not yet spent (a step may span days; letters may overdraw)
        self.used_today = 0.0
        self.reviews_waiting = 0    # referrals queued, not yet picked up
        self.work_waiting = 0       # all queued work (referrals and steps of opened cases)

    @classmethod
    def act(cls, agencies: Any, day: int) -> None:
        """The agencies' day: arrivals, stale referrals closed, each agency's hours spent, legal process served."""
        first = next(iter(agencies), None)
        if first is not None:
            first.desk_day(day)

    # --- Mesa reporters -------------------------------------------------------------------------

    @property
    def backlog(self) -> int:
        """Referrals waiting for their first review."""
        return self.reviews_waiting

    @property
    def utilisation(self) -> float:
        """Share of today's investigator hours used."""
        return self.used_today / self.hours_per_day if self.hours_per_day else 0.0

    # --- work -----------------------------------------------------------------------------------

    def work(self, store: ReportStore) -> Rows:
        """Spend today's hours on this agency's queue in order; return the rows whose step is done."""
        self.credit += self.hours_per_day
        done, used = self.queue.pop_budget(store.work, self.credit, self.index)
        self.used_today = used
        self.work_waiting -= len(done)
        self.reviews_waiting -= int(np.count_nonzero(store.step[done] == Step.REVIEW))
        # Idle hours do not bank, but an overdraft (letters sent on receipt) is worked off.
        self.credit = self.credit - used if self.work_waiting else min(self.credit - used, 0.0)
        return done

    def longest_review_wait(self, day: int) -> int:
        """Days the referral waiting longest for its first review has waited (0 when none waits; urgent referrals,
        served first of all, are not counted)."""
        first = self.queue.first_entry(queue_key(REVIEW_OFFSET, 0, 0, self.index), group_range(self.index)[1])
        return 0 if first is None else day - first

    def waiting(self) -> Rows:
        """The rows in this agency's queue, in the order they will be worked."""
        return self.queue.group_rows(self.index)
