"""The base of the stage agents: a stage acts once a day, through :meth:`StageAgent.act`."""

from __future__ import annotations

from typing import Any

import mesa


class StageAgent(mesa.Agent):
    """A stage of the pipeline. The model runs a day as ``for stage in PIPELINE: stage.act(agents, day)``.

    By default each agent of the stage steps in turn (``agents.do("step", day)``); a stage whose agents
    share work can act for all of them at once instead (see :class:`model.agency.Agency`).
    """

    @classmethod
    def act(cls, agents: Any, day: int) -> None:
        """The stage's day: every agent of the stage steps, in the order they were created."""
        agents.do("step", day)

    def step(self, day: int) -> None:  # pragma: no cover - every stage defines its own
        raise NotImplementedError
