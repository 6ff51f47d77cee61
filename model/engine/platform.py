"""A platform on the compiled engine: :class:`CompiledPlatform`, the same agent as :class:`model.agents.Platform`
(the reference), whose day's draws become facts in two kernels (:mod:`model.engine.draws`), drawn a day ahead in
the background if it files many reports (:mod:`model.engine.ahead`), and whose reports are written to the store and
queued at NCMEC by one kernel call (:func:`model.engine.filing.file_reports`)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from model.agents import Platform
from model.draws import ATTRIBUTES, CaseDraws, case_variates, exp32, report_uniforms
from model.engine.ahead import DrawAhead, draws_ahead
from model.engine.bound import bound
from model.engine.draws import Shares, Sigmas, case_exponents, case_waits, report_facts
from model.engine.filing import Filing, Reports, file_reports
from model.engine.ncmec import CompiledNcmec

_LOCATION_ROW = ATTRIBUTES.index("location")


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
        spec = self.spec
        self.shares = Shares(
            automated=np.float32(spec.automated_share), urgent=np.float32(spec.urgent_share),
            viral=np.float32(spec.viral_share), known=np.float32(spec.known_content_share),
            quality=np.float32(spec.quality_share), has_quality=spec.quality_share > 0,
            actionable=np.float32(spec.actionable_share), quality_signal=np.float32(spec.quality_signal))
        i = self.index
        self.sigmas = Sigmas(
            work_sigma=np.float32(rules.work_sigma), work_offset=np.float32(rules.work_sigma * rules.work_sigma / 2),
            median=np.array([rules.warrant_median, rules.identification_median, rules.response_median[i],
                             rules.arrest_median], np.float64),
            sigma=np.array([rules.warrant_sigma, rules.identification_sigma, rules.response_sigma[i], rules.arrest_sigma],
                           np.float64),
            path_median=rules.path_median.astype(np.float64), path_sigma=rules.path_sigma.astype(np.float64),
            cloud_act_share=np.float32(rules.cloud_act_share), us_below=np.float32(routing.us_below))
        self._report_facts, self._case_exponents, self._case_waits, self._file_reports = (
            bound(report_facts), bound(case_exponents), bound(case_waits), bound(file_reports))
        expected = spec.reports_per_day * self.demand.scale
        self.ahead = DrawAhead(self.draw) if draws_ahead(getattr(self.model, "draw_ahead", None), expected) else None

    def step(self, day: int) -> None:
        """File today's reports (see :meth:`model.agents.Platform.step`): today's draws, made the day before in the
        background if the platform draws ahead (:mod:`model.engine.ahead`), written to the store and queued at NCMEC."""
        draws = self.ahead.take(day) if self.ahead is not None else self.draw(day)
        self.filed_today = draws.n
        self.automated_today = self.file_drawn(draws, day) if draws.n else 0

    def draw(self, day: int) -> DayDraws:
        """The day's reports and their facts (as :meth:`model.agents.Platform.arrivals` and
        :meth:`model.draws.ReportDraws.draw`), from the platform's own streams only: any thread may draw them."""
        n, n_extra, viral_share_extra = self.arrivals(day)
        if not n:
            return DayDraws(0, 0, None)
        u = report_uniforms(self.attribute_rng, n)
        automated, urgent, viral, known, score, is_case, m = self._report_facts(u, self.shares, n_extra,
                                                                                np.float32(viral_share_extra))
        location = u[_LOCATION_ROW]
        uniforms, normals = case_variates(self.case_rng, m)
        exponents, work, path = self._case_exponents(location, urgent, is_case, uniforms, normals, self.sigmas)
        waits = self._case_waits(np.exp(exponents), path, self.sigmas)
        c = CaseDraws(*uniforms, *normals)
        reports = Reports(automated, urgent, viral, known, score, location, is_case, c.needs_process, c.letter, c.wilson,
                          c.identify, c.ip_lead, c.cgnat, c.arrest, exp32(work), *waits)
        return DayDraws(n, int(np.count_nonzero(automated)), reports)

    def file_drawn(self, draws: DayDraws, day: int) -> int:
        """Write the day's drawn reports to the store and queue them at NCMEC; returns how many are automated."""
        store, ncmec = self.store, self.ncmec
        desk = ncmec.desk
        n, reports = draws.n, draws.reports
        assert reports is not None   # filed only on a day with reports
        rows = store.allocate(n)
        counted = self.counting[0] <= day <= self.counting[1]
        columns = desk.columns()
        need_us, need_foreign, bundled = self._file_reports(desk.arenas, desk.ledger, columns, desk.triage,
                                                            ncmec.triage, desk.route, self.filing, rows, reports, day,
                                                            counted).tolist()
        store._n_free = int(columns.n_free[0])
        if counted:
            out = self.outcomes
            out.reports += n
            out.reports_by_platform[self.index] += n
            out.legal_process_needed[0] += need_us
            out.legal_process_needed[1] += need_foreign
        ncmec.count_receipt(int(np.count_nonzero(reports.urgent)), bundled)
        return draws.automated


class DayDraws(NamedTuple):
    """A platform's draws for one day: its reports (none if `n` is 0), and how many of them are automated."""

    n: int
    automated: int
    reports: Reports | None
