"""The report's tables: the sweep's design, sweep means with confidence intervals, comparisons, run summaries.

Which summary keys are metrics, and their units, come from :data:`model.metrics.METRICS`; every number is
written by :func:`dashboards.report.formats.number` in its column's unit (shares in %), US first, foreign
beside it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dashboards.report.formats import (
    COUNT,
    DAYS,
    PERCENT,
    POINTS,
    is_number,
    kind_of,
    metric_kind,
    number,
    parameter_unit,
    scale,
)
from dashboards.report.inputs import RunResult, SweepResult
from dashboards.report.result_figures import value_of
from dashboards.report.style import (
    METRIC_TITLES,
    POOLED_RATE,
    US_RATE,
    WINDOW,
    label,
    metric_title,
    metric_unit,
    panel_title,
    panels,
)
from dashboards.report.summaries import group_summary
from model.metrics import METRICS

#: Metrics shown elsewhere (the where-lost figures), not as table rows.
STAGE_PREFIXES = ("evidence_lost_at_", "evidence_lost_us_at_")
DESIGN_POINT = "design point"


@dataclass
class Table:
    """A report table: numbers in display units (rates already in %), the kind of each numeric column
    (:mod:`dashboards.report.formats`), a caption."""

    title: str
    frame: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)
    caption: str = ""
    #: Words, not numbers: every column left-aligned.
    text: bool = False

    def cell(self, column: str, value: Any) -> str:
        return number(value, self.kinds.get(column, COUNT))

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.frame.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(self.cell(c, v))}</td>" for c, v in zip(
            self.frame.columns, row, strict=True)) + "</tr>" for row in self.frame.itertuples(index=False))
        caption = f'<p class="caption">{html.escape(self.caption)}</p>' if self.caption else ""
        kind = "data text" if self.text else "data"
        return (f"<section><h2>{html.escape(self.title)}</h2>\n<table class=\"{kind}\"><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>{caption}</section>")


def factor_heading(key: str) -> str:
    """A factor's column heading with the unit its cells are in (a share parameter in %)."""
    if kind_of(key) == PERCENT:
        return f"{label(key).rsplit(' (', 1)[0]} ({parameter_unit(key)})"
    return label(key)


def sweep_table(rows: pd.DataFrame, metric: str, by: str | None, factors: Sequence[str] = ()) -> Table:
    """Mean evidence lost per window (and staffing level) with 95% CIs: US first, foreign beside it. When
    each row is one design point, it is numbered as ``tipline analyze`` numbers it, with every factor."""
    keys = [WINDOW] + ([by] if by else [])
    one_point = "point" in rows and bool((rows.groupby(keys)["point"].nunique() == 1).all())
    shown = keys + ([f for f in factors if f not in keys and f in rows] if one_point else [])
    frame = group_summary(rows, metric, keys)[keys]
    if one_point:
        frame = frame.merge(rows.groupby(keys, as_index=False)[["point", *shown[len(keys):]]].first(), on=keys)
    out = pd.DataFrame({DESIGN_POINT: frame["point"]} if one_point else {})
    kinds: dict[str, str] = {DESIGN_POINT: COUNT, "runs": COUNT}
    for key in shown:
        out[factor_heading(key)] = scale(kind_of(key)) * frame[key].to_numpy(float)
        kinds[factor_heading(key)] = kind_of(key)
    for panel in panels(metric, rows.columns):
        table = group_summary(rows, panel, keys)
        kind = metric_kind(panel)
        for column, what in (("mean", "mean"), ("ci_low", "95% CI low"), ("ci_high", "95% CI high")):
            name = f"{panel_title(panel)}: {what} ({metric_unit(panel)})"
            values = scale(kind) * table[column].to_numpy(float)
            out[name] = values.clip(0, 100) if kind == PERCENT else values
            kinds[name] = kind
        runs = table["n"].to_numpy()
    out["runs"] = runs
    caption = ("Rates are lost / (lost + legal process served in time), in percent; the interval is the t-based 95% "
               "confidence interval of the mean over the runs at each setting (cut at 0% and 100%).")
    if one_point:
        caption += " Each row is one design point, numbered as in `tipline analyze`; runs are its replications."
    elif len(factors) > len(keys):
        caption += " Each row averages over the other factors' design points."
    return Table(f"Evidence lost by window{f' and {label(by)}' if by else ''} (mean over runs, 95% CI)",
                 out, kinds, caption)


def compare_table(payload: Mapping[str, Any]) -> Table:
    """Each metric of a comparison in its unit (rates in %): A, B, B - A and the 95% CI of the difference."""
    metrics = payload["metrics"]
    keys = [k for k in METRICS if k in metrics] + [k for k in metrics if k not in METRICS]
    records = []
    for key in (k for k in keys if not k.startswith(STAGE_PREFIXES) and isinstance(metrics[k], dict)):
        m, kind = metrics[key], metric_kind(key)
        side = [number(scale(kind) * value_of(m, s), kind) for s in ("a", "b")]
        diff = [number(scale(kind) * value_of(m, s), POINTS if kind == PERCENT else kind, signed=True)
                for s in ("difference", "ci_low", "ci_high")]
        records.append({"metric": metric_title(key),
                        "unit": "% (B - A in percentage points)" if kind == PERCENT else metric_unit(key),
                        "A": side[0], "B": side[1], "B - A": diff[0], "95% CI low": diff[1], "95% CI high": diff[2]})
    return Table(f"Comparison: {payload['a']} (A) vs {payload['b']} (B)", pd.DataFrame(records), {},
                 f"Means over {payload.get('replications', '?')} paired replications (common random numbers); B - A "
                 "is the mean paired difference and its 95% confidence interval. US cases first; foreign cases "
                 "(MLAT) beside them; pooled rates only for scripts.")


def runs_table(runs: list[RunResult]) -> Table:
    """One row per run: US first, foreign beside it, with units in the headings."""
    keys = [k for k in METRICS if k in METRIC_TITLES and any(k in r.summary for r in runs)
            and k not in (POOLED_RATE, "evidence_lost")]
    if not any(US_RATE in r.summary for r in runs):  # an older summary: say it is pooled
        keys = [POOLED_RATE, "evidence_lost", *keys]
    columns = {k: f"{metric_title(k)} ({metric_unit(k)})" for k in keys}
    records = []
    for r in runs:
        record: dict[str, Any] = {"run": r.name, "window (days)": r.window_days}
        for k in keys:
            value = r.summary.get(k)
            record[columns[k]] = scale(metric_kind(k)) * value if value is not None else None
        if any("drain_days" in run.summary for run in runs):
            record["drain days"] = r.summary.get("drain_days")
        records.append(record)
    kinds = {"window (days)": DAYS, "drain days": DAYS} | {columns[k]: metric_kind(k) for k in keys}
    return Table("Run summaries", pd.DataFrame(records), kinds,
                 "Rates: lost / (lost + legal process served in time), of counted reports (created after the warm-up "
                 "and followed to their outcome). Drain days: days run after the last counted day until every counted "
                 "report was decided.")


#: Each design's name and what it runs.
DESIGNS = {"grid": ("grid", "every combination of the factors' levels"),
           "lhs": ("Latin hypercube", "one point in each of `samples` equally likely strata of every factor"),
           "sobol": ("Sobol", "Saltelli's scheme for Sobol indices, N x (factors + 2) points")}


def factor_values(rows: pd.DataFrame, key: str) -> str:
    """A factor's values in the runs, in its unit: all of them when few, else the range."""
    values = sorted(pd.unique(rows[key].dropna())) if key in rows else []
    kind = kind_of(key)
    shown = [number(scale(kind) * v, kind) if is_number(v) else str(v) for v in values]
    if len(shown) <= 8:
        return ", ".join(shown) or "-"
    return f"{shown[0]} to {shown[-1]} ({len(shown):,} values)"


def design_table(sweep: SweepResult) -> Table:
    """What a sweep ran: its base scenario, design, design points, replications and factors."""
    spec = sweep.manifest["design"].get("spec") or {}
    points, reps, kind = sweep.design_points, sweep.replications, sweep.kind
    if kind == "grid":
        levels = [str(sweep.rows[f].nunique()) for f in sweep.manifest["design"]["factors"] if f in sweep.rows]
        size = f"{points:,} ({' x '.join(levels)} levels)" if len(levels) > 1 else f"{points:,}"
    elif sweep.samples is not None:
        size = f"{points:,} ({'samples' if kind == 'lhs' else 'base sample N'} = {sweep.samples:,})"
    else:
        size = f"{points:,}"
    runs = f"{len(sweep.rows):,}" + (f" ({sweep.failed:,} failed runs left out)" if sweep.failed else "")
    base = sweep.base_name or "(not named in the manifest)"
    items = [("sweep", sweep.name + (f": {spec['description']}" if spec.get("description") else "")),
             ("base scenario", base + (f", with {', '.join(sweep.overrides)}" if sweep.overrides else "")),
             ("design", ": ".join(DESIGNS.get(kind, (kind or "-",)))), ("design points", size),
             ("replications", "-" if reps is None else f"{reps:,} per design point, on common seeds"
              + (f" (root seed {sweep.manifest['design']['seed']})" if sweep.manifest["design"].get("seed") else "")),
             ("runs", runs)]
    items += [(f"factor: {factor_heading(f)}", factor_values(sweep.rows, f)) for f in sweep.manifest["design"]["factors"]]
    return Table(f"Sweep design: {sweep.name}", pd.DataFrame(items, columns=["sweep setting", "value"]), {},
                 f"The runs of sweep \"{sweep.name}\" vary the factors listed around the base scenario \"{base}\"; "
                 "every other parameter is the base scenario's.", text=True)
