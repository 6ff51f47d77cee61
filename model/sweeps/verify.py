"""Verification of a sweep directory on every read: the manifest, each chunk's schema, every row.

Every reader (:func:`model.sweeps.store.load_results`, so ``tipline analyze``, ``tipline report`` and
``--resume``) goes through here. A directory that does not hold what its manifest describes is a
:class:`~model.sweeps.spec.SweepError` (exit 2) naming the file and what is wrong:

- the manifest: a JSON object of this format, with a ``design`` table whose factors, points,
  replications, seeds and run count agree with each other (:func:`checked_design`);
- each chunk: a readable Parquet file with the run columns (integers, no nulls), every factor
  column, a text ``error`` column (if any) and numeric metric columns (:func:`read_chunk`);
- each row: ``0 <= point < points``, ``0 <= replication < replications``,
  ``run_id = point x replications + replication``, the replication's seed, and factor values equal
  to the manifest's design point (:func:`check_rows`);
- across chunks: each (point, replication) stored once (:func:`check_unique`; ``--resume`` drops
  exact duplicates first, :func:`model.sweeps.store.drop_duplicates`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.metrics import METRICS
from model.sweeps.spec import RUN_COLUMNS, SweepError

DESIGN_KINDS = ("grid", "lhs", "sobol")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def checked_design(manifest: Any, path: Path) -> dict[str, Any]:
    """The manifest's ``design`` table, after checking that its parts agree with each other."""
    def bad(what: str) -> SweepError:
        return SweepError(f"{path}: {what} (the manifest does not describe a sweep; was it edited?)")

    design = manifest.get("design")
    if not isinstance(design, dict):
        raise bad(f"design: a table is required, found {json.dumps(design)[:60] if design is not None else 'none'}")
    factors = design.get("factors")
    if not isinstance(factors, list) or not factors or not all(isinstance(f, str) for f in factors) \
            or len(set(factors)) != len(factors):
        raise bad(f"design.factors: a non-empty list of distinct names is required, found {factors!r}")
    clash = sorted(set(factors) & {*RUN_COLUMNS, "error"})
    if clash:
        raise bad(f"design.factors: {clash[0]!r} is a run column, not a factor")
    points = design.get("points")
    if not isinstance(points, list) or not points:
        raise bad("design.points: a non-empty list of design points is required")
    for i, point in enumerate(points):
        if not isinstance(point, dict) or sorted(point) != sorted(factors):
            keys = sorted(point) if isinstance(point, dict) else type(point).__name__
            raise bad(f"design.points[{i}]: has {keys}, the factors are {factors}")
    reps, seeds, runs = design.get("replications"), design.get("seeds"), design.get("runs")
    if not _is_int(reps) or reps < 1:
        raise bad(f"design.replications: a whole number of at least 1 is required, found {reps!r}")
    if not isinstance(seeds, list) or len(seeds) != reps or not all(_is_int(s) for s in seeds):
        raise bad(f"design.seeds: {reps} whole numbers (one per replication) are required")
    if runs != len(points) * reps:
        raise bad(f"design.runs: {runs!r}, but {len(points)} points x {reps} replications = {len(points) * reps}")
    if design.get("kind") not in DESIGN_KINDS:
        raise bad(f"design.kind: {design.get('kind')!r} (allowed: {', '.join(DESIGN_KINDS)})")
    if design["kind"] == "sobol":
        sobol = design.get("sobol")
        if not isinstance(sobol, dict) or not isinstance(sobol.get("calc_second_order"), bool):
            raise bad("design.sobol: a table with calc_second_order is required for a sobol design")
    if not isinstance(design.get("spec"), dict) or not isinstance(design["spec"].get("metrics", []), list):
        raise bad("design.spec: the sweep file's table is required")
    return design


def read_chunk(path: Path, factors: Sequence[str]) -> pa.Table:
    """One chunk, after checking its schema: run columns, factors, ``error``, numeric metrics."""
    hint = "(not written by tipline sweep: move it out of results/, or --resume after removing it)"
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise SweepError(f"{path}: not a readable Parquet chunk ({type(exc).__name__}: {exc}) {hint}") from None
    names = table.column_names
    if len(set(names)) != len(names):
        raise SweepError(f"{path}: repeated column names {hint}")
    missing = [c for c in (*RUN_COLUMNS, *factors) if c not in names]
    if missing:
        raise SweepError(f"{path}: column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing: not a chunk "
                         f"of this sweep, whose factors are {', '.join(factors)} {hint}")
    for column in RUN_COLUMNS:
        kind = table.schema.field(column).type
        if not pa.types.is_integer(kind) or table[column].null_count:
            raise SweepError(f"{path}: column {column} must hold whole numbers without gaps, found {kind} {hint}")
    kind = table.schema.field("error").type if "error" in names else pa.null()  # no column: no failed run
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
        raise SweepError(f"{path}: column error must be text, found {kind} {hint}")
    for column in names:
        kind = table.schema.field(column).type
        if column in METRICS and column not in factors and not (
                pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)):
            raise SweepError(f"{path}: metric column {column} must be numeric, found {kind} {hint}")
    return table


def _equal(a: Any, b: Any) -> bool:
    """Equal factor values: numbers by value (1 == 1.0), text only to text, NaN to NaN."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def check_rows(frame: pd.DataFrame, design: Mapping[str, Any], path: Path) -> None:
    """Every row of one chunk is a run of this design, numbered and seeded as the manifest says."""
    points, reps, seeds = design["points"], design["replications"], design["seeds"]
    p, r = frame["point"].to_numpy(), frame["replication"].to_numpy()
    run_id, seed = frame["run_id"].to_numpy(), frame["seed"].to_numpy()
    problems = [
        ((p < 0) | (p >= len(points)), f"point outside the design's 0..{len(points) - 1}"),
        ((r < 0) | (r >= reps), f"replication outside the design's 0..{reps - 1}"),
    ]
    for mask, what in problems:
        if mask.any():
            i = int(mask.argmax())
            raise SweepError(f"{path}: run_id {run_id[i]} (point {p[i]}, replication {r[i]}): {what} "
                             f"({int(mask.sum())} such rows; the manifest has {len(points)} points x {reps} "
                             "replications)")
    wrong_id = run_id != p * reps + r
    if wrong_id.any():
        i = int(wrong_id.argmax())
        raise SweepError(f"{path}: run_id {run_id[i]} of point {p[i]}, replication {r[i]} should be "
                         f"{p[i] * reps + r[i]} (point x {reps} replications + replication; {int(wrong_id.sum())} "
                         "such rows)")
    expected_seed = pd.Series(seeds).to_numpy()[r]
    wrong_seed = seed != expected_seed
    if wrong_seed.any():
        i = int(wrong_seed.argmax())
        raise SweepError(f"{path}: run_id {run_id[i]}: seed {seed[i]}, but replication {r[i]} has seed "
                         f"{expected_seed[i]} in the manifest")
    for factor in design["factors"]:
        stored = frame[factor].tolist()
        for i, (value, point) in enumerate(zip(stored, p.tolist(), strict=True)):
            if not _equal(value, points[point][factor]):
                raise SweepError(f"{path}: run_id {run_id[i]}: {factor} = {value!r}, but design point {point} has "
                                 f"{points[point][factor]!r} in the manifest")


def check_unique(chunks: Sequence[tuple[Path, pd.DataFrame]]) -> None:
    """Each (point, replication) once across the chunks, else an error naming the files that repeat it."""
    seen: dict[tuple[int, int], Path] = {}
    for path, frame in chunks:
        for point, rep, run_id in zip(frame["point"].tolist(), frame["replication"].tolist(),
                                      frame["run_id"].tolist(), strict=True):
            first = seen.get((point, rep))
            if first is not None:
                where = f"twice in {path.name}" if first == path else f"in {first.name} and in {path.name}"
                raise SweepError(f"{path.parent}: run {run_id} (point {point}, replication {rep}) is stored {where} "
                                 "(a copied chunk?); tipline sweep --resume drops exact duplicates")
            seen[(point, rep)] = path


__all__ = ["check_rows", "check_unique", "checked_design", "read_chunk"]
