"""The page's model: the base scenario with the sliders' values, run in lockstep with its twin.

The twin runs the same scenario and seed under the other retention rule (a window shorter than one year
is compared with the REPORT Act's 365 days, a window of a year or more with the former 90 days). Both runs
see the same reports and draws (common random numbers), so the gap between their evidence-lost lines is
the effect of the window alone.
"""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd

from dashboards.live.controls import CONTROLS, CONTROLS_BY_NAME, SEED_RANGE, build_scenario, counterfactual_window
from model import RetentionModel
from model.outcomes import FOREIGN, US


class RouteSeries:
    """Cumulative evidence lost and legal process served per route, one row per day, from a model's outcomes.

    The model's daily series pool US and foreign cases; the dashboard leads with US cases, so it records
    the per-route counters itself after every day.
    """

    COLUMNS = ("day", "lost_us", "lost_foreign", "served_us", "served_foreign")

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, int]] = []

    def record(self, model: RetentionModel) -> None:
        out = model.outcomes
        lost = out.lost.sum(axis=1)
        self.rows.append((model.day, int(lost[US]), int(lost[FOREIGN]), int(out.served[US]), int(out.served[FOREIGN])))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(self.COLUMNS))

    def last(self) -> dict[str, int]:
        return dict(zip(self.COLUMNS, self.rows[-1], strict=True))


class DashboardModel(RetentionModel):
    """The page's model: the base scenario with the sliders' values, plus its counterfactual twin.

    Takes one keyword argument per control of :data:`~dashboards.live.controls.CONTROLS` (by its ``name``,
    in the control's unit, e.g. ``window_days=365, automated_percent=60``) and ``rng``, the root seed; the
    twin uses the same seed, so both runs see identical reports and draws. A control left out or ``None``
    keeps the base scenario's value.
    """

    def __init__(self, *, rng: int | None = 1, **values: Any) -> None:
        unknown = sorted(set(values) - set(CONTROLS_BY_NAME))
        if unknown:
            raise TypeError(f"DashboardModel: unknown control {', '.join(unknown)} "
                            f"(controls: {', '.join(CONTROLS_BY_NAME)})")
        self.values = {c.name: values.get(c.name) for c in CONTROLS}
        seed = SEED_RANGE[0] if rng is None else int(rng)
        scenario = build_scenario(self.values)
        super().__init__(scenario, rng=seed)
        self.twin_window = counterfactual_window(scenario.retention.window_days)
        self.twin = RetentionModel(build_scenario(self.values, self.twin_window), rng=seed)
        self.routes, self.twin_routes = RouteSeries(), RouteSeries()
        self.routes.record(self)
        self.twin_routes.record(self.twin)

    @property
    def window(self) -> int:
        return self.params.retention.window_days

    def step(self) -> None:
        """Advance both runs one day (until both have decided every counted report)."""
        super().step()
        self.twin.step()
        self.routes.record(self)
        self.twin_routes.record(self.twin)
        self.running = self.running or self.twin.running


def _signature() -> inspect.Signature:
    """``(self, *, <one keyword per control>=None, rng=1)``: the signature SolaraViz reads.

    SolaraViz accepts a ``model_params`` name only if the model's ``__init__`` names it (it reads
    ``inspect.signature``), and a Reset calls the model with every control as a keyword. The control
    names are written once, in CONTROLS, so the signature is generated from them; ``__init__`` itself
    takes ``**values`` and refuses names that are not controls, as a written-out signature would.
    """
    keyword = inspect.Parameter.KEYWORD_ONLY
    return inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                              *(inspect.Parameter(c.name, keyword, default=None) for c in CONTROLS),
                              inspect.Parameter("rng", keyword, default=1, annotation="int | None")])


DashboardModel.__init__.__signature__ = _signature()  # type: ignore[attr-defined]
