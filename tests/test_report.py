"""``tipline report``: readers for run, compare and sweep results (small synthetic data made here, sweeps
stored with the sweep store itself), the figures' data, the staffing curve, several inputs at once, the
self-contained HTML, and the static PNG/SVG/PDF files drawn with the local Chromium."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboards import report as rp
from dashboards.report import headlines, inputs, result_figures, style, summaries, sweep_figures
from dashboards.sankey import balanced_flows, route_specific_flows, sankey_figure
from model import __version__, load_scenario
from model.cli import main
from model.experiments import mean_interval
from model.metrics import METRICS
from model.sweeps.designs import MANIFEST_FORMAT
from model.sweeps.store import ResultStore
from tests.conftest import SMALL

SMALL_SET = [arg for item in SMALL for arg in ("--set", item)]
WINDOWS = (30, 90, 180, 365)
STAFF = (20, 34, 60)
REPS = 4


STAGES = ("ncmec", "agency_queue", "warrant", "identification", "drafting", "mlat", "closed_unworked")


def synthetic_sweep(seed: int = 0, identical_staff: bool = False) -> pd.DataFrame:
    """Rows like a sweep's: two factors, replications, US and foreign rates that fall with window and staff,
    noise, and where the evidence was lost. `identical_staff`: the two largest staff levels give identical
    results (their lines coincide)."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in WINDOWS:
        for staff in STAFF:
            for rep in range(REPS):
                effective = min(staff, STAFF[1]) if identical_staff else staff
                noise = np.random.default_rng([seed, w, effective, rep]).normal(0, 0.02) if identical_staff else \
                    rng.normal(0, 0.02)
                us = float(np.clip(0.6 * np.exp(-w / 150) * (34 / effective) + noise, 0, 1))
                foreign = float(np.clip(0.9 * np.exp(-w / 400) + noise, 0, 1))
                row = {"retention.window_days": w, "law_enforcement.investigators": staff, "ncmec.analysts": 2,
                       "replication": rep, "seed": 1000 + rep, "point": WINDOWS.index(w) * len(STAFF) +
                       STAFF.index(staff), "scenario": "x_platform",
                       "evidence_lost_rate_us": us, "evidence_lost_rate_foreign": foreign,
                       "evidence_lost_rate": (us * 5000 + foreign * 2000) / 7000,
                       "evidence_lost_us": int(us * 5000), "evidence_lost_foreign": int(foreign * 2000),
                       "evidence_lost": int(us * 5000) + int(foreign * 2000), "reports": 100_000}
                for stage in STAGES:
                    us_at = {"agency_queue": 0.6, "identification": 0.3, "drafting": 0.1}.get(stage, 0.0)
                    row[f"evidence_lost_us_at_{stage}"] = us_at * row["evidence_lost_us"]
                    row[f"evidence_lost_at_{stage}"] = row[f"evidence_lost_us_at_{stage}"] + (
                        row["evidence_lost_foreign"] if stage == "mlat" else 0)
                rows.append(row)
    return pd.DataFrame(rows)


SOBOL = pd.DataFrame({"parameter": ["retention.window_days", "law_enforcement.investigators", "demand.scale"],
                      "S1": [0.52, 0.31, 0.04], "S1_conf": [0.05, 0.04, 0.02],
                      "ST": [0.61, 0.36, 0.07], "ST_conf": [0.06, 0.05, 0.03]})
FACTORS = ["retention.window_days", "law_enforcement.investigators"]


def manifest(rows: pd.DataFrame, name: str = "window_x_investigators", factors: list[str] = FACTORS,
             base: str = "x_platform", design_rows: pd.DataFrame | None = None) -> dict:
    """A sweep manifest as `tipline sweep` writes it (the parts the report reads, and the design of `rows`,
    or of `design_rows` if some points have no rows: points, replications and seeds, which every read
    checks the rows against)."""
    rows = rows if design_rows is None else design_rows
    points = rows.groupby("point")[list(factors)].first()
    assert list(points.index) == list(range(len(points))), "design points must be numbered 0..n-1"
    seeds = rows.groupby("replication")["seed"].first()
    assert list(seeds.index) == list(range(len(seeds))), "replications must be numbered 0..n-1"
    return {"format": MANIFEST_FORMAT, "tipline_version": __version__,
            "sweep_file": f"scenarios/sweeps/{name}.toml",
            "design": {"factors": list(factors), "kind": "grid", "spec": {"name": name, "base": base},
                       "points": points.to_dict("records"), "replications": len(seeds),
                       "seeds": [int(s) for s in seeds], "runs": len(points) * len(seeds)},
            "base_scenario": load_scenario(base).model_dump(mode="json")}


def write_sweep(directory: Path, rows: pd.DataFrame, chunks: int = 2, **kwargs: Any) -> Path:
    """A sweep directory written by the sweep store itself: manifest and Parquet chunks, one row per run."""
    design = manifest(rows, **kwargs)["design"]
    store = ResultStore.create(directory, manifest(rows, **kwargs))
    for run_id, row in enumerate(rows.to_dict("records")):
        store.add({"run_id": row["point"] * design["replications"] + row["replication"], **row})
        if (run_id + 1) % -(-len(rows) // chunks) == 0:
            store.flush()
    store.flush()
    return directory


FLOWS = [("X", "NCMEC", 1000), ("NCMEC", "informational", 150), ("NCMEC", "US agencies", 100),
         ("US agencies", "closed: not actionable", 60), ("US agencies", "US: platform legal process needed", 40),
         ("US: platform legal process needed", "served in time", 30),
         ("US: platform legal process needed", "lost: agency queue", 10), ("NCMEC", "foreign agencies", 750),
         ("foreign agencies", "closed: not actionable", 700), ("foreign agencies", "foreign: platform legal process needed", 50),
         ("foreign: platform legal process needed", "served in time", 10),
         ("foreign: platform legal process needed", "lost: mlat", 40)]


def compare_payload(headline: bool = True, flows: bool = True) -> dict[str, Any]:
    """A `tipline compare --json` payload; `headline` and `flows` are the newer keys (optional)."""
    metrics = {
        "evidence_lost_rate_us": {"a": 0.2, "b": 0.05, "difference": -0.15, "ci_low": -0.17, "ci_high": -0.13},
        "evidence_lost_rate_foreign": {"a": 0.8, "b": 0.4, "difference": -0.4, "ci_low": -0.45, "ci_high": -0.35},
        "evidence_lost_rate": {"a": 0.31, "b": 0.08, "difference": -0.23, "ci_low": -0.25, "ci_high": -0.21},
        "evidence_lost_us": {"a": 1200.0, "b": 300.0, "difference": -900.0, "ci_low": -950.0, "ci_high": -850.0},
        "evidence_lost": {"a": 2000.0, "b": 700.0, "difference": -1300.0, "ci_low": -1350.0, "ci_high": -1250.0},
        "median_days_to_legal_process_us": {"a": 40, "b": 40, "difference": 0, "ci_low": None, "ci_high": None},
    }
    for stage in STAGES:
        us = {"agency_queue": 1000.0, "identification": 200.0}.get(stage, 0.0)
        foreign = 800.0 if stage == "mlat" else 0.0
        metrics[f"evidence_lost_us_at_{stage}"] = {"a": us, "b": us / 4, "difference": -0.75 * us}
        metrics[f"evidence_lost_at_{stage}"] = {"a": us + foreign, "b": (us + foreign) / 4,
                                                "difference": -0.75 * (us + foreign)}
    payload: dict[str, Any] = {"a": "baseline_90day", "b": "report_act_1yr", "replications": 5,
                               "seeds": [1, 2, 3, 4, 5], "confidence": 0.95, "metrics": metrics}
    if headline:
        payload["headline"] = "US evidence lost: 20.0% under baseline_90day vs 5.0% under report_act_1yr."
    if flows:
        payload["flows"] = {"a": [list(edge) for edge in FLOWS], "b": [list(edge) for edge in FLOWS]}
    return payload


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    """A sweep directory (rows in two Parquet chunks, the manifest) with Sobol indices as `tipline analyze` writes them."""
    write_sweep(tmp_path / "sweep", synthetic_sweep())
    (tmp_path / "sweep" / "analysis").mkdir()
    SOBOL.to_csv(tmp_path / "sweep" / "analysis" / "sobol.csv", index=False)
    return tmp_path / "sweep"


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real `tipline run --out` directories (30- and 365-day windows) and a saved compare JSON."""
    root = tmp_path_factory.mktemp("runs")
    for window in (30, 365):
        assert main(["run", "x_platform", *SMALL_SET, "--set", f"retention.window_days={window}",
                     "--out", str(root / f"window_{window}")]) == 0
    (root / "compare.json").write_text(json.dumps(compare_payload()))
    return root


# --- readers ---------------------------------------------------------------------------------------------

def test_discover_finds_every_kind_of_result(sweep_dir, runs_dir):
    found = rp.discover(sweep_dir)
    sweep, = found.sweeps
    assert len(sweep.rows) == len(WINDOWS) * len(STAFF) * REPS and sweep.failed == 0
    assert list(sweep.sobol["parameter"]) == list(SOBOL["parameter"])  # analysis/sobol.csv
    assert sweep.manifest == manifest(synthetic_sweep()) and sweep.factors == FACTORS
    assert sweep.base_name == "x_platform" and sweep.name == "window_x_investigators"
    assert sweep.base_value("law_enforcement.investigators") == load_scenario("x_platform").law_enforcement.investigators
    assert not found.runs and not found.compares and not found.sobols
    found = rp.discover(runs_dir)
    assert sorted(r.name for r in found.runs) == ["window_30", "window_365"]
    assert {r.window_days for r in found.runs} == {30.0, 365.0}  # from the validated scenario.toml
    assert all(r.scenario.retention.window_days == r.window_days for r in found.runs)
    assert all(r.timeseries is not None and len(r.timeseries) > 240 for r in found.runs)
    assert all(r.flows and r.flows[0][1] == "NCMEC" for r in found.runs)  # flows.csv
    assert [name for name, _ in found.compares] == ["compare"]
    assert not found.sweeps  # the runs' timeseries.parquet are not sweep rows


def test_readers_are_tolerant(tmp_path):
    # Sobol without confidence columns, with the parameter as index; a CSV time series; an old summary
    # (pooled rate only, no where-lost keys, no flows.csv); unrelated files.
    SOBOL[["parameter", "S1", "ST"]].set_index("parameter").to_parquet(tmp_path / "sobol.parquet")
    run = tmp_path / "one"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"evidence_lost_rate": 0.2, "evidence_lost": 10}))
    pd.DataFrame({"day": [0, 1, 2], "evidence_lost": [0, 4, 10]}).to_csv(run / "timeseries.csv", index=False)
    (tmp_path / "notes.json").write_text(json.dumps({"hello": 1}))
    pd.DataFrame({"x": [1, 2]}).to_parquet(tmp_path / "other.parquet")
    found = rp.discover(tmp_path)
    assert not found.sweeps and not found.compares  # other.parquet and notes.json are not results
    (_, sobol), = found.sobols
    assert "S1_conf" not in sobol.columns and len(sobol) == 3
    report = rp.build_report(tmp_path)
    names = [f.name for f in report.figures]
    assert names == ["sobol_indices", "timeseries_evidence_lost"]  # no backlog columns: no backlog figure
    lost = next(f for f in report.figures if f.name == "timeseries_evidence_lost").figure
    assert list(lost.data[0].y) == [0, 4, 10]
    assert "pooled" in report.headlines[0]  # an old summary says its rate is pooled
    table = report.tables[0]
    assert list(table.frame.columns[:3]) == ["run", "window (days)", "pooled US + foreign: evidence lost (%)"]
    assert table.frame.iloc[0, 2] == pytest.approx(20.0)  # in percent


def test_flows_csv_is_read_and_checked(tmp_path):
    (tmp_path / "flows.csv").write_text('from,to,reports\n"X","NCMEC",5\n"NCMEC","informational",5\n')
    assert inputs.read_flows(tmp_path / "flows.csv") == [("X", "NCMEC", 5), ("NCMEC", "informational", 5)]
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(rp.ReportError, match="from, to, reports"):
        inputs.read_flows(tmp_path / "bad.csv")


@pytest.mark.parametrize("content, message", [
    (None, "no results found"),
    ("{broken", "not readable JSON"),
])
def test_bad_inputs_are_reported(tmp_path, content, message):
    if content is not None:
        (tmp_path / "compare.json").write_text(content)
    with pytest.raises(rp.ReportError, match=message):
        rp.build_report(tmp_path)


def test_failed_sweep_runs_are_left_out(tmp_path):
    rows = synthetic_sweep()
    failed = rows.iloc[:3].assign(error="ValueError: boom", evidence_lost_rate_us=np.nan, evidence_lost_rate=np.nan,
                                  replication=REPS + np.arange(3), seed=1000 + REPS + np.arange(3))  # more runs
    write_sweep(tmp_path / "sweep", pd.concat([rows.assign(error=None), failed], ignore_index=True))
    sweep, = rp.discover(tmp_path / "sweep").sweeps
    assert len(sweep.rows) == len(rows) and sweep.failed == 3
    report = rp.build_report(tmp_path / "sweep")
    assert set(report.tables[0].frame["runs"]) == {REPS}
    assert "(3 failed runs left out)" in report.headlines[0]


def test_report_reads_a_real_tipline_sweep(tmp_path):
    """End to end with `tipline sweep` (built by the sweep module), if this checkout has it."""
    pytest.importorskip("model.sweeps")
    sweep = tmp_path / "tiny.toml"
    sweep.write_text('''name = "tiny"
base = "x_platform"
design = "grid"
replications = 2
seed = 5

[[factors]]
key = "retention.window_days"
values = [30, 365]

[[factors]]
key = "law_enforcement.investigators"
values = [20, 40]
''')
    out = tmp_path / "sweep"
    assert main(["sweep", str(sweep), "--out", str(out), "--days", "150", "--workers", "1", "--set", "run.warmup_days=20",
                 "--set", "platforms.X.reports_per_day=200", "--set", "foreign.investigators=240"]) == 0
    report = rp.build_report(out)
    assert [f.name for f in report.figures] == ["evidence_lost_vs_window", "staffing_curve",
                                                "heatmap_investigators_x_window", "evidence_lost_by_stage_sweep"]
    assert 'base scenario "x_platform"' in report.figures[0].caption and '"tiny"' in report.figures[0].caption
    # the base scenario's 200 investigators are not among the sweep's levels (20, 40): said, not invented
    assert "today's staffing (200) is not one of the levels" in report.headlines[1]
    assert "lies outside the sweep" in report.figures[1].caption and not report.figures[1].figure.layout.shapes
    rows = rp.discover(out).sweeps[0].rows
    assert len(rows) == 8
    heat = report.figures[2].figure.data[0]
    expected = rows.pivot_table(index="law_enforcement.investigators", columns="retention.window_days",
                                values="evidence_lost_rate_us")
    np.testing.assert_allclose(np.array(heat.z, float), 100 * expected.to_numpy())
    assert np.all(expected[30] >= expected[365])  # a longer window never loses more on the same draws


def test_sobol_without_required_columns_is_an_error(tmp_path):
    pd.DataFrame({"name": ["a"], "first": [0.1]}).to_csv(tmp_path / "sobol.csv", index=False)
    with pytest.raises(rp.ReportError, match="parameter, S1, ST"):
        rp.discover(tmp_path)


# --- statistics and figures ------------------------------------------------------------------------------------

def test_means_and_intervals_come_from_the_projects_helper():
    """The report's confidence intervals are model.experiments.mean_interval's (a Student-t interval)."""
    from scipy import stats

    rows = synthetic_sweep()
    table = summaries.window_summary(rows, "evidence_lost_rate_us", "law_enforcement.investigators")
    first = table.iloc[0]
    chosen = rows[(rows["retention.window_days"] == first["retention.window_days"])
                  & (rows["law_enforcement.investigators"] == first["law_enforcement.investigators"])]
    interval = mean_interval(chosen["evidence_lost_rate_us"].to_numpy())
    assert (first["mean"], first["ci_low"], first["ci_high"], first["n"]) == (interval.mean, interval.low,
                                                                             interval.high, REPS)
    x = chosen["evidence_lost_rate_us"]
    assert (first["ci_low"], first["ci_high"]) == pytest.approx(stats.t.interval(0.95, REPS - 1, loc=x.mean(),
                                                                                 scale=stats.sem(x)))
    assert not hasattr(summaries, "mean_ci")


def test_labels_and_units_come_from_the_metric_list_and_the_schema():
    assert set(style.METRIC_TITLES) <= set(METRICS)  # every column the tables show is a metric
    assert style.label("evidence_lost_rate_us") == "US: evidence lost (%)"
    assert style.label("median_days_to_legal_process_us") == "US: median days to legal process (days)"
    assert style.label("mean_days_to_review_us") == f"{METRICS['mean_days_to_review_us'].meaning} (days)"
    assert style.label("retention.window_days") == "preservation window (days)"  # unit from the schema
    assert style.label("law_enforcement.investigators") == "US investigators (FTE)"
    assert style.label("demand.scale") == "report volume (x)"


def test_window_figure_leads_with_us_and_shows_foreign_beside_it():
    rows = synthetic_sweep()
    fig = sweep_figures.window_figure(rows, "evidence_lost_rate_us", FACTORS)
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    bands = [t for t in fig.data if t.fill == "toself"]
    assert len(lines) == 2 * len(STAFF) and len(bands) == 2 * len(STAFF)
    for metric, axis in (("evidence_lost_rate_us", "x"), ("evidence_lost_rate_foreign", "x2")):
        panel = [t for t in lines if (t.xaxis or "x") == axis]
        expected = rows.groupby(["law_enforcement.investigators", "retention.window_days"])[metric].mean()
        for line, staff in zip(panel, STAFF, strict=True):
            assert list(line.x) == list(WINDOWS)
            np.testing.assert_allclose(line.y, 100 * expected.loc[staff].to_numpy())  # in %
    for band, line in zip(bands, lines, strict=True):  # the band encloses the mean
        upper, lower = np.array(band.y[:len(WINDOWS)]), np.array(band.y[len(WINDOWS):][::-1])
        assert np.all(lower <= np.array(line.y)) and np.all(np.array(line.y) <= upper) and np.all(upper > lower)
    assert fig.layout.xaxis.title.text == "preservation window (days)"
    assert fig.layout.yaxis.title.text == "US: evidence lost (%)"
    assert [a.text for a in fig.layout.annotations] == ["US cases", "foreign cases (MLAT)"]
    assert [t.showlegend for t in lines] == [True] * len(STAFF) + [False] * len(STAFF)  # one legend entry a level


def test_identical_lines_are_told_apart(tmp_path):
    rows = synthetic_sweep(identical_staff=True)
    table = summaries.window_summary(rows, "evidence_lost_rate_us", "law_enforcement.investigators")
    assert summaries.coinciding_levels(table, "law_enforcement.investigators") == [[34, 60]]
    fig = sweep_figures.window_figure(rows, "evidence_lost_rate_us", FACTORS)
    lines = [t for t in fig.data if t.mode == "lines+markers" and (t.xaxis or "x") == "x"]
    assert lines[2].name.endswith("= 60 (same as 34)")
    assert lines[1].line.dash != lines[2].line.dash and lines[1].marker.symbol != lines[2].marker.symbol
    caption = rp.build_report(write_sweep(tmp_path / "sweep", rows)).figures[0].caption
    assert "US investigators (FTE) = 34, 60 coincide" in caption


def test_heatmap_is_the_mean_on_the_staffing_window_grid():
    rows = synthetic_sweep()
    fig = sweep_figures.heatmap_figure(rows, "evidence_lost_rate_us", "law_enforcement.investigators")
    us, foreign = fig.data
    for trace, metric in ((us, "evidence_lost_rate_us"), (foreign, "evidence_lost_rate_foreign")):
        pivot = rows.pivot_table(index="law_enforcement.investigators", columns="retention.window_days", values=metric)
        np.testing.assert_allclose(np.array(trace.z, float), 100 * pivot.to_numpy())
    assert list(us.x) == [str(w) for w in WINDOWS] and list(us.y) == [str(s) for s in STAFF]
    assert us.text[0][0].endswith("%")


def test_where_lost_figure_splits_us_and_foreign_by_stage():
    payload = compare_payload()
    sides = [("A", {k: v["a"] for k, v in payload["metrics"].items()}),
             ("B", {k: v["b"] for k, v in payload["metrics"].items()})]
    fig = result_figures.where_lost_figure(sides, "where")
    by = {(t.name, t.xaxis or "x"): list(t.y) for t in fig.data}
    assert by[("agency queue (before review)", "x")] == [1000.0, 250.0]
    assert by[("MLAT / CLOUD Act", "x2")] == [800.0, 200.0]
    assert ("MLAT / CLOUD Act", "x") not in by  # no US case goes through MLAT
    assert fig.layout.barmode == "stack"
    assert result_figures.where_lost_values({"evidence_lost_rate": 0.1}) is None  # older results: no figure


def test_sobol_and_compare_figures_carry_the_input_values():
    fig, _ = sweep_figures.sobol_figure(SOBOL)
    s1, st = fig.data
    assert list(s1.y) == [0.52, 0.31, 0.04] and list(st.y) == [0.61, 0.36, 0.07]
    assert list(s1.error_y.array) == [0.05, 0.04, 0.02]
    assert s1.x[0] == "preservation window (days)"
    fig = result_figures.compare_figure("compare", compare_payload())
    a, b = fig.data
    assert list(a.x) == ["US cases", "foreign cases (MLAT)"]  # US first; the pooled rate is not drawn
    assert list(a.y) == pytest.approx([20.0, 80.0]) and list(b.y) == pytest.approx([5.0, 40.0])
    # error bar = CI of the difference: +2/-2 and +5/-5 percentage points around B
    assert list(b.error_y.array) == pytest.approx([2.0, 5.0]) and list(b.error_y.arrayminus) == pytest.approx([2.0, 5.0])


def test_compare_headline_and_flows_are_optional():
    assert headlines.compare_headline(compare_payload()) == compare_payload()["headline"]
    built = headlines.compare_headline(compare_payload(headline=False))
    assert built.startswith("Evidence lost before legal process reached the platform, US cases: 20.0% under "
                            "baseline_90day vs 5.0% under report_act_1yr (difference -15.0 points, 95% CI -17.0 to "
                            "-13.0 points); foreign cases (MLAT): 80.0%")


def test_a_run_that_had_not_settled_says_so_in_its_headline():
    summary = {"evidence_lost_rate_us": 0.25, "evidence_lost_us": 500, "legal_process_needed_us": 2000,
               "evidence_lost_rate_foreign": 0.8, "evidence_lost_foreign": 80, "legal_process_needed_foreign": 100,
               "evidence_lost_rate_us_first_half": 0.20, "evidence_lost_rate_us_second_half": 0.30}
    assert headlines.run_headline("x", summary).endswith(
        "Not settled: the US loss rose from 20.0% to 30.0% between the halves of the counted period (docs/ODD.md, "
        "warm-up).")
    settled = {**summary, "evidence_lost_rate_us_second_half": 0.21}
    assert "settled" not in headlines.run_headline("x", settled)


def test_sankey_keeps_us_and_foreign_apart_and_conserves_reports():
    fig = sankey_figure(FLOWS, "flows")
    sankey = fig.data[0]
    labels = list(sankey.node.label)
    assert "US: served in time: 30" in labels and "foreign: served in time: 10" in labels
    assert "US: lost at agency queue: 10" in labels and "foreign: lost at MLAT: 40" in labels
    assert "US: legal process needed: 40" in labels  # shortened node name
    assert not any(label.startswith("served in time") for label in labels)
    assert sum(sankey.link.value) == sum(n for _, _, n in FLOWS)
    y = dict(zip(labels, sankey.node.y, strict=True))
    assert y["US agencies: 100"] < y["foreign agencies: 750"]  # US on top
    red = [c for label, c in zip(labels, sankey.node.color, strict=True) if "lost" in label]
    assert set(red) == {"#b2182b"}


def test_sankey_draws_undecided_reports_where_they_wait():
    live = [("X", "NCMEC", 100), ("NCMEC", "informational", 20), ("NCMEC", "US agencies", 50),
            ("US agencies", "US: platform legal process needed", 30),
            ("US: platform legal process needed", "served in time", 10), ("NCMEC", "undecided", 60)]
    edges = balanced_flows(route_specific_flows(live))
    assert ("NCMEC", "undecided", 60) not in edges
    assert ("NCMEC", "undecided so far (at NCMEC)", 30) in edges
    assert ("US agencies", "US: undecided so far", 20) in edges
    assert ("US: platform legal process needed", "US: undecided so far", 20) in edges


def test_report_from_sweep_has_every_figure_and_table(sweep_dir):
    report = rp.build_report(sweep_dir)
    assert [f.name for f in report.figures] == ["evidence_lost_vs_window", "staffing_curve",
                                                "heatmap_investigators_x_window", "evidence_lost_by_stage_sweep",
                                                "sobol_indices"]
    assert report.headlines[0].startswith('Sweep: sweep "window_x_investigators" on base scenario "x_platform"')
    table, = report.tables
    frame = table.frame
    assert len(frame) == len(WINDOWS) * len(STAFF) and set(frame["runs"]) == {REPS}
    assert list(frame.columns[:4]) == ["design point", "preservation window (days)", "US investigators (FTE)",
                                       "US cases: mean (%)"]
    assert "foreign cases (MLAT): mean (%)" in frame.columns
    first = frame.iloc[0]
    rows = synthetic_sweep()
    chosen = rows[(rows["retention.window_days"] == WINDOWS[0]) & (rows["law_enforcement.investigators"] == STAFF[0])]
    assert first["US cases: mean (%)"] == pytest.approx(100 * chosen["evidence_lost_rate_us"].mean())  # %, not 0-1
    assert "x_platform" in table.caption
    html = table.html()
    assert f"<td>{100 * chosen['evidence_lost_rate_us'].mean():.1f}%</td>" in html
    assert "<th></th>" not in html  # every column is labelled (no unnamed index)


def test_report_from_runs_and_compare(runs_dir):
    report = rp.build_report(runs_dir)
    names = [f.name for f in report.figures]
    assert names[:5] == ["compare_compare", "compare_compare_by_stage", "compare_compare_flows_a",
                         "compare_compare_flows_b", "runs_evidence_lost_vs_window"]
    assert {"runs_evidence_lost_by_stage", "flows_window_30", "flows_window_365", "timeseries_evidence_lost",
            "timeseries_backlog_window_30"} <= set(names)
    assert report.headlines[0] == compare_payload()["headline"]
    assert report.headlines[1].startswith("window_30 (30-day window): evidence lost, US cases ")
    found = rp.discover(runs_dir)
    by_name = {r.name: r for r in found.runs}
    short, long_ = by_name["window_30"], by_name["window_365"]
    assert short.summary["evidence_lost_rate_us"] > long_.summary["evidence_lost_rate_us"]
    lost = next(f for f in report.figures if f.name == "timeseries_evidence_lost")
    assert lost.title == "Cumulative US evidence lost over time"   # US first: the pooled series only for old results
    assert list(lost.figure.data[0].y) == list(short.timeseries["evidence_lost_us"])
    points = next(f for f in report.figures if f.name == "runs_evidence_lost_vs_window").figure.data[0]
    assert points.name == "US cases" and list(points.x) == [30.0, 365.0]
    assert list(points.y) == pytest.approx([100 * short.summary["evidence_lost_rate_us"],
                                            100 * long_.summary["evidence_lost_rate_us"]])
    flows = next(f for f in report.figures if f.name == "flows_window_30").figure.data[0]
    assert f"X: {short.summary['reports']:,}" in list(flows.node.label)
    served = next(label for label in flows.node.label if label.startswith("US: served in time"))
    assert served == f"US: served in time: {short.summary['legal_process_served_us']:,}"
    stage = next(f for f in report.figures if f.name == "runs_evidence_lost_by_stage").figure
    us_total = sum(t.y[0] for t in stage.data if (t.xaxis or "x") == "x")
    assert us_total == short.summary["evidence_lost_us"]
    compare, runs = report.tables
    assert compare.frame.iloc[0]["metric"] == "US: evidence lost" and compare.frame.iloc[0]["A"] == "20.0%"
    assert compare.frame.iloc[0]["B - A"] == "-15.0" and compare.frame.iloc[0]["unit"].startswith("%")
    assert list(runs.frame.columns[:3]) == ["run", "window (days)", "US: evidence lost (%)"]
    assert runs.frame.iloc[0]["US: evidence lost (%)"] == pytest.approx(100 * short.summary["evidence_lost_rate_us"])


def test_compare_headline_foreign_and_differs_are_shown(tmp_path):
    payload = {**compare_payload(), "headline_foreign": "Foreign (MLAT) evidence lost: 80.0% vs 40.0%.",
               "differs": ["ncmec.analysts"]}
    (tmp_path / "compare.json").write_text(json.dumps(payload))
    report = rp.build_report(tmp_path)
    assert report.headlines == [payload["headline"], payload["headline_foreign"]]
    assert "also differ in 1 keys that are not policy or staffing (ncmec.analysts)" in report.figures[0].caption


def test_compare_without_headline_or_flows(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps(compare_payload(headline=False, flows=False)))
    report = rp.build_report(tmp_path)
    assert [f.name for f in report.figures] == ["compare_old", "compare_old_by_stage"]
    assert report.headlines[0].startswith("Evidence lost before legal process reached the platform, US cases: 20.0%")


# --- the staffing curve ---------------------------------------------------------------------------------------------

LEVELS = (50, 100, 200, 400)  # x_platform has 200 US investigators: "today"


def synthetic_staffing() -> pd.DataFrame:
    """Rows like `tipline sweep staffing_curve`: investigators x the two retention rules x 3 replications."""
    rng = np.random.default_rng(3)
    rows = []
    for point, (staff, window) in enumerate((s, w) for s in LEVELS for w in (90, 365)):
        for rep in range(3):
            us = float(np.clip(0.8 * np.exp(-staff / 150) * (1.0 if window == 90 else 0.4) + rng.normal(0, 0.02), 0, 1))
            rows.append({"point": point, "replication": rep, "seed": 100 + rep, "law_enforcement.investigators": staff,
                         "retention.window_days": window, "evidence_lost_rate_us": us,
                         "evidence_lost_rate_foreign": 0.5, "evidence_lost_rate": us})
    return pd.DataFrame(rows)


def test_staffing_curve_draws_us_evidence_lost_against_investigators_per_window(tmp_path):
    from dashboards.labels import rule_color
    from model.metrics import format_metric

    rows = synthetic_staffing()
    sweep = write_sweep(tmp_path / "staffing", rows, name="staffing_curve",
                        factors=["law_enforcement.investigators", "retention.window_days"])
    report = rp.build_report(sweep)
    item = next(f for f in report.figures if f.name == "staffing_curve")
    fig = item.figure
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    bands = [t for t in fig.data if t.fill == "toself"]
    assert [t.name for t in lines] == ["90-day window", "365-day window"] and len(bands) == 2
    assert [t.line.color for t in lines] == [rule_color(90), rule_color(365)]  # red: 90 days, blue: one year
    for line, band, window in zip(lines, bands, (90, 365), strict=True):
        assert list(line.x) == list(LEVELS)
        chosen = rows[rows["retention.window_days"] == window]
        intervals = [mean_interval(chosen[chosen["law_enforcement.investigators"] == n]["evidence_lost_rate_us"],
                                   bounds=(0.0, 1.0)) for n in LEVELS]      # a rate's band stays within 0-100%
        np.testing.assert_allclose(line.y, [100 * i.mean for i in intervals])  # in %
        np.testing.assert_allclose(band.y, [100 * i.high for i in intervals] + [100 * i.low for i in intervals][::-1])
    assert fig.layout.xaxis.title.text == "US investigators (FTE)"
    assert fig.layout.yaxis.title.text == "US: evidence lost (%)"
    today, = fig.layout.shapes  # today's staffing, from the manifest's base scenario
    assert today.x0 == today.x1 == 200 and fig.layout.annotations[0].text == "today: 200 FTE"
    assert "the base scenario's US investigators (FTE) = 200" in item.caption
    at_today = rows[rows["law_enforcement.investigators"] == 200]
    texts = []
    for window in (90, 365):
        i = mean_interval(at_today[at_today["retention.window_days"] == window]["evidence_lost_rate_us"])
        texts.append(f"{format_metric('evidence_lost_rate_us', i.mean)} (95% CI "
                     f"{100 * i.low:.1f}-{format_metric('evidence_lost_rate_us', i.high)}) under the {window}-day window")
    headline = next(h for h in report.headlines if h.startswith("Staffing curve"))
    assert headline == ('Staffing curve: sweep "staffing_curve" on base scenario "x_platform", 4 levels of US '
                        "investigators from 50 to 400. At today's 200 US investigators, US evidence lost "
                        + " and ".join(texts) + ".")


def test_a_staffing_sweep_at_one_window_draws_one_line(tmp_path):
    rows = synthetic_staffing()
    rows = rows[rows["retention.window_days"] == 90].drop(columns="retention.window_days")
    rows = rows.assign(point=rows["point"] // 2)  # the design points of a one-factor sweep
    report = rp.build_report(write_sweep(tmp_path / "s", rows, factors=["law_enforcement.investigators"]))
    assert [f.name for f in report.figures] == ["staffing_curve"]
    line, = [t for t in report.figures[0].figure.data if t.mode == "lines+markers"]
    assert line.name == f"{load_scenario('x_platform').retention.window_days}-day window"  # the base scenario's


# --- several inputs ------------------------------------------------------------------------------------------------

def test_report_takes_several_inputs(runs_dir, tmp_path):
    sweep = write_sweep(tmp_path / "sweeps" / "a", synthetic_sweep())
    other = write_sweep(tmp_path / "sweeps" / "b", synthetic_staffing(), name="staffing_curve",
                        factors=["law_enforcement.investigators", "retention.window_days"])
    inputs_ = [runs_dir / "window_30", runs_dir / "window_365", runs_dir / "compare.json", sweep]
    report = rp.build_report(inputs_)
    names = [f.name for f in report.figures]
    assert {"evidence_lost_vs_window", "compare_compare", "runs_evidence_lost_vs_window", "flows_window_30"} <= set(names)
    assert f"{sweep} (sweep, {len(synthetic_sweep()):,} runs)" in report.sources
    assert len(report.sources) == 4 and report.title == "tipline report: window_30, window_365, compare.json, a"
    # a directory holding several sweeps: each drawn, figure names kept apart
    both = rp.build_report(tmp_path / "sweeps")
    names = [f.name for f in both.figures]
    assert names.count("evidence_lost_vs_window") == 1 and "evidence_lost_vs_window_2" in names
    assert "staffing_curve" in names and "staffing_curve_2" in names
    out = tmp_path / "r.html"
    assert main(["report", *map(str, inputs_), str(other), "--out", str(out)]) == 0
    html = out.read_text()
    assert "window_30" in html and "staffing_curve" in html and "compare_compare" in html
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # written atomically, nothing left


def test_an_input_named_on_the_command_line_must_be_a_result(runs_dir, tmp_path, capsys):
    (tmp_path / "notes.json").write_text(json.dumps({"hello": 1}))
    (tmp_path / "notes.txt").write_text("hello")
    out = str(tmp_path / "r.html")
    assert main(["report", str(runs_dir / "compare.json"), str(tmp_path / "notes.json"), "--out", out]) == 2
    assert "notes.json: not a `tipline compare --json` file" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "notes.txt"), "--out", out]) == 2
    assert "notes.txt: not a results file" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


# --- HTML and static files ----------------------------------------------------------------------------------------

FIGURE_DATA = re.compile(r'<script type="application/json" class="figure-data" data-target="(fig-\d+)" '
                         r'data-name="([^"]+)">(.*?)</script>', re.S)


def embedded_figures(html: str) -> dict[str, dict[str, Any]]:
    return {name: json.loads(data.replace("<\\/", "</")) for _, name, data in FIGURE_DATA.findall(html)}


def test_html_is_self_contained_and_holds_the_data(sweep_dir, tmp_path):
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(sweep_dir), "--out", str(out)]) == 0
    html = out.read_text()
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html), "external resource"
    assert "Plotly.newPlot" in html and len(html) > 3_000_000  # plotly.js embedded
    figures = embedded_figures(html)
    assert list(figures) == ["evidence_lost_vs_window", "staffing_curve", "heatmap_investigators_x_window",
                             "evidence_lost_by_stage_sweep", "sobol_indices"]
    for fig in figures.values():
        assert fig["data"] and all(t.get("x") is not None or t.get("z") is not None for t in fig["data"])
    z = np.array(figures["heatmap_investigators_x_window"]["data"][0]["z"], float)
    rows = synthetic_sweep()
    assert z.max() == pytest.approx(100 * rows.groupby(["law_enforcement.investigators", "retention.window_days"])
                                    ["evidence_lost_rate_us"].mean().max())
    assert "report_act_1yr" not in html  # only what is in the input
    assert ('<ul class="headline"><li>Sweep: sweep &quot;window_x_investigators&quot; on base scenario '
            '&quot;x_platform&quot;') in html


def test_cli_report_bad_input(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    assert "no results found" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "r.html")]) == 2
    SOBOL.to_csv(tmp_path / "sobol.csv", index=False)
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html"), "--formats", "gif"]) == 2
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "x").write_text("taken")
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html"), "--figures", str(tmp_path / "figs")]) == 2
    assert not (tmp_path / "r.html").exists()


def test_static_figures_are_valid_and_not_empty(tmp_path):
    """PNG, SVG and PDF drawn by kaleido with the local Chromium (about 5 s)."""
    from PIL import Image

    source = tmp_path / "in"
    source.mkdir()
    SOBOL.to_csv(source / "sobol.csv", index=False)
    (source / "compare.json").write_text(json.dumps(compare_payload(flows=False)))
    figs = tmp_path / "figs"
    assert main(["report", str(source), "--out", str(tmp_path / "r.html"), "--figures", str(figs)]) == 0
    stems = ("sobol_indices", "compare_compare", "compare_compare_by_stage")
    names = sorted(p.name for p in figs.iterdir())
    assert names == sorted(f"{stem}.{ext}" for stem in stems for ext in ("png", "svg", "pdf"))
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # atomic writers left nothing behind
    for stem, bars in (("sobol_indices", 2 * len(SOBOL)), ("compare_compare", 4)):
        with Image.open(figs / f"{stem}.png") as image:
            assert image.format == "PNG" and image.size == (2 * style.LAYOUT["width"], 2 * style.LAYOUT["height"])
            pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
        colored = np.abs(pixels.astype(int) - pixels.mean(axis=1, keepdims=True)).sum(axis=1) > 60
        assert colored.mean() > 0.02, f"{stem}.png has almost no coloured pixels (empty chart?)"
        svg = ET.parse(figs / f"{stem}.svg").getroot()
        assert svg.tag.endswith("svg")
        points = [e for e in svg.iter() if e.get("class") == "point"]
        assert len(points) == bars and all(e.find("{*}path") is not None or e.get("d") for e in points)
        texts = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
        assert ("preservation window (days)" in texts) if stem == "sobol_indices" else ("baseline_90day" in texts)
        pdf = (figs / f"{stem}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:] and len(pdf) > 3000


# --- what a policy reader sees: units, numbers, the sweep's design, coinciding lines, legends ---------------------

SHARE = "retention.preservation_request_share"
SHARES = (0.1, 0.3, 0.9244)


def share_sweep() -> pd.DataFrame:
    """The synthetic sweep with a share parameter (preservation requests) as its second factor."""
    rows = synthetic_sweep().rename(columns={"law_enforcement.investigators": SHARE})
    rows[SHARE] = rows[SHARE].map(dict(zip(STAFF, SHARES, strict=True)))
    return rows


def cells(table: Any) -> list[tuple[str, str]]:
    """Every (heading, cell text) of a report table, as the HTML shows it."""
    return [(c, table.cell(c, v)) for row in table.frame.itertuples(index=False)
            for c, v in zip(table.frame.columns, row, strict=True)]


NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})*(\.\d)?%?$")  # thousands separators, at most one decimal


def test_every_share_under_a_percent_heading_is_in_percent(runs_dir, tmp_path):
    write_sweep(tmp_path / "sweep", share_sweep(), factors=["retention.window_days", SHARE])
    (tmp_path / "compare.json").write_text(json.dumps(compare_payload()))
    report = rp.build_report([tmp_path, runs_dir])
    sweep, compare, _, runs = report.tables
    heading = "2703(f) requests (% of cases needing legal process)"
    assert heading in sweep.frame.columns  # the share factor, in percent like every rate
    assert sorted({text for c, text in cells(sweep) if c == heading}) == ["10.0%", "30.0%", "92.4%"]
    html = report.html()
    assert "0.9244" not in re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    assert "(share)" not in " ".join(str(c) for t in report.tables + report.overview for c in t.frame.columns)
    for table in report.tables:
        for column, text in cells(table):
            if re.search(r"\(%[ )]", column) and text != "-":  # a unit in %: every cell a percent in 0-100
                assert text.endswith("%") and 0 <= float(text.rstrip("%").replace(",", "")) <= 100, (column, text)
    for row in compare.frame.itertuples(index=False):
        if row.unit.startswith("%"):  # a rate: A and B in percent, differences in percentage points
            assert row.A.endswith("%") and row.B.endswith("%") and not row[4].endswith("%")
            assert "percentage points" in row.unit
    assert runs.frame.iloc[0]["US: evidence lost (%)"] > 1  # in percent, not a fraction


def test_numbers_are_written_by_one_helper_for_a_policy_reader(runs_dir, tmp_path):
    from dashboards.report.formats import COUNT, DAYS, LEVEL, PERCENT, POINTS, number

    assert number(92.44, PERCENT) == "92.4%" and number(0.04, PERCENT) == "0.0%"
    assert number(-7.64, POINTS) == "-7.6" and number(7.6, POINTS) == "+7.6" and number(-0.01, POINTS) == "0.0"
    assert number(39_937.5, COUNT) == "39,938" and number(68.5, COUNT) == "69" and number(2.5, COUNT) == "2.5"
    assert number(-65.7, COUNT, signed=True) == "-66" and number(53, COUNT, signed=True) == "+53"
    assert number(108.5, DAYS) == "109" and number(2.45, DAYS) == "2.5" and number(26, DAYS) == "26"
    assert number(200.0, LEVEL) == "200" and number(1.25, LEVEL) == "1.25" and number(1.2, LEVEL) == "1.2"
    assert number(None, COUNT) == number(float("nan"), PERCENT) == "-" and number(-0.0, COUNT) == "0"
    payload = compare_payload()
    payload["metrics"] |= {"reports": {"a": 39_937.5, "b": 39_937.5, "difference": 0.0, "ci_low": 0.0, "ci_high": 0.0},
                           "p90_days_to_legal_process_us": {"a": 108.5, "b": 96.25, "difference": -12.25,
                                                            "ci_low": -20.123, "ci_high": -4.5},
                           "legal_process_served_us": {"a": 582.5, "b": 635.25, "difference": 52.75,
                                                       "ci_low": 40.3, "ci_high": 65.7}}
    (tmp_path / "compare.json").write_text(json.dumps(payload))
    write_sweep(tmp_path / "sweep", synthetic_sweep())
    report = rp.build_report([tmp_path, runs_dir])
    compare = next(t for t in report.tables if t.title.startswith("Comparison"))
    by_metric = {row.metric: row for row in compare.frame.itertuples(index=False)}
    assert (by_metric["counted reports"].A, by_metric["counted reports"].B) == ("39,938", "39,938")
    days = by_metric["US: 90th percentile days to legal process"]
    assert (days.A, days.B, days[4], days[5], days[6]) == ("109", "96", "-12", "-20", "-4.5")
    served = by_metric["US: served in time"]
    assert (served.A, served.B, served[4], served[5], served[6]) == ("583", "635", "+53", "+40", "+66")
    for table in report.tables + report.overview:
        for column, text in cells(table):
            if any(ch.isdigit() for ch in text) and column not in ("sweep setting", "value", "run", "metric"):
                assert NUMBER.match(text), (table.title, column, text)


def test_the_sweep_section_names_its_base_scenario_and_design(sweep_dir, tmp_path):
    report = rp.build_report(sweep_dir)
    design, = report.overview
    items = dict(zip(design.frame["sweep setting"], design.frame["value"], strict=True))
    assert items["base scenario"] == "x_platform"
    assert items["design"].startswith("grid") and items["design points"] == "12 (4 x 3 levels)"
    assert items["replications"].startswith(f"{REPS} per design point") and items["runs"] == "48"
    assert items["factor: preservation window (days)"] == "30, 90, 180, 365"
    assert report.headlines[0].startswith('Sweep: sweep "window_x_investigators" on base scenario "x_platform" '
                                          f"(grid design, 12 design points x {REPS} replications), 48 runs")
    html = report.html()
    assert html.index("<h2>Sweep design: window_x_investigators</h2>") < html.index('class="figure"')
    # a Latin hypercube names its samples; overrides of the base scenario are listed
    rows = synthetic_sweep().query("replication < 2")
    lhs = manifest(rows)
    lhs["design"] |= {"kind": "lhs", "seed": 7, "extra_overrides": ["run.days=200"],
                      "spec": {"name": "lhs_small", "base": "x_platform", "samples": 12, "set": {"run.warmup_days": 30}}}
    store = ResultStore.create(tmp_path / "lhs", lhs)
    for row in rows.to_dict("records"):
        store.add({"run_id": row["point"] * 2 + row["replication"], **row})
    store.flush()
    items = dict(rp.build_report(tmp_path / "lhs").overview[0].frame.to_numpy().tolist())
    assert items["design"].startswith("Latin hypercube") and items["design points"] == "12 (samples = 12)"
    assert items["base scenario"] == "x_platform, with run.warmup_days=30, run.days=200"
    assert items["replications"] == "2 per design point, on common seeds (root seed 7)"


def test_design_points_are_numbered_and_labelled(tmp_path):
    rows = synthetic_sweep()
    table = rp.build_report(write_sweep(tmp_path / "sweep", rows)).tables[0]
    assert table.frame.columns[0] == "design point" and "<th>design point</th>" in table.html()
    expected = rows.groupby(["retention.window_days", "law_enforcement.investigators"])["point"].first().to_numpy()
    assert list(table.frame["design point"]) == list(expected)
    assert "<th></th>" not in table.html()
    # a row that averages over a third factor's design points has no single design point
    rows = pd.concat([rows.assign(**{"ncmec.analysts": a, "point": rows["point"] * 2 + i}) for i, a in enumerate((2, 4))])
    table = rp.build_report(write_sweep(tmp_path / "three", rows,
                                        factors=[*FACTORS, "ncmec.analysts"])).tables[0]
    assert "design point" not in table.frame.columns and "averages over the other factors" in table.caption


def test_coinciding_lines_stay_visible_and_are_named_in_the_legend(tmp_path):
    rows = synthetic_sweep(identical_staff=True)
    rows["evidence_lost_rate_foreign"] = rows.groupby(["retention.window_days", "replication"])[
        "evidence_lost_rate_foreign"].transform("first")  # foreign cases do not depend on US investigators
    fig = sweep_figures.window_figure(rows, "evidence_lost_rate_us", FACTORS)
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    us, foreign = lines[:len(STAFF)], lines[len(STAFF):]
    assert [t.showlegend for t in us] == [True] * len(STAFF)  # one legend entry per level, all shown
    # US: 34 and 60 coincide; the first is drawn wider with larger markers, the second inside it
    assert us[2].name.endswith("(same as 34)")
    assert us[1].marker.size > us[2].marker.size and us[1].line.width > us[2].line.width
    assert us[0].marker.size == us[2].marker.size  # a line that coincides with none keeps the usual size
    sizes = [t.marker.size for t in foreign]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(STAFF)  # concentric markers
    assert len({t.marker.symbol for t in foreign}) == len({t.line.dash for t in foreign}) == len(STAFF)
    note, = [t for t in fig.data if t.showlegend is not False and (t.xaxis or "x") == "x2"]
    assert note.name == "foreign cases (MLAT): all 3 lines coincide (identical means)"
    assert not any(t.x and t.x[0] is not None for t in [note])  # a legend entry only, no data
    caption = rp.build_report(write_sweep(tmp_path / "sweep", rows)).figures[0].caption
    assert "foreign cases (MLAT): the lines for US investigators (FTE) = 20, 34, 60 coincide" in caption


def test_legends_sit_below_the_plot(runs_dir, tmp_path):
    write_sweep(tmp_path / "sweep", synthetic_sweep())
    (tmp_path / "sweep" / "analysis").mkdir()
    SOBOL.to_csv(tmp_path / "sweep" / "analysis" / "sobol.csv", index=False)
    report = rp.build_report([tmp_path, runs_dir])
    assert any(f.name.startswith("timeseries_backlog_") for f in report.figures)
    for item in report.figures:
        entries = [t for t in item.figure.data if t.type in ("scatter", "bar") and t.showlegend is not False]
        if len(entries) > 1:  # a legend: horizontal, under the plot, never beside it
            legend = item.figure.layout.legend
            assert legend.orientation == "h" and legend.y == 0 and legend.yanchor == "bottom", item.name


def test_missing_values_do_not_break_the_page(tmp_path):
    rows = synthetic_sweep()
    rows = rows[~((rows["retention.window_days"] == 30) & (rows["law_enforcement.investigators"] == 20))]
    html = rp.build_report(write_sweep(tmp_path / "sweep", rows, design_rows=synthetic_sweep())).html()

    def no_nan(token: str) -> None:
        raise AssertionError(f"{token} in the figure data: the browser's JSON.parse rejects it")

    for _, _name, data in FIGURE_DATA.findall(html):
        json.loads(data.replace("<\\/", "</"), parse_constant=no_nan)  # a missing heatmap cell is null


def test_an_uncertainty_study_gets_its_section_distribution_drivers_and_region(tmp_path):
    from model.uncertainty import run_study, summarize, write_summary
    from tests.test_uncertainty import THREE, drafting_only

    out = tmp_path / "unc"
    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=drafting_only, out=out)
    write_summary(summarize(study, condition="difference_us<-0.2"), out)
    report = rp.build_report(out)
    names = [f.name for f in report.figures]
    assert names == ["uncertainty_difference", "uncertainty_drivers", "uncertainty_region"]
    assert report.headlines[0].startswith("Over 30 draws of 3 plausible assumptions")
    drivers = report.figures[1].figure.data[0]
    assert list(drivers.y)[-1] == "law_enforcement.drafting_hours"      # the largest bar on top
    region = next(t for t in report.tables if "discovered region" in t.title)
    assert "law_enforcement.drafting_hours is above" in region.frame["region"].iloc[0]
    assert not any(s.startswith(str(out / "a")) for s in report.sources)   # its sweeps are part of the study


def test_an_uncertainty_study_is_shown_with_its_reruns_in_place(tmp_path):
    """Draws rerun because a run had not settled (model/uncertainty/settle.py) are shown as rerun, not as first run."""
    from model.uncertainty import run_study, summarize, write_summary
    from tests.test_uncertainty import THREE, settles_after_a_long_warmup

    out = tmp_path / "unc"
    study = run_study("x_platform", samples=30, only=THREE, workers=1, simulate=settles_after_a_long_warmup, out=out)
    assert study.settling
    write_summary(summarize(study), out)
    shown = rp.build_report(out).figures[0].figure.data[0].x
    assert sorted(shown) == sorted(100 * study.points["difference_us"])


def test_an_uncertainty_study_conditioned_on_calibration_sets_both_answers_side_by_side(tmp_path):
    from model.uncertainty import run_study, summarize, write_summary
    from tests.test_uncertainty import arrests_follow_drafting

    out = tmp_path / "unc"
    study = run_study("x_platform", samples=20, only=["law_enforcement.drafting_hours"], workers=1,
                      simulate=arrests_follow_drafting, out=out)
    summary = summarize(study, calibration="2023")
    write_summary(summary, out)
    table = next(t for t in rp.build_report(out).tables if "draws that reproduce" in t.title)
    kept = summary["calibrated"]["points"]
    assert list(table.frame.columns) == ["outcome (median, 5-95%)", "all 20 draws", f"the {kept} that reproduce the ICAC arrests"]
    assert table.frame.iloc[2, 0] == "US difference B - A (points)"
    median = summary["calibrated"]["difference_us"]["median"]
    assert table.frame.iloc[2, 2].startswith(f"{round(100 * median, 1) + 0.0:+.1f} (")
    assert f"{kept} of 20 (ICAC arrests alone: {kept})" in table.caption
    assert "Not measured by these runs (older runs, or a stand-in model): US referrals, ICAC investigations." in table.caption
    region = next(t for t in rp.build_report(out).tables if t.title == "Where the draws that reproduce the published figures lie")
    assert list(region.frame["assumption"]) == ["law_enforcement.drafting_hours"]   # arrests follow drafting alone
