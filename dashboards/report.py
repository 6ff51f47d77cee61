"""Reports and paper figures from results directories: ``tipline report DIR --out report.html``.

Inputs found in DIR (each optional, read tolerantly; at least one is needed):

- **run directories** written by ``tipline run --out``: ``summary.json``, ``timeseries.parquet`` (or
  ``.csv``), ``flows.csv`` (``from,to,reports``: the counted reports' paths), ``scenario.toml``; DIR
  itself or its subdirectories (two levels deep);
- **comparisons**: any ``*.json`` file holding ``tipline compare --json`` output (keys ``a``, ``b``,
  ``metrics``; optional ``headline`` and ``flows``), e.g. ``DIR/compare.json``;
- **sweep results**: Parquet files (one row per run: factor columns such as ``retention.window_days``,
  ``replication``/``seed``, and every summary metric), optionally with ``manifest.json`` (which names the
  base scenario and the factors); and Sobol indices in ``sobol.csv`` or ``sobol.parquet`` (columns
  ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``, optionally ``metric``).

US cases lead every headline, table and figure (``evidence_lost_rate_us``); foreign cases (MLAT / CLOUD
Act) are shown beside them and never pooled into a headline. Rates are shown in percent.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from plotly.utils import PlotlyJSONEncoder

from model.metrics import METRICS
from model.model import DAILY_SERIES
from model.outcomes import STAGE_NAMES

US_RATE, FOREIGN_RATE, POOLED_RATE = "evidence_lost_rate_us", "evidence_lost_rate_foreign", "evidence_lost_rate"
#: Metric shown first in sweep figures, in order of preference (older results may lack the US rate).
PRIMARY_METRICS = (US_RATE, POOLED_RATE, "evidence_lost_us", "evidence_lost")
WINDOW = "retention.window_days"
#: Staffing factors for the heatmap, in order of preference.
STAFFING = ("law_enforcement.investigators", "ncmec.analysts", "foreign.investigators")
#: Columns of a sweep row that are neither factors nor metrics.
BOOKKEEPING = {"replication", "seed", "run", "run_id", "wall_seconds", "days", "drain_days", "scenario", "point",
               "design_point", "error"}
METRIC_LABELS = {
    US_RATE: "US cases: evidence lost (%)",
    FOREIGN_RATE: "foreign cases (MLAT): evidence lost (%)",
    POOLED_RATE: "evidence lost, US and foreign pooled (%)",
    "evidence_lost_us": "US cases: evidence lost (reports)",
    "evidence_lost_foreign": "foreign cases: evidence lost (reports)",
    "evidence_lost": "evidence lost, US and foreign (reports)",
}
FACTOR_LABELS = {
    WINDOW: "preservation window (days)",
    "law_enforcement.investigators": "US investigators (FTE)",
    "ncmec.analysts": "NCMEC analysts (FTE)",
    "foreign.investigators": "foreign investigators (FTE)",
    "demand.scale": "report volume (x)",
}
#: Where the deadline passed, in plain words and a colour each (the same in every figure).
STAGE_LABELS = {"ncmec": "NCMEC queue", "agency_queue": "agency queue (before review)", "warrant": "Wilson warrant",
                "identification": "identifying the suspect", "drafting": "drafting / approval",
                "mlat": "MLAT / CLOUD Act", "closed_unworked": "closed unworked"}
STAGE_COLORS = {"ncmec": "#8c6bb1", "agency_queue": "#e08214", "warrant": "#8c510a", "identification": "#35978f",
                "drafting": "#b2182b", "mlat": "#4393c3", "closed_unworked": "#878787"}
#: Colours of the two retention rules: windows under a year red, a year or more blue.
RULE_COLORS = {"short": "#b2182b", "long": "#2166ac"}
BACKLOGS = ("ncmec_backlog", "agency_backlog", "cases_in_progress", "in_legal_process", "forensic_backlog")
BACKLOG_LABELS = {"ncmec_backlog": "NCMEC queue", "agency_backlog": "referrals waiting for review",
                  "cases_in_progress": "cases in progress", "in_legal_process": "legal process scheduled",
                  "forensic_backlog": "forensic lab"}
SKIP_PARQUET = {"timeseries.parquet", "sobol.parquet"}
LAYOUT: dict[str, Any] = {"template": "plotly_white", "width": 860, "height": 480,
                          "margin": {"l": 70, "r": 20, "t": 60, "b": 60}}
PALETTE = ("#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214", "#4d4d4d")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")


class ReportError(Exception):
    """The results directory holds nothing a report can be built from, or a file is unreadable."""


def label(name: str) -> str:
    """Plain-language axis label of a factor or metric column."""
    if name in FACTOR_LABELS or name in METRIC_LABELS:
        return FACTOR_LABELS.get(name) or METRIC_LABELS[name]
    metric = METRICS.get(name)
    if metric is not None:
        return f"{metric.meaning} ({'%' if metric.is_share else metric.unit})"
    return DAILY_SERIES.get(name) or name


def is_share(metric: str) -> bool:
    """A rate (a fraction in the data, shown in %)."""
    known = METRICS.get(metric)
    return known.is_share if known is not None else (metric.endswith("_rate") or "_rate_" in metric)


def rule_color(window: float | None) -> str:
    """The colour of a retention rule: red under a year, blue for a year or more."""
    return RULE_COLORS["long" if window is not None and window >= 365 else "short"]


def foreign_of(metric: str) -> str | None:
    """The foreign counterpart of a US metric (``..._us`` -> ``..._foreign``)."""
    return metric[:-3] + "_foreign" if metric.endswith("_us") else None


# --- reading ---------------------------------------------------------------------------------------

@dataclass
class RunResult:
    """One ``tipline run --out`` directory."""

    name: str
    path: Path
    summary: dict[str, Any]
    timeseries: pd.DataFrame | None
    scenario: dict[str, Any] = field(default_factory=dict)
    flows: list[tuple[str, str, int]] | None = None

    @property
    def window_days(self) -> float | None:
        value = self.scenario.get("retention", {}).get("window_days")
        return float(value) if value is not None else None

    @property
    def title(self) -> str:
        return self.name + (f" ({self.window_days:g}-day window)" if self.window_days else "")


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


def read_flows(path: Path) -> list[tuple[str, str, int]]:
    """A ``flows.csv`` (columns from, to, reports) as (from, to, reports) edges."""
    try:
        df = pd.read_csv(path, dtype={"from": str, "to": str})
    except Exception as exc:
        raise ReportError(f"{path}: unreadable flows ({exc})") from exc
    missing = {"from", "to", "reports"} - set(df.columns)
    if missing:
        raise ReportError(f"{path}: flows need columns from, to, reports (missing {', '.join(sorted(missing))})")
    return [(str(a), str(b), int(n)) for a, b, n in df[["from", "to", "reports"]].itertuples(index=False)]


def read_run(path: Path) -> RunResult:
    """Read a ``tipline run --out`` directory (the time series, flows and scenario are optional)."""
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
    flows = read_flows(path / "flows.csv") if (path / "flows.csv").is_file() else None
    return RunResult(path.name, path, summary, series, scenario, flows)


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


def sweep_base_name(manifest: Mapping[str, Any] | None, rows: pd.DataFrame | None = None) -> str | None:
    """The base scenario of a sweep: from the manifest, else the rows' ``scenario`` column."""
    if manifest:
        base = manifest.get("base_scenario")
        if isinstance(base, dict) and base.get("name"):
            return str(base["name"])
        spec = (manifest.get("design") or {}).get("spec") or {}
        if isinstance(spec, dict) and spec.get("base"):
            return str(spec["base"])
    if rows is not None and "scenario" in rows.columns and rows["scenario"].nunique() == 1:
        return str(rows["scenario"].iloc[0])
    return None


def sweep_name(manifest: Mapping[str, Any] | None) -> str | None:
    """The sweep's name (the spec's ``name``, else its file name)."""
    if not manifest:
        return None
    spec = (manifest.get("design") or {}).get("spec") or {}
    if isinstance(spec, dict) and spec.get("name"):
        return str(spec["name"])
    source = manifest.get("sweep_file")
    return Path(str(source)).stem if source else None


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


def factor_columns(rows: pd.DataFrame, manifest: Mapping[str, Any] | None = None) -> list[str]:
    """Sweep factors with more than one value: the manifest's factors, else dotted scenario-key columns."""
    named = ((manifest or {}).get("design") or {}).get("factors")
    candidates = [c for c in named if c in rows.columns] if named else [
        c for c in rows.columns if "." in c and c not in BOOKKEEPING]
    return [c for c in candidates if rows[c].nunique(dropna=True) > 1]


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


@dataclass
class Table:
    """A report table: numbers in display units (rates already in %), one format per column, a caption."""

    title: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    caption: str = ""

    def html(self) -> str:
        def cell(column: str, value: Any) -> str:
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                return "-"
            fmt = self.formats.get(column)
            if fmt and isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
                return fmt.format(value)
            return str(value)

        head = "".join(f"<th>{_html.escape(str(c))}</th>" for c in self.frame.columns)
        body = "".join("<tr>" + "".join(f"<td>{_html.escape(cell(c, v))}</td>" for c, v in zip(
            self.frame.columns, row, strict=True)) + "</tr>" for row in self.frame.itertuples(index=False))
        caption = f'<p class="caption">{_html.escape(self.caption)}</p>' if self.caption else ""
        return (f"<section><h2>{_html.escape(self.title)}</h2>\n<table class=\"data\"><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>{caption}</section>")


PCT, PCT_CI, COUNT, DAYS = "{:.1f}%", "{:.1f}", "{:,.0f}", "{:,.0f}"


def _legend_below(fig: go.Figure, bottom: int = 110) -> None:
    """A horizontal legend under the plot (in the figure's margin, so it never covers the data)."""
    fig.update_layout(legend={"orientation": "h", "x": 0.01, "xref": "container", "xanchor": "left", "y": 0,
                              "yanchor": "bottom", "yref": "container"}, margin={"b": bottom})


def coinciding_levels(table: pd.DataFrame, by: str) -> list[list[Any]]:
    """Groups of levels of `by` whose mean lines are identical (they would hide each other)."""
    lines = {level: g.sort_values(WINDOW)["mean"].to_numpy(float) for level, g in table.groupby(by, sort=True)}
    groups: list[list[Any]] = []
    for level, y in lines.items():
        for group in groups:
            other = lines[group[0]]
            if len(other) == len(y) and np.allclose(other, y, rtol=1e-9, atol=1e-12, equal_nan=True):
                group.append(level)
                break
        else:
            groups.append([level])
    return [g for g in groups if len(g) > 1]


def _level(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float | np.integer | np.floating) else str(value)


def window_figure(rows: pd.DataFrame, metric: str, manifest: Mapping[str, Any] | None = None) -> go.Figure:
    """`metric` (the US rate) against the window, one line per level of a second factor (if few), with 95% CI
    bands; the foreign counterpart in a second panel beside it when the rows have it.

    Lines that coincide get different dashes and markers and say so in the legend.
    """
    factors = [f for f in factor_columns(rows, manifest) if f != WINDOW]
    by = next((f for f in factors if rows[f].nunique() <= 6), None)
    foreign = foreign_of(metric)
    panels = [metric] + ([foreign] if foreign and foreign in rows.columns else [])
    fig = make_subplots(rows=1, cols=len(panels), column_widths=[0.6, 0.4][:len(panels)] if len(panels) > 1 else None,
                        horizontal_spacing=0.12, subplot_titles=[_panel_title(m) for m in panels])
    for col, panel in enumerate(panels, start=1):
        table = window_summary(rows, panel, by)
        scale = 100.0 if is_share(panel) else 1.0
        same = {level: group for group in (coinciding_levels(table, by) if by else []) for level in group}
        groups = table.groupby(by, sort=True) if by else [(None, table)]
        for i, (level, g) in enumerate(groups):
            color = PALETTE[i % len(PALETTE)]
            name = f"{label(by)} = {_level(level)}" if by else "mean"
            if level in same:
                name += " (same as " + ", ".join(_level(v) for v in same[level] if v != level) + ")"
            if g["ci_low"].notna().any():
                fig.add_trace(go.Scatter(x=list(g[WINDOW]) + list(g[WINDOW])[::-1],
                                         y=list(scale * g["ci_high"]) + list(scale * g["ci_low"])[::-1],
                                         fill="toself", fillcolor=color, opacity=0.18, line={"width": 0},
                                         mode="lines", hoverinfo="skip", showlegend=False, legendgroup=name,
                                         name=f"{name}: 95% CI"), row=1, col=col)
            fig.add_trace(go.Scatter(x=g[WINDOW], y=scale * g["mean"], mode="lines+markers", name=name,
                                     legendgroup=name, showlegend=col == 1,
                                     line={"color": color, "dash": DASHES[i % len(DASHES)]},
                                     marker={"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 8}, customdata=g["n"],
                                     hovertemplate="window %{x} d: %{y:.1f}" + ("%" if scale == 100 else "")
                                                   + " (n=%{customdata})<extra></extra>"), row=1, col=col)
        fig.update_yaxes(title_text=label(panel), row=1, col=col, rangemode="tozero")
        fig.update_xaxes(title_text=label(WINDOW), row=1, col=col)
    fig.update_layout(title="Evidence lost against the preservation window (mean and 95% CI)", **LAYOUT)
    _legend_below(fig)
    fig.update_layout(height=LAYOUT["height"] + 40)
    return fig


def _panel_title(metric: str) -> str:
    if metric.endswith("_us"):
        return "US cases"
    if metric.endswith("_foreign"):
        return "foreign cases (MLAT)"
    return "US and foreign pooled" if metric in (POOLED_RATE, "evidence_lost") else label(metric)


def heatmap_figure(rows: pd.DataFrame, metric: str, staffing: str) -> go.Figure:
    """Mean metric (the US rate) on a staffing x window grid, with the foreign rate beside it when present."""
    foreign = foreign_of(metric)
    panels = [metric] + ([foreign] if foreign and foreign in rows.columns else [])
    fig = make_subplots(rows=1, cols=len(panels), horizontal_spacing=0.2,
                        subplot_titles=[_panel_title(m) for m in panels])
    for col, panel in enumerate(panels, start=1):
        pivot = rows.pivot_table(index=staffing, columns=WINDOW, values=panel, aggfunc="mean").sort_index()
        scale = 100.0 if is_share(panel) else 1.0
        z = scale * pivot.to_numpy(float)
        fmt = "{:.1f}%" if scale == 100 else "{:,.0f}"
        text = [[fmt.format(v) if np.isfinite(v) else "" for v in row] for row in z]
        bar_x = 0.4 if (len(panels) > 1 and col == 1) else 1.0
        fig.add_trace(go.Heatmap(z=z, x=[f"{c:g}" for c in pivot.columns], y=[f"{i:g}" for i in pivot.index],
                                 text=text, texttemplate="%{text}", colorscale="Reds" if col == 1 else "Blues",
                                 colorbar={"title": "%" if scale == 100 else "", "x": bar_x, "len": 0.9},
                                 hovertemplate="window %{x} d, " + label(staffing) + " %{y}: %{text}<extra></extra>"),
                      row=1, col=col)
        fig.update_xaxes(title_text=label(WINDOW), type="category", row=1, col=col)
        fig.update_yaxes(title_text=label(staffing) if col == 1 else "", type="category", row=1, col=col)
    fig.update_layout(title=f"Evidence lost (%): {label(staffing).split(' (')[0]} x preservation window", **LAYOUT)
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


def compare_rates(payload: Mapping[str, Any]) -> list[str]:
    """The rate metrics of a comparison to plot: US first, foreign beside it (pooled only if nothing else)."""
    metrics = payload["metrics"]
    rates = [m for m in (US_RATE, FOREIGN_RATE) if m in metrics]
    return rates or [m for m in metrics if m.startswith(POOLED_RATE)] or list(metrics)[:2]


def _value(entry: Mapping[str, Any], key: str) -> float:
    value = entry.get(key)
    return math.nan if value is None else float(value)


def compare_figure(name: str, payload: dict[str, Any]) -> go.Figure:
    """A vs B for the evidence-lost rates (US first, foreign beside it), with the 95% CI of the paired
    difference as the error bar on B."""
    metrics = payload["metrics"]
    rates = compare_rates(payload)
    x = [_panel_title(m) if m != POOLED_RATE else label(m) for m in rates]

    def pct(key: str) -> list[float]:
        return [100 * _value(metrics[m], key) for m in rates]

    a, b, low, high, diff = pct("a"), pct("b"), pct("ci_low"), pct("ci_high"), pct("difference")
    up = [h - d if math.isfinite(h - d) else 0.0 for h, d in zip(high, diff, strict=True)]
    down = [d - lo if math.isfinite(d - lo) else 0.0 for lo, d in zip(low, diff, strict=True)]
    fig = go.Figure([
        go.Bar(x=x, y=a, name=f"A: {payload['a']}", marker_color=RULE_COLORS["short"], text=[f"{v:.1f}%" for v in a],
               textposition="outside"),
        go.Bar(x=x, y=b, name=f"B: {payload['b']}", marker_color=RULE_COLORS["long"], text=[f"{v:.1f}%" for v in b],
               textposition="outside",
               error_y={"type": "data", "symmetric": False, "array": up, "arrayminus": down, "color": "#333"}),
    ])
    fig.update_layout(title=f"Evidence lost: {payload['a']} vs {payload['b']} "
                            f"({payload.get('replications', '?')} paired replications)",
                      barmode="group", yaxis_title="evidence lost (% of cases needing legal process)", **LAYOUT)
    return fig


def compare_headline(payload: Mapping[str, Any]) -> str:
    """The comparison's one-sentence headline: the payload's own, else one built from its US and foreign rates."""
    if isinstance(payload.get("headline"), str) and payload["headline"].strip():
        return payload["headline"].strip()
    metrics = payload["metrics"]
    parts = []
    for metric, what in ((US_RATE, "US cases"), (FOREIGN_RATE, "foreign cases (MLAT)")):
        if metric in metrics:
            m = metrics[metric]
            ci = ""
            if m.get("ci_low") is not None and m.get("ci_high") is not None:
                ci = f", 95% CI {100 * m['ci_low']:+.1f} to {100 * m['ci_high']:+.1f} points"
            parts.append(f"{what}: {100 * _value(m, 'a'):.1f}% under {payload['a']} vs {100 * _value(m, 'b'):.1f}% "
                         f"under {payload['b']} (difference {100 * _value(m, 'difference'):+.1f} points{ci})")
    if not parts:
        return f"{payload['a']} vs {payload['b']}: evidence lost by metric (no US rate in this file)."
    return "Evidence lost before legal process reached the platform, " + "; ".join(parts) + "."


def run_headline(name: str, summary: Mapping[str, Any]) -> str:
    """One sentence per run: the US rate first, foreign beside it."""
    def part(route: str) -> str:
        rate = summary.get(f"evidence_lost_rate_{route}")
        lost, needed = summary.get(f"evidence_lost_{route}"), summary.get(f"legal_process_needed_{route}")
        if rate is None:
            return "no rate"
        counts = f" ({lost:,} of {needed:,} reports)" if isinstance(lost, int) and isinstance(needed, int) else ""
        return f"{100 * rate:.1f}%{counts}"
    if US_RATE not in summary:
        pooled = summary.get(POOLED_RATE)
        return f"{name}: evidence lost {'-' if pooled is None else f'{100 * pooled:.1f}%'} (US and foreign pooled; " \
               "this summary has no US rate)."
    text = f"{name}: evidence lost, US cases {part('us')}; foreign cases (MLAT) {part('foreign')}."
    if summary.get("undecided"):
        text += f" {summary['undecided']:,} counted reports were still undecided (overload)."
    return text


def where_lost_values(values: Mapping[str, Any]) -> dict[str, dict[str, float]] | None:
    """US and foreign reports lost at each stage, from summary-like keys; None if the keys are missing."""
    if not all(f"evidence_lost_us_at_{s}" in values and f"evidence_lost_at_{s}" in values for s in STAGE_NAMES):
        return None
    def number(key: str) -> float:
        value = values.get(key)
        return 0.0 if value is None or (isinstance(value, float) and not math.isfinite(value)) else float(value)
    us = {s: number(f"evidence_lost_us_at_{s}") for s in STAGE_NAMES}
    return {"us": us, "foreign": {s: number(f"evidence_lost_at_{s}") - us[s] for s in STAGE_NAMES}}


def where_lost_figure(groups: Sequence[tuple[str, Mapping[str, Any]]], title: str, xaxis: str = "") -> go.Figure:
    """Reports whose evidence was lost, by the stage where the deadline passed: stacked bars per group
    (a run, a side of a comparison, a window), US cases left, foreign cases right."""
    data = [(name, where_lost_values(values)) for name, values in groups]
    data = [(name, v) for name, v in data if v is not None]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.12,
                        subplot_titles=("US cases", "foreign cases (MLAT)"))
    names = [name for name, _ in data]
    for col, route in ((1, "us"), (2, "foreign")):
        for stage in STAGE_NAMES:
            y = [v[route][stage] for _, v in data]
            if stage == "mlat" and route == "us" and not any(y):
                continue
            fig.add_trace(go.Bar(x=names, y=y, name=STAGE_LABELS[stage], legendgroup=stage,
                                 marker_color=STAGE_COLORS[stage], showlegend=col == 1 or stage == "mlat",
                                 hovertemplate="%{x}: %{y:,.0f} reports lost at " + STAGE_LABELS[stage]
                                               + "<extra></extra>"), row=1, col=col)
        fig.update_yaxes(title_text="reports with evidence lost" if col == 1 else "", row=1, col=col)
        fig.update_xaxes(title_text=xaxis, type="category", row=1, col=col)
    fig.update_layout(title=title, barmode="stack", **LAYOUT)
    _legend_below(fig)
    fig.update_layout(height=LAYOUT["height"] + 40)
    return fig


def _pretty_node(name: str) -> str:
    if name.startswith("lost: "):
        stage = name[len("lost: "):]
        return "lost at " + {"ncmec": "NCMEC", "mlat": "MLAT", "agency queue": "agency queue"}.get(stage, stage)
    return name.replace("closed: ", "closed, ")


def route_specific_flows(flows: Sequence[Sequence[Any]]) -> list[tuple[str, str, int]]:
    """Edges with every node after the routes named by its route ("US: served in time"), so that no US and
    foreign outcomes are pooled into one node."""
    route_of: dict[str, str] = {}
    for name in ("US", "foreign"):
        route_of[f"{name} agencies"] = name
    out = []
    for source, target, n in flows:
        source, target = str(source), str(target)
        for node in (source, target):
            for name in ("US", "foreign"):
                if node.startswith(f"{name}: "):
                    route_of[node] = name
        route = route_of.get(source)
        if route is not None and target not in route_of:
            new = f"{route}: {_pretty_node(target)}"
            route_of[new] = route
            target = new
        out.append((source, target, int(n)))
    return out


def balanced_flows(edges: Sequence[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """Undecided reports drawn where they wait: ``model.flows()`` hangs every undecided report off NCMEC
    (so NCMEC would send out more than it received while the run goes on); here the edge to "undecided" is
    replaced by one from each stage that received more than it has passed on, to "<route>: undecided so far"."""
    kept = [e for e in edges if e[1] != "undecided"]
    inflow: dict[str, int] = {}
    outflow: dict[str, int] = {}
    for a, b, n in kept:
        outflow[a] = outflow.get(a, 0) + n
        inflow[b] = inflow.get(b, 0) + n
    extra = []
    for node, received in inflow.items():
        waiting = received - outflow.get(node, 0)
        if node in outflow and waiting > 0:
            route = next((r for r in ("US", "foreign") if node.startswith(f"{r}: ") or node == f"{r} agencies"), None)
            extra.append((node, f"{route}: undecided so far" if route else "undecided so far (at NCMEC)", waiting))
    return kept + extra


def _node_color(name: str) -> str:
    lower = name.lower()
    if "lost" in lower:
        return "#b2182b"
    if "served in time" in lower:
        return "#1b7837"
    if "undecided" in lower:
        return "#e08214"
    if any(word in lower for word in ("informational", "closed", "investigated")):
        return "#bdbdbd"
    return "#4d4d4d"


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


NODE_NAMES = {"platform legal process needed": "legal process needed",
              "investigated, no platform legal process": "investigated, no legal process"}


def node_label(name: str) -> str:
    """The shown name of a flow node (shorter than the model's)."""
    for long_, short in NODE_NAMES.items():
        name = name.replace(long_, short)
    return name


def _group(node: str) -> tuple[int, bool]:
    """Sort key within a Sankey column: US nodes first, then foreign, then the rest; undecided last in each."""
    route = 0 if node.startswith("US") else 1 if node.startswith("foreign") else 2
    return route, "undecided" in node


def node_positions(nodes: Sequence[str], edges: Sequence[tuple[str, str, int]], totals: Sequence[int],
                   pad: float = 0.03) -> tuple[list[float], list[float]]:
    """Node x (column: steps from a platform) and y (centre), US at the top, foreign below, then the rest,
    each column spread over the whole height (so the many small outcome nodes do not crowd each other)."""
    if not nodes:
        return [], []
    depth = dict.fromkeys(nodes, 0)
    for _ in nodes:  # longest path from a source (the graph is a small DAG)
        for a, b, _n in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    deepest = max(depth.values()) or 1
    total = dict(zip(nodes, totals, strict=True))
    columns: dict[int, list[str]] = {}
    for node in nodes:
        columns.setdefault(depth[node], []).append(node)
    # plotly draws every column with one scale (value -> height), set by the fullest column
    scale = min((1 - pad * (len(c) - 1)) / max(sum(total[n] for n in c), 1) for c in columns.values())
    y: dict[str, float] = {}
    for column in columns.values():
        ordered = sorted(column, key=_group)
        heights = [total[n] * scale for n in ordered]
        gap = max(1 - sum(heights), 0.0) / len(ordered)
        top = gap / 2
        for node, height in zip(ordered, heights, strict=True):
            y[node] = min(max(top + height / 2, 0.001), 0.999)
            top += height + gap
    return ([min(max(depth[n] / deepest, 0.001), 0.999) for n in nodes], [y[n] for n in nodes])


def sankey_spec(flows: Sequence[Sequence[Any]], title: str) -> dict[str, Any]:
    """The Sankey diagram of :func:`sankey_figure` as plain data and layout dicts (no validation: fast)."""
    edges = balanced_flows([(a, b, n) for a, b, n in route_specific_flows(flows) if n > 0])
    nodes: list[str] = []
    for a, b, _ in edges:
        for node in (a, b):
            if node not in nodes:
                nodes.append(node)
    inflow = dict.fromkeys(nodes, 0)
    outflow = dict.fromkeys(nodes, 0)
    for a, b, n in edges:
        outflow[a] += n
        inflow[b] += n
    totals = [max(inflow[node], outflow[node]) for node in nodes]
    x, y = node_positions(nodes, edges, totals)
    # Nodes and links in drawing order (column, then top to bottom): plotly stacks a node's links in the
    # order of its targets in the node list, so this keeps links from crossing.
    order = sorted(range(len(nodes)), key=lambda i: (x[i], y[i]))
    nodes, totals, x, y = ([seq[i] for i in order] for seq in (nodes, totals, x, y))
    index = {node: i for i, node in enumerate(nodes)}
    edges = sorted(edges, key=lambda e: (index[e[0]], index[e[1]]))
    colors = [_node_color(node) for node in nodes]
    trace = {
        "type": "sankey", "arrangement": "snap",
        "node": {"label": [f"{node_label(node)}: {total:,}" for node, total in zip(nodes, totals, strict=True)],
                 "color": colors, "x": x, "y": y, "pad": 10, "thickness": 12, "line": {"width": 0},
                 "hovertemplate": "%{label}<extra></extra>"},
        "link": {"source": [index[a] for a, _, _ in edges], "target": [index[b] for _, b, _ in edges],
                 "value": [n for _, _, n in edges], "color": [_rgba(colors[index[b]], 0.35) for _, b, _ in edges],
                 "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,} reports<extra></extra>"},
    }
    layout = {"title": {"text": title}, "template": "plotly_white", "width": LAYOUT["width"], "height": 560,
              "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "font": {"size": 11}}
    return {"data": [trace], "layout": layout}


def sankey_figure(flows: Sequence[Sequence[Any]], title: str) -> go.Figure:
    """Sankey diagram of counted reports: platforms -> NCMEC -> informational / US agencies / foreign agencies
    -> closed, investigated, legal process needed -> served in time / lost at a stage (nodes after the
    routes are per route, US at the top). Node labels carry their report counts."""
    return go.Figure(sankey_spec(flows, title))


def runs_window_figure(runs: list[RunResult]) -> go.Figure:
    """The US and foreign rates against the window for run directories (one point per run)."""
    fig = go.Figure()
    for metric, color, dash in ((US_RATE, RULE_COLORS["short"], "solid"), (FOREIGN_RATE, "#777777", "dot")):
        points = sorted((r.window_days, r.summary[metric], r.name) for r in runs
                        if r.window_days is not None and isinstance(r.summary.get(metric), int | float))
        if points:
            fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[100 * p[1] for p in points],
                                     mode="lines+markers+text", text=[p[2] for p in points], textposition="top center",
                                     name=_panel_title(metric), line={"color": color, "dash": dash},
                                     hovertemplate="window %{x} d: %{y:.1f}%<extra>%{text}</extra>"))
    fig.update_layout(title="Evidence lost by run and window", xaxis_title=label(WINDOW),
                      yaxis_title="evidence lost (% of cases needing legal process)", **LAYOUT)
    return fig


def timeseries_figure(runs: list[RunResult], column: str, title: str, yaxis: str) -> go.Figure:
    """One line per run of a daily series (coloured by its retention rule)."""
    fig = go.Figure([go.Scatter(x=r.timeseries.get("day", r.timeseries.index), y=r.timeseries[column], mode="lines",
                                name=r.title, line={"color": rule_color(r.window_days) if len(runs) <= 2 else None})
                     for r in runs if r.timeseries is not None and column in r.timeseries])
    fig.update_layout(title=title, xaxis_title="day", yaxis_title=yaxis, **LAYOUT)
    return fig


def backlog_figure(run: RunResult) -> go.Figure:
    """Reports and cases waiting at each stage in one run."""
    ts = run.timeseries
    assert ts is not None
    cols = [c for c in BACKLOGS if c in ts]
    fig = go.Figure([go.Scatter(x=ts["day"], y=ts[c], mode="lines", name=BACKLOG_LABELS[c],
                                hovertemplate="day %{x}: %{y:,}<br>" + DAILY_SERIES.get(c, c) + "<extra></extra>")
                     for c in cols])
    fig.update_layout(title=f"Waiting at each stage: {run.title}", xaxis_title="day",
                      yaxis_title="reports or cases waiting", **LAYOUT)
    _legend_below(fig, 100)
    return fig


# --- tables ----------------------------------------------------------------------------------------

def sweep_table(rows: pd.DataFrame, metric: str, by: str | None) -> Table:
    """Mean evidence lost per window (and staffing level) with 95% CIs: US first, foreign beside it."""
    keys = [WINDOW] + ([by] if by else [])
    foreign = foreign_of(metric)
    panels = [metric] + ([foreign] if foreign and foreign in rows.columns else [])
    frame = None
    formats: dict[str, str] = {label(WINDOW): "{:g}"}
    if by:
        formats[label(by)] = "{:g}"
    for panel in panels:
        table = window_summary(rows, panel, by)
        scale = 100.0 if is_share(panel) else 1.0
        what = _panel_title(panel)
        unit = "%" if scale == 100 else "reports"
        part = pd.DataFrame({label(k): table[k] for k in keys})
        part[f"{what}: mean ({unit})"] = scale * table["mean"]
        part[f"{what}: 95% CI low ({unit})"] = scale * table["ci_low"]
        part[f"{what}: 95% CI high ({unit})"] = scale * table["ci_high"]
        fmt = PCT if scale == 100 else COUNT
        formats.update({f"{what}: mean ({unit})": fmt, f"{what}: 95% CI low ({unit})": fmt,
                        f"{what}: 95% CI high ({unit})": fmt})
        if frame is None:
            part["runs"] = table["n"]
            frame = part
        else:
            frame = frame.merge(part, on=[label(k) for k in keys])
    assert frame is not None
    formats["runs"] = "{:,}"
    cols = [c for c in frame.columns if c != "runs"] + ["runs"]
    return Table(f"Evidence lost by window{f' and {label(by)}' if by else ''} (mean over runs, 95% CI)",
                 frame[cols], formats,
                 "Rates are lost / (lost + legal process served in time), in percent; the interval is the t-based 95% "
                 "confidence interval of the mean over the runs at each setting.")


#: Rows of the comparison and run tables, US first (those present in the input are shown).
SUMMARY_KEYS = (US_RATE, "evidence_lost_us", "legal_process_served_us", "legal_process_needed_us",
                "median_days_to_legal_process_us", "p90_days_to_legal_process_us", FOREIGN_RATE,
                "evidence_lost_foreign", "legal_process_served_foreign", "median_days_to_legal_process_foreign",
                "reports", "referred_us", "referred_foreign", "closed_unworked_us", "isp_logs_lost", "arrests",
                "undecided", "drain_days", POOLED_RATE, "evidence_lost")
SHORT_NAMES = {
    US_RATE: "US: evidence lost", FOREIGN_RATE: "foreign (MLAT): evidence lost",
    "evidence_lost_us": "US: evidence lost", "legal_process_served_us": "US: served in time",
    "legal_process_needed_us": "US: needed legal process", "median_days_to_legal_process_us": "US: median days to legal process",
    "p90_days_to_legal_process_us": "US: 90th percentile days to legal process",
    "evidence_lost_foreign": "foreign: evidence lost", "legal_process_served_foreign": "foreign: served in time",
    "median_days_to_legal_process_foreign": "foreign: median days to legal process",
    "reports": "counted reports", "referred_us": "referred to US agencies", "referred_foreign": "referred abroad",
    "closed_unworked_us": "US: closed unworked", "isp_logs_lost": "ISP logs lost", "arrests": "arrests",
    "undecided": "undecided (overload)", "drain_days": "drain days", POOLED_RATE: "pooled US + foreign: evidence lost",
    "evidence_lost": "pooled US + foreign: evidence lost",
}


def metric_unit(metric: str) -> str:
    known = METRICS.get(metric)
    if known is not None:
        return "%" if known.is_share else known.unit
    return "days" if metric == "drain_days" else ""


def metric_name(metric: str) -> str:
    return SHORT_NAMES.get(metric) or metric.replace("_", " ")


def compare_table(payload: Mapping[str, Any]) -> Table:
    """Each metric of a comparison in its unit (rates in %): A, B, B - A and the 95% CI of the difference."""
    metrics = payload["metrics"]
    keys = [k for k in SUMMARY_KEYS if k in metrics]
    keys += [k for k in metrics if k not in keys and not k.startswith("evidence_lost_at_")
             and not k.startswith("evidence_lost_us_at_")]
    records = []
    for key in keys:
        m = metrics[key]
        scale = 100.0 if is_share(key) else 1.0
        records.append({"metric": metric_name(key), "unit": "% (points for B - A)" if scale == 100 else metric_unit(key),
                        "A": scale * _value(m, "a"), "B": scale * _value(m, "b"),
                        "B - A": scale * _value(m, "difference"), "95% CI low": scale * _value(m, "ci_low"),
                        "95% CI high": scale * _value(m, "ci_high"), "_share": scale == 100})
    frame = pd.DataFrame(records)
    # Rates with one decimal, counts and days as whole numbers with separators: per row, so as strings.
    for col in ("A", "B", "B - A", "95% CI low", "95% CI high"):
        frame[col] = [_number_text(v, share, signed=col != "A" and col != "B")
                      for v, share in zip(frame[col], frame["_share"], strict=True)]
    frame = frame.drop(columns="_share")
    return Table(f"Comparison: {payload['a']} (A) vs {payload['b']} (B)", frame, {},
                 f"Means over {payload.get('replications', '?')} paired replications (common random numbers); B - A "
                 "is the mean paired difference and its 95% confidence interval. US cases first; foreign cases "
                 "(MLAT) beside them; pooled rates only for scripts.")


def _number_text(value: float, share: bool, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if share:
        return f"{value:+.1f}" if signed else f"{value:.1f}%"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:+,.0f}" if signed else f"{value:,.0f}"
    return f"{value:+,.1f}" if signed else f"{value:,.1f}"


def runs_table(runs: list[RunResult]) -> Table:
    """One row per run: US first, foreign beside it, with units in the headings."""
    keys = [k for k in SUMMARY_KEYS if any(k in r.summary for r in runs) and k not in (POOLED_RATE, "evidence_lost")]
    if not any(US_RATE in r.summary for r in runs):  # an older summary: say it is pooled
        keys = [POOLED_RATE, "evidence_lost", *keys]
    columns = {k: f"{metric_name(k)} ({metric_unit(k)})" if metric_unit(k) else metric_name(k) for k in keys}
    records = []
    for r in runs:
        record: dict[str, Any] = {"run": r.name, "window (days)": r.window_days}
        for k in keys:
            value = r.summary.get(k)
            record[columns[k]] = (100 * value if is_share(k) else value) if value is not None else None
        records.append(record)
    formats = {"window (days)": "{:g}"}
    formats.update({columns[k]: PCT if is_share(k) else COUNT for k in keys})
    return Table("Run summaries", pd.DataFrame(records), formats,
                 "Rates: lost / (lost + legal process served in time), of counted reports (created after the warm-up "
                 "and followed to their outcome).")


# --- the report ------------------------------------------------------------------------------------

@dataclass
class Report:
    """Figures and tables built from a results directory, with one-sentence headlines (US first)."""

    title: str
    sources: list[str]
    figures: list[FigureItem]
    tables: list[Table]
    headlines: list[str] = field(default_factory=list)

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
        parts += [table.html() for table in self.tables]
        when = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        sources = "".join(f"<li><code>{_html.escape(s)}</code></li>" for s in self.sources)
        headlines = "".join(f"<li>{_html.escape(h)}</li>" for h in self.headlines)
        headlines = f'<ul class="headline">{headlines}</ul>' if headlines else ""
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_html.escape(self.title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}}
.caption{{color:#555;font-size:0.9em}} .headline{{font-size:1.05em}} .headline li{{margin:0.3em 0}}
table.data{{border-collapse:collapse;font-size:0.85em}}
table.data td,table.data th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}
table.data td:first-child,table.data th:first-child{{text-align:left}}</style>
<script>{get_plotlyjs()}</script></head>
<body><h1>{_html.escape(self.title)}</h1>
{headlines}
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


def _sweep_section(found: Inputs, figures: list[FigureItem], tables: list[Table], headlines: list[str]) -> None:
    rows = found.sweep
    if rows is None or WINDOW not in rows.columns or rows[WINDOW].nunique() < 2:
        return
    metric = primary_metric(rows)
    base, name = sweep_base_name(found.manifest, rows), sweep_name(found.manifest)
    of = (f'sweep "{name}"' if name else "the sweep") + (f' on base scenario "{base}"' if base else "")
    pooled = "" if metric.endswith("_us") else " These rows have no US rate (older results): the rate shown pools " \
                                                 "US and foreign cases."
    factors = [f for f in factor_columns(rows, found.manifest) if f != WINDOW]
    by = next((f for f in factors if rows[f].nunique() <= 6), None)
    notes = []
    if by:
        for panel in [metric] + ([foreign_of(metric)] if foreign_of(metric) in rows.columns else []):
            for group in coinciding_levels(window_summary(rows, panel, by), by):
                notes.append(f"{_panel_title(panel)}: the lines for {label(by)} = "
                             f"{', '.join(_level(v) for v in group)} coincide (identical means); they are drawn with "
                             "different dashes and markers.")
    headlines.append(f"Sweep: {of}, {len(rows):,} runs, factors {', '.join(label(f) for f in [WINDOW, *factors])}.")
    figures.append(FigureItem(
        "evidence_lost_vs_window", f"Evidence lost against the preservation window: {base or 'sweep'}",
        f"Runs of {of}. Mean {label(metric)} per window over {len(rows):,} runs (US cases left, foreign cases beside "
        "them); shaded bands are 95% confidence intervals of the mean across replications (t distribution)."
        + pooled + (" " + " ".join(notes) if notes else ""), window_figure(rows, metric, found.manifest)))
    staffing = [s for s in STAFFING if s in rows.columns and rows[s].nunique() > 1]
    for s in staffing:
        figures.append(FigureItem(
            f"heatmap_{s.split('.')[-1]}_x_window", f"Staffing x window: {label(s)}",
            f"Runs of {of}. Mean {label(metric)} for each combination of {label(s)} and window"
            + (", with the foreign rate beside it." if foreign_of(metric) in rows.columns else ".") + pooled,
            heatmap_figure(rows, metric, s)))
    groups = [(f"{w:g} days", rows[rows[WINDOW] == w][[c for c in rows.columns if c.startswith("evidence_lost")]]
               .mean(numeric_only=True).to_dict()) for w in sorted(rows[WINDOW].unique())]
    if all(where_lost_values(v) is not None for _, v in groups):
        figures.append(FigureItem(
            "evidence_lost_by_stage_sweep", "Where the evidence was lost, by window",
            f"Runs of {of}. Mean reports lost per run at each stage where the preservation deadline passed, per "
            "window (averaged over the other factors and replications).",
            where_lost_figure(groups, "Where the evidence was lost (mean reports per run)", label(WINDOW))))
    table = sweep_table(rows, metric, next(iter(staffing), None))
    table.caption = f"Runs of {of}. " + table.caption + pooled
    tables.append(table)


def _compare_section(found: Inputs, figures: list[FigureItem], tables: list[Table], headlines: list[str]) -> None:
    for name, payload in found.compares:
        headline = compare_headline(payload)
        headlines.append(headline)
        foreign = payload.get("headline_foreign")
        if isinstance(foreign, str) and foreign.strip() and foreign.strip() != headline:
            headlines.append(foreign.strip())
        differs = payload.get("differs")
        if isinstance(differs, list) and differs:
            shown = ", ".join(str(d) for d in differs[:6]) + (", ..." if len(differs) > 6 else "")
            headline += (f" Note: A and B also differ in {len(differs)} keys that are not policy or staffing ({shown}): "
                         "the difference is not the effect of a policy alone.")
        figures.append(FigureItem(f"compare_{name}", f"Paired comparison: {payload['a']} vs {payload['b']}",
                                  headline + " Evidence-lost rates of A and B on the same seeds, US cases first; the "
                                  "error bar on B is the 95% confidence interval of the paired difference B - A.",
                                  compare_figure(name, payload)))
        metrics = payload["metrics"]
        sides = [(f"A: {payload['a']}", {k: v.get("a") for k, v in metrics.items() if isinstance(v, dict)}),
                 (f"B: {payload['b']}", {k: v.get("b") for k, v in metrics.items() if isinstance(v, dict)})]
        if all(where_lost_values(v) is not None for _, v in sides):
            figures.append(FigureItem(
                f"compare_{name}_by_stage", f"Where the evidence was lost: {payload['a']} vs {payload['b']}",
                "Mean reports lost per replication at each stage where the preservation deadline passed.",
                where_lost_figure(sides, "Where the evidence was lost (mean reports per replication)")))
        flows = payload.get("flows")
        if isinstance(flows, dict):
            for side in ("a", "b"):
                edges = flows.get(side)
                if edges:
                    figures.append(FigureItem(
                        f"compare_{name}_flows_{side}", f"Where the reports went: {payload[side]} ({side.upper()})",
                        "Counted reports of the first replication, from the platforms through NCMEC and the agencies "
                        "to their outcomes (nodes after the agencies are per route: US or foreign).",
                        sankey_figure(edges, f"{side.upper()}: {payload[side]}")))
        tables.append(compare_table(payload))


def _runs_section(found: Inputs, figures: list[FigureItem], tables: list[Table], headlines: list[str]) -> None:
    runs = found.runs
    if not runs:
        return
    headlines += [run_headline(r.title, r.summary) for r in runs]
    windows = {r.window_days for r in runs if r.window_days is not None}
    if len(windows) > 1 and all(US_RATE in r.summary for r in runs):
        figures.append(FigureItem("runs_evidence_lost_vs_window", "Evidence lost by run and window",
                                  "One point per run directory (single seed, no confidence interval): US cases, and "
                                  "foreign cases (MLAT) beside them.", runs_window_figure(runs)))
    groups = [(r.name, r.summary) for r in runs if where_lost_values(r.summary) is not None]
    if groups:
        figures.append(FigureItem("runs_evidence_lost_by_stage", "Where the evidence was lost, by run",
                                  "Reports lost at each stage where the preservation deadline passed (counted "
                                  "reports).", where_lost_figure(groups, "Where the evidence was lost (reports)")))
    for r in runs[:6]:
        if r.flows:
            figures.append(FigureItem(f"flows_{_slug(r.name)}", f"Where the reports went: {r.title}",
                                      "Counted reports from the platforms through NCMEC and the agencies to their "
                                      "outcomes (flows.csv; nodes after the agencies are per route: US or foreign).",
                                      sankey_figure(r.flows, r.title)))
    with_series = [r for r in runs if r.timeseries is not None]
    if with_series and any("evidence_lost" in r.timeseries for r in with_series):
        figures.append(FigureItem("timeseries_evidence_lost", "Cumulative evidence lost over time (US and foreign)",
                                  "Counted reports whose preservation deadline passed before legal process was "
                                  "served, cumulative, per run. The daily series counts US and foreign cases "
                                  "together; the US and foreign totals are in the figures and table above.",
                                  timeseries_figure(with_series, "evidence_lost", "Cumulative evidence lost",
                                                    "reports with evidence lost (US and foreign)")))
    for r in [r for r in with_series if BACKLOGS[0] in r.timeseries][:4]:
        figures.append(FigureItem(f"timeseries_backlog_{_slug(r.name)}", f"Backlogs: {r.title}",
                                  "Reports and cases waiting at each stage of the pipeline, per day.", backlog_figure(r)))
    tables.append(runs_table(runs))


def build_report(directory: Path, title: str | None = None) -> Report:
    """All figures and tables the results in `directory` support."""
    found = discover(Path(directory))
    if found.empty():
        raise ReportError(f"{directory}: no results found (expected `tipline run --out` directories with summary.json, "
                          "a `tipline compare --json` file, sweep Parquet rows or sobol.csv)")
    figures: list[FigureItem] = []
    tables: list[Table] = []
    headlines: list[str] = []
    _sweep_section(found, figures, tables, headlines)
    if found.sobol is not None:
        fig, _ = sobol_figure(found.sobol)
        figures.append(FigureItem("sobol_indices", "Sensitivity (Sobol indices)",
                                  "First-order (S1) and total (ST) Sobol indices with their confidence half-widths: the "
                                  "share of the output's variance due to each parameter alone / with interactions.", fig))
    _compare_section(found, figures, tables, headlines)
    _runs_section(found, figures, tables, headlines)
    if not figures:
        raise ReportError(f"{directory}: results found but none has data to plot (need a window factor with several "
                          "values, Sobol indices, a comparison or run time series)")
    return Report(title or f"tipline report: {Path(directory).name}", found.sources, figures, tables, headlines)


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
        width = item.figure.layout.width or LAYOUT["width"]
        height = item.figure.layout.height or LAYOUT["height"]
        for fmt in formats:
            name = f"{item.name}.{fmt}"
            specs.append({"fig": fig, "path": str(directory / name),
                          "opts": {"format": fmt, "width": width, "height": height,
                                   "scale": scale if fmt == "png" else 1}})
            names.append(name)
    kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False})
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise RuntimeError(f"kaleido did not write {', '.join(missing)}")
    return names

