"""The one kind of error a user can fix: bad input, reported with exit code 2 and nothing written."""

from __future__ import annotations


class BadInput(ValueError):
    """Input that cannot be used as given: the message names the file or option, the key and what is allowed."""
