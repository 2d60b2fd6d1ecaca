"""Exact scores of mixed discrete–continuous forecasts, against hand-computed values and
numerical integration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.models.mixed import KNOTS, Mixed, laplace_cdf


def _uniform_cdf(n: int = 1) -> np.ndarray:
    return np.broadcast_to(KNOTS / 100.0, (n, KNOTS.size)).copy()


def _atoms(points, masses, n_slots=None):
    points, masses = list(points), list(masses)
    pad = (n_slots or len(points)) - len(points)
    return np.array([points + [100.0] * pad]), np.array([masses + [0.0] * pad])


def _numeric_crps(dist: Mixed, y: float, n: int = 200_001) -> float:
    x = np.linspace(0.0, 100.0, n)
    pt, ms = dist.point[0], dist.mass[0]
    f = (ms[None] * (pt[None] <= x[:, None])).sum(1) + dist.remainder[0] * np.interp(
        x, dist.knots, dist.cont_cdf[0])
    g = (f - (x >= y)) ** 2
    return float(((g[1:] + g[:-1]) / 2 * np.diff(x)).sum())


def test_point_mass_crps_is_absolute_error():
    p, m = _atoms([30.0], [1.0])
    d = Mixed(p, m, _uniform_cdf())
    assert d.crps(np.array([72.0]))[0] == pytest.approx(42.0)
    assert d.median()[0] == pytest.approx(30.0)


def test_two_atoms_by_hand():
    # F = 1/2 on [0, 100); y = 50: ∫0^50 (1/2)^2 + ∫50^100 (1/2)^2 = 25
    # (= Σ p|x − y| − ½ ΣΣ p p' |x − x'| = 50 − 25)
    p, m = _atoms([0.0, 100.0], [0.5, 0.5])
    assert Mixed(p, m, _uniform_cdf()).crps(np.array([50.0]))[0] == pytest.approx(25.0)


def test_uniform_matches_closed_form():
    # U(0, 100): CRPS = 100·(t² − t + 1/3), t = y / 100
    d = Mixed(np.array([[100.0]]), np.array([[0.0]]), _uniform_cdf())
    for y in (0.0, 30.0, 50.0, 99.5):
        t = y / 100
        assert d.crps(np.array([y]))[0] == pytest.approx(100 * (t * t - t + 1 / 3))


def test_quantiles_by_hand():
    # atoms 20 (0.3) and 80 (0.3), the rest (0.4) uniform: F(20−) = 0.08, F(20) = 0.38,
    # then 0.004 per point, so F reaches 0.5 at 50
    p, m = _atoms([20.0, 80.0], [0.3, 0.3])
    d = Mixed(p, m, _uniform_cdf())
    assert d.quantile(0.5)[0] == pytest.approx(50.0)
    assert d.quantile(0.3)[0] == pytest.approx(20.0)
    assert d.quantile(0.04)[0] == pytest.approx(10.0)
    assert d.mode_point()[0] in (20.0, 80.0)
    assert d.cdf(np.array([20.0]))[0] == pytest.approx(0.38)
    assert d.cdf(np.array([20.0]), strict=True)[0] == pytest.approx(0.08)


def test_prediction_sets_by_hand():
    # atoms 20 (0.5), 80 (0.35), 0.15 spread: the 50% set is {20}, the 80% set {20, 80}
    p, m = _atoms([20.0, 80.0], [0.5, 0.35])
    d = Mixed(np.repeat(p, 3, 0), np.repeat(m, 3, 0), _uniform_cdf(3))
    y = np.array([20.0, 80.0, 50.0])
    cov50, _size50 = d.prediction_set(y, 0.5)
    cov80, size80 = d.prediction_set(y, 0.8)
    assert cov50.tolist() == [True, False, False]
    assert cov80.tolist() == [True, True, False]
    assert size80.tolist() == [0.0, 0.0, 0.0]
    cov95, size95 = d.prediction_set(y, 0.95)
    assert cov95[2] and size95[2] == pytest.approx(67.0)  # 0.10 more needs 67 one-point pieces


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=4),
       st.lists(st.floats(0.01, 1), min_size=5, max_size=5),
       st.floats(0, 100), st.floats(0, 100), st.floats(1, 40))
def test_crps_matches_numerical_integration(points, raw, y, centre, scale):
    k = len(points)
    w = np.array(raw[: k + 1]) / sum(raw[: k + 1])  # last share is the continuous remainder
    p, m = _atoms(points, w[:k].tolist(), n_slots=5)
    d = Mixed(p, m, laplace_cdf(np.array([centre]), scale, np.array([10.0]), np.array([90.0])))
    assert d.crps(np.array([y]))[0] == pytest.approx(_numeric_crps(d, y), abs=2e-3)
    pit = d.pit(np.array([y]), np.array([0.5]))[0]
    assert 0.0 <= pit <= 1.0


def test_laplace_remainder_lives_on_the_range():
    cdf = laplace_cdf(np.array([40.0]), 10.0, np.array([20.0]), np.array([70.0]))[0]
    assert cdf[0] == 0.0 and cdf[20] == 0.0 and cdf[70] == pytest.approx(1.0) and cdf[-1] == 1.0
    assert np.all(np.diff(cdf) >= -1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0.0, 12.0, 12.5, 37.0, 50.0, 99.7, 100.0, 100.00000000000001,
                                 -5.0, 150.0]) | st.floats(0, 100),
                min_size=1, max_size=6),
       st.lists(st.floats(0, 1), min_size=7, max_size=7), st.floats(-20, 120), st.floats(0.5, 40),
       st.sampled_from([0.5, 0.05, 0.3, 0.95]))
def test_quantile_search_matches_a_scan_of_every_piece(points, raw, centre, scale, tau):
    # the bisections must pick the same piece as F evaluated at every knot and atom, also
    # with atoms off the scale (sampling can put a position 1e-14 beyond 100)
    k = len(points)
    w = np.array(raw[: k + 1]) + np.array([0.0] * k + [1e-3])
    p = np.array([points])
    m = (w[:k] / w.sum())[None]
    cdf = laplace_cdf(np.array([centre]), scale, np.array([max(min(points), 0.0)]),
                      np.array([min(max(points), 100.0)]))
    d = Mixed(p, m, cdf)
    assert d.quantile(tau)[0] == d._quantile_breaks(tau)[0]


def test_lazy_laplace_matches_the_table():
    # TruncatedLaplace.at evaluates single knots with the table's arithmetic: bit for bit equal
    from parley.models.mixed import TruncatedLaplace

    centre = np.array([40.0, -30.0, 70.0, 55.0])
    low, high = np.array([20.0, 0.0, 3.5, 50.0]), np.array([70.0, 9.0, 96.2, 50.2])
    table = laplace_cdf(centre, 7.0, low, high)
    idx = np.arange(KNOTS.size)
    for j in range(len(centre)):
        rep = np.full(KNOTS.size, j)
        lazy = TruncatedLaplace(centre[rep], 7.0, low[rep], high[rep]).at(idx)
        assert np.array_equal(lazy, table[j])


def test_no_atoms_is_the_continuous_part_alone():
    """A distribution without atoms (A = 0) answers like one whose only atom has no mass."""
    cdf = laplace_cdf(np.array([40.0, 60.0]), 10.0)
    none = Mixed(np.zeros((2, 0)), np.zeros((2, 0)), cdf)
    empty = Mixed(np.full((2, 1), 100.0), np.zeros((2, 1)), cdf)
    y = np.array([50.0, 50.0])
    assert np.array_equal(none.median(), empty.median())
    assert np.array_equal(none.cdf(y), empty.cdf(y))
    assert np.allclose(none.crps(y), empty.crps(y), rtol=0, atol=1e-12)
    assert np.isnan(none.mode_point()).all()
    assert none.median()[0] < 50 < none.median()[1]  # Laplace centred at 40 and 60
