"""The agencies' shared desk on the compiled engine: :class:`CompiledCasework`, a drop-in for
:class:`model.casework.Casework` (the reference, whose module doc describes the day).

The desk's state lives in arrays (:mod:`model.engine.lanes`, :mod:`model.engine.calendar`) and one
kernel call runs the agencies' day (:func:`model.engine.desk.desk_day`). The views ``queue``, ``inbox``
and ``service`` answer what the model, the dashboard and the tests ask of the reference's queue and
calendars (rows, lengths, waits); each agency's hours and counts are copied to its
:class:`~model.agency.Agency` after the day.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from model.agency import Agency
from model.engine import calendar, lanes, note_compilation, segments
from model.engine.bound import bound
from model.engine.calendar import INBOX, SERVICE
from model.engine.columns import Columns, columns_of
from model.engine.desk import POLICIES, Rules, Staff, desk_day
from model.engine.lanes import N_TIERS
from model.engine.ledger import end_of_day, ledger_of, settle
from model.outcomes import Outcomes
from model.params import Scenario
from model.queues import GROUP_SHIFT, TIER_SHIFT
from model.reports import ReportStore, Rows

#: numba's start-up (its typing and target contexts, about half a second once per process) happens here, when the
#: engine is imported, as an extension module's loading would, rather than inside the first model's construction.
note_compilation()
segments.new_arenas(0, 0)


class QueueView:
    """A compiled queue (the agencies', or NCMEC's) as the reference's :class:`~model.queues.PriorityQueue` shows it
    (read only)."""

    def __init__(self, desk: CompiledCasework, which: str) -> None:
        self._desk, self._which = desk, which

    @property
    def _lanes(self) -> lanes.LaneQueue:
        return getattr(self._desk, self._which)

    def __len__(self) -> int:
        return int(self._lanes.totals[0])

    def mean_wait(self, day: int) -> float:
        """Mean days the queued rows have waited since they entered (0 for an empty queue)."""
        count, entered = self._lanes.totals.tolist()
        return day - entered / count if count else 0.0

    @property
    def rows(self) -> Rows:
        """The queued rows in service order."""
        return lanes.rows_of(self._desk.arenas, self._lanes, 0, len(self._lanes.tier_rows))

    def row_chunks(self, size: int = 1_000_000) -> Iterator[Rows]:
        """The queued rows in service order, at most `size` at a time (a queue of millions is not copied at once)."""
        s = self._lanes.lanes
        for lane in np.flatnonzero(s.size).tolist():   # lanes in service order
            n = int(s.size[lane])
            for first in range(0, n, size):
                out = np.empty(min(size, n - first), np.int64)
                segments.copy_part(self._desk.arenas, s, lane, first, len(out), out, 0)
                yield out

    def group_rows(self, group: int | None) -> Rows:
        """The rows of one agency (None: all) in service order."""
        if group is None:
            return self.rows
        return lanes.rows_of(self._desk.arenas, self._lanes, group * N_TIERS, (group + 1) * N_TIERS)

    def first_entry(self, low: int = 0, high: int = 1 << 63) -> int | None:
        """The earliest entry day of the rows with queue keys in [low, high) (whole tiers; None when there are none)."""
        groups = len(self._lanes.tier_rows)
        first = lanes.first_entry(self._desk.arenas, self._lanes, min(_group_of(low), groups), min(_group_of(high), groups))
        return None if first < 0 else first


def _group_of(key: int) -> int:
    """The (agency, tier) group at or after a queue key's group and tier bits."""
    return (key >> GROUP_SHIFT) * N_TIERS + ((key >> TIER_SHIFT) & 63)


class CalendarView:
    """One of the desk's calendars as the reference's :class:`~model.calendars.Calendar` shows it (read only)."""

    def __init__(self, desk: CompiledCasework, which: int) -> None:
        self._desk, self._which = desk, which

    def __len__(self) -> int:
        return int(self._desk.calendars.waiting[self._which])

    @property
    def rows(self) -> Rows:
        """Every row waiting (any order)."""
        return calendar.rows_of(self._desk.arenas, self._desk.calendars, self._which)


class CompiledCasework:
    """Arrivals, the consequences of finished steps, and service, for every agency, compiled."""

    def __init__(self, scenario: Scenario, store: ReportStore, outcomes: Outcomes, lab: object) -> None:
        self.store, self.outcomes, self.lab = store, outcomes, lab
        police, retention, isp, ds = scenario.law_enforcement, scenario.retention, scenario.isp, scenario.downstream
        self.rules = Rules(
            step_hours=np.array([0.0, police.warrant_hours, police.subpoena_hours, police.drafting_hours,
                                 police.follow_up_hours], np.float32),
            review_hours=np.float32(police.review_hours), screening_hours=np.float32(police.screening_hours),
            letter_hours=np.float32(police.preservation_letter_hours), letter_cost=float(police.preservation_letter_hours),
            emergency_hours=np.float32(police.emergency_hours), priority_cutoff=np.float32(1 - police.priority_threshold),
            letters_at_receipt=retention.preservation_request_timing == "receipt",
            preservation_days=retention.preservation_extension_days * (1 + retention.preservation_max_extensions),
            close_expired=police.expired_case_policy == "close", policy=POLICIES.index(police.priority_policy),
            backlog_limit=police.backlog_limit_days, upload_to_report_days=isp.upload_to_report_days,
            subpoena_days=isp.subpoena_days, log_retention_days=isp.log_retention_days,
            arrest_probability=float(ds.arrest_probability),
            arrest_probability_evidence_lost=float(ds.arrest_probability_evidence_lost))
        self._n_orders = outcomes.horizon + 1 if police.priority_policy == "deadline_first" else 1
        self._triage_orders = outcomes.horizon + 1 if scenario.ncmec.triage_policy == "deadline_first" else 1
        self._ring_days = outcomes.horizon + 1
        self.ledger = ledger_of(outcomes)
        self.day = 0
        self.agencies: list[Agency] = []
        self.route = np.zeros(0, np.int64)
        self.investigations_us_today = 0
        self._columns: Columns | None = None
        store.on_grow.append(self._forget_columns)
        self._desk_day, self._end_of_day = bound(desk_day), bound(end_of_day)
        self.queue, self.inbox, self.service = QueueView(self, "lanes"), CalendarView(self, INBOX), CalendarView(self, SERVICE)

    def attach(self, agencies: Sequence[Agency]) -> None:
        """The agencies served by this desk, in index order."""
        self.agencies = list(agencies)
        self.route = np.array([a.route for a in agencies], np.int64)
        n = len(agencies)
        self.staff = Staff(route=self.route, hours_per_day=np.array([a.hours_per_day for a in agencies], np.float64),
                           credit=np.zeros(n), used_today=np.zeros(n), work_waiting=np.zeros(n, np.int64),
                           reviews_waiting=np.zeros(n, np.int64))
        self.arenas = segments.new_arenas(3, 4096)   # the rows of the two queues' lanes and of the calendars' days
        self.lanes = lanes.new_queue(0, n, self._n_orders)
        self.triage = lanes.new_queue(1, 1, self._triage_orders)   # NCMEC's queue (model.engine.ncmec)
        self.calendars = calendar.new_calendars(2, self._ring_days)

    def columns(self) -> Columns:
        """The store's columns for a kernel call, rebuilt only after the store has grown (it tells the desk,
        ``on_grow``); its free-list height is set from the store (write ``n_free[0]`` back after the call)."""
        store = self.store
        if self._columns is None or self._columns.created is not store.created:
            self._columns = columns_of(store)
        self._columns.n_free[0] = store._n_free
        return self._columns

    def _forget_columns(self) -> None:
        self._columns = None

    def routes(self, rows: Rows) -> np.ndarray:
        """US or FOREIGN, per row, from its agency."""
        return self.route[self.store.agency[rows]]

    def step(self, day: int) -> None:
        """The agencies' day (model.casework.Casework.step): one kernel call."""
        store = self.store
        columns = self.columns()
        self.investigations_us_today, arrest_bound = self._desk_day(self.arenas, columns, self.ledger, self.lanes,
                                                                    self.calendars, self.staff, self.rules, day)
        store._n_free = int(columns.n_free[0])
        self.day = day
        if len(arrest_bound):
            self.lab.receive(arrest_bound, day)
        staff = self.staff
        for agency, credit, used, work, reviews in zip(self.agencies, staff.credit.tolist(), staff.used_today.tolist(),
                                                       staff.work_waiting.tolist(), staff.reviews_waiting.tolist(),
                                                       strict=True):
            agency.credit, agency.used_today, agency.work_waiting, agency.reviews_waiting = credit, used, work, reviews

    def end_of_day(self, day: int) -> None:
        """Book the day's end in the ledger (:meth:`model.casework.Casework.end_of_day`): one kernel call; then the
        day's changes of the Outcomes' counters that the kernels keep in the ledger are added to them."""
        self._end_of_day(self.ledger, day)
        settle(self.ledger, self.outcomes)
