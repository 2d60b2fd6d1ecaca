"""JSON Schema of the scenario format as people write it (uncertain values in compact form)."""

from __future__ import annotations

from typing import Any

from parley.core.scenario import Scenario

_NUMBER_OR_RANGE: dict[str, Any] = {
    "description": "A number, or an uncertain estimate: {low, mode, high} (triangular) or "
    "{mean, sd} (normal, truncated to the valid range).",
    "oneOf": [
        {"type": "number"},
        {
            "type": "object",
            "properties": {"low": {"type": "number"}, "mode": {"type": "number"}, "high": {"type": "number"}},
            "required": ["low", "mode", "high"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"mean": {"type": "number"}, "sd": {"type": "number", "minimum": 0}},
            "required": ["mean", "sd"],
            "additionalProperties": False,
        },
    ],
}


def json_schema() -> dict[str, Any]:
    """pydantic's schema with the internal Estimate model replaced by the written forms."""
    schema = Scenario.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    defs["Estimate"] = _NUMBER_OR_RANGE
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "parley scenario"
    return schema
