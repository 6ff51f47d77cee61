"""Benchmark: the agent-based model against a conventional SimPy discrete-event model of the same pipeline.

    python benchmarks/des_vs_abm.py                                   # 200 and 2,000 reports/day: ~6-10 min
    python benchmarks/des_vs_abm.py --sizes 20000 --seeds 4 --des-seeds 1   # 7.8M reports: the DES ~30 min

Both run the simplified pipeline of ``benchmarks/des_reference.py`` (Poisson reports, FIFO triage within
a daily budget of reports, one agency whose investigators' daily hours go to drafting for cases already
reviewed before reviewing new referrals, a lognormal approval wait, a 90-day window, a x1.4 surge on
days 120-179) on identical parameters: the ABM is ``model.run`` on a scenario built from the same
:class:`Pipeline` by :func:`abm_scenario`. Both count the reports created after the warm-up up to day 365
and run on (the drain) until each of them is decided. For each size (mean reports/day) the script reports

* throughput: reports simulated (all filed: warm-up and drain included) / wall seconds, model
  construction included, summed over the replications, for each implementation, and the ratio ABM /
  DES (also per CPU second, less sensitive to other load on a shared machine);
* agreement of the US evidence-lost rate: each mean with its standard error, and a pooled two-sample
  t-test over independent replications (``--seeds`` of the ABM, ``--des-seeds`` of the DES; the per-run
  variance is pooled, since under the hypothesis both are the same model), at the 1% level; the
  median and 90th percentile of days from report to legal process are recorded beside it.

Runs are sequential in this process, ABM first; the DES runs with Python's default garbage collector.
Timings on a shared machine are noisy: the JSON records the load average before and after.
Results go to ``benchmarks/results-des.json`` with the exact command line; results there for sizes not
rerun are kept (each with its own command line).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import math
import os
import platform
import shlex
import statistics
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from scipy import stats

from model import Scenario
from model.model import run

if __package__:  # imported as benchmarks.des_vs_abm (the tests): one copy of des_reference
    from benchmarks.des_reference import Pipeline, run_des
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from des_reference import Pipeline, run_des

__all__ = ["Pipeline", "abm_scenario", "benchmark", "compare_rates", "main", "run_abm", "run_des"]

#: One ICAC agency takes every (US) referral with all the staff; validation needs a federal and a foreign
#: agency too (the federal one has no staff and gets nothing: no report has an unknown location).
AGENCIES = [{"name": "ICAC", "kind": "icac", "routing_share": 1.0, "staff_share": 1.0},
            {"name": "Federal", "kind": "federal", "routing_share": 1.0, "staff_share": 0.0},
            {"name": "Foreign", "kind": "foreign", "routing_share": 1.0, "staff_share": 1.0}]
#: Casework hours of one investigator a day; the headcount is whatever gives the agency's daily hours.
HOURS_PER_INVESTIGATOR_DAY = 8.0
#: Nothing waits this long, so no referral is closed unworked.
BACKLOG_LIMIT_DAYS = 3650


def abm_scenario(p: Pipeline, seed: int) -> Scenario:
    """The ABM scenario of the simplified pipeline: every report a novel, US, actionable case needing legal process."""
    surges = ([{"start_day": p.surge_start_day, "duration_days": p.surge_days, "multiplier": p.surge_multiplier,
                "viral_share": 0.0}] if p.surge_days else [])
    investigators = max(1, math.ceil(p.agency_hours_per_day / HOURS_PER_INVESTIGATOR_DAY))
    return Scenario.model_validate({
        "name": "des_reference",
        "run": {"days": p.days, "warmup_days": p.warmup_days, "seed": seed, "drain_max_days": p.drain_max_days},
        "retention": {"window_days": p.window_days, "voluntary_extra_days": 0, "preservation_request_share": 0.0},
        "demand": {"surges": surges},
        "platforms": [{"name": "P", "reports_per_day": p.reports_per_day, "automated_share": 0.0, "urgent_share": 0.0,
                       "viral_share": 0.0, "known_content_share": 0.0, "quality_share": 1.0, "quality_signal": 0.0,
                       "us_share": 1.0, "unknown_location_share": 0.0, "actionable_share": 1.0,
                       "voluntary_retention_days": 0}],
        "ncmec": {"analysts": 1, "reports_per_analyst_day": p.ncmec_per_day, "triage_policy": "fifo",
                  "referral_delay_days": p.referral_delay_days, "bundling": False},
        "law_enforcement": {"investigators": investigators,
                            "hours_per_investigator_year": p.agency_hours_per_day * 365 / investigators,
                            "review_hours": p.review_hours, "drafting_hours": p.drafting_hours,
                            "approval_median_days": p.approval_median_days, "approval_sigma": p.approval_sigma,
                            "legal_process_share": 1.0, "identification_share": 0.0, "wilson_share": 0.0,
                            "work_sigma": 0.0, "follow_up_hours": 0.0, "priority_policy": "fifo",
                            "priority_threshold": 0.0, "backlog_limit_days": BACKLOG_LIMIT_DAYS},
        "agencies": AGENCIES,
    })


def run_abm(p: Pipeline, seed: int) -> dict[str, Any]:
    """Build and run the ABM; the DES's keys (US outcomes), peak backlogs, wall and CPU time (s, construction included)."""
    start, cpu = time.perf_counter(), time.process_time()
    model, s = run(abm_scenario(p, seed), seed)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    daily = model.timeseries()
    return {"reports": int(daily["reports_filed"].sum()), "counted": s["reports"],
            "served": s["legal_process_served_us"], "lost": s["evidence_lost_us"], "undecided": s["undecided"],
            "lost_rate": s["evidence_lost_rate_us"],
            "median_days_to_legal_process": s["median_days_to_legal_process_us"],
            "p90_days_to_legal_process": s["p90_days_to_legal_process_us"], "drain_days": s["drain_days"],
            "closed_unworked": s["closed_unworked"], "peak_ncmec_backlog": int(daily["ncmec_backlog"].max()),
            "peak_agency_backlog": int(daily["agency_backlog"].max()), "wall_seconds": wall, "cpu_seconds": cpu}


def compare_rates(abm: list[float], des: list[float], level: float = 0.99) -> dict[str, Any]:
    """Pooled two-sample t-test of the lost rates: do the two implementations agree at `level`?

    Standard errors are of each mean, from the pooled per-run standard deviation (both samples are
    replications of the same model under the hypothesis); each sample's own standard deviation is listed too.
    """
    n_a, n_d = len(abm), len(des)
    df = n_a + n_d - 2
    if df < 1:
        raise ValueError("need at least three replications in all")
    mean_a, mean_d = statistics.fmean(abm), statistics.fmean(des)
    squares = sum((x - mean_a) ** 2 for x in abm) + sum((x - mean_d) ** 2 for x in des)
    sd = math.sqrt(squares / df)
    se_diff = sd * math.sqrt(1 / n_a + 1 / n_d)
    critical = float(stats.t.ppf(0.5 + level / 2, df))
    t = (mean_a - mean_d) / se_diff if se_diff else 0.0
    return {"abm_mean": mean_a, "abm_se": sd / math.sqrt(n_a), "des_mean": mean_d, "des_se": sd / math.sqrt(n_d),
            "abm_sd": statistics.stdev(abm) if n_a > 1 else None, "des_sd": statistics.stdev(des) if n_d > 1 else None,
            "difference": mean_a - mean_d, "se_difference": se_diff, "t": t, "df": df, "critical_t": critical,
            "level": level, "agree": abs(t) <= critical}


def throughput(runs: list[dict[str, Any]], clock: str = "wall_seconds") -> float:
    """Reports simulated per second (wall or CPU) over all runs."""
    return sum(r["reports"] for r in runs) / sum(r[clock] for r in runs)


def benchmark(size: float, days: int, seeds: int, des_seeds: int, first_seed: int = 1) -> dict[str, Any]:
    """Both implementations at one size; ABM seeds first_seed.., DES seeds first_seed + 1000.."""
    p = Pipeline(reports_per_day=size, days=days)
    abm = []
    for seed in range(first_seed, first_seed + seeds):
        abm.append(run_abm(p, seed))
        print(f"  ABM  {size:>8g}/day seed {seed}: {abm[-1]['wall_seconds']:7.2f} s, lost rate {abm[-1]['lost_rate']:.5f}",
              flush=True)
    des = []
    for seed in range(first_seed + 1000, first_seed + 1000 + des_seeds):
        gc.collect()
        des.append(run_des(p, seed))
        print(f"  DES  {size:>8g}/day seed {seed}: {des[-1]['wall_seconds']:7.2f} s, lost rate {des[-1]['lost_rate']:.5f}",
              flush=True)
        gc.collect()
    abm_rps, des_rps = throughput(abm), throughput(des)
    return {"reports_per_day": size, "pipeline": dataclasses.asdict(p),
            "ncmec_reports_per_day": p.ncmec_per_day, "agency_hours_per_day": p.agency_hours_per_day,
            "abm_reports_per_second": round(abm_rps), "des_reports_per_second": round(des_rps),
            "ratio_abm_over_des": round(abm_rps / des_rps, 1),
            "abm_reports_per_cpu_second": round(throughput(abm, "cpu_seconds")),
            "des_reports_per_cpu_second": round(throughput(des, "cpu_seconds")),
            "lost_rate": compare_rates([r["lost_rate"] for r in abm], [r["lost_rate"] for r in des]),
            "median_days_to_legal_process": {
                "abm_mean": statistics.fmean(r["median_days_to_legal_process"] for r in abm),
                "des_mean": statistics.fmean(r["median_days_to_legal_process"] for r in des)},
            "p90_days_to_legal_process": {
                "abm_mean": statistics.fmean(r["p90_days_to_legal_process"] for r in abm),
                "des_mean": statistics.fmean(r["p90_days_to_legal_process"] for r in des)},
            "abm_runs": abm, "des_runs": des}


def merged(path: Path, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """New results plus those of other sizes already in `path` (each keeps its own command line), by size.

    Results of another pipeline (an older model's parameters) are dropped, not mixed in.
    """
    kept = []
    if path.exists():
        previous = json.loads(path.read_text())
        sizes = {r["reports_per_day"] for r in results}
        fields = {f.name for f in dataclasses.fields(Pipeline)}
        kept = [{"command": previous.get("command"), "machine": previous.get("machine"), **r}
                for r in previous.get("results", [])
                if r["reports_per_day"] not in sizes and set(r.get("pipeline", {})) == fields]
    return sorted(kept + results, key=lambda r: r["reports_per_day"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[200.0, 2000.0], help="mean reports/day")
    parser.add_argument("--days", type=int, default=365, help="counted period's last day (warm-up of 30 included)")
    parser.add_argument("--seeds", type=int, default=10, help="ABM replications per size")
    parser.add_argument("--des-seeds", type=int, default=3, help="DES replications per size")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-des.json")))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    record: dict[str, Any] = {
        "command": shlex.join(["python", *(sys.argv if argv is None else [sys.argv[0], *argv])]),
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_before": os.getloadavg()},
        "versions": {name: version(name) for name in ("simpy", "mesa", "numpy")},
        "des_arrivals": "exponential inter-arrival times at the day's rate (Poisson count per day)",
        "metric": "US evidence-lost rate: lost / (lost + served) over counted reports, each followed to its outcome",
        "results": [],
    }
    for size in args.sizes:
        print(f"size {size:g} reports/day, {args.days} days", flush=True)
        result = benchmark(size, args.days, args.seeds, args.des_seeds)
        record["results"].append({"command": record["command"], "started_utc": record["started_utc"],
                                  "machine": record["machine"], **result})
    record["machine"]["load_average_after"] = os.getloadavg()
    record["total_wall_seconds"] = round(time.perf_counter() - started, 1)
    path = Path(args.out)
    record["results"] = merged(path, record["results"])
    path.write_text(json.dumps(record, indent=2) + "\n")

    print(f"\n{'reports/day':>11} {'ABM rep/s':>11} {'DES rep/s':>10} {'ABM/DES':>8}  "
          f"{'lost ABM (SE)':>18} {'lost DES (SE)':>18} {'t':>6}  agree")
    for r in record["results"]:
        c = r["lost_rate"]
        print(f"{r['reports_per_day']:>11,.0f} {r['abm_reports_per_second']:>11,} {r['des_reports_per_second']:>10,} "
              f"{r['ratio_abm_over_des']:>8}  {c['abm_mean']:.5f} ({c['abm_se']:.5f}) {c['des_mean']:.5f} ({c['des_se']:.5f}) "
              f"{c['t']:>+6.2f}  {'yes' if c['agree'] else 'NO'}")
    print(f"total {record['total_wall_seconds']} s; written {args.out}")


if __name__ == "__main__":
    main()
