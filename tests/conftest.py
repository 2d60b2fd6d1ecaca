"""Shared fixtures: a small valid scenario people can mutate to test validation."""

from __future__ import annotations

import copy
import os
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


@pytest.fixture(autouse=True, scope="session")
def _private_runs_registry(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every forecast records a run; tests write to a throwaway registry, never the user's."""
    os.environ["PARLEY_DB"] = str(tmp_path_factory.mktemp("runs") / "runs.sqlite")


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


@pytest.fixture
def client(tmp_path: Path):
    """The web app on a fresh data folder and runs registry, through FastAPI's test client (the
    web tests that need other settings define their own `client`)."""
    testclient = pytest.importorskip("fastapi.testclient")
    from parley.web.app import create_app

    with testclient.TestClient(create_app(data_dir=tmp_path / "data", db=tmp_path / "runs.sqlite")) as c:
        yield c
