"""Benchmark: time and memory of ``tipline uncertainty x_platform -n 256`` (both rules) on 2 workers.

Usage: python benchmarks/uncertainty.py [--samples 256] [--workers 2] [--scenario x_platform]
                                        [--out benchmarks/results-uncertainty.json]

Runs the command as a user would (a fresh process, worker start-up, both sweeps' Parquet stores, the
drivers and PRIM included) into a temporary directory and records its wall time, the CPU time of the
command and its workers, the largest peak resident memory of any of its processes, and the headline.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", "-n", type=int, default=256, help="draws (default 256)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--scenario", default="x_platform", help="scenario A (B: A under one-year retention)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-uncertainty.json")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "model", "uncertainty", args.scenario, "-n", str(args.samples),
                   "--workers", str(args.workers), "--out", str(Path(tmp) / "study"), "--json"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"the command failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    record = {"command": f"tipline uncertainty {args.scenario} -n {args.samples} --workers {args.workers}",
              "points": summary["points"], "runs": summary["runs"], "failed_runs": summary["failed_runs"],
              "wall_seconds": round(wall, 1), "runs_per_minute": round(60 * summary["runs"] / wall, 1),
              "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
              "peak_rss_mb_largest_process": round(after.ru_maxrss / 1024, 1),
              "headline": summary["headline"],
              "drivers_top3": [{k: d[k] for k in ("parameter", "importance", "value", "low", "high")}
                               for d in summary["drivers"][:3]],
              "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
              "python": platform.python_version(), "machine": platform.machine(), "date": time.strftime("%Y-%m-%d")}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
