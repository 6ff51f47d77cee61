"""The benchmarks' own logic: the instruction count (benchmarks/instructions.py) reads callgrind's dumps and finds what it
counts; the bounds (benchmarks/bounds.py) leave out of a run only what they say."""

from __future__ import annotations

import importlib
import inspect

import pytest

from benchmarks.bounds import certain_losses_booked_early, without_foreign_screened
from benchmarks.instructions import STAGES, totals_of
from model import RetentionModel, casework, load_scenario
from model.engine.platform import CompiledPlatform

DUMP = """version: 1
creator: callgrind-3.19.0
events: Ir Dr Dw
summary: 0 0 0

fn=(1) main
1 5 2 1
totals: 4496676224 1215773741 691659184
"""


def test_totals_come_from_the_totals_line_not_the_summary_line():
    assert totals_of(DUMP) == {"Ir": 4496676224, "Dr": 1215773741, "Dw": 691659184}


def test_a_dump_without_totals_is_an_error():
    with pytest.raises(RuntimeError, match="totals"):
        totals_of("events: Ir\nsummary: 0\n")


@pytest.mark.parametrize("stage", list(STAGES))
def test_every_stage_counted_alone_names_a_function_of_the_model(stage):
    """--by-stage switches counting on inside these functions: a renamed one would count nothing."""
    for target in STAGES[stage].split():
        module, path = target.split(":")
        owner_name, name = path.split(".")
        function = inspect.getattr_static(getattr(importlib.import_module(module), owner_name), name)
        assert callable(getattr(function, "__func__", function))


# --- benchmarks/bounds.py: the patched runs leave out what they say, and nothing else -------------------------------

SHORT = ["run.days=240", "run.warmup_days=60"]


def _summary(engine: str = "compiled") -> dict:
    model = RetentionModel(load_scenario("x_platform", SHORT), engine=engine, daily_series=False)
    model.run_model()
    return model.summary()


def test_the_run_without_foreign_screened_reports_keeps_every_other_report_and_its_draws():
    filing = CompiledPlatform.file_drawn
    whole = _summary()
    with without_foreign_screened() as counts:
        without = _summary()
    assert CompiledPlatform.file_drawn is filing   # the patch is undone
    assert 0.5 < counts[0] / counts[1] < 0.9       # X: most reports are not actionable and go abroad
    assert without["reports"] < whole["reports"]
    for key in ("referred_us", "legal_process_needed_us", "legal_process_needed_foreign"):
        assert without[key] == whole[key], key      # every case and US report is filed, with the same draws


def test_booking_certain_losses_early_changes_when_they_are_booked_not_what_is_lost():
    drafted = casework.Casework._identification_drafted
    as_now = _summary("numpy")
    with certain_losses_booked_early() as booked:
        early = _summary("numpy")
    assert casework.Casework._identification_drafted is drafted
    assert booked[0] > 0   # the run has certain losses to book early
    assert early["drain_days"] <= as_now["drain_days"]
    assert {k: v for k, v in early.items() if k != "drain_days"} == {k: v for k, v in as_now.items() if k != "drain_days"}
