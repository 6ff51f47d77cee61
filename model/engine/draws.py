"""A platform's draws turned into its reports' and cases' facts, compiled: the same arithmetic as
:meth:`model.draws.ReportDraws.draw` and :meth:`model.cases.CaseRules.waits` (the reference), on the same
random numbers, in two passes instead of some fifty numpy calls on a day's few thousand reports.

The uniforms and normals are drawn by numpy as the reference draws them (the streams are part of the output),
and ``exp`` stays numpy's (:func:`case_waits` takes the exponentials: numpy's vectorised ``exp`` and LLVM's
may differ in the last bit). Every other operation is IEEE arithmetic in the reference's types (float32
where it uses float32), so the facts are identical bit for bit (tests/test_engine.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from model.draws import CASE_NORMALS, CASE_UNIFORMS, MAX_DELAY_DAYS

PATH_US, PATH_MLAT, PATH_CLOUD_ACT, PATH_EMERGENCY = 0, 1, 2, 3   # model.cases
#: The case normals that give waits in days, in the rows of :func:`case_exponents`' first result.
WAIT_NORMALS = ("warrant", "identification", "process", "response", "arrest_delay")
_WAIT_ROWS = np.array([CASE_NORMALS.index(name) for name in WAIT_NORMALS], np.int64)
_WORK_ROW = CASE_NORMALS.index("work")
_CLOUD_ACT_ROW = CASE_UNIFORMS.index("cloud_act")


class Shares(NamedTuple):
    """A platform's report shares (model.params.PlatformSpec), as float32 for the comparisons."""

    automated: np.float32
    urgent: np.float32
    viral: np.float32
    known: np.float32
    quality: np.float32          # the quality share: a report is a referral iff its uniform is below it
    has_quality: bool            # quality share above 0 (else no report is a referral)
    actionable: np.float32
    quality_signal: np.float32


class Sigmas(NamedTuple):
    """The lognormal waits' medians (days) and sigmas (CaseRules), for one platform."""

    work_sigma: np.float32       # float32, as numpy casts the Python float against float32 normals
    work_offset: np.float32      # sigma^2 / 2, likewise
    median: np.ndarray           # float64 [warrant, identification, response, arrest]
    sigma: np.ndarray            # float64, the same
    path_median: np.ndarray      # float64 by path
    path_sigma: np.ndarray
    cloud_act_share: np.float32
    us_below: np.float32         # a location below this is routed to a US agency (model.agents.Routing.us_below)


@njit(cache=True, nogil=True)
def report_facts(u: np.ndarray, s: Shares, n_extra: int, viral_extra: np.float32) -> tuple:
    """The reports' flags and quality score from their seven uniforms (rows of `u`, ATTRIBUTES order); the last
    `n_extra` are a surge's, viral with `viral_extra`. Returns (automated, urgent, viral, known, score, is_case,
    cases)."""
    n = u.shape[1]
    automated, urgent = np.empty(n, np.bool_), np.empty(n, np.bool_)
    viral, known, is_case = np.empty(n, np.bool_), np.empty(n, np.bool_), np.empty(n, np.bool_)
    score = np.empty(n, np.float32)
    one, two = np.float32(1), np.float32(2)
    cases = 0
    for i in range(n):
        automated[i] = u[0, i] < s.automated
        urgent[i] = u[1, i] < s.urgent
        v = u[2, i] < (viral_extra if i >= n - n_extra else s.viral)
        viral[i] = v
        known[i] = v or u[3, i] < s.known
        q = u[4, i] / s.quality if s.has_quality else np.float32(np.inf)
        score[i] = q
        threshold = s.actionable * (one + s.quality_signal * (one - two * min(q, one)))
        case = q < one and not v and u[6, i] < threshold
        is_case[i] = case
        cases += case
    return automated, urgent, viral, known, score, is_case, cases


@njit(cache=True, nogil=True)
def case_exponents(location: np.ndarray, urgent: np.ndarray, is_case: np.ndarray, uniforms: np.ndarray, normals: np.ndarray,
                   s: Sigmas) -> tuple:
    """The cases' exponents: float64 [5, m] (WAIT_NORMALS order: sigma times the normal), the work multipliers'
    float32 [m], and each case's legal-process path."""
    m = normals.shape[1]
    waits, work = np.empty((5, m), np.float64), np.empty(m, np.float32)
    path = np.empty(m, np.int64)
    j = 0
    for i in range(len(is_case)):
        if not is_case[i]:
            continue
        if urgent[i]:
            p = PATH_EMERGENCY
        elif location[i] < s.us_below:
            p = PATH_US
        else:
            p = PATH_CLOUD_ACT if uniforms[_CLOUD_ACT_ROW, j] < s.cloud_act_share else PATH_MLAT
        path[j] = p
        for k in range(5):
            sigma = s.path_sigma[p] if k == 2 else s.sigma[k if k < 2 else k - 1]
            waits[k, j] = sigma * np.float64(normals[_WAIT_ROWS[k], j])
        work[j] = s.work_sigma * normals[_WORK_ROW, j] - s.work_offset
        j += 1
    return waits, work, path


@njit(cache=True, nogil=True)
def case_waits(exps: np.ndarray, path: np.ndarray, s: Sigmas) -> tuple:
    """Whole days (int16) of each wait from its exponential (as :func:`model.draws.lognormal_days`): warrant,
    identification, process, response, arrest."""
    m = len(path)
    days = np.empty((5, m), np.int16)
    for j in range(m):
        for k in range(5):
            median = s.path_median[path[j]] if k == 2 else s.median[k if k < 2 else k - 1]
            days[k, j] = np.int16(min(np.ceil(median * exps[k, j]), np.float64(MAX_DELAY_DAYS)))
    return days[0], days[1], days[2], days[3], days[4]
