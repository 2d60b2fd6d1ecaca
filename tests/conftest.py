"""Shared fixtures: a small valid scenario people can mutate to test validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

MINIMAL: dict[str, Any] = {
    "id": "tiny",
    "title": "Tiny test negotiation",
    "as_of": "2025-01-01",
    "question": "Will A and B agree?",
    "sources": {"s1": "A test source."},
    "actors": [
        {"id": "A", "name": "Actor A", "capability": 2, "veto": True},
        {"id": "B", "name": "Actor B", "capability": 1, "veto": True},
        {"id": "C", "name": "Actor C", "capability": 1},
    ],
    "issues": [
        {"id": "x", "name": "Issue x", "low": "none", "high": "all", "status_quo": 50},
        {"id": "y", "name": "Issue y", "low": "none", "high": "all"},
    ],
    "stances": [
        {"actor": "A", "issue": "x", "position": 20, "salience": 80, "reservation": 60, "sources": ["s1"]},
        {"actor": "B", "issue": "x", "position": 80, "salience": 60, "reservation": 40},
        {"actor": "C", "issue": "x", "position": 50, "salience": 50},
        {"actor": "A", "issue": "y", "position": 10, "salience": 40},
        {"actor": "B", "issue": "y", "position": 90, "salience": 40, "reservation": 30},
    ],
}


def minimal() -> dict[str, Any]:
    return copy.deepcopy(MINIMAL)


def write_yaml(path: Path, data: Any) -> Path:
    yaml = YAML()
    with path.open("w") as fh:
        yaml.dump(data, fh)
    return path


@pytest.fixture
def tiny_data() -> dict[str, Any]:
    return minimal()


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    return write_yaml(tmp_path / "tiny.yaml", minimal())
