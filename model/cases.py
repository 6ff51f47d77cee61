"""Case facts: what a case will need, from its latent draws and the scenario's shares and delays.

A case is an actionable referral. When a platform files it, :meth:`CaseRules.write` turns its draws
(:class:`model.draws.CaseDraws`) into columns of the report store: whether it needs legal process on
the platform, gets a 2703(f) letter, needs a Wilson/Maher warrant, must identify the suspect before
the content warrant, has an IP lead; its work
multiplier; and the waits that need no investigator time, in days (the judge's, the approval, MLAT or CLOUD
Act, the platform's answer, the subpoenas' answers, the arrest). Investigator time is spent later, by
the agency, in hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from model.draws import CaseDraws, lognormal_days, mean_one_lognormal
from model.outcomes import US
from model.params import Scenario
from model.reports import ReportStore, Rows


class Step(IntEnum):
    """A case's next piece of investigator work (the store's ``step`` column)."""

    REVIEW = 0      # read the referral; close it, or open a case
    WARRANT = 1     # draft the Wilson/Maher warrant to open an unviewed file
    IDENTIFY = 2    # draft the subpoenas that identify the suspect (platform subscriber data, ISP)
    DRAFT = 3       # draft the legal process for the platform's content (urgent cases: the emergency request)
    FOLLOW_UP = 4   # work the platform's answer (or a case that needs no platform legal process)


# Legal-process paths of a case (index into CaseRules.path_median / path_sigma).
PATH_US, PATH_MLAT, PATH_CLOUD_ACT, PATH_EMERGENCY = 0, 1, 2, 3


@dataclass(frozen=True)
class CaseRules:
    """The scenario's case parameters, gathered once per model."""

    process_share: np.ndarray      # [US, foreign]: actionable cases that need platform legal process
    letter_share: float
    wilson_share: float
    identification_share: float
    cloud_act_share: float
    ip_lead_share: float
    cgnat_share: float
    work_sigma: float
    warrant_median: float
    warrant_sigma: float
    identification_median: float
    identification_sigma: float
    path_median: np.ndarray        # by path: US approval, MLAT, CLOUD Act, emergency (days)
    path_sigma: np.ndarray
    response_median: np.ndarray    # by platform
    response_sigma: np.ndarray
    arrest_median: float
    arrest_sigma: float

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> CaseRules:
        police, foreign = scenario.law_enforcement, scenario.foreign
        return cls(
            process_share=np.array([police.legal_process_share, foreign.legal_process_share], np.float32),
            letter_share=scenario.retention.preservation_request_share, wilson_share=police.wilson_share,
            identification_share=police.identification_share,
            cloud_act_share=foreign.cloud_act_share, ip_lead_share=scenario.isp.ip_lead_share,
            cgnat_share=scenario.isp.cgnat_share, work_sigma=police.work_sigma,
            warrant_median=police.warrant_approval_median_days, warrant_sigma=police.warrant_approval_sigma,
            identification_median=police.identification_median_days, identification_sigma=police.identification_sigma,
            path_median=np.array([police.approval_median_days, foreign.mlat_median_days, foreign.cloud_act_median_days,
                                  police.emergency_median_days]),
            path_sigma=np.array([police.approval_sigma, foreign.mlat_sigma, foreign.cloud_act_sigma, police.emergency_sigma]),
            response_median=np.array([p.response_median_days for p in scenario.platforms]),
            response_sigma=np.array([p.response_sigma for p in scenario.platforms]),
            arrest_median=scenario.downstream.arrest_delay_median_days,
            arrest_sigma=scenario.downstream.arrest_delay_sigma)

    def waits(self, draws: CaseDraws, us: np.ndarray, urgent: np.ndarray, platform: int) -> CaseWaits:
        """The waits of cases (in the order of `draws`), in whole days, from their standard normals and the
        scenario's medians and sigmas, and their work multipliers; `us` and `urgent` per case."""
        path = np.where(us, PATH_US, np.where(draws.cloud_act < np.float32(self.cloud_act_share), PATH_CLOUD_ACT,
                                              PATH_MLAT))
        path[urgent] = PATH_EMERGENCY
        return CaseWaits(
            work_factor=mean_one_lognormal(self.work_sigma, draws.work),
            warrant_days=lognormal_days(self.warrant_median, self.warrant_sigma, draws.warrant),
            identification_days=lognormal_days(self.identification_median, self.identification_sigma,
                                               draws.identification),
            process_days=lognormal_days(self.path_median[path], self.path_sigma[path], draws.process),
            response_days=lognormal_days(self.response_median[platform], self.response_sigma[platform], draws.response),
            arrest_days=lognormal_days(self.arrest_median, self.arrest_sigma, draws.arrest_delay))

    def write(self, store: ReportStore, rows: Rows, draws: CaseDraws, route: np.ndarray, automated: np.ndarray,
              platform: int) -> None:
        """Write the case columns of `rows` (cases, in the order of `draws`) routed to `route` (US or FOREIGN).

        The waits are turned into whole days now (:meth:`waits`); the stages read them when the case gets there.
        """
        urgent = store.urgent[rows]
        us = route == US
        store.needs_process[rows] = draws.needs_process < self.process_share[route]
        store.letter[rows] = draws.letter < np.float32(self.letter_share)
        store.wilson[rows] = automated & ~urgent & us & (draws.wilson < np.float32(self.wilson_share))
        store.identify[rows] = ~urgent & us & (draws.identify < np.float32(self.identification_share))
        store.ip_lead[rows] = us & (draws.ip_lead < np.float32(self.ip_lead_share))
        store.ip_unattributable[rows] = draws.cgnat < np.float32(self.cgnat_share)
        store.platform[rows] = platform
        store.arrest_draw[rows] = draws.arrest
        waits = self.waits(draws, us, urgent, platform)
        store.work_factor[rows] = waits.work_factor
        store.warrant_days[rows] = waits.warrant_days
        store.identification_days[rows] = waits.identification_days
        store.process_days[rows] = waits.process_days
        store.response_days[rows] = waits.response_days
        store.arrest_days[rows] = waits.arrest_days


class CaseWaits(NamedTuple):
    """Cases' work multipliers (float32, mean 1) and waits in whole days (int16, at most MAX_DELAY_DAYS), as the store
    keeps them."""

    work_factor: np.ndarray
    warrant_days: np.ndarray
    identification_days: np.ndarray
    process_days: np.ndarray
    response_days: np.ndarray
    arrest_days: np.ndarray
