"""Benchmark: sweep throughput (runs per minute) of the x_platform two-year scenario on local worker processes.

Usage: python benchmarks/sweep_throughput.py [--runs 40] [--workers 2] [--serial-runs 6] [--dask]
                                             [--out benchmarks/results-sweep.json]

Runs a grid (90-day and one-year windows) x replications through ``run_sweep`` into a temporary Parquet
store, as ``tipline sweep`` does: the figure includes starting the worker processes, task dispatch and
writing the store. A shorter in-process (1 worker) sweep gives the serial rate for the parallel speed-up.
With ``--dask`` the same sweep also runs on a Dask LocalCluster of 1 and of `--workers` single-threaded
worker processes (``tipline sweep --dask-local``), cluster start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from model.sweeps import run_sweep


def sweep_spec(runs: int) -> dict[str, Any]:
    """x_platform as shipped (730 days, 365 of warm-up) at two windows, runs/2 replications each."""
    return {"name": "throughput", "base": "x_platform", "design": "grid", "replications": max(1, runs // 2),
            "seed": 20240507, "factors": [{"key": "retention.window_days", "values": [90, 365]}]}


def measure(runs: int, workers: int, dask_local: bool = False) -> dict[str, Any]:
    """Wall time of one sweep of `runs` runs on `workers` processes (or Dask LocalCluster workers), store included."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        frame = run_sweep(sweep_spec(runs), Path(tmp) / "sweep", workers=workers, dask_local=dask_local,
                          progress=False)
        wall = time.perf_counter() - start
    if frame.attrs["failed"]:
        raise RuntimeError(f"{frame.attrs['failed']} runs failed: {frame['error'].dropna().iloc[0]}")
    return {"workers": workers, "runner": "dask LocalCluster" if dask_local else "processes", "runs": len(frame),
            "wall_seconds": round(wall, 2),
            "runs_per_minute": round(60 * len(frame) / wall, 1),
            "mean_run_seconds": round(float(frame["wall_seconds"].mean()), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of the parallel sweep (default 40)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--serial-runs", type=int, default=6, help="runs of the in-process reference (0: skip)")
    parser.add_argument("--dask", action="store_true", help="also measure a Dask LocalCluster of 1 and --workers workers")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-sweep.json")))
    args = parser.parse_args()
    parallel = measure(args.runs, args.workers)
    serial = measure(args.serial_runs, 1) if args.serial_runs else None
    dask = None
    if args.dask:
        one, many = measure(args.runs // 2, 1, dask_local=True), measure(args.runs, args.workers, dask_local=True)
        dask = {"one_worker": one, "workers": many,
                "speedup": round(many["runs_per_minute"] / one["runs_per_minute"], 2)}
    record = {"scenario": "x_platform (730 days, 365 warm-up)", "design": "grid: window 90/365 x replications",
              "parallel": parallel, "serial": serial, "dask": dask,
              "runs_per_minute": parallel["runs_per_minute"],
              "speedup": round(parallel["runs_per_minute"] / serial["runs_per_minute"], 2) if serial else None,
              "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
              "python": platform.python_version(), "machine": platform.machine(),
              "date": time.strftime("%Y-%m-%d"), "command": " ".join(["benchmarks/sweep_throughput.py", *sys.argv[1:]])}
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
