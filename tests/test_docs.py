"""Documentation generated from the schema is up to date, and every parameter has its provenance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model.docs import parameters_markdown
from model.params import Scenario, describe
from model.scenarios import SCENARIO_DIR, load_scenario

DOCS = Path(__file__).resolve().parent.parent / "docs"
TAGGED = re.compile(r"calibration-sources[^\[]*\[(P|S|S-AI)[^\]]*\]")


def test_parameters_md_is_generated_from_the_schema():
    assert (DOCS / "parameters.md").read_text() == parameters_markdown(), (
        "docs/parameters.md is stale: run `python -m model.docs > docs/parameters.md`")


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
def test_every_parameter_has_unit_and_a_tagged_source_or_a_reasoned_assumption(name):
    for row in describe(load_scenario(name)):
        assert row["unit"], row["key"]
        source = row["source"]
        if source.startswith("assumption"):
            assert source.startswith("assumption: ") and len(source) > len("assumption: ") + 3, row["key"]
        else:
            assert TAGGED.search(source), f"{row['key']}: source without a reliability tag: {source}"


def test_numeric_parameters_have_a_range():
    for row in describe(Scenario()):
        if isinstance(row["value"], (int, float)) and not isinstance(row["value"], bool):
            assert row["allowed"], row["key"]


def test_odd_describes_every_section_and_submodel():
    odd = (DOCS / "ODD.md").read_text()
    for heading in ("Purpose and patterns", "Entities, state variables and scales", "Process overview and scheduling",
                    "Design concepts", "Initialisation", "Input data", "Submodels"):
        assert heading in odd, heading
    for section in ("run", "retention", "demand", "platforms", "ncmec", "law_enforcement", "agencies",
                    "foreign", "isp", "downstream"):
        assert f"`{section}" in odd, section


def test_calibration_doc_lists_every_target():
    from model.calibration import TARGETS
    text = (DOCS / "calibration.md").read_text()
    for target in TARGETS:
        assert target.label in text, target.label
