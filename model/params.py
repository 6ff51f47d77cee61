"""The scenario schema: every parameter with its default, unit, valid range and source.

This module is the single source of parameters. The model, the CLI (`tipline params`), the
dashboard controls and the documentation's parameter table are generated from it.

Sources are keys into ``shared/calibration-sources.md`` ("calibration-sources §N ...", with the
reliability tag of the cited fact) or the word ``assumption:`` followed by the reason.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TriagePolicy = Literal["fifo", "urgent_first", "deadline_first", "quality_first"]
AgencyKind = Literal["icac", "federal", "foreign"]
TRIAGE_POLICIES: tuple[str, ...] = TriagePolicy.__args__  # type: ignore[attr-defined]


def param(default: Any, *, unit: str, source: str, ge: float | None = None,
          le: float | None = None, doc: str = "", allowed: str | None = None) -> Any:
    """A schema field with the metadata every parameter must carry (`allowed` for non-numeric values)."""
    extra = {"unit": unit, "source": source, **({"allowed": allowed} if allowed else {})}
    return Field(default, ge=ge, le=le, description=doc, json_schema_extra=extra)


class Section(BaseModel):
    """A block of parameters: unknown keys are errors, values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Run(Section):
    days: int = param(730, unit="days", ge=1, le=7300, doc="simulated days, warm-up included",
                      source="assumption: two years show the steady state and a full one-year window")
    warmup_days: int = param(180, unit="days", ge=0, le=7299,
                             doc="reports created on or before this day are simulated but not counted",
                             source="assumption: lets queues fill before counting starts")
    seed: int = param(20240507, unit="integer", ge=0, le=2**63 - 1, doc="root random seed",
                      source="assumption: REPORT Act signing date, any integer works")


class Retention(Section):
    window_days: int = param(90, unit="days", ge=1, le=3650,
                             doc="platform preservation after the report, 18 U.S.C. 2258A(h)",
                             source="calibration-sources §5: 90 days before, 365 after May 7, 2024 [P]")
    voluntary_extra_days: int = param(0, unit="days", ge=0, le=3650,
                                      doc="voluntary retention beyond the window, 2258A(h)(5)",
                                      source="assumption: 0; 2258A(h)(5) allows it, practice unknown "
                                             "(calibration-sources §5) [P]")
    preservation_request_share: float = param(
        0.3, unit="share of cases needing legal process", ge=0, le=1,
        doc="cases whose investigator sends a 2703(f) preservation request at intake",
        source="assumption: suggested table 0.3 (0.1-0.6); Kerr: hundreds of thousands a year (calibration-sources §3) [S]")
    preservation_extension_days: int = param(
        90, unit="days", ge=0, le=365, doc="preservation per 2703(f) request, from the request day",
        source="calibration-sources §3: 18 U.S.C. 2703(f), 90 days [P]")
    preservation_max_extensions: int = param(
        1, unit="renewals", ge=0, le=10, doc="renewals of a 2703(f) request",
        source="calibration-sources §3: extendable once by 90 days [P]")


class Surge(Section):
    start_day: int = param(365, unit="day", ge=1, le=7300, doc="first day of the surge",
                           source="assumption: scenario choice")
    duration_days: int = param(30, unit="days", ge=1, le=3650, doc="length of the surge",
                               source="assumption: scenario choice")
    multiplier: float = param(2.0, unit="x volume", ge=1, le=100,
                              doc="volume multiplier of every platform during the surge",
                              source="assumption: Meta: copies of 6 videos were over half of reports (calibration-sources "
                                     "§1) [P]")
    viral_share: float = param(1.0, unit="share of extra reports", ge=0, le=1,
                               doc="share of the extra reports that are copies of viral content (memes)",
                               source="assumption: a surge is driven by a viral meme")


class Demand(Section):
    scale: float = param(1.0, unit="x volume", ge=0, le=100,
                         doc="multiplies every platform's volume",
                         source="assumption: 1 = the platforms' listed volumes")
    growth_per_year: float = param(0.0, unit="share per year", ge=-0.9, le=10,
                                   doc="compound growth of volume",
                                   source="assumption: 2019-2023 grew about 20%/yr, 2024 fell (calibration-sources §1); 0 "
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
    def _factors_positive(self) -> Demand:
        if any(f < 0 or f > 10 for f in self.weekday_factors):
            raise ValueError("weekday_factors must lie in [0, 10]")
        return self


class Platform(Section):
    name: str = param("other", unit="text", source="assumption: label")
    reports_per_day: float = param(1000.0, unit="reports/day", ge=0, le=1e7,
                                   doc="mean CyberTipline reports filed per day",
                                   source="calibration-sources §1 per-ESP table 2019-2023 [P]; §7 X H1 2024 [P via press]")
    automated_share: float = param(0.4, unit="share", ge=0, le=1,
                                   doc="automated hash-match reports: no person at the platform viewed the file",
                                   source="assumption: national 0.4 (0.1-0.7); X 9.5% (calibration-sources §1, §7) [S]")
    urgent_share: float = param(0.00176, unit="share", ge=0, le=1,
                                doc="reports NCMEC escalates as urgent (child in imminent danger)",
                                source="calibration-sources §1: 63,892 of 36,210,368 in 2023 = 0.176% [P]")
    viral_share: float = param(0.3, unit="share", ge=0, le=1,
                               doc="copies of viral or meme content, bundled by NCMEC when bundling is on",
                               source="assumption: Meta >90% known content, half of reports copies of 6 videos "
                                      "(calibration-sources §1) [P]")
    known_content_share: float = param(0.9, unit="share", ge=0, le=1,
                                       doc="non-viral reports whose files match known hashes (little analyst time)",
                                       source="calibration-sources §1: Meta >90% same or similar to known content [P]")
    quality_share: float = param(0.85, unit="share", ge=0, le=1,
                                 doc="reports with usable user, IP and location data (referral, not informational)",
                                 source="calibration-sources §1: 2025 18.8M referred of 21.3M (0.6-0.9) [S]")
    us_share: float = param(0.05, unit="share", ge=0, le=1,
                            doc="reports whose user resolves to the US",
                            source="calibration-sources §1: US 4.1% (2020), 2.5% (2021), 6.0% (2022) [P]")
    unknown_location_share: float = param(
        0.01, unit="share", ge=0, le=1,
        doc="reports with usable data whose location cannot be resolved (routed to federal agencies)",
        source="assumption: unknown 4.1% of all reports (calibration-sources §1) [P], most of them thin; "
               "chosen with us_share to give about 1.1M US referrals in 2023")
    actionable_share: float = param(0.3, unit="share of non-viral referrals", ge=0, le=1,
                                    doc="non-viral referrals that carry actionable evidence (the rest are closed at screening)",
                                    source="assumption: ICAC 184,700 investigations / 1.1M US referrals in 2023 "
                                           "(calibration-sources §1, §3) [P/S-AI]")
    response_median_days: float = param(14.0, unit="days", ge=0, le=365,
                                        doc="median time for the platform to answer served legal process",
                                        source="assumption: suggested table 14 d (3-60); X not found (calibration-sources §7)")
    response_sigma: float = param(0.8, unit="log-days", ge=0, le=5,
                                  doc="lognormal sigma of the platform's answer time",
                                  source="assumption: gives the suggested 3-60 day range")

    @model_validator(mode="after")
    def _locations(self) -> Platform:
        if self.us_share + self.unknown_location_share > 1 + 1e-9:
            raise ValueError("us_share + unknown_location_share must not exceed 1")
        return self


class Ncmec(Section):
    analysts: int = param(60, unit="FTE", ge=0, le=100_000, doc="CyberTipline analysts",
                          source="assumption: count not published, suggested 60 (30-120) (calibration-sources §2)")
    reports_per_analyst_day: float = param(150.0, unit="reports/analyst/day", ge=0, le=1e6,
                                           doc="manual triage throughput of one analyst",
                                           source="assumption: suggested 150 (50-400) (calibration-sources §2)")
    known_content_cost: float = param(0.03, unit="analyst-reports", ge=0, le=1,
                                      doc="analyst time of a known-hash report, relative to a novel one",
                                      source="assumption: known files are recognised automatically (calibration-sources §2) [P]")
    bundling: bool = param(False, unit="on/off", allowed="true, false",
                           doc="automated bundling: viral copies become informational with no analyst time",
                           source="calibration-sources §1: bundling began in 2024 [P]")
    triage_policy: TriagePolicy = param("urgent_first", unit="policy",
                                        doc="order of the analysts' queue: fifo, urgent_first, deadline_first, quality_first",
                                        source="calibration-sources §2: NCMEC escalates urgent reports [P]")
    referral_delay_days: int = param(1, unit="days", ge=0, le=60,
                                     doc="from triage to the report reaching the agency (urgent: same day)",
                                     source="assumption: suggested 1-7 days, urgent <1 day "
                                            "(calibration-sources suggested defaults)")


class Agency(Section):
    name: str = param("agency", unit="text", source="assumption: label")
    kind: AgencyKind = param("icac", unit="kind",
                             doc="icac: US-located referrals; federal: unknown location; foreign: foreign referrals",
                             source="calibration-sources §2: geolocated US to ICAC, non-geolocated to federal [P/S-AI]")
    routing_share: float = param(1.0, unit="share of its kind's referrals", ge=0, le=1,
                                 doc="share of the referrals of its kind routed here",
                                 source="assumption: population shares of the regions")
    staff_share: float = param(1.0, unit="share of its side's investigators", ge=0, le=1,
                               doc="share of law_enforcement.investigators (US kinds) or foreign.investigators",
                               source="assumption: staff in proportion to referral workload (ICAC 3 : federal 1)")


def _default_agencies() -> list[Agency]:
    return [
        Agency(name="ICAC Northeast", kind="icac", routing_share=0.17, staff_share=0.13),
        Agency(name="ICAC Midwest", kind="icac", routing_share=0.21, staff_share=0.16),
        Agency(name="ICAC South", kind="icac", routing_share=0.38, staff_share=0.28),
        Agency(name="ICAC West", kind="icac", routing_share=0.24, staff_share=0.18),
        Agency(name="Federal (FBI/HSI)", kind="federal", routing_share=1.0, staff_share=0.25),
        Agency(name="Foreign liaison", kind="foreign", routing_share=1.0, staff_share=1.0),
    ]


class LawEnforcement(Section):
    investigators: int = param(3000, unit="FTE", ge=0, le=10_000_000,
                               doc="US investigators working CyberTipline referrals (ICAC and federal)",
                               source="assumption: 203k investigations/yr / 5-10 per FTE-month; suggested 3,000 "
                                      "(1,500-5,000) (calibration-sources §3)")
    cases_per_investigator_month: float = param(
        20.0, unit="cases/investigator/month", ge=0, le=10_000,
        doc="referrals one investigator can take on per month",
        source="calibration-sources §3: Wyoming about 11, Oregon about 44 per position-month [S]")
    screening_cost: float = param(0.25, unit="cases", ge=0, le=1,
                                  doc="capacity used to screen out a non-actionable referral",
                                  source="assumption: memes and thin reports are closed quickly (calibration-sources §4)")
    priority_policy: TriagePolicy = param("urgent_first", unit="policy",
                                          doc="order of each agency's queue",
                                          source="calibration-sources §3: prioritisation left to each task force [P/S]")
    legal_process_share: float = param(0.9, unit="share of actionable cases", ge=0, le=1,
                                       doc="actionable US cases that need legal process served on the platform",
                                       source="assumption: a subpoena for subscriber data is the usual first step "
                                              "(calibration-sources §3)")
    wilson_share: float = param(0.5, unit="share of unviewed files", ge=0, le=1,
                                doc="automated (unviewed) files that need a warrant before viewing",
                                source="calibration-sources §6: Wilson (9th Cir.), Maher (2d Cir.) and cautious agencies [P/S]")
    wilson_warrant_median_days: float = param(7.0, unit="days", ge=0, le=365,
                                              doc="median time to get the warrant to open an unviewed file",
                                              source="assumption: suggested +7 (2-21) days (calibration-sources §6)")
    wilson_warrant_sigma: float = param(0.7, unit="log-days", ge=0, le=5,
                                        doc="lognormal sigma of the Wilson warrant time",
                                        source="assumption: gives the suggested 2-21 day range")
    legal_process_median_days: float = param(30.0, unit="days", ge=0, le=3650,
                                             doc="median time from intake to legal process served on the platform",
                                             source="assumption: suggested median 30, IQR 10-90 (calibration-sources §3)")
    legal_process_sigma: float = param(1.63, unit="log-days", ge=0, le=5,
                                       doc="lognormal sigma of that time (1.63 gives IQR 10-90 days)",
                                       source="assumption: suggested IQR 10-90 (calibration-sources §3)")
    emergency_median_days: float = param(1.0, unit="days", ge=0, le=30,
                                         doc="median time to legal process for urgent cases (emergency disclosure)",
                                         source="calibration-sources §3: Meta emergency requests avg 67 min [S]")
    emergency_sigma: float = param(0.5, unit="log-days", ge=0, le=5,
                                   doc="lognormal sigma of the emergency time",
                                   source="assumption: most emergency requests resolve in a day or two")


class Foreign(Section):
    investigators: int = param(60_000, unit="FTE", ge=0, le=10_000_000,
                               doc="foreign investigators screening CyberTipline referrals (all countries)",
                               source="assumption: ample, so foreign delay comes from MLAT, not screening capacity")
    legal_process_share: float = param(0.05, unit="share of actionable cases", ge=0, le=1,
                                       doc="actionable foreign cases that need a US platform's stored content",
                                       source="assumption: most foreign cases use the IP and their own ISPs "
                                              "(calibration-sources §10)")
    mlat_median_days: float = param(240.0, unit="days", ge=0, le=3650,
                                    doc="median time of an MLAT request until served on the US platform",
                                    source="calibration-sources §10: six weeks to ten months, average about 10 months [S]")
    mlat_sigma: float = param(0.6, unit="log-days", ge=0, le=5, doc="lognormal sigma of the MLAT time",
                              source="calibration-sources §10: six weeks to ten months [S]")
    cloud_act_share: float = param(0.1, unit="share", ge=0, le=1,
                                   doc="foreign requests from CLOUD Act partners (direct requests)",
                                   source="assumption: UK (2022) and Australia (2024) agreements (calibration-sources §10) [S]")
    cloud_act_median_days: float = param(45.0, unit="days", ge=0, le=3650,
                                         doc="median time of a CLOUD Act request until served",
                                         source="assumption: weeks rather than months")


class Isp(Section):
    log_retention_days: int = param(180, unit="days", ge=0, le=3650,
                                    doc="ISP retention of IP assignment logs",
                                    source="calibration-sources §8: Comcast 180 days; 72 h to 18 months [P]")
    ip_lead_share: float = param(0.7, unit="share of served US cases", ge=0, le=1,
                                 doc="served US cases that next need an ISP subpoena for the IP address",
                                 source="assumption: subscriber IP is the usual lead (calibration-sources §3, §8)")
    subpoena_days: int = param(7, unit="days", ge=0, le=365,
                               doc="from the platform's answer to the ISP subpoena",
                               source="assumption: a subpoena is drafted and served in about a week")
    upload_to_report_days: int = param(3, unit="days", ge=0, le=365,
                                       doc="age of the IP session when the platform files its report",
                                       source="assumption: X acted on alerts in 1.6-3.5 days (calibration-sources §7) [S]")
    cgnat_share: float = param(0.1, unit="share of US IPs", ge=0, le=1,
                               doc="IPs behind carrier-grade NAT that cannot be attributed",
                               source="assumption: suggested 0.1 (0-0.3), CDT memo (calibration-sources §8) [S]")


class Downstream(Section):
    arrest_probability: float = param(0.06, unit="arrests per investigation", ge=0, le=1,
                                      doc="chance an investigated case with its evidence leads to an arrest",
                                      source="calibration-sources §3: FY2024 12,600 arrests / 203,467 investigations [S-AI]")
    arrest_probability_evidence_lost: float = param(
        0.02, unit="arrests per investigation", ge=0, le=1,
        doc="the same when platform content or ISP logs were lost",
        source="assumption: other leads remain but are weaker")
    forensic_exams_per_day: float = param(250.0, unit="exams/day", ge=0, le=1e6,
                                          doc="national digital-forensic examination capacity (ICAC)",
                                          source="calibration-sources §3: about 90,300 forensic exams in 2021 [S-AI]")
    exams_per_case: float = param(6.0, unit="exams/case", ge=0.01, le=1000,
                                  doc="forensic exams per case that leads to an arrest",
                                  source="assumption: 90,300 exams / 10,400 arrests in 2021 (calibration-sources §3) [S-AI]")
    arrest_delay_median_days: float = param(30.0, unit="days", ge=0, le=3650,
                                            doc="median time from the forensic exam to the arrest",
                                            source="assumption: forensic follow-up takes months (calibration-sources §3) [S]")
    arrest_delay_sigma: float = param(0.8, unit="log-days", ge=0, le=5,
                                      doc="lognormal sigma of that time",
                                      source="assumption: weeks to a few months around the median")


class Scenario(Section):
    """A whole scenario: what `tipline run` simulates."""

    name: str = param("scenario", unit="text", source="assumption: label")
    description: str = param("", unit="text", source="assumption: label")
    run: Run = Field(default_factory=Run)
    retention: Retention = Field(default_factory=Retention)
    demand: Demand = Field(default_factory=Demand)
    platforms: list[Platform] = Field(default_factory=lambda: [Platform()], min_length=1)
    ncmec: Ncmec = Field(default_factory=Ncmec)
    law_enforcement: LawEnforcement = Field(default_factory=LawEnforcement)
    agencies: list[Agency] = Field(default_factory=_default_agencies, min_length=1)
    foreign: Foreign = Field(default_factory=Foreign)
    isp: Isp = Field(default_factory=Isp)
    downstream: Downstream = Field(default_factory=Downstream)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.run.warmup_days >= self.run.days:
            raise ValueError(f"run.warmup_days ({self.run.warmup_days}) must be less than run.days ({self.run.days})")
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


def describe(scenario: Scenario) -> list[dict[str, Any]]:
    """One row per parameter of `scenario`: dotted key, value, unit, allowed range, source, meaning."""
    rows: list[dict[str, Any]] = []
    _describe_section(scenario, "", rows)
    return rows


def _describe_section(section: BaseModel, prefix: str, rows: list[dict[str, Any]]) -> None:
    for name, info in type(section).model_fields.items():
        value = getattr(section, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            _describe_section(value, f"{key}.", rows)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            for index, item in enumerate(value):
                label = getattr(item, "name", index)
                _describe_section(item, f"{key}[{label}].", rows)
        else:
            rows.append({"key": key, "value": value, **field_metadata(info)})


def field_metadata(info: Any) -> dict[str, Any]:
    """Unit, allowed range, source and meaning of a schema field."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    bounds = {type(m).__name__: m for m in info.metadata}
    low = bounds["Ge"].ge if "Ge" in bounds else None
    high = bounds["Le"].le if "Le" in bounds else None
    choices = getattr(info.annotation, "__args__", None) if getattr(info.annotation, "__origin__", None) is Literal else None
    allowed = (", ".join(choices) if choices else
               f"{_fmt(low)} to {_fmt(high)}" if low is not None or high is not None else extra.get("allowed", ""))
    return {"unit": extra.get("unit", ""), "allowed": allowed, "source": extra.get("source", ""),
            "meaning": info.description or ""}


def _fmt(x: float | None) -> str:
    if x is None:
        return "any"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1000 else f"{x:g}"
