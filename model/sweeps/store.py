"""The resumable result store of a sweep: a manifest and atomically written Parquet chunks.

Results go to a directory: ``manifest.json`` (resolved design, base scenario, package version) and
``results/part-NNNNN.parquet`` chunks, each written to a hidden temporary file and renamed into
place, so a killed sweep leaves only whole chunks. :meth:`ResultStore.open` takes the directory's
lock (:mod:`model.sweeps.lock`) for the whole sweep and accepts every state a kill can leave; every
read is verified (:mod:`model.sweeps.verify`); ``resume`` drops exact duplicate rows and skips the
runs already stored.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.atomic import write_file
from model.params import Scenario
from model.sweeps.designs import MANIFEST_FORMAT, factor_overrides, scenario_at
from model.sweeps.lock import LOCK_NAME, DirectoryLock
from model.sweeps.spec import RUN_COLUMNS, SweepError
from model.sweeps.verify import check_rows, check_unique, checked_design, read_chunk

#: What a sweep killed while creating its directory leaves there: the lock and a half-written manifest.
LEFTOVERS = frozenset({LOCK_NAME, ".manifest.json.tmp"})


class ResultStore:
    """A sweep directory: ``manifest.json`` and ``results/part-NNNNN.parquet``, one row per run."""

    MANIFEST = "manifest.json"
    RESULTS = "results"

    def __init__(self, directory: Path | str, lock: DirectoryLock | None = None) -> None:
        self.directory = Path(directory)
        self.results = self.directory / self.RESULTS
        self.lock = lock
        self._buffer: list[dict[str, Any]] = []
        numbers = [int(m.group(1)) for p in self.parts() if (m := re.fullmatch(r"part-(\d+)\.parquet", p.name))]
        self._next_part = 1 + max(numbers, default=-1)

    @classmethod
    def open(cls, directory: Path | str, manifest: Mapping[str, Any], resume: bool = False) -> ResultStore:
        """The store of a sweep, locked for this writer until :meth:`close`: a new one, or with `resume`
        the one there (made by the same design), from any state a killed sweep leaves (nothing yet, an
        empty directory, a lock and a half-written manifest, a manifest without results)."""
        directory = Path(directory)
        _refuse_foreign(directory, resume)  # before anything is written into a directory that is not ours
        directory.mkdir(parents=True, exist_ok=True)
        lock = DirectoryLock(directory)
        try:
            _refuse_foreign(directory, resume)  # again, now that no other writer can change it
            if (directory / cls.MANIFEST).exists():
                store = cls.reopen(directory, manifest, lock)
            else:
                (directory / ".manifest.json.tmp").unlink(missing_ok=True)
                store = cls.create(directory, manifest, lock)
        except BaseException:
            lock.release()
            raise
        return store

    @classmethod
    def create(cls, directory: Path | str, manifest: Mapping[str, Any],
               lock: DirectoryLock | None = None) -> ResultStore:
        """Start a new sweep directory (it must not exist, or hold nothing but a killed creation's leftovers)."""
        directory = Path(directory)
        _refuse_foreign(directory, resume=False)
        directory.mkdir(parents=True, exist_ok=True)
        write_file(directory / cls.MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=1) + "\n"))
        (directory / cls.RESULTS).mkdir(exist_ok=True)
        return cls(directory, lock)

    @classmethod
    def reopen(cls, directory: Path | str, manifest: Mapping[str, Any],
               lock: DirectoryLock | None = None) -> ResultStore:
        """Continue a sweep directory made by the same design: delete leftover temporary files, check every
        stored chunk and drop exact duplicate rows (anything else wrong is an error naming the file)."""
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
        store = cls(directory, lock)
        store.drop_duplicates()
        return store

    def close(self) -> None:
        """Release the directory's lock (the buffer must have been flushed)."""
        if self.lock is not None:
            self.lock.release()

    def parts(self) -> list[Path]:
        return sorted(self.results.glob("part-*.parquet"))

    def chunks(self) -> list[tuple[Path, pa.Table]]:
        """Every chunk, verified against the manifest (schema, numbering, seeds, factor values)."""
        return verified_chunks(self.directory, read_manifest(self.directory)["design"], self.parts())

    def finished_run_ids(self) -> set[int]:
        """Run ids already stored (finished or failed), from verified chunks."""
        return {i for _, table in self.chunks() for i in table.column("run_id").to_pylist()}

    def drop_duplicates(self) -> int:
        """Remove rows that repeat an earlier row exactly (a copied chunk): rewrite or delete the chunk holding
        them, atomically. A repeated run with different values is an error naming both files. Returns the
        number of rows dropped."""
        first: dict[tuple[int, int], tuple[Path, dict[str, Any]]] = {}
        dropped = 0
        for path, table in self.chunks():
            rows = table.to_pylist()
            keep = []
            for i, row in enumerate(rows):
                key = (row["point"], row["replication"])
                if key not in first:
                    first[key] = (path, row)
                    keep.append(i)
                elif _record(first[key][1]) != _record(row):
                    raise SweepError(f"{path}: run {row['run_id']} (point {key[0]}, replication {key[1]}) is also "
                                     f"stored in {first[key][0].name} with different values; cannot tell which to "
                                     "keep (move one of the files out of results/, then --resume)")
            if len(keep) < len(rows):
                dropped += len(rows) - len(keep)
                if keep:
                    kept = table.take(pa.array(keep, pa.int64()))
                    write_file(path, lambda p, t=kept: pq.write_table(t, p))
                else:
                    path.unlink()
        return dropped

    def add(self, row: dict[str, Any]) -> None:
        self._buffer.append(row)

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def flush(self) -> None:
        """Write the buffered rows as the next chunk (atomically), in run order."""
        if not self._buffer:
            return
        self._buffer.sort(key=lambda row: row["run_id"])  # a chunk's rows in run order, whatever finished first
        table = pa.Table.from_pandas(pd.DataFrame(self._buffer), preserve_index=False)  # union of the rows' keys
        if "error" in table.column_names:  # text, even in a chunk where no run failed (not pyarrow's null type)
            table = table.set_column(table.column_names.index("error"), "error", table["error"].cast(pa.string()))
        path = self.results / f"part-{self._next_part:05d}.parquet"
        write_file(path, lambda p: pq.write_table(table, p))
        self._next_part += 1
        self._buffer.clear()

    def load(self) -> pd.DataFrame:
        return load_results(self.directory)


def _record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row without its empty cells, NaN made comparable: equal records are the same run stored twice."""
    return {k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items() if v is not None}


def _refuse_foreign(directory: Path, resume: bool) -> None:
    """A directory to start or resume a sweep in: new, empty, a killed creation's leftovers, or (to resume) a
    sweep directory; anything else is refused before anything is written there."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise SweepError(f"--out {directory}: is a file, not a directory")
    names = {p.name for p in directory.iterdir()}
    if not names - LEFTOVERS:
        return
    if ResultStore.MANIFEST not in names:
        raise SweepError(f"--out {directory}: exists and is not empty, and holds no sweep ({ResultStore.MANIFEST} "
                         "missing): choose a new directory")
    if not resume:
        raise SweepError(f"--out {directory}: exists and is not empty (use --resume to continue the sweep "
                         "stored there, or choose a new directory)")


def read_manifest(directory: Path | str) -> dict[str, Any]:
    """The manifest of a sweep directory, checked (a JSON object of this format, a consistent design)."""
    path = Path(directory) / ResultStore.MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise SweepError(f"{directory}: not a sweep directory (no {ResultStore.MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: cannot read the manifest ({exc})") from None
    if not isinstance(manifest, dict):
        raise SweepError(f"{path}: not a tipline sweep manifest (a JSON {type(manifest).__name__}, not an object)")
    if manifest.get("format") != MANIFEST_FORMAT:
        raise SweepError(f"{path}: not a tipline sweep manifest (format {manifest.get('format')!r})")
    checked_design(manifest, path)
    return manifest


def verified_chunks(directory: Path, design: Mapping[str, Any], parts: Sequence[Path]) -> list[tuple[Path, pa.Table]]:
    """Each chunk read and checked against `design`: schema, numbering, seeds and factor values."""
    chunks = []
    for path in parts:
        table = read_chunk(path, design["factors"])
        check_rows(table.select(list(dict.fromkeys([*RUN_COLUMNS, *design["factors"]]))).to_pandas(), design, path)
        chunks.append((path, table))
    return chunks


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
    """Every stored run of a sweep directory, one row per run, ordered by run id; verified (the manifest, each
    chunk's schema, numbering, seeds and factor values, each run once), else a SweepError naming the file."""
    manifest = read_manifest(directory)
    design = manifest["design"]
    parts = sorted((Path(directory) / ResultStore.RESULTS).glob("part-*.parquet"))
    chunks = verified_chunks(Path(directory), design, parts)
    frames = [(path, table.to_pandas()) for path, table in chunks]
    check_unique(frames)
    nonempty = [f for _, f in frames if not f.empty]
    frame = pd.concat(nonempty, ignore_index=True) if nonempty else pd.DataFrame(columns=[*RUN_COLUMNS, "error"])
    return order_columns(frame, design["factors"])


def point_scenario(directory: Path | str, point: int, replication: int = 0,
                   overrides: Sequence[str] = ()) -> Scenario:
    """Design point `point` of the sweep stored in `directory` as the scenario its runs used (the base scenario
    with the point's factor values), seeded as its replication `replication` was, then `overrides` (``key=value``):
    to rerun one point, e.g. with a longer warm-up."""
    manifest = read_manifest(directory)
    design = manifest["design"]
    points, seeds = design["points"], design["seeds"]
    if not 0 <= point < len(points):
        raise SweepError(f"--point {point}: {directory} has design points 0 to {len(points) - 1}")
    if not 0 <= replication < len(seeds):
        raise SweepError(f"--replication {replication}: {directory} has replications 0 to {len(seeds) - 1}")
    texts = factor_overrides(design["keys"], points[point])
    return scenario_at(manifest["base_scenario"], [*texts, f"run.seed={seeds[replication]}", *overrides],
                       label=f"design point {point}")
