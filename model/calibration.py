"""Calibration targets: the model's annual figures beside the published ones (`tipline calibration`).

Two regimes are calibrated, each with its own scenario file:

* ``calibration_2023``: before bundling (NCMEC 2023 data, ICAC FY2023);
* ``calibration_2024``: the first year of bundling (NCMEC 2024 data, ICAC FY2024, X H1 2024).

A calibration run simulates the warm-up plus one year and measures **flows over the year after the
warm-up** (the steady state): reports filed, US referrals, investigations taken on by US agencies,
arrests made, urgent escalations. They are read from the model's daily series (DataCollector:
``reports_filed``, ``urgent_filed``, ``bundled_today``, ``investigations_us_today``,
``arrests_today``, and each platform's ``filed`` and ``automated``).

Each target carries its published value, source (``docs/sources.md`` section and
reliability tag) and a tolerance; the tolerance is wide where the published figure is not quite the
model's quantity (e.g. ICAC investigations also come from sources other than the CyberTipline).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from model.console import add_set_option, print_table
from model.params import Scenario
from model.scenarios import load_scenario

REGIMES = ("2023", "2024")


@dataclass(frozen=True)
class Target:
    """A published annual figure the model should reproduce within a relative (or absolute) tolerance."""

    regime: str
    key: str
    label: str
    published: float
    source: str
    rel_tol: float | None = None
    abs_tol: float | None = None
    platform: str | None = None   # for per-platform targets
    note: str = ""

    def tolerance_text(self) -> str:
        if self.abs_tol is not None:
            return f"+-{self.abs_tol:g}"
        return f"+-{self.rel_tol:.0%}"

    def within(self, value: float) -> bool:
        if self.abs_tol is not None:
            return abs(value - self.published) <= self.abs_tol
        return abs(value - self.published) <= (self.rel_tol or 0.0) * abs(self.published)


TARGETS: tuple[Target, ...] = (
    # 2023: no bundling
    Target("2023", "reports", "CyberTipline reports per year", 36_210_368,
           "sources §1: NCMEC 2023 CyberTipline data [P]", rel_tol=0.05,
           note="an input (platform volumes); checks the volume bookkeeping"),
    Target("2023", "referred_us", "referrals to US law enforcement per year", 1_100_000,
           "sources §1: '>1.1 million' (NCMEC 2023 via factually.co) [S-AI]", rel_tol=0.25,
           note="US-located plus unknown-location referrals (routed to ICAC and federal agencies)"),
    Target("2023", "investigations", "investigations per year (ICAC FY2023)", 184_700,
           "sources §3: OJJDP ICAC program page [P]", rel_tol=0.25,
           note="model: actionable US referrals taken on; ICAC also investigates leads from other sources"),
    Target("2023", "arrests", "arrests per year (ICAC FY2023)", 10_800,
           "sources §3: OJJDP ICAC program page [P]", rel_tol=0.30,
           note="model: arrests from CyberTipline cases only"),
    Target("2023", "urgent", "urgent escalations per year", 63_892,
           "sources §1: NCMEC 2023 [P]", rel_tol=0.05),
    # 2024: bundling
    Target("2024", "reports", "CyberTipline incidents per year (before bundling)", 29_200_000,
           "sources §1: NCMEC GPCEP, 2024 [P]", rel_tol=0.05,
           note="the model's reports are incidents; bundled viral copies become informational"),
    Target("2024", "reports_after_bundling", "CyberTipline reports per year (after bundling)", 20_500_000,
           "sources §1: NCMEC GPCEP, 2024 [P]", rel_tol=0.10,
           note="model: incidents minus bundled viral copies (a bundle itself is not counted)"),
    Target("2024", "investigations", "investigations per year (ICAC FY2024)", 203_467,
           "sources §3: OJJDP via factually.co [S-AI]", rel_tol=0.25,
           note="as for 2023"),
    Target("2024", "arrests", "arrests per year (ICAC FY2024)", 12_600,
           "sources §3: OJJDP via factually.co [S-AI]", rel_tol=0.30),
    Target("2024", "platform_reports_per_day", "X reports per day (H1 2024)", 370_588 / 182,
           "sources §7: X Global Transparency Report H1 2024 [P via press]", rel_tol=0.10,
           platform="X"),
    Target("2024", "platform_automated_share", "X automated share of reports (H1 2024)", 0.095,
           "sources §1, §7: 35,176 of 370,588 (X via Statista) [S]", abs_tol=0.01, platform="X"),
)


def regime_scenario(regime: str, overrides: list[str] | None = None) -> Scenario:
    """The calibration scenario of a regime, with optional ``--set`` overrides."""
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r} (allowed: {', '.join(REGIMES)})")
    return load_scenario(f"calibration_{regime}", overrides or [])


def measure(scenario: Scenario, seed: int | None = None) -> dict[str, Any]:
    """Run `scenario` and return its annual flows over the days after warm-up (per 365 days).

    Flows come from the daily series (``model.timeseries()``) and the platforms' agent-type
    series, restricted to the days after warm-up.
    """
    from model.agents import Platform  # the model, loaded on first use: ``tipline --help`` needs none of it
    from model.model import run

    model, summary = run(scenario, seed)
    warmup, days = scenario.run.warmup_days, scenario.run.days
    years = (days - warmup) / 365
    daily = model.timeseries()
    after = daily[(daily["day"] > warmup) & (daily["day"] <= days)].sum()
    platforms = model.datacollector.get_agenttype_vars_dataframe(Platform).reset_index()
    platforms = platforms[(platforms["Step"] > warmup) & (platforms["Step"] <= days)]
    per_platform = {}
    for agent in model.platforms:
        rows = platforms[platforms["AgentID"] == agent.unique_id]
        filed = rows["filed"].sum()
        per_platform[agent.spec.name] = {"reports_per_day": filed / (years * 365),
                                         "automated_share": rows["automated"].sum() / filed if filed else float("nan")}
    return {
        "reports": after["reports_filed"] / years,
        "reports_after_bundling": (after["reports_filed"] - after["bundled_today"]) / years,
        "referred_us": summary["referred_us"] / years,
        "investigations": after["investigations_us_today"] / years,
        "arrests": after["arrests_today"] / years,
        "urgent": after["urgent_filed"] / years,
        "platforms": per_platform,
        "evidence_lost_rate_us": summary["evidence_lost_rate_us"],
        "counted_summary": summary,
        "wall_seconds": summary["wall_seconds"],
    }


def model_value(target: Target, measured: dict[str, Any]) -> float:
    if target.platform is not None:
        key = target.key.removeprefix("platform_")
        return float(measured["platforms"][target.platform][key])
    return float(measured[target.key])


def calibration_table(regimes: tuple[str, ...] = REGIMES, overrides: list[str] | None = None,
                      seed: int | None = None) -> list[dict[str, Any]]:
    """One row per target: regime, figure, model value, published value, ratio, tolerance, ok, source."""
    rows = []
    for regime in regimes:
        measured = measure(regime_scenario(regime, overrides), seed)
        for target in (t for t in TARGETS if t.regime == regime):
            value = model_value(target, measured)
            rows.append({"regime": regime, "figure": target.label, "model": value, "published": target.published,
                         "model/published": value / target.published, "tolerance": target.tolerance_text(),
                         "ok": target.within(value), "source": target.source, "note": target.note,
                         "wall_seconds": measured["wall_seconds"]})
    return rows


def _fmt(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 1 else f"{value:,.0f}"


def cmd_calibration(args: argparse.Namespace) -> int:
    regimes = REGIMES if args.regime == "both" else (args.regime,)
    rows = calibration_table(regimes, list(args.set or []), args.seed)
    if args.json:
        print(json.dumps(rows))
    else:
        print("Annual figures after warm-up: model vs published (ok = within tolerance)")
        print_table([(r["regime"], r["figure"], _fmt(r["model"]), _fmt(r["published"]), f"{r['model/published']:.2f}",
                      r["tolerance"], "ok" if r["ok"] else "MISS", r["source"]) for r in rows],
                    ("regime", "figure", "model", "published", "ratio", "tolerance", "ok", "source"))
        misses = [r for r in rows if not r["ok"]]
        if misses:
            print(f"{len(misses)} target(s) outside tolerance; see docs/calibration.md")
    return 0


def register(commands: Any) -> None:
    """Add `tipline calibration` to the CLI."""
    parser = commands.add_parser(
        "calibration", help="model's annual figures beside the published ones (2023 and 2024 regimes)",
        description="Run the calibration scenarios (calibration_2023: no bundling; calibration_2024: bundling) "
                    "for a warm-up plus one year and print the model's annual figures beside the published "
                    "ones, with sources and tolerances (see docs/calibration.md).")
    parser.add_argument("--regime", choices=("2023", "2024", "both"), default="both",
                        help="which regime to run (default: both; about 20 s of CPU each)")
    add_set_option(parser)
    parser.add_argument("--seed", type=int, help="root seed (default: the scenario's run.seed)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.set_defaults(func=cmd_calibration)
