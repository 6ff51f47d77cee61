"""Experimental designs: a sweep resolved into its base scenario, factor keys, design points and seeds.

Designs: ``grid`` is the full factorial of the levels; ``lhs`` draws ``samples`` points with
:class:`scipy.stats.qmc.LatinHypercube`; ``sobol`` takes :func:`SALib.sample.sobol.sample` (Saltelli's
scheme) with base sample ``samples`` (a power of two) and ``calc_second_order`` (the same flag is
used by :func:`model.analysis.sobol_indices`). Samplers draw on the unit cube, mapped to each factor
by its inverse distribution function (a ``values`` factor picks a level with equal probability).

Common random numbers: replication ``r`` has the same seed at every design point
(:func:`model.experiments.replication_seeds` of the root seed), so two points differ only by their
factor values. A run depends only on its point and seed, so results are the same whatever runs them.

A factor key with ``*`` expands to one concrete scenario key per array entry (:func:`expand_key`);
every factor value is checked alone against the scenario schema before any run (:func:`resolve_design`).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.experiments import replication_seeds
from model.params import Scenario, settling_days
from model.scenarios import ScenarioError, apply_override, load_chain, resolve_path, toml_value, validate
from model.sweeps.spec import SweepError, SweepSpec, load_sweep, parse_spec

#: The ``format`` of a sweep directory's ``manifest.json`` (see :mod:`model.result_store`).
MANIFEST_FORMAT = "tipline-sweep/1"


def flatten(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested ``[set]`` tables as dotted keys: ``{"run": {"days": 9}}`` -> ``[("run.days", 9)]``."""
    items: list[tuple[str, Any]] = []
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items += flatten(value, dotted + ".")
        else:
            items.append((dotted, value))
    return items


def expand_key(key: str, data: Mapping[str, Any]) -> list[str]:
    """Concrete keys for a factor key: ``platforms.*.x`` -> one key per platform (by name)."""
    parts = key.split(".")
    if "*" not in parts:
        return [key]
    star = parts.index("*")
    node: Any = data
    for part in parts[:star]:
        node = node.get(part) if isinstance(node, Mapping) else None
    if not isinstance(node, list) or not node:
        raise SweepError(f"'{'.'.join(parts[:star])}' is not a non-empty array of tables, so '*' cannot expand")
    labels = [str(item.get("name", i)) if isinstance(item, Mapping) else str(i) for i, item in enumerate(node)]
    rest = ".".join(parts[star + 1:])
    keys = [".".join([*parts[:star], label, *([rest] if rest else [])]) for label in labels]
    return [k for label_key in keys for k in expand_key(label_key, data)]


def scenario_at(base: Mapping[str, Any], overrides: Iterable[str], label: str = "design point") -> Scenario:
    """The base scenario table with overrides applied, validated."""
    data = copy.deepcopy(dict(base))
    origins: dict[tuple[str, ...], str] = {}
    for text in overrides:
        apply_override(data, origins, text)
    return validate(data, {path: label for path in origins}, label)


def factor_overrides(keys: Mapping[str, Sequence[str]], values: Mapping[str, Any]) -> tuple[str, ...]:
    """A design point's factor values as ``key=value`` overrides (`keys`: factor column -> concrete scenario keys)."""
    return tuple(f"{key}={toml_value(values[name])}" for name, keys_of in keys.items() for key in keys_of)


@dataclass(frozen=True)
class RunTask:
    """One run: design point, replication, seed and the overrides of the point."""

    run_id: int
    point: int
    replication: int
    seed: int
    overrides: tuple[str, ...]


@dataclass(frozen=True)
class Design:
    """A resolved sweep: base scenario, factor keys, design points and replication seeds."""

    spec: SweepSpec
    base: Scenario
    keys: dict[str, list[str]]       # factor column -> concrete scenario keys
    points: list[dict[str, Any]]     # one dict of factor values per design point
    seeds: list[int]                 # one seed per replication, the same at every point
    seed: int                        # root seed
    source: str | None = None        # sweep file
    extra_overrides: tuple[str, ...] = ()  # --set on the command line, after the file's [set]

    @property
    def factor_names(self) -> list[str]:
        return [f.column for f in self.spec.factors]

    @property
    def runs(self) -> int:
        return len(self.points) * len(self.seeds)

    def point_overrides(self, point: int) -> tuple[str, ...]:
        return factor_overrides(self.keys, self.points[point])

    def tasks(self) -> list[RunTask]:
        """Every run, numbered ``point * replications + replication``."""
        reps = len(self.seeds)
        return [RunTask(p * reps + r, p, r, seed, self.point_overrides(p))
                for p in range(len(self.points)) for r, seed in enumerate(self.seeds)]

    def short_warmups(self) -> tuple[int, int]:
        """(design points whose ``run.warmup_days`` is shorter than STEADY_STATE_BACKLOGS times their agencies'
        backlog limit, the warm-up that would cover every point): such points are counted before their queues
        settle (:func:`model.params.warmup_note`). Read from the factors and the base scenario."""
        def value(values: dict[str, Any], key: str, default: int) -> int:
            names = [name for name, keys in self.keys.items() if key in keys]
            return int(values[names[-1]]) if names else default

        backlog, warmup = "law_enforcement.backlog_limit_days", "run.warmup_days"
        needed = [settling_days(value(p, backlog, self.base.law_enforcement.backlog_limit_days)) for p in self.points]
        short = sum(value(p, warmup, self.base.run.warmup_days) < n for p, n in zip(self.points, needed, strict=True))
        return short, max(needed, default=0)

    def manifest_design(self) -> dict[str, Any]:
        """The design part of the manifest: what must match for a resume."""
        return json.loads(json.dumps({
            "spec": self.spec.model_dump(mode="json", by_alias=True), "extra_overrides": list(self.extra_overrides),
            "factors": self.factor_names, "keys": self.keys, "kind": self.spec.design, "seed": self.seed,
            "replications": len(self.seeds), "seeds": self.seeds, "runs": self.runs,
            "sobol": ({"N": self.spec.samples, "calc_second_order": self.spec.calc_second_order}
                      if self.spec.design == "sobol" else None),
            "points": self.points}))

    def manifest(self) -> dict[str, Any]:
        from model import __version__
        return {"format": MANIFEST_FORMAT, "tipline_version": __version__,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "sweep_file": self.source, "design": self.manifest_design(),
                "base_scenario": self.base.model_dump(mode="json")}


def unit_samples(spec: SweepSpec, seed: int) -> np.ndarray:
    """The lhs or sobol design on the unit cube, one row per point (deterministic for a seed)."""
    assert spec.samples is not None
    return unit_cube([f.column for f in spec.factors], spec.samples, spec.design, seed, spec.calc_second_order)


def unit_cube(names: Sequence[str], samples: int, design: str, seed: int,
              calc_second_order: bool = False) -> np.ndarray:
    """`samples` Latin hypercube rows (``lhs``), or SALib's Saltelli rows for ``sobol`` (``samples * (k + 2)``,
    or ``samples * (2k + 2)`` with second-order indices, for k names), in [0, 1); deterministic for a seed."""
    d = len(names)
    if design == "lhs":
        from scipy.stats import qmc
        return qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(samples)
    from SALib.sample import sobol
    problem = {"num_vars": d, "names": list(names), "bounds": [[0.0, 1.0]] * d}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's notes on scrambling, skip_values and sample sizes
        return sobol.sample(problem, samples, calc_second_order=calc_second_order, seed=seed)


def design_points(spec: SweepSpec, seed: int) -> list[dict[str, Any]]:
    """Factor values at every design point, in design order (SALib's order for sobol)."""
    names = [f.column for f in spec.factors]
    if spec.design == "grid":
        return [dict(zip(names, combo, strict=True))
                for combo in itertools.product(*(f.grid_levels() for f in spec.factors))]
    rows = unit_samples(spec, seed)
    return [{f.column: f.from_unit(u) for f, u in zip(spec.factors, row, strict=True)} for row in rows]


def _prefixed(label: str, exc: ScenarioError) -> SweepError:
    lines = [line.split(": ", 1)[1] if line.startswith("--set ") and ": " in line else line
             for line in str(exc).splitlines()]
    return SweepError("\n".join(f"{label}: {line}" for line in lines))


#: The most runs one sweep may have: its design is held in memory and in its manifest.
MAX_RUNS = 2_000_000


def planned_runs(spec: SweepSpec) -> int:
    """Runs a sweep would make, counted before its points are built (a grid's product of levels; Sobol's
    Saltelli N x (k + 2), or N x (2k + 2) with second-order indices)."""
    k = len(spec.factors)
    if spec.design == "grid":
        points = math.prod(len(f.values) if f.values is not None else (f.levels or 1) for f in spec.factors)
    elif spec.design == "sobol":
        points = (spec.samples or 0) * (2 * k + 2 if spec.calc_second_order else k + 2)
    else:
        points = spec.samples or 0
    return points * spec.replications


def resolve_design(spec: SweepSpec, source: Path | str | None = None, overrides: Sequence[str] = ()) -> Design:
    """Load the base scenario, check every factor value alone against the schema, build the points.

    A value outside a key's allowed range is an error here, before anything runs. A combination the
    schema rejects (e.g. a warm-up as long as the run) fails only its own runs, recorded as failed.
    """
    where = str(source) if source else f"sweep {spec.name or ''}".strip()
    runs = planned_runs(spec)
    if runs > MAX_RUNS:
        raise SweepError(f"{where}: the design would make {runs:,} runs ({runs // spec.replications:,} points x "
                         f"{spec.replications:,} replications); at most {MAX_RUNS:,} in one sweep (split it, or "
                         "use fewer levels, samples or replications)")
    relative = Path(source).parent if source else None
    try:
        base_path = resolve_path(spec.base, relative_to=relative)
    except ScenarioError as exc:
        raise SweepError(f"{where}: base: {exc}") from None
    data, origins = load_chain(base_path)
    for key, value in flatten(spec.overrides):
        try:
            apply_override(data, origins, f"{key}={toml_value(value)}")
        except ScenarioError as exc:
            raise _prefixed(f"{where}: set.{key}", exc) from None
        for path, label in origins.items():
            if label.startswith(f"--set {key}="):
                origins[path] = f"{where}: set.{key}"
    for text in overrides:
        apply_override(data, origins, text)
    base = validate(data, origins, str(base_path))
    base_table = base.model_dump(mode="json")
    keys: dict[str, list[str]] = {}
    for i, factor in enumerate(spec.factors):
        label = f"{where}: factors[{i}] ({factor.key})"
        try:
            keys[factor.column] = expand_key(factor.key, base_table)
        except SweepError as exc:
            raise SweepError(f"{label}: {exc}") from None
        for value in factor.checked_values():
            texts = [f"{key}={toml_value(value)}" for key in keys[factor.column]]
            try:
                scenario_at(base_table, texts, label=f"{label} = {value!r}")
            except ScenarioError as exc:
                raise _prefixed(label, exc) if str(exc).startswith("--set ") else SweepError(str(exc)) from None
    seed = base.run.seed if spec.seed is None else spec.seed
    return Design(spec=spec, base=base, keys=keys, points=design_points(spec, seed),
                  seeds=replication_seeds(seed, spec.replications), seed=seed,
                  source=str(source) if source else None, extra_overrides=tuple(overrides))


def design_from(sweep: str | Path | SweepSpec | Mapping[str, Any] | Design, overrides: Sequence[str] = ()) -> Design:
    """Resolve a sweep given as a file, a spec, a plain dict (as in TOML) or an already resolved design."""
    if isinstance(sweep, Design):
        if overrides:
            raise SweepError("overrides apply when resolving a sweep, not to an already resolved Design")
        return sweep
    if isinstance(sweep, SweepSpec):
        return resolve_design(sweep, None, overrides)
    if isinstance(sweep, Mapping):
        return resolve_design(parse_spec(sweep, "sweep"), None, overrides)
    spec, path = load_sweep(sweep)
    return resolve_design(spec, path, overrides)
