"""RetentionModel: the CyberTipline pipeline as a Mesa model, one step per day (DESIGN §2).

Each day the stages act in :data:`PIPELINE` order, each on its own queue:

1. every **Platform** files its reports (new rows, handed to NCMEC);
2. **NCMEC** triages within its analysts' time: informational reports end, referrals go to agencies;
3. every **Agency** takes in referrals, signed warrants and platforms' answers, closes referrals
   nobody picked up in time, spends its investigators' hours, and serves approved legal process;
4. the **ForensicLab** examines arrest-bound cases; arrests follow.

Then reports whose preservation deadline was today, still undecided, are lost where they wait, and
the DataCollector records the day. After ``run.days`` the model drains: it keeps running (new,
uncounted reports keep the load real) until every counted report is decided or the drain cap is hit.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from model.agency import Agency
from model.agents import ForensicLab, Ncmec, Platform, Routing
from model.cases import CaseRules, Step
from model.casework import Casework
from model.collector import DailyCollector
from model.errors import BadInput
from model.outcomes import US, Outcomes
from model.params import Scenario
from model.reports import ReportStore
from model.settling import GROWTH, GROWTH_QUEUE, LongestWaits, wait_growth

#: The stages, in the order they act each day. A new stage is one agent class, one schema section
#: and one entry here.
PIPELINE: tuple[type[mesa.Agent], ...] = (Platform, Ncmec, Agency, ForensicLab)

#: Daily time-series columns (``model.timeseries()``, collected by DailyCollector), with their meaning.
DAILY_SERIES: dict[str, str] = {
    "day": "model day",
    "reports_filed": "reports filed today (all reports: warm-up and drain included)",
    "urgent_filed": "urgent reports filed today (all)",
    "bundled_today": "viral copies NCMEC bundled on receipt today (all; 0 without bundling)",
    "ncmec_backlog": "reports waiting for an NCMEC analyst",
    "ncmec_mean_wait_days": "mean days the waiting reports have waited at NCMEC",
    "agency_backlog": "referrals waiting for an investigator's first review (all agencies)",
    "agency_mean_wait_days": "mean days the work waiting at agencies has waited since it was queued",
    "cases_in_progress": "opened cases waiting for investigator work or a judge (all agencies)",
    "in_legal_process": "legal process approved or on its way (MLAT, emergency request), not yet served",
    "forensic_backlog": "arrest-bound cases waiting for a forensic exam",
    "analyst_utilisation": "share of the analysts' time used today",
    "investigator_utilisation": "share of US investigators' hours used today",
    "served_today": "counted reports whose legal process was served in time today",
    "lost_today": "counted reports whose evidence was lost today",
    "served_us_today": "of which US cases",
    "lost_us_today": "of which US cases",
    "closed_unworked_today": "counted referrals closed unworked today",
    "legal_process_served": "cumulative: counted reports served in time",
    "evidence_lost": "cumulative: counted reports whose evidence was lost",
    "legal_process_served_us": "cumulative: counted US cases served in time",
    "evidence_lost_us": "cumulative: counted US cases whose evidence was lost",
    "legal_process_served_decided": "cumulative: counted reports served in time, or whose legal process is scheduled "
                                    "to arrive in time (at the run's end, the summary's legal_process_served)",
    "evidence_lost_decided": "cumulative: counted reports lost, or whose legal process is scheduled to arrive after "
                             "the deadline (at the run's end, the summary's evidence_lost)",
    "legal_process_served_us_decided": "of which US cases (at the run's end, the summary's legal_process_served_us)",
    "evidence_lost_us_decided": "of which US cases (at the run's end, the summary's evidence_lost_us)",
    "closed_unworked": "cumulative: counted referrals closed unworked",
    "arrests": "cumulative: arrests made on counted days",
    "investigations_us_today": "actionable US referrals reviewed today (all)",
    "arrests_today": "arrests made today (all)",
}
#: Series that are not whole numbers.
FRACTIONAL_SERIES = {"ncmec_mean_wait_days", "agency_mean_wait_days", "analyst_utilisation", "investigator_utilisation"}
#: The engines (RetentionModel's `engine`): the compiled desk, or the numpy reference. Same results.
ENGINES = ("compiled", "numpy")
if os.environ.get("TIPLINE_ENGINE") != "numpy":
    # numba's import and start-up (about a second) when the model is imported, not in the first model's run; with
    # TIPLINE_ENGINE=numpy numba is never loaded (about 130 MB less memory).
    from model.engine import casework as _compiled  # noqa: F401
#: Initial report-store rows per expected daily report (the store grows if needed).
STORE_DAYS = 4


def scenario_from(scenario: Scenario | str | Path | None, overrides: dict[str, Any] | None = None) -> Scenario:
    """A scenario object, a shipped name or a path, with dotted overrides (``{"retention.window_days": 365}``)."""
    if isinstance(scenario, Scenario) and not overrides:
        return scenario
    from model.scenarios import load_scenario, scenario_with, toml_value

    texts = [f"{key}={toml_value(value)}" for key, value in (overrides or {}).items()]
    if isinstance(scenario, Scenario):
        return scenario_with(scenario, texts)
    return load_scenario(scenario, texts)


class RetentionModel(mesa.Model):
    """The whole pipeline for one scenario. ``RetentionModel()`` runs the built-in defaults.

    Args:
        scenario: a :class:`~model.params.Scenario`, the name of a shipped scenario or a TOML path
            (default: the built-in defaults).
        rng: root seed; ``None`` uses the scenario's ``run.seed``.
        engine: ``"compiled"`` (the agencies' day as numba kernels, :mod:`model.engine`) or ``"numpy"`` (the
            reference); same results. ``None``: the ``TIPLINE_ENGINE`` environment variable, else compiled.
        draw_ahead: on the compiled engine, draw each platform's next day in a background thread while the day runs
            (:mod:`model.engine.ahead`); same results. ``None``: the ``TIPLINE_DRAW_AHEAD`` environment variable
            (0 or 1), else for platforms filing at least 5,000 reports a day when the process may use two CPUs.
        daily_series: record the daily series (``timeseries()``, the dashboard's charts). A sweep's runs, which keep
            only the summary, turn it off: recording is about a fifteenth of an ``x_platform`` run's time.
        **overrides: dotted scenario keys, e.g. ``RetentionModel("x_platform", **{"retention.window_days": 365})``.
    """

    def __init__(self, scenario: Scenario | str | Path | None = None, rng: int | None = None,
                 engine: str | None = None, draw_ahead: bool | None = None, daily_series: bool = True,
                 **overrides: Any) -> None:
        params = scenario_from(scenario, overrides)
        self.engine = engine_name(engine)
        self.draw_ahead = draw_ahead
        seed = params.run.seed if rng is None else int(rng)
        arrivals, attributes, cases, mesa_stream = np.random.SeedSequence(seed).spawn(4)
        super().__init__(rng=int(mesa_stream.generate_state(1)[0]))
        self.params = params
        self.seed = seed
        self.day = 0
        run = params.run
        daily = sum(p.reports_per_day for p in params.platforms) * params.demand.scale
        self.store = ReportStore(capacity=int(min(max(daily * STORE_DAYS, 1024), 50_000_000)))
        self.outcomes = Outcomes(horizon=run.days + run.drain_max_days + _longest_hold(params) + 1,
                                 n_platforms=len(params.platforms), split_day=split_day(run.warmup_days, run.days))
        rules = CaseRules.from_scenario(params)
        self.lab = ForensicLab(self, params, self.store)
        platform, desk, triage = stage_classes(self.engine)
        self.casework = desk(params, self.store, self.outcomes, self.lab)
        police = params.law_enforcement
        staff = {"foreign": params.foreign.investigators}
        self.agencies = [Agency(self, spec, i, spec.staff_share * staff.get(spec.kind, police.investigators),
                                police.hours_per_investigator_year, self.casework.queue, self.casework.step)
                         for i, spec in enumerate(params.agencies)]
        self.casework.attach(self.agencies)
        self.ncmec = triage(self, params.ncmec, self.store, self.outcomes, self.casework)
        n = len(params.platforms)
        streams = zip(arrivals.spawn(n), attributes.spawn(n), cases.spawn(n), strict=True)
        self.platforms = [platform(self, spec, i, seeds, params, Routing(spec, self.agencies), rules, self.store,
                                   self.outcomes, self.ncmec) for i, (spec, seeds) in enumerate(zip(params.platforms,
                                                                                                     streams, strict=True))]
        self.us_agencies = [a for a in self.agencies if a.route == US]
        #: Each stage of PIPELINE and its agents (a stage's agents may be of a subclass: the compiled engine's).
        self.stages = [(stage, self.agents.select(agent_type=stage)) for stage in PIPELINE]
        self.today: dict[str, float] = dict.fromkeys(DAILY_SERIES, 0.0)
        self._tally = self.outcomes.tally()   # the counted reports' totals at the last record
        self.datacollector = DailyCollector(
            DAILY_SERIES, set(DAILY_SERIES) - FRACTIONAL_SERIES,
            agenttype_reporters={Agency: {"backlog": "backlog", "utilisation": "utilisation"},
                                 Platform: {"filed": "filed_today", "automated": "automated_today"}},
            kept=daily_series)
        self.daily_series = daily_series
        if daily_series:
            self.datacollector.collect(self)
        #: The longest waits (:meth:`longest_waits`) at the end of the warm-up and of the counted period.
        self.waits_at_warmup = self.longest_waits() if run.warmup_days == 0 else None
        self.waits_at_end: LongestWaits | None = None
        self.running = True

    # --- the day -----------------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one day: every stage in PIPELINE order, then the day's expiries and the record."""
        self.day += 1
        day = self.day
        out = self.outcomes
        for stage, agents in self.stages:
            stage.act(agents, day)
        self.casework.end_of_day(day)
        run = self.params.run
        if run.warmup_days < day <= run.days:
            out.arrests += self.lab.arrests_today
            out.investigations_us += self.casework.investigations_us_today
        if self.daily_series:
            self._record(day)
        if day == run.warmup_days:
            self.waits_at_warmup = self.longest_waits()
        if day == run.days:
            self.waits_at_end = self.longest_waits()
        self.running = not (day >= run.days and (out.undecided == 0 or self.drain_days >= run.drain_max_days))

    @property
    def drain_days(self) -> int:
        """Days simulated after ``run.days`` to decide the counted reports."""
        return max(0, self.day - self.params.run.days)

    def _record(self, day: int) -> None:
        today = self.today
        queue = self.casework.queue
        reviews = sum(a.reviews_waiting for a in self.agencies)
        hours = sum(a.hours_per_day for a in self.us_agencies)
        was, now = self._tally, self.outcomes.tally()
        self._tally = now
        today.update(
            day=day,
            reports_filed=sum(p.filed_today for p in self.platforms),
            urgent_filed=self.ncmec.urgent_today,
            bundled_today=self.ncmec.bundled_today,
            ncmec_backlog=len(self.ncmec.queue),
            ncmec_mean_wait_days=self.ncmec.queue.mean_wait(day),
            agency_backlog=reviews,
            agency_mean_wait_days=queue.mean_wait(day),
            cases_in_progress=len(queue) - reviews,
            in_legal_process=len(self.casework.service),
            forensic_backlog=len(self.lab.queue),
            analyst_utilisation=self.ncmec.utilisation,
            investigator_utilisation=sum(a.used_today for a in self.us_agencies) / hours if hours else 0.0,
            served_today=now.served - was.served,
            lost_today=now.lost - was.lost,
            served_us_today=now.served_us - was.served_us,
            lost_us_today=now.lost_us - was.lost_us,
            closed_unworked_today=now.closed_unworked - was.closed_unworked,
            legal_process_served=now.served,
            evidence_lost=now.lost,
            legal_process_served_us=now.served_us,
            evidence_lost_us=now.lost_us,
            legal_process_served_decided=now.served_decided,
            evidence_lost_decided=now.lost_decided,
            legal_process_served_us_decided=now.served_us_decided,
            evidence_lost_us_decided=now.lost_us_decided,
            closed_unworked=now.closed_unworked,
            arrests=self.outcomes.arrests,
            investigations_us_today=self.casework.investigations_us_today,
            arrests_today=self.lab.arrests_today,
        )
        self.datacollector.collect(self)

    def longest_waits(self) -> LongestWaits:
        """Days waited by the report waiting longest for NCMEC's analysts, and by the referral waiting longest for its
        first review at each US agency (the settling check's queues)."""
        waits = {"NCMEC": self.ncmec.longest_wait(self.day)}
        waits.update((a.spec.name, a.longest_review_wait(self.day)) for a in self.us_agencies)
        return waits

    # --- results -----------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The run's outcome keys (DESIGN §6), US first, without ``wall_seconds``.

        Legal process already scheduled counts with its known outcome (served in time or not): once a case
        leaves the investigators' hands, its service day is fixed.
        """
        waiting = self.waiting_cases()
        self.outcomes.censor(self.casework.routes(waiting), self.day - self.store.created[waiting].astype(np.int64))
        growth = (wait_growth(self.waits_at_warmup, self.waits_at_end) if self.waits_at_end is not None
                  else {GROWTH: None, GROWTH_QUEUE: None})
        return {"scenario": self.params.name, "seed": self.seed, "days": self.params.run.days,
                "drain_days": self.drain_days, **self.outcomes.summary(self.day), **growth}

    def waiting_cases(self) -> np.ndarray:
        """Counted cases needing legal process that still wait for NCMEC, investigators or a judge (a scan of rows)."""
        store = self.store

        def waiting(rows: np.ndarray) -> np.ndarray:
            rows = rows[store.counted[rows] & store.actionable[rows] & (store.step[rows] != Step.FOLLOW_UP)]
            return rows[store.needs_process[rows]]

        # A chunk of rows at a time: an overloaded NCMEC queues millions of reports, and copying and masking them all
        # at once would raise the run's peak memory by a tenth.
        chunks = itertools.chain(self.ncmec.queue.row_chunks(), self.casework.queue.row_chunks(), [self.casework.inbox.rows])
        return np.concatenate([waiting(rows) for rows in chunks])

    def flows(self) -> list[tuple[str, str, int]]:
        """The counted reports' paths (from, to, reports), for a Sankey diagram."""
        return self.outcomes.flows([p.spec.name for p in self.platforms], self.day)

    def timeseries(self) -> pd.DataFrame:
        """The daily series (pandas), one row per day from day 0; columns as in DAILY_SERIES (an error if the model
        was built with ``daily_series=False``)."""
        return self.datacollector.get_model_vars_dataframe()


def engine_name(engine: str | None) -> str:
    """The engine to run: `engine`, else the ``TIPLINE_ENGINE`` environment variable, else ``"compiled"``."""
    name = engine or os.environ.get("TIPLINE_ENGINE") or "compiled"
    if name not in ENGINES:
        source = "engine=" if engine else "environment variable TIPLINE_ENGINE"
        raise BadInput(f"{source}: unknown engine {name!r}; allowed: {', '.join(ENGINES)}")
    return name


def stage_classes(engine: str) -> tuple[type, type, type]:
    """The platforms', the agencies' desk's and NCMEC's classes of an engine."""
    if engine == "numpy":
        return Platform, Casework, Ncmec
    from model.engine.casework import CompiledCasework
    from model.engine.ncmec import CompiledNcmec
    from model.engine.platform import CompiledPlatform

    return CompiledPlatform, CompiledCasework, CompiledNcmec


def split_day(warmup_days: int, days: int) -> int:
    """The last creation day of the counted period's first half (the settling check compares the two halves)."""
    return warmup_days + (days - warmup_days + 1) // 2


def _longest_hold(params: Scenario) -> int:
    """Days after the last counted day or drain day that a deadline can fall."""
    retention = params.retention
    platform_extra = max(p.voluntary_retention_days for p in params.platforms)
    return max(retention.window_days + retention.voluntary_extra_days + platform_extra,
               retention.preservation_extension_days * (1 + retention.preservation_max_extensions))


def run(scenario: Scenario | str | Path | None = None, seed: int | None = None,
        on_day: Callable[[RetentionModel], None] | None = None,
        daily_series: bool = True) -> tuple[RetentionModel, dict[str, Any]]:
    """Build a model, run it until every counted report is decided; return it and its summary.

    The summary has ``wall_seconds`` (construction and run). `on_day` is called after each day (for
    progress bars). Without `daily_series`, the model keeps no daily series (the summary is the same).
    """
    start = time.perf_counter()
    model = RetentionModel(scenario, rng=seed, daily_series=daily_series)
    while model.running:
        model.step()
        if on_day is not None:
            on_day(model)
    summary = model.summary()
    summary["wall_seconds"] = round(time.perf_counter() - start, 3)
    return model, summary
