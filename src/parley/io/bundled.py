"""The scenarios that ship with parley, addressable by a short name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT = "ukraine-2025-05"


def directory() -> Path:
    return Path(str(resources.files("parley") / "data" / "scenarios"))


def names() -> list[str]:
    """Short names of the bundled scenarios, sorted."""
    return sorted(p.stem for p in directory().glob("*.yaml"))


def header(name: str) -> dict[str, str] | None:
    """Title and date of a bundled scenario read from its top-level lines, without parsing the
    whole file (menus list scenarios at start-up; a full parse costs ~0.1 s per file). None when
    the lines are not plain `title:` / `as_of:` scalars: then load the scenario instead."""
    import re

    candidate = path(name)
    if candidate is None:
        return None
    text = candidate.read_text(encoding="utf-8")
    title = re.search(r"^title: *([^'\"{\[&*!|>#\n][^#\n]*?) *$", text, re.M)
    as_of = re.search(r"^as_of: *(\d{4}-\d{2}-\d{2}) *$", text, re.M)
    if not (title and as_of):
        return None
    return {"name": name, "title": title.group(1), "as_of": as_of.group(1)}


def path(name: str) -> Path | None:
    """File of a bundled scenario, or None when the name is not bundled."""
    candidate = directory() / f"{name}.yaml"
    return candidate if candidate.is_file() else None
