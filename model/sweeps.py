"""Scenario sweeps: sweep files, experimental designs, runners and a resumable Parquet store.

A sweep file (TOML, ``scenarios/sweeps/*.toml``) names a base scenario, the factors to vary and a
design; every design point is run ``replications`` times::

    base = "x_platform"              # scenario name or path (relative to the sweep file)
    design = "grid"                  # grid | lhs | sobol
    replications = 5
    seed = 20240507                  # root seed: replication seeds and the design's sampler

    [set]                            # overrides of the base scenario, for every run
    "run.days" = 365

    [[factors]]
    key = "retention.window_days"    # any scenario key, as in --set
    values = [30, 90, 365, 730]      # explicit levels ...

    [[factors]]
    key = "platforms.*.automated_share"   # '*' = every entry of the array (every platform)
    name = "automated_share"              # column name (default: the key)
    low = 0.05                            # ... or a range (lhs, sobol; grid needs `levels`)
    high = 0.6
    distribution = "uniform"              # or "loguniform"

Designs: ``grid`` is the full factorial of the levels; ``lhs`` draws ``samples`` points with
:class:`scipy.stats.qmc.LatinHypercube`; ``sobol`` takes :func:`SALib.sample.sobol.sample` (Saltelli's
scheme) with base sample ``samples`` (a power of two) and ``calc_second_order`` (the same flag is
used by :func:`model.analysis.sobol_indices`). Samplers draw on the unit cube, mapped to each factor
by its inverse distribution function (a ``values`` factor picks a level with equal probability).

Common random numbers: replication ``r`` has the same seed at every design point
(:func:`model.experiments.replication_seeds` of the root seed), so two points differ only by their
factor values. A run depends only on its point and seed, so results are the same whatever runs them.

Results go to a directory: ``manifest.json`` (resolved design, base scenario, package version) and
``results/part-NNNNN.parquet`` chunks, each written to a hidden temporary file and renamed into
place, so a killed sweep leaves only whole chunks; ``resume`` skips the runs already stored.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import math
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model.experiments import replication_seeds
from model.params import Scenario
from model.scenarios import (
    SCENARIO_DIR,
    ScenarioError,
    apply_override,
    load_chain,
    read_toml,
    resolve_path,
    section_of,
    validate,
)

SWEEP_DIR = SCENARIO_DIR / "sweeps"
#: Columns every result row has before the factor values and the run's summary metrics.
RUN_COLUMNS = ("run_id", "point", "replication", "seed")
#: Names a factor column may not take (they are run columns or summary keys that are not metrics).
RESERVED_NAMES = (*RUN_COLUMNS, "error", "scenario", "days", "wall_seconds")
MANIFEST_FORMAT = "tipline-sweep/1"

Simulate = Callable[[Scenario, int], tuple[Any, dict[str, Any]]]


class SweepError(ScenarioError):
    """A sweep file, design or output directory that cannot be used as given (exit code 2)."""


# --------------------------------------------------------------------------------------------------
# Sweep file schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Factor(_Strict):
    """One varied scenario key: explicit ``values`` or a ``low``-``high`` range with a distribution."""

    key: str = Field(min_length=1, description="dotted scenario key; '*' stands for every entry of an array")
    name: str | None = Field(None, min_length=1, description="result column name (default: the key)")
    values: list[Any] | None = Field(None, min_length=1, description="explicit levels (numbers, strings, booleans)")
    low: float | None = Field(None, description="lower end of the range, in the key's unit")
    high: float | None = Field(None, description="upper end of the range, in the key's unit")
    distribution: Literal["uniform", "loguniform"] = "uniform"
    integer: bool = Field(False, description="round range values down to integers (each integer equally likely)")
    levels: int | None = Field(None, ge=2, le=10_000, description="grid only: evenly spaced levels of a range")

    @model_validator(mode="after")
    def _one_kind(self) -> Factor:
        ranged = self.low is not None or self.high is not None
        if self.values is not None:
            if ranged or self.levels is not None:
                raise ValueError("give either values = [...] or low/high (+ levels for a grid), not both")
            if self.distribution != "uniform" or self.integer:
                raise ValueError("distribution and integer apply to low/high ranges, not to values")
            bad = [v for v in self.values if not isinstance(v, bool | int | float | str)]
            if bad:
                raise ValueError(f"values must be numbers, strings or booleans, got {bad[0]!r}")
            if len({json.dumps(v) for v in self.values}) != len(self.values):
                raise ValueError(f"values are repeated: {self.values}")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give values = [...] or both low and high")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be less than high ({self.high:g})")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError(f"a loguniform range needs low > 0, got {self.low:g}")
        if self.integer and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError(f"integer = true needs whole-number low and high, got {self.low:g} and {self.high:g}")
        return self

    @property
    def column(self) -> str:
        """The factor's column name in results."""
        return self.name or self.key

    def from_unit(self, u: float) -> Any:
        """Map a point of [0, 1) to a factor value by the inverse distribution function."""
        u = min(max(float(u), 0.0), math.nextafter(1.0, 0.0))
        if self.values is not None:
            return self.values[int(u * len(self.values))]
        assert self.low is not None and self.high is not None
        top = self.high + 1 if self.integer else self.high
        if self.distribution == "loguniform":
            x = math.exp(math.log(self.low) + u * (math.log(top) - math.log(self.low)))
        else:
            x = self.low + u * (top - self.low)
        return min(math.floor(x), int(self.high)) if self.integer else float(x)

    def grid_levels(self) -> list[Any]:
        """The factor's levels in a grid design."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None and self.levels is not None
        space = np.geomspace if self.distribution == "loguniform" else np.linspace
        raw = space(self.low, self.high, self.levels)
        if not self.integer:
            return [float(x) for x in raw]
        return list(dict.fromkeys(round(float(x)) for x in raw))

    def checked_values(self) -> list[Any]:
        """Values checked against the scenario schema before any run: every level, or both ends."""
        if self.values is not None:
            return list(self.values)
        if self.levels is not None:
            return self.grid_levels()
        assert self.low is not None and self.high is not None
        return [int(self.low), int(self.high)] if self.integer else [self.low, self.high]


class SweepSpec(_Strict):
    """A sweep file: base scenario, overrides, factors, design, replications and root seed."""

    name: str | None = Field(None, min_length=1, description="sweep name (default: the file name)")
    description: str = ""
    base: str = Field(min_length=1, description="base scenario: shipped name or path relative to the sweep file")
    overrides: dict[str, Any] = Field(default_factory=dict, alias="set",
                                      description="dotted scenario keys set for every run")
    design: Literal["grid", "lhs", "sobol"] = "grid"
    samples: int | None = Field(None, ge=1, le=10_000_000,
                                description="lhs: points; sobol: base sample N (power of two)")
    calc_second_order: bool = Field(False, description="sobol: also sample for second-order indices")
    replications: int = Field(1, ge=1, le=100_000, description="runs per design point (common seeds)")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="root seed (default: the base scenario's run.seed)")
    factors: list[Factor] = Field(min_length=1)
    metrics: list[str] = Field(default_factory=lambda: ["evidence_lost", "evidence_lost_rate", "evidence_lost_us",
                                                        "evidence_lost_foreign", "arrests"],
                               min_length=1, description="summary metrics for sensitivity indices")

    @model_validator(mode="after")
    def _design_fits(self) -> SweepSpec:
        names = [f.column for f in self.factors]
        if len(set(names)) != len(names):
            raise ValueError(f"factor names must be unique, got {names} (set name = ... to tell them apart)")
        reserved = sorted(set(names) & set(RESERVED_NAMES))
        if reserved:
            raise ValueError(f"factor name {reserved[0]!r} is reserved (reserved: {', '.join(RESERVED_NAMES)})")
        if self.design == "grid":
            if self.samples is not None:
                raise ValueError("samples applies to lhs and sobol designs; a grid runs every combination of levels")
            ranged = [f.column for f in self.factors if f.values is None and f.levels is None]
            if ranged:
                raise ValueError(f"a grid needs values = [...] or levels = N for every factor; missing for {ranged[0]}")
        else:
            if self.samples is None:
                raise ValueError(f"a {self.design} design needs samples = N")
            with_levels = [f.column for f in self.factors if f.levels is not None]
            if with_levels:
                raise ValueError(f"levels applies to grid designs only (factor {with_levels[0]})")
        if self.design == "sobol" and self.samples is not None and self.samples & (self.samples - 1):
            raise ValueError(f"sobol samples must be a power of two (Sobol' sequence balance), got {self.samples}")
        if self.calc_second_order and self.design != "sobol":
            raise ValueError("calc_second_order applies to sobol designs only")
        return self


def _allowed_at(loc: Sequence[Any]) -> str:
    """The keys allowed in the table at `loc` of a sweep file."""
    section: type[BaseModel] | None = SweepSpec
    for key in loc:
        if isinstance(key, int) or section is None:
            continue
        info = section.model_fields.get(key)
        if info is None:
            break
        section = section_of(info.annotation)
    if section is None:
        return ""
    return ", ".join(info.alias or name for name, info in section.model_fields.items())


def _where(loc: Sequence[Any], data: Mapping[str, Any]) -> str:
    """A readable key path: ``factors[1] (retention.window_days).low``."""
    parts: list[str] = []
    node: Any = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            label = node.get("key") if isinstance(node, Mapping) else None
            parts[-1] += f"[{key}]" + (f" ({label})" if isinstance(label, str) else "")
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, Mapping) else None
    return ".".join(parts) or "(sweep)"


def parse_spec(data: Mapping[str, Any], label: str) -> SweepSpec:
    """Validate a sweep table; every problem is listed in one SweepError naming `label` and the key."""
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            allowed = ""
            if error["type"] == "extra_forbidden":
                message = "unknown key"
                allowed = f" (allowed keys: {_allowed_at(loc[:-1])})"
            lines.append(f"{label}: {_where(loc, data)}: {message}{allowed}")
        raise SweepError("\n".join(lines)) from None


def load_sweep(source: str | Path) -> tuple[SweepSpec, Path]:
    """Read and validate a sweep file (a path, or the name of one in ``scenarios/sweeps``)."""
    raw = Path(source)
    candidates = [raw, SWEEP_DIR / raw] + ([] if raw.suffix == ".toml" else [SWEEP_DIR / f"{raw}.toml"])
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        shipped = ", ".join(sorted(p.stem for p in SWEEP_DIR.glob("*.toml")))
        raise SweepError(f"{source}: no such sweep file (shipped sweeps: {shipped})")
    path = path.resolve()
    data = read_toml(path)
    spec = parse_spec(data, str(path))
    if spec.name is None:
        spec = spec.model_copy(update={"name": path.stem})
    return spec, path


# --------------------------------------------------------------------------------------------------
# Resolving a design: base scenario, factor keys, points and seeds


def toml_value(value: Any) -> str:
    """A value as a TOML literal for a ``key=value`` override."""
    if isinstance(value, np.generic):
        value = value.item()
    return tomli_w.dumps({"v": value}).strip().removeprefix("v = ")


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
        values = self.points[point]
        return tuple(f"{key}={toml_value(values[name])}" for name, keys in self.keys.items() for key in keys)

    def tasks(self) -> list[RunTask]:
        """Every run, numbered ``point * replications + replication``."""
        reps = len(self.seeds)
        return [RunTask(p * reps + r, p, r, seed, self.point_overrides(p))
                for p in range(len(self.points)) for r, seed in enumerate(self.seeds)]

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
    d = len(spec.factors)
    assert spec.samples is not None
    if spec.design == "lhs":
        from scipy.stats import qmc
        return qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(spec.samples)
    from SALib.sample import sobol
    problem = {"num_vars": d, "names": [f.column for f in spec.factors], "bounds": [[0.0, 1.0]] * d}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's notes on scrambling and skip_values
        return sobol.sample(problem, spec.samples, calc_second_order=spec.calc_second_order, seed=seed)


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


def resolve_design(spec: SweepSpec, source: Path | str | None = None, overrides: Sequence[str] = ()) -> Design:
    """Load the base scenario, check every factor value alone against the schema, build the points.

    A value outside a key's allowed range is an error here, before anything runs. A combination the
    schema rejects (e.g. a warm-up as long as the run) fails only its own runs, recorded as failed.
    """
    where = str(source) if source else f"sweep {spec.name or ''}".strip()
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


# --------------------------------------------------------------------------------------------------
# Running one task (in a worker process, a Dask worker or in-process)


def _default_simulate(scenario: Scenario, seed: int) -> tuple[Any, dict[str, Any]]:
    from model.model import run
    return run(scenario, seed)


def execute_run(base: Mapping[str, Any], task: RunTask, simulate: Simulate | None = None) -> dict[str, Any]:
    """Run one task and return its row; any exception is caught and recorded in ``error``."""
    row: dict[str, Any] = {"run_id": task.run_id, "point": task.point, "replication": task.replication,
                           "seed": task.seed, "error": None}
    try:
        scenario = scenario_at(base, task.overrides, label=f"run {task.run_id}")
        _, summary = (simulate or _default_simulate)(scenario, task.seed)
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    for key, value in summary.items():
        if key not in row:
            row[key] = math.nan if value is None else value
    return row


# --------------------------------------------------------------------------------------------------
# Executors: in-process, local processes, Dask


class InlineExecutor(Executor):
    """Runs each task at submission, in this process (one worker: no process start-up cost)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - delivered through the future, like a pool would
            future.set_exception(exc)
        return future


def _dask_slots(client: Any) -> int:
    return max(1, sum(client.nthreads().values()))


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None,
                  dask_local: bool = False) -> Iterator[tuple[Executor, int]]:
    """An executor and its number of parallel slots.

    Default: ``workers`` local processes (forkserver; default all cores; 1 = in this process).
    ``scheduler``: an existing Dask distributed scheduler address (``tcp://host:8786``).
    ``dask_local``: a ``distributed.LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1.
    """
    if workers is not None and workers < 1:
        raise SweepError(f"--workers {workers}: must be at least 1")
    if scheduler and dask_local:
        raise SweepError("--scheduler and --dask-local exclude each other (an existing cluster, or a new local one)")
    if scheduler or dask_local:
        from distributed import Client, LocalCluster
        cluster = None
        try:
            if dask_local:
                cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                       processes=True, host="127.0.0.1", dashboard_address=None)
            client = Client(cluster if cluster is not None else scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            if cluster is not None:
                cluster.close()
            where = f"--scheduler {scheduler}: cannot connect to the Dask scheduler" if scheduler else \
                "--dask-local: cannot start a Dask LocalCluster"
            raise SweepError(f"{where} ({type(exc).__name__}: {exc})") from None
        try:
            yield client.get_executor(pure=False), _dask_slots(client)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        yield InlineExecutor(), 1
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))
    try:
        yield pool, workers
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def map_unordered(executor: Executor, fn: Callable[[Any], Any], items: Iterable[Any],
                  in_flight: int) -> Iterator[Any]:
    """Apply `fn` to items with at most `in_flight` tasks submitted; yield results as they finish."""
    pending: set[Future] = set()
    source = iter(items)
    try:
        for item in itertools.islice(source, in_flight):
            pending.add(executor.submit(fn, item))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                for item in itertools.islice(source, 1):
                    pending.add(executor.submit(fn, item))
    finally:
        for future in pending:
            future.cancel()


# --------------------------------------------------------------------------------------------------
# Result store: manifest + atomically written Parquet chunks


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a hidden temporary sibling, flush it to disk, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class ResultStore:
    """A sweep directory: ``manifest.json`` and ``results/part-NNNNN.parquet``, one row per run."""

    MANIFEST = "manifest.json"
    RESULTS = "results"

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.results = self.directory / self.RESULTS
        self._buffer: list[dict[str, Any]] = []
        self._next_part = 1 + max((int(p.stem.split("-")[1]) for p in self.parts()), default=-1)

    @classmethod
    def create(cls, directory: Path | str, manifest: Mapping[str, Any]) -> ResultStore:
        """Start a new sweep directory (it must not exist or be empty)."""
        directory = Path(directory)
        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            raise SweepError(f"--out {directory}: exists and is not empty (use --resume to continue the sweep "
                             "stored there, or choose a new directory)")
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(directory / cls.MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=1) + "\n"))
        (directory / cls.RESULTS).mkdir()
        return cls(directory)

    @classmethod
    def reopen(cls, directory: Path | str, manifest: Mapping[str, Any]) -> ResultStore:
        """Continue a sweep directory made by the same design; delete leftover temporary files."""
        directory = Path(directory)
        stored = read_manifest(directory)
        if stored.get("tipline_version") != manifest["tipline_version"]:
            raise SweepError(f"--resume {directory}: made by tipline {stored.get('tipline_version')}, this is "
                             f"{manifest['tipline_version']}; results would mix model versions (start a new directory)")
        for part in ("design", "base_scenario"):
            if stored.get(part) != manifest[part]:
                what = "design (factors, points, seeds)" if part == "design" else "base scenario"
                raise SweepError(f"--resume {directory}: the sweep file's {what} differs from the one stored there "
                                 "(run the same sweep file and --set options, or choose a new directory)")
        results = directory / cls.RESULTS
        results.mkdir(exist_ok=True)
        for stray in results.glob(".*.tmp"):
            stray.unlink()
        return cls(directory)

    def parts(self) -> list[Path]:
        return sorted(self.results.glob("part-*.parquet"))

    def finished_run_ids(self) -> set[int]:
        """Run ids already stored (finished or failed)."""
        ids: set[int] = set()
        for part in self.parts():
            ids.update(pq.read_table(part, columns=["run_id"]).column("run_id").to_pylist())
        return ids

    def add(self, row: dict[str, Any]) -> None:
        self._buffer.append(row)

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def flush(self) -> None:
        """Write the buffered rows as the next chunk (atomically)."""
        if not self._buffer:
            return
        table = pa.Table.from_pandas(pd.DataFrame(self._buffer), preserve_index=False)  # union of the rows' keys
        if "error" in table.column_names:  # text, even in a chunk where no run failed (not pyarrow's null type)
            table = table.set_column(table.column_names.index("error"), "error", table["error"].cast(pa.string()))
        path = self.results / f"part-{self._next_part:05d}.parquet"
        _write_atomically(path, lambda p: pq.write_table(table, p))
        self._next_part += 1
        self._buffer.clear()

    def load(self) -> pd.DataFrame:
        return load_results(self.directory)


def read_manifest(directory: Path | str) -> dict[str, Any]:
    """The manifest of a sweep directory."""
    path = Path(directory) / ResultStore.MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise SweepError(f"{directory}: not a sweep directory (no {ResultStore.MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: cannot read the manifest ({exc})") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise SweepError(f"{path}: not a tipline sweep manifest (format {manifest.get('format')!r})")
    return manifest


def order_columns(frame: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Rows by run id; columns: run columns, factors, error, then the summary metrics."""
    if frame.empty:
        return frame
    if "error" in frame.columns:  # text or None, whatever the Parquet or pandas string type
        frame = frame.assign(error=[None if not isinstance(e, str) else e for e in frame["error"]])
        frame["error"] = frame["error"].astype(object)
    first = [c for c in (*RUN_COLUMNS, *factors, "error") if c in frame.columns]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def load_results(directory: Path | str) -> pd.DataFrame:
    """Every stored run of a sweep directory, one row per run, ordered by run id."""
    manifest = read_manifest(directory)
    parts = sorted((Path(directory) / ResultStore.RESULTS).glob("part-*.parquet"))
    frames = [pd.read_parquet(p) for p in parts]
    frames = [f for f in frames if not f.empty]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*RUN_COLUMNS, "error"])
    return order_columns(frame, manifest["design"]["factors"])


# --------------------------------------------------------------------------------------------------
# Running a sweep


def progress_bar(total: int | None, initial: int, label: str, show: bool | None) -> Any:
    from tqdm import tqdm
    if show is None:
        show = sys.stderr.isatty()
    return tqdm(total=total, initial=initial, desc=label, unit="run", disable=not show, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def run_sweep(sweep: str | Path | SweepSpec | Mapping[str, Any] | Design, out: str | Path | None = None, *,
              workers: int | None = None, scheduler: str | None = None, dask_local: bool = False,
              resume: bool = False, overrides: Sequence[str] = (), progress: bool | None = None,
              chunk_rows: int = 64, chunk_seconds: float = 10.0, simulate: Simulate | None = None) -> pd.DataFrame:
    """Run every (design point, replication) of a sweep; return one row per run as a DataFrame.

    `sweep`: a sweep file (path or shipped name), a :class:`SweepSpec`, a dict shaped like the TOML,
    or a resolved :class:`Design`. `out`: a directory for the Parquet store (None: results only in
    memory). `resume`: continue the sweep stored in `out`, skipping stored runs. `workers`: local
    processes (default all cores; 1 runs in this process), or Dask workers with `dask_local`;
    `scheduler`: address of an existing Dask scheduler. `progress`: a bar with rate and ETA
    (default: only on a terminal). Rows are written in chunks of at most `chunk_rows` runs or every
    `chunk_seconds` seconds. `simulate(scenario, seed) -> (model, summary)` replaces
    :func:`model.model.run` (it must be importable by workers). Failed runs have an ``error`` text
    and no metrics; ``frame.attrs["failed"]`` counts them. Results do not depend on the runner.
    """
    design = design_from(sweep, overrides)
    if chunk_rows < 1:
        raise SweepError(f"chunk_rows {chunk_rows}: must be at least 1")
    tasks = design.tasks()
    base_table = design.base.model_dump(mode="json")
    rows: list[dict[str, Any]] = []
    with open_executor(workers, scheduler, dask_local) as (executor, slots):
        store: ResultStore | None = None
        if out is not None:
            out = Path(out)
            manifest = design.manifest()
            store = (ResultStore.reopen(out, manifest) if resume and (out / ResultStore.MANIFEST).exists()
                     else ResultStore.create(out, manifest))
            done = store.finished_run_ids()
            tasks = [t for t in tasks if t.run_id not in done]
        bar = progress_bar(design.runs, design.runs - len(tasks), design.spec.name or "sweep", progress)
        failed = 0
        last_flush = time.monotonic()
        try:
            work = partial(execute_run, base_table, simulate=simulate)
            for row in map_unordered(executor, work, tasks, 2 * slots):
                row.update(design.points[row["point"]])
                failed += row["error"] is not None
                if store is None:
                    rows.append(row)
                else:
                    store.add(row)
                    if store.buffered >= chunk_rows or time.monotonic() - last_flush >= chunk_seconds:
                        store.flush()
                        last_flush = time.monotonic()
                bar.update(1)
                if failed:
                    bar.set_postfix(failed=failed, refresh=False)
        except BrokenProcessPool as exc:
            stored = f"; finished runs are stored in {out}, --resume continues" if out is not None else ""
            raise RuntimeError(f"a worker process died (killed, or out of memory?): {exc}{stored}") from exc
        finally:
            if store is not None:
                store.flush()
            bar.close()
    if store is not None:
        frame = store.load()
    else:
        frame = order_columns(pd.DataFrame(rows), design.factor_names) if rows else pd.DataFrame(
            columns=[*RUN_COLUMNS, *design.factor_names, "error"])
    frame.attrs["failed"] = int(frame["error"].notna().sum()) if "error" in frame else 0
    frame.attrs["design"] = design.manifest_design()
    return frame
