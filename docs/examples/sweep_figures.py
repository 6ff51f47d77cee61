"""The report's main figures from a sweep: evidence lost by preservation window and staffing.

Runs the shipped ``window_x_investigators`` sweep (8 windows x 6 staffing levels x 5 replications of the X
scenario, about 2 minutes on 2 cores) into a resumable store, prints the US rate by window at today's staff
with its 95% confidence interval, and writes the HTML report and its figures as PNG, SVG and PDF.

    .venv/bin/python docs/examples/sweep_figures.py results/example_sweep
    .venv/bin/python docs/examples/sweep_figures.py results/example_sweep --quick   # a smaller sweep, seconds

Run it again to resume an interrupted sweep (finished runs are kept).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dashboards.report import build_report, render_figures
from model.sweeps import analyze_sweep, load_sweep, run_sweep

#: A smaller version for a first look (and the test suite): 4 windows x 3 staffing levels x 2 replications,
#: 150 days at a fifth of X's volume, with a fifth of its staff (today's: 40 instead of 200 investigators).
QUICK = {"replications": 2, "set": {"run.days": 150, "run.warmup_days": 30, "platforms.X.reports_per_day": 400},
         "factors": [{"key": "retention.window_days", "values": [30, 90, 365, 730]},
                     {"key": "law_enforcement.investigators", "values": [20, 40, 80]}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the sweep's results, the report and its figures")
    parser.add_argument("--quick", action="store_true", help="a smaller sweep (seconds instead of minutes)")
    parser.add_argument("--static", action="store_true", help="also write PNG, SVG and PDF figures")
    args = parser.parse_args()

    sweep = args.out / "sweep"
    spec, _ = load_sweep("window_x_investigators")      # scenarios/sweeps/window_x_investigators.toml
    if args.quick:
        spec = {**spec.model_dump(mode="json", by_alias=True, exclude_none=True), **QUICK}
    run_sweep(spec, sweep, resume=sweep.exists(), progress=False)

    points = analyze_sweep(sweep, metrics=["evidence_lost_rate_us"])["points"]
    staff = 40 if args.quick else 200
    today = points[points["law_enforcement.investigators"] == staff]
    print(f"US evidence lost at today's staff ({staff} investigators), by preservation window:")
    for _, row in today.iterrows():
        print(f"  {row['retention.window_days']:>4.0f} days: {row['mean']:6.1%} "
              f"(95% CI {row['ci_low']:.1%} to {row['ci_high']:.1%})")

    report = build_report(sweep, title="Evidence lost by preservation window and staffing")
    (args.out / "report.html").write_text(report.html())
    print("Figures in report.html:")
    for item in report.figures:
        print(f"  {item.name}: {item.title}")
    if args.static:
        figures = args.out / "figures"
        figures.mkdir(exist_ok=True)
        for name, data in render_figures(report).items():
            (figures / name).write_bytes(data)


if __name__ == "__main__":  # the sweep starts worker processes, which import this script again
    main()
