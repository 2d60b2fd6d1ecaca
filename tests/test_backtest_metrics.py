"""Metrics, the proposal bootstrap, conformal intervals and grouped folds, against hand values."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.backtest.cv import grouped_folds
from parley.backtest.intervals import conformal_quantile, cv_coverage, fixed_coverage
from parley.backtest.metrics import (
    _weighted_median,
    bootstrap_metrics,
    group_counts,
    paired_difference,
    point_metrics,
)


def test_point_metrics_by_hand():
    m = point_metrics(np.array([3.0, -4.0, 10.0, -20.0]))
    assert m["mae"] == 37 / 4
    assert np.isclose(m["rmse"], np.sqrt((9 + 16 + 100 + 400) / 4))
    assert m["median_ae"] == 7.0  # between 4 and 10
    assert m["within10"] == 0.75  # |10| counts as within 10


def test_bootstrap_resamples_whole_proposals():
    # two proposals with constant errors 0 and 10: every replicate's MAE is a mix of whole groups
    err = np.array([0.0, 0.0, 0.0, 10.0])
    groups = np.array(["a", "a", "a", "b"])
    w, _ = group_counts(groups, 500, seed=1)
    assert np.all(w[:, 0] == w[:, 1]) and np.all(w[:, 1] == w[:, 2])  # issues of a move together
    est = bootstrap_metrics(err, groups, reps=500, seed=1)
    assert est["mae"].value == 2.5
    # possible replicate MAEs: all a (0), all b (10), one each (10/4 = 2.5)
    assert est["mae"].low == 0.0 and est["mae"].high == 10.0


def test_paired_difference_is_exact_when_one_model_is_uniformly_worse():
    a = np.array([5.0, 5.0, 5.0, 5.0])
    b = np.array([3.0, -3.0, 3.0, -3.0])
    d = paired_difference(a, b, np.array([1, 1, 2, 2]), reps=200)
    assert (d.value, d.low, d.high) == (2.0, 2.0, 2.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=12),
       st.lists(st.integers(0, 3), min_size=12, max_size=12))
def test_weighted_median_equals_median_of_expanded_sample(values, counts):
    a = np.array(values)
    c = np.array(counts[: a.size], float)
    if c.sum() == 0:
        c[0] = 1
    got = _weighted_median(a, c[None])[0]
    assert np.isclose(got, np.median(np.repeat(a, c.astype(int))))


def test_conformal_quantile_rank():
    errs = np.arange(1.0, 10.0)  # 9 errors: rank ceil(10 * 0.8) = 8
    assert conformal_quantile(errs, 0.8) == 8.0
    assert conformal_quantile(errs, 0.5) == 5.0
    assert conformal_quantile(np.array([1.0]), 0.8) == np.inf  # too few to promise 80%


def test_conformal_coverage_holds_on_exchangeable_data():
    rng = np.random.default_rng(3)
    n = 4000
    forecast = np.full(n, 50.0)
    outcome = np.clip(50 + rng.normal(0, 15, n), 0, 100)
    folds = grouped_folds(np.arange(n) // 4, 10, 0)
    for level in (0.5, 0.8):
        cov, width = cv_coverage(forecast, outcome, folds, level)
        assert abs(cov - level) < 0.03 and width > 0
    q80 = conformal_quantile(np.abs(outcome[:2000] - 50), 0.8)
    cov, _ = fixed_coverage(forecast[2000:], outcome[2000:], q80)
    assert abs(cov - 0.8) < 0.03


def test_grouped_folds_keep_proposals_together_and_reproduce():
    groups = np.array(["p1", "p1", "p2", "p3", "p3", "p3", "p4", "p5"])
    f = grouped_folds(groups, 3, seed=7)
    for g in set(groups):
        assert len(set(f[groups == g])) == 1
    assert set(f) == {0, 1, 2}
    np.testing.assert_array_equal(f, grouped_folds(groups, 3, seed=7))


def test_crps_of_a_point_mass_is_the_absolute_error_and_matches_the_integral():
    from parley.backtest.intervals import crps_from_residuals

    f, y = np.array([40.0, 70.0]), np.array([50.0, 65.0])
    np.testing.assert_allclose(crps_from_residuals(f, y, np.zeros(3)), [10.0, 5.0])
    # against the definition: integral of (F(z) - 1[z >= y])^2 over a fine grid
    resid = np.array([-20.0, -5.0, 0.0, 10.0, 30.0])
    z = np.linspace(0, 100, 200001)
    samples = np.clip(40.0 + resid, 0, 100)
    cdf = (samples[None, :] <= z[:, None]).mean(axis=1)
    integral = np.trapezoid((cdf - (z >= 50.0)) ** 2, z)
    got = crps_from_residuals(np.array([40.0]), np.array([50.0]), resid)[0]
    assert abs(got - integral) < 1e-2
