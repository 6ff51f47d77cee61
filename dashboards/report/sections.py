"""Building the report: one section per input, each adding figures, tables and one-sentence headlines.

Sweeps first (evidence lost against the window, the staffing curve, staffing x window, where the evidence
was lost, Sobol indices), then comparisons, then single runs. US cases lead every headline, table and
figure; foreign cases (MLAT / CLOUD Act) are beside them, never pooled into a headline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboards.report.headlines import compare_headline, run_headline, staffing_headline
from dashboards.report.inputs import Inputs, ReportError, RunResult, SweepResult, discover
from dashboards.report.page import FigureItem, Report
from dashboards.report.result_figures import (
    backlog_figure,
    compare_figure,
    runs_window_figure,
    timeseries_figure,
    where_lost_figure,
    where_lost_values,
)
from dashboards.report.style import INVESTIGATORS, STAFFING, US_RATE, WINDOW, foreign_of, label, level_text, panel_title
from dashboards.report.summaries import coinciding_levels, group_summary, line_factor, primary_metric, window_summary
from dashboards.report.sweep_figures import heatmap_figure, sobol_figure, staffing_figure, window_figure
from dashboards.report.tables import DESIGNS, Table, compare_table, design_table, runs_table, sweep_table
from dashboards.report.uncertainty import UncertaintyResult
from dashboards.sankey import sankey_figure
from model.metrics import METRICS

SOBOL_CAPTION = ("First-order (S1) and total (ST) Sobol indices with their confidence half-widths: the share of the "
                 "output's variance due to each parameter alone / with interactions.")


@dataclass
class Parts:
    """The report's figures, tables and headlines as the sections add them (figure names kept unique)."""

    figures: list[FigureItem] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    headlines: list[str] = field(default_factory=list)
    overview: list[Table] = field(default_factory=list)

    def figure(self, name: str, title: str, caption: str, figure: go.Figure) -> None:
        taken = {item.name for item in self.figures}
        unique, n = name, 2
        while unique in taken:  # the same figure of a second sweep or comparison
            unique, n = f"{name}_{n}", n + 1
        self.figures.append(FigureItem(unique, title, caption, figure))


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_") or "run"


# --- sweeps -----------------------------------------------------------------------------------------

def sweep_section(sweep: SweepResult, parts: Parts) -> None:
    parts.overview.append(design_table(sweep))
    if not sweep.rows.empty and (WINDOW in sweep.factors or INVESTIGATORS in sweep.factors):
        _sweep_figures(sweep, parts)
    if sweep.sobol is not None:
        parts.figure("sobol_indices", f"Sensitivity (Sobol indices): {sweep.name}", SOBOL_CAPTION,
                     sobol_figure(sweep.sobol)[0])


def _sweep_figures(sweep: SweepResult, parts: Parts) -> None:
    """Evidence lost against the window, the staffing curve, staffing x window, where it was lost, a table."""
    rows, factors = sweep.rows, sweep.factors
    metric = primary_metric(rows)
    of = f'sweep "{sweep.name}"' + (f' on base scenario "{sweep.base_name}"' if sweep.base_name else "")
    design = f"{DESIGNS.get(sweep.kind, (sweep.kind, ''))[0]} design, " if sweep.kind else ""
    reps = f" x {sweep.replications:,} replications" if sweep.replications else ""
    pooled = "" if metric.endswith("_us") else (" These rows have no US rate (older results): the rate shown pools "
                                                "US and foreign cases.")
    failed = f" ({sweep.failed:,} failed runs left out)" if sweep.failed else ""
    parts.headlines.append(f"Sweep: {of} ({design}{sweep.design_points:,} design points{reps}), {len(rows):,} runs"
                           f"{failed}, factors {', '.join(label(f) for f in factors)}.")
    if WINDOW in factors:
        _window_part(rows, metric, factors, of, pooled, parts)
    if INVESTIGATORS in factors and metric == US_RATE:
        _staffing_part(sweep, of, parts)
    if WINDOW not in factors:
        return
    staffing = [s for s in STAFFING if s in factors]
    for s in staffing:
        parts.figure(f"heatmap_{s.split('.')[-1]}_x_window", f"Staffing x window: {label(s)}",
                     f"Runs of {of}. Mean {label(metric)} for each combination of {label(s)} and window"
                     + (", with the foreign rate beside it." if foreign_of(metric) in rows else ".") + pooled,
                     heatmap_figure(rows, metric, s))
    _where_lost_part(rows, of, parts)
    table = sweep_table(rows, metric, next(iter(staffing), None) or line_factor(rows, factors), factors)
    table.caption = f"Runs of {of}. " + table.caption + pooled
    parts.tables.append(table)


def _window_part(rows: pd.DataFrame, metric: str, factors: list[str], of: str, pooled: str, parts: Parts) -> None:
    by = line_factor(rows, factors)
    notes = []
    if by:
        for panel in [metric] + ([foreign_of(metric)] if foreign_of(metric) in rows else []):
            for group in coinciding_levels(window_summary(rows, panel, by), by):
                notes.append(f"{panel_title(panel)}: the lines for {label(by)} = "
                             f"{', '.join(level_text(v) for v in group)} coincide (identical means); they are drawn "
                             "one inside the other (wider lines and larger markers first) with different dashes "
                             "and markers.")
    others = [f for f in factors if f not in (WINDOW, by)]
    averaged = f" Averaged over {', '.join(label(f) for f in others)}." if others else ""
    parts.figure("evidence_lost_vs_window", "Evidence lost against the preservation window",
                 f"Runs of {of}. Mean {label(metric)} per window over {len(rows):,} runs (US cases left, foreign "
                 "cases beside them); shaded bands are 95% confidence intervals of the mean across replications "
                 "(t distribution)." + averaged + pooled + (" " + " ".join(notes) if notes else ""),
                 window_figure(rows, metric, factors))


def _staffing_part(sweep: SweepResult, of: str, parts: Parts) -> None:
    """US evidence lost against investigators, one line per window, and what today's staffing loses."""
    rows = sweep.rows
    if WINDOW not in rows:  # one window, the base scenario's: one line
        rows = rows.assign(**{WINDOW: sweep.base_value(WINDOW)})
    today = sweep.base_value(INVESTIGATORS)
    table = group_summary(rows, US_RATE, [WINDOW, INVESTIGATORS])
    headline = staffing_headline(table, INVESTIGATORS, today, of)
    parts.headlines.append(headline)
    others = [f for f in sweep.factors if f not in (WINDOW, INVESTIGATORS)]
    averaged = f" Averaged over {', '.join(label(f) for f in others)}." if others else ""
    levels = rows[INVESTIGATORS]
    if today is None:
        marked = " The manifest's base scenario has no staffing to mark as today's."
    elif levels.min() <= today <= levels.max():
        marked = f" The dotted line is today's staffing: the base scenario's {label(INVESTIGATORS)} = {today:,g}."
    else:
        marked = f" Today's staffing (the base scenario's {label(INVESTIGATORS)} = {today:,g}) lies outside the sweep."
    parts.figure("staffing_curve", "US evidence lost against investigators, by preservation window",
                 f"Runs of {of}. Mean {label(US_RATE)} at each staffing level, one line per window; shaded bands are "
                 "95% confidence intervals of the mean across replications (t distribution)." + marked + averaged
                 + " Foreign cases are worked by foreign investigators, not by these.",
                 staffing_figure(rows, today))


def _where_lost_part(rows: pd.DataFrame, of: str, parts: Parts) -> None:
    metrics = [c for c in rows.columns if c in METRICS]
    groups = [(f"{w:g} days", rows[rows[WINDOW] == w][metrics].mean(numeric_only=True).to_dict())
              for w in sorted(rows[WINDOW].unique())]
    if all(where_lost_values(v) is not None for _, v in groups):
        parts.figure("evidence_lost_by_stage_sweep", "Where the evidence was lost, by window",
                     f"Runs of {of}. Mean reports lost per run at each stage where the preservation deadline passed, "
                     "per window (averaged over the other factors and replications).",
                     where_lost_figure(groups, "Where the evidence was lost (mean reports per run)", label(WINDOW)))


# --- comparisons and runs ---------------------------------------------------------------------------

def compare_section(name: str, payload: dict[str, Any], parts: Parts) -> None:
    headline = compare_headline(payload)
    parts.headlines.append(headline)
    foreign = payload.get("headline_foreign")
    if isinstance(foreign, str) and foreign.strip() and foreign.strip() != headline:
        parts.headlines.append(foreign.strip())
    differs = payload.get("differs")
    if isinstance(differs, list) and differs:
        shown = ", ".join(str(d) for d in differs[:6]) + (", ..." if len(differs) > 6 else "")
        headline += (f" Note: A and B also differ in {len(differs)} keys that are not policy or staffing ({shown}): "
                     "the difference is not the effect of a policy alone.")
    a, b = payload["a"], payload["b"]
    parts.figure(f"compare_{name}", f"Paired comparison: {a} vs {b}",
                 headline + " Evidence-lost rates of A and B on the same seeds, US cases first; the error bar on B is "
                 "the 95% confidence interval of the paired difference B - A.", compare_figure(name, payload))
    metrics = payload["metrics"]
    sides = [(f"{side.upper()}: {payload[side]}", {k: v.get(side) for k, v in metrics.items() if isinstance(v, dict)})
             for side in ("a", "b")]
    if all(where_lost_values(v) is not None for _, v in sides):
        parts.figure(f"compare_{name}_by_stage", f"Where the evidence was lost: {a} vs {b}",
                     "Mean reports lost per replication at each stage where the preservation deadline passed.",
                     where_lost_figure(sides, "Where the evidence was lost (mean reports per replication)"))
    flows = payload.get("flows")
    for side in ("a", "b") if isinstance(flows, dict) else ():
        if flows.get(side):
            parts.figure(f"compare_{name}_flows_{side}", f"Where the reports went: {payload[side]} ({side.upper()})",
                         "Counted reports of the first replication, from the platforms through NCMEC and the agencies "
                         "to their outcomes (nodes after the agencies are per route: US or foreign).",
                         sankey_figure(flows[side], f"{side.upper()}: {payload[side]}"))
    parts.tables.append(compare_table(payload))


def runs_section(runs: list[RunResult], parts: Parts) -> None:
    parts.headlines.extend(run_headline(r.title, r.summary) for r in runs)
    windows = {r.window_days for r in runs if r.window_days is not None}
    if len(windows) > 1 and all(US_RATE in r.summary for r in runs):
        parts.figure("runs_evidence_lost_vs_window", "Evidence lost by run and window",
                     "One point per run directory (single seed, no confidence interval): US cases, and foreign cases "
                     "(MLAT) beside them.", runs_window_figure(runs))
    groups = [(r.name, r.summary) for r in runs if where_lost_values(r.summary) is not None]
    if groups:
        parts.figure("runs_evidence_lost_by_stage", "Where the evidence was lost, by run",
                     "Reports lost at each stage where the preservation deadline passed (counted reports).",
                     where_lost_figure(groups, "Where the evidence was lost (reports)"))
    for r in [r for r in runs if r.flows][:6]:
        parts.figure(f"flows_{slug(r.name)}", f"Where the reports went: {r.title}",
                     "Counted reports from the platforms through NCMEC and the agencies to their outcomes (flows.csv; "
                     "nodes after the agencies are per route: US or foreign).", sankey_figure(r.flows or [], r.title))
    with_series = [r for r in runs if r.timeseries is not None]
    if with_series and all("evidence_lost_us" in r.timeseries for r in with_series if r.timeseries is not None):
        parts.figure("timeseries_evidence_lost", "Cumulative US evidence lost over time",
                     "US cases (counted reports) whose preservation deadline passed before legal process was served, "
                     "cumulative, per run; the foreign (MLAT) totals are in the figures and table above.",
                     timeseries_figure(with_series, "evidence_lost_us", "Cumulative US evidence lost",
                                       "US cases with evidence lost"))
    elif any("evidence_lost" in r.timeseries for r in with_series if r.timeseries is not None):  # older results
        parts.figure("timeseries_evidence_lost", "Cumulative evidence lost over time (US and foreign)",
                     "Counted reports whose preservation deadline passed before legal process was served, "
                     "cumulative, per run. These results' daily series count US and foreign cases together; the US "
                     "and foreign totals are in the figures and table above.",
                     timeseries_figure(with_series, "evidence_lost", "Cumulative evidence lost",
                                       "reports with evidence lost (US and foreign)"))
    for r in [r for r in with_series if r.timeseries is not None and "ncmec_backlog" in r.timeseries][:4]:
        parts.figure(f"timeseries_backlog_{slug(r.name)}", f"Backlogs: {r.title}",
                     "Reports and cases waiting at each stage of the pipeline, per day.", backlog_figure(r))
    parts.tables.append(runs_table(runs))


# --- the report -------------------------------------------------------------------------------------

def build_report(paths: Path | str | Iterable[Path | str], title: str | None = None) -> Report:
    """All figures and tables the inputs support: run and sweep directories, compare JSON files, Sobol
    tables, or directories holding them (see :mod:`dashboards.report.inputs`)."""
    paths = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    found = discover(paths)
    names = ", ".join(str(p) for p in paths)
    if found.empty():
        raise ReportError(f"{names}: no results found (expected `tipline run --out` directories with summary.json, "
                          "`tipline sweep --out` directories, a `tipline compare --json` file or a sobol.csv)")
    parts = _sections(found)
    if not parts.figures:
        raise ReportError(f"{names}: results found but none has data to plot (need a window factor with several "
                          "values, Sobol indices, a comparison or run time series)")
    title = title or "tipline report: " + ", ".join(p.resolve().name for p in paths)
    return Report(title, found.sources, parts.figures, parts.tables, parts.headlines, parts.overview)


def uncertainty_section(result: UncertaintyResult, parts: Parts) -> None:
    """How wide the answer is over the plausible assumptions, what drives it, where a condition holds."""
    from dashboards.report.uncertainty import (
        DIFFERENCE_CAPTION,
        DRIVERS_CAPTION,
        REGION_CAPTION,
        calibrated_caption,
        calibrated_region_caption,
        calibrated_rows,
        difference_figure,
        drivers_figure,
        region_figure,
        region_measures,
        region_rows,
    )

    summary = result.summary
    parts.headlines.append(summary["headline"])
    parts.figure("uncertainty_difference", "How wide is the answer?", DIFFERENCE_CAPTION, difference_figure(result))
    parts.figure("uncertainty_drivers", "What drives it", DRIVERS_CAPTION.format(confidence=summary["confidence"]),
                 drivers_figure(result))
    region = region_figure(result)
    if region is not None:
        parts.figure("uncertainty_region", f"Where {summary['discovery']['condition']}", REGION_CAPTION, region)
    found = summary["discovery"]
    caption = (f"PRIM (ema_workbench): {found['condition']} at {found['share']:.0%} of {found['points']:,} draws; "
               f"{region_measures(found)}")
    parts.tables.append(Table(f"Where {found['condition']}: the discovered region", region_rows(found),
                              caption=caption, text=True))
    if "calibrated" in summary:
        block = summary["calibrated"]
        parts.tables.append(Table(
            f"The answer among the draws that reproduce the {block['target']}", calibrated_rows(result), text=True,
            caption=calibrated_caption(block)))
        if block["points"]:
            parts.tables.append(Table("Where the draws that reproduce the published figures lie",
                                      region_rows(block["region"]), caption=calibrated_region_caption(block), text=True))


def _sections(found: Inputs) -> Parts:
    parts = Parts()
    for result in found.uncertainties:
        uncertainty_section(result, parts)
    for sweep in found.sweeps:
        sweep_section(sweep, parts)
    for _, sobol in found.sobols:
        parts.figure("sobol_indices", "Sensitivity (Sobol indices)", SOBOL_CAPTION, sobol_figure(sobol)[0])
    for name, payload in found.compares:
        compare_section(name, payload, parts)
    if found.runs:
        runs_section(found.runs, parts)
    return parts
