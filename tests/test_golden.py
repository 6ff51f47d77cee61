"""Golden results: every shipped scenario, shrunk to run in a second, gives exactly the stored summary.

Refactoring and speed work must not change results; a change that alters model output updates these
files in a commit that says why, with the CHANGELOG (``python -m tests.test_golden`` rewrites them).
Each scenario runs 240 days (30 of warm-up) at a twentieth of its volume with its staff scaled alike, so the
national scenarios keep their loads and every stage, policy and drain is exercised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model import load_scenario, run
from model.scenarios import SCENARIO_DIR

GOLDEN = Path(__file__).with_name("golden")
SCENARIOS = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
SHRINK = 0.05


def shrunk(name: str):
    """The scenario over 240 days at a twentieth of its volume, every capacity scaled alike."""
    full = load_scenario(name)
    ds = full.downstream
    overrides = ["run.days=240", "run.warmup_days=30", f"demand.scale={full.demand.scale * SHRINK}",
                 f"ncmec.analysts={max(1, round(full.ncmec.analysts * SHRINK))}",
                 f"law_enforcement.investigators={max(1, round(full.law_enforcement.investigators * SHRINK))}",
                 f"foreign.investigators={max(1, round(full.foreign.investigators * SHRINK))}",
                 f"downstream.forensic_exams_per_day={ds.forensic_exams_per_day * SHRINK}"]
    if name == "task_force":   # already one task force: shrink only the run
        overrides = overrides[:2]
    return load_scenario(name, overrides)


def summary_of(name: str) -> dict:
    model, summary = run(shrunk(name))
    summary.pop("wall_seconds")
    return {"summary": summary, "flows": [list(edge) for edge in model.flows()],
            "last_day": model.timeseries().iloc[-1].to_dict()}


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_shipped_scenario_gives_its_golden_summary(name):
    path = GOLDEN / f"{name}.json"
    assert path.exists(), f"no golden file for {name}: run python -m tests.test_golden"
    expected = json.loads(path.read_text())
    assert json.loads(json.dumps(summary_of(name))) == expected


def dispatched() -> list[str]:
    """The SIMD features beyond its baseline that numpy dispatches to in this process."""
    from numpy._core import _multiarray_umath as umath
    return [feature for feature in umath.__cpu_dispatch__ if umath.__cpu_features__.get(feature)]


def without_simd() -> dict[str, str]:
    """This environment as on a CPU without SIMD instructions beyond the baseline: numpy's versions for the ones this
    CPU has turned off, and numba's kernels compiled for a generic CPU of this architecture (compiled once, then
    cached beside the host's)."""
    return {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(dispatched()), "NUMBA_CPU_NAME": "generic"}


def test_the_golden_results_do_not_depend_on_the_cpu_s_simd_instructions():
    """numpy picks a version of some functions (exp among them) by the CPU's SIMD instructions, and the versions differ
    in the last bit; numba compiles the kernels for this CPU. The shipped scenarios must give their golden results as
    on a CPU without those instructions too."""
    code = ("import json; from tests.test_golden import SCENARIOS, dispatched, summary_of; "
            "print(json.dumps({'dispatched': dispatched(), 'results': {name: summary_of(name) for name in SCENARIOS}}))")
    out = subprocess.run([sys.executable, "-c", code], env=without_simd(), cwd=GOLDEN.parent.parent,
                         capture_output=True, text=True, check=True).stdout
    runs = json.loads(out)
    assert runs["dispatched"] == []
    for name, result in runs["results"].items():
        assert result == json.loads((GOLDEN / f"{name}.json").read_text()), name


if __name__ == "__main__":
    for name in sys.argv[1:] or SCENARIOS:
        (GOLDEN / f"{name}.json").write_text(json.dumps(summary_of(name), indent=1) + "\n")
        print(f"wrote {GOLDEN / name}.json")
