"""What two model changes could save, measured before making them (issue 15): neither is a valid model as run here.

    python benchmarks/bounds.py                        # both cases, into benchmarks/results-bounds.json
    python benchmarks/bounds.py --only aggregate --repeat 3

``aggregate``: the reports that carry no actionable evidence and go to a foreign agency (which screens and
closes them the day they arrive) are dropped before filing, after their draws are made, so nothing else
changes. Their cost in the run is then an upper bound on what handling them in aggregate, as daily counts
instead of rows, could save. The whole run and the run without them alternate in one process, best of
``--repeat`` each (kernels loaded once, no daily series), for the national run and ``x_platform``.

``early-losses``: a counted case whose wait at the judge (a warrant) or at the ISP (an identification
subpoena) ends after its preservation deadline is certain to lose its evidence. Booked lost when the wait
starts rather than on its deadline day, the drain (which runs until every counted report is decided) could
end sooner. Measured on the numpy engine (the reference, patched here) for ``x_platform`` under both rules:
the drain's days either way and every summary key that changes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from model import RetentionModel, load_scenario
from model import casework as reference
from model.engine import platform as compiled
from model.model import run

FOREIGN = 1
ONE_YEAR = ["retention.window_days=365"]


# --- aggregate: the run without the reports a foreign agency screens out on arrival ------------------------------

@contextmanager
def without_foreign_screened() -> Iterator[list[int]]:
    """Platforms drop, before filing, their reports that are not actionable and go to a foreign agency; yields
    [dropped, filed] counts."""
    file_drawn = compiled.CompiledPlatform.file_drawn
    counts = [0, 0]

    def kept_only(self: compiled.CompiledPlatform, draws: compiled.DayDraws, day: int) -> int:
        r = draws.reports
        assert r is not None
        agency = self.filing.members[np.searchsorted(self.filing.edges, r.location, side="right")]
        keep = r.is_case | (self.ncmec.desk.route[agency] != FOREIGN)
        counts[0] += int(keep.size - np.count_nonzero(keep))
        counts[1] += int(keep.size)
        if keep.all():
            return file_drawn(self, draws, day)
        # Only the report fields are per report; the case fields are per case, and every case is kept.
        per_report = ("automated", "urgent", "viral", "known", "quality", "location", "is_case")
        kept = r._replace(**{name: getattr(r, name)[keep] for name in per_report})
        return file_drawn(self, compiled.DayDraws(int(np.count_nonzero(keep)), int(np.count_nonzero(kept.automated)),
                                                  kept), day)

    compiled.CompiledPlatform.file_drawn = kept_only
    try:
        yield counts
    finally:
        compiled.CompiledPlatform.file_drawn = file_drawn


def timed_run(scenario_name: str) -> tuple[float, float, dict[str, Any]]:
    """Wall and CPU seconds of building and running the scenario (as sweeps run it), and its summary."""
    scenario = load_scenario(scenario_name)
    cpu = time.process_time()
    _, summary = run(scenario, daily_series=False)
    return summary["wall_seconds"], time.process_time() - cpu, summary


def aggregate(scenario_name: str, repeat: int) -> dict[str, Any]:
    timed_run(scenario_name)   # kernels loaded
    rounds, summaries, dropped = [], {}, 0.0
    for i in range(repeat):
        measured = {}
        for side in (("whole", "without") if i % 2 == 0 else ("without", "whole")):
            if side == "whole":
                wall, cpu, summaries[side] = timed_run(scenario_name)
            else:
                with without_foreign_screened() as counts:
                    wall, cpu, summaries[side] = timed_run(scenario_name)
                dropped = counts[0] / counts[1]
            measured[side] = (round(wall, 3), round(cpu, 3))
        rounds.append(measured)
        print(scenario_name, measured, flush=True)
    best = {side: min(r[side][0] for r in rounds) for side in ("whole", "without")}
    return {"scenario": scenario_name, "rounds": rounds, "best_wall_seconds": best,
            "best_cpu_seconds": {side: min(r[side][1] for r in rounds) for side in ("whole", "without")},
            "saving": round(1 - best["without"] / best["whole"], 3), "share_of_reports_dropped": round(dropped, 4),
            **{f"evidence_lost_rate_{route}": {side: s[f"evidence_lost_rate_{route}"] for side, s in summaries.items()}
               for route in ("us", "foreign")}}


# --- early-losses: certain losses booked when the wait starts ------------------------------------------------------

def book_certain_losses(self: reference.Casework, rows: np.ndarray, back: np.ndarray, day: int) -> int:
    """Counted cases still undecided whose wait ends (on day `back`) after their deadline: lost where they wait,
    booked for the deadline day as :meth:`model.outcomes.Outcomes.schedule` books late legal process. Returns how
    many."""
    store, out = self.store, self.outcomes
    deadline = store.deadline[rows].astype(np.int64)
    certain = (store.counted[rows] & store.actionable[rows] & store.needs_process[rows] & (deadline >= day)
               & (back > deadline))
    rows, deadline = rows[certain], deadline[certain]
    route, stage = self.routes(rows), store.stage[rows].astype(np.int64)
    np.subtract.at(out.expiring, (route, stage, deadline), 1)
    np.add.at(out.lost_on, (route, stage, deadline), 1)
    out.lost_pending += np.bincount(route, minlength=2)
    if day > out.split_day:
        late = store.created[rows] > out.split_day
        np.subtract.at(out.late_expiring, (route[late], deadline[late]), 1)
        out.late_lost += np.bincount(route[late], minlength=2)
    return len(rows)


@contextmanager
def certain_losses_booked_early() -> Iterator[list[int]]:
    """The reference engine books certain losses when the wait starts (:func:`book_certain_losses`); yields [how many
    it booked]."""
    booked = [0]
    originals = reference.Casework._warrant_drafted, reference.Casework._identification_drafted

    def waiting(drafted: Callable[..., None], days: str) -> Callable[..., None]:
        def patched(self: reference.Casework, rows: np.ndarray, day: int) -> None:
            drafted(self, rows, day)
            back = day + np.maximum(getattr(self.store, days)[rows], 1).astype(np.int64)   # as the reference's wait
            booked[0] += book_certain_losses(self, rows, back, day)
        return patched

    reference.Casework._warrant_drafted = waiting(originals[0], "warrant_days")
    reference.Casework._identification_drafted = waiting(originals[1], "identification_days")
    try:
        yield booked
    finally:
        reference.Casework._warrant_drafted, reference.Casework._identification_drafted = originals


def early_losses(scenario_name: str, overrides: list[str]) -> dict[str, Any]:
    def summary() -> dict[str, Any]:
        model = RetentionModel(load_scenario(scenario_name, overrides), engine="numpy", daily_series=False)
        model.run_model()
        return model.summary()

    as_now = summary()
    with certain_losses_booked_early() as booked:
        early = summary()
    changed = {key: [as_now[key], early[key]] for key in as_now if as_now[key] != early[key]}
    print(scenario_name, overrides, "drain days", as_now["drain_days"], "->", early["drain_days"],
          f"({booked[0]} certain losses booked early)", flush=True)
    return {"scenario": scenario_name, "overrides": overrides, "days_simulated": as_now["days"] + as_now["drain_days"],
            "drain_days": [as_now["drain_days"], early["drain_days"]], "certain_losses_booked_early": booked[0],
            "changed_keys": changed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("aggregate", "early-losses"), action="append")
    parser.add_argument("--repeat", type=int, default=4, help="rounds of the aggregate case (default 4)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-bounds.json")))
    args = parser.parse_args()
    cases = args.only or ("aggregate", "early-losses")
    record: dict[str, Any] = {}
    if "aggregate" in cases:
        record["aggregate"] = [aggregate(name, args.repeat) for name in ("x_platform", "baseline_90day")]
    if "early-losses" in cases:
        record["early_losses"] = [early_losses("x_platform", overrides) for overrides in ([], ONE_YEAR)]
    record["environment"] = {"python": sys.version.split()[0], "machine": platform.machine(), "cores": os.cpu_count(),
                             "load_average_1min": round(os.getloadavg()[0], 2), "date": time.strftime("%Y-%m-%d %H:%M"),
                             "command": " ".join(["benchmarks/bounds.py", *sys.argv[1:]])}
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
