"""The report's one-sentence headlines: US first, foreign beside it, rates in percent."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from dashboards.report.result_figures import value_of
from dashboards.report.style import FOREIGN_RATE, POOLED_RATE, US_RATE, WINDOW, is_share, label
from model.metrics import format_metric
from model.settling import drift, filling


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
            parts.append(f"{what}: {100 * value_of(m, 'a'):.1f}% under {payload['a']} vs {100 * value_of(m, 'b'):.1f}% "
                         f"under {payload['b']} (difference {100 * value_of(m, 'difference'):+.1f} points{ci})")
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
        return f"{format_metric(US_RATE, rate)}{counts}"

    if US_RATE not in summary:
        pooled = summary.get(POOLED_RATE)
        return (f"{name}: evidence lost {format_metric(POOLED_RATE, pooled)} (US and foreign pooled; this summary "
                "has no US rate).")
    text = f"{name}: evidence lost, US cases {part('us')}; foreign cases (MLAT) {part('foreign')}."
    if summary.get("undecided"):
        text += f" {summary['undecided']:,} counted reports were still undecided (overload)."
    found, growing = drift([summary]), filling([summary])
    signs = []
    if found is not None and found.unsettled:
        signs.append(f"the US loss {found.direction} from {100 * found.first:.1f}% to {100 * found.second:.1f}% between "
                     "the halves of the counted period")
    if growing is not None and growing.noted:
        signs.append(growing.text())
    if signs:
        text += f" Not settled: {'; '.join(signs)} (docs/ODD.md, warm-up)."
    return text


def interval_text(metric: str, mean: float, low: float, high: float) -> str:
    """A mean with its 95% CI in the metric's unit, e.g. "22.5% (95% CI 22.1-22.8%)" (a rate's cut at 0-100%)."""
    text = format_metric(metric, mean)
    if not (math.isfinite(low) and math.isfinite(high)):
        return text
    if is_share(metric):
        low, high = min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0)
    low_text, high_text = format_metric(metric, low), format_metric(metric, high)
    return f"{text} (95% CI {low_text.rstrip('%')}-{high_text})"


def staffing_headline(table: pd.DataFrame, staffing: str, today: float | None, of: str,
                      metric: str = US_RATE) -> str:
    """What the staffing curve says at today's staffing, per window (`table`: means by window and staffing,
    from :func:`dashboards.report.summaries.group_summary`)."""
    who = label(staffing).split(" (")[0]
    levels = sorted(table[staffing].unique())
    span = f"{len(levels)} levels of {who} from {levels[0]:,g} to {levels[-1]:,g}"
    if today is None:
        return f"Staffing curve: {of}, {span}."
    at = table[table[staffing] == today]
    if at.empty:
        return f"Staffing curve: {of}, {span}; today's staffing ({today:,g}) is not one of the levels."
    parts = [f"{interval_text(metric, r['mean'], r['ci_low'], r['ci_high'])} under the {r[WINDOW]:g}-day window"
             for _, r in at.sort_values(WINDOW).iterrows()]
    return (f"Staffing curve: {of}, {span}. At today's {today:,g} {who}, US evidence lost "
            + " and ".join(parts) + ".")
