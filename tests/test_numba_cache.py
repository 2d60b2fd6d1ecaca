"""The notice before a run that first compiles a model's engine (numba's on-disk cache)."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

from parley.models import _numba_cache, registry


def _fake(tmp_path: Path, index_exists: bool, index_newer: bool) -> types.SimpleNamespace:
    source = tmp_path / "engine.py"
    source.write_text("x = 1\n")
    index = tmp_path / "engine.f-1.py311.nbi"
    if index_exists:
        index.write_bytes(b"")
        stamp = os.path.getmtime(source) + (10 if index_newer else -10)
        os.utime(index, (stamp, stamp))
    code = types.SimpleNamespace(co_filename=str(source))
    cache = types.SimpleNamespace(_cache_file=types.SimpleNamespace(_index_path=str(index)))
    return types.SimpleNamespace(_cache=cache, py_func=types.SimpleNamespace(__code__=code))


def test_warm_only_with_an_index_at_least_as_new_as_the_source(tmp_path: Path) -> None:
    assert not _numba_cache.warm(_fake(tmp_path, index_exists=False, index_newer=False))
    assert not _numba_cache.warm(_fake(tmp_path, index_exists=True, index_newer=False))
    assert _numba_cache.warm(_fake(tmp_path, index_exists=True, index_newer=True))
    assert _numba_cache.warm(object())  # numba's internals moved: no claim


def test_only_a_compiled_monte_carlo_run_with_a_cold_cache_compiles_first(monkeypatch) -> None:
    pytest.importorskip("numba")
    monkeypatch.setattr(_numba_cache, "warm", lambda dispatcher: False)
    for model in ("pce", "exchange"):
        p = registry.make_params(model)
        assert registry.compiles_first(model, p, 10_000, 7, 6)
        assert not registry.compiles_first(model, registry.make_params(model, {"engine": "numpy"}),
                                           10_000, 7, 6)
    # pce's "auto" runs a small batch on numpy (exchange's does too unless numba is loaded)
    assert not registry.compiles_first("pce", registry.make_params("pce"), 1, 7, 6)
    assert not registry.compiles_first("nash", registry.make_params("nash"), 10_000, 7, 6)
    monkeypatch.setattr(_numba_cache, "warm", lambda dispatcher: True)
    assert not registry.compiles_first("pce", registry.make_params("pce"), 10_000, 7, 6)
