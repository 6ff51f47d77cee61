"""A conventional discrete-event reference of the simplified CyberTipline pipeline: SimPy, one process per report.

DESIGN §8 names this the baseline the agent-based model must beat; ``benchmarks/des_vs_abm.py`` runs both
on the same parameters and checks that they agree. It is written independently of the model (nothing
is imported from ``model``): the only shared thing is the specification below. The simplified pipeline::

    platform --Poisson--> NCMEC triage --referral delay--> agency: review --> drafting --approval wait--> served
                          (R reports/day, FIFO)            (H investigator hours/day,      lognormal      lost iff after
                                                           opened cases before referrals)  days           the deadline

Every report is an actionable US referral that needs legal process on the platform (no urgent, viral,
known-hash, informational, foreign or unknown-location reports; no Wilson warrant, no identification
subpoenas, no 2703(f) letters; every case takes exactly its nominal hours). Times are in days; day d is
the interval [d-1, d).

* **Arrivals**: exponential inter-arrival times at the day's mean rate (``reports_per_day``, times
  ``surge_multiplier`` on days ``surge_start_day`` .. ``surge_start_day + surge_days - 1``), so each
  day's count is Poisson. A report arriving in [d-1, d) is *created* on day d; its preservation
  deadline is ``created + window_days`` (legal process served on the deadline day is in time).
* **Triage** runs at the end of day d (t = d), so a report can be triaged the day it is filed. The
  analysts' credit grows by ``R`` reports; they take waiting reports first come, first served, one per
  whole unit of credit. Leftover credit carries to the next day only while reports still wait.
* A triaged report reaches the agency ``referral_delay_days`` later (t = d + delay; the same day if 0).
* **The agency's day** runs at t = d + 0.5, after every referral due that day. Its credit grows by
  ``H`` investigator hours and is spent on one queue in order: cases already reviewed (drafting, first
  in, first out by review) before referrals waiting for review (first in, first out by arrival). An item
  is done on the day the cumulative hours reach it (a prefix of the queue is worked, no item is started
  out of order); leftover hours carry to the next day only while work is still waiting, otherwise they
  lapse. A review costs ``review_hours``; the review done today queues the drafting step
  (``drafting_hours``), which can be worked from the next day.
* **Approval**: drafted legal process waits ``ceil(approval_median_days * exp(approval_sigma * Z))``
  whole days (Z standard normal; 0 if the median is 0) and is served on ``drafting day + wait``.
* **Outcome**: served in time iff the service day is on or before the deadline, else evidence lost.
  Reports keep their place in every queue after their deadline has passed (FIFO does not skip them).

Cohort accounting: counted reports are those created after ``warmup_days`` up to ``days``; each is
followed to its outcome, never censored. A counted report's outcome is fixed when its approval wait is
drawn (its service day is then known) or at the end of its deadline day if it is still waiting. After
``days`` the run goes on, with new uncounted reports keeping the load real, until every counted report's
outcome is fixed (or ``drain_max_days`` pass). lost rate = lost / (lost + served).

Mapping onto the ABM (``model.RetentionModel``; ``benchmarks/des_vs_abm.py`` builds the scenario): one
platform with automated, urgent, viral and known-content shares 0, quality_share 1, quality_signal 0,
us_share 1, unknown_location_share 0, actionable_share 1; retention ``window_days``, no voluntary
retention, preservation_request_share 0; a ``demand.surges`` entry with viral_share 0; NCMEC with one
analyst of ``R`` reports a day, triage_policy fifo; law enforcement with legal_process_share 1,
identification_share 0, wilson_share 0, work_sigma 0, follow_up_hours 0, priority_policy fifo,
backlog_limit_days 3650 (nothing is closed), ``review_hours``, ``drafting_hours``,
``approval_median_days``, ``approval_sigma``, and investigators x hours_per_investigator_year / 365 = ``H``
at one ICAC agency (a federal agency with staff_share 0 and a foreign one complete the required kinds).
The ABM's own conventions that this reproduces: within a day, platforms file, NCMEC triages, the agency
takes in the referrals due, works its queue and schedules service; a finished review queues the drafting
step behind today's work; expiries are booked at the end of the deadline day.

Capacity is a daily budget of staff time, not SimPy ``Resource`` servers (which model continuous-time
service), because that is what the ABM simulates; waiting work is SimPy events in FIFO queues. Random
numbers come from one numpy stream per purpose (arrivals, approval waits), drawn a block at a time.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy


@dataclass(frozen=True)
class Pipeline:
    """Parameters of the simplified pipeline, shared by the DES and the ABM in the benchmark.

    Staff capacities are given as loads: the base arrival rate divided by the daily budget (in reports
    for NCMEC, in cases' hours for the agency). At a stable load a day's Poisson noise is small next to
    the budget, so queues stay short; the surge (load above 1 for a while) builds backlogs of days to
    weeks, so queues matter.
    """

    reports_per_day: float = 2000.0    # mean reports filed per day outside the surge
    days: int = 365                    # counted period ends on this day (warm-up included)
    warmup_days: int = 30              # reports created on or before this day are not counted
    window_days: int = 90              # preservation after the report day (days)
    ncmec_load: float = 0.85           # base arrivals / analysts' daily budget (reports)
    agency_load: float = 0.9           # base arrivals x hours per case / investigators' daily hours
    referral_delay_days: int = 1       # triage -> agency queue (days)
    review_hours: float = 1.5          # investigator hours to review a referral and open the case
    drafting_hours: float = 3.0        # investigator hours to draft the legal process
    approval_median_days: float = 30.0  # drafted -> served: lognormal median (days), rounded up
    approval_sigma: float = 1.0        # its lognormal sigma (log-days)
    surge_start_day: int = 120         # first day of the volume surge
    surge_days: int = 60               # its length (days); 0 for no surge
    surge_multiplier: float = 1.4      # volume multiplier during the surge
    drain_max_days: int = 730          # cap on the days run after `days` to decide the counted reports

    @property
    def ncmec_per_day(self) -> float:
        """Analysts' daily budget R (reports/day)."""
        return self.reports_per_day / self.ncmec_load

    @property
    def hours_per_case(self) -> float:
        """Investigator hours of one case: review and drafting."""
        return self.review_hours + self.drafting_hours

    @property
    def agency_hours_per_day(self) -> float:
        """Investigators' daily budget H (hours/day)."""
        return self.reports_per_day / self.agency_load * self.hours_per_case

    def rate(self, day: int) -> float:
        """Mean reports filed on `day` (reports/day)."""
        surging = self.surge_days > 0 and self.surge_start_day <= day < self.surge_start_day + self.surge_days
        return self.reports_per_day * (self.surge_multiplier if surging else 1.0)


class Stream:
    """One purpose's random numbers: a numpy generator, read one value at a time from blocks of draws."""

    def __init__(self, seed: np.random.SeedSequence, draw: Callable[[np.random.Generator, int], np.ndarray],
                 block: int = 16_384) -> None:
        self.rng, self.draw, self.block = np.random.default_rng(seed), draw, block
        self._values: Iterator[float] = iter(())

    def __call__(self) -> float:
        value = next(self._values, None)
        if value is None:
            self._values = iter(self.draw(self.rng, self.block).tolist())
            value = next(self._values)
        return value


class DailyBudget:
    """Staff with a daily budget of time, working FIFO queues in priority order (level 0 first).

    :meth:`request` queues an item of work with its cost and returns an event that fires when it is done.
    :meth:`open` (once a day) adds ``per_day`` to the credit and does the longest prefix of the queues
    whose total cost fits the credit: level by level, first in first out, never skipping an item.
    Leftover credit carries to the next day only while work still waits; otherwise it lapses.
    """

    def __init__(self, env: simpy.Environment, per_day: float, levels: int = 1) -> None:
        self.env = env
        self.per_day = per_day
        self.credit = 0.0
        self.queues: list[deque[tuple[float, simpy.Event]]] = [deque() for _ in range(levels)]

    def __len__(self) -> int:
        return sum(len(q) for q in self.queues)

    def request(self, cost: float, level: int = 0) -> simpy.Event:
        """An event that fires when this item (`cost` units of staff time) is done."""
        event = self.env.event()
        self.queues[level].append((cost, event))
        return event

    def open(self) -> float:
        """Today's work; returns the time used."""
        self.credit += self.per_day
        credit, used = self.credit, 0.0
        waiting = False
        for queue in self.queues:
            while queue and used + queue[0][0] <= credit:
                cost, event = queue.popleft()
                used += cost
                event.succeed()
            if queue:
                waiting = True
                break
        waiting = waiting or any(self.queues)
        self.credit = credit - used if waiting else 0.0
        return used


#: Agency queue levels: cases already reviewed (drafting) before referrals waiting for review.
CASES, REFERRALS = 0, 1


class DesModel:
    """The simplified pipeline as a SimPy model: one process per report, two daily-budget stages."""

    def __init__(self, pipeline: Pipeline, seed: int) -> None:
        self.p = p = pipeline
        self.env = simpy.Environment()
        arrivals, approvals = np.random.SeedSequence(seed).spawn(2)
        self.gap = Stream(arrivals, lambda rng, n: rng.standard_exponential(n))  # inter-arrival times, at rate 1
        self.z = Stream(approvals, lambda rng, n: rng.standard_normal(n))        # approval waits' normals
        self.ncmec = DailyBudget(self.env, p.ncmec_per_day)
        self.agency = DailyBudget(self.env, p.agency_hours_per_day, levels=2)
        self.started = 0            # report processes started (all: warm-up and drain included)
        self.reports = 0            # reports filed on the days simulated so far (all)
        self.counted = 0            # counted reports filed
        self.served = 0             # counted reports whose legal process is served by the deadline
        self.lost = 0               # counted reports whose evidence is lost
        self.in_flight = 0          # report processes alive
        self.peak_in_flight = 0     # largest in_flight at the end of a day
        self.peak_ncmec_backlog = 0   # most reports waiting for triage after a day's triage
        self.peak_agency_backlog = 0  # most referrals waiting for review at the end of a day
        self.open: Counter[int] = Counter()  # counted reports whose outcome is still open, by deadline day
        self.undecided = 0          # their total
        self.days_to_process: Counter[int] = Counter()  # counted reports: service day - created (in time or late)
        self.day = 0                # last day completed
        self.done = self.env.event()
        self.env.process(self.arrivals())
        self.env.process(self.days())

    # --- processes -------------------------------------------------------------------------------

    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        """Start one report process per arrival; exponential inter-arrival times at the day's rate."""
        env, gap = self.env, self.gap
        for day in itertools.count(1):
            rate = self.p.rate(day)
            if rate > 0:
                t = env.now + gap() / rate  # the clock restarts each day (memoryless)
                while t < day:
                    yield env.timeout(t - env.now)
                    env.process(self.report(day))
                    t += gap() / rate
            yield env.timeout(day - env.now)

    def days(self) -> Generator[simpy.Event, Any, None]:
        """The staff's day: triage at its end (t = d), the agency at t = d + 0.5, bookkeeping at t = d + 0.75."""
        env, p = self.env, self.p
        for day in itertools.count(1):
            yield env.timeout(day - env.now)
            self.reports = self.started  # every report of the day has arrived (arrivals are at t < day)
            self.ncmec.open()
            self.peak_ncmec_backlog = max(self.peak_ncmec_backlog, len(self.ncmec))  # before tomorrow's arrivals
            yield env.timeout(0.5)
            self.agency.open()
            yield env.timeout(0.25)
            self.end_of_day(day)
            if day >= p.days and (self.undecided == 0 or day - p.days >= p.drain_max_days):
                self.done.succeed()
                return

    def report(self, created: int) -> Generator[simpy.Event, Any, None]:
        """One report's life: triage, referral, review, drafting, approval, service."""
        p, env = self.p, self.env
        deadline = created + p.window_days
        counted = p.warmup_days < created <= p.days
        self.started += 1
        self.in_flight += 1
        if counted:
            self.counted += 1
            self.open[deadline] += 1
            self.undecided += 1
        yield self.ncmec.request(1.0)
        if p.referral_delay_days:
            yield env.timeout(p.referral_delay_days)
        yield self.agency.request(p.review_hours, REFERRALS)
        yield self.agency.request(p.drafting_hours, CASES)  # queued after today's work: worked from tomorrow
        drafted = int(env.now)                               # the agency works at t = day + 0.5
        wait = self.approval_days()
        if counted:
            self.decide(created, deadline, drafted, drafted + wait)
        yield env.timeout(wait)                              # served at t = drafted + wait + 0.5
        self.in_flight -= 1

    # --- bookkeeping -----------------------------------------------------------------------------

    def approval_days(self) -> int:
        """Whole days (rounded up) from drafted legal process to service."""
        median = self.p.approval_median_days
        return math.ceil(median * math.exp(self.p.approval_sigma * self.z())) if median > 0 else 0

    def decide(self, created: int, deadline: int, drafted: int, service: int) -> None:
        """The service day of a counted report is now known, and so its outcome (unless already lost)."""
        self.days_to_process[service - created] += 1
        if drafted > deadline:  # lost at the end of its deadline day, while it waited
            return
        self.open[deadline] -= 1
        self.undecided -= 1
        if service <= deadline:
            self.served += 1
        else:
            self.lost += 1

    def end_of_day(self, day: int) -> None:
        """Counted reports still open at the end of their deadline day are lost."""
        self.day = day
        expired = self.open.pop(day, 0)
        self.lost += expired
        self.undecided -= expired
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self.peak_agency_backlog = max(self.peak_agency_backlog, len(self.agency.queues[REFERRALS]))

    def quantile(self, q: float) -> int | None:
        """Days from report to service (counted reports whose legal process was drafted): lower q-quantile."""
        total = sum(self.days_to_process.values())
        cumulative = 0
        for days in sorted(self.days_to_process):
            cumulative += self.days_to_process[days]
            if cumulative >= q * total:
                return days
        return None

    def run(self) -> dict[str, Any]:
        """Run until every counted report is decided; return the counts, the lost rate and the wall time (s)."""
        start = time.perf_counter()
        self.env.run(until=self.done)
        wall = time.perf_counter() - start
        return {"reports": self.reports, "counted": self.counted, "served": self.served, "lost": self.lost,
                "undecided": self.undecided,
                "lost_rate": self.lost / (self.lost + self.served) if self.lost + self.served else None,
                "median_days_to_legal_process": self.quantile(0.5), "p90_days_to_legal_process": self.quantile(0.9),
                "drain_days": self.day - self.p.days, "peak_ncmec_backlog": self.peak_ncmec_backlog,
                "peak_agency_backlog": self.peak_agency_backlog, "peak_in_flight": self.peak_in_flight,
                "wall_seconds": wall}


def run_des(pipeline: Pipeline, seed: int) -> dict[str, Any]:
    """Build and run the DES; wall and CPU times (seconds) include construction.

    Keys: reports (all filed), counted, served, lost, undecided, lost_rate, median and p90 days to legal
    process, drain_days, peak NCMEC and agency (review) backlogs, peak_in_flight, wall_seconds, cpu_seconds.
    """
    start, cpu = time.perf_counter(), time.process_time()
    result = DesModel(pipeline, seed).run()
    result["wall_seconds"] = time.perf_counter() - start
    result["cpu_seconds"] = time.process_time() - cpu
    return result
