"""The per-report random draws, made once when a report is filed (common random numbers).

A platform draws every report's attributes, and every case's latent uniforms and normals, from its
own streams when the report is created. Stages then turn draws into decisions with their own
parameters (a uniform below a share, a lognormal delay from a normal), so two scenarios that differ
only in a policy or a staffing level see the same reports and the same draws.

Stream order is part of the model's output: adding a draw means adding a field at the end of its
record (and a CHANGELOG entry), so earlier draws keep their values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.params import PlatformSpec

#: Report attributes, one uniform each (in draw order).
ATTRIBUTES = ("automated", "urgent", "viral", "known", "quality", "location", "actionable")
#: Case uniforms and standard normals (in draw order), drawn for actionable referrals only.
CASE_UNIFORMS = ("needs_process", "letter", "wilson", "cloud_act", "ip_lead", "cgnat", "arrest", "identify")
CASE_NORMALS = ("work", "warrant", "process", "response", "arrest_delay", "identification")


#: The longest delay, in days (about 90 years). A long-tailed draw (a sigma of 5 allows a median times e^30) is capped
#: here so that whole days fit in int16, two bytes a wait in the store. It is the same as never: longer than any run
#: and its drain together (``run.days`` and ``run.drain_max_days`` are at most 7,300 days each), and any deadline falls
#: sooner (at most 14,600 days plus the longest hold, under 11,000). Draws within the plausible ranges never come near
#: it. Add a day to a wait as int64 (``.astype(np.int64)``): in int16 it would wrap round.
MAX_DELAY_DAYS = int(np.iinfo(np.int16).max)


def lognormal_days(median: float | np.ndarray, sigma: float | np.ndarray, z: np.ndarray) -> np.ndarray:
    """Whole days (rounded up) of lognormal delays with the given medians (days), from standard normals.

    A median of 0 gives 0 days; no delay is longer than :data:`MAX_DELAY_DAYS`.
    """
    return np.minimum(np.ceil(median * np.exp(sigma * z.astype(np.float64))), MAX_DELAY_DAYS).astype(np.int16)


def mean_one_lognormal(sigma: float, z: np.ndarray) -> np.ndarray:
    """Lognormal multipliers with mean 1 (median exp(-sigma^2 / 2)) from standard normals (float32)."""
    return exp32(sigma * z - sigma * sigma / 2)


def exp32(x: np.ndarray) -> np.ndarray:
    """float32 exponentials of float32 `x`, the same on every CPU: taken in float64, then rounded.

    numpy's float32 exp has a version for each family of SIMD instructions, and they differ in the last bit (on an
    AVX-512 machine, 39% of 2 million values differ from those of the version for CPUs without AVX2; the shipped
    scenarios' results changed with them). Its float64 versions differ in a last bit too (4.6% of the same values,
    between the AVX-512 version and the others), which rounding to float32 kept in none of them (it can keep
    a few in 10^9 of such differences).
    """
    return np.exp(x.astype(np.float64)).astype(np.float32)


def report_uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    """The uniforms of `n` reports: float32 [len(ATTRIBUTES), n]."""
    return rng.random((len(ATTRIBUTES), n), dtype=np.float32)


def case_variates(rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The uniforms (float32 [len(CASE_UNIFORMS), m]), then the standard normals (float32 [len(CASE_NORMALS), m]),
    of `m` cases."""
    return (rng.random((len(CASE_UNIFORMS), m), dtype=np.float32),
            rng.standard_normal((len(CASE_NORMALS), m), dtype=np.float32))


@dataclass
class CaseDraws:
    """Latent draws of `m` cases (actionable referrals), in the order of the cases among the reports."""

    needs_process: np.ndarray  # uniforms, float32
    letter: np.ndarray
    wilson: np.ndarray
    cloud_act: np.ndarray
    ip_lead: np.ndarray
    cgnat: np.ndarray
    arrest: np.ndarray
    identify: np.ndarray
    work: np.ndarray           # standard normals, float32
    warrant: np.ndarray
    process: np.ndarray
    response: np.ndarray
    arrest_delay: np.ndarray
    identification: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, m: int) -> CaseDraws:
        """A fixed number of uniforms, then normals, per case."""
        u, z = case_variates(rng, m)
        return cls(*u, *z)


@dataclass
class ReportDraws:
    """Attributes of `n` reports filed by one platform on one day (arrays of length n).

    ``quality`` is a completeness score: a report is a referral (usable user, IP and location data)
    iff its score is below 1, and among referrals a lower score is more complete.
    """

    automated: np.ndarray  # bool: no person at the platform viewed the file
    urgent: np.ndarray     # bool
    viral: np.ndarray      # bool: a copy of viral content (bundled by NCMEC when bundling is on)
    known: np.ndarray      # bool: matches a known hash (viral copies always do)
    quality: np.ndarray    # float32 score
    location: np.ndarray   # float32 uniform, mapped to an agency by the routing table
    actionable: np.ndarray  # bool (never for viral copies)
    cases: CaseDraws       # for the reports with quality < 1 and actionable, in order

    @property
    def is_case(self) -> np.ndarray:
        """Actionable referrals."""
        return (self.quality < 1) & self.actionable

    @classmethod
    def draw(cls, attribute_rng: np.random.Generator, case_rng: np.random.Generator, spec: PlatformSpec, n: int,
             n_extra: int = 0, viral_share_extra: float = 0.0) -> ReportDraws:
        """Draw `n` reports (the last `n_extra` from a surge, viral with `viral_share_extra`).

        Actionable: ``u < actionable_share * (1 + s * (1 - 2 q))`` for a referral of completeness rank
        ``q`` in [0, 1) and quality signal ``s``, so the share stays ``actionable_share`` on average
        while more complete referrals are more often actionable.
        """
        u = report_uniforms(attribute_rng, n)
        automated, urgent, viral, known, quality, location, actionable = u
        viral = viral < np.float32(spec.viral_share)
        if n_extra:
            viral[n - n_extra:] = u[2, n - n_extra:] < np.float32(viral_share_extra)
        score = quality / np.float32(spec.quality_share) if spec.quality_share > 0 else np.full(n, np.inf, np.float32)
        rank = np.minimum(score, 1)
        threshold = np.float32(spec.actionable_share) * (1 + np.float32(spec.quality_signal) * (1 - 2 * rank))
        actionable = ~viral & (actionable < threshold)
        is_case = (score < 1) & actionable
        return cls(automated=automated < np.float32(spec.automated_share), urgent=urgent < np.float32(spec.urgent_share),
                   viral=viral, known=viral | (known < np.float32(spec.known_content_share)), quality=score,
                   location=location, actionable=actionable, cases=CaseDraws.draw(case_rng, int(np.count_nonzero(is_case))))
