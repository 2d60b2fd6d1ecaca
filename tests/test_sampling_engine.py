"""Seeded sampling and chunked Monte Carlo: reproducible whatever the split."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy import stats

import parley
from parley.analysis.simulate import simulate
from parley.core import batch as batching
from parley.core.estimate import Estimate


@pytest.fixture(scope="module")
def scenario() -> parley.Scenario:
    return parley.load("ukraine-2025-05")


def test_more_draws_never_change_the_first_draws(scenario) -> None:
    small = batching.sample(scenario, 100, seed=7)
    large = batching.sample(scenario, 5000, seed=7)
    np.testing.assert_array_equal(small.position, large.position[:100])
    np.testing.assert_array_equal(small.capability, large.capability[:100])


def test_any_window_of_draws_matches_the_full_stream(scenario) -> None:
    full = batching.sample(scenario, 3000, seed=3)
    part = batching.sample(scenario, 1500, seed=3, start=1000)
    np.testing.assert_array_equal(part.salience, full.salience[1000:2500])


def test_seeds_differ(scenario) -> None:
    a = batching.sample(scenario, 50, seed=1)
    b = batching.sample(scenario, 50, seed=2)
    assert not np.array_equal(a.position, b.position)


def test_triangular_draws_follow_the_distribution() -> None:
    est = Estimate.model_validate({"low": 10, "mode": 20, "high": 60})
    u = np.random.default_rng(0).random(200_000)
    x = batching.inverse_cdf(est, u, 0, 100)
    ref = stats.triang(c=(20 - 10) / 50, loc=10, scale=50)
    assert stats.kstest(x, ref.cdf).pvalue > 0.001
    assert x.min() >= 10 and x.max() <= 60


def test_normal_draws_are_truncated_to_the_valid_range() -> None:
    est = Estimate.model_validate({"mean": 95, "sd": 10})
    u = np.random.default_rng(0).random(200_000)
    x = batching.inverse_cdf(est, u, 0, 100)
    assert x.max() <= 100 and x.min() >= 0
    ref = stats.truncnorm((0 - 95) / 10, (100 - 95) / 10, loc=95, scale=10)
    assert stats.kstest(x, ref.cdf).pvalue > 0.001


def test_point_batch_uses_modes(scenario) -> None:
    b = batching.point(scenario)
    st = scenario.stance("UA", "territory")
    k = scenario.issue_ids.index("territory")
    i = scenario.actor_ids.index("UA")
    assert b.position[0, i, k] == st.position.mode
    assert b.salience[0, i, k] == pytest.approx(st.salience.mode / 100)


def test_units_are_mapped_to_the_scale() -> None:
    from conftest import minimal

    data = minimal()
    data["issues"][1]["scale"] = {"unit": "thousand troops", "at_0": 1000, "at_100": 0}
    data["stances"][3]["position"] = 800  # -> 20 on 0–100
    data["stances"][4]["position"] = 250  # -> 75
    data["stances"][4]["reservation"] = 600  # -> 40
    from parley.io.scenario_file import scenario_from_data

    s = scenario_from_data(data)
    b = batching.point(s)
    np.testing.assert_allclose(b.position[0, :2, 1], [20.0, 75.0])
    assert b.reservation[0, 1, 1] == pytest.approx(40.0)
    assert s.issue("y").display(20.0) == "20.0 (800 thousand troops)"


@pytest.mark.parametrize("model", ["compromise", "median", "nash"])
def test_results_identical_whatever_the_chunking_and_workers(scenario, model) -> None:
    from parley.models import registry

    params = registry.make_params(model)
    draws = 3 * batching.BLOCK + 17
    one = simulate(scenario, model, params, draws, seed=11, chunk=draws * 2)
    small = simulate(scenario, model, params, draws, seed=11, chunk=batching.BLOCK)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = simulate(scenario, model, params, draws, seed=11, chunk=batching.BLOCK, executor=pool)
    for other in (small, pooled):
        np.testing.assert_array_equal(one.outcome, other.outcome)
        np.testing.assert_array_equal(one.settle, other.settle)
        np.testing.assert_array_equal(one.accept, other.accept)


def test_per_draw_model_info_is_concatenated_across_chunks(scenario) -> None:
    from parley.models import registry

    params = registry.make_params("bdm")
    draws = 2 * batching.BLOCK + 5
    one = simulate(scenario, "bdm", params, draws, seed=2, chunk=4 * batching.BLOCK)
    many = simulate(scenario, "bdm", params, draws, seed=2, chunk=batching.BLOCK)
    assert one.info["rounds"].shape == (draws,)
    np.testing.assert_array_equal(one.info["rounds"], many.info["rounds"])
    np.testing.assert_array_equal(one.outcome, many.outcome)


def test_a_models_own_randomness_is_chunk_invariant_and_differs_between_draws() -> None:
    """The exchange model's REX variant draws its noise from the run's seeded stream."""
    from conftest import minimal
    from parley.io.scenario_file import scenario_from_data
    from parley.models import registry

    s = scenario_from_data(minimal())  # no uncertain input: every draw has the same inputs
    params = registry.make_params("exchange", {"rex": 0.5, "ties": "random"})
    draws = batching.BLOCK + 300
    one = simulate(s, "exchange", params, draws, seed=5, chunk=4 * batching.BLOCK)
    many = simulate(s, "exchange", params, draws, seed=5, chunk=batching.BLOCK)
    np.testing.assert_array_equal(one.outcome, many.outcome)
    b = batching.sample(s, 4, seed=5)
    u = b.noise((7,), (3,))
    assert u.shape == (4, 3) and len({tuple(row) for row in u}) == 4
    later = batching.sample(s, 2, seed=5, start=2).noise((7,), (3,))
    np.testing.assert_array_equal(u[2:], later)
