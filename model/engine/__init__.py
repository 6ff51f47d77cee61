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
from pathlib import Path

import numba

_HERE = Path(__file__).resolve().parent
_SOURCES = [*sorted(_HERE.glob("*.py")), _HERE.parent / "outcomes.py"]
DIGEST = hashlib.sha256(b"".join(path.read_bytes() for path in _SOURCES)).hexdigest()[:16]
if not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = str(_HERE / "__pycache__" / f"numba-{DIGEST}")
