"""Loading scenarios: TOML files with ``extends`` inheritance and dotted ``--set`` overrides.

A scenario file may name a parent with ``extends = "other.toml"`` (relative to the file, or the
name of a shipped scenario). Tables merge key by key; arrays (``platforms``, ``agencies``,
``demand.surges``) are replaced whole. Overrides use dotted paths; an array of tables is indexed
by position or by ``name``: ``platforms.X.reports_per_day=2500``.

Every error is a :class:`ScenarioError` whose message names the file, the key and what is allowed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
from pydantic import BaseModel, ValidationError

from model.errors import BadInput, validation_message
from model.params import REMOVED_KEYS, Scenario
from model.schema import describe_field, section_at, section_of

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"

Origins = dict[tuple[str, ...], str]


class ScenarioError(BadInput):
    """A scenario, override or sweep file that cannot be used as given (exit code 2)."""


def resolve_path(name: str | Path, relative_to: Path | None = None) -> Path:
    """Find a scenario file: a path, a path relative to `relative_to`, or a shipped scenario name."""
    raw = Path(name)
    candidates = [raw] if raw.is_absolute() else [
        *([relative_to / raw] if relative_to else []), raw, SCENARIO_DIR / raw]
    if raw.suffix != ".toml":
        candidates += [c.with_name(c.name + ".toml") for c in candidates]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    shipped = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
    raise ScenarioError(f"{name}: no such scenario file (shipped scenarios: {shipped})")


#: The longest ``extends`` chain a scenario may have (files, the scenario itself included).
MAX_EXTENDS = 32


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file, turning I/O and syntax problems into ScenarioError."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ScenarioError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} on line {line}); TOML "
                            "files must be UTF-8") from None


def _merge(base: dict[str, Any], top: Mapping[str, Any], origins: Origins, label: str,
           prefix: tuple[str, ...] = ()) -> None:
    for key, value in top.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value, origins, label, path)
            continue
        base[key] = _copy(value)
        for old in [p for p in origins if p[: len(path)] == path]:
            del origins[old]
        _record(value, path, origins, label)


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _record(value: Any, path: tuple[str, ...], origins: Origins, label: str) -> None:
    origins[path] = label
    if isinstance(value, Mapping):
        for key, item in value.items():
            _record(item, (*path, key), origins, label)


def load_chain(path: Path, _seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Origins]:
    """Read `path` and its ``extends`` ancestors (at most :data:`MAX_EXTENDS` deep); return the merged
    table and each key's file."""
    path = path.resolve()
    if path in _seen:
        cycle = " -> ".join(str(p) for p in (*_seen, path))
        raise ScenarioError(f"{path}: extends: cyclic inheritance ({cycle})")
    if len(_seen) >= MAX_EXTENDS:
        raise ScenarioError(f"{_seen[0]}: extends: a chain of more than {MAX_EXTENDS} files (at {path}); "
                            "flatten it")
    data = read_toml(path)
    parent = data.pop("extends", None)
    merged: dict[str, Any] = {}
    origins: Origins = {}
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError(f"{path}: extends: must be a file name (string), got {parent!r}")
        try:
            parent_path = resolve_path(parent, relative_to=path.parent)
        except ScenarioError as exc:
            raise ScenarioError(f"{path}: extends: {exc}") from None
        merged, origins = load_chain(parent_path, (*_seen, path))
    _merge(merged, data, origins, str(path))
    if "name" not in data:
        merged["name"] = path.stem
        origins[("name",)] = str(path)
    return merged, origins


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into a key path and a TOML-typed value (bare words are strings)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"--set {text!r}: expected KEY=VALUE, e.g. retention.window_days=365")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip().split("."), value


def _allowed_keys(section: type[BaseModel]) -> str:
    return ", ".join(section.model_fields)


class Override(str):
    """A ``key=value`` override given by an option other than ``--set`` (``--days 5`` is ``run.days=5``):
    validation errors name the option the user typed."""

    origin: str

    def __new__(cls, text: str, origin: str) -> Override:
        override = super().__new__(cls, text)
        override.origin = origin
        return override

    def __reduce__(self) -> tuple[type[Override], tuple[str, str]]:   # pickled to worker processes, copied
        return Override, (str(self), self.origin)


def apply_override(data: dict[str, Any], origins: Origins, text: str) -> None:
    """Set one dotted override in the merged table, checking the path against the schema."""
    path, value = parse_override(text)
    node: Any = data
    section: type[BaseModel] = Scenario
    resolved: list[str] = []
    for depth, key in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(node, list):
            index = _list_index(node, key)
            if index is None:
                where = ".".join(resolved)
                if not node:
                    raise ScenarioError(f"--set {text}: '{where}' is empty in this scenario, so it has no entry "
                                        f"'{key}' (set the whole array, e.g. {where}=[{{...}}], or use a scenario "
                                        "file with [[...]] entries)")
                names = ", ".join(str(item.get("name", i)) for i, item in enumerate(node))
                indices = "index 0" if len(node) == 1 else f"index 0 to {len(node) - 1}"
                raise ScenarioError(f"--set {text}: '{where}' has no entry '{key}' (use an {indices} or a name: "
                                    f"{names})")
            resolved.append(str(index))
            if last:
                raise ScenarioError(f"--set {text}: name a key inside the entry, e.g. {'.'.join(resolved)}.name")
            node = node[index]
            continue
        if key not in section.model_fields:
            where = ".".join(resolved) or "the top level"
            removed = REMOVED_KEYS.get(".".join([*resolved, key]))
            raise ScenarioError(f"--set {text}: unknown key '{key}' in {where} " + (
                f"(removed: {removed})" if removed else f"(allowed: {_allowed_keys(section)})"))
        resolved.append(key)
        field = section.model_fields[key]
        child = section_of(field.annotation)
        if last:
            node[key] = value
            _record(value, tuple(resolved), origins, getattr(text, "origin", f"--set {text}"))
            return
        if child is None:
            raise ScenarioError(f"--set {text}: '{'.'.join(resolved)}' is a value, not a table")
        if key not in node:
            default = field.get_default(call_default_factory=True)
            node[key] = ([item.model_dump() for item in default] if isinstance(default, list)
                         else default.model_dump())
        node = node[key]
        section = child


def _list_index(items: list[Any], key: str) -> int | None:
    if key.lstrip("-").isdigit():
        index = int(key)
        return index if 0 <= index < len(items) else None
    for index, item in enumerate(items):
        if isinstance(item, Mapping) and item.get("name") == key:
            return index
    return None


def _origin(origins: Origins, path: tuple[str, ...], default: str) -> str:
    for length in range(len(path), 0, -1):
        if path[:length] in origins:
            return origins[path[:length]]
    return default


def _field_info(path: tuple[Any, ...]) -> Any:
    parent = section_at(path[:-1])
    return parent.model_fields.get(path[-1]) if parent is not None and path and isinstance(path[-1], str) else None


def _allowed(path: tuple[Any, ...], error_type: str) -> str:
    if error_type == "extra_forbidden":
        removed = REMOVED_KEYS.get(".".join(str(k) for k in path if isinstance(k, str)))
        if removed:
            return f"removed: {removed}"
        section = section_at(path[:-1])
        return f"allowed keys: {_allowed_keys(section)}" if section else ""
    info = _field_info(path)
    if info is None:
        return ""
    meta = describe_field(".".join(str(k) for k in path), info)
    if meta.allowed:
        return f"allowed: {meta.allowed}" + (f" ({meta.unit})" if meta.unit else "")
    return f"unit: {meta.unit}" if meta.unit else ""


def validate(data: dict[str, Any], origins: Origins, label: str = "scenario") -> Scenario:
    """Check a merged table against the schema; every problem is listed in one ScenarioError."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        def source(loc: tuple[Any, ...]) -> str:
            return _origin(origins, tuple(str(k) for k in loc), label)
        raise ScenarioError(validation_message(exc, data, source, _allowed)) from None


def load_scenario(source: str | Path | None = None, overrides: Iterable[str] = ()) -> Scenario:
    """Load a scenario file (path or shipped name; None = built-in defaults) with overrides.

    >>> s = load_scenario("x_platform", ["retention.window_days=365"])
    >>> s.retention.window_days
    365
    """
    if source is None:
        data: dict[str, Any] = Scenario().model_dump()
        origins: Origins = {}
        label = "defaults"
    else:
        path = resolve_path(source)
        data, origins = load_chain(path)
        label = str(path)
    for text in overrides:
        apply_override(data, origins, text)
    return validate(data, origins, label)


def scenario_with(scenario: Scenario, overrides: Iterable[str]) -> Scenario:
    """A copy of `scenario` with dotted overrides (``key=value`` texts, as ``--set``)."""
    data = scenario.model_dump(mode="json")
    origins: Origins = {}
    for text in overrides:
        apply_override(data, origins, text)
    return validate(data, origins, scenario.name)


def toml_value(value: Any) -> str:
    """A value as a TOML literal for a ``key=value`` override."""
    if isinstance(value, np.generic):
        value = value.item()
    return tomli_w.dumps({"v": value}).strip().removeprefix("v = ")


def to_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML (loads back to an equal scenario)."""
    return tomli_w.dumps(scenario.model_dump(mode="json"))
