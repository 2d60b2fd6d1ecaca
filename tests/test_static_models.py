"""Compromise and weighted median: hand-computed cases and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.core.batch import Batch
from parley.models import compromise, median


def one_issue(pos, sal, cap) -> Batch:
    pos = np.asarray(pos, float)[:, None]
    return Batch.from_arrays(pos, np.asarray(sal, float)[:, None], np.asarray(cap, float))


def test_compromise_hand_computed() -> None:
    # weights c*s: 2*.5=1, 1*1=1, 1*.5=.5 -> (0*1 + 60*1 + 100*.5) / 2.5 = 44
    b = one_issue([0, 60, 100], [0.5, 1.0, 0.5], [2, 1, 1])
    assert compromise.solve(b).outcome[0, 0] == pytest.approx(44.0)


def test_compromise_weight_variants() -> None:
    b = one_issue([0, 60, 100], [0.5, 1.0, 0.5], [2, 1, 1])
    assert compromise.solve(b, compromise.Params("equal")).outcome[0, 0] == pytest.approx(160 / 3)
    assert compromise.solve(b, compromise.Params("salience")).outcome[0, 0] == pytest.approx(110 / 2)
    assert compromise.solve(b, compromise.Params("capability")).outcome[0, 0] == pytest.approx(160 / 4)


def test_compromise_ignores_unengaged_actor() -> None:
    pos = np.array([[0.0, 10.0], [100.0, 90.0]])
    b = Batch.from_arrays(pos, np.ones((2, 2)), np.ones(2), engaged=np.array([[True, True], [True, False]]))
    out = compromise.solve(b).outcome[0]
    assert out[0] == pytest.approx(50.0)
    assert out[1] == pytest.approx(10.0)


def test_median_hand_computed() -> None:
    # sorted positions 10, 40, 70, 90 with weights 1, 1, 3, 1: cumulative 1, 2, 5, 6 -> half 3 -> 70
    b = one_issue([90, 10, 70, 40], [1, 1, 1, 1], [1, 1, 3, 1])
    assert median.solve(b).outcome[0, 0] == pytest.approx(70.0)


def test_median_tie_rules() -> None:
    # weights split exactly in half between 20 and 60
    b = one_issue([20, 60], [1, 1], [1, 1])
    assert median.solve(b).outcome[0, 0] == pytest.approx(40.0)
    assert median.solve(b, median.Params(tie="lower")).outcome[0, 0] == pytest.approx(20.0)
    assert median.solve(b, median.Params(tie="upper")).outcome[0, 0] == pytest.approx(60.0)


def test_median_tie_skips_unengaged_positions() -> None:
    pos = np.array([[20.0], [30.0], [60.0]])
    eng = np.array([[True], [False], [True]])
    b = Batch.from_arrays(pos, np.ones((3, 1)), np.ones(3), engaged=eng)
    assert median.solve(b).outcome[0, 0] == pytest.approx(40.0)


def test_zero_salience_everywhere_falls_back_to_plain_mean() -> None:
    b = one_issue([0, 100], [0.0, 0.0], [1, 1])
    res = compromise.solve(b)
    assert res.outcome[0, 0] == pytest.approx(50.0)
    assert res.info["zero_weight_fallbacks"] == 1


# --- properties ----------------------------------------------------------------------------
@st.composite
def batches(draw, max_actors: int = 7, max_issues: int = 3) -> Batch:
    n = draw(st.integers(1, max_actors))
    k = draw(st.integers(1, max_issues))
    d = draw(st.integers(1, 3))
    floats = st.floats(0, 100, allow_nan=False)
    pos = np.array(draw(st.lists(floats, min_size=d * n * k, max_size=d * n * k))).reshape(d, n, k)
    sal = np.array(draw(st.lists(st.floats(0.01, 1), min_size=d * n * k, max_size=d * n * k)))
    cap = np.array(draw(st.lists(st.floats(0.1, 100), min_size=d * n, max_size=d * n)))
    return Batch.from_arrays(pos, sal.reshape(d, n, k), cap.reshape(d, n))


MODELS = [compromise, median]


@pytest.mark.parametrize("model", MODELS)
@given(b=batches())
@settings(max_examples=60, deadline=None)
def test_outcome_inside_positions_hull(model, b: Batch) -> None:
    out = model.solve(b).outcome
    assert np.all(out >= b.position.min(axis=1) - 1e-9)
    assert np.all(out <= b.position.max(axis=1) + 1e-9)


@pytest.mark.parametrize("model", MODELS)
@given(b=batches(), seed=st.integers(0, 10_000))
@settings(max_examples=60, deadline=None)
def test_actor_order_does_not_matter(model, b: Batch, seed: int) -> None:
    order = np.random.default_rng(seed).permutation(b.n_actors)
    np.testing.assert_allclose(
        model.solve(b).outcome, model.solve(b.permute_actors(order)).outcome, atol=1e-9
    )


@pytest.mark.parametrize("model", MODELS)
@given(b=batches(), factor=st.floats(1e-3, 1e3))
@settings(max_examples=60, deadline=None)
def test_scaling_all_capabilities_changes_nothing(model, b: Batch, factor: float) -> None:
    from dataclasses import replace

    scaled = replace(b, capability=b.capability * factor)
    np.testing.assert_allclose(model.solve(b).outcome, model.solve(scaled).outcome, atol=1e-7)


@pytest.mark.parametrize("model", MODELS)
@given(b=batches(), who=st.integers(0, 6))
@settings(max_examples=40, deadline=None)
def test_actor_holding_all_weight_gets_its_position(model, b: Batch, who: int) -> None:
    from dataclasses import replace

    who = who % b.n_actors
    cap = np.full_like(b.capability, 1e-12)
    cap[:, who] = 1.0
    out = model.solve(replace(b, capability=cap)).outcome
    np.testing.assert_allclose(out, b.position[:, who, :], atol=1e-6)


def test_values_in_units_are_shown_as_finely_as_ten_scale_points() -> None:
    from parley.core.scenario import Scale

    years = Scale(unit="years", at_0=4, at_100=10)  # ten points = 0.6 years: one decimal
    assert years.decimals == 1 and years.show(56.5) == "7.4"
    troops = Scale(unit="thousand troops", at_0=1000, at_100=85)  # ten points = 91.5: none
    assert troops.decimals == 0 and troops.show(50) == "542"
    share = Scale(unit="share", at_0=0, at_100=0.1)  # ten points = 0.01: two decimals
    assert share.decimals == 2 and share.show(25) == "0.03"


def test_a_move_in_points_is_given_in_units() -> None:
    from parley.core.scenario import Scale

    # The army cap maps 1000 thousand troops to 0 and 85 to 100: 24 points are 219.6 thousand.
    assert Scale(unit="thousand troops", at_0=1000, at_100=85).move(24.0) == "220 thousand troops"
    assert Scale(unit="years", at_0=4, at_100=10).move(-5.0) == "0.3 years"
