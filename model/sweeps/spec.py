"""Sweep files: the TOML schema, its validation and readable error messages.

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

:func:`parse_spec` validates a table and lists every problem in one :class:`SweepError` naming the
file and the key; :func:`load_sweep` finds and reads a file. Designs are in :mod:`model.designs`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model.console import MAX_REPLICATIONS
from model.errors import validation_message
from model.metrics import METRICS
from model.scenarios import SCENARIO_DIR, ScenarioError, read_toml
from model.schema import section_at

SWEEP_DIR = SCENARIO_DIR / "sweeps"
#: Columns every result row has before the factor values and the run's summary metrics.
RUN_COLUMNS = ("run_id", "point", "replication", "seed")
#: Names a factor column may not take (they are run columns or summary keys that are not metrics).
RESERVED_NAMES = (*RUN_COLUMNS, "error", "scenario", "days", "wall_seconds")


class SweepError(ScenarioError):
    """A sweep file, design or output directory that cannot be used as given (exit code 2)."""


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
    replications: int = Field(1, ge=1, le=MAX_REPLICATIONS, description="runs per design point (common seeds)")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="root seed (default: the base scenario's run.seed)")
    factors: list[Factor] = Field(min_length=1)
    metrics: list[str] = Field(default_factory=lambda: ["evidence_lost_rate_us", "evidence_lost_rate_foreign",
                                                        "evidence_lost_us", "evidence_lost_foreign", "arrests"],
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
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"metrics: {unknown[0]!r} is not a summary metric (allowed: {', '.join(METRICS)})")
        return self


def _allowed_at(loc: Sequence[Any]) -> str:
    """The keys allowed in the table at `loc` of a sweep file."""
    section = section_at(loc, root=SweepSpec)
    if section is None:
        return ""
    return ", ".join(info.alias or name for name, info in section.model_fields.items())


def _factor_entry(node: Any, index: int) -> str:
    label = node.get("key") if isinstance(node, Mapping) else None
    return f"[{index}]" + (f" ({label})" if isinstance(label, str) else "")


def _allowed(loc: Sequence[Any], error_type: str) -> str:
    return f"allowed keys: {_allowed_at(loc[:-1])}" if error_type == "extra_forbidden" else ""


def parse_spec(data: Mapping[str, Any], label: str) -> SweepSpec:
    """Validate a sweep table; every problem is listed in one SweepError naming `label` and the key."""
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SweepError(validation_message(exc, data, lambda loc: label, _allowed, _factor_entry, "(sweep)")) from None


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
