"""Benchmark: time and memory of ``tipline uncertainty x_platform -n 256`` (both rules) on 2 workers.

Usage: python benchmarks/uncertainty.py [--samples 256] [--workers 2] [--scenario x_platform]
                                        [--out benchmarks/results-uncertainty.json] [--keep DIR]

Runs the command as a user would (a fresh process, worker start-up, both sweeps' Parquet stores, the
drivers and PRIM included) into a temporary directory and records its wall time, the CPU time and the
peak resident memory of its whole process tree (sampled every half second with psutil: the command, the
forkserver and its workers), the headline, the runs that were undecided or had not settled and the draws rerun
for that (included in the time); the study's
summary.json goes beside the results (``*.summary.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def watch(process: subprocess.Popen[str], every: float = 0.5) -> tuple[float, float, float]:
    """Wait for `process`; return the CPU seconds of its whole tree, and its peak summed and largest single
    resident memory (MB), sampled every `every` seconds."""
    import psutil

    root = psutil.Process(process.pid)
    cpu: dict[int, float] = {}
    peak_tree = peak_one = 0.0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss = []
        for p in tree:
            try:
                times, memory = p.cpu_times(), p.memory_info().rss / 2**20
            except psutil.Error:
                continue
            cpu[p.pid] = times.user + times.system   # own time only: children_* would count reaped workers twice
            rss.append(memory)
        peak_tree, peak_one = max(peak_tree, sum(rss)), max([peak_one, *rss])
        time.sleep(every)
    return sum(cpu.values()), peak_tree, peak_one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", "-n", type=int, default=256, help="draws (default 256)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--scenario", default="x_platform", help="scenario A (B: A under one-year retention)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-uncertainty.json")))
    parser.add_argument("--keep", metavar="DIR", help="write the study to DIR (a new folder) and keep it; default: a "
                        "temporary folder, removed afterwards")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        study = Path(args.keep) if args.keep else Path(tmp) / "study"
        command = [sys.executable, "-m", "model", "uncertainty", args.scenario, "-n", str(args.samples),
                   "--workers", str(args.workers), "--out", str(study), "--json"]
        start = time.perf_counter()
        with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
            cpu, peak_tree, peak_one = watch(process)
            wall = time.perf_counter() - start
            stdout.seek(0)
            stderr.seek(0)
            out, err = stdout.read(), stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"the command failed ({process.returncode}): {err[-2000:]}")
    summary = json.loads(out)
    Path(args.out).with_suffix(".summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    record = {"command": f"tipline uncertainty {args.scenario} -n {args.samples} --workers {args.workers}",
              "points": summary["points"], "runs": summary["runs"], "failed_runs": summary["failed_runs"],
              "undecided_runs": summary.get("undecided_runs"), "unsettled_runs": summary.get("unsettled_runs"),
              "warmup_note": summary.get("warmup_note"),
              "settling": [{k: r[k] for k in ("round", "warmup_days", "unsettled_runs")} | {"points": len(r["points"])}
                           for r in summary.get("settling") or []],
              "runs_rerun": 2 * summary["replications"] * sum(len(r["points"]) for r in summary.get("settling") or []),
              "wall_seconds": round(wall, 1), "runs_per_minute": round(60 * summary["runs"] / wall, 1),
              "cpu_seconds_process_tree": round(cpu, 1), "peak_rss_mb_process_tree": round(peak_tree, 1),
              "peak_rss_mb_largest_process": round(peak_one, 1),
              "headline": summary["headline"],
              "drivers_top3": [{k: d[k] for k in ("parameter", "importance", "value", "low", "high")}
                               for d in summary["drivers"][:3]],
              "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
              "python": platform.python_version(), "machine": platform.machine(), "date": time.strftime("%Y-%m-%d")}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
