"""Validation 3: Little's law for every queue over a long capacity-limited run.

The test instruments the queues from outside (it wraps their push/pop methods to record each row's
entry and exit day) and does not change the model. With end-of-day queue lengths, a report that
waits w days is counted in exactly w daily snapshots, so

    mean queue length  =  throughput  x  mean time in queue

holds up to the reports still queued at the end. Both the identity with that residual (exact) and
Little's law itself (within 2 %) are checked for the NCMEC queue, every agency queue and the
forensic queue; for the legal process in progress (a delay stage with a heavy-tailed lognormal time,
whose end-of-run term is large) the exact identity is checked.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import RetentionModel, load_scenario

DAYS = 1500
#: X at 400 reports a day; analysts and investigators at about 90 % load, so every queue is busy.
LOADED = ["run.days=1500", "run.warmup_days=30", "platforms.X.reports_per_day=400",
          "ncmec.analysts=1", "ncmec.reports_per_analyst_day=43", "law_enforcement.investigators=30",
          "foreign.investigators=240", "downstream.arrest_probability=0.5", "downstream.forensic_exams_per_day=3",
          "downstream.exams_per_case=1"]


class Meter:
    """Entry day of every row in a queue, exits with their waits, and end-of-day lengths."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.entered: dict[int, int] = {}
        self.waits: list[np.ndarray] = []
        self.lengths: list[int] = []

    def enter(self, rows: np.ndarray, day: int) -> None:
        for row in rows.tolist():
            assert row not in self.entered, f"{self.name}: row {row} queued twice"
            self.entered[row] = day

    def leave(self, rows: np.ndarray, day: int) -> None:
        self.waits.append(np.array([day - self.entered.pop(row) for row in rows.tolist()], np.int64))


def instrument(model: RetentionModel) -> dict[str, Meter]:
    meters: dict[str, Meter] = {}

    def watch_queue(queue, name: str, pop_name: str) -> None:
        meter = meters[name] = Meter(name)
        push, pop = queue.push, getattr(queue, pop_name)

        def pushed(rows, *args, **kwargs):
            meter.enter(rows, model.day)
            return push(rows, *args, **kwargs)

        def popped(*args, **kwargs):
            out = pop(*args, **kwargs)
            meter.leave(out[0] if isinstance(out, tuple) else out, model.day)
            return out

        queue.push = pushed
        setattr(queue, pop_name, popped)

    watch_queue(model.ncmec_queue, "ncmec", "pop_budget")
    for agency in model.agencies:
        watch_queue(agency.queue, agency.spec.name, "pop_budget")
    watch_queue(model.forensic_queue, "forensic", "pop")

    meter = meters["legal process"] = Meter("legal process")
    schedule, pop = model.to_service.schedule, model.to_service.pop

    def scheduled(rows, *args, **kwargs):
        meter.enter(rows, model.day)
        return schedule(rows, *args, **kwargs)

    def served(day, *args, **kwargs):
        rows = pop(day, *args, **kwargs)
        meter.leave(rows, day)
        return rows

    model.to_service.schedule, model.to_service.pop = scheduled, served
    return meters


@pytest.fixture(scope="module")
def measured() -> dict[str, Meter]:
    model = RetentionModel(load_scenario("x_platform", LOADED))
    meters = instrument(model)
    lengths = {"ncmec": lambda: len(model.ncmec_queue), "forensic": lambda: len(model.forensic_queue),
               "legal process": lambda: len(model.to_service),
               **{a.spec.name: (lambda a=a: len(a.queue)) for a in model.agencies}}
    while model.running:
        model.step()
        for name, length in lengths.items():
            meters[name].lengths.append(length())
    assert model.day == DAYS
    return meters


@pytest.mark.parametrize("name", ["ncmec", "ICAC Northeast", "ICAC Midwest", "ICAC South", "ICAC West",
                                  "Federal (FBI/HSI)", "Foreign liaison", "legal process", "forensic"])
def test_littles_law(measured, name):
    meter = measured[name]
    waits = np.concatenate(meter.waits)
    residual = sum(DAYS - day + 1 for day in meter.entered.values())  # rows still queued at the end
    mean_length = np.mean(meter.lengths)
    throughput = len(waits) / DAYS
    mean_wait = waits.mean()
    print(f"{name}: L = {mean_length:.3f}, lambda x W = {throughput:.3f} x {mean_wait:.3f} = "
          f"{throughput * mean_wait:.3f}")
    assert len(waits) > 1000
    assert sum(meter.lengths) == waits.sum() + residual                  # exact bookkeeping
    if name == "legal process":
        # A delay stage with a heavy-tailed (lognormal) time: the end-of-run term, of order
        # E[S^2] / (2 E[S] T), is large, so only the exact identity above is asserted.
        return
    assert mean_length == pytest.approx(throughput * mean_wait, rel=0.02, abs=0.02)


def test_the_queues_were_actually_loaded(measured):
    assert np.mean(measured["ncmec"].lengths) > 10
    assert np.mean(measured["legal process"].lengths) > 100
    assert max(np.mean(measured[a].lengths) for a in ("ICAC South", "ICAC West")) > 5
    assert np.mean(measured["forensic"].lengths) > 1
