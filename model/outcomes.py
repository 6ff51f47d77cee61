"""Accounting of terminal states and the summary metrics (DESIGN §6).

Every counted report (created after warm-up) ends in exactly one terminal state or is pending:
``informational``, ``closed_not_actionable``, ``investigated_without_legal_process``,
``legal_process_served`` (in time) or ``evidence_lost``. A report that needs legal process is
lost on the day its preservation deadline passes unserved, even if it is still queued; it keeps
moving through the pipeline (an investigator still works it), but is not counted again.

Losses are found without scanning reports: :attr:`Outcomes.expiring` counts, per route and per
deadline day, the counted reports that need legal process and are not yet served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

US, FOREIGN = 0, 1
ROUTES = ("us", "foreign")


@dataclass
class Outcomes:
    """Counters of counted reports, an expiry ledger and the days-to-legal-process histogram."""

    horizon: int  # one past the latest possible deadline day
    reports: int = 0
    referred_us: int = 0
    referred_foreign: int = 0
    informational: int = 0
    closed_not_actionable: int = 0
    investigated_without_legal_process: int = 0
    legal_process_needed: int = 0
    isp_logs_lost: int = 0
    arrests: int = 0
    served: np.ndarray = field(default_factory=lambda: np.zeros(2, np.int64))
    lost: np.ndarray = field(default_factory=lambda: np.zeros(2, np.int64))
    expiring: np.ndarray = field(init=False)
    days_to_process: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.expiring = np.zeros((2, self.horizon + 1), np.int64)
        self.days_to_process = np.zeros(self.horizon + 1, np.int64)

    def need_process(self, route: np.ndarray, deadline: np.ndarray) -> None:
        """Register counted reports that need legal process, by route and deadline day."""
        self.legal_process_needed += len(deadline)
        np.add.at(self.expiring, (route, deadline), 1)

    def extend(self, route: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Move still-unexpired counted reports to a later deadline (2703(f) preservation)."""
        np.subtract.at(self.expiring, (route, old), 1)
        np.add.at(self.expiring, (route, new), 1)

    def serve(self, day: int, route: np.ndarray, created: np.ndarray,
              deadline: np.ndarray) -> np.ndarray:
        """Legal process served today on counted reports; returns which were in time."""
        in_time = day <= deadline
        np.subtract.at(self.expiring, (route[in_time], deadline[in_time]), 1)
        self.served += np.bincount(route[in_time], minlength=2)
        np.add.at(self.days_to_process, day - created, 1)
        return in_time

    def expire(self, day: int) -> int:
        """Reports whose deadline is today and still unserved are lost; returns how many."""
        lost_today = self.expiring[:, day].copy()
        self.lost += lost_today
        self.expiring[:, day] = 0
        return int(lost_today.sum())

    @property
    def legal_process_served(self) -> int:
        return int(self.served.sum())

    @property
    def evidence_lost(self) -> int:
        return int(self.lost.sum())

    def summary(self, pending: int) -> dict[str, Any]:
        """The outcome keys of DESIGN §6 (and a per-route breakdown)."""
        def rate(lost: int, served: int) -> float | None:
            return lost / (lost + served) if lost + served else None

        out: dict[str, Any] = {
            "reports": self.reports,
            "referred_us": self.referred_us,
            "referred_foreign": self.referred_foreign,
            "informational": self.informational,
            "closed_not_actionable": self.closed_not_actionable,
            "investigated_without_legal_process": self.investigated_without_legal_process,
            "legal_process_needed": self.legal_process_needed,
            "legal_process_served": self.legal_process_served,
            "evidence_lost": self.evidence_lost,
            "evidence_lost_rate": rate(self.evidence_lost, self.legal_process_served),
            "isp_logs_lost": self.isp_logs_lost,
            "pending": pending,
            "median_days_to_legal_process": self._quantile(0.5),
            "p90_days_to_legal_process": self._quantile(0.9),
            "arrests": self.arrests,
        }
        for route, label in enumerate(ROUTES):
            out[f"evidence_lost_{label}"] = int(self.lost[route])
            out[f"legal_process_served_{label}"] = int(self.served[route])
            out[f"evidence_lost_rate_{label}"] = rate(int(self.lost[route]), int(self.served[route]))
        return out

    def _quantile(self, q: float) -> int | None:
        """Days from report to legal process served (in time or late), lower q-quantile."""
        total = self.days_to_process.sum()
        if total == 0:
            return None
        return int(np.searchsorted(np.cumsum(self.days_to_process), q * total))


#: Counts that must add up to ``reports`` (with ``pending``): the terminal states.
TERMINAL_STATES = ("informational", "closed_not_actionable", "investigated_without_legal_process",
                   "legal_process_served", "evidence_lost")
