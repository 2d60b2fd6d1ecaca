"""Sweeps on a local Dask cluster give exactly the results of the local run (same seed)."""

from __future__ import annotations

import numpy as np
import pytest

import parley
from parley.analysis import levers as lv
from parley.analysis.compare import compare
from parley.analysis.parallel import executor
from parley.analysis.sensitivity import sensitivity
from parley.core.errors import ParleyInputError

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def address():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_lever_comparison_on_dask_is_identical(address):
    s = parley.load("ukraine-2025-05")
    vs = lv.variants(s, ["no_minerals_deal", "security_guarantee", "normalisation_carrot"])
    kw = {"draws": 4096, "seed": 99, "chunk": 1024}
    local = compare(s, vs, ["compromise", "median"], workers=1, **kw)
    remote = compare(s, vs, ["compromise", "median"], scheduler=address, **kw)
    for f in ("n", "settle", "flips", "agree", "accept", "both", "sum_o", "sumsq_o", "sum_d", "sumsq_d"):
        assert np.array_equal(getattr(local.tally, f), getattr(remote.tally, f)), f
    assert local.settlement().equals(remote.settlement())


def test_sensitivity_on_dask_is_identical(address, monkeypatch):
    import parley.analysis.sensitivity as sens_mod

    monkeypatch.setattr(sens_mod, "ROWS_PER_TASK", 1000)  # several tasks even for a small sample
    s = parley.load("ukraine-2025-05")
    local = sensitivity(s, "median", n=32, seed=4, outputs=["gap"], workers=1)
    remote = sensitivity(s, "median", n=32, seed=4, outputs=["gap"], scheduler=address)
    assert local.table.equals(remote.table)


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    import parley.analysis.parallel

    monkeypatch.setattr(parley.analysis.parallel, "CONNECT_TIMEOUT", 1.0)
    with pytest.raises(ParleyInputError) as info, executor("tcp://127.0.0.1:9", None):
        pass
    assert "cannot reach the Dask scheduler" in info.value.render()
