"""The ``tipline sweep``, ``tipline analyze`` and ``tipline equivalence`` commands (see docs/sweeps.md).

Registered by :mod:`model.cli` through :func:`register`. Exit codes: 0 success; 1 some runs of a
sweep failed (the others finished and are stored) or an internal error; 2 bad input (nothing written).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from model.console import (
    EXIT_ERROR,
    EXIT_OK,
    BadInput,
    add_runner_options,
    add_set_option,
    check_replications,
    check_writable,
    overrides_from,
    print_table,
)
from model.params import STEADY_STATE_BACKLOGS
from model.sweeps.lock import writer

SWEEP_EPILOG = """Sweep files: scenarios/sweeps/*.toml (shipped: window_x_investigators, staffing_curve, sobol_main);
see docs/sweeps.md.
Runners: local processes by default (--workers, default all cores; 1 runs in this process); an existing
Dask cluster with --scheduler tcp://HOST:8786 (start one with `dask scheduler` and `dask worker
tcp://HOST:8786` on each machine, or dask-jobqueue on SLURM); a new local Dask cluster with --dask-local.
Replication r uses the same seed at every design point, so results are identical whatever the runner.
Warm-up: points whose run.warmup_days is shorter than three times their backlog limit are counted before
their queues settle; the sweep says how many on stderr (with --dry-run too) and leaves the design as written.
One writer at a time: the sweep locks DIR (DIR/.lock names its pid and host). SIGTERM or Ctrl-C stops
the workers and keeps every finished chunk; --resume continues from whatever state a kill left.
Exit codes: 0 all runs succeeded; 1 some runs failed (recorded with their error in the `error` column,
the others finished); 2 bad input (nothing written), a directory that does not verify against its
manifest, or one in use by another sweep; 143 terminated by SIGTERM."""

EQUIVALENCE_DESCRIPTION = """How many investigators (or analysts) would the BASELINE rule (default: 90-day preservation)
need to lose no more evidence than the TARGET rule (default: REPORT Act one-year retention) with
today's staff? With no scenario: baseline_90day against report_act_1yr (national). With one, e.g.
`tipline equivalence x_platform`: that scenario under the 90-day rule against itself under one-year
retention (as compare reads one scenario).

Method: both scenarios run on the same R seeds (common random numbers). For a staffing n, the
paired difference per seed is metric(BASELINE with n staff) - metric(TARGET as given); its mean over
the seeds does not increase with n (more staff never loses more on the same draws), so a search over
integers (doubling from today's staff, then bisection) finds the smallest n whose mean difference is
<= 0. The interval repeats the search on the bounds of the difference's 95% Student-t confidence
interval: at its low end the lower bound reaches 0 (below it the baseline loses significantly more),
at its high end the upper bound does (from there on it loses significantly no more). The search
stops at --max-staff, or when doubling the staff changes no replication: staff no longer binds and
no staffing level reaches the target (the answer is then "not reachable")."""


def cmd_sweep(args: argparse.Namespace) -> int:
    from model.executors import EXIT_TERMINATED, Terminated
    from model.sweeps.designs import resolve_design
    from model.sweeps.spec import load_sweep
    from model.sweeps.sweep import run_sweep

    if args.workers is not None and args.workers < 1:
        raise BadInput(f"--workers {args.workers}: must be at least 1")
    if args.chunk_rows < 1:
        raise BadInput(f"--chunk-rows {args.chunk_rows}: must be at least 1")
    spec, path = load_sweep(args.sweep)
    design = resolve_design(spec, path, overrides_from(args))
    short, needed = design.short_warmups()
    if short:
        print(f"tipline: note: {short:,} of {len(design.points):,} design points have run.warmup_days shorter than "
              f"{STEADY_STATE_BACKLOGS} times their law_enforcement.backlog_limit_days: they are counted before their "
              f"queues settle, so their loss rates may be understated (docs/sweeps.md, warm-up); set "
              f"run.warmup_days={needed} in the sweep's [set] (or --set) and run.days beyond it", file=sys.stderr)
    if args.dry_run:
        print(f"{spec.name}: {spec.design} design, {len(design.points):,} points x {len(design.seeds)} "
              f"replications = {design.runs:,} runs; root seed {design.seed}; base {design.base.name}")
        for factor in spec.factors:
            levels = sorted({json.dumps(p[factor.column]) for p in design.points}, key=len)
            print(f"  {factor.column} -> {', '.join(design.keys[factor.column])}: {len(levels)} distinct values")
        return EXIT_OK
    if args.out is None:
        raise BadInput("--out DIR is required (or --dry-run)")
    check_writable(Path(args.out))
    try:
        frame = run_sweep(design, args.out, workers=args.workers, scheduler=args.scheduler,
                          dask_local=args.dask_local, resume=args.resume, progress=args.progress,
                          chunk_rows=args.chunk_rows)
    except Terminated:
        print(f"tipline: terminated (SIGTERM): workers stopped; the finished runs are stored in {args.out} "
              "(tipline sweep ... --resume continues)", file=sys.stderr)
        return EXIT_TERMINATED
    failed = frame.attrs["failed"]
    print(f"{spec.name}: {len(frame):,} of {design.runs:,} runs stored in {args.out} ({failed:,} failed)")
    if failed:
        errors = frame.loc[frame["error"].notna(), ["run_id", "error"]]
        for run_id, error in errors.head(5).itertuples(index=False):
            print(f"  run {run_id}: {error}")
        if failed > 5:
            print(f"  ... and {failed - 5:,} more (column `error` of the results)")
        return EXIT_ERROR
    print(f"analyse with: tipline analyze {args.out}")
    return EXIT_OK


def cmd_analyze(args: argparse.Namespace) -> int:
    from model.sweeps.analysis import analyze_sweep, write_analysis

    if args.rows < 0:
        raise BadInput(f"--rows {args.rows}: must be 0 or more (design points to print)")
    owner = writer(args.directory)
    if owner is not None:
        print(f"note: {args.directory} is still being written ({owner}): this analysis covers the runs finished "
              "so far; run it again when the sweep is done", file=sys.stderr)
    tables = analyze_sweep(args.directory, args.metric, args.confidence)
    target = write_analysis(args.directory, tables)
    points = tables["points"]
    shown = (args.metric or ["evidence_lost_rate_us"])[0]   # US first: the pooled rate is for scripts
    if shown not in set(points["metric"]):
        shown = points["metric"].iloc[0]
    rows = points[points["metric"] == shown]
    factors = [c for c in rows.columns if c not in ("point", "metric", "runs", "failed", "mean", "sd",
                                                      "ci_low", "ci_high")]
    level = f"{args.confidence:.0%}"
    print(f"{shown}: mean over replications and its {level} CI, per design point")
    print_table([(r["point"], *(r[f] for f in factors), r["runs"], r["mean"], r["ci_low"], r["ci_high"])
                 for _, r in rows.head(args.rows).iterrows()],
                ("point", *factors, "runs", "mean", "CI low", "CI high"))
    if len(rows) > args.rows:
        print(f"... {len(rows) - args.rows:,} more points in {target / 'points.csv'}")
    if "sobol" in tables:
        sobol = tables["sobol"]
        print(f"\nSobol indices (first-order S1, total ST; +- half-width of the {level} bootstrap CI)")
        print_table([(r["metric"], r["parameter"], r["S1"], r["S1_conf"], r["ST"], r["ST_conf"])
                     for _, r in sobol.iterrows()], ("metric", "parameter", "S1", "+-", "ST", "+-"))
        for metric, reason in sobol.attrs.get("skipped", {}).items():
            print(f"skipped {metric}: {reason}")
    print(f"wrote {', '.join(sorted(p.name for p in target.iterdir()))} in {target}")
    return EXIT_OK


def _describe(result: Any) -> str:
    low, high = result.interval
    staff = result.staff
    if result.needed is None:
        last = result.levels[max(result.levels)]
        why = ("doubling the staff changed no replication, so staff no longer binds"
               if result.plateau else f"searched up to {result.max_staff:,}")
        return (f"Not reachable: no number of {staff} makes {result.baseline} lose no more {result.metric} than "
                f"{result.target} ({why}). At {last.staff:,} {staff} it still loses {last.difference:,.1f} more "
                f"({result.confidence:.0%} CI {last.ci_low:,.1f} to {last.ci_high:,.1f}): those losses come from "
                f"delays that {staff} do not shorten.")
    def bound(x: int | None) -> str:
        return f"{x:,}" if x is not None else f"more than {result.max_staff:,}"
    change = result.needed - result.today
    text = f"{result.baseline} needs {result.needed:,} {staff} (today {result.today:,}"
    text += f", {change:+,}, {change / result.today:+.0%})" if result.today else ")"
    text += f" to lose no more {result.metric} than {result.target} with its {result.target_staff:,}"
    if result.replications > 1:
        text += f"; {result.confidence:.0%} interval {bound(low)} to {bound(high)}"
    return text + "."


def cmd_equivalence(args: argparse.Namespace) -> int:
    from model.scenarios import load_scenario
    from model.sweeps.equivalence import staffing_equivalence

    check_replications(args.replications)
    overrides = overrides_from(args)
    baseline, target = ("baseline_90day", "report_act_1yr") if args.baseline is None else (args.baseline, args.target)
    for name in (baseline, target):
        if name is not None:
            load_scenario(name, overrides)  # bad input before any run
    result = staffing_equivalence(baseline, target, staff=args.staff, metric=args.metric,
                                  replications=args.replications, overrides=overrides, seed=args.seed,
                                  workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local,
                                  max_staff=args.max_staff, progress=args.progress)
    if args.json:
        print(json.dumps({**result.to_dict(), "answer": _describe(result)}))
        return EXIT_OK
    print(f"{result.target}: {result.metric} = {result.target_mean:,.1f} with its {result.target_staff:,} {result.staff} "
          f"(mean of {result.replications} seeds); difference = {result.baseline} - {result.target} on the same seeds")
    print_table([(lv.staff, lv.baseline_mean, lv.difference, lv.ci_low, lv.ci_high)
                 for _, lv in sorted(result.levels.items())],
                (result.staff, f"{result.baseline} {result.metric}", "difference", "CI low", "CI high"))
    print(_describe(result))
    return EXIT_OK


def _positive_fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1 or math.isnan(value):
        raise argparse.ArgumentTypeError(f"{text}: must lie strictly between 0 and 1")
    return value


def register(commands: Any) -> None:
    """Add ``sweep``, ``analyze`` and ``equivalence`` to the ``tipline`` subcommands."""
    sweep = commands.add_parser(
        "sweep", help="run a sweep design (grid, Latin hypercube, Sobol) into a resumable Parquet store",
        description="Run every design point of a sweep file, each over the same replication seeds; one Parquet row "
                    "per run in DIR/results, with DIR/manifest.json describing the design.",
        epilog=SWEEP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("sweep", metavar="SWEEP", help="sweep file, or the name of one in scenarios/sweeps")
    sweep.add_argument("--out", metavar="DIR", help="new (or empty) directory for manifest.json and results/")
    sweep.add_argument("--resume", action="store_true",
                       help="continue the sweep stored in DIR: skip stored runs (finished or failed)")
    add_runner_options(sweep)
    add_set_option(sweep)
    sweep.add_argument("--days", type=int, help="simulated days of every run (sets run.days)")
    sweep.add_argument("--chunk-rows", type=int, default=64,
                       help="runs per Parquet chunk (default 64; a chunk is also written every 10 s)")
    sweep.add_argument("--dry-run", action="store_true", help="check the file and print the design; run nothing")
    sweep.set_defaults(func=cmd_sweep)

    analyze = commands.add_parser(
        "analyze", help="per-point means with 95%% CIs, and Sobol indices, of a sweep directory",
        description="Summarise a sweep directory: per design point and metric, the mean over replications with "
                    "its Student-t confidence interval; for Sobol designs, first-order and total Sobol indices "
                    "(SALib) with bootstrap confidence intervals. Writes DIR/analysis/*.csv and *.parquet.")
    analyze.add_argument("directory", metavar="DIR", help="a directory written by tipline sweep")
    analyze.add_argument("--metric", action="append",
                         help="metric to summarise (repeatable; default: every metric, and the sweep file's "
                              "`metrics` for Sobol indices); the table printed is the first, by default "
                              "evidence_lost_rate_us")
    analyze.add_argument("--confidence", type=_positive_fraction, default=0.95, help="confidence level (default 0.95)")
    analyze.add_argument("--rows", type=int, default=40, help="design points to print (default 40)")
    analyze.set_defaults(func=cmd_analyze)

    eq = commands.add_parser(
        "equivalence", help="staff the 90-day rule needs to lose no more evidence than the one-year rule",
        description=EQUIVALENCE_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 answered (including 'not reachable'); 1 a run failed or internal error; 2 bad input.")
    eq.add_argument("baseline", nargs="?",
                    help="scenario whose staff varies (default: baseline_90day, the national 90-day rule); alone, it "
                         "is compared with itself under one-year retention, as in compare")
    eq.add_argument("target", nargs="?",
                    help="scenario to match with its own staff (default: report_act_1yr with the default baseline, "
                         "else BASELINE under one-year retention)")
    eq.add_argument("--staff", choices=("investigators", "analysts"), default="investigators",
                    help="investigators = law_enforcement.investigators, analysts = ncmec.analysts")
    eq.add_argument("--metric", default="evidence_lost_us",
                    help="summary metric not to exceed (default evidence_lost_us: the US route, the one US staffing "
                         "can change; evidence_lost counts foreign MLAT losses too)")
    eq.add_argument("--replications", "-r", type=int, default=5, help="common seeds (default 5)")
    add_set_option(eq)
    eq.add_argument("--days", type=int, help="simulated days for both scenarios")
    eq.add_argument("--seed", type=int, help="root seed of the replications (default: the baseline's run.seed)")
    eq.add_argument("--max-staff", type=int, help="largest staffing tried (default: 100 x today's)")
    add_runner_options(eq)
    eq.add_argument("--json", action="store_true", help="print one JSON object")
    eq.set_defaults(func=cmd_equivalence)


__all__ = ["cmd_analyze", "cmd_equivalence", "cmd_sweep", "register"]
