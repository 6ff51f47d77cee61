"""One writer at a time: an exclusive lock on a sweep directory for the whole sweep.

:class:`DirectoryLock` takes ``fcntl.flock`` on ``DIR/.lock`` (created if missing, never removed: removing
a flock file races with a writer that has just opened it) and writes the owner's pid, host and start
time into it. A second writer gets a :class:`~model.sweeps.spec.SweepError` (exit 2) naming the owner.
A lock held by nobody on record (a reader's momentary probe, or a writer in the instant before it writes its
record) is tried again for up to :data:`SETTLE_SECONDS` before that.
The kernel releases the lock when its process ends, however it ends (exit, crash, SIGKILL), so a lock
is never left behind; the file descriptor is not inherited by worker processes. Readers ask
:func:`writer` whether a sweep is still being written.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from model.sweeps.spec import SweepError

LOCK_NAME = ".lock"
NOT_RECORDED = "owner not recorded yet"
#: How long a writer keeps trying a lock whose owner is not on record (a probe holds it for microseconds).
SETTLE_SECONDS = 1.0


def _owner(fd: int) -> str:
    """Who holds the lock, as its lock file says."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or "pid" not in data:
        return NOT_RECORDED
    return f"pid {data['pid']} on {data.get('host', '?')}, since {data.get('started', '?')}"


def writer(directory: Path | str) -> str | None:
    """Who is writing the sweep in `directory` right now (the lock's owner, as :class:`DirectoryLock` records
    it), or None. Readers (``tipline analyze``, ``tipline report``) call it to say that the results are partial;
    the probe holds a shared lock for a moment and writes nothing."""
    try:
        fd = os.open(Path(directory) / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return _owner(fd)
    finally:
        os.close(fd)
    return None


class DirectoryLock:
    """An exclusive, non-blocking lock on a directory (``DIR/.lock``); release it with :meth:`release`."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        owner = self._take(self._fd)
        if owner is not None:
            self.release()
            raise SweepError(f"{self.directory}: in use by another tipline sweep ({owner}; lock {self.path}); "
                             "one writer at a time: wait for it to finish, or stop it, then --resume") from None
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, (json.dumps(record) + "\n").encode(), 0)

    @staticmethod
    def _take(fd: int) -> str | None:
        """Take the exclusive lock on `fd`: None, or who holds it. A holder not on record is waited for a moment."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return None
            except OSError:
                owner = _owner(fd)
                if owner != NOT_RECORDED or time.monotonic() >= deadline:
                    return owner
                time.sleep(0.005)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Give the lock up (closing the descriptor releases the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DirectoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
