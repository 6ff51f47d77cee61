"""Instruction counts of model runs (valgrind's callgrind): a speed yardstick the machine's load cannot move.

    python benchmarks/instructions.py                         # into benchmarks/results-instructions.json
    python benchmarks/instructions.py --baseline HEAD~3       # the same cases on another git revision too
    python benchmarks/instructions.py --only unit --cache     # also simulate the caches (about twice as slow)
    python benchmarks/instructions.py --only unit --by-stage  # instructions spent in each stage (a run per stage)

On this project's shared two-core machine the same run's CPU time varies by up to 30% from one minute to the
next, so a timed comparison cannot show a gain under about 10% (``benchmarks/RESULTS.md`` section A). The
number of instructions a run executes does not depend on the machine's load: two callgrind runs of the same
code and scenario agree to 0.02%. It is a proxy for time, not time itself: memory-bound work (the stores'
scattered reads and writes) costs more cycles per instruction, which ``--cache`` shows as cache misses and
callgrind's cycle estimate (instructions + 10 x first-level misses + 100 x last-level misses).

Counting covers model construction and the run to the end (drain included), not imports. A tiny helper
with callgrind's client requests (``valgrind/callgrind.h``) is compiled with the C compiler into a
temporary directory to switch counting on and off; callgrind slows Python about fifty-fold, so the cases
are short runs (480 simulated days). Needs ``valgrind`` and ``cc`` (both on this project's machines).

With ``--by-stage`` the run is repeated once per stage with counting switched on only while that stage
acts (each stage's ``act``; "day's end": the ledger's expiries and the daily record): a table of where the
instructions go that, unlike a profiler's, does not inflate small functions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__:  # imported as benchmarks.instructions (the tests)
    from benchmarks.performance import ROOT, warm, worktree
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from performance import ROOT, warm, worktree

HELPER = """
#include <valgrind/callgrind.h>
void counting_on(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void counting_off(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT("model"); }
void toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
"""
#: What ``--by-stage`` counts, one run each: a stage's ``act``, or the day's end.
STAGES = {"platforms": "model.agents:Platform.act", "NCMEC": "model.agents:Ncmec.act",
          "agencies": "model.agency:Agency.act", "forensic lab": "model.agents:ForensicLab.act",
          "day's end (ledger, record)": "model.model:RetentionModel._record model.casework:Casework.end_of_day "
                                        "model.engine.casework:CompiledCasework.end_of_day"}
CHILD = """
import ctypes, importlib, inspect, json, sys
from model import load_scenario, RetentionModel
helper = ctypes.CDLL(sys.argv[1])
only = sys.argv[2]   # "all", or space-separated module:Class.method targets to count alone

def counted(function):
    def wrapper(*args, **kwargs):
        helper.toggle()
        try:
            return function(*args, **kwargs)
        finally:
            helper.toggle()
    return wrapper

for target in only.split() if only != "all" else []:
    module, path = target.split(":")
    owner_name, name = path.split(".")
    owner = getattr(importlib.import_module(module), owner_name)
    method = inspect.getattr_static(owner, name)
    if isinstance(method, classmethod):
        setattr(owner, name, classmethod(counted(method.__func__)))
    else:
        setattr(owner, name, counted(method))
scenario = load_scenario(sys.argv[3], sys.argv[4:])
helper.counting_on()
if only == "all":
    helper.toggle()
model = RetentionModel(scenario)
model.run_model()
if only == "all":
    helper.toggle()
helper.counting_off()
summary = model.summary()
print(json.dumps({"days_simulated": int(model.day),
                  "reports_simulated": int(model.timeseries()["reports_filed"].sum()),
                  "evidence_lost_us": summary["evidence_lost_us"],
                  "legal_process_served_us": summary["legal_process_served_us"]}))
"""
#: Short runs: 300 counted days after 60 of warm-up, then the drain (about 480 days simulated).
SHORT = ["run.days=300", "run.warmup_days=60"]
CASES = {
    "unit": ("x_platform, 300 days", "x_platform", SHORT),
    "national": ("national at 0.1x volume and staff, 300 days", "baseline_90day",
                 [*SHORT, "demand.scale=0.1", "ncmec.analysts=6", "law_enforcement.investigators=300",
                  "foreign.investigators=6000", "downstream.forensic_exams_per_day=25"]),
}
EVENTS = {"Ir": "instructions", "D1mr": "d1_read_misses", "D1mw": "d1_write_misses", "DLmr": "ll_read_misses",
          "DLmw": "ll_write_misses", "I1mr": "i1_misses", "ILmr": "il_misses", "Dr": "data_reads",
          "Dw": "data_writes"}


def helper_library(directory: Path) -> Path:
    """Compile the counting switch into `directory`."""
    source, library = directory / "counting.c", directory / "counting.so"
    source.write_text(HELPER)
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


def count_once(source: Path, helper: Path, scenario: str, overrides: list[str], cache: bool, work: Path,
               only: str = "all") -> dict:
    """One callgrind run of `scenario` in the checkout `source`: events counted over construction and run (or,
    with `only`, inside those functions alone)."""
    out_file = work / f"callgrind.{os.getpid()}.{time.monotonic_ns()}"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
               f"--callgrind-out-file={out_file}", *(["--cache-sim=yes"] if cache else []),
               sys.executable, "-c", CHILD, str(helper), only, scenario, *overrides]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=source,
                          env={**os.environ, "PYTHONPATH": str(source)})
    dumps = sorted(work.glob(out_file.name + ".*"))
    totals = totals_of(dumps[-1].read_text())
    for dump in work.glob(out_file.name + "*"):
        dump.unlink()
    result = json.loads(done.stdout.strip().splitlines()[-1])
    row = {EVENTS[k]: v for k, v in totals.items() if k in EVENTS}
    if cache:
        row["estimated_cycles"] = (totals["Ir"] + 10 * (totals["I1mr"] + totals["D1mr"] + totals["D1mw"])
                                   + 100 * (totals["ILmr"] + totals["DLmr"] + totals["DLmw"]))
    row["instructions_per_day"] = round(totals["Ir"] / result["days_simulated"])
    row["instructions_per_report"] = round(totals["Ir"] / result["reports_simulated"])
    return {**result, **row}


def totals_of(dump: str) -> dict[str, int]:
    """The ``events:`` and ``totals:`` lines of a callgrind dump, as a dict (its ``summary:`` line can be 0)."""
    events = re.search(r"^events:\s*(.+)$", dump, re.M)
    totals = re.search(r"^totals:\s*(.+)$", dump, re.M)
    if events is None or totals is None:
        raise RuntimeError("callgrind dump without events/totals lines")
    return dict(zip(events.group(1).split(), map(int, totals.group(1).split()), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=tuple(CASES), action="append")
    parser.add_argument("--baseline", metavar="REF", help="also count git revision REF (e.g. a tag or commit)")
    parser.add_argument("--cache", action="store_true", help="simulate the caches: misses and a cycle estimate")
    parser.add_argument("--by-stage", action="store_true",
                        help="also count each stage alone (one run per stage; this checkout only, not --baseline)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-instructions.json")))
    args = parser.parse_args()
    missing = [tool for tool in ("valgrind", "cc") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"instructions.py needs {' and '.join(missing)} (Debian packages valgrind, gcc)")
    baseline = worktree(args.baseline) if args.baseline else None
    rows = []
    try:
        for source in (ROOT, baseline) if baseline is not None else (ROOT,):
            warm(source)   # compiling the kernels under valgrind would take hours (and is not what is measured)
        with tempfile.TemporaryDirectory(prefix="tipline-callgrind-") as tmp:
            work = Path(tmp)
            helper = helper_library(work)
            for group in args.only or tuple(CASES):
                label, scenario, overrides = CASES[group]
                row = {"case": label, "scenario": scenario, "overrides": overrides,
                       **count_once(ROOT, helper, scenario, overrides, args.cache, work)}
                if args.by_stage:
                    stages = {stage: count_once(ROOT, helper, scenario, overrides, args.cache, work, targets)
                              for stage, targets in STAGES.items()}
                    row["by_stage"] = {stage: {"instructions": r["instructions"],
                                               "share": round(r["instructions"] / row["instructions"], 4),
                                               "per_day": round(r["instructions"] / r["days_simulated"])}
                                       for stage, r in stages.items()}
                    rest = row["instructions"] - sum(r["instructions"] for r in stages.values())
                    row["by_stage"]["the rest (the model's step, Mesa)"] = {
                        "instructions": rest, "share": round(rest / row["instructions"], 4),
                        "per_day": round(rest / row["days_simulated"])}
                if baseline is not None:
                    base = count_once(baseline, helper, scenario, overrides, args.cache, work)
                    row["baseline"] = base
                    row["same_results"] = all(base[k] == row[k] for k in ("days_simulated", "evidence_lost_us",
                                                                            "legal_process_served_us"))
                    row["instructions_ratio"] = round(row["instructions"] / base["instructions"], 4)
                    if args.cache:
                        row["estimated_cycles_ratio"] = round(row["estimated_cycles"] / base["estimated_cycles"], 4)
                print(json.dumps(row), flush=True)
                rows.append(row)
    finally:
        if baseline is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=False)
    record = {"cases": rows, "baseline_ref": args.baseline,
              "environment": {"python": sys.version.split()[0], "machine": platform.machine(),
                              "valgrind": subprocess.run(["valgrind", "--version"], capture_output=True,
                                                         text=True).stdout.strip(),
                              "date": time.strftime("%Y-%m-%d %H:%M"),
                              "command": " ".join(["benchmarks/instructions.py", *sys.argv[1:]])}}
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
