"""The scenario schema: every parameter with its default, unit, valid range, plausible range and source.

This module is the single source of parameters. The model, the CLI (`tipline params`), the
dashboard controls, the uncertainty ranges and the documentation's parameter table are generated
from it (walk it with :func:`model.schema.parameters`).

Sources cite ``docs/sources.md`` ("sources §N", with the reliability tag of the fact: [P] primary,
[S] secondary, [S-AI] pointer only, [E] expert estimate) or say ``assumption:`` and why. Parameters
that are assumptions, or whose source gives a range, carry a *plausible* range (``plausible=(low,
high)`` with ``scale="linear"`` or ``"log"``): the values the answer should be checked over, narrower
than the *valid* range that input validation enforces.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

QueuePolicy = Literal["fifo", "urgent_first", "deadline_first", "quality_first"]
AgencyKind = Literal["icac", "federal", "foreign"]
LetterTiming = Literal["receipt", "review"]
ExpiredCasePolicy = Literal["continue", "close"]
QUEUE_POLICIES: tuple[str, ...] = QueuePolicy.__args__  # type: ignore[attr-defined]


def param(default: Any, *, unit: str, source: str, ge: float | None = None, le: float | None = None,
          doc: str = "", allowed: str | None = None, plausible: tuple[float, float] | None = None,
          scale: Literal["linear", "log"] = "linear", relative: bool = False) -> Any:
    """A schema field with the metadata every parameter carries.

    `allowed` describes non-numeric values; `plausible` is the range over which the answer's
    uncertainty is explored (uniform on `scale`), with its reason in `source`. `relative`: the plausible
    range is stated for the default and scales with a scenario's value (staff and shares that scenarios
    set for their own scope: X's share of the investigators, one task force's five).
    """
    extra: dict[str, Any] = {"unit": unit, "source": source}
    if allowed:
        extra["allowed"] = allowed
    if plausible is not None:
        extra["plausible"] = list(plausible)
        extra["scale"] = scale
        if relative:
            extra["relative"] = True
    return Field(default, ge=ge, le=le, description=doc, json_schema_extra=extra)


class Section(BaseModel):
    """A block of parameters: unknown keys are errors, types are strict, values are checked on assignment.

    Strict: a number must be a number (``"90"`` is refused), a bool is not an int, NaN and infinity
    are refused.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False)


class Run(Section):
    days: int = param(730, unit="days", ge=1, le=7300,
                      doc="counted period ends on this day: reports created after the warm-up and up to this day "
                          "are counted and followed to their outcome",
                      source="assumption: two years: a year of warm-up, then a counted year")
    warmup_days: int = param(365, unit="days", ge=0, le=7299,
                             doc="reports created on or before this day are simulated but not counted; queues need "
                                 "up to three times the agencies' backlog limit to reach their steady state",
                             source="assumption: a year, three times the default backlog limit (120 days); measured "
                                    "per cohort (docs/ODD.md, warm-up), x_platform's US loss rises from 17% (created on "
                                    "days 121-300) and 25% (241-420) to a steady 27-27.5% from day 301 on; at limits "
                                    "of 60, 240 and 365 days it settles after about 180, 600 and 730 days")
    drain_max_days: int = param(730, unit="days", ge=0, le=7300,
                                doc="after run.days the model keeps running, with new uncounted reports, until every "
                                    "counted report is decided; this caps that drain (what is left is undecided)",
                                source="assumption: the backlog limit and the deadlines decide every report within "
                                       "months unless the pipeline is overloaded")
    seed: int = param(20240507, unit="integer", ge=0, le=2**63 - 1, doc="root random seed",
                      source="assumption: REPORT Act signing date, any integer works")


class Retention(Section):
    window_days: int = param(90, unit="days", ge=1, le=3650,
                             doc="platform preservation after the report, 18 U.S.C. 2258A(h)",
                             source="sources §5: 90 days before, 365 after May 7, 2024 [P]")
    voluntary_extra_days: int = param(0, unit="days", ge=0, le=3650,
                                      doc="voluntary retention beyond the window by every platform, 2258A(h)(5) "
                                          "(added to each platform's own voluntary_retention_days)",
                                      source="assumption: 0; 2258A(h)(5) allows it, practice unknown (sources §5) [P]")
    preservation_request_share: float = param(
        0.3, unit="share of cases needing legal process", ge=0, le=1,
        doc="cases needing legal process for which the agency sends a 2703(f) preservation letter",
        source="assumption: suggested 0.3 (0.1-0.6); Kerr: hundreds of thousands a year (sources §3) [S]",
        plausible=(0.1, 0.6))
    preservation_request_timing: LetterTiming = param(
        "receipt", unit="policy", allowed="receipt, review",
        doc="when the 2703(f) letter goes out: when the agency receives the referral, or when an investigator "
            "reviews it",
        source="assumption: letters are a short first step; no published figure (sources §11)")
    preservation_extension_days: int = param(
        90, unit="days", ge=0, le=365, doc="preservation per 2703(f) letter, from the day it is sent",
        source="sources §3: 18 U.S.C. 2703(f), 90 days [P]")
    preservation_max_extensions: int = param(
        1, unit="renewals", ge=0, le=10, doc="renewals of a 2703(f) letter (sent in time)",
        source="sources §3: extendable once by 90 days [P]")


class Surge(Section):
    start_day: int = param(365, unit="day", ge=1, le=7300, doc="first day of the surge",
                           source="assumption: scenario choice")
    duration_days: int = param(30, unit="days", ge=1, le=3650, doc="length of the surge",
                               source="assumption: scenario choice")
    multiplier: float = param(2.0, unit="x volume", ge=1, le=100,
                              doc="volume multiplier of every platform during the surge",
                              source="assumption: Meta: copies of 6 videos were over half of reports (sources §1) [P]")
    viral_share: float = param(1.0, unit="share of extra reports", ge=0, le=1,
                               doc="share of the extra reports that are copies of viral content (memes)",
                               source="assumption: a surge is driven by a viral meme")


class Demand(Section):
    scale: float = param(1.0, unit="x volume", ge=0, le=100,
                         doc="multiplies every platform's volume",
                         source="assumption: 1 = the platforms' listed volumes")
    growth_per_year: float = param(0.0, unit="share per year", ge=-0.9, le=10,
                                   doc="compound growth of volume",
                                   source="assumption: 2019-2023 grew about 20%/yr, 2024 fell (sources §1); 0 "
                                          "isolates policy effects")
    weekday_factors: list[float] = Field(
        default_factory=lambda: [1.0] * 7, min_length=7, max_length=7,
        description="volume factor per day of the week, day 1 = first entry",
        json_schema_extra={"unit": "x volume", "allowed": "7 values, each 0 to 10",
                           "source": "assumption: no weekly pattern published"})
    surges: list[Surge] = Field(default_factory=list, description="volume surges (viral memes)",
                                json_schema_extra={"unit": "list", "allowed": "tables of the [[demand.surges]] keys",
                                                   "source": "assumption: scenario choice"})

    @model_validator(mode="after")
    def _factors_in_range(self) -> Demand:
        if any(not 0 <= f <= 10 for f in self.weekday_factors):
            raise ValueError("weekday_factors must lie in [0, 10]")
        return self


class PlatformSpec(Section):
    """One electronic service provider's reports (the ``[[platforms]]`` tables)."""

    name: str = param("other", unit="text", source="assumption: label")
    reports_per_day: float = param(1000.0, unit="reports/day", ge=0, le=1e7,
                                   doc="mean CyberTipline reports filed per day",
                                   source="sources §1 per-ESP table 2019-2023 [P; 2023 Meta S]; §7 X H1 2024 [P via press]")
    automated_share: float = param(0.4, unit="share", ge=0, le=1,
                                   doc="automated hash-match reports: no person at the platform viewed the file",
                                   source="assumption: national 0.4 (0.1-0.7); X 9.5% (sources §1, §7) [S]",
                                   plausible=(0.1, 0.7), relative=True)
    urgent_share: float = param(0.00176, unit="share", ge=0, le=1,
                                doc="reports NCMEC escalates as urgent (child in imminent danger)",
                                source="sources §1: 63,892 of 36,210,368 in 2023 = 0.176% [P]")
    viral_share: float = param(0.3, unit="share", ge=0, le=1,
                               doc="copies of viral or meme content, bundled by NCMEC when bundling is on",
                               source="assumption: Meta >90% known content, half of reports copies of 6 videos "
                                      "(sources §1) [P]")
    known_content_share: float = param(0.9, unit="share", ge=0, le=1,
                                       doc="non-viral reports whose files match known hashes (little analyst time)",
                                       source="sources §1: Meta >90% same or similar to known content [P]")
    quality_share: float = param(0.85, unit="share", ge=0, le=1,
                                 doc="reports with usable user, IP and location data (referral, not informational)",
                                 source="sources §1: 2025 18.8M referred of 21.3M [S, verify]; range 0.6-0.9 from the "
                                        "suggested defaults")
    quality_signal: float = param(0.5, unit="0-1", ge=0, le=1,
                                  doc="how well a referral's completeness predicts that it is actionable: 0 not at all, "
                                      "1 the most complete are twice as likely to be actionable as the average",
                                  source="assumption: SIO: nearly identical reports can hide very different cases, so "
                                         "the signal is weak (sources §4) [P via summaries]",
                                  plausible=(0.0, 0.9))
    us_share: float = param(0.05, unit="share", ge=0, le=1,
                            doc="reports whose user resolves to the US",
                            source="sources §1: US 4.1% (2020), 2.5% (2021), 6.0% (2022) [P]")
    unknown_location_share: float = param(
        0.01, unit="share", ge=0, le=1,
        doc="reports with usable data whose location cannot be resolved (routed to federal agencies)",
        source="assumption: unknown 4.1% of all reports (sources §1) [P], most of them thin; "
               "chosen with us_share to give about 1.1M US referrals in 2023")
    actionable_share: float = param(0.3, unit="share of non-viral referrals", ge=0, le=1,
                                    doc="non-viral referrals that carry actionable evidence (the rest are closed at review)",
                                    source="assumption: ICAC 184,700 investigations / 1.1M US referrals in 2023 "
                                           "(sources §1, §3) [P/S-AI]")
    voluntary_retention_days: int = param(
        0, unit="days", ge=0, le=3650,
        doc="this platform's voluntary retention beyond the legal window, 2258A(h)(5)",
        source="assumption: 0 (practice unknown, sources §5); platforms that keep data longer make deadlines differ",
        plausible=(0, 180))
    response_median_days: float = param(14.0, unit="days", ge=0, le=365,
                                        doc="median time for the platform to answer served legal process",
                                        source="assumption: weeks to months (sources §11: Comcast 5-7 business days "
                                               "[P], Meta and Snap 'weeks or months' [S]); X not found (§7)",
                                        plausible=(7.0, 45.0), scale="log")
    response_sigma: float = param(0.8, unit="log-days", ge=0, le=5,
                                  doc="lognormal sigma of the platform's answer time",
                                  source="assumption: gives the suggested 3-60 day range")

    @model_validator(mode="after")
    def _locations(self) -> PlatformSpec:
        if self.us_share + self.unknown_location_share > 1 + 1e-9:
            raise ValueError("us_share + unknown_location_share must not exceed 1")
        return self


class NcmecSpec(Section):
    """NCMEC's CyberTipline analysts (one stage agent; analysts are its staff, in FTE)."""

    analysts: int = param(60, unit="FTE", ge=0, le=100_000, doc="CyberTipline analysts",
                          source="assumption: count not published (sources §2); suggested 60 (30-120) in sources' "
                                 "suggested defaults",
                          plausible=(30, 120), scale="log", relative=True)
    reports_per_analyst_day: float = param(150.0, unit="reports/analyst/day", ge=0, le=1e6,
                                           doc="manual triage throughput of one analyst",
                                           source="assumption: suggested 150 (50-400) in sources' suggested defaults; most "
                                                  "reports are processed automatically (sources §2)",
                                           plausible=(50.0, 400.0), scale="log")
    known_content_cost: float = param(0.03, unit="analyst-reports", ge=0, le=1,
                                      doc="analyst time of a known-hash report, relative to a novel one",
                                      source="assumption: known files are recognised automatically (sources §2) [P]",
                                      plausible=(0.01, 0.1), scale="log")
    bundling: bool = param(False, unit="on/off", allowed="true, false",
                           doc="automated bundling: viral copies become informational with no analyst time",
                           source="sources §1: bundling began in 2024 [P]")
    triage_policy: QueuePolicy = param("urgent_first", unit="policy",
                                       doc="order of the analysts' queue: fifo, urgent_first, deadline_first, "
                                           "quality_first",
                                       source="sources §2: NCMEC escalates urgent reports [P]")
    referral_delay_days: int = param(1, unit="days", ge=0, le=60,
                                     doc="from triage to the report reaching the agency (urgent: same day)",
                                     source="assumption: suggested 1-7 days, urgent <1 day (sources, suggested defaults)")
    backlog_limit_days: int = param(30, unit="days", ge=1, le=3650,
                                    doc="a report the analysts have not reached after this many days is made "
                                        "available to law enforcement unreviewed (a referral if it has usable data)",
                                    source="assumption: NCMEC makes every report with a location available to "
                                           "law enforcement; its processing times are not published (sources §2)",
                                    plausible=(7, 90), scale="log")


class AgencySpec(Section):
    """One law-enforcement agency (the ``[[agencies]]`` tables)."""

    name: str = param("agency", unit="text", source="assumption: label")
    kind: AgencyKind = param("icac", unit="kind",
                             doc="icac: US-located referrals; federal: unknown location; foreign: foreign referrals",
                             source="sources §2: geolocated US to ICAC, non-geolocated to federal [P/S-AI]")
    routing_share: float = param(1.0, unit="share of its kind's referrals", ge=0, le=1,
                                 doc="share of the referrals of its kind routed here",
                                 source="assumption: a stratum of task forces by staffing (sources §3, §11)")
    staff_share: float = param(1.0, unit="share of its side's investigators", ge=0, le=1,
                               doc="share of law_enforcement.investigators (US kinds) or foreign.investigators",
                               source="assumption: tip loads per investigator differ about 15-fold between task forces "
                                      "(sources §3, §11)")


#: US-located referrals per investigator-month of the task-force strata (national scenario) and each
#: stratum's share of them: a spread like the published loads of 11 (Wyoming), 33 (Washington),
#: 44 (Oregon 2024), 88 (Georgia) and 167 (Oregon 2023) (sources §3, §11). An assumption.
TASK_FORCE_STRATA = (("ICAC lightly loaded", 0.15, 0.248), ("ICAC moderately loaded", 0.25, 0.248),
                     ("ICAC heavily loaded", 0.25, 0.155), ("ICAC overloaded", 0.20, 0.077),
                     ("ICAC severely overloaded", 0.15, 0.034))


def _default_agencies() -> list[AgencySpec]:
    """Task forces in five strata by load: about 15, 25, 40, 65 and 110 US referrals per investigator-month,
    with 15%, 25%, 25%, 20% and 15% of the US-located referrals; federal agencies about 35 (sources §3, §11)."""
    return [*(AgencySpec(name=name, kind="icac", routing_share=routing, staff_share=staff)
              for name, routing, staff in TASK_FORCE_STRATA),
            AgencySpec(name="Federal (FBI/HSI)", kind="federal", routing_share=1.0, staff_share=0.238),
            AgencySpec(name="Foreign liaison", kind="foreign", routing_share=1.0, staff_share=1.0)]


class LawEnforcement(Section):
    """US investigators: their time, the hours each step of a case takes, and the agencies' policies."""

    investigators: int = param(3000, unit="FTE", ge=0, le=10_000_000,
                               doc="US investigators working CyberTipline referrals (ICAC and federal)",
                               source="assumption: 203k investigations/yr / 5-10 per FTE-month; suggested 3,000 "
                                      "(1,500-5,000) (sources §3)",
                               plausible=(1500, 5000), scale="log", relative=True)
    hours_per_investigator_year: float = param(
        1200.0, unit="hours/FTE/year", ge=0, le=8760,
        doc="hours an investigator spends on CyberTipline casework in a year (court, training, other cases excluded)",
        source="assumption: about 1,800 paid hours a year (the working figure in sources §11), two thirds on "
               "CyberTipline casework; with the hours per step, an investigator can work about 50-60 referrals a month, "
               "between Oregon's 44 (no backlog) and Georgia's 88 (some unworked) (sources §11; docs/calibration.md)",
        plausible=(600.0, 1600.0))
    screening_hours: float = param(0.5, unit="hours", ge=0, le=100,
                                   doc="investigator time to review a referral that turns out not actionable (a meme, "
                                       "a thin report) and close it",
                                   source="assumption: closed quickly (sources §4); no time-and-motion study (§11)",
                                   plausible=(0.25, 2.0), scale="log")
    review_hours: float = param(1.5, unit="hours", ge=0, le=100,
                                doc="investigator time to review an actionable referral and open a case",
                                source="assumption: no published figure (sources §11)",
                                plausible=(1.0, 6.0), scale="log")
    preservation_letter_hours: float = param(0.25, unit="hours", ge=0, le=24,
                                             doc="investigator time to send one 2703(f) preservation letter",
                                             source="assumption: a form letter; no published figure (sources §11)",
                                             plausible=(0.1, 1.0), scale="log")
    warrant_hours: float = param(3.0, unit="hours", ge=0, le=200,
                                 doc="investigator time to draft the Wilson/Maher warrant to open an unviewed file",
                                 source="assumption: an affidavit (sources §6, §11: 4-16 h to legal process per tip)",
                                 plausible=(1.0, 8.0), scale="log")
    warrant_approval_median_days: float = param(
        2.0, unit="days", ge=0, le=365, doc="median wait for a judge to sign the Wilson/Maher warrant",
        source="assumption: 'two or three hours' on paper, minutes with e-warrants, plus scheduling (sources §11) [S]",
        plausible=(0.5, 7.0), scale="log")
    warrant_approval_sigma: float = param(0.7, unit="log-days", ge=0, le=5,
                                          doc="lognormal sigma of the warrant approval wait",
                                          source="assumption: from same day to a couple of weeks")
    identification_share: float = param(
        0.6, unit="share of US cases needing legal process", ge=0, le=1,
        doc="cases that must identify the suspect (subpoenas to the platform or the ISP for the subscriber) "
            "before the content warrant",
        source="assumption: a subpoena for subscriber data and IP logs is the usual first step; content needs a "
               "warrant (sources §3: Meta LE guidelines [P])", plausible=(0.3, 0.9))
    subpoena_hours: float = param(1.5, unit="hours", ge=0, le=100,
                                  doc="investigator time to draft the identification subpoenas",
                                  source="assumption: short forms (sources §11: 2.4-19 subpoenas per investigator-"
                                         "month [E])", plausible=(0.5, 4.0), scale="log")
    identification_median_days: float = param(
        21.0, unit="days", ge=0, le=365,
        doc="median wait for the subpoenas' answers (platform, then ISP) before the content warrant can be drafted",
        source="assumption: the suggested ranges of sources §11: platform answer 1-4 weeks, ISP about 1-1.5 weeks",
        plausible=(7.0, 45.0), scale="log")
    identification_sigma: float = param(0.8, unit="log-days", ge=0, le=5,
                                        doc="lognormal sigma of that wait",
                                        source="assumption: weeks, with a tail of months (sources §11, suggested ranges)")
    drafting_hours: float = param(3.0, unit="hours", ge=0, le=200,
                                  doc="investigator time to draft the legal process for the platform's content (a "
                                      "warrant or 2703(d) order)",
                                  source="assumption: sources §11 suggest 4-16 h of work up to serving legal process",
                                  plausible=(2.0, 12.0), scale="log")
    approval_median_days: float = param(3.0, unit="days", ge=0, le=365,
                                        doc="median wait for the prosecutor's or judge's approval of the legal process",
                                        source="assumption: days (sources §3: 'days to weeks' [S-AI]; §11)",
                                        plausible=(1.0, 14.0), scale="log")
    approval_sigma: float = param(0.8, unit="log-days", ge=0, le=5,
                                  doc="lognormal sigma of the approval wait",
                                  source="assumption: from a day to a few weeks")
    follow_up_hours: float = param(4.0, unit="hours", ge=0, le=1000,
                                   doc="investigator time after the platform answers (ISP subpoena, identification, "
                                       "interviews), or after review for a case needing no platform legal process",
                                   source="assumption: a full investigation is 20-60 h (sources §11), most cases end "
                                          "sooner",
                                   plausible=(3.0, 30.0), scale="log")
    work_sigma: float = param(0.5, unit="log", ge=0, le=3,
                              doc="lognormal sigma of a case's work multiplier (mean 1): some cases take many times "
                                  "the typical hours at every step",
                              source="assumption: cases differ widely in size (sources §11)", plausible=(0.0, 1.0))
    priority_policy: QueuePolicy = param("urgent_first", unit="policy",
                                         doc="order in which each agency's investigators take up work",
                                         source="sources §3: prioritisation left to each task force [P/S]")
    backlog_limit_days: int = param(120, unit="days", ge=1, le=3650,
                                    doc="a referral not yet picked up after this many days is closed unworked",
                                    source="assumption: Oregon tips sat about three months before anyone picked them "
                                           "up; Georgia: some go unworked (sources §11) [S]",
                                    plausible=(30, 365), scale="log")
    priority_threshold: float = param(0.0, unit="share of referrals", ge=0, le=0.95,
                                      doc="share of referrals with the least complete data that an agency closes on "
                                          "receipt, unworked (urgent ones never)",
                                      source="assumption: 0; Georgia works 'the worst of the worst' (sources §11) [S]",
                                      plausible=(0.0, 0.5))
    expired_case_policy: ExpiredCasePolicy = param(
        "continue", unit="policy", allowed="continue, close",
        doc="when the platform answers that the content has expired: continue with other leads, or close the case",
        source="assumption: 61% of investigators had cases harmed by unretained data, 47% ended one (sources §11) [E]; "
               "see docs/ODD.md")
    legal_process_share: float = param(0.9, unit="share of actionable cases", ge=0, le=1,
                                       doc="actionable US cases that need legal process served on the platform",
                                       source="assumption: a subpoena for subscriber data is the usual first step "
                                              "(sources §3)", plausible=(0.6, 1.0))
    wilson_share: float = param(0.5, unit="share of unviewed files", ge=0, le=1,
                                doc="automated (unviewed) files that need a warrant before viewing",
                                source="sources §6: Wilson (9th Cir.), Maher (2d Cir.) and cautious agencies [P/S]",
                                plausible=(0.2, 1.0))
    emergency_hours: float = param(0.5, unit="hours", ge=0, le=100,
                                   doc="investigator time of an emergency disclosure request (urgent cases)",
                                   source="assumption: a short form; no published figure (sources §11)")
    emergency_median_days: float = param(1.0, unit="days", ge=0, le=30,
                                         doc="median time for an emergency disclosure to be answered (urgent cases)",
                                         source="assumption: a day, with drafting and sending; Meta answers in about an hour on "
                                                "average (sources §3) [S]")
    emergency_sigma: float = param(0.5, unit="log-days", ge=0, le=5,
                                   doc="lognormal sigma of the emergency time",
                                   source="assumption: most emergency requests resolve in a day or two")


class Foreign(Section):
    """Foreign agencies: screening capacity and the MLAT / CLOUD Act route to a US platform's content."""

    investigators: int = param(60_000, unit="FTE", ge=0, le=10_000_000,
                               doc="foreign investigators screening CyberTipline referrals (all countries); they work "
                                   "the US hours per step",
                               source="assumption: ample, so foreign delay comes from MLAT, not screening capacity")
    legal_process_share: float = param(0.05, unit="share of actionable cases", ge=0, le=1,
                                       doc="actionable foreign cases that need a US platform's stored content",
                                       source="assumption: most foreign cases can go on with the IP address through their own "
                                              "ISPs; no published figure (the MLAT route: sources §10)",
                                       plausible=(0.01, 0.2), scale="log")
    mlat_median_days: float = param(240.0, unit="days", ge=0, le=3650,
                                    doc="median time of an MLAT request until served on the US platform",
                                    source="sources §10: six weeks to ten months; about 10 months on average [S] (median 240 "
                                           "and sigma 0.6 give a mean of about 290 days)",
                                    plausible=(120.0, 300.0))
    mlat_sigma: float = param(0.6, unit="log-days", ge=0, le=5, doc="lognormal sigma of the MLAT time",
                              source="sources §10: six weeks to ten months [S]")
    cloud_act_share: float = param(0.1, unit="share", ge=0, le=1,
                                   doc="foreign requests from CLOUD Act partners (direct requests)",
                                   source="assumption: UK (2022) and Australia (2024) agreements (sources §10) [S]",
                                   plausible=(0.05, 0.3))
    cloud_act_median_days: float = param(45.0, unit="days", ge=0, le=3650,
                                         doc="median time of a CLOUD Act request until served",
                                         source="assumption: weeks rather than months", plausible=(20.0, 90.0),
                                         scale="log")
    cloud_act_sigma: float = param(0.6, unit="log-days", ge=0, le=5,
                                   doc="lognormal sigma of the CLOUD Act time",
                                   source="assumption: as wide as the MLAT time")


class Isp(Section):
    log_retention_days: int = param(180, unit="days", ge=0, le=3650,
                                    doc="ISP retention of IP assignment logs",
                                    source="sources §8: Comcast 180 days [P]; 72 hours to 18 months [P/S]",
                                    plausible=(60, 540), scale="log")
    ip_lead_share: float = param(0.7, unit="share of served US cases", ge=0, le=1,
                                 doc="served US cases that next need an ISP subpoena for the IP address",
                                 source="assumption: subscriber IP is the usual lead (sources §3, §8)")
    subpoena_days: int = param(7, unit="days", ge=0, le=365,
                               doc="from the platform's answer to the ISP subpoena",
                               source="assumption: ISP subpoena about 1-1.5 weeks (sources §11)")
    upload_to_report_days: int = param(3, unit="days", ge=0, le=365,
                                       doc="age of the IP session when the platform files its report",
                                       source="assumption: a few days; a proxy: X took 1.6-3.5 days to act on NCMEC "
                                              "alerts (sources §7) [S]")
    cgnat_share: float = param(0.1, unit="share of US IPs", ge=0, le=1,
                               doc="IPs behind carrier-grade NAT that cannot be attributed",
                               source="assumption: suggested 0.1 (0-0.3), CDT memo (sources §8) [S]",
                               plausible=(0.0, 0.3))


class Downstream(Section):
    arrest_probability: float = param(0.06, unit="arrests per investigation", ge=0, le=1,
                                      doc="chance an investigated case with its evidence leads to an arrest",
                                      source="sources §3: FY2024 12,600 arrests / 203,467 investigations [S-AI]")
    arrest_probability_evidence_lost: float = param(
        0.02, unit="arrests per investigation", ge=0, le=1,
        doc="the same when platform content or ISP logs were lost",
        source="assumption: other leads remain but are weaker", plausible=(0.0, 0.05))
    forensic_exams_per_day: float = param(250.0, unit="exams/day", ge=0, le=1e6,
                                          doc="national digital-forensic examination capacity (ICAC)",
                                          source="sources §3: about 90,300 forensic exams in 2021 [S-AI]")
    exams_per_case: float = param(6.0, unit="exams/case", ge=0.01, le=1000,
                                  doc="forensic exams per case that leads to an arrest",
                                  source="assumption: below the 8.7 exams per arrest of 2021 (90,300 / 10,400, "
                                         "sources §3 [S-AI]): not every exam belongs to a case that leads to an arrest",
                                  plausible=(4.0, 9.0))
    arrest_delay_median_days: float = param(30.0, unit="days", ge=0, le=3650,
                                            doc="median time from the forensic exam to the arrest",
                                            source="assumption: weeks to months of forensic follow-up (sources §3) [S-AI]")
    arrest_delay_sigma: float = param(0.8, unit="log-days", ge=0, le=5,
                                      doc="lognormal sigma of that time",
                                      source="assumption: weeks to a few months around the median")


#: Keys of earlier versions, with what replaced them (their use is an error that says so).
REMOVED_KEYS: dict[str, str] = {
    "law_enforcement.cases_per_investigator_month":
        "investigator time is now in hours: law_enforcement.hours_per_investigator_year and the *_hours keys",
    "law_enforcement.screening_cost": "replaced by law_enforcement.screening_hours",
    "law_enforcement.legal_process_median_days":
        "the time to legal process now emerges from investigator hours (drafting_hours, review_hours, ...) and "
        "approval waits (approval_median_days)",
    "law_enforcement.legal_process_sigma": "replaced by law_enforcement.approval_sigma and work_sigma",
    "law_enforcement.wilson_warrant_median_days":
        "replaced by law_enforcement.warrant_hours (work) and warrant_approval_median_days (the judge's wait)",
    "law_enforcement.wilson_warrant_sigma": "replaced by law_enforcement.warrant_approval_sigma",
}


class Scenario(Section):
    """A whole scenario: what `tipline run` simulates."""

    name: str = param("scenario", unit="text", source="assumption: label")
    description: str = param("", unit="text", source="assumption: label")
    run: Run = Field(default_factory=Run)
    retention: Retention = Field(default_factory=Retention)
    demand: Demand = Field(default_factory=Demand)
    platforms: list[PlatformSpec] = Field(default_factory=lambda: [PlatformSpec()], min_length=1)
    ncmec: NcmecSpec = Field(default_factory=NcmecSpec)
    law_enforcement: LawEnforcement = Field(default_factory=LawEnforcement)
    agencies: list[AgencySpec] = Field(default_factory=_default_agencies, min_length=1)
    foreign: Foreign = Field(default_factory=Foreign)
    isp: Isp = Field(default_factory=Isp)
    downstream: Downstream = Field(default_factory=Downstream)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.run.warmup_days >= self.run.days:
            raise ValueError(f"run.warmup_days ({self.run.warmup_days}) must be less than run.days ({self.run.days}): "
                             "only reports created after the warm-up are counted (shorten the warm-up too, e.g. "
                             f"--set run.warmup_days={max(self.run.days // 4, 0)})")
        names = [p.name for p in self.platforms]
        if len(set(names)) != len(names):
            raise ValueError(f"platform names must be unique, got {names}")
        for kind in ("icac", "federal", "foreign"):
            group = [a for a in self.agencies if a.kind == kind]
            if not group:
                raise ValueError(f"agencies: at least one agency of kind '{kind}' is needed")
            total = sum(a.routing_share for a in group)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"agencies: routing_share of kind '{kind}' must sum to 1, got {total:g}")
        for side, kinds in (("US (icac, federal)", ("icac", "federal")), ("foreign", ("foreign",))):
            total = sum(a.staff_share for a in self.agencies if a.kind in kinds)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"agencies: staff_share of the {side} agencies must sum to 1, got {total:g}")
        return self


#: Queues reach their steady state after about this many times the agencies' backlog limit (docs/ODD.md, warm-up).
STEADY_STATE_BACKLOGS = 3


def settling_days(backlog_limit_days: float) -> int:
    """Days of warm-up queues need to settle at an agencies' backlog limit (days): STEADY_STATE_BACKLOGS limits."""
    return math.ceil(STEADY_STATE_BACKLOGS * backlog_limit_days)


def warmup_note(scenario: Scenario) -> str | None:
    """A note when the warm-up is shorter than the time queues need to settle (STEADY_STATE_BACKLOGS times the
    agencies' backlog limit): the first counted cohorts meet queues still filling, and the rates are understated.
    None when it is long enough."""
    needed = settling_days(scenario.law_enforcement.backlog_limit_days)
    if scenario.run.warmup_days >= needed:
        return None
    return (f"{scenario.name}: run.warmup_days ({scenario.run.warmup_days}) is shorter than {STEADY_STATE_BACKLOGS} "
            f"times the agencies' backlog limit ({needed} days): the first counted cohorts meet queues that are still "
            f"filling, so the loss rates may be understated (docs/ODD.md, warm-up); set run.warmup_days={needed} and "
            f"run.days beyond it")
