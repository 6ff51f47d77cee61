"""Reports and paper figures from results directories: ``tipline report DIR --out report.html``.

Inputs found in DIR (each optional, read tolerantly; at least one is needed):

- **run directories** written by ``tipline run --out``: ``summary.json``, ``timeseries.parquet`` (or
  ``.csv``), ``scenario.toml``; DIR itself or its subdirectories (two levels deep);
- **comparisons**: any ``*.json`` file holding ``tipline compare --json`` output (keys ``a``, ``b``,
  ``metrics``), e.g. ``DIR/compare.json``;
- **sweep results**: Parquet files (one row per run: factor columns with dotted scenario keys such as
  ``retention.window_days``, ``replication``/``seed``, and every summary metric), optionally with
  ``manifest.json``; and Sobol indices in ``sobol.csv`` or ``sobol.parquet`` (columns ``parameter``, ``S1``,
  ``S1_conf``, ``ST``, ``ST_conf``, optionally ``metric``).

The HTML report is self-contained: plotly.js is embedded once and each figure's data is stored as JSON
in the page, so it opens offline and in an e-mail attachment. Static figures (PNG, SVG, PDF) are drawn
by kaleido with the local Chromium (``$BROWSER_PATH``, default ``/usr/bin/chromium``), with MathJax off,
so no request leaves the machine.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from model.model import DAILY_SERIES

#: Metric shown by default in sweep figures (falls back to ``evidence_lost`` and then the first metric).
PRIMARY_METRICS = ("evidence_lost_rate", "evidence_lost", "evidence_lost_rate_us")
WINDOW = "retention.window_days"
#: Staffing factors for the heatmap, in order of preference.
STAFFING = ("law_enforcement.investigators", "ncmec.analysts", "foreign.investigators")
#: Columns of a sweep row that are neither factors nor metrics.
BOOKKEEPING = {"replication", "seed", "run", "run_id", "wall_seconds", "days", "scenario", "point", "design_point"}
METRIC_LABELS = {
    "evidence_lost_rate": "evidence lost (% of cases needing legal process)",
    "evidence_lost": "evidence lost (reports)",
    "evidence_lost_rate_us": "evidence lost, US cases (%)",
    "evidence_lost_rate_foreign": "evidence lost, foreign cases (%)",
}
FACTOR_LABELS = {
    WINDOW: "preservation window (days)",
    "law_enforcement.investigators": "US investigators (FTE)",
    "ncmec.analysts": "NCMEC analysts (FTE)",
    "foreign.investigators": "foreign investigators (FTE)",
    "demand.scale": "report volume (x)",
}
BACKLOGS = ("ncmec_backlog", "agency_backlog", "in_legal_process", "forensic_backlog")
SKIP_PARQUET = {"timeseries.parquet", "sobol.parquet"}
LAYOUT: dict[str, Any] = {"template": "plotly_white", "width": 800, "height": 480,
                          "margin": {"l": 70, "r": 20, "t": 60, "b": 60}}


class ReportError(Exception):
    """The results directory holds nothing a report can be built from, or a file is unreadable."""


def label(name: str) -> str:
    """Plain-language axis label of a factor or metric column."""
    return FACTOR_LABELS.get(name) or METRIC_LABELS.get(name) or DAILY_SERIES.get(name) or name


# --- reading ---------------------------------------------------------------------------------------

@dataclass
class RunResult:
    """One ``tipline run --out`` directory."""

    name: str
    path: Path
    summary: dict[str, Any]
    timeseries: pd.DataFrame | None
    scenario: dict[str, Any] = field(default_factory=dict)

    @property
    def window_days(self) -> float | None:
        value = self.scenario.get("retention", {}).get("window_days")
        return float(value) if value is not None else None


@dataclass
class Inputs:
    """Everything found in a results directory."""

    runs: list[RunResult] = field(default_factory=list)
    compares: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sweep: pd.DataFrame | None = None
    sobol: pd.DataFrame | None = None
    manifest: dict[str, Any] | None = None
    sources: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.runs or self.compares or self.sweep is not None or self.sobol is not None)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not readable JSON ({exc})") from exc


def read_run(path: Path) -> RunResult:
    """Read a ``tipline run --out`` directory (the time series and scenario are optional)."""
    summary = _read_json(path / "summary.json")
    if not isinstance(summary, dict):
        raise ReportError(f"{path / 'summary.json'}: expected a JSON object")
    series = None
    try:
        if (path / "timeseries.parquet").is_file():
            series = pd.read_parquet(path / "timeseries.parquet")
        elif (path / "timeseries.csv").is_file():
            series = pd.read_csv(path / "timeseries.csv")
    except Exception as exc:
        raise ReportError(f"{path}: unreadable time series ({exc})") from exc
    scenario: dict[str, Any] = {}
    if (path / "scenario.toml").is_file():
        try:
            scenario = tomllib.loads((path / "scenario.toml").read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ReportError(f"{path / 'scenario.toml'}: {exc}") from exc
    return RunResult(path.name, path, summary, series, scenario)


def is_compare(payload: Any) -> bool:
    return isinstance(payload, dict) and isinstance(payload.get("metrics"), dict) and "a" in payload and "b" in payload


def read_sweep(files: list[Path]) -> pd.DataFrame | None:
    """Concatenate Parquet files of sweep rows; files without a metric column are ignored."""
    frames = []
    for f in files:
        try:
            df = pd.read_parquet(f)
        except Exception as exc:
            raise ReportError(f"{f}: unreadable Parquet ({exc})") from exc
        if any(m in df.columns for m in PRIMARY_METRICS):
            if "error" in df.columns:  # failed runs (tipline sweep keeps them with the error text) carry no metrics
                df = df[df["error"].isna() | (df["error"].astype(str) == "")]
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else None


def read_sobol(path: Path) -> pd.DataFrame:
    """Sobol indices with columns parameter, S1, ST (and optional S1_conf, ST_conf, metric)."""
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:
        raise ReportError(f"{path}: unreadable ({exc})") from exc
    if "parameter" not in df.columns and df.index.name == "parameter":
        df = df.reset_index()
    missing = {"parameter", "S1", "ST"} - set(df.columns)
    if missing:
        raise ReportError(f"{path}: Sobol indices need columns parameter, S1, ST (missing {', '.join(sorted(missing))})")
    return df


def discover(directory: Path) -> Inputs:
    """Find run directories, comparisons, sweep rows and Sobol indices in `directory`."""
    if not directory.is_dir():
        raise ReportError(f"{directory}: not a directory")
    found = Inputs()
    run_dirs = [d for d in [directory, *sorted(directory.glob("*/")), *sorted(directory.glob("*/*/"))]
                if d.is_dir() and (d / "summary.json").is_file()]
    for d in run_dirs:
        found.runs.append(read_run(d))
        found.sources.append(str(d))
    in_run = {d.resolve() for d in run_dirs}
    for path in sorted(directory.rglob("*.json")):
        if path.name in ("summary.json", "manifest.json"):
            continue
        payload = _read_json(path)
        if is_compare(payload):
            found.compares.append((path.stem, payload))
            found.sources.append(str(path))
    parquet = [p for p in sorted(directory.rglob("*.parquet")) if p.name not in SKIP_PARQUET
               and p.parent.resolve() not in in_run and not any(part.startswith(".") for part in p.parts)]
    found.sweep = read_sweep(parquet)
    if found.sweep is not None:
        found.sources.append(f"{len(found.sweep)} sweep rows in {directory}")
    for name in ("sobol.parquet", "sobol.csv"):
        hits = sorted(directory.rglob(name))
        if hits:
            found.sobol = read_sobol(hits[0])
            found.sources.append(str(hits[0]))
            break
    manifests = sorted(directory.rglob("manifest.json"))
    if manifests:
        manifest = _read_json(manifests[0])
        found.manifest = manifest if isinstance(manifest, dict) else None
    return found


# --- statistics ------------------------------------------------------------------------------------

def mean_ci(values: pd.Series, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and the t-based confidence interval of the mean: (mean, low, high, n). NaN bounds when n < 2."""
    from scipy import stats

    x = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def factor_columns(rows: pd.DataFrame) -> list[str]:
    """Sweep factors: dotted scenario keys with more than one value."""
    return [c for c in rows.columns if "." in c and c not in BOOKKEEPING and rows[c].nunique(dropna=True) > 1]


def primary_metric(rows: pd.DataFrame) -> str:
    for m in PRIMARY_METRICS:
        if m in rows.columns:
            return m
    raise ReportError("sweep rows have no evidence-lost metric column")


def window_summary(rows: pd.DataFrame, metric: str, by: str | None = None) -> pd.DataFrame:
    """Mean of `metric` per window (and per level of `by`) with its 95% CI across replications."""
    keys = [WINDOW] + ([by] if by else [])
    out = []
    for key, group in rows.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        mean, low, high, n = mean_ci(group[metric])
        out.append({**dict(zip(keys, key, strict=True)), "mean": mean, "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(out)


# --- figures ---------------------------------------------------------------------------------------

@dataclass
class FigureItem:
    """A report figure: file stem, heading, caption and the plotly figure."""

    name: str
    title: str
    caption: str
    figure: go.Figure


def _percent(metric: str) -> bool:
    return metric.endswith("_rate") or "_rate_" in metric


def window_figure(rows: pd.DataFrame, metric: str) -> go.Figure:
    """Metric against the window, one line per level of a second factor (if few), with 95% CI bands."""
    factors = [f for f in factor_columns(rows) if f != WINDOW]
    by = next((f for f in factors if rows[f].nunique() <= 6), None)
    table = window_summary(rows, metric, by)
    scale = 100.0 if _percent(metric) else 1.0
    fig = go.Figure()
    groups = table.groupby(by, sort=True) if by else [(None, table)]
    palette = ["#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214", "#4d4d4d"]
    for i, (level, g) in enumerate(groups):
        color = palette[i % len(palette)]
        name = f"{label(by)} = {level:g}" if by else "mean"
        if g["ci_low"].notna().any():
            fig.add_trace(go.Scatter(x=list(g[WINDOW]) + list(g[WINDOW])[::-1],
                                     y=list(scale * g["ci_high"]) + list(scale * g["ci_low"])[::-1],
                                     fill="toself", fillcolor=color, opacity=0.18, line={"width": 0}, mode="lines",
                                     hoverinfo="skip", showlegend=False, name=f"{name}: 95% CI"))
        fig.add_trace(go.Scatter(x=g[WINDOW], y=scale * g["mean"], mode="lines+markers", name=name,
                                 line={"color": color}, customdata=g["n"],
                                 hovertemplate="window %{x} d: %{y:.3g} (n=%{customdata})<extra></extra>"))
    fig.update_layout(title="Evidence lost against the preservation window (mean and 95% CI)",
                      xaxis_title=label(WINDOW), yaxis_title=label(metric), **LAYOUT)
    return fig


def heatmap_figure(rows: pd.DataFrame, metric: str, staffing: str) -> go.Figure:
    """Mean metric on a staffing x window grid."""
    pivot = rows.pivot_table(index=staffing, columns=WINDOW, values=metric, aggfunc="mean").sort_index()
    scale = 100.0 if _percent(metric) else 1.0
    z = scale * pivot.to_numpy(float)
    fmt = "{:.1f}%" if scale == 100 else "{:,.0f}"
    text = [[fmt.format(v) if np.isfinite(v) else "" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=[f"{c:g}" for c in pivot.columns], y=[f"{i:g}" for i in pivot.index],
                               text=text, texttemplate="%{text}", colorscale="Reds",
                               colorbar={"title": "%" if scale == 100 else ""}))
    fig.update_layout(title=f"Evidence lost: {label(staffing).split(' (')[0]} x preservation window",
                      xaxis_title=label(WINDOW),
                      yaxis_title=label(staffing), xaxis_type="category", yaxis_type="category", **LAYOUT)
    return fig


def sobol_figure(sobol: pd.DataFrame) -> tuple[go.Figure, str]:
    """First-order and total Sobol indices per parameter with their confidence half-widths."""
    df = sobol
    metric = ""
    for col in ("metric", "output"):
        if col in df.columns:
            choices = list(df[col].unique())
            metric = next((m for m in PRIMARY_METRICS if m in choices), choices[0])
            df = df[df[col] == metric]
    df = df.sort_values("ST", ascending=False)
    fig = go.Figure()
    for index, name in (("S1", "first order (S1)"), ("ST", "total (ST)")):
        conf = df.get(f"{index}_conf")
        fig.add_trace(go.Bar(x=df["parameter"].map(label), y=df[index], name=name,
                             error_y={"type": "data", "array": conf.tolist()} if conf is not None else None))
    fig.update_layout(title="Sobol sensitivity indices" + (f" of {label(metric)}" if metric else ""),
                      barmode="group", yaxis_title="share of output variance", xaxis_title="parameter", **LAYOUT)
    return fig, metric


def compare_figure(name: str, payload: dict[str, Any]) -> go.Figure:
    """A vs B for the evidence-lost rates, with the 95% CI of the paired difference on B."""
    metrics = payload["metrics"]
    rates = [m for m in metrics if m.startswith("evidence_lost_rate")] or list(metrics)[:4]
    a = [100 * (metrics[m].get("a") or 0.0) for m in rates]
    b = [100 * (metrics[m].get("b") or 0.0) for m in rates]
    low = [100 * (metrics[m].get("ci_low") or 0.0) for m in rates]
    high = [100 * (metrics[m].get("ci_high") or 0.0) for m in rates]
    diff = [100 * (metrics[m].get("difference") or 0.0) for m in rates]
    fig = go.Figure([
        go.Bar(x=[label(m) for m in rates], y=a, name=f"A: {payload['a']}"),
        go.Bar(x=[label(m) for m in rates], y=b, name=f"B: {payload['b']}",
               error_y={"type": "data", "symmetric": False, "array": [h - d for h, d in zip(high, diff, strict=True)],
                        "arrayminus": [d - lo for lo, d in zip(low, diff, strict=True)]}),
    ])
    fig.update_layout(title=f"{payload['a']} vs {payload['b']} ({payload.get('replications', '?')} paired replications)",
                      barmode="group", yaxis_title="evidence lost (%)", **LAYOUT)
    return fig


def runs_window_figure(runs: list[RunResult], metric: str = "evidence_lost_rate") -> go.Figure:
    """Metric against the window for run directories (one point per run)."""
    points = sorted((r.window_days, r.summary[metric], r.name) for r in runs
                    if r.window_days is not None and isinstance(r.summary.get(metric), int | float))
    fig = go.Figure(go.Scatter(x=[p[0] for p in points], y=[100 * p[1] for p in points], mode="lines+markers+text",
                               text=[p[2] for p in points], textposition="top center", name=metric))
    fig.update_layout(title="Evidence lost by run", xaxis_title=label(WINDOW), yaxis_title=label(metric), **LAYOUT)
    return fig


def timeseries_figure(runs: list[RunResult], column: str, title: str, yaxis: str) -> go.Figure:
    """One line per run of a daily series."""
    fig = go.Figure([go.Scatter(x=r.timeseries.get("day", r.timeseries.index), y=r.timeseries[column], mode="lines",
                                name=r.name + (f" ({r.window_days:g}-day window)" if r.window_days else ""))
                     for r in runs if r.timeseries is not None and column in r.timeseries])
    fig.update_layout(title=title, xaxis_title="day", yaxis_title=yaxis, **LAYOUT)
    return fig


def backlog_figure(run: RunResult) -> go.Figure:
    """Reports waiting per stage in one run."""
    ts = run.timeseries
    cols = [c for c in BACKLOGS if c in ts]
    fig = go.Figure([go.Scatter(x=ts["day"], y=ts[c], mode="lines", name=DAILY_SERIES[c]) for c in cols])
    fig.update_layout(title=f"Queue backlog per stage: {run.name}", xaxis_title="day", yaxis_title="reports waiting",
                      **LAYOUT)
    return fig


# --- the report ------------------------------------------------------------------------------------

@dataclass
class Report:
    """Figures and tables built from a results directory."""

    title: str
    sources: list[str]
    figures: list[FigureItem]
    tables: list[tuple[str, pd.DataFrame]]

    def figure_files(self, formats: tuple[str, ...] = ("png", "svg", "pdf")) -> list[str]:
        return [f"{item.name}.{fmt}" for item in self.figures for fmt in formats]

    def html(self) -> str:
        """The self-contained HTML page (plotly.js embedded; figure data as JSON)."""
        from plotly.offline import get_plotlyjs

        from model import __version__

        parts = []
        for i, item in enumerate(self.figures):
            plain = plain_json(json.loads(json.dumps(item.figure.to_plotly_json(), cls=PlotlyJSONEncoder)))
            data = json.dumps(plain).replace("</", "<\\/")
            parts.append(f'<section><h2>{_html.escape(item.title)}</h2>\n<div class="figure" id="fig-{i}"></div>\n'
                         f'<p class="caption">{_html.escape(item.caption)}</p>\n'
                         f'<script type="application/json" class="figure-data" data-target="fig-{i}" '
                         f'data-name="{_html.escape(item.name)}">{data}</script></section>')
        for title, table in self.tables:
            parts.append(f"<section><h2>{_html.escape(title)}</h2>\n"
                         f"{table.to_html(classes='data', border=0, na_rep='-', float_format=_fmt)}</section>")
        when = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        sources = "".join(f"<li><code>{_html.escape(s)}</code></li>" for s in self.sources)
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_html.escape(self.title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;color:#222}}
.caption{{color:#555;font-size:0.9em}} table.data{{border-collapse:collapse;font-size:0.85em}}
table.data td,table.data th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}</style>
<script>{get_plotlyjs()}</script></head>
<body><h1>{_html.escape(self.title)}</h1>
<p>Generated {when} by tipline {__version__}. Inputs:</p><ul>{sources}</ul>
{chr(10).join(parts)}
<script>
document.querySelectorAll("script.figure-data").forEach(function (el) {{
  var fig = JSON.parse(el.textContent);
  Plotly.newPlot(el.dataset.target, fig.data, fig.layout, {{responsive: true, displaylogo: false}});
}});
</script></body></html>
"""


def plain_json(obj: Any) -> Any:
    """Replace plotly's base64 typed arrays (``{"dtype", "bdata", "shape"}``) by plain lists, so the numbers in the
    HTML are readable (and checkable) as text."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            array = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            if obj.get("shape"):
                array = array.reshape([int(n) for n in str(obj["shape"]).split(",")])
            return array.tolist()
        return {k: plain_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain_json(v) for v in obj]
    return obj


def _fmt(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def build_report(directory: Path, title: str | None = None) -> Report:
    """All figures and tables the results in `directory` support."""
    found = discover(Path(directory))
    if found.empty():
        raise ReportError(f"{directory}: no results found (expected `tipline run --out` directories with summary.json, "
                          "a `tipline compare --json` file, sweep Parquet rows or sobol.csv)")
    figures: list[FigureItem] = []
    tables: list[tuple[str, pd.DataFrame]] = []
    rows = found.sweep
    if rows is not None and WINDOW in rows.columns and rows[WINDOW].nunique() > 1:
        metric = primary_metric(rows)
        figures.append(FigureItem(
            "evidence_lost_vs_window", "Evidence lost against the preservation window",
            f"Mean {label(metric)} per window over {len(rows):,} runs; shaded bands are 95% confidence intervals "
            "of the mean across replications (t distribution).", window_figure(rows, metric)))
        staffing = [s for s in STAFFING if s in rows.columns and rows[s].nunique() > 1]
        for s in staffing:
            figures.append(FigureItem(
                f"heatmap_{s.split('.')[-1]}_x_window", f"Staffing x window: {label(s)}",
                f"Mean {label(metric)} for each combination of {label(s)} and window.", heatmap_figure(rows, metric, s)))
        summary = window_summary(rows, metric, next((s for s in staffing), None))
        tables.append((f"{label(metric)[0].upper()}{label(metric)[1:]} by window (mean, 95% CI, runs)", summary))
    if found.sobol is not None:
        fig, metric = sobol_figure(found.sobol)
        figures.append(FigureItem("sobol_indices", "Sensitivity (Sobol indices)",
                                  "First-order (S1) and total (ST) Sobol indices with their confidence half-widths: the "
                                  "share of the output's variance due to each parameter alone / with interactions.", fig))
    for name, payload in found.compares:
        figures.append(FigureItem(f"compare_{name}", f"Paired comparison: {payload['a']} vs {payload['b']}",
                                  "Evidence-lost rates of A and B on the same seeds; the error bar on B is the 95% "
                                  "confidence interval of the paired difference B - A.", compare_figure(name, payload)))
        table = pd.DataFrame(payload["metrics"]).T
        tables.append((f"Comparison {payload['a']} (A) vs {payload['b']} (B)",
                       table[[c for c in ("a", "b", "difference", "ci_low", "ci_high") if c in table] or list(table)]))
    runs = found.runs
    if runs:
        windows = {r.window_days for r in runs if r.window_days is not None}
        if len(windows) > 1 and all("evidence_lost_rate" in r.summary for r in runs):
            figures.append(FigureItem("runs_evidence_lost_vs_window", "Evidence lost by run and window",
                                      "One point per run directory (single seed, no confidence interval).",
                                      runs_window_figure(runs)))
        with_series = [r for r in runs if r.timeseries is not None]
        if with_series:
            figures.append(FigureItem("timeseries_evidence_lost", "Cumulative evidence lost over time",
                                      "Counted reports whose preservation deadline passed before legal process was "
                                      "served, cumulative, per run.",
                                      timeseries_figure(with_series, "evidence_lost",
                                                        "Cumulative evidence lost", "reports with evidence lost")))
            for r in [r for r in with_series if BACKLOGS[0] in r.timeseries][:4]:
                figures.append(FigureItem(f"timeseries_backlog_{_slug(r.name)}", f"Backlogs: {r.name}",
                                          "Reports waiting at each stage of the pipeline, per day.", backlog_figure(r)))
        keys = ["evidence_lost_rate", "evidence_lost", "legal_process_served", "reports", "pending",
                "median_days_to_legal_process", "p90_days_to_legal_process", "arrests"]
        tables.append(("Run summaries", pd.DataFrame({r.name: {k: r.summary.get(k) for k in keys} for r in runs}).T))
    if not figures:
        raise ReportError(f"{directory}: results found but none has data to plot (need a window factor with several "
                          "values, Sobol indices, a comparison or run time series)")
    return Report(title or f"tipline report: {Path(directory).name}", found.sources, figures, tables)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_") or "run"


def write_figures(report: Report, directory: Path, formats: tuple[str, ...] = ("png", "svg", "pdf"),
                  scale: float = 2.0) -> list[str]:
    """Write every figure as static files (kaleido with the local Chromium, MathJax off); return file names."""
    import kaleido

    if "BROWSER_PATH" not in os.environ and Path("/usr/bin/chromium").exists():
        os.environ["BROWSER_PATH"] = "/usr/bin/chromium"
    directory.mkdir(parents=True, exist_ok=True)
    specs, names = [], []
    for item in report.figures:
        fig = item.figure.to_plotly_json()
        for fmt in formats:
            name = f"{item.name}.{fmt}"
            specs.append({"fig": fig, "path": str(directory / name),
                          "opts": {"format": fmt, "width": LAYOUT["width"], "height": LAYOUT["height"],
                                   "scale": scale if fmt == "png" else 1}})
            names.append(name)
    kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False})
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise RuntimeError(f"kaleido did not write {', '.join(missing)}")
    return names
