"""The ``tipline uncertainty`` command: the answer over the plausible values of what is not known.

Registered by :mod:`model.cli` through :func:`register`. Exit codes: 0 success; 1 some runs failed (the
others are stored and summarised) or an internal error; 2 bad input (nothing written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from model.calibration import REGIMES
from model.console import (
    EXIT_ERROR,
    EXIT_OK,
    BadInput,
    add_runner_options,
    check_out_dir,
    check_replications,
    overrides_from,
    print_table,
)
from model.settling import FILLING_DAYS, SETTLING_Z
from model.uncertainty.calibrated import published_text
from model.uncertainty.options import DEFAULT_CONDITION, MAX_SETTLE_ROUNDS, SETTLE_ROUNDS

#: How a run that may not have settled is recognised, in words.
UNSETTLED_SIGNS = (f"the halves of the counted period lost shares of US evidence more than {SETTLING_Z:g} standard errors "
                   f"apart, or the longest wait in a queue grew by more than {FILLING_DAYS} days")

DESCRIPTION = """How sure is the answer? Draw N points over the plausible ranges of every parameter that has one
(`tipline params` shows them; most are assumptions), run A and B at each point on the same seeds (common
random numbers, the same at every point), and report:

  - the US (and foreign) evidence lost under A and B and the difference B - A: median, 5th and 95th
    percentiles and mean over the points;
  - the drivers: the assumptions ranked by their influence on the US difference (partial rank
    correlation with its confidence interval; Sobol total-order indices with --design sobol);
  - scenario discovery: the region of the assumptions where a condition holds (default: one-year
    retention, B, still loses more than 10% of US evidence), found by PRIM, in plain words with its
    coverage and density.

  tipline uncertainty x_platform -n 128 --out results/unc      x_platform, 90-day rule vs one-year retention
  tipline uncertainty baseline_90day report_act_1yr -n 64      the national scenario's two rules
  tipline uncertainty x_platform -n 64 --only law_enforcement.drafting_hours,ncmec.analysts

With one scenario, B is A under the other retention rule (as in compare). Parameters in which A and B
differ are held at each side's value (unless their range scales with the value). Draws with a run whose
queues may not have settled (the two halves of its counted period lost different shares of US evidence,
or the longest wait in NCMEC's queue or a US agency's referrals grew by more than 15 days) are rerun on
both sides with the warm-up doubled, and the reruns replace them (--settle-rounds). DIR holds
summary.json and resumable sweep stores, a/ and b/ (tipline analyze works on each), and a-settle1/ and
b-settle1/ for the reruns; --resume continues after an interruption."""


def _names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


#: The options that set the study's sweep spec, by field.
OPTION_OF_FIELD = {"samples": "-n", "replications": "--replications", "seed": "--seed"}


def _as_typed(exc: ValidationError) -> str:
    """The first error of the study's spec as the option the user typed, with its value and what is allowed."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    message = error["msg"].removeprefix("Value error, ")
    if name in OPTION_OF_FIELD:
        return f"{OPTION_OF_FIELD[name]} {error['input']}: {message}"
    return message


def cmd_uncertainty(args: argparse.Namespace) -> int:
    from model.executors import EXIT_TERMINATED, Terminated
    from model.uncertainty import run_study, summarize, write_summary

    if args.samples < 2:
        raise BadInput(f"-n {args.samples}: must be at least 2")
    if args.design == "sobol" and args.samples & (args.samples - 1):
        power = 1 << args.samples.bit_length()
        raise BadInput(f"-n {args.samples}: a Sobol design needs a power of two (Sobol' sequence balance), "
                       f"e.g. -n {power // 2} or -n {power}")
    check_replications(args.replications)
    if not 0 <= args.settle_rounds <= MAX_SETTLE_ROUNDS:
        raise BadInput(f"--settle-rounds {args.settle_rounds}: must be 0 to {MAX_SETTLE_ROUNDS}")
    if not 0 < args.min_density <= 1:
        raise BadInput(f"--min-density {args.min_density}: must lie in (0, 1]")
    out = Path(args.out) if args.out else None
    if out is not None and not args.resume:
        check_out_dir(out)
    b = None if not args.b else args.b
    try:
        from model.uncertainty.discovery import Condition
        from model.uncertainty.summary import DESCRIBED
        Condition.parse(args.condition or DEFAULT_CONDITION, DESCRIBED)
        study = run_study(args.a, b, samples=args.samples, replications=args.replications, design=args.design,
                          overrides=overrides_from(args), overrides_a=args.set_a or (), overrides_b=args.set_b or (),
                          only=_names(args.only), fix=_names(args.fix), seed=args.seed, out=out, workers=args.workers,
                          scheduler=args.scheduler, dask_local=args.dask_local, resume=args.resume,
                          progress=args.progress, settle_rounds=args.settle_rounds)
    except ValidationError as exc:   # the study's sweep spec: name the option as typed
        raise BadInput(_as_typed(exc)) from None
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    except Terminated:
        stored = f"the finished runs are stored in {out} (add --resume to continue)" if out else "nothing was stored"
        print(f"tipline: terminated (SIGTERM): workers stopped; {stored}", file=sys.stderr)
        return EXIT_TERMINATED
    summary = summarize(study, args.condition or DEFAULT_CONDITION, args.min_density, calibration=args.calibration)
    if out is not None:
        write_summary(summary, out)
    if args.json:
        print(json.dumps(summary))
    else:
        _print(summary, out)
    return EXIT_ERROR if study.failed else EXIT_OK


def _print(summary: dict[str, Any], out: Path | None) -> None:
    from model.uncertainty.settle import warmup_text

    print(summary["headline"] + "\n")
    print_table(_outcome_rows(summary, (("rate_us_a", f"US lost, A = {summary['a']}"),
                                        ("rate_us_b", f"US lost, B = {summary['b']}"),
                                        ("difference_us", "US difference B - A"), ("rate_foreign_a", "foreign lost, A"),
                                        ("rate_foreign_b", "foreign lost, B"),
                                        ("difference_foreign", "foreign difference B - A"))),
                ("outcome (%; differences in points)", "5%", "median", "95%", "mean"))
    print(f"\nDrivers of the US difference ({summary['drivers'][0]['method'] if summary['drivers'] else '-'}; "
          f"{summary['confidence']:.0%} interval):")
    if summary["drivers_note"]:
        print(f"  ({summary['drivers_note']})")
    print_table([(d["parameter"], f"{d['value']:+.2f}",
                  "-" if d["low"] is None else f"{d['low']:+.2f} to {d['high']:+.2f}")
                 for d in summary["drivers"][:10]], ("assumption", "value", "interval"))
    found = summary["discovery"]
    print(f"\nWhere {found['condition']} ({found['share']:.0%} of the points): {found['text']}")
    if "calibrated" in summary:
        _print_calibrated(summary["calibrated"])
    if summary["held"]:
        print(f"Held at each scenario's value: {', '.join(summary['held'])}")
    if summary.get("warmup_note"):
        print(f"Warm-up: {summary['warmup_note']}")
    if summary["failed_runs"]:
        print(f"{summary['failed_runs']} runs failed; their points are left out (see the sweeps' error column)")
    if summary.get("undecided_runs"):
        print(f"{summary['undecided_runs']} runs ended their drain with counted reports still undecided (overloaded "
              "draws): their rates leave those reports out; raise run.drain_max_days (the sweeps' undecided column)")
    for r in summary.get("settling") or []:
        print(f"Settling, round {r['round']}: {r['unsettled_runs']} runs may not have settled ({UNSETTLED_SIGNS}). "
              f"Both sides of their {len(r['points'])} draws were rerun with {warmup_text(r['warmup_days'])} "
              f"days of warm-up (DIR/a-settle{r['round']}, b-settle{r['round']}); those runs replace them.")
    if summary.get("settling_note"):
        print(f"Settling: {summary['settling_note']}")
    if summary.get("unsettled_runs"):
        print(f"{summary['unsettled_runs']} runs may not have settled ({UNSETTLED_SIGNS}; the sweeps' "
              "evidence_lost_rate_us_first_half, _second_half and longest_wait_growth_days columns): their rates may be "
              "understated; --settle-rounds reruns them with longer warm-ups (docs/ODD.md, warm-up)")
    if out is not None:
        settled = "".join(f", {out / f'a-settle{r["round"]}'}, {out / f'b-settle{r["round"]}'}"
                          for r in summary.get("settling") or [])
        print(f"wrote {out / 'summary.json'}, {out / 'a'}, {out / 'b'}{settled}")


def _print_calibrated(block: dict[str, Any]) -> None:
    print(f"\nConditioned on calibration ({block['regime']}): {block['points']} of {block['of']} draws make "
          f"{published_text(block)} within tolerance.")
    for entry in block["targets"]:
        model = entry["model_per_year"]
        spread = "-" if model["median"] is None else (f"{model['median']:,.0f} (5-95%: {model['p05']:,.0f} to "
                                                      f"{model['p95']:,.0f})")
        print(f"  {entry['name']}: {entry['points']} draws within {entry['tolerance']} of {entry['published']:,.0f} "
              f"({entry['source']}); over all draws A makes {spread} a year.")
    if block["not_measured"]:
        print(f"  Not measured by these runs (older runs, or a stand-in model): {', '.join(block['not_measured'])}.")
    if block["points"]:
        print(f"  Where they lie (PRIM): {block['region']['text']}")
        print_table(_outcome_rows(block, (("rate_us_a", "US lost, A"), ("rate_us_b", "US lost, B"),
                                          ("difference_us", "US difference B - A"))),
                    ("over those draws (%; points)", "5%", "median", "95%", "mean"))


def _outcome_rows(distributions: dict[str, Any], labels: tuple[tuple[str, str], ...]) -> list[tuple[str, ...]]:
    """One row per outcome (name, label): its 5%, median, 95% and mean in % (differences in points), "-" if none."""
    return [(label, *(f"{round(100 * distributions[name][k], 1) + 0.0:.1f}" if distributions[name][k] is not None
                      else "-" for k in ("p05", "median", "p95", "mean")))
            for name, label in labels]


def register(commands: Any) -> None:
    """Add ``uncertainty`` to the ``tipline`` subcommands."""
    unc = commands.add_parser("uncertainty", help="the answer over the plausible values of the assumptions: its "
                              "range, what drives it, where a condition holds", description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    unc.add_argument("a", help="scenario A, e.g. x_platform or baseline_90day")
    unc.add_argument("b", nargs="?", help="scenario B (default: A under the other retention rule)")
    unc.add_argument("-n", "--samples", type=int, default=64,
                     help="points (lhs; default 64), or base samples N of a Sobol design (N x (k + 2) points)")
    unc.add_argument("--design", choices=("lhs", "sobol"), default="lhs",
                     help="lhs: Latin hypercube, drivers by partial rank correlation (default); sobol: Saltelli "
                          "design, drivers by Sobol total-order indices (N a power of two)")
    unc.add_argument("--replications", "-r", type=int, default=1, help="runs per point and side (default 1)")
    unc.add_argument("--only", metavar="NAMES", help="vary only these assumptions (comma-separated names as in "
                     "tipline params; per-platform ones as platforms.*.NAME)")
    unc.add_argument("--fix", metavar="NAMES", help="hold these assumptions at the scenario's values")
    unc.add_argument("--condition", metavar="OUTCOME>VALUE",
                     help=f"the condition scenario discovery explains (default {DEFAULT_CONDITION}: one-year retention "
                          "still loses more than 10%% of US evidence); outcomes rate_us_a, rate_us_b, difference_us "
                          "and the foreign ones")
    unc.add_argument("--min-density", type=float, default=0.8,
                     help="the region's least density: share of its points where the condition holds (default 0.8)")
    unc.add_argument("--calibration", choices=REGIMES, metavar="REGIME",
                     help="also give the answer over the draws whose A runs make every published figure of "
                          "REGIME that a run measures within the calibration's tolerance: US referrals (2023 only: 1.1 "
                          "million a year, +-25%%), ICAC investigations (2023: 184,700; 2024: 203,467; +-25%%) and "
                          "arrests (10,800; 12,600; +-30%%): the answer conditioned on what was observed. Meant for "
                          "national scenarios")
    unc.add_argument("--settle-rounds", type=int, default=SETTLE_ROUNDS, metavar="R",
                     help=f"rerun the draws with a run whose queues may not have settled (its counted period's halves "
                          f"lost different shares of US evidence, or a queue's longest wait grew by more than "
                          f"{FILLING_DAYS} days), both sides, with the warm-up doubled; R rounds, "
                          f"each doubling it again for the draws still flagged (default {SETTLE_ROUNDS}; 0 to "
                          f"{MAX_SETTLE_ROUNDS}; 0: keep them as they are)")
    unc.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter of A and B")
    unc.add_argument("--set-a", action="append", metavar="KEY=VALUE", help="override a parameter of A only")
    unc.add_argument("--set-b", action="append", metavar="KEY=VALUE", help="override a parameter of B only")
    unc.add_argument("--seed", type=int, help="root seed of the design and replications (default: A's run.seed)")
    unc.add_argument("--days", type=int, help="simulated days for both (sets run.days)")
    unc.add_argument("--out", metavar="DIR", help="new (or empty) directory for summary.json and the sweeps a/ b/")
    unc.add_argument("--resume", action="store_true", help="continue the study stored in DIR")
    add_runner_options(unc)
    unc.add_argument("--json", action="store_true", help="print summary.json instead of the text")
    unc.set_defaults(func=cmd_uncertainty)
