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
from model.reports import PriorityQueue, Rows

if TYPE_CHECKING:
    from model.model import RetentionModel

#: Columns of the per-report uniforms drawn at creation, in draw order (common random numbers).
ATTRIBUTE_DRAWS = ("automated", "urgent", "viral", "known", "quality", "location", "actionable")
#: Columns of the per-case uniforms and normals, drawn at creation for actionable referrals.
CASE_UNIFORMS = ("needs_process", "preservation", "wilson", "cloud_act", "ip_lead", "cgnat", "arrest")
CASE_NORMALS = ("process", "warrant", "response", "arrest")


def lognormal_days(median: float, sigma: float, z: np.ndarray) -> np.ndarray:
    """Whole days (rounded up) of a lognormal delay with the given median, from standard normals."""
    if median <= 0:
        return np.zeros(len(z), np.int32)
    return np.ceil(median * np.exp(sigma * z.astype(np.float64))).astype(np.int32)


def priority_keys(policy: str, entered: np.ndarray, urgent: np.ndarray, quality: np.ndarray,
                  deadline: np.ndarray) -> np.ndarray:
    """Integer queue keys for a triage policy; smaller keys leave the queue first."""
    entered = entered.astype(np.int64)
    if policy == "fifo":
        return entered
    if policy == "urgent_first":
        return (~urgent).astype(np.int64) << 32 | entered
    if policy == "deadline_first":
        return deadline.astype(np.int64) << 32 | entered
    if policy == "quality_first":
        return (~quality).astype(np.int64) << 32 | entered
    raise ValueError(f"unknown triage policy {policy!r} (allowed: {', '.join(params.TRIAGE_POLICIES)})")


class Platform(mesa.Agent):
    """An electronic service provider that files CyberTipline reports every day."""

    def __init__(self, model: RetentionModel, spec: params.Platform, index: int,
                 streams: list[np.random.SeedSequence]) -> None:
        super().__init__(model)
        self.spec = spec
        self.index = index
        self.arrivals_rng, self.attribute_rng, self.case_rng = (np.random.default_rng(s) for s in streams)
        self.filed_today = 0

    def expected_reports(self, day: int) -> tuple[float, float, float]:
        """Mean reports today: regular, extra from surges, and the viral share of the extra ones."""
        demand = self.model.settings.demand
        base = (self.spec.reports_per_day * demand.scale * (1 + demand.growth_per_year) ** ((day - 1) / 365)
                * demand.weekday_factors[(day - 1) % 7])
        active = [s for s in demand.surges if s.start_day <= day < s.start_day + s.duration_days]
        extra = sum(base * (s.multiplier - 1) for s in active)
        viral = sum(base * (s.multiplier - 1) * s.viral_share for s in active) / extra if extra > 0 else 0.0
        return base, extra, viral

    def file_reports(self, day: int) -> None:
        """Draw today's reports and hand them to NCMEC."""
        base, extra, viral_share_extra = self.expected_reports(day)
        n_regular = int(self.arrivals_rng.poisson(base))
        n_extra = int(self.arrivals_rng.poisson(extra)) if extra > 0 else 0
        n = n_regular + n_extra
        self.filed_today = n
        if n == 0:
            return
        self.model.receive_reports(self, day, n, n_extra, viral_share_extra)

    def draw_reports(self, n: int, n_extra: int = 0, viral_share_extra: float = 0.0) -> dict[str, np.ndarray]:
        """Attributes of `n` new reports (the last `n_extra` from a surge), one uniform each."""
        spec = self.spec
        u = self.attribute_rng.random((n, len(ATTRIBUTE_DRAWS)), dtype=np.float32).T
        draw = dict(zip(ATTRIBUTE_DRAWS, u, strict=True))
        viral_share = np.full(n, spec.viral_share, np.float32)
        viral_share[n - n_extra:] = viral_share_extra
        viral = draw["viral"] < viral_share
        location = draw["location"]
        us = location < spec.us_share
        unknown = ~us & (location < spec.us_share + spec.unknown_location_share)
        return {
            "automated": draw["automated"] < spec.automated_share,
            "urgent": draw["urgent"] < spec.urgent_share,
            "viral": viral,
            "known": viral | (draw["known"] < spec.known_content_share),
            "quality": draw["quality"] < spec.quality_share,
            "us": us,
            "unknown": unknown,
            "location": location,
            "actionable": ~viral & (draw["actionable"] < spec.actionable_share),
        }

    def draw_cases(self, m: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Uniforms and standard normals of `m` actionable referrals (fixed count per case)."""
        u = self.case_rng.random((m, len(CASE_UNIFORMS)), dtype=np.float32).T
        z = self.case_rng.standard_normal((m, len(CASE_NORMALS)), dtype=np.float32).T
        return dict(zip(CASE_UNIFORMS, u, strict=True)), dict(zip(CASE_NORMALS, z, strict=True))


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
        self.queue = PriorityQueue(model.store)
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

    def receive(self, rows: Rows, day: int) -> None:
        """Referrals arrive from NCMEC and join the queue in the agency's priority order."""
        store = self.model.store
        store.entered[rows] = day
        self.queue.push(rows, priority_keys(self.model.settings.law_enforcement.priority_policy,
                                            store.entered[rows], store.urgent[rows],
                                            store.quality[rows], store.deadline[rows]))

    def investigate(self, day: int) -> None:
        """Take on as many referrals as today's capacity allows; screen, preserve, start legal process."""
        self.capacity_today = self.daily_capacity
        self.credit += self.capacity_today
        rows, used = self.queue.pop_budget(self.model.store.case_cost, self.credit)
        self.used_today = used
        self.credit = self.credit - used if len(self.queue) else 0.0
        if len(rows):
            self.model.take_on_cases(rows, day, self.route)
