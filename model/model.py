"""RetentionModel: the CyberTipline pipeline as a Mesa model, one step per day (DESIGN §2).

Each day, in order:

1. every platform files its reports (new rows; viral copies are bundled on receipt if bundling is on);
2. NCMEC analysts triage the shared queue within their daily time budget: informational reports
   end, referrals go to an agency after the referral delay (urgent ones the same day);
3. referrals due today join their agency's queue;
4. each agency's investigators take on cases within capacity: non-actionable ones are closed,
   a 2703(f) preservation request may extend the deadline, legal process starts;
5. legal process due today is served on the platform: in time or too late; ISP logs checked;
6. cases bound for arrest wait for the forensic lab, then the arrest delay;
7. reports whose preservation deadline is today and still unserved are lost;
8. the DataCollector records the day.
"""

from __future__ import annotations

import time
from typing import Any

import mesa
import numpy as np

from model.agents import Agency, Analyst, Platform, lognormal_days, priority_keys
from model.collector import DailyCollector
from model.outcomes import FOREIGN, US, Outcomes
from model.params import Scenario
from model.reports import Calendar, PriorityQueue, ReportStore, Rows, stable_order

EMERGENCY = 3  # legal-process path index of urgent cases (after US=0, MLAT=1, CLOUD Act=2)

#: Daily time-series columns (``model.timeseries()``, collected by DailyCollector), with their meaning.
DAILY_SERIES: dict[str, str] = {
    "day": "model day",
    "reports_filed": "reports filed today (all, warm-up included)",
    "urgent_filed": "urgent reports filed today (all)",
    "bundled_today": "viral copies NCMEC bundled on receipt today (all; 0 without bundling)",
    "ncmec_backlog": "reports waiting for an NCMEC analyst",
    "ncmec_mean_wait_days": "mean days the waiting reports have waited at NCMEC",
    "agency_backlog": "referrals waiting for an investigator (all agencies)",
    "agency_mean_wait_days": "mean days the waiting referrals have waited at agencies",
    "in_legal_process": "cases whose legal process is being prepared (warrant, drafting, MLAT)",
    "forensic_backlog": "arrest-bound cases waiting for a forensic exam",
    "analyst_utilisation": "share of the analysts' time used today",
    "investigator_utilisation": "share of US investigators' capacity used today",
    "served_today": "legal process served in time today (counted reports)",
    "lost_today": "counted reports whose evidence was lost today",
    "legal_process_served": "cumulative legal process served in time (counted reports)",
    "evidence_lost": "cumulative counted reports with evidence lost",
    "arrests": "cumulative arrests (counted reports)",
    "investigations_us_today": "actionable US referrals investigators took on today (all)",
    "arrests_today": "arrests made today (all, warm-up reports included)",
}


#: Series that are not whole numbers.
FRACTIONAL_SERIES = {"ncmec_mean_wait_days", "agency_mean_wait_days", "analyst_utilisation", "investigator_utilisation"}
#: Series that count what happened during the day (reset at the start of each step).
DAILY_FLOWS = ("urgent_filed", "bundled_today", "investigations_us_today", "arrests_today")


class RetentionModel(mesa.Model):
    """The whole pipeline for one scenario. ``RetentionModel()`` runs the built-in defaults.

    Args:
        scenario: a validated :class:`~model.params.Scenario` (default: built-in defaults).
        rng: root seed; ``None`` uses ``scenario.run.seed``.
    """

    def __init__(self, scenario: Scenario | None = None, rng: int | None = None) -> None:
        scenario = scenario if scenario is not None else Scenario()
        seed = scenario.run.seed if rng is None else int(rng)
        root = np.random.SeedSequence(seed)
        arrivals, attributes, cases, mesa_stream = root.spawn(4)
        super().__init__(rng=int(mesa_stream.generate_state(1)[0]))
        self.settings = scenario
        self.seed = seed
        self.day = 0
        self.running = scenario.run.days > 0

        self.store = ReportStore(capacity=self._initial_capacity())
        n_platforms = len(scenario.platforms)
        streams = zip(arrivals.spawn(n_platforms), attributes.spawn(n_platforms), cases.spawn(n_platforms),
                      strict=True)
        self.platforms = [Platform(self, spec, i, list(seeds))
                          for i, (spec, seeds) in enumerate(zip(scenario.platforms, streams, strict=True))]
        ncmec = scenario.ncmec
        analysts = Analyst.create_agents(self, ncmec.analysts, reports_per_day=ncmec.reports_per_analyst_day)
        #: Analyst time per day, in novel-report units: the sum of the analysts' daily throughput.
        self.analyst_budget = float(sum(analysts.get("reports_per_day"))) if len(analysts) else 0.0
        self.agencies = [
            Agency(self, spec, i, spec.staff_share * (scenario.foreign.investigators if spec.kind == "foreign"
                                                      else scenario.law_enforcement.investigators))
            for i, spec in enumerate(scenario.agencies)
        ]
        self.agency_route = np.array([a.route for a in self.agencies], np.int64)
        self.agency_is_icac = np.array([a.spec.kind == "icac" for a in self.agencies])
        self._routing = {kind: self._routing_table(kind) for kind in ("icac", "federal", "foreign")}
        self._location_bands = [self._bands(spec) for spec in scenario.platforms]
        le, foreign = scenario.law_enforcement, scenario.foreign
        self._process_share = np.array([le.legal_process_share, foreign.legal_process_share])
        # Legal-process paths (index): US, foreign MLAT, foreign CLOUD Act, emergency.
        self._path_median = np.array([le.legal_process_median_days, foreign.mlat_median_days,
                                      foreign.cloud_act_median_days, le.emergency_median_days])
        self._path_sigma = np.array([le.legal_process_sigma, foreign.mlat_sigma, foreign.mlat_sigma, le.emergency_sigma])
        self._triage_cost = np.array([1.0, scenario.ncmec.known_content_cost], np.float32)
        self._case_cost = np.array([scenario.law_enforcement.screening_cost, 1.0], np.float32)

        self.ncmec_queue = PriorityQueue()
        self.ncmec_credit = 0.0
        self.to_agency = Calendar()
        self.to_service = Calendar()
        self.to_forensics = Calendar()
        self.forensic_queue = PriorityQueue()
        self.forensic_credit = 0.0
        self.to_arrest = Calendar()
        retention = scenario.retention
        longest = max(retention.window_days + retention.voluntary_extra_days,
                      retention.preservation_extension_days * (1 + retention.preservation_max_extensions))
        self.outcomes = Outcomes(horizon=scenario.run.days + longest + 1)
        self.today: dict[str, float] = dict.fromkeys(DAILY_SERIES, 0.0)
        self.datacollector = DailyCollector(
            DAILY_SERIES, set(DAILY_SERIES) - FRACTIONAL_SERIES, scenario.run.days + 1,
            agenttype_reporters={Agency: {"backlog": "backlog", "utilisation": "utilisation"},
                                 Platform: {"filed": "filed_today", "automated": "automated_today"}},
        )
        self.datacollector.collect(self)

    # --- set-up helpers -------------------------------------------------------------------

    def _routing_table(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        members = [a for a in self.agencies if a.spec.kind == kind]
        shares = np.cumsum([a.spec.routing_share for a in members])
        return np.array([a.index for a in members], np.int16), shares / shares[-1]

    def _initial_capacity(self) -> int:
        daily = sum(p.reports_per_day for p in self.settings.platforms) * self.settings.demand.scale
        return int(min(max(daily * 4, 1024), 50_000_000))

    # --- the day -----------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one day."""
        self.day += 1
        day = self.day
        self.today.update(dict.fromkeys(DAILY_FLOWS, 0))
        lost_before, served_before = self.outcomes.evidence_lost, self.outcomes.legal_process_served
        batches = [b for b in (p.file_reports(day) for p in self.platforms) if b is not None]
        if batches:
            self.admit_reports(day, batches)
        self.triage(day)
        self.deliver_referrals(day)
        taken = [agency.take_on(day) for agency in self.agencies]
        self.take_on_cases(np.concatenate(taken), day)
        self.serve_legal_process(day)
        self.forensics(day)
        self.make_arrests(day)
        self.outcomes.expire(day)
        self._record(day, lost_before, served_before)
        self.running = day < self.settings.run.days

    def admit_reports(self, day: int, batches: list[dict[str, np.ndarray]]) -> None:
        """Create rows for the platforms' new reports and put them in the analysts' queue."""
        sc, out = self.settings, self.outcomes
        a = batches[0] if len(batches) == 1 else {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
        counted = day > sc.run.warmup_days
        n = len(a["urgent"])
        self.today["urgent_filed"] = int(a["urgent"].sum())
        self.today["bundled_today"] = int(a["viral"].sum()) if sc.ncmec.bundling else 0
        if counted:
            out.reports += n
        is_case = a["quality"] & a["actionable"]
        if sc.ncmec.bundling:  # viral copies are bundled on receipt: informational, no analyst time
            bundled = a["viral"]
            if counted:
                out.informational += int(bundled.sum())
            keep = ~bundled
            a = {k: (v if k.startswith("case_") else v[keep]) for k, v in a.items()}
            is_case = is_case[keep]
        st = self.store
        rows = st.allocate(len(a["urgent"]))
        st.created[rows] = day
        st.deadline[rows] = day + sc.retention.window_days + sc.retention.voluntary_extra_days
        st.platform[rows] = a["platform"]
        st.agency[rows] = a["agency"]
        st.counted[rows] = counted
        st.urgent[rows] = a["urgent"]
        st.quality[rows] = a["quality"]
        st.actionable[rows] = a["actionable"]
        # Costs by table look-up (index 1 = known content, not urgent / actionable).
        st.triage_cost[rows] = self._triage_cost[(a["known"] & ~a["urgent"]).view(np.uint8)]
        st.case_cost[rows] = self._case_cost[a["actionable"].view(np.uint8)]
        cases = rows[is_case]
        self._write_case_columns(cases, a["automated"][is_case], a)
        if counted:
            need = cases[st.needs_process[cases]]
            out.need_process(self.agency_route[st.agency[need]], st.deadline[need])
        self.ncmec_queue.push(rows, priority_keys(sc.ncmec.triage_policy, st, rows, day))

    def route(self, location: np.ndarray, platform_index: int) -> np.ndarray:
        """Destination agency from the location uniform: US-located to the ICAC regions, unknown
        location to federal agencies, the rest to foreign liaison (each by its routing share)."""
        bounds, agencies = self._location_bands[platform_index]
        band = (location >= bounds[:, None]).sum(axis=0)  # a handful of bands: beats a binary search
        return agencies[band]

    def _bands(self, spec: Any) -> tuple[np.ndarray, np.ndarray]:
        """Upper bounds on the location uniform of each agency's band, for one platform."""
        edges = {"icac": (0.0, spec.us_share), "federal": (spec.us_share, spec.us_share + spec.unknown_location_share),
                 "foreign": (spec.us_share + spec.unknown_location_share, 1.0)}
        bounds, agencies = [], []
        for kind, (low, high) in edges.items():
            members, cumulative = self._routing[kind]
            bounds += list(low + (high - low) * cumulative)
            agencies += list(members)
        bounds[-1] = np.inf  # the last band takes everything up to 1 (and rounding)
        return np.array(bounds[:-1]), np.array(agencies, np.int16)

    def _write_case_columns(self, rows: Rows, automated: np.ndarray, a: dict[str, np.ndarray]) -> None:
        """Legal-process path and delays of actionable referrals, from their case draws.

        Only case rows get these columns; every reader first checks ``actionable``.
        """
        sc, st = self.settings, self.store
        le, ds = sc.law_enforcement, sc.downstream
        route = self.agency_route[st.agency[rows]]
        st.needs_process[rows] = a["case_u_needs_process"] < self._process_share[route]
        st.preservation_request[rows] = a["case_u_preservation"] < sc.retention.preservation_request_share
        st.ip_lead[rows] = a["case_us"] & (a["case_u_ip_lead"] < sc.isp.ip_lead_share)
        st.ip_unattributable[rows] = a["case_u_cgnat"] < sc.isp.cgnat_share
        st.arrest_draw[rows] = a["case_u_arrest"]
        # Path of the legal process: US, foreign MLAT, foreign CLOUD Act, or emergency (urgent).
        path = route * (1 + (a["case_u_cloud_act"] < sc.foreign.cloud_act_share))
        urgent = st.urgent[rows]
        path[urgent] = EMERGENCY
        days = lognormal_days(self._path_median[path], self._path_sigma[path], a["case_z_process"])
        wilson = automated & ~urgent & (route == US) & (a["case_u_wilson"] < le.wilson_share)
        if wilson.any():
            days[wilson] += lognormal_days(le.wilson_warrant_median_days, le.wilson_warrant_sigma,
                                           a["case_z_warrant"][wilson])
        st.process_days[rows] = days
        st.response_days[rows] = a["case_response_days"]
        st.arrest_days[rows] = lognormal_days(ds.arrest_delay_median_days, ds.arrest_delay_sigma, a["case_z_arrest"])

    def triage(self, day: int) -> None:
        """Analysts work the shared queue within today's time budget."""
        self.ncmec_credit += self.analyst_budget
        rows, used = self.ncmec_queue.pop_budget(self.store.triage_cost, self.ncmec_credit)
        self.today["analyst_utilisation"] = used / self.analyst_budget if self.analyst_budget else 0.0
        self.ncmec_credit = self.ncmec_credit - used if len(self.ncmec_queue) else 0.0
        st = self.store
        referral = st.quality[rows]  # bundled viral copies never got a row
        informational = rows[~referral]
        self.outcomes.informational += int(st.counted[informational].sum())
        self.store.release(informational)
        referred = rows[referral]
        counted = referred[st.counted[referred]]
        routes = np.bincount(self.agency_route[st.agency[counted]], minlength=2)
        self.outcomes.referred_us += int(routes[US])
        self.outcomes.referred_foreign += int(routes[FOREIGN])
        urgent = st.urgent[referred]
        self.to_agency.schedule(referred[urgent], day)
        self.to_agency.schedule(referred[~urgent], day + self.settings.ncmec.referral_delay_days)

    def deliver_referrals(self, day: int) -> None:
        """Referrals due today join their agencies' queues (in each agency's priority order)."""
        rows = self.to_agency.pop(day)
        if len(rows) == 0:
            return
        st = self.store
        order = stable_order(st.agency[rows])
        rows = rows[order]
        keys = priority_keys(self.settings.law_enforcement.priority_policy, st, rows, day)
        counts = np.bincount(st.agency[rows], minlength=len(self.agencies)).tolist()
        start = 0
        for agency, count in zip(self.agencies, counts, strict=True):
            if count:
                end = start + count
                agency.receive(rows[start:end], keys if isinstance(keys, int) else keys[start:end])
                start = end

    def take_on_cases(self, rows: Rows, day: int) -> None:
        """Agencies take on referrals: screen out, close without process, or start legal process."""
        st, out = self.store, self.outcomes
        actionable = st.actionable[rows]
        closed = rows[~actionable]
        out.closed_not_actionable += int(st.counted[closed].sum())
        st.release(closed)
        cases = rows[actionable]
        self.today["investigations_us_today"] = int((self.agency_route[st.agency[cases]] == US).sum())
        needs = st.needs_process[cases]
        without = cases[~needs]
        out.investigated_without_legal_process += int(st.counted[without].sum())
        us = self.agency_route[st.agency[without]] == US
        st.release(without[~us])
        self._to_downstream(without[us], np.full(int(us.sum()), day), np.ones(int(us.sum()), bool))
        started = cases[needs]
        self._preserve(started, day)
        self.to_service.schedule(started, day + st.process_days[started])

    def _preserve(self, rows: Rows, day: int) -> None:
        """2703(f) preservation requests sent at intake extend unexpired deadlines."""
        st, retention = self.store, self.settings.retention
        requested = rows[st.preservation_request[rows] & (day <= st.deadline[rows])]
        held_until = day + retention.preservation_extension_days * (1 + retention.preservation_max_extensions)
        extended = requested[st.deadline[requested] < held_until]
        counted = extended[st.counted[extended]]
        self.outcomes.extend(self.agency_route[st.agency[counted]], st.deadline[counted],
                             np.full(len(counted), held_until))
        st.deadline[extended] = held_until

    def serve_legal_process(self, day: int) -> None:
        """Legal process due today reaches the platform; check the deadline and the ISP logs."""
        st, isp = self.store, self.settings.isp
        rows = self.to_service.pop(day)
        if len(rows) == 0:
            return
        route = self.agency_route[st.agency[rows]]
        counted = st.counted[rows]
        created, deadline, response = st.created[rows], st.deadline[rows], st.response_days[rows]
        self.outcomes.serve(day, route[counted], created[counted], deadline[counted])
        in_time = day <= deadline
        log_age = day + response + isp.subpoena_days - created + isp.upload_to_report_days  # at the ISP subpoena
        isp_lost = in_time & st.ip_lead[rows] & (st.ip_unattributable[rows] | (log_age > isp.log_retention_days))
        self.outcomes.isp_logs_lost += int((isp_lost & counted).sum())
        us = route == US
        st.release(rows[~us])
        self._to_downstream(rows[us], day + response[us], (in_time & ~isp_lost)[us])

    def _to_downstream(self, rows: Rows, ready_day: np.ndarray, evidence: np.ndarray) -> None:
        """US cases that will lead to an arrest go on to the forensic lab; the rest end here."""
        ds = self.settings.downstream
        chance = np.where(evidence, ds.arrest_probability, ds.arrest_probability_evidence_lost)
        bound = self.store.arrest_draw[rows] < chance
        self.store.release(rows[~bound])
        self.to_forensics.schedule(rows[bound], ready_day[bound])

    def forensics(self, day: int) -> None:
        """The forensic lab examines arrest-bound cases in arrival order within its daily capacity."""
        arrivals = self.to_forensics.pop(day)
        self.forensic_queue.push(arrivals, day)
        ds = self.settings.downstream
        self.forensic_credit += ds.forensic_exams_per_day
        rows = self.forensic_queue.pop(int(self.forensic_credit // ds.exams_per_case))
        self.forensic_credit = self.forensic_credit - len(rows) * ds.exams_per_case if len(self.forensic_queue) else 0.0
        self.to_arrest.schedule(rows, day + self.store.arrest_days[rows])

    def make_arrests(self, day: int) -> None:
        """Arrests due today."""
        rows = self.to_arrest.pop(day)
        self.today["arrests_today"] = len(rows)
        self.outcomes.arrests += int(self.store.counted[rows].sum())
        self.store.release(rows)

    def _record(self, day: int, lost_before: int, served_before: int) -> None:
        out, t = self.outcomes, self.today
        agency_waiting = sum(len(a.queue) for a in self.agencies)
        us_agencies = [a for a in self.agencies if a.route == US]
        capacity = sum(a.capacity_today for a in us_agencies)
        t.update(
            day=day,
            reports_filed=sum(p.filed_today for p in self.platforms),
            ncmec_backlog=len(self.ncmec_queue),
            ncmec_mean_wait_days=self.ncmec_queue.mean_wait(day),
            agency_backlog=agency_waiting,
            agency_mean_wait_days=(sum(a.queue.mean_wait(day) * len(a.queue) for a in self.agencies)
                                   / agency_waiting if agency_waiting else 0.0),
            in_legal_process=len(self.to_service),
            forensic_backlog=len(self.forensic_queue),
            investigator_utilisation=sum(a.used_today for a in us_agencies) / capacity if capacity else 0.0,
            served_today=out.legal_process_served - served_before,
            lost_today=out.evidence_lost - lost_before,
            legal_process_served=out.legal_process_served,
            evidence_lost=out.evidence_lost,
            arrests=out.arrests,
        )
        self.datacollector.collect(self)

    # --- results -----------------------------------------------------------------------------

    def pending_reports(self) -> int:
        """Counted reports still in the pipeline whose outcome is open (found by scanning rows)."""
        st = self.store
        waiting = [self.ncmec_queue.rows, self.to_agency.rows(), self.to_service.rows(),
                   *(a.queue.rows for a in self.agencies)]
        rows = np.concatenate(waiting)
        already_lost = st.actionable[rows] & st.needs_process[rows] & (st.deadline[rows] <= self.day)
        return int((st.counted[rows] & ~already_lost).sum())

    def summary(self) -> dict[str, Any]:
        """The run's outcome keys (DESIGN §6), without ``wall_seconds``."""
        return {"scenario": self.settings.name, "seed": self.seed, "days": self.day,
                **self.outcomes.summary(self.pending_reports())}

    def timeseries(self) -> Any:
        """The daily series (pandas), one row per day from day 0; columns as in DAILY_SERIES."""
        return self.datacollector.get_model_vars_dataframe()


def run(scenario: Scenario | None = None, seed: int | None = None) -> tuple[RetentionModel, dict[str, Any]]:
    """Build and run a model to the end; return it and its summary (with ``wall_seconds``)."""
    start = time.perf_counter()
    model = RetentionModel(scenario, rng=seed)
    model.run_model()
    summary = model.summary()
    summary["wall_seconds"] = round(time.perf_counter() - start, 3)
    return model, summary
