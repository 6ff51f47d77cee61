"""Documentation generated from the schema is up to date, and every parameter has its provenance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model.docs import parameters_markdown
from model.params import Scenario
from model.scenarios import SCENARIO_DIR, load_scenario
from model.schema import parameters

DOCS = Path(__file__).resolve().parent.parent / "docs"
TAGGED = re.compile(r"sources §\d+[^\[]*\[(P|S|S-AI|E)[^\]]*\]")
SECTIONS = re.compile(r"sources §(\d+)")


def test_parameters_md_is_generated_from_the_schema():
    assert (DOCS / "parameters.md").read_text() == parameters_markdown(), (
        "docs/parameters.md is stale: run `python -m model.docs > docs/parameters.md`")


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
def test_every_parameter_has_unit_and_a_tagged_source_or_a_reasoned_assumption(name):
    for p in parameters(load_scenario(name)):
        assert p.unit, p.key
        if p.is_assumption:
            assert p.source.startswith("assumption: ") and len(p.source) > len("assumption: ") + 3, p.key
        else:
            assert TAGGED.search(p.source), f"{p.key}: source without a reliability tag: {p.source}"


def test_every_cited_section_exists_in_the_projects_own_sources():
    headings = set(re.findall(r"^## §(\d+)\.", (DOCS / "sources.md").read_text(), flags=re.M))
    cited = {n for p in parameters() for n in SECTIONS.findall(p.source)}
    for path in SCENARIO_DIR.glob("*.toml"):
        cited |= set(SECTIONS.findall(path.read_text()))
    assert cited and cited <= headings, f"cited but missing from docs/sources.md: {sorted(cited - headings)}"


def test_numeric_parameters_have_a_range_and_plausible_ranges_fit_inside_it():
    for p in parameters(Scenario()):
        if isinstance(p.value, (int, float)) and not isinstance(p.value, bool):
            assert p.allowed, p.key
        if p.plausible is not None:
            low, high = p.plausible
            assert (p.low is None or p.low <= low) and (p.high is None or high <= p.high), p.key
            assert low < high and (p.scale == "linear" or low > 0), p.key
            assert low <= p.value <= high, f"{p.key}: default {p.value} outside its plausible range {p.plausible}"


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
def test_every_shipped_scenario_lies_inside_its_plausible_ranges(name):
    """Staff and shares a scenario sets for its own scope (X's share of the investigators) have plausible
    ranges that scale with the value, so an uncertainty study of any scenario explores around it."""
    for p in parameters(load_scenario(name)):
        if p.plausible is not None:
            assert p.plausible[0] <= p.value <= p.plausible[1], f"{name}: {p.key} = {p.value} outside {p.plausible}"


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
