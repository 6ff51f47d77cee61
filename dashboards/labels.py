"""Plain-language names and colours shared by the dashboard and the report.

Units, ranges and meanings come from the schema (:func:`model.schema.field_info`) and the metric list
(:data:`model.metrics.METRICS`); this module only adds the short titles people read on a slider, an axis
or a legend, and one colour per retention rule and per stage where evidence is lost.
"""

from __future__ import annotations

from model.experiments import REPORT_ACT_DAYS
from model.schema import field_info

#: Short titles of the scenario parameters shown as controls, factors or axes (the unit comes from the schema).
PARAMETER_TITLES: dict[str, str] = {
    "retention.window_days": "Preservation window",
    "ncmec.analysts": "NCMEC analysts",
    "law_enforcement.investigators": "US investigators",
    "foreign.investigators": "Foreign investigators",
    "demand.scale": "Report volume",
    "platforms.automated_share": "Unviewed reports",
    "law_enforcement.wilson_share": "Wilson warrants",
    "retention.preservation_request_share": "2703(f) requests",
    "ncmec.triage_policy": "NCMEC triage order",
}
#: Where the deadline passed (``model.outcomes.STAGE_NAMES``), in plain words and a colour each.
STAGE_LABELS = {"ncmec": "NCMEC queue", "agency_queue": "agency queue (before review)", "warrant": "Wilson warrant",
                "identification": "identifying the suspect", "drafting": "drafting / approval",
                "mlat": "MLAT / CLOUD Act", "closed_unworked": "closed unworked"}
STAGE_COLORS = {"ncmec": "#8c6bb1", "agency_queue": "#e08214", "warrant": "#8c510a", "identification": "#35978f",
                "drafting": "#b2182b", "mlat": "#4393c3", "closed_unworked": "#878787"}
#: Daily backlog series (``model.model.DAILY_SERIES``) -> short legend name (the long meaning goes in the hover text).
BACKLOG_LABELS = {"ncmec_backlog": "NCMEC queue", "agency_backlog": "referrals waiting for review",
                  "cases_in_progress": "cases in progress", "in_legal_process": "legal process scheduled",
                  "forensic_backlog": "forensic lab"}
#: Colours of the two retention rules: windows under a year red, a year or more blue.
RULE_COLORS = {"short": "#b2182b", "long": "#2166ac"}


def rule_color(window: float | None) -> str:
    """The colour of a retention rule: red under the REPORT Act's year, blue for a year or more."""
    return RULE_COLORS["long" if window is not None and window >= REPORT_ACT_DAYS else "short"]


def short_unit(unit: str) -> str:
    """A schema unit as shown in a label: "" for words (policy, text), else its first word ("x volume" -> "x")."""
    if not unit or unit in ("policy", "text"):
        return ""
    return unit.split()[0]


def with_unit(title: str, unit: str) -> str:
    """``title (unit)``, or the title alone when the unit is a word such as "policy"."""
    shown = short_unit(unit)
    return f"{title} ({shown})" if shown else title


def lower_first(text: str) -> str:
    """The first letter in lower case, unless the first word is an acronym ("US investigators" stays)."""
    return text[:1].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


def parameter_label(key: str, sentence: bool = False) -> str:
    """A scenario key as an axis label with its unit from the schema, e.g. "Preservation window (days)".

    `sentence`: the first letter in lower case, for use inside a sentence or a report axis.
    """
    info = field_info(key)
    title = PARAMETER_TITLES.get(key, key)
    text = with_unit(title, info.unit) if info is not None else title
    return lower_first(text) if sentence else text
