"""Performance benchmarks of the model (issue 7): national run, scaling, and the sweep unit.

    python benchmarks/performance.py                 # all three, results to benchmarks/results-performance.json
    python benchmarks/performance.py --only national --repeat 3

Each measured run happens in a fresh subprocess, so its peak resident memory (ru_maxrss) is its own;
wall time brackets model construction and `run_model()` only (not imports). The best of `--repeat`
runs is reported for time, the largest for memory.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from model import load_scenario, RetentionModel
scenario = load_scenario(sys.argv[1], sys.argv[2:])
start = time.perf_counter()
model = RetentionModel(scenario)
model.run_model()
summary = model.summary()
wall = time.perf_counter() - start
print(json.dumps({"wall_seconds": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "reports_simulated": int(model.timeseries()["reports_filed"].sum()),
                  "max_rows_in_flight": int(model.store.capacity),
                  "evidence_lost_rate": summary["evidence_lost_rate"]}))
"""


def measure(scenario: str, overrides: list[str], repeat: int) -> dict:
    """Best wall time and largest peak memory of `repeat` fresh-process runs."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, scenario, *overrides],
                             capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out))
    best = min(runs, key=lambda r: r["wall_seconds"])
    return {"scenario": scenario, "overrides": overrides, "repeat": repeat,
            "wall_seconds": round(best["wall_seconds"], 3),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
            "reports_simulated": best["reports_simulated"],
            "reports_per_second": round(best["reports_simulated"] / best["wall_seconds"]),
            "store_capacity_rows": best["max_rows_in_flight"],
            "evidence_lost_rate": best["evidence_lost_rate"]}


def national(repeat: int) -> dict:
    """Two years at 2023 volume (about 99,000 reports a day), one process."""
    return measure("baseline_90day", [], repeat)


def staffed(scale: float) -> list[str]:
    """Overrides for `scale` x the national volume with every capacity scaled alike (same loads)."""
    return [f"demand.scale={scale}", f"ncmec.analysts={round(60 * scale)}",
            f"law_enforcement.investigators={round(3000 * scale)}", f"foreign.investigators={round(60000 * scale)}",
            f"downstream.forensic_exams_per_day={250 * scale}"]


def scaling(repeat: int) -> list[dict]:
    """Volume 0.25x-2x over two years with staff scaled alike, 1x over four years, and 2x volume with
    today's staff (overloaded: the backlog, and so the memory in use, grows every day)."""
    rows = [measure("baseline_90day", staffed(s), repeat) for s in (0.25, 0.5, 1.0, 2.0)]
    rows.append(measure("baseline_90day", ["run.days=1460"], repeat))
    rows.append(measure("baseline_90day", ["demand.scale=2.0"], 1))
    return rows


def sweep_unit(repeat: int) -> dict:
    """One x_platform two-year run: the unit of sweeps."""
    return measure("x_platform", [], repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("national", "scaling", "unit"), action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-performance.json")))
    args = parser.parse_args()
    only = set(args.only or ("national", "scaling", "unit"))
    path = Path(args.out)
    record = json.loads(path.read_text()) if path.exists() else {}
    if "national" in only:
        record["national"] = national(args.repeat)
    if "scaling" in only:
        record["scaling"] = scaling(max(1, args.repeat // 2))
    if "unit" in only:
        record["sweep_unit"] = sweep_unit(max(args.repeat, 5))
    record["environment"] = {"python": sys.version.split()[0], "machine": platform.machine(),
                             "cores": __import__("os").cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M"),
                             "command": " ".join([Path(sys.executable).name, *sys.argv])}
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
