"""The ``tipline`` command (also ``python -m model``): a thin layer over the Python API.

Exit codes: 0 success; 2 bad input (the message names the file, key and what is allowed, and
nothing is written); 1 internal error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dashboards import cli as dashboard_commands
from model import calibration
from model.atomic import write_directory
from model.console import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    EXIT_OK,
    BadInput,
    add_runner_options,
    add_set_option,
    check_out_dir,
    check_replications,
    day_progress,
    overrides_from,
    print_table,
)
from model.params import Scenario, warmup_note
from model.scenarios import SCENARIO_DIR, load_scenario, to_toml
from model.settling import settling_note
from model.sweeps import cli as sweep_commands
from model.uncertainty import cli as uncertainty_commands

EPILOG = f"""Scenarios are TOML files or the names of shipped ones in {SCENARIO_DIR}:
{", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))}.
Exit codes: 0 ok, 1 internal error, 2 bad input."""


def run_headline(summary: dict[str, Any]) -> str:
    """One sentence: the US rate first, foreign beside it, in %."""
    def part(route: str) -> str:
        rate = summary.get(f"evidence_lost_rate_{route}")
        lost, needed = summary[f"evidence_lost_{route}"], summary[f"legal_process_needed_{route}"]
        return "no case needed legal process" if rate is None else f"{100 * rate:.1f}% ({lost:,} of {needed:,} reports)"
    return (f"Evidence lost before legal process reached the platform: US {part('us')}; "
            f"foreign (MLAT) {part('foreign')}.")


def counted_sentence(summary: dict[str, Any], warmup_days: int) -> str:
    """What was counted, and whether every counted report was decided."""
    text = (f"Counted: {summary['reports']:,} reports created after the warm-up (day {warmup_days}) up to day "
            f"{summary['days']:,}, each followed to its outcome ({summary['drain_days']:,} more days simulated)")
    if summary["undecided"]:
        return text + (f"; {summary['undecided']:,} still undecided when the drain cap was reached: the pipeline is "
                       "overloaded, and the rates count decided reports only.")
    return text + "; none undecided."


def run_scenario(args: argparse.Namespace) -> Scenario:
    """The scenario `run` simulates: a scenario file or name, or one design point of a sweep directory."""
    from model.sweeps.store import ResultStore, point_scenario

    is_sweep = Path(args.scenario).is_dir() and (Path(args.scenario) / ResultStore.MANIFEST).exists()
    if args.point is None:
        if is_sweep:
            raise BadInput(f"{args.scenario}: a sweep directory; choose one of its design points with --point N")
        if args.replication is not None:
            raise BadInput("--replication needs --point and a sweep directory")
        return load_scenario(args.scenario, overrides_from(args))
    if not is_sweep:
        raise BadInput(f"--point {args.point}: {args.scenario} is not a sweep directory (one written by tipline sweep "
                       "or tipline uncertainty, e.g. results/unc/a)")
    return point_scenario(args.scenario, args.point, args.replication or 0, overrides_from(args))


def cmd_run(args: argparse.Namespace) -> int:
    from model.metrics import METRICS, format_metric
    from model.model import run

    scenario = run_scenario(args)
    out = Path(args.out) if args.out else None
    if out:
        check_out_dir(out)
    note = warmup_note(scenario)
    if note:
        print(f"tipline: note: {note}", file=sys.stderr)
    bar = day_progress(scenario.run.days, scenario.name)
    model, summary = run(scenario, on_day=(lambda m: bar.update(1)) if bar else None,
                         daily_series=out is not None)   # the daily series is written with --out only
    if bar:
        bar.close()
    if out:
        daily = model.timeseries()
        flows = model.flows()
        write_directory(out, {
            "summary.json": lambda p: p.write_text(json.dumps(summary, indent=2) + "\n"),
            "timeseries.csv": lambda p: daily.to_csv(p, index=False),
            "timeseries.parquet": lambda p: daily.to_parquet(p, index=False),
            "flows.csv": lambda p: p.write_text("from,to,reports\n" + "".join(f'"{a}","{b}",{n}\n' for a, b, n in flows)),
            "scenario.toml": lambda p: p.write_text(to_toml(scenario)),
        })
    settling = settling_note([summary], scenario.name)
    if settling:
        print(f"tipline: note: {settling}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
        return EXIT_OK
    print(f"{scenario.name}: {scenario.description}")
    print(run_headline(summary))
    print(counted_sentence(summary, scenario.run.warmup_days))
    print()
    rows = [(key, format_metric(key, value), METRICS[key].unit) for key, value in summary.items() if key in METRICS]
    print_table(rows, ("metric", "value", "unit"))
    print(f"seed {summary['seed']}, {summary['wall_seconds']:.2f} s")
    if out:
        print(f"wrote {out}/summary.json, timeseries.csv, timeseries.parquet, flows.csv, scenario.toml")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from model.experiments import compare, headline, rule_pair
    from model.metrics import METRICS

    check_replications(args.replications)
    overrides = overrides_from(args)
    a = args.a or "baseline_90day"
    b = None if args.a and not args.b else (args.b or "report_act_1yr")
    notes = set()
    for name, side in ((a, args.set_a), (b, args.set_b)):  # bad input before any run
        if name is not None:
            notes.add(warmup_note(load_scenario(name, [*overrides, *(side or [])])))
    if b is None:
        rule_pair(load_scenario(a, overrides))
    for note in sorted(n for n in notes if n):
        print(f"tipline: note: {note}", file=sys.stderr)
    table = compare(a, b, replications=args.replications, overrides=overrides, overrides_a=args.set_a or (),
                    overrides_b=args.set_b or (), workers=args.workers, scheduler=args.scheduler,
                    dask_local=args.dask_local, progress=sys.stderr.isatty() if args.progress is None else args.progress)
    attrs = table.attrs
    if attrs["differs"]:
        shown = ", ".join(attrs["differs"][:6]) + (", ..." if len(attrs["differs"]) > 6 else "")
        print(f"tipline: warning: A and B differ in {len(attrs['differs'])} keys that are not policy or staffing "
              f"({shown}): the difference is not the effect of a policy alone", file=sys.stderr)
    for side in ("a", "b"):
        settling = settling_note(attrs["runs"][side], f"{side.upper()} ({attrs[side]})")
        if settling:
            print(f"tipline: note: {settling}", file=sys.stderr)
    if args.json:
        payload = {"a": attrs["a"], "b": attrs["b"], "overrides": overrides, "overrides_a": args.set_a or [],
                   "overrides_b": args.set_b or [], "replications": args.replications, "seeds": attrs["seeds"],
                   "confidence": attrs["confidence"], "headline": attrs["headline"],
                   "headline_foreign": headline(table, "foreign"), "differs": attrs["differs"],
                   "metrics": {m: {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
                               for m, row in table.to_dict("index").items()},
                   "flows": {side: [list(edge) for edge in edges] for side, edges in attrs["flows"].items()}}
        print(json.dumps(payload))
        return EXIT_OK
    print(attrs["headline"])
    print(headline(table, "foreign"))
    print(f"A = {attrs['a']}, B = {attrs['b']}: the same {args.replications} seeds for both (common random numbers); "
          "counted reports are those created after the warm-up, each followed to its outcome.\n")
    rows = []
    for metric, r in table.iterrows():
        share = METRICS[metric].is_share
        def cell(x: float, diff: bool = False, share: bool = share) -> str:
            if not math.isfinite(x):
                return "-"
            return (f"{100 * x:+.1f} pt" if diff else f"{100 * x:.1f}%") if share else f"{x:+,.1f}" if diff else f"{x:,.1f}"
        rows.append((metric, METRICS[metric].unit, cell(r["a"]), cell(r["b"]), cell(r["difference"], True),
                     cell(r["ci_low"], True), cell(r["ci_high"], True)))
    level = f"{attrs['confidence']:.0%}"
    print_table(rows, ("metric", "unit", "A", "B", "B - A", f"{level} CI low", f"{level} CI high"))
    return EXIT_OK


def cmd_params(args: argparse.Namespace) -> int:
    import textwrap

    from model.schema import parameters

    scenario = load_scenario(args.scenario, args.set or [])
    rows = list(parameters(scenario))
    if args.format == "json":
        print(json.dumps([{"key": p.key, "value": p.value, "unit": p.unit, "allowed": p.allowed,
                           "plausible": list(p.plausible) if p.plausible else None,
                           "plausible_scale": p.scale if p.plausible else None, "source": p.source,
                           "meaning": p.meaning} for p in rows], default=str))
    elif args.format == "markdown":
        print("| key | value | unit | allowed | plausible | source |\n|---|---|---|---|---|---|")
        for p in rows:
            print(f"| `{p.key}` | {p.value} | {p.unit} | {p.allowed} | {p.plausible_text()} | {p.source} |")
    else:
        width = min(shutil.get_terminal_size((100, 20)).columns, 100)
        print(f"{scenario.name}: {len(rows)} parameters (sources: docs/sources.md)\n")
        for p in rows:
            ranges = f"allowed {p.allowed}" if p.allowed else ""
            if p.plausible:
                ranges += f"; plausible {p.plausible_text()}"
            print(textwrap.fill(f"{p.key} = {p.value} {p.unit}".rstrip() + (f"  ({ranges})" if ranges else ""), width,
                                subsequent_indent="    "))
            for text in (p.meaning, f"source: {p.source}"):
                if text:
                    print(textwrap.fill(text, width, initial_indent="    ", subsequent_indent="    "))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    failed = 0
    for name in args.scenarios:
        try:
            scenario = load_scenario(name, args.set or [])
        except BadInput as exc:
            failed += 1
            print(f"tipline: error: {exc}", file=sys.stderr)
        else:
            print(f"ok: {name} ({scenario.name})")
    return EXIT_BAD_INPUT if failed else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tipline", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Evidence lost before legal process reaches the platform: a model of the "
                    "CyberTipline pipeline (platform -> NCMEC -> law enforcement -> legal process).")
    from model import __version__
    parser.add_argument("--version", action="version", version=f"tipline {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="simulate one scenario and print its summary",
                              description="Simulate one scenario; print a summary table, or JSON with --json.")
    run.add_argument("scenario", help="scenario file or shipped name, e.g. x_platform; or a sweep directory with --point")
    run.add_argument("--point", type=int, metavar="N",
                     help="run design point N of the sweep directory given as the scenario (as its runs did: the "
                          "same scenario and seed), with --set applied after; e.g. to rerun an uncertainty draw with a "
                          "longer warm-up: tipline run results/unc/a --point 57 --set run.warmup_days=1825 --days 2190")
    run.add_argument("--replication", type=int, metavar="R", help="with --point: the seed of replication R (default 0)")
    add_set_option(run)
    run.add_argument("--seed", type=int, help="root seed (default: the scenario's run.seed)")
    run.add_argument("--days", type=int, help="simulated days (default: the scenario's run.days)")
    run.add_argument("--out", metavar="DIR",
                     help="write summary.json, timeseries.csv/.parquet and the resolved scenario.toml to a new DIR")
    run.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    run.set_defaults(func=cmd_run)

    cmp = commands.add_parser(
        "compare", help="paired comparison of two scenarios (or of two retention rules) with confidence intervals",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run scenarios A and B on the same seeds (common random numbers) and print a headline sentence "
                    "(the US rate under each with its confidence interval, and the difference), then, per metric, "
                    "A, B, B - A and the 95% confidence interval of the difference.\n\n"
                    "  tipline compare                 baseline_90day vs report_act_1yr (the national scenario)\n"
                    "  tipline compare x_platform      x_platform under the 90-day rule vs one-year retention\n"
                    "  tipline compare A.toml B.toml   any two scenarios (a warning if they differ beyond policy)")
    cmp.add_argument("a", nargs="?", help="scenario A (default: baseline_90day)")
    cmp.add_argument("b", nargs="?", help="scenario B (default: report_act_1yr; with A alone, A under one-year retention)")
    cmp.add_argument("--replications", "-r", type=int, default=5, help="paired replications (default: 5)")
    cmp.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a parameter of both A and B (repeatable), e.g. law_enforcement.investigators=200")
    cmp.add_argument("--set-a", action="append", metavar="KEY=VALUE", help="override a parameter of A only (repeatable)")
    cmp.add_argument("--set-b", action="append", metavar="KEY=VALUE", help="override a parameter of B only (repeatable)")
    cmp.add_argument("--seed", type=int, help="root seed of the replications (default: A's run.seed)")
    cmp.add_argument("--days", type=int, help="simulated days for both")
    add_runner_options(cmp)
    cmp.add_argument("--json", action="store_true", help="print one JSON object")
    cmp.set_defaults(func=cmd_compare)

    prm = commands.add_parser("params", help="table of every parameter: value, unit, range, source",
                              description="List every parameter of a scenario (default: built-in defaults).")
    prm.add_argument("scenario", nargs="?", default=None, help="scenario file or shipped name")
    add_set_option(prm)
    prm.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    prm.set_defaults(func=cmd_params)

    val = commands.add_parser("validate", help="check scenario files without running them",
                              description="Check scenario files; exit 2 if any is invalid.")
    val.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    add_set_option(val)
    val.set_defaults(func=cmd_validate)
    for module in (sweep_commands, uncertainty_commands, calibration, dashboard_commands):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BadInput as exc:
        print(f"tipline: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tipline: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except MemoryError as exc:
        print(f"tipline: out of memory ({exc}): the scenario keeps more reports in flight than this machine holds "
              "(the volume, its growth and the backlogs of overloaded stages); try a lower demand.scale or "
              "demand.growth_per_year, a shorter run.days, or more memory", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        print(f"tipline: internal error: {type(exc).__name__}: {exc} "
              "(please report it with the command line)", file=sys.stderr)
        if os.environ.get("TIPLINE_DEBUG"):
            raise
        return EXIT_ERROR
