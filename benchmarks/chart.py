"""Chart: reports simulated per second against reports a day, for this model and the SimPy reference.

    python benchmarks/chart.py [--des benchmarks/results-des-draw-ahead.json]
                               [--performance benchmarks/results-scaling-int16.json]
                               [--out benchmarks/reports-per-second.svg]

Reads the benchmark results already written (``des_vs_abm.py``: both models on the simplified pipeline at
several sizes; ``performance.py``: the full model's `x_platform` and national runs, staff scaled with the
volume) and draws one log-log chart, as SVG, with the local Chromium (kaleido, MathJax off). Reports a day
are the pipeline's mean for ``des_vs_abm.py`` and reports simulated over days simulated (warm-up and drain
included) for the full model; reports a second count model construction and the run, as the benchmarks do.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import plotly.graph_objects as go

HERE = Path(__file__).resolve().parent


def des_series(path: Path) -> dict[str, list[tuple[float, float]]]:
    """(reports a day, reports a second) of the ABM and of the SimPy DES, by size."""
    results = sorted(json.loads(path.read_text())["results"], key=lambda r: r["reports_per_day"])
    return {"this model, simplified pipeline (des_vs_abm.py)": [(r["reports_per_day"], r["abm_reports_per_second"])
                                                               for r in results],
            "SimPy reference, same pipeline (des_reference.py)": [(r["reports_per_day"], r["des_reports_per_second"])
                                                                 for r in results]}


def model_series(path: Path) -> dict[str, list[tuple[float, float]]]:
    """(reports a day, reports a second) of the full model's runs with staff in proportion to volume."""
    cases = json.loads(path.read_text())["cases"]
    points = [(c["reports_simulated"] / c["days_simulated"], c["reports_simulated"] / c["wall_seconds"])
              for c in cases if c["case"] == "x_platform two years" or c["case"] == "national two years"
              or "staff scaled" in c["case"]]
    return {"this model, full pipeline (x_platform; national at 0.25-4x volume)": sorted(points)}


def figure(series: dict[str, list[tuple[float, float]]]) -> go.Figure:
    fig = go.Figure()
    for name, points in series.items():
        fig.add_scatter(x=[x for x, _ in points], y=[y for _, y in points], name=name, mode="lines+markers")
    fig.update_layout(width=820, height=480, template="plotly_white", margin={"t": 60, "b": 130},
                      title="Reports simulated per second (wall clock, one process)",
                      legend={"orientation": "h", "y": -0.25, "x": 0},
                      xaxis={"type": "log", "title": "reports a day (des_vs_abm: the mean set; full model: simulated / days)"},
                      yaxis={"type": "log", "title": "reports a second"})
    return fig


def write_svg(fig: go.Figure, out: Path) -> None:
    """The chart as SVG, drawn like the report's static figures (local Chromium, MathJax off)."""
    from dashboards.report.page import draw_static

    opts = {"format": "svg", "width": fig.layout.width, "height": fig.layout.height}
    out.write_bytes(draw_static([(out.name, fig.to_plotly_json(), opts)])[out.name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--des", default=str(HERE / "results-des-draw-ahead.json"))
    parser.add_argument("--performance", default=str(HERE / "results-scaling-int16.json"))
    parser.add_argument("--out", default=str(HERE / "reports-per-second.svg"))
    args = parser.parse_args()
    series = {**des_series(Path(args.des)), **model_series(Path(args.performance))}
    write_svg(figure(series), Path(args.out))
    for name, points in series.items():
        print(name, [(round(x), round(y)) for x, y in points])
    print("written", args.out)


if __name__ == "__main__":
    main()
