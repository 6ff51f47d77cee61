"""Benchmark: wall time and peak memory of a two-year national run at 2023 volume.

Usage: python benchmarks/national.py [--scenario baseline_90day] [--repeat 1] [--out benchmarks/results-national.json]

Each run happens in a fresh subprocess so that its peak resident memory (ru_maxrss) is its own.
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
                  "reports_simulated": int(sum(model.timeseries()["reports_filed"])),
                  "evidence_lost_rate": summary["evidence_lost_rate"]}))
"""


def measure(scenario: str, overrides: list[str]) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, scenario, *overrides],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="baseline_90day")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-national.json")))
    args = parser.parse_args()
    runs = [measure(args.scenario, args.set) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["wall_seconds"])
    record = {"scenario": args.scenario, "overrides": args.set, "runs": runs,
              "best_wall_seconds": round(best["wall_seconds"], 2),
              "max_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
              "reports_per_second": round(best["reports_simulated"] / best["wall_seconds"]),
              "python": sys.version.split()[0], "machine": platform.machine(),
              "date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv)}
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
