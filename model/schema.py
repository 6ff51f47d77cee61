"""The schema describes itself: one walker over the parameters of :mod:`model.params`.

Scenario loading, sweep validation, the dashboard's controls, ``tipline params``, the uncertainty
ranges and the generated ``docs/parameters.md`` all read parameters through :func:`field_info`,
:func:`parameters` and :func:`section_at`; nothing else walks the pydantic models by hand.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from model.params import Scenario


@dataclass(frozen=True)
class Parameter:
    """What the schema says about one parameter.

    ``key`` is dotted; entries of arrays of tables are written ``platforms[X].reports_per_day`` in
    :func:`parameters` (one row per entry) and ``platforms.reports_per_day`` in :func:`field_info`.
    """

    key: str
    unit: str
    low: float | None          # valid range (None: unbounded or not numeric)
    high: float | None
    choices: tuple[str, ...]   # allowed words of a policy or kind
    allowed: str               # the valid range or choices in words
    plausible: tuple[float, float] | None
    scale: str                 # "linear" or "log": how the plausible range is sampled
    source: str
    meaning: str
    annotation: Any
    value: Any = None
    relative: bool = False     # the plausible range scales with the scenario's value (stated for the default)

    @property
    def is_assumption(self) -> bool:
        return self.source.startswith("assumption")

    @property
    def is_integer(self) -> bool:
        return self.annotation is int

    def plausible_text(self) -> str:
        if self.plausible is None:
            return ""
        low, high = self.plausible
        return (f"{fmt_number(low)} to {fmt_number(high)}" + (" (log)" if self.scale == "log" else "")
                + (" (scales with the value)" if self.relative else ""))


def section_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model class behind a field annotation (``X`` or ``list[X]``)."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def describe_field(key: str, info: FieldInfo, value: Any = None) -> Parameter:
    """A :class:`Parameter` from a pydantic field."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    bounds = {type(m).__name__: m for m in info.metadata}
    low = bounds["Ge"].ge if "Ge" in bounds else None
    high = bounds["Le"].le if "Le" in bounds else None
    origin = typing.get_origin(info.annotation)
    choices = tuple(typing.get_args(info.annotation)) if origin is Literal else ()
    if choices:
        allowed = ", ".join(choices)
    elif low is not None or high is not None:
        allowed = f"{fmt_number(low)} to {fmt_number(high)}"
    else:
        allowed = str(extra.get("allowed", ""))
    plausible = tuple(extra["plausible"]) if extra.get("plausible") else None
    relative = bool(extra.get("relative"))
    if plausible and relative and value is not None and info.default and value != info.default:
        ratio = value / info.default
        plausible = (max(plausible[0] * ratio, low if low is not None else -math.inf),
                     min(plausible[1] * ratio, high if high is not None else math.inf))
    return Parameter(key=key, unit=str(extra.get("unit", "")), low=low, high=high, choices=choices, allowed=allowed,
                     plausible=plausible, scale=str(extra.get("scale", "linear")),
                     source=str(extra.get("source", "")), meaning=info.description or "",
                     annotation=info.annotation, value=value, relative=relative)


def section_at(path: typing.Sequence[str | int], root: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    """The section class reached by following the keys of `path` (list indices are skipped)."""
    section: type[BaseModel] | None = root
    for key in path:
        if isinstance(key, int) or section is None:
            continue
        info = section.model_fields.get(key)
        if info is None:
            return None
        section = section_of(info.annotation)
    return section


def field_info(key: str, root: type[BaseModel] = Scenario) -> Parameter | None:
    """The schema of a dotted key (``platforms.reports_per_day`` or ``platforms.X.reports_per_day``)."""
    section: type[BaseModel] | None = root
    parts = key.split(".")
    info = None
    for index, part in enumerate(parts):
        if section is None:
            return None
        info = section.model_fields.get(part)
        if info is None:
            if index > 0 and typing.get_origin(_annotation(root, parts[:index])) is list:
                continue  # an entry name or index of an array of tables
            return None
        section = section_of(info.annotation)
    return describe_field(key, info) if info is not None else None


def _annotation(root: type[BaseModel], parts: list[str]) -> Any:
    section: type[BaseModel] | None = root
    annotation = None
    for part in parts:
        if section is None or part not in section.model_fields:
            continue
        annotation = section.model_fields[part].annotation
        section = section_of(annotation)
    return annotation


def parameters(scenario: BaseModel | None = None) -> Iterator[Parameter]:
    """Every leaf parameter of `scenario` (default: the built-in defaults), with its value."""
    yield from _walk(scenario if scenario is not None else Scenario(), "")


def _walk(section: BaseModel, prefix: str) -> Iterator[Parameter]:
    for name, info in type(section).model_fields.items():
        value = getattr(section, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            yield from _walk(value, f"{key}.")
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            for index, item in enumerate(value):
                yield from _walk(item, f"{key}[{getattr(item, 'name', index)}].")
        else:
            yield describe_field(key, info, value)


def fmt_number(x: float | None) -> str:
    """A bound or value for people: thousands separators, no trailing zeros."""
    if x is None:
        return "any"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1000 else f"{x:g}"
