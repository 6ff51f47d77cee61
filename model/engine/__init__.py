"""The compiled engine: the agencies' day and NCMEC's triage as numba kernels over arrays (the numpy classes are
the reference).

:class:`model.engine.casework.CompiledCasework` and :class:`model.engine.ncmec.CompiledNcmec` run the same day as
:class:`model.casework.Casework` and :class:`model.agents.Ncmec` with identical results (tests/test_engine.py
runs both); ``RetentionModel(engine="numpy")`` or the environment variable ``TIPLINE_ENGINE=numpy`` selects the
reference.

Compiled kernels are cached on disk. numba keys a cached function on its own file only, so a kernel would keep
an old copy of a helper changed in another file; the cache directory is therefore named after a digest of the
engine's sources (and the ledger's stage numbers), and any change compiles afresh (about a minute, once).
``NUMBA_CACHE_DIR``, if set, is used as it is.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import TextIO

import numba

_HERE = Path(__file__).resolve().parent
_SOURCES = [*sorted(_HERE.glob("*.py")), _HERE.parent / "outcomes.py"]
DIGEST = hashlib.sha256(b"".join(path.read_bytes() for path in _SOURCES)).hexdigest()[:16]
if not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = str(_HERE / "__pycache__" / f"numba-{DIGEST}")


def kernels_cached() -> bool:
    """Whether this version's kernels are in numba's cache (if not, the first run compiles them: about a minute)."""
    return any(Path(numba.config.CACHE_DIR).rglob("*.nbi"))


def note_compilation(stream: TextIO | None = None) -> None:
    """Say, on a terminal, that the kernels are about to be compiled (a minute without output otherwise)."""
    stream = sys.stderr if stream is None else stream
    if stream.isatty() and not kernels_cached():   # the cache is searched only when someone is there to tell
        print("tipline: compiling the model's kernels for this version (once, about a minute; then cached)",
              file=stream, flush=True)
