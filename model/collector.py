"""Daily data collection: Mesa's DataCollector with the model-level series in one numpy array.

Mesa's DataCollector deep-copies every model reporter's value at every collection; with a score of
daily series that is a tenth of a small run's time, and its agent-type reporters (a tuple of
deep-copy checks per agent a day) as much again. ``DailyCollector`` keeps the DataCollector contract
that Mesa's tools read (``collect``, ``model_vars``, ``_collection_steps``, ``_agenttype_records``,
``get_model_vars_dataframe``, ``get_agenttype_vars_dataframe``) but keeps each collection as one tuple of
values read from ``model.today`` (and one tuple per agent of its type's attributes), made into arrays and
Mesa's records only when they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter, itemgetter
from typing import Any

import mesa
import numpy as np
import pandas as pd


class DailyCollector(mesa.DataCollector):
    """Collect ``model.today[name]`` for each series name once per call, plus Mesa agent-type reporters.

    Args:
        series: the model-level series, in column order.
        integer_series: those that are counts (returned as int64 columns; the rest as float64).
        agenttype_reporters: as for :class:`mesa.DataCollector`.
        kept: False for a model that keeps no daily series (``RetentionModel(daily_series=False)``): reading one is
            then an error saying so, not an empty table.
    """

    def __init__(self, series: Iterable[str], integer_series: Iterable[str],
                 agenttype_reporters: Mapping[type, Mapping[str, Any]] | None = None, kept: bool = True) -> None:
        super().__init__(agenttype_reporters=dict(agenttype_reporters or {}))
        self.kept = kept
        self._given = dict(agenttype_reporters or {})   # as given: attribute names are read with one attrgetter
        self.series = list(series)
        self._today = itemgetter(*self.series)
        self.integer_series = [name for name in self.series if name in set(integer_series)]
        self._rows: list[tuple[Any, ...]] = []   # one per collection, in series order
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
        self._rows.append(self._today(model.today))
        self._collection_steps.append(model.time)
        if self.agenttype_reporters and not self._by_type:
            self._by_type = {agent_type: _TypeValues([a for a in model.agents if isinstance(a, agent_type)],
                                                     _reader(list(self._given[agent_type].values()),
                                                             list(reporters.values())))
                             for agent_type, reporters in self.agenttype_reporters.items()}
        for values in self._by_type.values():
            values.collect()

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per collection, one column per series."""
        self._check_kept()
        frame = pd.DataFrame(np.array(self._rows, np.float64).reshape(len(self._rows), len(self.series)),
                             columns=self.series)
        return frame.astype(dict.fromkeys(self.integer_series, np.int64))

    def get_agenttype_vars_dataframe(self, agent_type: type[mesa.Agent]) -> pd.DataFrame:
        """Mesa's table of an agent type's reporters, one row per agent per collection."""
        self._check_kept()
        return super().get_agenttype_vars_dataframe(agent_type)

    def _check_kept(self) -> None:
        if not self.kept:
            raise RuntimeError("this model was built with daily_series=False: it keeps no daily series")


class _TypeValues:
    """One agent type's reporters' values: per collection, a tuple of values per agent."""

    def __init__(self, agents: list[mesa.Agent], read: Callable[[mesa.Agent], tuple[Any, ...]]) -> None:
        self.agents, self.read = agents, read
        self.values: list[list[tuple[Any, ...]]] = []

    def collect(self) -> None:
        self.values.append([self.read(agent) for agent in self.agents])

    def records(self, i: int, time: Any) -> list[tuple[Any, ...]]:
        return [(time, agent.unique_id, *row) for agent, row in zip(self.agents, self.values[i], strict=True)]


def _reader(given: list[Any], converted: list[Callable[[mesa.Agent], Any]]) -> Callable[[mesa.Agent], tuple[Any, ...]]:
    """One agent's values of every reporter, as a tuple: attribute names (as `given`) in one ``attrgetter`` call,
    other reporters through Mesa's `converted` functions."""
    if all(isinstance(reporter, str) for reporter in given):
        names = attrgetter(*given)
        return (lambda agent: (names(agent),)) if len(given) == 1 else names
    return lambda agent: tuple(reporter(agent) for reporter in converted)
