"""`load()`: a scenario from a bundled name or a file path, in any supported format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario
from parley.io import bundled
from parley.io.scenario_file import load_yaml_file

Loader = Callable[[Path], Scenario]


def _loaders() -> dict[str, Loader]:
    """Formats parley can read; importers register here when they exist."""
    found: dict[str, Loader] = {"yaml": load_yaml_file}
    try:
        from parley.io.ktab import load_ktab

        found["ktab"] = load_ktab
    except ImportError:
        pass
    try:
        from parley.io.decide import load_decide

        found["decide"] = load_decide
    except ImportError:
        pass
    return found


def formats() -> list[str]:
    return list(_loaders())


def is_decide_text(head: str) -> bool:
    """Whether a file starts like a Decide input file (its first row is #A, #P, #M or #D)."""
    for line in head.splitlines():
        if line.strip():
            return line.strip().lstrip("'\"").upper()[:2] in ("#A", "#P", "#M", "#D")
    return False


def detect_format(source: str | Path) -> str:
    """The format of a file for `format="auto"`: Decide when it starts with a Decide row, KTAB
    for other .csv and .xml files, parley YAML otherwise (and for bundled names)."""
    path = Path(source)
    if not path.is_file():
        return "yaml"
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        head = ""
    if is_decide_text(head):
        return "decide"
    return "ktab" if path.suffix.lower() in (".csv", ".xml") else "yaml"


def load(source: str | Path | Scenario, format: str = "auto") -> Scenario:
    """A validated Scenario from a bundled name (see `parley scenarios`) or a file path, in
    `format` (yaml, ktab, decide; `auto` tells them apart, see `detect_format`)."""
    if isinstance(source, Scenario):
        return source
    loaders = _loaders()
    if format == "auto":
        format = detect_format(source)
    if format not in loaders:
        raise ParleyInputError(
            [Problem("--format", f"unknown format '{format}'",
                     f"use one of: auto, {', '.join(loaders)}")]
        )
    text = str(source)
    if format == "yaml" and not Path(text).exists():
        bundled_path = bundled.path(text)
        if bundled_path is not None:
            return load_yaml_file(bundled_path)
        if "/" not in text and not text.endswith((".yaml", ".yml")):
            raise ParleyInputError(
                [
                    Problem(
                        "",
                        f"'{text}' is neither a file nor a bundled scenario",
                        f"bundled scenarios: {', '.join(bundled.names())}; or give a path to a YAML file",
                    )
                ],
                text,
            )
    return loaders[format](Path(text))
