"""Running an uncertainty study: A and B at every draw of the assumptions, on common random numbers.

Each side is a sweep (:mod:`model.sweeps`) whose design points are the same draws on the unit cube,
mapped to that side's plausible ranges, with the same replication seeds at every point and on both
sides. The two sweeps are stored in ``DIR/a`` and ``DIR/b``, so a study is resumable, runs on local
processes or a Dask cluster, and gives the same results whatever runs it. Draws with a run that had not
settled are then rerun with a longer warm-up (:mod:`model.uncertainty.settle`), in ``DIR/a-settle1`` and
``DIR/b-settle1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.experiments import replication_seeds, scenario_pair
from model.params import STEADY_STATE_BACKLOGS, Scenario, settling_days
from model.scenarios import scenario_with
from model.sweeps import Design, SweepSpec, run_sweep
from model.sweeps.runs import Simulate
from model.uncertainty.assumptions import Assumption, Setting, choose, design_points, unit_points
from model.uncertainty.options import SETTLE_ROUNDS
from model.uncertainty.settle import (
    MAX_RERUN_SHARE,
    SettleRound,
    longer_warmup,
    replace_points,
    too_many_note,
    unsettled,
    unsettled_runs,
)

#: The key whose longest draw sets the warm-up the study needs (queues settle in up to three times the backlog limit).
BACKLOG_KEY = "law_enforcement.backlog_limit_days"

#: Per-run outcomes a study keeps, per side: name in the study -> summary key.
OUTCOMES = {"rate_us": "evidence_lost_rate_us", "rate_foreign": "evidence_lost_rate_foreign"}
DESIGNS = ("lhs", "sobol")


@dataclass
class Study:
    """A finished study: the sides, the assumptions varied and held, the unit draws and the outcomes."""

    a: str
    b: str
    design: str
    samples: int
    replications: int
    seed: int
    assumptions: list[Assumption]
    held: list[str]
    settings_a: dict[str, list[Setting]]
    unit: np.ndarray                      # one row per point, one column per assumption, in [0, 1)
    points: pd.DataFrame                  # per point: rate_us_a, rate_us_b, difference_us, ... (replication means)
    failed: int = 0
    counted_days: int = 365               # side A's counted days (run.days - run.warmup_days): flows per year
    warmup_note: str | None = None        # the warm-up raised for the longest backlog limit drawn, if it was
    out: Path | None = None
    runs: dict[str, pd.DataFrame] = field(default_factory=dict)   # per side, with the reruns in place
    settling: list[SettleRound] = field(default_factory=list)     # the rounds of reruns (model.uncertainty.settle)
    settling_note: str | None = None      # why flagged draws were not rerun, if they were not

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.assumptions]


def _design(scenario: Scenario, label: str, assumptions: Sequence[Assumption], side: dict[str, list[Setting]],
            unit: np.ndarray, design: str, samples: int, seeds: list[int], seed: int) -> Design:
    factors = [{"key": s.key, "low": s.low, "high": s.high,
                "distribution": "loguniform" if a.scale == "log" else "uniform"}
               for a in assumptions for s in side[a.name]]
    spec = SweepSpec.model_validate({"name": f"uncertainty {label}", "base": scenario.name, "design": design,
                                     "samples": samples, "replications": len(seeds), "seed": seed,
                                     "factors": factors, "metrics": list(OUTCOMES.values())})
    points = design_points(assumptions, side, unit)
    return Design(spec=spec, base=scenario, keys={f["key"]: [f["key"]] for f in factors}, points=points,
                  seeds=seeds, seed=seed)


def run_study(a: str | Scenario, b: str | Scenario | None = None, *, samples: int = 64, replications: int = 1,
              design: str = "lhs", overrides: Sequence[str] = (), overrides_a: Sequence[str] = (),
              overrides_b: Sequence[str] = (), only: Sequence[str] = (), fix: Sequence[str] = (),
              seed: int | None = None, out: str | Path | None = None, workers: int | None = None,
              scheduler: str | None = None, dask_local: bool = False, resume: bool = False,
              progress: bool | None = None, simulate: Simulate | None = None,
              settle_rounds: int = SETTLE_ROUNDS) -> Study:
    """Run A and B at `samples` draws of the plausible assumptions (see :mod:`model.uncertainty`).

    `b` None: A under the 90-day rule and under one-year retention, as in ``compare``. `design`: ``lhs``
    (Latin hypercube, `samples` points) or ``sobol`` (Saltelli, ``samples * (k + 2)`` points for k
    assumptions; `samples` a power of two). `only` / `fix`: assumption names to vary alone / to hold at
    the scenario's values. `out`: a directory for the two resumable sweep stores (``a/``, ``b/``).
    """
    if design not in DESIGNS:
        raise ValueError(f"design {design!r}: allowed: {', '.join(DESIGNS)}")
    if samples < 2 or replications < 1:
        raise ValueError("samples must be at least 2 and replications at least 1")
    scenario_a, scenario_b = scenario_pair(a, b, overrides, overrides_a, overrides_b)
    assumptions, held, side_a, side_b = choose(scenario_a, scenario_b, only, fix)
    (scenario_a, scenario_b), warmup_note = steady_warmup((scenario_a, scenario_b), (side_a, side_b))
    if design == "lhs" and samples < len(assumptions) + 4:
        raise ValueError(f"samples {samples}: ranking {len(assumptions)} assumptions by partial rank correlation needs "
                         f"at least {len(assumptions) + 4} points (more is better: 4 to 10 times as many); use a larger "
                         "-n, or vary fewer assumptions with --only / --fix")
    root = scenario_a.run.seed if seed is None else seed
    seeds = replication_seeds(root, replications)
    unit = unit_points(assumptions, samples, design, root)
    out = Path(out) if out is not None else None
    sides = (("a", scenario_a, side_a), ("b", scenario_b, side_b))

    def sweep(plan: Design, directory: str) -> pd.DataFrame:
        return run_sweep(plan, None if out is None else out / directory, workers=workers, scheduler=scheduler,
                         dask_local=dask_local, resume=resume, progress=progress, simulate=simulate)

    runs = {label: sweep(_design(scenario, label, assumptions, side, unit, design, samples, seeds, root), label)
            for label, scenario, side in sides}
    settling, settling_note = [], None
    for round_ in range(1, settle_rounds + 1):
        points, flagged = unsettled(runs.values())
        if not points:
            break
        if len(points) > MAX_RERUN_SHARE * len(unit):
            settling_note = too_many_note(len(points), len(unit), scenario_a, round_)
            break
        longer = {label: longer_warmup(scenario, round_) for label, scenario, _ in sides}
        settling.append(SettleRound(round_, points, {label: s.run.warmup_days for label, s in longer.items()}, flagged))
        for label, _, side in sides:
            plan = _design(longer[label], f"{label} settle {round_}", assumptions, side, unit[points], "lhs",
                           len(points), seeds, root)
            runs[label] = replace_points(runs[label], sweep(plan, f"{label}-settle{round_}"), points, replications,
                                         round_)
    failed = sum(int(frame["error"].notna().sum()) for frame in runs.values() if "error" in frame)
    return Study(a=scenario_a.name, b=scenario_b.name, design=design, samples=samples, replications=replications,
                 seed=root, assumptions=assumptions, held=held, settings_a=side_a, unit=unit,
                 points=point_outcomes(runs["a"], runs["b"], len(unit)), failed=failed,
                 counted_days=scenario_a.run.days - scenario_a.run.warmup_days, warmup_note=warmup_note, out=out,
                 runs=runs, settling=settling, settling_note=settling_note)


def steady_warmup(scenarios: tuple[Scenario, Scenario], sides: tuple[dict[str, list[Setting]], ...]
                  ) -> tuple[tuple[Scenario, Scenario], str | None]:
    """The two sides with a warm-up long enough for every draw's queues to settle before counting, when the study draws
    the backlog limit: STEADY_STATE_BACKLOGS times the longest limit drawn, the counted days kept; and a note saying so
    (None if unchanged).

    A warm-up short for every draw alike (the scenario's own, as given) is left alone: it biases every draw the same
    way, and ``tipline run`` notes it. One short only for the draws with long limits would bias them against the
    others, and so the drivers and the region.
    """
    drawn = [setting.high for side in sides for settings in side.values() for setting in settings
             if setting.key == BACKLOG_KEY]
    if not drawn:
        return scenarios, None
    longest = max(drawn)
    needed = settling_days(longest)
    if all(s.run.warmup_days >= needed for s in scenarios):
        return scenarios, None
    counted = [s.run.days - s.run.warmup_days for s in scenarios]
    raised = tuple(scenario_with(s, [f"run.warmup_days={needed}", f"run.days={needed + n}"]) if s.run.warmup_days < needed
                   else s for s, n in zip(scenarios, counted, strict=True))
    before = scenarios[0].run.warmup_days
    return raised, (f"run.warmup_days raised from {before} to {needed} days ({STEADY_STATE_BACKLOGS} times the longest "
                    f"backlog limit drawn, {longest:g} days), so that every draw's queues settle before counting; run.days to "
                    f"{raised[0].run.days}, keeping {counted[0]} counted days")


def point_outcomes(runs_a: pd.DataFrame, runs_b: pd.DataFrame, n_points: int) -> pd.DataFrame:
    """Per point: each side's outcomes and B - A, means over the replications both sides finished.

    A replication that failed on either side is left out of both, so every difference stays paired; a
    point with no such replication has NaN outcomes.
    """
    columns = ["point", "replication", *OUTCOMES.values()]
    ok_a = runs_a[runs_a["error"].isna()][columns] if "error" in runs_a else runs_a[columns]
    ok_b = runs_b[runs_b["error"].isna()][columns] if "error" in runs_b else runs_b[columns]
    paired = ok_a.merge(ok_b, on=["point", "replication"], suffixes=("_a", "_b"))
    table = pd.DataFrame({"point": np.arange(n_points)})
    means = paired.groupby("point").mean(numeric_only=True)
    for name, key in OUTCOMES.items():
        for side in ("a", "b"):
            table[f"{name}_{side}"] = means[f"{key}_{side}"].reindex(table["point"]).to_numpy()
        table[name.replace("rate", "difference")] = table[f"{name}_b"] - table[f"{name}_a"]
    return table


def summary_counts(study: Study) -> dict[str, Any]:
    """Size of the study, for its summary."""
    undecided = sum(int((frame["undecided"] > 0).sum()) for frame in study.runs.values() if "undecided" in frame)
    return {"points": len(study.unit), "replications": study.replications, "runs": 2 * len(study.unit) * study.replications,
            "failed_runs": study.failed, "undecided_runs": undecided, "unsettled_runs": unsettled_runs(study.runs.values()),
            "settling": [asdict(r) for r in study.settling], "settling_note": study.settling_note}
