"""What an editor cell may hold, shared by the scenario editor (drafts) and the lever editor."""

from __future__ import annotations

import re

MAX_CELL = 4000
"""Characters kept of one cell's text."""
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


def _new_id(value: str, existing: list[str], what: str) -> str:
    value = (value or "").strip()
    if not ID_RE.match(value) or len(value) > 64:
        raise ValueError(
            f"'{value[:40]}' is not a valid {what} id: start with a letter, then letters, digits, "
            "'_', '-' or '.' (at most 64)"
        )
    if value in existing:
        raise ValueError(f"there is already an {what} with id '{value}'")
    return value
