"""NCMEC on the compiled engine: :class:`CompiledNcmec`, the same agent as :class:`model.agents.Ncmec` (the
reference) with its queue and its day as kernels (:mod:`model.engine.triage`) over the desk's arrays."""

from __future__ import annotations

import mesa
import numpy as np

from model.agents import Ncmec
from model.engine.bound import bound
from model.engine.casework import CompiledCasework, QueueView
from model.engine.desk import POLICIES
from model.engine.ledger import settle
from model.engine.triage import Triage, receive, triage_day
from model.outcomes import Outcomes
from model.params import NcmecSpec
from model.reports import ReportStore, Rows


class CompiledNcmec(Ncmec):
    """NCMEC's CyberTipline, compiled: see :class:`model.agents.Ncmec`."""

    def __init__(self, model: mesa.Model, spec: NcmecSpec, store: ReportStore, outcomes: Outcomes,
                 casework: CompiledCasework) -> None:
        super().__init__(model, spec, store, outcomes, casework)
        self.desk = casework
        self.queue = QueueView(casework, "triage")
        self.triage = Triage(policy=POLICIES.index(spec.triage_policy), bundling=spec.bundling,
                             known_cost=np.float32(spec.known_content_cost), budget=float(self.budget),
                             backlog_limit=spec.backlog_limit_days, referral_delay=spec.referral_delay_days)
        self._receive, self._triage_day = bound(receive), bound(triage_day)

    def receive(self, rows: Rows, urgent: np.ndarray, known: np.ndarray, viral: np.ndarray, day: int) -> None:
        """A platform's reports of the day join the queue (viral copies are bundled if bundling is on). The compiled
        platforms queue theirs in their filing kernel (:mod:`model.engine.filing`), which calls the same kernel."""
        store, desk = self.store, self.desk
        self._urgent += int(np.count_nonzero(urgent))
        columns = desk.columns()
        self._bundled += self._receive(desk.arenas, desk.ledger, columns, desk.triage, self.triage, rows, urgent, known,
                                       viral, day)
        store._n_free = int(columns.n_free[0])
        settle(desk.ledger, self.outcomes)

    def count_receipt(self, urgent: int, bundled: int) -> None:
        """Reports received today from a platform's filing kernel (:mod:`model.engine.platform`): how many were
        urgent and how many bundled."""
        self._urgent += urgent
        self._bundled += bundled

    def step(self, day: int) -> None:
        """Triage within today's analyst time (see :meth:`model.agents.Ncmec.step`)."""
        self.bundled_today, self.urgent_today, self._bundled, self._urgent = self._bundled, self._urgent, 0, 0
        store, desk = self.store, self.desk
        columns = desk.columns()
        self.used_today, self.credit = self._triage_day(desk.arenas, desk.ledger, columns, desk.triage, desk.calendars,
                                                        desk.route, self.triage, self.credit, day)
        store._n_free = int(columns.n_free[0])
