"""A platform on the compiled engine: :class:`CompiledPlatform`, the same agent as :class:`model.agents.Platform`
(the reference), whose day's reports are written to the store and queued at NCMEC by one kernel call
(:func:`model.engine.filing.file_reports`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from model.agents import Platform
from model.draws import ReportDraws
from model.engine.filing import Filing, Reports, file_reports
from model.engine.ledger import settle
from model.engine.ncmec import CompiledNcmec


class CompiledPlatform(Platform):
    """An electronic service provider that files CyberTipline reports every day, compiled: see
    :class:`model.agents.Platform`."""

    ncmec: CompiledNcmec

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rules, routing = self.rules, self.routing
        self.filing = Filing(
            platform=self.index, retention_days=self.retention_days, edges=routing.edges32, members=routing.agencies,
            process_share=rules.process_share, letter_share=np.float32(rules.letter_share),
            wilson_share=np.float32(rules.wilson_share), identification_share=np.float32(rules.identification_share),
            ip_lead_share=np.float32(rules.ip_lead_share), cgnat_share=np.float32(rules.cgnat_share))

    def file(self, draws: ReportDraws, day: int) -> None:
        """The drawn reports become rows of the store and join NCMEC's queue (see
        :meth:`model.agents.Platform.file`)."""
        store, ncmec = self.store, self.ncmec
        desk = ncmec.desk
        n = len(draws.urgent)
        rows = store.allocate(n)
        is_case, cases = draws.is_case, draws.cases
        waits = self.rules.waits(cases, self.routing.is_us(draws.location.compress(is_case)), draws.urgent.compress(is_case),
                                 self.index)
        reports = Reports(draws.automated, draws.urgent, draws.viral, draws.known, draws.quality, draws.location, is_case,
                          cases.needs_process, cases.letter, cases.wilson, cases.identify, cases.ip_lead, cases.cgnat,
                          cases.arrest, *waits)
        counted = self.counting[0] <= day <= self.counting[1]
        columns = desk.columns()
        need_us, need_foreign, bundled = file_reports(desk.arenas, desk.ledger, columns, desk.triage, ncmec.triage,
                                                      desk.route, self.filing, rows, reports, day, counted).tolist()
        store._n_free = int(columns.n_free[0])
        out = self.outcomes
        settle(desk.ledger, out)
        if counted:
            out.reports += n
            out.reports_by_platform[self.index] += n
            out.legal_process_needed += np.array([need_us, need_foreign], np.int64)
        ncmec.count_receipt(int(np.count_nonzero(draws.urgent)), bundled)
