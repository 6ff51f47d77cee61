"""Daily data collection: Mesa's DataCollector with the model-level series in one numpy array.

Mesa's DataCollector deep-copies every model reporter's value at every collection; with a score of
daily series that is a tenth of a small run's time, and its agent-type reporters (a tuple of
deep-copy checks per agent a day) as much again. ``DailyCollector`` keeps the DataCollector contract
that Mesa's tools read (``collect``, ``model_vars``, ``_collection_steps``, ``_agenttype_records``,
``get_model_vars_dataframe``, ``get_agenttype_vars_dataframe``) but stores the model-level series as rows
of a preallocated array read from ``model.today``, and the agent-type values in arrays, one per agent
type, made into Mesa's records only when they are read.
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
        self._by_type: dict[type, _TypeValues] = {}   # filled at the first collection (agents are fixed by then)

    @property
    def model_vars(self) -> dict[str, list[Any]]:
        """Each series as a list, one value per collection (the DataCollector attribute batch_run reads)."""
        frame = self.get_model_vars_dataframe()
        return {name: frame[name].tolist() for name in self.series}

    @model_vars.setter
    def model_vars(self, value: dict[str, list[Any]]) -> None:  # DataCollector.__init__ sets it empty
        if value:
            raise AttributeError("DailyCollector.model_vars is read-only")

    @property
    def _agenttype_records(self) -> dict[Any, dict[type, list[tuple[Any, ...]]]]:
        """Mesa's records: collection time -> agent type -> (time, agent id, *values) per agent."""
        records: dict[Any, dict[type, list[tuple[Any, ...]]]] = {}
        for i, time in enumerate(self._collection_steps):
            records[time] = {agent_type: values.records(i, time) for agent_type, values in self._by_type.items()}
        return records

    @_agenttype_records.setter
    def _agenttype_records(self, value: dict[Any, Any]) -> None:  # DataCollector.__init__ sets it empty
        if value:
            raise AttributeError("DailyCollector._agenttype_records is read-only")

    def collect(self, model: Any) -> None:
        """Record today's values of every series (and the agent-type reporters)."""
        if self._n == len(self._values):
            self._values = np.concatenate([self._values, np.zeros_like(self._values)])
        today = model.today
        self._values[self._n] = [today[name] for name in self.series]
        self._collection_steps.append(model.time)
        if self.agenttype_reporters and not self._by_type:
            self._by_type = {agent_type: _TypeValues([a for a in model.agents if isinstance(a, agent_type)],
                                                     list(reporters.values()), len(self._values))
                             for agent_type, reporters in self.agenttype_reporters.items()}
        for values in self._by_type.values():
            values.collect(self._n)
        self._n += 1

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per collection, one column per series."""
        frame = pd.DataFrame(self._values[: self._n], columns=self.series)
        return frame.astype(dict.fromkeys(self.integer_series, np.int64))


class _TypeValues:
    """One agent type's reporters' values: collections x agents x reporters (ints kept as ints when read)."""

    def __init__(self, agents: list[mesa.Agent], reporters: list[Any], days: int) -> None:
        self.agents, self.reporters = agents, reporters
        self.values = np.zeros((days, len(agents), len(reporters)))
        self.integer = [isinstance(reporter(agents[0]), int) if agents else False for reporter in reporters]

    def collect(self, i: int) -> None:
        if i == len(self.values):
            self.values = np.concatenate([self.values, np.zeros_like(self.values)])
        self.values[i] = [[reporter(agent) for reporter in self.reporters] for agent in self.agents]

    def records(self, i: int, time: Any) -> list[tuple[Any, ...]]:
        rows = self.values[i].tolist()
        return [(time, agent.unique_id, *(int(v) if integer else v for v, integer in zip(row, self.integer, strict=True)))
                for agent, row in zip(self.agents, rows, strict=True)]
