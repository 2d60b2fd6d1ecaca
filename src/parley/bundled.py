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


def path(name: str) -> Path | None:
    """File of a bundled scenario, or None when the name is not bundled."""
    candidate = directory() / f"{name}.yaml"
    return candidate if candidate.is_file() else None
