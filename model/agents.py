"""The decision makers: platforms file reports, analysts triage them, agencies investigate.

Agents are few (a handful of platforms and agencies, one analyst per FTE); each acts on whole
batches of report rows with numpy. Reports themselves are rows of the model's ReportStore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from model import params
from model.outcomes import FOREIGN, US
from model.reports import PriorityQueue, ReportStore, Rows

if TYPE_CHECKING:
    from model.model import RetentionModel

#: Columns of the per-report uniforms drawn at creation, in draw order (common random numbers).
ATTRIBUTE_DRAWS = ("automated", "urgent", "viral", "known", "quality", "location", "actionable")
#: Columns of the per-case uniforms and normals, drawn at creation for actionable referrals.
CASE_UNIFORMS = ("needs_process", "preservation", "wilson", "cloud_act", "ip_lead", "cgnat", "arrest")
CASE_NORMALS = ("process", "warrant", "response", "arrest")


def lognormal_days(median: float | np.ndarray, sigma: float | np.ndarray, z: np.ndarray) -> np.ndarray:
    """Whole days (rounded up) of lognormal delays with the given medians (days), from standard normals.

    A median of 0 gives 0 days.
    """
    return np.ceil(median * np.exp(sigma * z.astype(np.float64))).astype(np.int32)


def priority_keys(policy: str, store: ReportStore, rows: Rows, entered: int) -> np.ndarray | int:
    """Integer queue keys of rows that enter a queue on day `entered`; smaller keys leave first.

    The high bits order the queue (class or deadline), the low 32 bits are the entry day (FIFO
    within a class, and the queue's mean wait). Only the columns the policy needs are read; when
    every row gets the same key, that key is returned as an int.
    """
    if policy == "fifo":
        return entered
    if policy in ("urgent_first", "quality_first"):
        first = store.urgent[rows] if policy == "urgent_first" else store.quality[rows]
        if not first.any():
            return 1 << 32 | entered
        return np.where(first, np.int64(entered), np.int64(1 << 32 | entered))
    if policy == "deadline_first":
        return store.deadline[rows].astype(np.int64) << 32 | entered
    raise ValueError(f"unknown triage policy {policy!r} (allowed: {', '.join(params.TRIAGE_POLICIES)})")


class Platform(mesa.Agent):
    """An electronic service provider that files CyberTipline reports every day."""

    def __init__(self, model: RetentionModel, spec: params.Platform, index: int,
                 streams: list[np.random.SeedSequence]) -> None:
        super().__init__(model)
        self.spec = spec
        self.index = index
        self.arrivals_rng, self.attribute_rng, self.case_rng = (np.random.default_rng(s) for s in streams)
        # Each attribute is its uniform below its share (ATTRIBUTE_DRAWS order; location is kept as is).
        self._shares = np.array([[spec.automated_share], [spec.urgent_share], [spec.viral_share],
                                 [spec.known_content_share], [spec.quality_share], [np.inf], [spec.actionable_share]],
                                np.float32)
        self.filed_today = 0  # reports filed today
        self.automated_today = 0  # of which automated (unviewed) hash matches

    def expected_reports(self, day: int) -> tuple[float, float, float]:
        """Mean reports today: regular, extra from surges, and the viral share of the extra ones."""
        demand = self.model.settings.demand
        base = (self.spec.reports_per_day * demand.scale * (1 + demand.growth_per_year) ** ((day - 1) / 365)
                * demand.weekday_factors[(day - 1) % 7])
        active = [s for s in demand.surges if s.start_day <= day < s.start_day + s.duration_days]
        extra = sum(base * (s.multiplier - 1) for s in active)
        viral = sum(base * (s.multiplier - 1) * s.viral_share for s in active) / extra if extra > 0 else 0.0
        return base, extra, viral

    def file_reports(self, day: int) -> dict[str, np.ndarray] | None:
        """Today's new reports as columns (``case_*`` columns for the actionable referrals only)."""
        base, extra, viral_share_extra = self.expected_reports(day)
        n_regular = int(self.arrivals_rng.poisson(base))
        n_extra = int(self.arrivals_rng.poisson(extra)) if extra > 0 else 0
        n = n_regular + n_extra
        self.filed_today = n
        if n == 0:
            self.automated_today = 0
            return None
        reports = self.draw_reports(n, n_extra, viral_share_extra)
        self.automated_today = int(reports["automated"].sum())
        reports["platform"] = np.full(n, self.index, np.int16)
        reports["agency"] = self.model.route(reports["location"], self.index)
        is_case = reports["quality"] & reports["actionable"]
        reports.update(self.draw_cases(int(is_case.sum())))
        reports["case_us"] = self.model.agency_is_icac[reports["agency"][is_case]]
        return reports

    def draw_reports(self, n: int, n_extra: int = 0, viral_share_extra: float = 0.0) -> dict[str, np.ndarray]:
        """Attributes of `n` new reports (the last `n_extra` from a surge), one uniform each."""
        u = self.attribute_rng.random((len(ATTRIBUTE_DRAWS), n), dtype=np.float32)
        automated, urgent, viral, known, quality, _, actionable = u < self._shares
        if n_extra:
            viral[n - n_extra:] = u[ATTRIBUTE_DRAWS.index("viral"), n - n_extra:] < np.float32(viral_share_extra)
        return {"automated": automated, "urgent": urgent, "viral": viral, "known": viral | known,
                "quality": quality, "location": u[ATTRIBUTE_DRAWS.index("location")], "actionable": ~viral & actionable}

    def draw_cases(self, m: int) -> dict[str, np.ndarray]:
        """Uniforms (``case_u_*``) and standard normals (``case_z_*``) of `m` actionable referrals,
        a fixed number per case, and the platform's answer time to legal process (days)."""
        u = self.case_rng.random((len(CASE_UNIFORMS), m), dtype=np.float32)
        z = self.case_rng.standard_normal((len(CASE_NORMALS), m), dtype=np.float32)
        cases = {f"case_u_{name}": row for name, row in zip(CASE_UNIFORMS, u, strict=True)}
        cases.update({f"case_z_{name}": row for name, row in zip(CASE_NORMALS, z, strict=True)})
        cases["case_response_days"] = lognormal_days(self.spec.response_median_days, self.spec.response_sigma,
                                                     cases["case_z_response"])
        return cases


class Analyst(mesa.Agent):
    """One NCMEC CyberTipline analyst FTE. Analysts work one shared priority queue."""

    def __init__(self, model: RetentionModel, reports_per_day: float) -> None:
        super().__init__(model)
        self.reports_per_day = reports_per_day


class Agency(mesa.Agent):
    """A law-enforcement agency (ICAC task force, federal, foreign liaison) and its investigators."""

    def __init__(self, model: RetentionModel, spec: params.Agency, index: int, investigators: float) -> None:
        super().__init__(model)
        self.spec = spec
        self.index = index
        self.route = FOREIGN if spec.kind == "foreign" else US
        self.investigators = investigators
        self.queue = PriorityQueue()
        self.credit = 0.0
        self.capacity_today = 0.0
        self.used_today = 0.0

    @property
    def daily_capacity(self) -> float:
        """Cases per day the agency's investigators can take on."""
        return self.investigators * self.model.settings.law_enforcement.cases_per_investigator_month * 12 / 365

    @property
    def backlog(self) -> int:
        """Referrals waiting for an investigator."""
        return len(self.queue)

    @property
    def utilisation(self) -> float:
        """Share of today's investigator capacity used."""
        return self.used_today / self.capacity_today if self.capacity_today else 0.0

    def receive(self, rows: Rows, keys: np.ndarray | int) -> None:
        """Referrals arrive from NCMEC and join the queue by their priority keys."""
        self.queue.push(rows, keys)

    def take_on(self, day: int) -> Rows:
        """The referrals the investigators take on today, within capacity (queue order)."""
        self.capacity_today = self.daily_capacity
        self.credit += self.capacity_today
        rows, used = self.queue.pop_budget(self.model.store.case_cost, self.credit)
        self.used_today = used
        self.credit = self.credit - used if len(self.queue) else 0.0
        return rows
