"""Sankey diagrams of the counted reports' paths (``model.flows()``, ``flows.csv``, a comparison's ``flows``).

Shared by the live dashboard (page 2) and the report. Nodes after the routes are named by their route
("US: served in time"), so US and foreign outcomes are never pooled; undecided reports are drawn where
they wait; nodes are placed column by column, US at the top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

#: Width and height of a Sankey diagram in the report (the dashboard sets its own).
WIDTH, HEIGHT = 860, 560


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
    layout = {"title": {"text": title}, "template": "plotly_white", "width": WIDTH, "height": HEIGHT,
              "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "font": {"size": 11}}
    return {"data": [trace], "layout": layout}


def sankey_figure(flows: Sequence[Sequence[Any]], title: str) -> go.Figure:
    """Sankey diagram of counted reports: platforms -> NCMEC -> informational / US agencies / foreign agencies
    -> closed, investigated, legal process needed -> served in time / lost at a stage (nodes after the
    routes are per route, US at the top). Node labels carry their report counts."""
    return go.Figure(sankey_spec(flows, title))


