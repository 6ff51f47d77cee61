"""The HTML report opens offline in Chromium: every figure is drawn, with data, and nothing is fetched; legends
sit under the plots; the sweep's design, units and coinciding lines are readable. Screenshots go to
tests/e2e/artifacts/ (report.png; report-window, -backlog and -compare for three figures; report-design,
-sweep-table and -compare-table for three tables)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboards.report import build_report
from model.cli import main
from tests.test_report import SMALL_SET, SOBOL, compare_payload, synthetic_sweep, write_sweep

#: Per figure: the plot area's share of the figure's width, and where the legend is against the plot area.
LAYOUT_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
    const size = gd._fullLayout._size, legend = gd.querySelector('.legend');
    const box = gd.getBoundingClientRect(), lb = legend ? legend.getBoundingClientRect() : null;
    return {title: gd._fullLayout.title.text, plot: size.w / gd._fullLayout.width,
            plot_bottom: size.t + size.h, legend_top: lb ? lb.top - box.top : null,
            legend_bottom: lb ? lb.bottom - box.top : null, height: gd._fullLayout.height,
            entries: legend ? Array.from(legend.querySelectorAll('.legendtext')).map(t => t.textContent) : []};
})"""


def test_report_draws_every_figure_offline(browser_page: tuple[Any, list[str]], tmp_path: Path, artifacts: Path) -> None:
    page, requests = browser_page
    write_sweep(tmp_path / "sweep", synthetic_sweep(identical_staff=True))  # two staffing levels' lines coincide
    (tmp_path / "sweep" / "analysis").mkdir()
    SOBOL.to_csv(tmp_path / "sweep" / "analysis" / "sobol.csv", index=False)
    (tmp_path / "compare.json").write_text(json.dumps(compare_payload()))
    assert main(["run", "x_platform", *SMALL_SET, "--out", str(tmp_path / "run")]) == 0
    report = build_report(tmp_path)
    html = tmp_path / "report.html"
    html.write_text(report.html(), encoding="utf-8")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(html.as_uri())
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length === {len(report.figures)}",
                           timeout=20_000)
    drawn = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
        traces: gd.data.length,
        points: gd.data.reduce((n, t) => n + ((t.x || t.z || (t.link && t.link.value) || []).length), 0),
        marks: gd.querySelectorAll('.point, .heatmaplayer image, .scatterlayer .trace path, .sankey-node').length}))""")
    # sweep: window, staffing curve, heatmap, stages, Sobol; compare: 4; run: stages, flows, evidence lost, backlog
    assert len(drawn) == len(report.figures) == 13
    for figure in drawn:
        assert figure["traces"] > 0 and figure["points"] > 0 and figure["marks"] > 0, figure
    assert not errors, errors
    outside = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert not outside, f"the report fetched {outside}"
    text = page.inner_text("body")
    assert 'Sweep: sweep "window_x_investigators" on base scenario "x_platform" (grid design' in text
    assert "US cases: mean (%)" in text
    assert "Staffing curve: " in text and "At today's 200 US investigators" not in text  # 200 is not a level here

    # the sweep's design before its figures; design points labelled in the sweep table
    design = page.locator("section", has=page.locator("h2", has_text="Sweep design: window_x_investigators"))
    assert "base scenario\tx_platform" in design.inner_text() and "replications\t4 per design point" in design.inner_text()
    sweep_table = page.locator("section", has=page.locator("h2", has_text="Evidence lost by window and"))
    assert sweep_table.locator("th").first.inner_text() == "design point"

    layouts = page.evaluate(LAYOUT_JS)
    for figure in layouts:
        if figure["entries"]:  # a legend under the plot, not beside it: the plot keeps most of the width
            assert figure["plot"] > 0.75, figure
            assert figure["plot_bottom"] < figure["legend_top"] and figure["legend_bottom"] <= figure["height"], figure
    window = layouts[0]
    assert any(e.endswith("= 60 (same as 34)") for e in window["entries"])  # coinciding lines named in the legend
    assert "foreign cases (MLAT): the lines for 34, 60 coincide (identical means)" in window["entries"]
    backlog = next(f for f in layouts if f["title"].startswith("Waiting at each stage"))
    assert len(backlog["entries"]) >= 4

    figures = page.locator(".js-plotly-plot")
    shots = {"report-window.png": 0, "report-backlog.png": [f["title"] for f in layouts].index(backlog["title"]),
             "report-compare.png": next(i for i, f in enumerate(layouts) if f["title"].startswith("Evidence lost: "))}
    for name, index in shots.items():
        figures.nth(index).screenshot(path=str(artifacts / name))
    design.screenshot(path=str(artifacts / "report-design.png"))
    sweep_table.screenshot(path=str(artifacts / "report-sweep-table.png"))
    page.locator("section", has=page.locator("table.data"), has_text="Comparison: ").screenshot(
        path=str(artifacts / "report-compare-table.png"))
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
