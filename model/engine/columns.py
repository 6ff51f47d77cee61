"""The report store's columns as the kernels see them: a named tuple of the arrays (model.reports.ReportStore)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from model.reports import ReportStore


class Columns(NamedTuple):
    """The columns the kernels read and write, and the store's free list (a stack)."""

    created: np.ndarray
    deadline: np.ndarray
    agency: np.ndarray
    counted: np.ndarray
    urgent: np.ndarray
    quality: np.ndarray
    actionable: np.ndarray
    triage_cost: np.ndarray
    stage: np.ndarray
    needs_process: np.ndarray
    wilson: np.ndarray
    identify: np.ndarray
    letter: np.ndarray
    ip_lead: np.ndarray
    ip_unattributable: np.ndarray
    received: np.ndarray
    step: np.ndarray
    work: np.ndarray
    work_factor: np.ndarray
    warrant_days: np.ndarray
    identification_days: np.ndarray
    process_days: np.ndarray
    response_days: np.ndarray
    evidence_missing: np.ndarray
    arrest_draw: np.ndarray
    platform: np.ndarray
    arrest_days: np.ndarray
    free: np.ndarray          # int32: the free rows
    n_free: np.ndarray        # int64 [1]: how many


def columns_of(store: ReportStore) -> Columns:
    """The store's current arrays (they are replaced when it grows); write ``n_free[0]`` back after a kernel."""
    return Columns(*(getattr(store, name) for name in Columns._fields[:-2]), store._free,
                   np.array([store._n_free], np.int64))


@njit(_nrt=False, cache=True)
def release_row(col: Columns, row: int) -> None:
    """A report is done: its row goes back on the store's free stack. Compiled without reference counting, as every
    per-row helper (:mod:`model.engine.desk`)."""
    col.free[col.n_free[0]] = row
    col.n_free[0] += 1
