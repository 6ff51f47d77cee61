"""An agent-based model of the US CyberTipline pipeline and the evidence lost before legal process.

The Python API in one place::

    from model import load_scenario, run, compare
    scenario = load_scenario("x_platform", ["retention.window_days=365"])
    model, summary = run(scenario)            # summary: dict of DESIGN §6 keys, US first
    print(summary["evidence_lost_rate_us"])
    daily = model.timeseries()                # pandas DataFrame, one row per day
    table = compare("baseline_90day", "report_act_1yr", replications=5)
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # what type checkers and editors see; at run time each name is imported on first use (below)
    from model.experiments import compare
    from model.model import RetentionModel, run
    from model.params import Scenario
    from model.scenarios import ScenarioError, load_scenario

__version__ = "0.2.0"

__all__ = ["RetentionModel", "Scenario", "ScenarioError", "__version__", "compare", "load_scenario", "run"]


def __getattr__(name: str):
    """The API's names, imported on first use, so that ``tipline --help`` and the command's other small uses do not
    wait for Mesa, pandas and SciPy (about 2 s)."""
    if name not in __all__:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    from model import experiments, params, scenarios
    from model import model as simulation

    return getattr(next(m for m in (simulation, params, scenarios, experiments) if hasattr(m, name)), name)
