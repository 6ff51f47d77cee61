"""The report as a page: the self-contained HTML (plotly.js embedded, figure data as JSON) and static files.

Static figures (PNG, SVG, PDF) are drawn by kaleido with the local Chromium (``$BROWSER_PATH``, default
``/usr/bin/chromium``), with MathJax off, so no request leaves the machine.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as _dt
import html as _html
import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from dashboards.report.style import LAYOUT
from dashboards.report.tables import Table

FORMATS = ("png", "svg", "pdf")


@dataclass
class FigureItem:
    """A report figure: file stem, heading, caption and the plotly figure."""

    name: str
    title: str
    caption: str
    figure: go.Figure


@dataclass
class Report:
    """Figures and tables built from the inputs, with one-sentence headlines (US first)."""

    title: str
    sources: list[str]
    figures: list[FigureItem]
    tables: list[Table]
    headlines: list[str] = field(default_factory=list)
    #: Tables shown before the figures: what each sweep ran (base scenario, design, replications).
    overview: list[Table] = field(default_factory=list)

    def html(self) -> str:
        """The self-contained HTML page (plotly.js embedded; figure data as JSON)."""
        from plotly.offline import get_plotlyjs

        from model import __version__

        parts = [table.html() for table in self.overview]
        for i, item in enumerate(self.figures):
            plain = plain_json(json.loads(json.dumps(item.figure.to_plotly_json(), cls=PlotlyJSONEncoder)))
            data = json.dumps(plain, allow_nan=False).replace("</", "<\\/")
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
table.data td:first-child,table.data th:first-child,table.data.text td,table.data.text th{{text-align:left}}</style>
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
    HTML are readable (and checkable) as text, and NaN or infinity by null (JSON has no NaN: the browser's
    JSON.parse would reject the figure and every figure after it)."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            array = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            if obj.get("shape"):
                array = array.reshape([int(n) for n in str(obj["shape"]).split(",")])
            return plain_json(array.tolist())
        return {k: plain_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain_json(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj



def render_figures(report: Report, formats: tuple[str, ...] = FORMATS, scale: float = 2.0) -> dict[str, bytes]:
    """Every figure as static files (``<name>.<format>`` -> bytes), drawn in one kaleido session with the local
    Chromium (MathJax off). PNG is drawn at `scale` times the figure's size."""
    specs = []
    for item in report.figures:
        fig = item.figure.to_plotly_json()
        width = item.figure.layout.width or LAYOUT["width"]
        height = item.figure.layout.height or LAYOUT["height"]
        specs += [(f"{item.name}.{fmt}", fig, {"format": fmt, "width": width, "height": height,
                                               "scale": scale if fmt == "png" else 1}) for fmt in formats]
    return draw_static(specs)


def draw_static(specs: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> dict[str, bytes]:
    """Static images (name -> bytes) of plotly figures (``(name, figure JSON, kaleido options)``), drawn in one
    kaleido session with the local Chromium (``$BROWSER_PATH``, default ``/usr/bin/chromium``), MathJax off."""
    import kaleido

    if "BROWSER_PATH" not in os.environ and Path("/usr/bin/chromium").exists():
        os.environ["BROWSER_PATH"] = "/usr/bin/chromium"

    async def draw() -> dict[str, bytes]:
        async with kaleido.Kaleido(mathjax=False) as session:
            return {name: await session.calc_fig(fig, opts=opts) for name, fig, opts in specs}

    with ThreadPoolExecutor(1) as pool:  # its own event loop, also when the caller runs one (a notebook)
        return pool.submit(asyncio.run, draw()).result()

