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


def settling_note(summaries: Sequence[dict[str, Any]], label: str) -> str | None:
    """A sentence when the halves differ beyond chance (None otherwise); `label` names the scenario."""
    found = drift(summaries)
    if found is None or not found.unsettled:
        return None
    return (f"{label}: the US loss {found.direction} from {100 * found.first:.1f}% (reports created in the first half of "
            f"the counted period) to {100 * found.second:.1f}% (second half), {abs(found.z):.1f} standard errors "
            "apart: the queues may not have settled (rerun with a longer run.warmup_days to check; in overloaded "
            "runs chance alone can do this) or the load changed within the counted period (docs/ODD.md, warm-up)")
