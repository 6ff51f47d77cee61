"""How sure is the answer? Its distribution over the plausible values of what is not known, what drives it,
and where a condition on it holds (``tipline uncertainty``).

    from model.uncertainty import run_study, summarize
    study = run_study("x_platform", samples=64, out="results/uncertainty")   # 90-day rule vs one-year
    summary = summarize(study)             # distributions, drivers (PRCC or Sobol), PRIM region, headline

Modules: :mod:`~model.uncertainty.assumptions` (the parameters with plausible ranges, drawn on the unit
cube), :mod:`~model.uncertainty.study` (A and B at every draw, as two resumable sweeps on common random
numbers), :mod:`~model.uncertainty.settle` (rerunning the draws that had not settled),
:mod:`~model.uncertainty.drivers` (partial rank correlation, Sobol indices through SALib),
:mod:`~model.uncertainty.discovery` (PRIM through the EMA Workbench), :mod:`~model.uncertainty.summary`
(``summary.json`` and the headline), :mod:`~model.uncertainty.cli` (the command).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # as in model: for type checkers; imported on first use at run time
    from model.uncertainty.study import Study, run_study
    from model.uncertainty.summary import summarize, write_summary

__all__ = ["Study", "run_study", "summarize", "write_summary"]


def __getattr__(name: str):
    """The API's names, imported on first use (as in :mod:`model`)."""
    if name not in __all__:
        raise AttributeError(f"module 'model.uncertainty' has no attribute {name!r}")
    from model.uncertainty import study, summary

    return getattr(next(m for m in (study, summary) if hasattr(m, name)), name)
