"""The one kind of error a user can fix: bad input, reported with exit code 2 and nothing written.

:func:`validation_message` turns a pydantic validation error into such a message, one line per problem:
the file, a readable key (list entries by name) and what is allowed; scenarios and sweep files use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

Location = tuple[Any, ...]


class BadInput(ValueError):
    """Input that cannot be used as given: the message names the file or option, the key and what is allowed."""


def entry_by_name(node: Any, index: int) -> str:
    """A list entry shown by its ``name`` (``platforms['X']``), else by its index."""
    name = node.get("name") if isinstance(node, Mapping) else None
    return f"[{name!r}]" if name else f"[{index}]"


def display_key(path: Sequence[Any], data: Mapping[str, Any], entry: Callable[[Any, int], str] = entry_by_name,
                root: str = "(scenario)") -> str:
    """A readable dotted key for a validation error's location: list entries shown by `entry`
    (default: their ``name``, e.g. ``platforms['X'].automated_share``)."""
    parts: list[str] = []
    node: Any = data
    for key in path:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            parts[-1] += entry(node, key)
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, Mapping) else None
    return ".".join(parts) or root


def validation_message(exc: ValidationError, data: Mapping[str, Any], source: Callable[[Location], str],
                       allowed: Callable[[Location, str], str], entry: Callable[[Any, int], str] = entry_by_name,
                       root: str = "(scenario)") -> str:
    """One line per problem: ``source: key: message (allowed)``.

    Args:
        exc: the pydantic error.
        data: the table that was validated (to show list entries by name).
        source: the file a location came from.
        allowed: what is allowed at a location, given the error type ('' if nothing useful).
        entry, root: how list entries and the table itself are shown (:func:`display_key`).
    """
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"].removeprefix("Value error, ")
        hint = allowed(loc, error["type"])
        lines.append(f"{_sources(loc, message, source)}: {display_key(loc, data, entry, root)}: {message}"
                     + (f" ({hint})" if hint else ""))
    return "\n".join(lines)


#: A dotted key named in a message (``run.warmup_days``).
DOTTED_KEY = re.compile(r"\b[a-z_]+(?:\.[a-z_0-9]+)+\b")


def _sources(loc: Location, message: str, source: Callable[[Location], str]) -> str:
    """Where a problem came from: the location's file, or, for a rule that ties several keys together
    (``run.warmup_days must be less than run.days``), the files or ``--set`` options of the keys it names."""
    keys = [tuple(k.split(".")) for k in DOTTED_KEY.findall(message)]
    keys = [k for k in keys if k[: len(loc)] == tuple(str(p) for p in loc)]
    if not keys:
        return source(loc)
    return ", ".join(dict.fromkeys(source(k) for k in keys))
