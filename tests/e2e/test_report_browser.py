"""The HTML report opens offline in Chromium: every figure is drawn, with data, and nothing is fetched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboards.report import build_report
from tests.test_report import SOBOL, compare_payload, synthetic_sweep, write_sweep


def test_report_draws_every_figure_offline(browser_page: tuple[Any, list[str]], tmp_path: Path, artifacts: Path) -> None:
    page, requests = browser_page
    write_sweep(tmp_path / "sweep", synthetic_sweep())
    (tmp_path / "sweep" / "analysis").mkdir()
    SOBOL.to_csv(tmp_path / "sweep" / "analysis" / "sobol.csv", index=False)
    (tmp_path / "compare.json").write_text(json.dumps(compare_payload()))
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
    assert len(drawn) == len(report.figures) == 9  # sweep: window, staffing curve, heatmap, stages, Sobol; compare: 4
    for figure in drawn:
        assert figure["traces"] > 0 and figure["points"] > 0 and figure["marks"] > 0, figure
    assert not errors, errors
    outside = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert not outside, f"the report fetched {outside}"
    text = page.inner_text("body")
    assert 'Sweep: sweep "window_x_investigators" on base scenario "x_platform"' in text
    assert "US cases: mean (%)" in text
    assert "Staffing curve: " in text and "At today's 200 US investigators" not in text  # 200 is not a level here
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
