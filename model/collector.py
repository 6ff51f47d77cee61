"""Daily data collection: Mesa's DataCollector with the model-level series in one numpy array.

Mesa's DataCollector deep-copies every model reporter's value at every collection; with a score of
daily series that is a tenth of a small run's time. ``DailyCollector`` keeps the DataCollector
contract that Mesa's tools read (``collect``, ``model_vars``, ``_collection_steps``,
``get_model_vars_dataframe``, agent-type reporters) but stores the model-level series as rows of a
preallocated array read from ``model.today``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd


class DailyCollector(mesa.DataCollector):
    """Collect ``model.today[name]`` for each series name once per call, plus Mesa agent-type reporters.

    Args:
        series: the model-level series, in column order.
        integer_series: those that are counts (returned as int64 columns; the rest as float64).
        days: expected number of collections (the array grows if more are made).
        agenttype_reporters: as for :class:`mesa.DataCollector`.
    """

    def __init__(self, series: Iterable[str], integer_series: Iterable[str], days: int,
                 agenttype_reporters: Mapping[type, Mapping[str, Any]] | None = None) -> None:
        super().__init__(agenttype_reporters=dict(agenttype_reporters or {}))
        self.series = list(series)
        self.integer_series = [name for name in self.series if name in set(integer_series)]
        self._values = np.zeros((max(days, 1), len(self.series)))
        self._n = 0

    @property
    def model_vars(self) -> dict[str, list[Any]]:
        """Each series as a list, one value per collection (the DataCollector attribute batch_run reads)."""
        frame = self.get_model_vars_dataframe()
        return {name: frame[name].tolist() for name in self.series}

    @model_vars.setter
    def model_vars(self, value: dict[str, list[Any]]) -> None:  # DataCollector.__init__ sets it empty
        if value:
            raise AttributeError("DailyCollector.model_vars is read-only")

    def collect(self, model: Any) -> None:
        """Record today's values of every series (and the agent-type reporters)."""
        if self._n == len(self._values):
            self._values = np.concatenate([self._values, np.zeros_like(self._values)])
        today = model.today
        self._values[self._n] = [today[name] for name in self.series]
        self._n += 1
        self._collection_steps.append(model.time)
        if self.agenttype_reporters:
            super().collect(model)

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per collection, one column per series."""
        frame = pd.DataFrame(self._values[: self._n], columns=self.series)
        return frame.astype(dict.fromkeys(self.integer_series, np.int64))
