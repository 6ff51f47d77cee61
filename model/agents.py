"""The stage agents: platforms file reports, NCMEC triages them, agencies investigate, the lab examines.

Each stage owns its queue and its ``step(day)``, and hands rows to the next stage it was given when
built; none calls back into the model. Agents are few (a handful of platforms and agencies, one NCMEC,
one lab); each acts on whole batches of report rows with numpy. The agency lives in
:mod:`model.agency`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import mesa
import numpy as np

from model.agency import Agency
from model.cases import CaseRules, Step
from model.casework import Casework
from model.draws import ReportDraws
from model.outcomes import US, Outcomes, Stage, route_counts
from model.params import Demand, NcmecSpec, PlatformSpec, Scenario
from model.policies import demote_expired, enqueue
from model.queues import PriorityQueue
from model.reports import ReportStore, Rows
from model.stage import StageAgent

__all__ = ["Agency", "ForensicLab", "Ncmec", "Platform", "Routing"]


class Routing:
    """Where a platform's reports go: the location uniform picks the agency, by bands of location and routing share.

    US-located reports go to the ICAC agencies, unknown-location ones to the federal agencies, the
    rest to foreign liaison, each kind split by its agencies' ``routing_share``.
    """

    def __init__(self, spec: PlatformSpec, agencies: Sequence[Agency]) -> None:
        edges = {"icac": (0.0, spec.us_share), "federal": (spec.us_share, spec.us_share + spec.unknown_location_share),
                 "foreign": (spec.us_share + spec.unknown_location_share, 1.0)}
        bounds: list[float] = []
        members: list[int] = []
        for kind, (low, high) in edges.items():
            group = [a for a in agencies if a.spec.kind == kind]
            shares = np.cumsum([a.spec.routing_share for a in group])
            bounds += list(low + (high - low) * shares / shares[-1])
            members += [a.index for a in group]
        self.bounds = np.array(bounds[:-1])  # the last band takes everything up to 1 (and rounding)
        # Location uniforms are float32: u >= edge exactly when u >= the least float32 not below the edge.
        self.edges32 = np.array([np.nextafter(np.float32(e), np.float32(np.inf)) if np.float32(e) < e else np.float32(e)
                                 for e in self.bounds], np.float32)
        self.agencies = np.array(members, np.int16)
        self.route = np.array([a.route for a in agencies], np.int64)  # by agency index
        # The foreign bands come last: a location is routed to a US agency exactly when it lies below the first
        # foreign band's lower edge (the bands are the edges at or below a location, and the edges increase).
        band_routes = self.route[self.agencies]
        first_foreign = int(np.argmax(band_routes != US)) if (band_routes != US).any() else len(band_routes)
        self.us_below = (np.float32(np.inf) if first_foreign == len(band_routes)
                         else self.edges32[first_foreign - 1] if first_foreign else np.float32(-np.inf))

    def is_us(self, location: np.ndarray) -> np.ndarray:
        """Whether each location uniform is routed to a US agency (one comparison; the same as the route of
        :meth:`agency`)."""
        return location < self.us_below

    def agency(self, location: np.ndarray) -> np.ndarray:
        """The agency of each location uniform: its band, counted one edge at a time (a handful of edges: a
        few byte-wide passes beat a binary search and a 2-D comparison)."""
        band = np.zeros(len(location), np.int8)
        for edge in self.edges32:
            band += location >= edge
        return self.agencies[band]


class Platform(StageAgent):
    """An electronic service provider that files CyberTipline reports every day.

    Its reports' attributes and case draws come from its own streams (arrivals, attributes, cases),
    so they do not depend on any policy downstream.
    """

    def __init__(self, model: mesa.Model, spec: PlatformSpec, index: int, streams: Sequence[np.random.SeedSequence],
                 scenario: Scenario, routing: Routing, rules: CaseRules, store: ReportStore, outcomes: Outcomes,
                 ncmec: Ncmec) -> None:
        super().__init__(model)
        self.spec, self.index = spec, index
        self.arrivals_rng, self.attribute_rng, self.case_rng = (np.random.default_rng(s) for s in streams)
        self.demand: Demand = scenario.demand
        self.retention_days = (scenario.retention.window_days + scenario.retention.voluntary_extra_days
                               + spec.voluntary_retention_days)
        self.counting = (scenario.run.warmup_days + 1, scenario.run.days)
        self.routing, self.rules, self.store, self.outcomes, self.ncmec = routing, rules, store, outcomes, ncmec
        self.filed_today = 0      # reports filed today
        self.automated_today = 0  # of which automated (unviewed) hash matches

    def expected_reports(self, day: int) -> tuple[float, float, float]:
        """Mean reports today: regular, extra from surges, and the viral share of the extra ones."""
        demand = self.demand
        base = (self.spec.reports_per_day * demand.scale * (1 + demand.growth_per_year) ** ((day - 1) / 365)
                * demand.weekday_factors[(day - 1) % 7])
        active = [s for s in demand.surges if s.start_day <= day < s.start_day + s.duration_days]
        extra = sum(base * (s.multiplier - 1) for s in active)
        viral = sum(base * (s.multiplier - 1) * s.viral_share for s in active) / extra if extra > 0 else 0.0
        return base, extra, viral

    def arrivals(self, day: int) -> tuple[int, int, float]:
        """Today's reports from the arrivals stream: how many in all, how many of them from surges, and the viral share
        of those."""
        base, extra, viral_share_extra = self.expected_reports(day)
        n_regular = int(self.arrivals_rng.poisson(base))
        n_extra = int(self.arrivals_rng.poisson(extra)) if extra > 0 else 0
        return n_regular + n_extra, n_extra, viral_share_extra

    def step(self, day: int) -> None:
        """File today's reports: new rows in the store, handed to NCMEC."""
        n, n_extra, viral_share_extra = self.arrivals(day)
        self.filed_today = n
        self.automated_today = self.file(n, n_extra, viral_share_extra, day) if n else 0

    def file(self, n: int, n_extra: int, viral_share_extra: float, day: int) -> int:
        """Draw `n` reports (the last `n_extra` from a surge, viral with `viral_share_extra`); they become rows of the
        store and join NCMEC's queue. Returns how many are automated."""
        draws = ReportDraws.draw(self.attribute_rng, self.case_rng, self.spec, n, n_extra, viral_share_extra)
        rows = self._write(draws, day)
        self.ncmec.receive(rows, draws.urgent, draws.known, draws.viral, day)
        return int(np.count_nonzero(draws.automated))

    def _write(self, draws: ReportDraws, day: int) -> Rows:
        store = self.store
        rows = store.allocate(len(draws.urgent))
        counted = self.counting[0] <= day <= self.counting[1]
        agency = self.routing.agency(draws.location)
        store.created[rows] = day
        store.deadline[rows] = day + self.retention_days
        store.agency[rows] = agency
        store.counted[rows] = counted
        store.urgent[rows] = draws.urgent
        store.quality[rows] = draws.quality
        is_case = draws.is_case
        store.actionable[rows] = is_case  # informational reports are never worked, whatever their draw
        store.stage[rows] = Stage.NCMEC
        store.step[rows] = Step.REVIEW
        cases = rows.compress(is_case)
        route = self.routing.route[agency.compress(is_case)]
        self.rules.write(store, cases, draws.cases, route, draws.automated.compress(is_case), self.index)
        if counted:
            need = store.needs_process[cases]
            self.outcomes.filed(self.index, len(rows), int(np.count_nonzero(need)))
            self.outcomes.need_process(route.compress(need),
                                       store.deadline[cases.compress(need)].astype(np.int64), day)
        return rows


class Ncmec(StageAgent):
    """NCMEC's CyberTipline: analysts triage one shared queue within their daily time and route referrals.

    Known-hash reports cost a fraction of an analyst's time (``known_content_cost``); with bundling,
    viral copies become informational on receipt. Reports without usable data are informational;
    referrals reach their agency after ``referral_delay_days`` (urgent ones the same day). Reports the
    analysts have not reached within ``backlog_limit_days`` are passed on unreviewed.
    """

    def __init__(self, model: mesa.Model, spec: NcmecSpec, store: ReportStore, outcomes: Outcomes,
                 casework: Casework) -> None:
        super().__init__(model)
        self.spec, self.store, self.outcomes, self.casework = spec, store, outcomes, casework
        self.budget = spec.analysts * spec.reports_per_analyst_day  # novel reports a day
        self.cost = np.array([1.0, spec.known_content_cost], np.float32)  # novel or urgent, known
        self.queue = PriorityQueue()
        self.credit = 0.0
        self.used_today = 0.0
        self.bundled_today = self._bundled = 0  # viral copies bundled on receipt (all reports)
        self.urgent_today = self._urgent = 0    # urgent reports received (all reports)

    @property
    def utilisation(self) -> float:
        return self.used_today / self.budget if self.budget else 0.0

    def longest_wait(self, day: int) -> int:
        """Days the report waiting longest for an analyst has waited (0 when none waits)."""
        first = self.queue.first_entry()
        return 0 if first is None else day - first

    def receive(self, rows: Rows, urgent: np.ndarray, known: np.ndarray, viral: np.ndarray, day: int) -> None:
        """A platform's reports of the day, with their urgent, known-hash and viral flags, join the queue (viral
        copies are bundled if bundling is on)."""
        store = self.store
        self._urgent += int(np.count_nonzero(urgent))
        if self.spec.bundling and viral.any():
            bundled = rows.compress(viral)
            self._bundled += len(bundled)
            self._end_informational(bundled)
            kept = ~viral
            rows, urgent, known = rows.compress(kept), urgent.compress(kept), known.compress(kept)
        store.triage_cost[rows] = self.cost[(known & ~urgent).view(np.uint8)]
        enqueue(self.queue, self.spec.triage_policy, store, rows, day, urgent=urgent)

    def step(self, day: int) -> None:
        """Triage within today's analyst time; informational reports end, referrals go to their agencies.

        Reports the analysts have not reached within the backlog limit are passed on unreviewed first (the
        same way: referrals to their agencies), so the queue stays bounded when the analysts cannot keep up.
        """
        self.bundled_today, self.urgent_today, self._bundled, self._urgent = self._bundled, self._urgent, 0, 0
        unreviewed = self.queue.drop_entered_before(day - self.spec.backlog_limit_days)
        if len(unreviewed):
            self.outcomes.unreviewed += int(np.count_nonzero(self.store.counted[unreviewed]))
            self._pass_on(unreviewed, day)
        demote_expired(self.queue, self.spec.triage_policy, day)
        self.credit += self.budget
        rows, used = self.queue.pop_budget(self.store.triage_cost, self.credit)
        self.used_today = used
        self.credit = self.credit - used if len(self.queue) else 0.0
        self._pass_on(rows, day)

    def _pass_on(self, rows: Rows, day: int) -> None:
        """Informational reports end; referrals go into their agencies' inbox (urgent ones today)."""
        store, out = self.store, self.outcomes
        referral = store.quality[rows] < 1
        self._end_informational(rows.compress(~referral))
        referred = rows.compress(referral)
        counted = referred.compress(store.counted[referred])
        out.referred += route_counts(self.casework.routes(counted))
        urgent = store.urgent[referred]
        self.casework.inbox.schedule(referred.compress(urgent), day)
        self.casework.inbox.schedule(referred.compress(~urgent), day + self.spec.referral_delay_days)

    def _end_informational(self, rows: Rows) -> None:
        """Reports that go no further (no usable data, or bundled viral copies): counted, then freed."""
        n = int(np.count_nonzero(self.store.counted[rows]))
        self.outcomes.informational += n
        self.outcomes.decided_other(n)
        self.store.release(rows)


class ForensicLab(StageAgent):
    """The digital-forensic lab: examines arrest-bound cases in arrival order within its daily capacity,
    then the arrest follows after its delay."""

    def __init__(self, model: mesa.Model, scenario: Scenario, store: ReportStore) -> None:
        super().__init__(model)
        ds = scenario.downstream
        self.exams_per_day, self.exams_per_case = ds.forensic_exams_per_day, ds.exams_per_case
        self.store = store
        self.queue = ExamQueue()
        self.to_arrest: dict[int, list[int]] = {}   # due day -> rows, in the order they were examined
        self.credit = 0.0
        self.arrests_today = 0

    def receive(self, rows: Rows, day: int) -> None:
        self.queue.push(rows, day)

    def step(self, day: int) -> None:
        self.credit += self.exams_per_day
        if len(self.queue):
            rows = self.queue.pop(int(self.credit // self.exams_per_case))
            for row, due in zip(rows.tolist(), (day + self.store.arrest_days[rows].astype(np.int64)).tolist(), strict=True):
                self.to_arrest.setdefault(due, []).append(row)   # due today at the earliest
            self.credit -= len(rows) * self.exams_per_case
        if not len(self.queue):
            self.credit = 0.0   # unused exam time is not saved up
        arrested = self.to_arrest.pop(day, [])
        self.arrests_today = len(arrested)
        if arrested:
            self.store.release(np.array(arrested, np.int64))


class ExamQueue:
    """The lab's cases waiting for an examination, first in first out (a few a day: plain Python is the fastest)."""

    def __init__(self) -> None:
        self._rows: deque[int] = deque()

    def __len__(self) -> int:
        return len(self._rows)

    def push(self, rows: Rows, day: int) -> None:
        """Cases arriving on `day`, in order."""
        self._rows.extend(rows.tolist())

    def pop(self, n: int) -> Rows:
        """The `n` (or all, if fewer) cases waiting longest."""
        popleft = self._rows.popleft
        return np.array([popleft() for _ in range(min(n, len(self._rows)))], np.int64)
