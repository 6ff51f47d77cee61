"""A platform's day of filing, compiled: the same steps as :meth:`model.agents.Platform._write` and
:meth:`model.cases.CaseRules.write` (the reference), then NCMEC's receipt (:func:`model.engine.triage.receive`),
in one call.

The reports' flags and the cases' waits are made before the call from the reference's uniforms and normals
(:mod:`model.engine.draws`, the same values as :class:`model.draws.ReportDraws` and
:meth:`model.cases.CaseRules.waits`); the rows come from the store's free list
(:meth:`model.reports.ReportStore.allocate`: numpy sorts them faster than numba). The kernel routes each
report by its location uniform, writes its columns and its case's, books the counted cases that need
legal process in the ledger, and queues the reports at NCMEC.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.typed import List

from model.engine.columns import Columns
from model.engine.lanes import LaneQueue
from model.engine.ledger import OPEN_OTHER, Ledger
from model.engine.triage import Triage, receive

NCMEC_STAGE, REVIEW = 0, 0        # model.outcomes.Stage.NCMEC, model.cases.Step.REVIEW
US = 0


class Filing(NamedTuple):
    """A platform's numbers: its retention, its routing table and the scenario's case shares."""

    platform: int
    retention_days: int          # deadline = filing day + this
    edges: np.ndarray            # float32 location edges between routing bands (model.agents.Routing.edges32)
    members: np.ndarray          # int16 agency of each band
    process_share: np.ndarray    # float32 [US, foreign]
    letter_share: np.float32
    wilson_share: np.float32
    identification_share: np.float32
    ip_lead_share: np.float32
    cgnat_share: np.float32


class Reports(NamedTuple):
    """A day's reports (ReportDraws' facts, length n) and cases (CaseDraws' uniforms and CaseWaits, length m)."""

    automated: np.ndarray
    urgent: np.ndarray
    viral: np.ndarray
    known: np.ndarray
    quality: np.ndarray
    location: np.ndarray
    is_case: np.ndarray
    needs_process: np.ndarray    # case uniforms
    letter: np.ndarray
    wilson: np.ndarray
    identify: np.ndarray
    ip_lead: np.ndarray
    cgnat: np.ndarray
    arrest: np.ndarray
    work_factor: np.ndarray      # case waits
    warrant_days: np.ndarray
    identification_days: np.ndarray
    process_days: np.ndarray
    response_days: np.ndarray
    arrest_days: np.ndarray


@njit(cache=True, nogil=True)
def file_reports(arenas: List, led: Ledger, col: Columns, q: LaneQueue, triage: Triage, route_of: np.ndarray,
                 filing: Filing, rows: np.ndarray, r: Reports, day: int, counted: bool) -> np.ndarray:
    """File the day's reports in `rows` (new rows of the store); returns [cases needing legal process, US and
    foreign (counted only), reports bundled at NCMEC]."""
    n = len(rows)
    deadline = day + filing.retention_days
    edges, n_edges = filing.edges, len(filing.edges)
    need = np.zeros(2, np.int64)
    j = 0
    for i in range(n):
        row = rows[i]
        band = 0   # the location's band: the edges at or below it (they are in increasing order)
        while band < n_edges and r.location[i] >= edges[band]:
            band += 1
        agency = filing.members[band]
        col.created[row] = day
        col.deadline[row] = deadline
        col.agency[row] = agency
        col.counted[row] = counted
        col.urgent[row] = r.urgent[i]
        col.quality[row] = r.quality[i]
        col.actionable[row] = r.is_case[i]
        col.stage[row] = NCMEC_STAGE
        col.step[row] = REVIEW
        if not r.is_case[i]:
            continue
        route = route_of[agency]
        us = route == US
        plain = us and not r.urgent[i]
        needs_process = r.needs_process[j] < filing.process_share[route]
        col.needs_process[row] = needs_process
        col.letter[row] = r.letter[j] < filing.letter_share
        col.wilson[row] = plain and r.automated[i] and r.wilson[j] < filing.wilson_share
        col.identify[row] = plain and r.identify[j] < filing.identification_share
        col.ip_lead[row] = us and r.ip_lead[j] < filing.ip_lead_share
        col.ip_unattributable[row] = r.cgnat[j] < filing.cgnat_share
        col.platform[row] = filing.platform
        col.arrest_draw[row] = r.arrest[j]
        col.work_factor[row] = r.work_factor[j]
        col.warrant_days[row] = r.warrant_days[j]
        col.identification_days[row] = r.identification_days[j]
        col.process_days[row] = r.process_days[j]
        col.response_days[row] = r.response_days[j]
        col.arrest_days[row] = r.arrest_days[j]
        j += 1
        if counted and needs_process:   # as Outcomes.need_process
            need[route] += 1
            led.expiring[route, NCMEC_STAGE, deadline] += 1
            if day > led.split_day:
                led.late_expiring[route, deadline] += 1
    if counted:   # as Outcomes.filed: the rest are open until they end
        led.counts[OPEN_OTHER] += n - need[0] - need[1]
    bundled = receive(arenas, led, col, q, triage, rows, r.urgent, r.known, r.viral, day)
    return np.array([need[0], need[1], bundled], np.int64)
