"""The output metrics: every key of a run's summary, with its meaning and unit (DESIGN §6).

This is the one list that says which summary keys are metrics: the CLI tables, comparisons, sweep
columns, ``tipline analyze``, the report and the dashboard all read it. Keys that describe a run
rather than measure it are in :data:`RUN_KEYS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.outcomes import STAGE_NAMES


@dataclass(frozen=True)
class Metric:
    """One summary metric: what it counts and in what unit (``share`` is a fraction, shown as %)."""

    key: str
    unit: str
    meaning: str

    @property
    def is_share(self) -> bool:
        return self.unit == "share"

    @property
    def bounds(self) -> tuple[float, float]:
        """The values the metric can take: a share lies in [0, 1]; counts and days are not negative."""
        return (0.0, 1.0) if self.is_share else (0.0, math.inf)


#: Summary keys that describe the run rather than measure it.
RUN_KEYS = ("scenario", "seed", "days", "drain_days", "longest_wait_growth_queue", "wall_seconds")

_ROUTE = {"us": "US (domestic legal process)", "foreign": "foreign (MLAT or CLOUD Act)"}
_STAGE = {"ncmec": "waiting at NCMEC or on the way to the agency", "agency_queue": "waiting for an investigator's review",
          "warrant": "waiting for the Wilson/Maher warrant (work or judge)",
          "identification": "identifying the suspect (subpoenas and their answers)",
          "drafting": "waiting for the legal process to be drafted or approved",
          "mlat": "on the MLAT or CLOUD Act route", "closed_unworked": "closed unworked by the agency"}


def _metrics() -> list[Metric]:
    found: list[Metric] = []
    for route, label in _ROUTE.items():
        found += [
            Metric(f"evidence_lost_rate_{route}", "share",
                   f"{label}: evidence lost / (lost + legal process served in time)"),
            Metric(f"evidence_lost_{route}", "reports", f"{label}: reports whose evidence was lost"),
            Metric(f"legal_process_served_{route}", "reports", f"{label}: legal process served before the deadline"),
            Metric(f"legal_process_needed_{route}", "reports", f"{label}: reports that needed platform legal process"),
            Metric(f"median_days_to_legal_process_{route}", "days",
                   f"{label}: median days from report to legal process served (in time or late)"),
            Metric(f"p90_days_to_legal_process_{route}", "days", f"{label}: 90th percentile of those days"),
            Metric(f"mean_days_to_review_{route}", "days",
                   f"{label}: mean days from a referral's arrival at the agency to its first review (response time)"),
        ]
    found += [
        Metric("evidence_lost_rate_us_first_half", "share",
               "US rate of the counted reports created in the first half of the counted period (settling check)"),
        Metric("evidence_lost_rate_us_second_half", "share",
               "US rate of those created in the second half: about the first half's once the run has settled"),
        Metric("longest_wait_growth_days", "days",
               "how much the longest wait grew over the counted period in the queue where it grew most (NCMEC's, or a "
               "US agency's referrals; named in longest_wait_growth_queue): more than 15 days, a queue still filling "
               "(settling check)"),
        Metric("reports", "reports", "counted reports: created after the warm-up, up to run.days"),
        Metric("referred_us", "reports", "referred to US agencies (ICAC task forces, federal)"),
        Metric("referred_foreign", "reports", "referred to foreign agencies"),
        Metric("informational", "reports", "informational (no usable data, or bundled viral copies)"),
        Metric("ncmec_unreviewed", "reports",
               "passed on by NCMEC unreviewed: analysts had not reached them within ncmec.backlog_limit_days"),
        Metric("closed_not_actionable", "reports", "reviewed and closed: nothing actionable"),
        Metric("closed_unworked", "reports", "closed by an agency before anyone reviewed them (backlog limit, threshold)"),
        Metric("closed_unworked_us", "reports", "the same, US agencies"),
        Metric("investigated_without_legal_process", "reports", "investigated without platform legal process"),
        Metric("legal_process_needed", "reports", "needed legal process on the platform (both routes)"),
        Metric("legal_process_served", "reports", "legal process served before the deadline (both routes)"),
        Metric("evidence_lost", "reports", "evidence lost (both routes; the headline is the US rate)"),
        Metric("evidence_lost_rate", "share", "pooled US and foreign rate (for scripts; not a headline)"),
        Metric("isp_logs_lost", "reports", "served in time, but the ISP's IP logs were gone or unattributable"),
        Metric("undecided", "reports", "counted reports still waiting when the drain cap was reached (overload)"),
        Metric("median_days_to_legal_process", "days", "median days to legal process, both routes"),
        Metric("p90_days_to_legal_process", "days", "90th percentile, both routes"),
        Metric("investigations_us", "reports",
               "investigations taken on: actionable US referrals reviewed on counted days (as tipline calibration)"),
        Metric("arrests", "arrests", "arrests made on counted days"),
    ]
    for prefix, label in (("evidence_lost_at_", "all routes"), ("evidence_lost_us_at_", "US")):
        found += [Metric(f"{prefix}{stage}", "reports", f"evidence lost ({label}) while {_STAGE[stage]}")
                  for stage in STAGE_NAMES]
    return found


#: Every metric of a run's summary, in summary order.
METRICS: dict[str, Metric] = {m.key: m for m in _metrics()}


def is_metric(key: str) -> bool:
    return key in METRICS


def format_metric(key: str, value: float | int | None) -> str:
    """A value in its unit for people: shares as %, counts with thousands separators."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    metric = METRICS.get(key)
    if metric is not None and metric.is_share:
        return f"{100 * value:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"
