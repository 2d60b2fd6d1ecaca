"""`load()`: a scenario from a bundled name or a file path, in any supported format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from parley import bundled
from parley.errors import ParleyInputError, Problem
from parley.io.scenario_file import load_yaml_file
from parley.scenario import Scenario

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


def load(source: str | Path | Scenario, format: str = "yaml") -> Scenario:
    """A validated Scenario from a bundled name (see `parley scenarios`) or a file path."""
    if isinstance(source, Scenario):
        return source
    loaders = _loaders()
    if format not in loaders:
        raise ParleyInputError(
            [Problem("--format", f"unknown format '{format}'", f"use one of: {', '.join(loaders)}")]
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
