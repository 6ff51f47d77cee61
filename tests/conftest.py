"""Shared fixtures: small, fast scenarios built from the shipped ones."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import pytest

# Every call of a bound kernel checks its arguments' types (model/engine/bound.py); set before the model is imported,
# and inherited by the CLI's and the sweeps' subprocesses.
os.environ.setdefault("TIPLINE_CHECK_KERNELS", "1")

from model import Scenario, load_scenario

#: X alone at a fifth of its volume and staff, for 240 days: a fraction of a second a run.
SMALL = ["run.days=240", "run.warmup_days=30", "platforms.X.reports_per_day=400",
         "law_enforcement.investigators=38", "foreign.investigators=240"]


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels() -> None:
    """Compile the engine's kernels (or load them from numba's cache) once, before any test: on a fresh checkout
    compiling takes about a minute, which a dashboard server, a CLI subprocess or a forked sweep would otherwise
    spend inside a test's time limit. A whole tiny run, summary included, touches every kernel."""
    from model.model import run

    run(load_scenario("x_platform", ["run.days=3", "run.warmup_days=0"]))


@pytest.fixture
def small() -> Callable[..., Scenario]:
    """Build the small X scenario with extra overrides: ``small("retention.window_days=365")``."""
    def build(*overrides: str, base: Iterable[str] = SMALL) -> Scenario:
        return load_scenario("x_platform", [*base, *overrides])
    return build
