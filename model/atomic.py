"""Atomic writes: a file or a directory appears whole or not at all, and a failed write leaves nothing behind.

Every writer of results (``tipline run --out``, the sweep store, ``tipline analyze``, ``tipline report``)
goes through these two functions: the content is written to a hidden temporary sibling, flushed, and
renamed into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

Writer = Callable[[Path], None]


def write_file(path: Path, write: Writer) -> None:
    """Write `path` through a hidden temporary sibling, flush it to disk, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_directory(path: Path, files: Mapping[str, Writer], replace: bool = False) -> None:
    """Write every file into a hidden temporary sibling directory, then move it into place as `path`.

    `path` must not exist or be empty, unless `replace`, in which case the old directory is swapped out
    and removed only after the new one is in place.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    old = None
    try:
        for name, write in files.items():
            write(tmp / name)
        if path.exists():
            if replace:
                old = path.with_name(f".{path.name}.old.{os.getpid()}")
                path.rename(old)
            else:
                path.rmdir()  # empty: the caller checked
        tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not path.exists():
            old.rename(path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
