"""Generated documentation: ``python -m model.docs > docs/parameters.md``.

The parameter table is generated from the schema (:mod:`model.params`), so the documentation can
never disagree with the code; ``tests/test_docs.py`` fails when ``docs/parameters.md`` is stale.
"""

from __future__ import annotations

import sys

from model.params import Scenario
from model.scenarios import load_scenario
from model.schema import parameters

HEADER = """# Parameters

Generated from the schema in `model/params.py` by `python -m model.docs > docs/parameters.md`; do not edit
by hand (`tests/test_docs.py` fails when this file is stale). `tipline params SCENARIO` prints the same
table for any scenario.

Sources cite [sources.md](sources.md) by section ("sources §3"), with the reliability tag of the fact:
**[P]** primary, **[S]** secondary, **[S-AI]** AI-aggregated pointer (verify before relying on it),
**[E]** expert estimate or survey. `assumption:` marks a value with no published figure, followed by the
reason for the choice. *Plausible* is the range over which the answer's uncertainty is explored (`(log)`:
sampled evenly on a log scale); *allowed* is what input validation accepts.
"""


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(scenario: Scenario) -> str:
    """Markdown table of every parameter of `scenario`."""
    lines = ["| key | default | unit | allowed | plausible | source | meaning |", "|---|---|---|---|---|---|---|"]
    for p in parameters(scenario):
        lines.append("| " + " | ".join(_cell(x) for x in (f"`{p.key}`", p.value, p.unit, p.allowed, p.plausible_text(),
                                                           p.source, p.meaning)) + " |")
    return "\n".join(lines)


def parameters_markdown() -> str:
    """The whole of docs/parameters.md."""
    national = load_scenario("national")
    parts = [HEADER,
             "## Built-in defaults\n\nThe schema's defaults (`tipline params`), used for anything a scenario "
             "does not set.\n", table(Scenario()),
             "\n## The national scenario\n\n`scenarios/national.toml` (2023 volume, 90-day window): platform "
             "volumes and shares per ESP (`tipline params national`).\n", table(national), ""]
    return "\n".join(parts)


def main() -> int:
    sys.stdout.write(parameters_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
