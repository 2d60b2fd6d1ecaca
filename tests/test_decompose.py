"""Variance decomposition: shares sum to one, model choice is its own row, and an additive toy
case gives the analytic shares."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import parley
from parley.analysis.decompose import _shares, decompose
from parley.cli import app


def test_additive_toy_case_gives_the_analytic_shares() -> None:
    """Y = c_m + 2·u1 + u2 with u ~ U(0,1): Var(c_m) over two models at 0 and 1 is 0.25,
    Var(2·u1) = 4/12, Var(u2) = 1/12, no interaction: total 0.25 + 5/12 = 2/3."""
    rng = np.random.default_rng(0)
    n = 200_000
    a, b = rng.random((n, 2)), rng.random((n, 2))
    sets = [a, b, np.column_stack([b[:, 0], a[:, 1]]), np.column_stack([a[:, 0], b[:, 1]])]
    f = np.stack([np.stack([c + 2 * x[:, 0] + x[:, 1] for x in sets]) for c in (0.0, 1.0)])
    shares, total = _shares(f, np.zeros((2, n)))
    assert total == pytest.approx(2 / 3, rel=0.01)
    g1, g2, inputs_rest, model, inter, noise = shares
    assert model == pytest.approx(0.25 / (2 / 3), abs=0.01)
    assert g1 == pytest.approx((4 / 12) / (2 / 3), abs=0.01)
    assert g2 == pytest.approx((1 / 12) / (2 / 3), abs=0.01)
    assert inter == pytest.approx(0.0, abs=0.01) and noise == 0.0 and inputs_rest < 0.01
    assert shares.sum() == pytest.approx(1.0)


def test_interaction_between_model_and_input_is_its_own_row() -> None:
    """Model 0: Y = u - 1/2; model 1: Y = 1/2 - u. Model means equal (0) and the models' average is
    0 for every input: all the variance is the interaction."""
    rng = np.random.default_rng(1)
    n = 50_000
    a, b = rng.random((n, 1)), rng.random((n, 1))
    sets = [a[:, 0] - 0.5, b[:, 0] - 0.5, b[:, 0] - 0.5]
    f = np.stack([np.stack(sets), -np.stack(sets)])
    shares, _ = _shares(f, np.zeros((2, n)))
    assert shares[-2] == pytest.approx(1.0, abs=0.01)


def test_bundled_scenario_shares_sum_to_one_and_model_choice_is_a_row() -> None:
    s = parley.load("ukraine-2025-05")
    res = decompose(s, ["compromise", "median", "nash"], n=128, seed=3, resamples=20)
    assert res.outputs()
    for out in res.outputs():
        rows = res.table(out)
        assert sum(r["share"] for r in rows) == pytest.approx(1.0, abs=0.01)
        assert [r for r in rows if r["component"] == "model choice"]
        assert all(r["share"] >= 0 for r in rows)
    # one output never varies in this scenario (no draw settles), and it is said, not hidden
    assert set(res.outputs()) | set(res.constant) == {"settlement", "gap", *s.issue_ids}


def test_same_seed_same_table_and_the_cli_prints_it() -> None:
    s = parley.load("ukraine-2025-05")
    one = decompose(s, ["compromise", "median"], n=64, seed=5, resamples=10)
    two = decompose(s, ["compromise", "median"], n=64, seed=5, resamples=10)
    assert one.rows == two.rows
    out = CliRunner().invoke(app, ["sensitivity", "--decompose", "-m", "compromise", "-m", "median",
                                   "-n", "64", "-r", "territory"])
    assert out.exit_code == 0, out.output
    assert "model choice" in out.output


def test_several_models_without_decompose_is_a_clear_error() -> None:
    out = CliRunner().invoke(app, ["sensitivity", "-m", "compromise", "-m", "median"])
    assert out.exit_code == 2 and "--decompose" in out.output
