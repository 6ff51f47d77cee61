"""Cohort accounting: what happened to every counted report, and where evidence was lost (DESIGN §6).

Counted reports are those created after the warm-up, up to ``run.days``. Each is followed until its
outcome is decided; the model keeps running after ``run.days`` (new, uncounted reports keep the load
real) until none is left in a capacity-limited stage, so no rate is computed on a censored cohort.

Every counted report ends in exactly one terminal state (:data:`TERMINAL_STATES`) or is
``undecided`` (still waiting when the drain cap was reached). A report that needs legal process on
the platform is decided when the legal process is served before its preservation deadline
(``legal_process_served``) or when the deadline passes first (``evidence_lost``): while it waits, at
the stage where it waits (:class:`Stage`), or at once if the agency closes it unworked.

Losses are found without scanning reports: :attr:`Outcomes.expiring` counts, per route, stage and
deadline day, the counted reports that need legal process and are not yet decided.

Settling: a second, smaller ledger follows the counted reports created in the second half of the counted
period (:attr:`Outcomes.split_day`), so the loss of each half is known. A run that had settled loses about
the same share in both halves; a loss still rising shows the warm-up was too short (docs/ODD.md, warm-up).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NamedTuple

import numpy as np

US, FOREIGN = 0, 1
ROUTES = ("us", "foreign")


class Stage(IntEnum):
    """Where a report is while its preservation deadline can pass (and where evidence is lost)."""

    NCMEC = 0            # waiting for an NCMEC analyst, or on its way to the agency
    AGENCY_QUEUE = 1     # waiting for an investigator to review it
    WARRANT = 2          # Wilson/Maher warrant: waiting for the investigator's work or the judge
    IDENTIFICATION = 3   # identifying the suspect: subpoenas drafted, waiting for their answers
    DRAFTING = 4         # legal process for the content: waiting for the work or the approval
    MLAT = 5             # foreign legal process (MLAT or CLOUD Act) on its way
    CLOSED_UNWORKED = 6  # closed by the agency before anyone worked it (lost at once)


STAGE_NAMES = tuple(stage.name.lower() for stage in Stage)

#: Counts that add up to ``reports`` (with ``undecided``): the terminal states of counted reports.
#: ``closed_unworked_other`` are referrals closed unworked that did not need legal process (those
#: that did are in ``evidence_lost``); the summary's ``closed_unworked`` counts both.
TERMINAL_STATES = ("informational", "closed_not_actionable", "closed_unworked_other",
                   "investigated_without_legal_process", "legal_process_served", "evidence_lost")


class Tally(NamedTuple):
    """Counted reports by the end of a day, cumulative (the daily record's totals). *Decided* adds the reports
    whose legal process is scheduled, served in time or not: their outcome is fixed."""

    served: int
    lost: int
    served_us: int
    lost_us: int
    served_decided: int
    lost_decided: int
    served_us_decided: int
    lost_us_decided: int
    closed_unworked: int


def _per_route() -> np.ndarray:
    return np.zeros(2, np.int64)


def route_counts(route: np.ndarray) -> np.ndarray:
    """How many of `route` (US or FOREIGN per report) are US and foreign: ``np.bincount(route, minlength=2)``,
    counted the faster way for a two-valued array."""
    foreign = int(np.count_nonzero(route))
    return np.array([len(route) - foreign, foreign], np.int64)


class Outcomes:
    """Counters of counted reports, the ledger of undecided deadlines, and days to legal process.

    All methods take only counted rows' values (callers select them). A report that needs legal process
    is in :attr:`expiring` (by route, stage and deadline day) while its outcome is open; when its legal
    process is scheduled, its service day is fixed and so is its outcome, booked for the day it happens
    (:attr:`served_on` its service day, :attr:`lost_on` its deadline day).
    """

    def __init__(self, horizon: int, n_platforms: int, split_day: int | None = None) -> None:
        self.horizon = horizon  # days the ledgers cover (later service days are booked on the last one)
        self.split_day = horizon if split_day is None else split_day  # last creation day of the first half
        self.reports = 0
        self.reports_by_platform = np.zeros(n_platforms, np.int64)
        self.informational = 0
        self.unreviewed = 0                     # passed on by NCMEC unreviewed at its backlog limit
        self.referred = _per_route()
        self.closed_not_actionable = _per_route()
        self.closed_unworked = _per_route()
        self.closed_unworked_other = _per_route()
        self.investigated_without_legal_process = _per_route()
        self.legal_process_needed = _per_route()
        self.served = _per_route()
        self.lost = np.zeros((2, len(Stage)), np.int64)
        self.served_pending = _per_route()      # scheduled to be served in time on a later day
        self.lost_pending = _per_route()        # scheduled to arrive after a deadline still to come
        self.reviewed = _per_route()            # counted referrals reviewed
        self.days_to_review = _per_route()      # their summed days from arrival at the agency to review
        self.isp_logs_lost = 0
        self.arrests = 0               # arrests made on counted days (any report)
        self.investigations_us = 0     # actionable US referrals reviewed on counted days (any report)
        self.open_other = 0            # counted reports that need no legal process, not yet decided
        self.expiring = np.zeros((2, len(Stage), horizon + 1), np.int64)
        self.served_on = np.zeros((2, horizon + 1), np.int64)
        self.lost_on = np.zeros((2, len(Stage), horizon + 1), np.int64)
        self.days_to_process = np.zeros((2, horizon + 1), np.int64)  # by route
        self.censored = np.zeros((2, horizon + 1), np.int64)         # set by censor() before a summary
        # The second half's ledger (created after split_day): undecided by route and deadline day, and fixed outcomes.
        self.late_expiring = np.zeros((2, horizon + 1), np.int64)
        self.late_served = _per_route()   # served in time, or scheduled to be
        self.late_lost = _per_route()     # lost, or certain to be

    # --- entering and leaving -------------------------------------------------------------------

    def filed(self, platform: int, n: int, n_needing_process: int) -> None:
        """`n` counted reports filed by a platform (index), of which some need legal process."""
        self.reports += n
        self.reports_by_platform[platform] += n
        self.open_other += n - n_needing_process

    def need_process(self, route: np.ndarray, deadline: np.ndarray, created: int) -> None:
        """Counted reports created on day `created` that need legal process, by route and deadline day: they start
        at NCMEC."""
        self.legal_process_needed += route_counts(route)
        np.add.at(self.expiring, (route, Stage.NCMEC, deadline), 1)
        if created > self.split_day:
            np.add.at(self.late_expiring, (route, deadline), 1)

    def review(self, route: np.ndarray, waits: np.ndarray) -> None:
        """Counted referrals reviewed after waiting `waits` days at their agency."""
        self.reviewed += route_counts(route)
        foreign = int(np.dot(route, waits))   # exact integer sums (route is 0 or 1)
        self.days_to_review += np.array([int(waits.sum()) - foreign, foreign], np.int64)

    def decided_other(self, n: int) -> None:
        """`n` counted reports that need no legal process reached their terminal state."""
        self.open_other -= n

    @property
    def undecided(self) -> int:
        """Counted reports whose outcome is still open."""
        return int(self.expiring.sum()) + self.open_other

    # --- the ledger ------------------------------------------------------------------------------

    def move(self, route: np.ndarray, deadline: np.ndarray, to_stage: Stage | np.ndarray,
             from_stage: Stage | np.ndarray, day: int) -> None:
        """Undecided counted reports change stage (those whose deadline already passed stay where they were lost)."""
        open_ = deadline >= day
        if not open_.all():
            route, deadline = route[open_], deadline[open_]
            if isinstance(from_stage, np.ndarray):
                from_stage = from_stage[open_]
            if isinstance(to_stage, np.ndarray):
                to_stage = to_stage[open_]
        np.subtract.at(self.expiring, (route, from_stage, deadline), 1)
        np.add.at(self.expiring, (route, to_stage, deadline), 1)

    def extend(self, route: np.ndarray, stage: np.ndarray, created: np.ndarray, old: np.ndarray, new: np.ndarray,
               day: int) -> None:
        """Undecided counted reports get a later deadline (a 2703(f) letter)."""
        open_ = old >= day
        route, stage, created, old, new = route[open_], stage[open_], created[open_], old[open_], new[open_]
        np.subtract.at(self.expiring, (route, stage, old), 1)
        np.add.at(self.expiring, (route, stage, new), 1)
        if day > self.split_day:  # no report of the second half exists before
            late = created > self.split_day
            np.subtract.at(self.late_expiring, (route[late], old[late]), 1)
            np.add.at(self.late_expiring, (route[late], new[late]), 1)

    def schedule(self, route: np.ndarray, stage: np.ndarray, created: np.ndarray, deadline: np.ndarray,
                 due: np.ndarray, day: int) -> None:
        """Legal process scheduled on `day` to reach the platform on day `due`: the outcome is now fixed.

        Served in time if ``due <= deadline`` (booked on `due`); otherwise lost at `stage` (booked on the
        deadline day). Reports whose deadline passed before `day` were lost already.
        """
        open_ = deadline >= day
        route_o, stage_o, deadline_o, due_o = route[open_], stage[open_], deadline[open_], due[open_]
        np.subtract.at(self.expiring, (route_o, stage_o, deadline_o), 1)
        in_time = due_o <= deadline_o
        route_in_time, route_late = route_o[in_time], route_o[~in_time]
        np.add.at(self.served_on, (route_in_time, np.minimum(due_o[in_time], self.horizon)), 1)
        np.add.at(self.lost_on, (route_late, stage_o[~in_time], deadline_o[~in_time]), 1)
        self.served_pending += route_counts(route_in_time)
        self.lost_pending += route_counts(route_late)
        np.add.at(self.days_to_process, (route, np.minimum(due - created, self.horizon)), 1)
        if day > self.split_day:  # no report of the second half exists before
            late = created[open_] > self.split_day
            np.subtract.at(self.late_expiring, (route_o[late], deadline_o[late]), 1)
            self.late_served += route_counts(route_o[late & in_time])
            self.late_lost += route_counts(route_o[late & ~in_time])

    def close_unworked(self, route: np.ndarray, stage: np.ndarray, created: np.ndarray, deadline: np.ndarray,
                       needs_process: np.ndarray, day: int) -> None:
        """Referrals closed unworked: lost at once if they needed legal process and were still undecided."""
        self.closed_unworked += route_counts(route)
        self.closed_unworked_other += route_counts(route[~needs_process])
        self.open_other -= int((~needs_process).sum())
        open_ = needs_process & (deadline >= day)
        np.subtract.at(self.expiring, (route[open_], stage[open_], deadline[open_]), 1)
        self.lost[:, Stage.CLOSED_UNWORKED] += route_counts(route[open_])
        if day > self.split_day:
            late = open_ & (created > self.split_day)
            np.subtract.at(self.late_expiring, (route[late], deadline[late]), 1)
            self.late_lost += route_counts(route[late])

    def end_of_day(self, day: int) -> None:
        """Book the day: legal process served today, and evidence whose deadline is today lost where it waits."""
        if day > self.horizon:
            return
        self.served += self.served_on[:, day]
        self.served_pending -= self.served_on[:, day]
        lost_late = self.lost_on[:, :, day]
        self.lost += self.expiring[:, :, day] + lost_late
        self.lost_pending -= lost_late.sum(axis=1)
        self.expiring[:, :, day] = 0
        if day > self.split_day:
            self.late_lost += self.late_expiring[:, day]
            self.late_expiring[:, day] = 0

    # --- results ---------------------------------------------------------------------------------

    @property
    def legal_process_served(self) -> int:
        """Counted reports served in time so far."""
        return int(self.served.sum())

    @property
    def evidence_lost(self) -> int:
        """Counted reports whose evidence was lost so far."""
        return int(self.lost.sum())

    def tally(self) -> Tally:
        """Today's running totals (:class:`Tally`), read from the counters in a few list copies (rather than a score
        of numpy reductions: the daily record reads them every day)."""
        lost_us, lost_foreign = (sum(by_stage) for by_stage in self.lost.tolist())
        served_us, served_foreign = self.served.tolist()
        served_pending_us, served_pending_foreign = self.served_pending.tolist()
        lost_pending_us, lost_pending_foreign = self.lost_pending.tolist()
        closed_us, closed_foreign = self.closed_unworked.tolist()
        served_us_decided, lost_us_decided = served_us + served_pending_us, lost_us + lost_pending_us
        return Tally(served=served_us + served_foreign, lost=lost_us + lost_foreign, served_us=served_us,
                     lost_us=lost_us, served_decided=served_us_decided + served_foreign + served_pending_foreign,
                     lost_decided=lost_us_decided + lost_foreign + lost_pending_foreign,
                     served_us_decided=served_us_decided, lost_us_decided=lost_us_decided,
                     closed_unworked=closed_us + closed_foreign)

    def served_decided(self, day: int) -> np.ndarray:
        """Served in time, by route, including legal process scheduled to reach the platform after `day`."""
        return self.served + self.served_on[:, day + 1:].sum(axis=1)

    def lost_decided(self, day: int) -> np.ndarray:
        """Lost, by route and stage, including scheduled legal process that will arrive after its deadline."""
        return self.lost + self.lost_on[:, :, day + 1:].sum(axis=2)

    def halves(self, day: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """(lost, served) by route, decided by the end of `day`, of the counted reports created up to
        :attr:`split_day` (the first half) and after it (the second half)."""
        lost, served = self.lost_decided(day).sum(axis=1), self.served_decided(day)
        return (lost - self.late_lost, served - self.late_served), (self.late_lost.copy(), self.late_served.copy())

    def terminal_counts(self, day: int) -> dict[str, int]:
        """The terminal states (:data:`TERMINAL_STATES`) as counts, decided by the end of `day`."""
        return {"informational": self.informational,
                "closed_not_actionable": int(self.closed_not_actionable.sum()),
                "closed_unworked_other": int(self.closed_unworked_other.sum()),
                "investigated_without_legal_process": int(self.investigated_without_legal_process.sum()),
                "legal_process_served": int(self.served_decided(day).sum()),
                "evidence_lost": int(self.lost_decided(day).sum())}

    def summary(self, day: int) -> dict[str, Any]:
        """The outcome keys of DESIGN §6 as decided by the end of `day`: US first, foreign beside it, then
        the pooled keys for scripts."""
        served, lost = self.served_decided(day), self.lost_decided(day)
        out: dict[str, Any] = {}
        for route, label in enumerate(ROUTES):
            out[f"evidence_lost_rate_{label}"] = _rate(int(lost[route].sum()), int(served[route]))
            out[f"evidence_lost_{label}"] = int(lost[route].sum())
            out[f"legal_process_served_{label}"] = int(served[route])
            out[f"legal_process_needed_{label}"] = int(self.legal_process_needed[route])
            out[f"median_days_to_legal_process_{label}"] = self._quantile(0.5, route)
            out[f"p90_days_to_legal_process_{label}"] = self._quantile(0.9, route)
            reviewed = int(self.reviewed[route])
            out[f"mean_days_to_review_{label}"] = float(self.days_to_review[route] / reviewed) if reviewed else None
        (early_lost, early_served), (late_lost, late_served) = self.halves(day)
        out["evidence_lost_rate_us_first_half"] = _rate(int(early_lost[US]), int(early_served[US]))
        out["evidence_lost_rate_us_second_half"] = _rate(int(late_lost[US]), int(late_served[US]))
        out.update({
            "reports": self.reports,
            "referred_us": int(self.referred[US]),
            "referred_foreign": int(self.referred[FOREIGN]),
            "informational": self.informational,
            "ncmec_unreviewed": self.unreviewed,
            "closed_not_actionable": int(self.closed_not_actionable.sum()),
            "closed_unworked": int(self.closed_unworked.sum()),
            "closed_unworked_us": int(self.closed_unworked[US]),
            "investigated_without_legal_process": int(self.investigated_without_legal_process.sum()),
            "legal_process_needed": int(self.legal_process_needed.sum()),
            "legal_process_served": int(served.sum()),
            "evidence_lost": int(lost.sum()),
            "evidence_lost_rate": _rate(int(lost.sum()), int(served.sum())),
            "isp_logs_lost": self.isp_logs_lost,
            "undecided": self.undecided,
            "median_days_to_legal_process": self._quantile(0.5),
            "p90_days_to_legal_process": self._quantile(0.9),
            "investigations_us": self.investigations_us,
            "arrests": self.arrests,
        })
        for stage, name in zip(Stage, STAGE_NAMES, strict=True):
            out[f"evidence_lost_at_{name}"] = int(lost[:, stage].sum())
        for stage, name in zip(Stage, STAGE_NAMES, strict=True):
            out[f"evidence_lost_us_at_{name}"] = int(lost[US, stage])
        return out

    def _quantile(self, q: float, route: int | None = None) -> int | None:
        """Days from report to legal process served (in time or late), lower q-quantile (one route, or all).

        Kaplan-Meier per route: cases still waiting for investigators when the run stopped are
        right-censored at their age (:attr:`censored`), so the quantile does not depend on how long the
        run drained; both routes together are the mixture of the two, weighted by their cases. Cases
        closed unworked never get legal process and are not counted.
        """
        routes = [route] if route is not None else [0, 1]
        sizes = np.array([self.days_to_process[r].sum() + self.censored[r].sum() for r in routes], float)
        if self.days_to_process[routes].sum() == 0:
            return None
        cdf = sum(size / sizes.sum() * self._km_cdf(r) for r, size in zip(routes, sizes, strict=True) if size)
        reached = np.flatnonzero(cdf >= q - 1e-12)
        return int(reached[0]) if len(reached) else None

    def _km_cdf(self, route: int) -> np.ndarray:
        """Kaplan-Meier distribution function of days to legal process of one route."""
        events, censored = self.days_to_process[route], self.censored[route]
        at_risk = (events + censored)[::-1].cumsum()[::-1]
        hazard = np.divide(events, at_risk, out=np.zeros(len(events)), where=at_risk > 0)
        return 1.0 - np.cumprod(1.0 - hazard)

    def censor(self, route: np.ndarray, age: np.ndarray) -> None:
        """Cases needing legal process still waiting for investigators, `age` days after their report."""
        self.censored = np.zeros_like(self.days_to_process)
        np.add.at(self.censored, (route, np.minimum(age, self.horizon)), 1)

    def flows(self, platform_names: list[str], day: int) -> list[tuple[str, str, int]]:
        """The counted reports' paths as (from, to, reports) edges: platforms, NCMEC, routes, outcomes.

        Drawn as a Sankey diagram by the report and the dashboard.
        """
        served, lost = self.served_decided(day), self.lost_decided(day)
        edges = [(f"{name}", "NCMEC", int(n)) for name, n in zip(platform_names, self.reports_by_platform, strict=True)]
        edges.append(("NCMEC", "informational", self.informational))
        for route, label in ((US, "US"), (FOREIGN, "foreign")):
            agencies, needed = f"{label} agencies", f"{label}: platform legal process needed"
            edges += [("NCMEC", agencies, int(self.referred[route])),
                      (agencies, "closed: not actionable", int(self.closed_not_actionable[route])),
                      (agencies, "closed unworked", int(self.closed_unworked_other[route])),
                      (agencies, "investigated, no platform legal process",
                       int(self.investigated_without_legal_process[route])),
                      (agencies, needed, int(self.legal_process_needed[route])),
                      (needed, "served in time", int(served[route]))]
            edges += [(needed, f"lost: {name.replace('_', ' ')}", int(lost[route, stage]))
                      for stage, name in zip(Stage, STAGE_NAMES, strict=True)]
        edges.append(("NCMEC", "undecided", self.undecided))
        return [edge for edge in edges if edge[2] > 0]


def _rate(lost: int, served: int) -> float | None:
    return lost / (lost + served) if lost + served else None
