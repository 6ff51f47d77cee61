"""What every ``tipline`` command shares: exit codes, options, overrides, tables and progress on a terminal.

The sub-command modules (:mod:`model.cli`, :mod:`model.sweeps.cli`, :mod:`model.calibration`,
:mod:`dashboards.cli`) import from here, and :mod:`model.cli` imports them: no module imports the one that
imports it.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.errors import BadInput
from model.scenarios import Override

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_ERROR",
    "EXIT_OK",
    "MAX_REPLICATIONS",
    "BadInput",
    "add_runner_options",
    "add_set_option",
    "check_out_dir",
    "check_replications",
    "check_writable",
    "day_progress",
    "format_value",
    "overrides_from",
    "print_table",
]


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """The repeatable ``--set KEY=VALUE`` override option."""
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a parameter, e.g. retention.window_days=365 or "
                             "platforms.X.reports_per_day=2500 (repeatable)")


def add_runner_options(parser: argparse.ArgumentParser) -> None:
    """Where the runs happen (one executor for every command that runs many): local processes or Dask."""
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="local worker processes, or Dask workers with --dask-local (default: all cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on an existing Dask distributed cluster, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--dask-local", action="store_true",
                        help="start a Dask LocalCluster of --workers processes on 127.0.0.1 for this command")
    parser.add_argument("--progress", action="store_true", default=None,
                        help="show the progress bar (rate, ETA) even when stderr is not a terminal")


#: Most replications one command runs (a sweep file's limit too): 100,000 pairs of national runs take weeks.
MAX_REPLICATIONS = 100_000


def check_replications(replications: int) -> None:
    """``--replications`` must be a whole number from 1 to :data:`MAX_REPLICATIONS` (BadInput otherwise)."""
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise BadInput(f"--replications {replications:,}: must be 1 to {MAX_REPLICATIONS:,}, as in a sweep file")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (argparse then exits 2 naming the option)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return value


def overrides_from(args: argparse.Namespace) -> list[str]:
    """The ``--set`` overrides, with ``--seed`` and ``--days`` where the command has them."""
    extra = list(getattr(args, "set", None) or [])
    if getattr(args, "seed", None) is not None:
        extra.append(Override(f"run.seed={args.seed}", f"--seed {args.seed}"))
    if getattr(args, "days", None) is not None:
        extra.append(Override(f"run.days={args.days}", f"--days {args.days}"))
    return extra


def check_out_dir(out: Path) -> None:
    """An output directory must be new or empty (nothing of the user's is overwritten) and writable."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"--out {out}: exists and is not an empty directory (choose a new one)")
    check_writable(out)


def check_writable(target: Path, option: str = "--out", shown: Path | None = None) -> None:
    """Refuse, before any work, a destination that cannot be written: a path under a file, a read-only or
    virtual file system (``/proc``), a folder without permission. Probes with a hidden file it removes.
    `shown`: the path the user gave, if `target` is its folder."""
    shown = shown or target
    existing = Path(target).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(f"{option} {shown}: {existing} is a file, not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".tipline-probe-"):
            pass
    except OSError as exc:
        raise BadInput(f"{option} {shown}: cannot write in {existing} ({exc.strerror or exc})") from None


def format_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def print_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    """Print rows as an aligned plain-text table: numbers right-aligned, text left-aligned."""
    cells = [list(header)] + [[format_value(v) for v in row] for row in rows]
    numeric = [all(isinstance(row[i], int | float) or row[i] is None for row in rows) for i in range(len(header))]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if numeric[i] else c.ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def day_progress(total: int, label: str) -> Any:
    """A tqdm bar of simulated days on an interactive terminal, else None (quiet in scripts and CI)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=label, unit="day", leave=False)
