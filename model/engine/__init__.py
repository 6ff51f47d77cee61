"""The compiled engine: the agencies' day and NCMEC's triage as numba kernels over arrays (the numpy classes are
the reference).

:class:`model.engine.casework.CompiledCasework` and :class:`model.engine.ncmec.CompiledNcmec` run the same day as
:class:`model.casework.Casework` and :class:`model.agents.Ncmec` with identical results (tests/test_engine.py
runs both); ``RetentionModel(engine="numpy")`` or the environment variable ``TIPLINE_ENGINE=numpy`` selects the
reference.

Compiled kernels are cached on disk. numba keys a cached function on its own file only, so a kernel would keep
an old copy of a helper changed in another file; the cache directory is therefore named after a digest of the
engine's sources (and the ledger's stage numbers), and any change compiles afresh (about a minute, once). When a
version compiles afresh, the caches of earlier versions (about 10 MB each) are removed, except the newest
:data:`KEEP_CACHES` and any written in the last hour. ``NUMBA_CACHE_DIR``, if set, is used as it is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TextIO

import numba

_HERE = Path(__file__).resolve().parent
_SOURCES = [*sorted(_HERE.glob("*.py")), _HERE.parent / "outcomes.py"]
DIGEST = hashlib.sha256(b"".join(path.read_bytes() for path in _SOURCES)).hexdigest()[:16]
#: Earlier versions' caches kept when a version compiles afresh (besides any written in the last hour).
KEEP_CACHES = 3


def forget_old_caches(cache: Path, keep: int = KEEP_CACHES, idle_seconds: float = 3600) -> list[Path]:
    """Remove the caches beside `cache` (``numba-*``) of earlier engine versions, except the `keep` written last and
    any written in the last `idle_seconds` (a process of that version may still be compiling into it); returns
    those removed."""
    def written(path: Path) -> float:   # a cache's files are in its subdirectories
        try:
            return max([path.stat().st_mtime, *(p.stat().st_mtime for p in path.iterdir() if p.is_dir())])
        except OSError:   # removed meanwhile by another process starting this version
            return time.time()

    others = sorted(((written(p), p) for p in cache.parent.glob("numba-*") if p.is_dir() and p != cache), reverse=True)
    removed = [p for when, p in others[keep:] if time.time() - when > idle_seconds]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


if not os.environ.get("NUMBA_CACHE_DIR"):
    _cache = _HERE / "__pycache__" / f"numba-{DIGEST}"
    if not _cache.exists():   # a new version: compiles afresh
        forget_old_caches(_cache)
    numba.config.CACHE_DIR = str(_cache)


def kernels_cached() -> bool:
    """Whether this version's kernels are in numba's cache (if not, the first run compiles them: about a minute)."""
    return any(Path(numba.config.CACHE_DIR).rglob("*.nbi"))


def note_compilation(stream: TextIO | None = None) -> None:
    """Say, on a terminal, that the kernels are about to be compiled (a minute without output otherwise)."""
    stream = sys.stderr if stream is None else stream
    if stream.isatty() and not kernels_cached():   # the cache is searched only when someone is there to tell
        print("tipline: compiling the model's kernels for this version (once, about a minute; then cached)",
              file=stream, flush=True)
