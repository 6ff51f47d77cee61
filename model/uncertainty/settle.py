"""Rerunning the draws that had not settled, with a longer warm-up.

Each run checks whether its queues had settled before it counted (:mod:`model.settling`: the US loss of the two
halves of the counted period, and the growth of each queue's longest wait over it). A draw whose queues were
still filling loses more than its run shows, so a study that kept such runs would understate the upper tail of
the answer. After both sides have run, a study reruns every point with a flagged run (on either side, in any
replication; both sides and every replication again, so that the difference stays paired) with the warm-up
doubled and the counted days kept, and uses the reruns for those points. Each round doubles the warm-up again
for the points still flagged.

A flag can also be chance (overloaded runs' outcomes move together with their queues): rerunning such a draw
gives another run of the same draw, so the answer is not biased by rerunning it. When many draws are flagged
(more than :data:`MAX_RERUN_SHARE` of them), the warm-up is short for the study as a whole: rerunning only the
flagged draws would then compare draws counted after different warm-ups, those not flagged by chance with the
shorter one, and so distort the drivers. The study then reruns nothing and says to lengthen the warm-up of all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import settling
from model.params import Scenario
from model.scenarios import scenario_with
from model.settling import FIRST, GROWTH, GROWTH_QUEUE, SECOND

#: The largest share of a study's draws rerun alone; beyond it the warm-up is short for the whole study. A half: a
#: study at a 30-day warm-up flagged 10 of its 16 draws, and rerunning them alone distorted the drivers (an input that
#: cannot act got a partial rank correlation of 0.56) because unsettled draws escaped the halves' check by chance;
#: with the longest wait as well, 19 of the 20 draws of the `x_platform` study whose loss rose with a longer warm-up
#: are flagged (docs/ODD.md), so few escape, while a screen that catches them flags more draws whose loss does not
#: move (on 12 draws of the national study the two checks flag 3, a quarter).
MAX_RERUN_SHARE = 0.5
#: The summary keys the checks read.
CHECKED = (FIRST, SECOND, "legal_process_needed_us", GROWTH, GROWTH_QUEUE)
#: The column that says which round a run comes from (0: the study's own runs).
ROUND_COLUMN = "settle_round"


@dataclass(frozen=True)
class SettleRound:
    """One round of reruns: the points rerun, each side's warm-up (days), and the runs flagged before it."""

    round: int
    points: list[int]
    warmup_days: dict[str, int]
    unsettled_runs: int


def too_many_note(points: int, of: int, scenario: Scenario, round_: int) -> str:
    """What a study says when, before round `round_`, too many of its draws had not settled to rerun them alone."""
    had, longer = round_warmup(scenario, round_ - 1), round_warmup(scenario, round_)
    counted = scenario.run.days - scenario.run.warmup_days
    return (f"{points} of {of} draws had a run that may not have settled, more than {MAX_RERUN_SHARE:.0%}: the warm-up "
            f"({had:,} days) looks short for the study as a whole, and rerunning only those draws would compare "
            f"draws counted after different warm-ups; none was rerun. Run the study again with a longer warm-up for "
            f"all, e.g. --set run.warmup_days={longer} --days {longer + counted}")


def warmup_text(days: Mapping[str, int]) -> str:
    """A round's warm-up (days): one number, or each side's when they differ."""
    a, b = days["a"], days["b"]
    return f"{a:,}" if a == b else f"{a:,} (A) and {b:,} (B)"


def is_unsettled(row: Mapping[str, object]) -> bool:
    """Whether one run's halves differ beyond chance or a queue was still filling (:func:`model.settling.is_unsettled`;
    False when the run has neither check, e.g. a failed run)."""
    values = {k: (None if pd.isna(row.get(k)) else row.get(k)) for k in CHECKED}
    return settling.is_unsettled([values])


def unsettled_runs(frames: Iterable[pd.DataFrame]) -> int:
    """Runs whose US loss differs between the halves of the counted period beyond chance."""
    return sum(len(_flagged(frame)) for frame in frames)


def unsettled(frames: Iterable[pd.DataFrame]) -> tuple[list[int], int]:
    """The points with a flagged run on any side, in order, and how many runs are flagged."""
    flagged = [_flagged(frame) for frame in frames]
    return sorted({int(point) for frame in flagged for point in frame["point"]}), sum(len(f) for f in flagged)


def _flagged(frame: pd.DataFrame) -> pd.DataFrame:
    if not set(CHECKED) & set(frame.columns):
        return frame.iloc[:0]
    return frame[[is_unsettled(row) for row in frame.to_dict("records")]]


def round_warmup(scenario: Scenario, round_: int) -> int:
    """The warm-up (days) of the reruns of round `round_` (0: the study's own): 2**round_ times the study's (its counted
    days when it had none)."""
    run = scenario.run
    if round_ == 0:
        return run.warmup_days
    return (run.warmup_days or run.days - run.warmup_days) * 2 ** round_


def longer_warmup(scenario: Scenario, round_: int) -> Scenario:
    """`scenario` with the warm-up of round `round_` (:func:`round_warmup`), the counted days kept."""
    warmup = round_warmup(scenario, round_)
    counted = scenario.run.days - scenario.run.warmup_days
    return scenario_with(scenario, [f"run.warmup_days={warmup}", f"run.days={warmup + counted}"])


def replace_points(frame: pd.DataFrame, rerun: pd.DataFrame, points: list[int], replications: int,
                   round_: int) -> pd.DataFrame:
    """`frame` with the runs of `points` replaced by `rerun` (a sweep of those points, numbered from 0)."""
    rerun = rerun.copy()
    study_point = np.asarray(points)[rerun["point"].to_numpy(int)]
    rerun["run_id"] = study_point * replications + rerun["replication"].to_numpy(int)
    rerun["point"] = study_point
    rerun[ROUND_COLUMN] = round_
    kept = frame[~frame["point"].isin(points)].copy()
    if ROUND_COLUMN not in kept:
        kept[ROUND_COLUMN] = 0
    return pd.concat([kept, rerun], ignore_index=True).sort_values("run_id", ignore_index=True)


def stored_runs(directory: Path, settling: Sequence[Mapping[str, Any]], replications: int) -> dict[str, pd.DataFrame]:
    """A stored study's runs per side (``a/``, ``b/``) with the reruns of its `settling` rounds (summary.json's
    ``settling``) in place, as :func:`model.uncertainty.run_study` returned them."""
    from model.sweeps.store import load_results

    runs = {label: load_results(directory / label) for label in ("a", "b")}
    for r in settling:
        for label, frame in runs.items():
            rerun = load_results(directory / f"{label}-settle{r['round']}")
            runs[label] = replace_points(frame, rerun, list(r["points"]), replications, int(r["round"]))
    return runs
