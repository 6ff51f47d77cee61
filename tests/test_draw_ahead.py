"""Drawing a platform's next day in a background thread (model/engine/ahead.py) changes when the numbers are drawn,
never which: runs are identical with and without it, and it is on only where it saves time."""

from __future__ import annotations

import os

import pytest

from model import RetentionModel, load_scenario
from model.engine import ahead
from model.engine.ahead import ENVIRONMENT, MIN_REPORTS_PER_DAY, DrawAhead, draws_ahead
from model.errors import BadInput
from model.executors import open_executor, usable_cpus

#: X above the volume that draws ahead, staffed to use every stage, with growing demand (a day drawn for another day
#: would file a different number of reports).
BUSY = ["run.days=90", "run.warmup_days=20", "demand.growth_per_year=0.5", "platforms.X.reports_per_day=6000",
        "ncmec.analysts=10", "law_enforcement.investigators=300"]


@pytest.fixture
def no_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENVIRONMENT, raising=False)


def test_a_run_drawn_ahead_is_the_run_drawn_day_by_day():
    """Same summary, flows and daily series; and a run continued after its end draws the same days."""
    scenario = load_scenario("x_platform", BUSY)
    runs = []
    for choice in (True, False):
        model = RetentionModel(scenario, draw_ahead=choice)
        assert (model.platforms[0].ahead is not None) is choice
        model.run_model()
        for _ in range(3):
            model.step()
        runs.append(model)
    drawn_ahead, day_by_day = runs
    assert drawn_ahead.summary() == day_by_day.summary()
    assert drawn_ahead.flows() == day_by_day.flows()
    assert drawn_ahead.timeseries().equals(day_by_day.timeseries())


@pytest.mark.usefixtures("no_setting")
def test_only_platforms_filing_many_reports_draw_ahead_and_only_with_a_second_cpu(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(ahead, "usable_cpus", lambda: 2)
    assert draws_ahead(None, MIN_REPORTS_PER_DAY)
    assert not draws_ahead(None, MIN_REPORTS_PER_DAY - 1)
    model = RetentionModel("national")   # Meta, Google and the others file over 5,000 a day; X 2,400
    assert {p.spec.name: p.ahead is not None for p in model.platforms} == {
        "Meta": True, "Google": True, "X": False, "other": True}
    monkeypatch.setattr(ahead, "usable_cpus", lambda: 1)
    assert not draws_ahead(None, 80_000)


def test_the_model_then_the_environment_decide_before_the_volume(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENVIRONMENT, "0")
    assert not draws_ahead(None, 80_000)
    assert draws_ahead(True, 10)
    monkeypatch.setenv(ENVIRONMENT, "1")
    assert draws_ahead(None, 10)
    assert not draws_ahead(False, 80_000)
    monkeypatch.setenv(ENVIRONMENT, "yes")
    with pytest.raises(BadInput, match=f"{ENVIRONMENT}='yes'.*allowed 0 \\(off\\) or 1 \\(on\\)"):
        RetentionModel("x_platform")


def test_each_day_is_drawn_once_in_order_and_a_failed_draw_fails_its_own_day():
    drawn: list[int] = []

    def draw(day: int) -> int:
        drawn.append(day)
        if day == 3:
            raise ValueError("no reports on day 3")
        return 10 * day

    days = DrawAhead(draw)
    assert days.take(1) == 10
    assert days.take(2) == 20
    with pytest.raises(ValueError, match="day 3"):
        days.take(3)
    assert drawn == [1, 2, 3]   # day 1 at once, each later day the day before; nothing after a failed day


def test_a_skipped_day_is_an_error_not_other_numbers():
    days = DrawAhead(lambda day: day)
    days.take(1)
    with pytest.raises(RuntimeError, match="made ahead for day 2, not for day 3"):
        days.take(3)


@pytest.mark.usefixtures("no_setting")
def test_sweep_workers_that_fill_every_cpu_draw_their_days_themselves():
    with open_executor(workers=max(2, usable_cpus())) as (pool, _):
        assert pool.submit(os.getenv, ENVIRONMENT).result() == "0"


@pytest.mark.usefixtures("no_setting")
def test_a_local_dask_cluster_that_fills_every_cpu_draws_its_days_in_its_workers_too():
    with open_executor(workers=usable_cpus(), dask_local=True) as (client, _):
        assert client.submit(os.getenv, ENVIRONMENT).result() == "0"
