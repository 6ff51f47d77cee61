"""Reading a report's inputs: run directories, compare JSON files, sweep directories and Sobol tables.

Each input given to ``tipline report`` is one of:

- a **run directory** written by ``tipline run --out``: ``summary.json``, ``timeseries.parquet`` (or
  ``.csv``), ``flows.csv`` and ``scenario.toml`` (loaded as a validated scenario with
  :func:`model.load_scenario`); only the summary is required;
- a **compare JSON** file holding ``tipline compare --json`` output (keys ``a``, ``b``, ``metrics``;
  optional ``headline``, ``headline_foreign``, ``differs`` and ``flows``);
- a **sweep directory** written by ``tipline sweep --out`` (read with the store's own loader,
  :func:`model.sweeps.store.load_results`), with the Sobol indices of ``tipline analyze`` if present
  (``analysis/sobol.parquet`` or ``.csv``);
- an **uncertainty directory** written by ``tipline uncertainty --out``: ``summary.json`` (``kind`` =
  ``uncertainty``) and its two sweep stores ``a/`` and ``b/``;
- a **Sobol table** (``sobol.csv`` or ``sobol.parquet``: columns ``parameter``, ``S1``, ``ST`` and optional
  ``S1_conf``, ``ST_conf``, ``metric``);
- a **directory holding several** of these (searched a few levels deep; hidden entries are skipped).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from dashboards.report.uncertainty import is_uncertainty, read_uncertainty
from model import Scenario, ScenarioError, load_scenario
from model.scenarios import validate
from model.schema import parameters
from model.sweeps.lock import writer
from model.sweeps.spec import SweepError
from model.sweeps.store import ResultStore, load_results, read_manifest

#: How deep a directory of inputs is searched for run and sweep directories.
MAX_DEPTH = 3
SOBOL_FILES = ("sobol.parquet", "sobol.csv")


class ReportError(Exception):
    """The inputs hold nothing a report can be built from, or a file is unreadable."""


@dataclass
class RunResult:
    """One ``tipline run --out`` directory."""

    name: str
    path: Path
    summary: dict[str, Any]
    timeseries: pd.DataFrame | None
    scenario: Scenario | None = None
    flows: list[tuple[str, str, int]] | None = None

    @property
    def window_days(self) -> float | None:
        return float(self.scenario.retention.window_days) if self.scenario is not None else None

    @property
    def title(self) -> str:
        return self.name + (f" ({self.window_days:g}-day window)" if self.window_days else "")


@dataclass
class SweepResult:
    """One ``tipline sweep --out`` directory: its manifest, its successful runs, Sobol indices if analysed."""

    path: Path
    manifest: dict[str, Any]
    rows: pd.DataFrame
    failed: int = 0
    sobol: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        """The sweep's name (the spec's ``name``, else its file's or directory's name)."""
        spec = self.manifest["design"].get("spec") or {}
        source = self.manifest.get("sweep_file")
        return str(spec.get("name") or (Path(str(source)).stem if source else self.path.name))

    @property
    def base_name(self) -> str | None:
        """The name of the base scenario."""
        base = self.manifest.get("base_scenario") or {}
        spec = self.manifest["design"].get("spec") or {}
        return str(base.get("name") or spec.get("base") or "") or None

    @property
    def kind(self) -> str:
        """The design: grid, lhs or sobol ("" if the manifest does not say)."""
        return str(self.manifest["design"].get("kind") or (self.manifest["design"].get("spec") or {}).get("design")
                   or "")

    @property
    def samples(self) -> int | None:
        """The spec's ``samples`` (lhs: design points; sobol: the base sample N), None for a grid."""
        value = (self.manifest["design"].get("spec") or {}).get("samples")
        return int(value) if isinstance(value, int | float) else None

    @property
    def design_points(self) -> int:
        """Design points in the design (the manifest's), else among the rows."""
        points = self.manifest["design"].get("points")
        if isinstance(points, list):
            return len(points)
        return int(self.rows["point"].nunique()) if "point" in self.rows else len(self.rows)

    @property
    def replications(self) -> int | None:
        """Runs per design point (the manifest's), else the replications among the rows."""
        value = self.manifest["design"].get("replications")
        if isinstance(value, int):
            return value
        return int(self.rows["replication"].nunique()) if "replication" in self.rows else None

    @property
    def overrides(self) -> list[str]:
        """Overrides of the base scenario for every run: the spec's ``[set]`` and ``--set`` on the command line."""
        design = self.manifest["design"]
        spec = design.get("spec") or {}
        spec_set = spec.get("set") or spec.get("overrides") or {}
        return [f"{k}={v}" for k, v in spec_set.items()] + [str(o) for o in design.get("extra_overrides") or []]

    @property
    def factors(self) -> list[str]:
        """The design's factors that take more than one value in the rows."""
        return [f for f in self.manifest["design"]["factors"] if f in self.rows and self.rows[f].nunique() > 1]

    @cached_property
    def base(self) -> Scenario:
        """The base scenario the sweep varied, validated (from the manifest)."""
        label = f"{self.path / ResultStore.MANIFEST}: base_scenario"
        try:
            return validate(dict(self.manifest["base_scenario"]), {}, label)
        except (KeyError, TypeError, ScenarioError) as exc:
            raise ReportError(f"{label}: not a valid scenario ({exc})") from exc

    def base_value(self, key: str) -> Any:
        """The base scenario's value of a dotted key (e.g. today's investigators), None if it has none."""
        return next((p.value for p in parameters(self.base) if p.key == key), None)


@dataclass
class Inputs:
    """Everything found in the inputs."""

    runs: list[RunResult] = field(default_factory=list)
    compares: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sweeps: list[SweepResult] = field(default_factory=list)
    sobols: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    uncertainties: list[Any] = field(default_factory=list)   # UncertaintyResult
    sources: list[str] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)

    def empty(self) -> bool:
        return not (self.runs or self.compares or self.sweeps or self.sobols or self.uncertainties)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not readable JSON ({exc})") from exc


def is_compare(payload: Any) -> bool:
    return isinstance(payload, dict) and isinstance(payload.get("metrics"), dict) and "a" in payload and "b" in payload


def read_flows(path: Path) -> list[tuple[str, str, int]]:
    """A ``flows.csv`` (columns from, to, reports) as (from, to, reports) edges."""
    try:
        df = pd.read_csv(path, dtype={"from": str, "to": str})
    except Exception as exc:
        raise ReportError(f"{path}: unreadable flows ({exc})") from exc
    missing = {"from", "to", "reports"} - set(df.columns)
    if missing:
        raise ReportError(f"{path}: flows need columns from, to, reports (missing {', '.join(sorted(missing))})")
    return [(str(a), str(b), int(n)) for a, b, n in df[["from", "to", "reports"]].itertuples(index=False)]


def read_run(path: Path, summary: Any = None) -> RunResult:
    """Read a ``tipline run --out`` directory (the time series, flows and scenario are optional); `summary`: its
    ``summary.json`` if already read."""
    summary = read_json(path / "summary.json") if summary is None else summary
    if not isinstance(summary, dict):
        raise ReportError(f"{path / 'summary.json'}: expected a JSON object")
    series = None
    try:
        if (path / "timeseries.parquet").is_file():
            series = pd.read_parquet(path / "timeseries.parquet")
        elif (path / "timeseries.csv").is_file():
            series = pd.read_csv(path / "timeseries.csv")
    except Exception as exc:
        raise ReportError(f"{path}: unreadable time series ({exc})") from exc
    scenario = None
    if (path / "scenario.toml").is_file():
        try:
            scenario = load_scenario(path / "scenario.toml")
        except ScenarioError as exc:
            raise ReportError(f"{path / 'scenario.toml'}: not a valid scenario: {exc}") from exc
    flows = read_flows(path / "flows.csv") if (path / "flows.csv").is_file() else None
    return RunResult(path.name, path, summary, series, scenario, flows)


def read_sobol(path: Path) -> pd.DataFrame:
    """Sobol indices with columns parameter, S1, ST (and optional S1_conf, ST_conf, metric)."""
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:
        raise ReportError(f"{path}: unreadable ({exc})") from exc
    if "parameter" not in df.columns and df.index.name == "parameter":
        df = df.reset_index()
    missing = {"parameter", "S1", "ST"} - set(df.columns)
    if missing:
        raise ReportError(f"{path}: Sobol indices need columns parameter, S1, ST (missing {', '.join(sorted(missing))})")
    return df


def read_sweep(directory: Path) -> SweepResult:
    """A sweep directory through the store's loader; failed runs (kept with their error text) are left out."""
    try:
        manifest = read_manifest(directory)
        rows = load_results(directory)
    except SweepError as exc:
        raise ReportError(str(exc)) from exc
    failed = rows["error"].notna() & (rows["error"].astype(str) != "") if "error" in rows else pd.Series(False, index=rows.index)
    sobol = next((read_sobol(p) for folder in (directory / "analysis", directory) for name in SOBOL_FILES
                  if (p := folder / name).is_file()), None)
    return SweepResult(directory, manifest, rows[~failed].reset_index(drop=True), int(failed.sum()), sobol)


def discover(paths: Path | Iterable[Path]) -> Inputs:
    """Read every input: run, sweep and comparison results, Sobol tables, or directories holding them."""
    found = Inputs()
    for path in [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]:
        if not path.exists():
            raise ReportError(f"{path}: no such file or directory")
        _collect(path, found, depth=0)
    return found


def _collect(path: Path, found: Inputs, depth: int) -> None:
    """Read `path` into `found`: a file or a results directory, else search the directory's entries."""
    if path.resolve() in found.seen:
        return
    found.seen.add(path.resolve())
    given = depth == 0  # named by the user: an unreadable kind is an error, not skipped
    if path.is_file():
        _collect_file(path, found, given)
    elif (path / ResultStore.MANIFEST).is_file():
        sweep = read_sweep(path)
        found.sweeps.append(sweep)
        owner = writer(path)
        running = f"; still being written by {owner}: the runs finished so far" if owner else ""
        found.sources.append(f"{path} (sweep, {len(sweep.rows):,} runs{running})")
    elif (path / "summary.json").is_file():
        payload = read_json(path / "summary.json")
        if is_uncertainty(payload):
            study = read_uncertainty(path, payload)
            found.uncertainties.append(study)
            found.sources.append(f"{path} (uncertainty, {study.summary['points']:,} draws)")
        else:
            found.runs.append(read_run(path, payload))
            found.sources.append(str(path))
    elif depth < MAX_DEPTH:
        for child in sorted(path.iterdir()):
            if not child.name.startswith("."):
                _collect(child, found, depth + 1)


def _collect_file(path: Path, found: Inputs, given: bool) -> None:
    if path.suffix == ".json":
        payload = read_json(path)
        if is_compare(payload):
            found.compares.append((path.stem, payload))
            found.sources.append(str(path))
        elif given:
            raise ReportError(f"{path}: not a `tipline compare --json` file (expected the keys a, b and metrics)")
    elif path.name in SOBOL_FILES:
        found.sobols.append((str(path), read_sobol(path)))
        found.sources.append(str(path))
    elif given:
        raise ReportError(f"{path}: not a results file (give a run or sweep directory, a compare JSON, a sobol.csv "
                          "or a directory holding them)")
