"""The settling check: did a run lose the same share of US evidence in both halves of its counted period?

Every counted report is followed to its outcome, so the US loss of the reports created in the first half of
the counted period and of those created in the second half (summary keys
``evidence_lost_rate_us_first_half`` and ``..._second_half``) differ only by chance once the queues have
settled. A loss still rising from one half to the next can mean the warm-up was too short and the rates are
understated (docs/ODD.md, warm-up); a change either way can also come from the load changing within the
counted period (a surge, growth in volume). Chance is measured as the binomial standard error of the two
halves, each taken as half of the US cases that needed legal process. Queues make neighbouring reports'
outcomes alike, so that error can be too small (six settled seeds of ``x_platform``: differences with a
standard deviation of 1.0 points against a binomial 0.8; twelve at a fifth of its volume: all within 1.3
standard errors): a difference is flagged only beyond :data:`SETTLING_Z` of them. In overloaded runs outcomes
move together with the queues far more, and chance alone can pass that threshold (two of five flagged draws of an
uncertainty study, rerun with a longer warm-up, docs/ODD.md): a flag is a prompt to rerun, not a verdict.

The halves can agree while a queue is still filling: an agency whose investigators fall a little short of
its load gains a few weeks of backlog a year, and its referrals lose more only once their wait nears their
deadline. So a run also reports how much the longest wait grew over the counted period in NCMEC's queue and
in each US agency's referrals (``longest_wait_growth_days``, the queue in ``longest_wait_growth_queue``). A
settled queue's longest wait stays put, whether short or held at the backlog limit; one still filling gains
about (offered load - 1) days a day until it reaches that limit. A study reruns draws whose growth exceeds
:data:`FILLING_DAYS`; a single run is told beyond :data:`NOTE_FILLING_DAYS` (docs/ODD.md, "The second check").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Standard errors beyond which the halves' difference is flagged (about three real standard deviations in a
#: congested but not overloaded run; fewer in an overloaded one).
SETTLING_Z = 4.0

FIRST, SECOND = "evidence_lost_rate_us_first_half", "evidence_lost_rate_us_second_half"

#: Days the longest wait of a queue may grow over the counted period before a study reruns the run's draw with a
#: longer warm-up (:mod:`model.uncertainty.settle`). Measured on the 256 draws of ``tipline uncertainty
#: x_platform``: agencies with hours to spare (under 98% used) in draws whose loss did not move changed their longest
#: wait by at most 11 days over the counted year (99% within 6), while in 19 of the 20 draws whose loss rose with a
#: longer warm-up one agency's grew by 18-81 days; 21 other draws are flagged too, queues filling (by up to 85 days)
#: where their waits no longer change the loss (docs/ODD.md).
FILLING_DAYS = 15
#: Growth (days) beyond which a single run is told its queues may still be filling. Higher than the study's screen:
#: a queue can fill where its waits no longer change the loss (``x_platform``'s most overloaded stratum gains
#: 34-47 days in the counted year at its shipped warm-up, while three times that warm-up moves its US loss by
#: 0.2 points, within chance), and a note on every such run would be a false alarm; a study's rerun is not.
NOTE_FILLING_DAYS = 60
GROWTH, GROWTH_QUEUE = "longest_wait_growth_days", "longest_wait_growth_queue"

#: A queue's name -> the days its longest-waiting entry has waited.
LongestWaits = dict[str, int]


def wait_growth(start: LongestWaits, end: LongestWaits) -> dict[str, Any]:
    """The filling check's summary keys: the queue whose longest wait grew most from `start` (the end of the
    warm-up) to `end` (the end of the counted period), and by how many days (0 days and no queue when none grew)."""
    days, name = max(((end[name] - start.get(name, 0), name) for name in end), key=lambda g: g[0], default=(0, None))
    return {GROWTH: days, GROWTH_QUEUE: name} if days > 0 else {GROWTH: 0, GROWTH_QUEUE: None}


@dataclass(frozen=True)
class Drift:
    """The US loss of the counted period's two halves (shares), and their difference in standard errors."""

    first: float
    second: float
    z: float

    @property
    def unsettled(self) -> bool:
        return abs(self.z) > SETTLING_Z

    @property
    def direction(self) -> str:
        """"rose" or "fell", from the first half to the second."""
        return "rose" if self.second > self.first else "fell"

    @property
    def points(self) -> float:
        """Second half minus first, in percentage points."""
        return 100 * (self.second - self.first)


def drift(summaries: Sequence[dict[str, Any]]) -> Drift | None:
    """The halves' mean US loss over runs of one scenario (replications), or None when a half has no rate."""
    pairs = [(s.get(FIRST), s.get(SECOND), s.get("legal_process_needed_us") or 0) for s in summaries]
    if not pairs or any(a is None or b is None or not n for a, b, n in pairs):
        return None
    first = sum(a for a, _, _ in pairs) / len(pairs)
    second = sum(b for _, b, _ in pairs) / len(pairs)
    variance = sum((a * (1 - a) + b * (1 - b)) / (n / 2) for a, b, n in pairs) / len(pairs) ** 2
    se = math.sqrt(variance)
    difference = second - first
    z = difference / se if se > 0 else (0.0 if difference == 0 else math.copysign(math.inf, difference))
    return Drift(first, second, z)


@dataclass(frozen=True)
class Filling:
    """The queue whose longest wait grew most over the counted period, and by how many days (mean over runs)."""

    queue: str
    days: float

    @property
    def unsettled(self) -> bool:
        """Beyond a study's screen (:data:`FILLING_DAYS`)."""
        return self.days > FILLING_DAYS

    @property
    def noted(self) -> bool:
        """Beyond a single run's note (:data:`NOTE_FILLING_DAYS`)."""
        return self.days > NOTE_FILLING_DAYS

    def text(self) -> str:
        return f"the longest wait in {self.queue}'s queue grew by {self.days:.0f} days over the counted period"


def filling(summaries: Sequence[dict[str, Any]]) -> Filling | None:
    """The longest waits' growth over runs of one scenario (replications), or None when the runs do not report it."""
    growths = [(s.get(GROWTH), s.get(GROWTH_QUEUE)) for s in summaries]
    if not growths or any(days is None or days != days for days, _ in growths):
        return None
    queue = max(growths, key=lambda g: g[0])[1]
    return Filling(queue if isinstance(queue, str) else "", sum(days for days, _ in growths) / len(growths))


def is_unsettled(summaries: Sequence[dict[str, Any]]) -> bool:
    """Whether a study should rerun runs of one scenario with a longer warm-up: their halves differ beyond chance or
    a queue's longest wait grew beyond :data:`FILLING_DAYS` (no verdict: False)."""
    found, growing = drift(summaries), filling(summaries)
    return bool(found and found.unsettled) or bool(growing and growing.unsettled)


def settling_note(summaries: Sequence[dict[str, Any]], label: str) -> str | None:
    """A sentence when the halves differ beyond chance or a queue's longest wait grew beyond
    :data:`NOTE_FILLING_DAYS` (None otherwise); `label` names the scenario."""
    found, growing = drift(summaries), filling(summaries)
    signs = []
    if found is not None and found.unsettled:
        signs.append(f"the US loss {found.direction} from {100 * found.first:.1f}% (reports created in the first half "
                     f"of the counted period) to {100 * found.second:.1f}% (second half), {abs(found.z):.1f} standard "
                     "errors apart")
    if growing is not None and growing.noted:
        signs.append(growing.text())
    if not signs:
        return None
    return (f"{label}: {'; and '.join(signs)}: the queues may not have settled (rerun with a longer run.warmup_days "
            "to check; in overloaded runs chance alone can move the halves) or the load changed within the counted "
            "period (docs/ODD.md, warm-up)")
