"""The instruction-count benchmark (benchmarks/instructions.py) reads callgrind's dumps and finds what it counts."""

from __future__ import annotations

import importlib
import inspect

import pytest

from benchmarks.instructions import STAGES, totals_of

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
