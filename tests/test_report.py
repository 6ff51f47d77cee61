"""``tipline report``: readers for run, compare and sweep results (small synthetic data made here), the
figures' data, the self-contained HTML, and the static PNG/SVG/PDF files drawn with the local Chromium."""

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
from model.cli import main
from tests.conftest import SMALL

SMALL_SET = [arg for item in SMALL for arg in ("--set", item)]
WINDOWS = (30, 90, 180, 365)
STAFF = (20, 34, 60)
REPS = 4


def synthetic_sweep(seed: int = 0) -> pd.DataFrame:
    """Rows like a sweep's: two factors, replications, metrics that fall with window and staff, noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in WINDOWS:
        for staff in STAFF:
            for rep in range(REPS):
                rate = float(np.clip(0.6 * np.exp(-w / 150) * (34 / staff) + rng.normal(0, 0.02), 0, 1))
                rows.append({"retention.window_days": w, "law_enforcement.investigators": staff,
                             "ncmec.analysts": 2, "replication": rep, "seed": 1000 + rep,
                             "evidence_lost_rate": rate, "evidence_lost": int(rate * 5000), "reports": 100_000})
    return pd.DataFrame(rows)


SOBOL = pd.DataFrame({"parameter": ["retention.window_days", "law_enforcement.investigators", "demand.scale"],
                      "S1": [0.52, 0.31, 0.04], "S1_conf": [0.05, 0.04, 0.02],
                      "ST": [0.61, 0.36, 0.07], "ST_conf": [0.06, 0.05, 0.03]})


def compare_payload() -> dict[str, Any]:
    metrics = {
        "evidence_lost_rate": {"a": 0.31, "b": 0.08, "difference": -0.23, "ci_low": -0.25, "ci_high": -0.21},
        "evidence_lost_rate_us": {"a": 0.2, "b": 0.05, "difference": -0.15, "ci_low": -0.17, "ci_high": -0.13},
        "evidence_lost": {"a": 1200.0, "b": 300.0, "difference": -900.0, "ci_low": -950.0, "ci_high": -850.0},
        "median_days_to_legal_process": {"a": 40, "b": 40, "difference": 0, "ci_low": None, "ci_high": None},
    }
    return {"a": "baseline_90day", "b": "report_act_1yr", "replications": 5, "seeds": [1, 2, 3, 4, 5],
            "confidence": 0.95, "metrics": metrics}


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    """A sweep results directory: rows split over two Parquet parts, a manifest, Sobol indices."""
    rows = synthetic_sweep()
    (tmp_path / "rows").mkdir()
    half = len(rows) // 2
    rows.iloc[:half].to_parquet(tmp_path / "rows" / "part-0.parquet", index=False)
    rows.iloc[half:].to_parquet(tmp_path / "rows" / "part-1.parquet", index=False)
    (tmp_path / "manifest.json").write_text(json.dumps({"design": "grid", "runs": len(rows)}))
    SOBOL.to_csv(tmp_path / "sobol.csv", index=False)
    return tmp_path


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
    assert len(found.sweep) == len(WINDOWS) * len(STAFF) * REPS
    assert list(found.sobol["parameter"]) == list(SOBOL["parameter"])
    assert found.manifest == {"design": "grid", "runs": len(found.sweep)}
    assert not found.runs and not found.compares
    found = rp.discover(runs_dir)
    assert sorted(r.name for r in found.runs) == ["window_30", "window_365"]
    assert {r.window_days for r in found.runs} == {30.0, 365.0}
    assert all(r.timeseries is not None and len(r.timeseries) == 241 for r in found.runs)
    assert [name for name, _ in found.compares] == ["compare"]
    assert found.sweep is None  # the runs' timeseries.parquet are not sweep rows


def test_readers_are_tolerant(tmp_path):
    # Sobol without confidence columns, with the parameter as index; a CSV time series; unrelated files.
    SOBOL[["parameter", "S1", "ST"]].set_index("parameter").to_parquet(tmp_path / "sobol.parquet")
    run = tmp_path / "one"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"evidence_lost_rate": 0.2, "evidence_lost": 10}))
    pd.DataFrame({"day": [0, 1, 2], "evidence_lost": [0, 4, 10]}).to_csv(run / "timeseries.csv", index=False)
    (tmp_path / "notes.json").write_text(json.dumps({"hello": 1}))
    pd.DataFrame({"x": [1, 2]}).to_parquet(tmp_path / "other.parquet")
    found = rp.discover(tmp_path)
    assert found.sweep is None and not found.compares
    assert "S1_conf" not in found.sobol.columns and len(found.sobol) == 3
    report = rp.build_report(tmp_path)
    names = [f.name for f in report.figures]
    assert names == ["sobol_indices", "timeseries_evidence_lost"]  # no backlog columns: no backlog figure
    lost = next(f for f in report.figures if f.name == "timeseries_evidence_lost").figure
    assert list(lost.data[0].y) == [0, 4, 10]


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
    failed = rows.iloc[:3].assign(error="ValueError: boom", evidence_lost_rate=np.nan, evidence_lost=np.nan)
    pd.concat([rows.assign(error=None), failed]).to_parquet(tmp_path / "rows.parquet", index=False)
    found = rp.discover(tmp_path)
    assert len(found.sweep) == len(rows)
    table = rp.build_report(tmp_path).tables[0][1]
    assert set(table["n"]) == {REPS}


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
    assert [f.name for f in report.figures] == ["evidence_lost_vs_window", "heatmap_investigators_x_window"]
    rows = rp.discover(out).sweep
    assert len(rows) == 8
    heat = report.figures[1].figure.data[0]
    expected = rows.pivot_table(index="law_enforcement.investigators", columns="retention.window_days",
                                values="evidence_lost_rate")
    np.testing.assert_allclose(np.array(heat.z, float), 100 * expected.to_numpy())
    assert np.all(expected[30] >= expected[365])  # a longer window never loses more on the same draws


def test_sobol_without_required_columns_is_an_error(tmp_path):
    pd.DataFrame({"name": ["a"], "first": [0.1]}).to_csv(tmp_path / "sobol.csv", index=False)
    with pytest.raises(rp.ReportError, match="parameter, S1, ST"):
        rp.discover(tmp_path)


# --- statistics and figures ------------------------------------------------------------------------------------

def test_mean_ci_matches_a_t_interval():
    from scipy import stats

    x = pd.Series([0.1, 0.2, 0.4, 0.3])
    mean, low, high, n = rp.mean_ci(x)
    expected = stats.t.interval(0.95, 3, loc=x.mean(), scale=stats.sem(x))
    assert n == 4 and mean == pytest.approx(0.25)
    assert (low, high) == pytest.approx(expected)
    assert np.isnan(rp.mean_ci(pd.Series([1.0]))[1])


def test_window_figure_shows_the_means_and_bands_of_the_input(sweep_dir):
    rows = synthetic_sweep()
    fig = rp.window_figure(rows, "evidence_lost_rate")
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    bands = [t for t in fig.data if t.fill == "toself"]
    assert len(lines) == len(STAFF) and len(bands) == len(STAFF)
    expected = rows.groupby(["law_enforcement.investigators", "retention.window_days"])["evidence_lost_rate"].mean()
    for line, staff in zip(lines, STAFF, strict=True):
        assert list(line.x) == list(WINDOWS)
        np.testing.assert_allclose(line.y, 100 * expected.loc[staff].to_numpy())
    for band, line in zip(bands, lines, strict=True):  # the band encloses the mean
        upper, lower = np.array(band.y[:len(WINDOWS)]), np.array(band.y[len(WINDOWS):][::-1])
        assert np.all(lower <= np.array(line.y)) and np.all(np.array(line.y) <= upper) and np.all(upper > lower)
    assert fig.layout.xaxis.title.text == "preservation window (days)"


def test_heatmap_is_the_mean_on_the_staffing_window_grid():
    rows = synthetic_sweep()
    fig = rp.heatmap_figure(rows, "evidence_lost_rate", "law_enforcement.investigators")
    pivot = rows.pivot_table(index="law_enforcement.investigators", columns="retention.window_days",
                             values="evidence_lost_rate")
    np.testing.assert_allclose(np.array(fig.data[0].z, float), 100 * pivot.to_numpy())
    assert list(fig.data[0].x) == [str(w) for w in WINDOWS] and list(fig.data[0].y) == [str(s) for s in STAFF]


def test_sobol_and_compare_figures_carry_the_input_values():
    fig, _ = rp.sobol_figure(SOBOL)
    s1, st = fig.data
    assert list(s1.y) == [0.52, 0.31, 0.04] and list(st.y) == [0.61, 0.36, 0.07]
    assert list(s1.error_y.array) == [0.05, 0.04, 0.02]
    assert s1.x[0] == "preservation window (days)"
    payload = compare_payload()
    fig = rp.compare_figure("compare", payload)
    a, b = fig.data
    assert list(a.y) == pytest.approx([31.0, 20.0]) and list(b.y) == pytest.approx([8.0, 5.0])
    # error bar = CI of the difference: +2 / -2 percentage points around B
    assert list(b.error_y.array) == pytest.approx([2.0, 2.0]) and list(b.error_y.arrayminus) == pytest.approx([2.0, 2.0])


def test_report_from_sweep_has_every_figure_and_table(sweep_dir):
    report = rp.build_report(sweep_dir)
    assert [f.name for f in report.figures] == ["evidence_lost_vs_window", "heatmap_investigators_x_window",
                                                "sobol_indices"]
    (_title, table), = report.tables
    assert len(table) == len(WINDOWS) * len(STAFF) and set(table["n"]) == {REPS}


def test_report_from_runs_and_compare(runs_dir):
    report = rp.build_report(runs_dir)
    names = [f.name for f in report.figures]
    assert names[:2] == ["compare_compare", "runs_evidence_lost_vs_window"]
    assert "timeseries_evidence_lost" in names and "timeseries_backlog_window_30" in names
    found = rp.discover(runs_dir)
    by_name = {r.name: r for r in found.runs}
    lost = next(f for f in report.figures if f.name == "timeseries_evidence_lost").figure
    for trace in lost.data:
        run = by_name[trace.name.split(" ")[0]]
        assert trace.y[-1] == run.summary["evidence_lost"] > 0 or run.window_days == 365
    short, long_ = by_name["window_30"], by_name["window_365"]
    assert short.summary["evidence_lost_rate"] > long_.summary["evidence_lost_rate"]
    points = next(f for f in report.figures if f.name == "runs_evidence_lost_vs_window").figure.data[0]
    assert list(points.x) == [30.0, 365.0]
    assert list(points.y) == pytest.approx([100 * short.summary["evidence_lost_rate"],
                                            100 * long_.summary["evidence_lost_rate"]])


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
    assert list(figures) == ["evidence_lost_vs_window", "heatmap_investigators_x_window", "sobol_indices"]
    for fig in figures.values():
        assert fig["data"] and all(t.get("x") is not None or t.get("z") is not None for t in fig["data"])
    z = np.array(figures["heatmap_investigators_x_window"]["data"][0]["z"], float)
    rows = synthetic_sweep()
    assert z.max() == pytest.approx(100 * rows.groupby(["law_enforcement.investigators", "retention.window_days"])
                                    ["evidence_lost_rate"].mean().max())
    assert "report_act_1yr" not in html  # only what is in the input


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
    (source / "compare.json").write_text(json.dumps(compare_payload()))
    figs = tmp_path / "figs"
    assert main(["report", str(source), "--out", str(tmp_path / "r.html"), "--figures", str(figs)]) == 0
    names = sorted(p.name for p in figs.iterdir())
    assert names == sorted(f"{stem}.{ext}" for stem in ("sobol_indices", "compare_compare") for ext in ("png", "svg", "pdf"))
    for stem, bars in (("sobol_indices", 2 * len(SOBOL)), ("compare_compare", 4)):
        with Image.open(figs / f"{stem}.png") as image:
            assert image.format == "PNG" and image.size == (2 * rp.LAYOUT["width"], 2 * rp.LAYOUT["height"])
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
