"""Leaderboard and ensemble on the bundled DEU split, compared with the dataset's own figures."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass

import numpy as np
import pytest

from parley.backtest.capability import CapabilitySpec
from parley.backtest.data import load_deu
from parley.backtest.fit_ensemble import fit_shipped
from parley.backtest.leaderboard import leaderboard
from parley.backtest.runner import issue_batches, run_model
from parley.core.batch import Batch
from parley.models import compromise, ensemble, median, registry
from parley.models.registry import ModelInfo


@pytest.fixture(scope="module")
def deu():
    return load_deu()


@pytest.mark.parametrize("model,params,expected", [
    # the DEU README's figures for this development split: mean 23.7, salience-weighted mean
    # 23.8, median 29.4 (equal capabilities)
    ("compromise", compromise.Params("equal"), 23.7),
    ("compromise", compromise.Params("salience"), 23.8),
    ("median", median.Params("equal"), 29.4),
])
def test_dev_split_errors_match_published_figures(deu, model, params, expected):
    run = run_model(model, issue_batches(deu, CapabilitySpec("equal")), deu, params=params)
    assert round(float(np.mean(np.abs(run.forecast - deu.outcomes))), 1) == expected


def test_stacked_runs_equal_issue_by_issue_runs_for_every_registered_model(deu):
    sub = deu.subset(np.arange(0, 229, 5))
    batches = issue_batches(sub, CapabilitySpec("votes"))
    for name in registry.names():
        stacked = run_model(name, batches, sub, stack=True)
        single = run_model(name, batches, sub, stack=False)
        assert stacked.error == single.error, name
        # solvers that stop on a batch-wide tolerance may differ in the last digits only
        np.testing.assert_allclose(stacked.forecast, single.forecast, atol=1e-3, err_msg=name)


def test_leaderboard_has_every_model_and_honest_intervals(deu):
    board = leaderboard(deu, CapabilitySpec("votes"), ["compromise", "median", "ensemble"],
                        reps=200)
    rows = {r.model: r for r in board.rows}
    assert set(rows) == {"compromise", "median", "ensemble"}
    assert rows["ensemble"].evaluation.startswith("grouped CV")
    assert rows["compromise"].vs_baseline is None
    assert rows["median"].vs_baseline.value > 0  # the median loses to the mean on DEU
    for r in rows.values():
        m = r.metrics["mae"]
        assert m.low < m.value < m.high
        assert 0.72 <= r.coverage[0.8] <= 0.88 and 0.42 <= r.coverage[0.5] <= 0.58
    assert len(board.predictions) == 3 * len(deu.issues)
    regimes = rows["compromise"].by_regime
    assert regimes["proc=COD"]["n"] + regimes["proc=CNS"]["n"] == len(deu.issues)
    assert regimes["rule=Unan"]["n"] == sum(i.rule == "Unan" for i in deu.issues)
    json.dumps(board.as_dict())  # plain data


@dataclass(frozen=True)
class _BrokenParams:
    pass


def test_a_failing_model_is_reported_not_fatal(deu, monkeypatch):
    mod = types.ModuleType("parley_test_broken")
    mod.Params = _BrokenParams

    def solve(batch, params=None):
        raise RuntimeError("needs two issues")

    mod.solve = solve
    monkeypatch.setitem(sys.modules, "parley_test_broken", mod)
    monkeypatch.setitem(registry.MODELS, "broken", ModelInfo("broken", "parley_test_broken", "x"))
    board = leaderboard(deu.subset(np.arange(30)), None, ["compromise", "broken"], reps=50)
    broken = next(r for r in board.rows if r.model == "broken")
    assert broken.evaluation == "skipped" and "needs two issues" in broken.error


def test_ensemble_fit_recovers_convex_weights():
    rng = np.random.default_rng(0)
    F = rng.uniform(0, 100, size=(300, 4))
    w = np.array([0.5, 0.0, 0.3, 0.2])
    np.testing.assert_allclose(ensemble.fit(F, F @ w), w, atol=1e-6)


def test_ensemble_components_fall_back_to_the_mean():
    b = Batch.from_arrays(np.array([[0.0], [100.0], [40.0]]), np.ones((3, 1)), np.ones(3),
                          actors=("x", "y", "z"))
    comps = ensemble.components(b)[0, 0]
    mean = comps[0]
    assert np.isclose(mean, 140 / 3)
    assert comps[2] == mean and comps[3] == mean and comps[4] == mean and comps[5] == 50.0
    b2 = Batch.from_arrays(np.array([[0.0], [100.0], [40.0]]), np.ones((3, 1)), np.ones(3),
                           actors=("com", "ep", "z"), status_quo=np.array([10.0]))
    comps2 = ensemble.components(b2)[0, 0]
    assert (comps2[2], comps2[3], comps2[4]) == (0.0, 100.0, 10.0)


def test_shipped_ensemble_file_is_the_fit_on_the_dev_split(deu):
    shipped = ensemble.shipped()
    refit = fit_shipped(deu)
    for name in ensemble.COMPONENTS:
        assert abs(shipped["weights"][name] - refit["weights"][name]) < 1e-4
    # applied without refitting: solve uses the shipped weights
    out = ensemble.solve(issue_batches(deu.subset(np.arange(3)), CapabilitySpec("votes"))[0])
    assert out.info["version"] == 1 and "80%" in out.info["interval_halfwidth"]


def test_interval_halfwidths_for_other_callers_match_the_ensemble_file():
    from parley.backtest.calibration import interval_halfwidths

    q = interval_halfwidths("ensemble")
    shipped = ensemble.shipped()["interval_halfwidth"]
    assert np.isclose(q[0.5], shipped["50%"]) and np.isclose(q[0.8], shipped["80%"])
    assert 0 < interval_halfwidths("compromise")[0.5] < interval_halfwidths("compromise")[0.8]


def test_proposal_batches_keep_every_issue_and_separable_models_agree(deu):
    from parley.backtest.runner import proposal_batches, run_model_by_proposal

    spec = CapabilitySpec("votes")
    sub = deu.subset(np.arange(40))
    parts = proposal_batches(sub, spec)
    assert sorted(np.concatenate([idx for idx, _ in parts])) == list(range(40))
    for idx, batch in parts:
        for j, i in enumerate(idx):  # engaged exactly where the issue coded the actor
            coded = {a for a, e in zip(batch.actors, batch.engaged[:, j], strict=True) if e}
            assert coded == set(sub.issues[i].actors)
    batches = issue_batches(sub, spec)
    for name in ("compromise", "median"):  # issue by issue models: the same either way
        np.testing.assert_allclose(run_model_by_proposal(name, sub, spec).forecast,
                                   run_model(name, batches, sub).forecast)
