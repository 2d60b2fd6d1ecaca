"""Load a scenario from a YAML file or from plain data, with errors that point into the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from parley.core.errors import ParleyInputError, Problem
from parley.core.estimate import Estimate
from parley.core.scenario import Actor, Change, Issue, Lever, Scale, Scenario, Stance
from parley.io.guard import parsing
from parley.io.yaml_io import parse_yaml, read_text, validation_problems

FIELDS: dict[str, list[str]] = {
    "scenario": list(Scenario.model_fields),
    "actor": list(Actor.model_fields),
    "issue": list(Issue.model_fields),
    "stance": list(Stance.model_fields),
    "scale": list(Scale.model_fields),
    "lever": list(Lever.model_fields),
    "change": list(Change.model_fields),
    "estimate": ["low", "mode", "high", "mean", "sd"],
}
del Estimate  # imported for FIELDS documentation only


def scenario_from_data(data: Any, source: str = "<data>", lines: dict[str, int] | None = None) -> Scenario:
    """Validate plain data (as parsed from YAML or JSON) into a Scenario."""
    if not isinstance(data, dict):
        raise ParleyInputError(
            [
                Problem(
                    "",
                    f"the top level must be a mapping (title:, actors:, ...), got {type(data).__name__}",
                    "see docs/scenario-format.md or `parley schema`",
                )
            ],
            source,
        )
    with parsing(source, "scenario"):
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            raise ParleyInputError(validation_problems(exc, FIELDS), source).with_source(
                source, lines) from None
        except ParleyInputError as exc:
            raise exc.with_source(source, lines) from None


def load_yaml_file(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    path = Path(path)
    text = read_text(path)
    data, lines = parse_yaml(text, str(path))
    return scenario_from_data(data, str(path), lines)
