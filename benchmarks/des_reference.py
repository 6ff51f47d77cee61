"""A conventional discrete-event reference of the simplified CyberTipline pipeline: SimPy, one process per report.

DESIGN §8 names this the baseline the agent-based model must beat; ``benchmarks/des_vs_abm.py`` runs both
on the same parameters and checks that they agree. The simplified pipeline::

    platform --arrivals--> NCMEC triage --referral delay--> agency intake --lognormal delay--> legal process served
                           (daily budget)                   (daily budget)                     lost iff after the deadline

Every report needs legal process, costs one unit of analyst and one of investigator time, and goes to
one agency. The semantics follow ``model.RetentionModel`` on that scenario exactly (times in days):

* **arrivals**: day d is the time interval [d-1, d). Reports arrive one at a time with exponential
  inter-arrival times at the day's mean rate (reports/day), so each day's count is Poisson, as in the ABM.
* **triage** runs at the end of day d (t = d). The analysts' credit grows by their daily budget
  (reports/day); they take waiting reports first come, first served, one per whole unit of credit. The
  leftover credit carries to the next day only while reports still wait; otherwise it lapses.
* a triaged report reaches the agency ``referral_delay_days`` later, at t = d + delay;
* **agency intake** of day d runs at t = d + 0.5 (after every referral due that day), with the
  investigators' daily capacity (cases/day) and the same credit rule;
* **legal process** is served ``ceil(lognormal(median, sigma))`` days after the intake day; the evidence is
  lost iff that day is after ``created + window_days``.

Counted reports are those created after the warm-up. At the end of the run a counted report is *served*
(legal process served by its deadline), *lost* (its deadline passed unserved: served late, or still in the
pipeline) or *pending* (deadline after the last day); the lost rate is lost / (lost + served), as in the ABM.

Capacity is a daily budget of staff time, not SimPy ``Resource`` servers (which model continuous-time
service), because that is what the ABM simulates; waiting reports are SimPy events in a FIFO queue.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy


@dataclass(frozen=True)
class Pipeline:
    """Parameters of the simplified pipeline, shared by the DES and the ABM in the benchmark.

    Staff capacities are given as loads: the base arrival rate divided by the daily budget. At a stable
    load the Poisson noise of a day's arrivals is tiny next to the daily budget, so queues stay below a
    day's work; the surge (load above 1 for a while) builds backlogs of days to weeks, so queues matter.
    """

    reports_per_day: float = 2000.0    # mean reports filed per day outside the surge
    days: int = 365                    # simulated days, warm-up included
    warmup_days: int = 30              # reports created on or before this day are not counted
    window_days: int = 90              # preservation window after the report day (days)
    ncmec_load: float = 0.85           # base arrivals / analysts' daily budget
    agency_load: float = 0.9           # base arrivals / investigators' daily capacity
    referral_delay_days: int = 1       # triage -> agency queue (days)
    process_median_days: float = 30.0  # intake -> legal process served: lognormal median (days), rounded up
    process_sigma: float = 1.0         # its lognormal sigma (log-days)
    surge_start_day: int = 120         # first day of the volume surge
    surge_days: int = 60               # its length (days); 0 for no surge
    surge_multiplier: float = 1.4      # volume multiplier during the surge

    @property
    def ncmec_per_day(self) -> float:
        """Analysts' daily budget (reports/day)."""
        return self.reports_per_day / self.ncmec_load

    @property
    def agency_per_day(self) -> float:
        """Investigators' daily capacity (cases/day)."""
        return self.reports_per_day / self.agency_load

    def rate(self, day: int) -> float:
        """Mean reports filed on `day` (reports/day)."""
        surging = self.surge_days and self.surge_start_day <= day < self.surge_start_day + self.surge_days
        return self.reports_per_day * (self.surge_multiplier if surging else 1.0)


class DailyBudget:
    """A stage whose staff have a daily budget of reports; waiting reports are served first come, first served.

    :meth:`open` (once a day) adds ``per_day`` to the credit and releases one waiting report per whole unit
    of credit. Leftover credit carries over only while reports still wait; otherwise unused time lapses.
    """

    def __init__(self, env: simpy.Environment, per_day: float) -> None:
        self.env = env
        self.per_day = per_day
        self.credit = 0.0
        self.waiting: deque[simpy.Event] = deque()

    def request(self) -> simpy.Event:
        """An event that fires when the report is taken on."""
        event = self.env.event()
        self.waiting.append(event)
        return event

    def open(self) -> int:
        """Today's work: release as many waiting reports as the credit allows; return how many."""
        self.credit += self.per_day
        k = min(len(self.waiting), int(self.credit))
        for _ in range(k):
            self.waiting.popleft().succeed()
        self.credit = self.credit - k if self.waiting else 0.0
        return k


class DesModel:
    """The simplified pipeline as a SimPy model: one process per report, two daily-budget stages."""

    def __init__(self, pipeline: Pipeline, seed: int) -> None:
        self.p = pipeline
        self.env = simpy.Environment()
        self.rng = random.Random(seed)
        self.ncmec = DailyBudget(self.env, pipeline.ncmec_per_day)
        self.agency = DailyBudget(self.env, pipeline.agency_per_day)
        self.mu = math.log(pipeline.process_median_days)
        self.reports = 0           # reports filed (all, warm-up included)
        self.served = 0            # counted reports served by their deadline
        self.lost = 0              # counted reports served after their deadline
        self.in_flight = 0         # report processes alive
        self.peak_in_flight = 0    # largest in_flight seen at a day's end
        self.unserved: Counter[int] = Counter()  # counted reports not yet served, by deadline day
        self.env.process(self.arrivals())
        self.env.process(self.shifts())

    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        """Start one report process per arrival; exponential inter-arrival times (days) at the day's rate."""
        env, rng = self.env, self.rng
        for day in range(1, self.p.days + 1):
            rate = self.p.rate(day)
            t = env.now + rng.expovariate(rate)  # the clock restarts at each day (memoryless)
            while t < day:
                yield env.timeout(t - env.now)
                env.process(self.report(day))
                t += rng.expovariate(rate)
            yield env.timeout(day - env.now)

    def shifts(self) -> Generator[simpy.Event, Any, None]:
        """Each day: triage at its end (t = d), agency intake half a day later (t = d + 0.5)."""
        env = self.env
        for day in range(1, self.p.days + 1):
            yield env.timeout(day - env.now)
            self.ncmec.open()
            yield env.timeout(0.5)
            self.agency.open()
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def report(self, created: int) -> Generator[simpy.Event, Any, None]:
        """One report's life: triage, referral, investigation, legal process, deadline check."""
        p, env = self.p, self.env
        deadline = created + p.window_days
        counted = created > p.warmup_days
        self.reports += 1
        self.in_flight += 1
        if counted:
            self.unserved[deadline] += 1
        yield self.ncmec.request()
        if p.referral_delay_days:
            yield env.timeout(p.referral_delay_days)
        yield self.agency.request()
        intake = int(env.now)  # intake runs at t = day + 0.5
        process_days = math.ceil(self.rng.lognormvariate(self.mu, p.process_sigma))
        yield env.timeout(process_days)
        self.in_flight -= 1
        if counted:
            self.unserved[deadline] -= 1
            if intake + process_days <= deadline:
                self.served += 1
            else:
                self.lost += 1

    def run(self) -> dict[str, Any]:
        """Run every day; return the counts, the lost rate and the wall time (seconds)."""
        start = time.perf_counter()
        self.env.run(until=self.p.days + 0.75)  # the last day's intake and service are at t = days + 0.5
        wall = time.perf_counter() - start
        expired = sum(n for deadline, n in self.unserved.items() if deadline <= self.p.days)
        lost = self.lost + expired
        return {"reports": self.reports, "served": self.served, "lost": lost,
                "pending": sum(self.unserved.values()) - expired,
                "lost_rate": lost / (lost + self.served) if lost + self.served else None,
                "peak_in_flight": self.peak_in_flight, "wall_seconds": wall}


def run_des(pipeline: Pipeline, seed: int) -> dict[str, Any]:
    """Build and run the DES; wall and CPU times (seconds) include construction."""
    start, cpu = time.perf_counter(), time.process_time()
    result = DesModel(pipeline, seed).run()
    result["wall_seconds"] = time.perf_counter() - start
    result["cpu_seconds"] = time.process_time() - cpu
    return result
