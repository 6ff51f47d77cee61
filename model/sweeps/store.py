"""The resumable result store of a sweep: a manifest and atomically written Parquet chunks.

Results go to a directory: ``manifest.json`` (resolved design, base scenario, package version) and
``results/part-NNNNN.parquet`` chunks, each written to a hidden temporary file and renamed into
place, so a killed sweep leaves only whole chunks; ``resume`` skips the runs already stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.atomic import write_file
from model.sweeps.designs import MANIFEST_FORMAT
from model.sweeps.spec import RUN_COLUMNS, SweepError


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
        write_file(directory / cls.MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=1) + "\n"))
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
        write_file(path, lambda p: pq.write_table(table, p))
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
