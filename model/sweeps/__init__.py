"""Sweeps: designs (grid, Latin hypercube, Sobol) of many runs, on local processes or a Dask cluster.

The public API::

    from model.sweeps import run_sweep, load_results, analyze_sweep, staffing_equivalence
    frame = run_sweep("window_x_investigators", "results/wxi", workers=2)   # one row per run
    tables = analyze_sweep("results/wxi")                                    # per-point CIs, Sobol indices

Modules: :mod:`~model.sweeps.spec` (sweep files and their validation), :mod:`~model.sweeps.designs` (the
design: factor keys, points, common seeds), :mod:`~model.sweeps.runs` (one run to one row),
:mod:`~model.sweeps.sweep` (running a sweep), :mod:`~model.sweeps.store` (the resumable Parquet store),
:mod:`~model.sweeps.analysis` (per-point intervals and Sobol indices), :mod:`~model.sweeps.equivalence`
(the staffing the 90-day rule needs), :mod:`~model.sweeps.cli` (``tipline sweep``, ``analyze``,
``equivalence``).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # as in model: for type checkers; imported on first use at run time
    from model.sweeps.analysis import analyze_sweep
    from model.sweeps.designs import Design, design_from, resolve_design, scenario_at
    from model.sweeps.equivalence import staffing_equivalence
    from model.sweeps.spec import SweepError, SweepSpec, load_sweep
    from model.sweeps.store import ResultStore, load_results
    from model.sweeps.sweep import run_sweep

__all__ = ["Design", "ResultStore", "SweepError", "SweepSpec", "analyze_sweep", "design_from", "load_results",
           "load_sweep", "resolve_design", "run_sweep", "scenario_at", "staffing_equivalence"]


def __getattr__(name: str):
    """The API's names, imported on first use (as in :mod:`model`)."""
    if name not in __all__:
        raise AttributeError(f"module 'model.sweeps' has no attribute {name!r}")
    from model.sweeps import analysis, designs, equivalence, spec, store, sweep

    return getattr(next(m for m in (analysis, designs, equivalence, spec, store, sweep) if hasattr(m, name)), name)
