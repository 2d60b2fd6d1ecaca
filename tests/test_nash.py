"""Nash bargaining solution: hand-computed cases, brute-force references and invariants.

The references are independent of the solver: an exact linear program (HiGHS) for whether any
package gives every actor a positive gain (linear loss), SLSQP from several starts on the
smooth epigraph form for the optimum, and dense grids for one and two issues.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

from parley.core.batch import Batch
from parley.models import nash

SRC = Path(__file__).resolve().parents[1] / "src"
LIN = nash.Params()
QUAD = nash.Params(loss="quadratic")
SQ = nash.Params(disagreement="status_quo")


def one_issue(pos, cap, sal=None, status_quo=None) -> Batch:
    pos = np.asarray(pos, float)[:, None]
    sal = np.ones_like(pos) if sal is None else np.asarray(sal, float)[:, None]
    sq = None if status_quo is None else np.array([status_quo], float)
    return Batch.from_arrays(pos, sal, np.asarray(cap, float), status_quo=sq)


def random_batch(seed: int, draws: int, n: int, k: int, status_quo: bool = True,
                 reservations: bool = False) -> Batch:
    """Random draws; some positions on a coarse grid so that ties and kinks coincide."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, 100, (draws, n, k))
    pos = np.where(rng.random(pos.shape) < 0.3, np.round(pos / 25) * 25, pos)
    sal = rng.uniform(0, 1, (draws, n, k))
    sal = np.where(rng.random(sal.shape) < 0.15, 0.0, sal)
    cap = rng.uniform(0.1, 1, (draws, n))
    sq = rng.uniform(0, 100, (draws, k)) if status_quo else None
    res = None
    if reservations:  # about half the (actor, issue) pairs state one
        res = np.where(rng.random(pos.shape) < 0.5, rng.uniform(0, 100, pos.shape), np.nan)
    return Batch.from_arrays(pos, sal, cap, status_quo=sq, reservation=res)


def normalised(batch: Batch, params: nash.Params = LIN):
    """Unit-scale positions, stakes divided by each actor's largest gain, and capabilities,
    computed here from the definitions (not by the solver)."""
    d, _ = nash.disagreement_points(batch, params.disagreement)
    x = batch.position / 100
    s = batch.salience * batch.engaged[None]
    dist = np.abs(d / 100 - x) if params.loss == "linear" else (d / 100 - x) ** 2
    maxgain = (s * dist).sum(axis=2)
    sig = s / np.where(maxgain > 0, maxgain, 1.0)[:, :, None]
    active = s.sum(axis=2) > 0
    c = np.where(active, batch.capability, 0.0)
    total = c.sum(axis=1, keepdims=True)
    return x, sig, c / np.where(total > 0, total, 1.0), active


def gains(batch: Batch, package: np.ndarray, params: nash.Params = LIN) -> np.ndarray:
    """Each actor's gain over disagreement at a package, as a share of its largest gain."""
    x, sig, _, _ = normalised(batch, params)
    z = package[:, None, :] / 100 - x
    return 1 - (sig * (np.abs(z) if params.loss == "linear" else z * z)).sum(axis=2)


def lp_maxmin(x: np.ndarray, sig: np.ndarray) -> tuple[float, np.ndarray]:
    """max_y min_i gain_i(y) (linear loss) as an LP in (y, e, t): the exact feasibility test."""
    n, k = x.shape
    nv = k + n * k + 1
    rows, rhs = [], []
    for i in range(n):
        if sig[i].sum() == 0:
            continue
        row = np.zeros(nv)
        row[k + i * k : k + (i + 1) * k] = sig[i]
        row[-1] = 1.0
        rows.append(row)
        rhs.append(1.0)
        for j in range(k):
            if sig[i, j] == 0:
                continue
            for sign in (1.0, -1.0):
                r = np.zeros(nv)
                r[j] = sign
                r[k + i * k + j] = -1.0
                rows.append(r)
                rhs.append(sign * x[i, j])
    cost = np.zeros(nv)
    cost[-1] = -1.0
    bounds = [(0, 1)] * k + [(0, None)] * (n * k) + [(None, 1)]
    res = linprog(cost, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    assert res.status == 0
    return -res.fun, res.x[:k]


def slsqp_nash(x, sig, c, starts) -> float:
    """Best Nash objective found by SLSQP on the smooth epigraph form from several starts."""
    n, k = x.shape
    act = sig.sum(axis=1) > 0
    pair = sig > 0

    def split(v):
        return v[:k], v[k:].reshape(n, k)

    def f(v):
        _, e = split(v)
        g = 1 - (sig * e).sum(axis=1)
        if (g[act] <= 0).any():
            return 1e6
        return -(c[act] * np.log(g[act])).sum()

    def grad(v):
        _, e = split(v)
        g = 1 - (sig * e).sum(axis=1)
        out = np.zeros_like(v)
        out[k:] = ((c / np.where(act, g, 1.0))[:, None] * sig).ravel()
        return out

    rows, offs = [], []
    for i, j in zip(*np.nonzero(pair), strict=True):
        for sign in (1.0, -1.0):  # e_ij - sign (y_j - x_ij) >= 0
            r = np.zeros(k + n * k)
            r[k + i * k + j] = 1.0
            r[j] = -sign
            rows.append(r)
            offs.append(sign * x[i, j])
    G, off = np.array(rows), np.array(offs)
    cons = [{"type": "ineq", "fun": lambda v: G @ v + off, "jac": lambda v: G}]
    best = -np.inf
    for y0 in starts:
        e0 = np.abs(y0[None] - x) + 1e-9
        res = minimize(f, np.concatenate([y0, e0.ravel()]), jac=grad, constraints=cons,
                       method="SLSQP", bounds=[(0, 1)] * k + [(0, 2)] * (n * k),
                       options={"ftol": 1e-14, "maxiter": 500})
        y = res.x[:k]
        g = 1 - (sig * np.abs(y[None] - x)).sum(axis=1)
        if (g[act] > 0).all():
            best = max(best, (c[act] * np.log(g[act])).sum())
    return best


# ---------------------------------------------------------------- hand-computed cases


def test_two_actors_one_issue_capabilities_1_to_3_gives_75() -> None:
    # positions 0 and 100, no status quo: disagreement is each actor's worst end (100 and 0);
    # gains 100 - y and y, maximise log(100 - y) + 3 log(y): y = 75
    out = nash.solve(one_issue([0, 100], [1, 3]))
    assert out.agreement[0]
    assert out.outcome[0, 0] == pytest.approx(75.0, abs=1e-6)


def test_symmetric_cases_give_the_midpoint() -> None:
    assert nash.solve(one_issue([20, 80], [2, 2])).outcome[0, 0] == pytest.approx(50.0, abs=1e-6)
    # two issues, each actor cares most about a different one (a logroll): swapping the issues
    # swaps the actors, so y1 = y2. Each gets its important issue: at (10, 10) both lose
    # 0.3 * 80 of a largest gain of 90, and moving issue 1 by dy costs actor 1 0.7 dy but gives
    # actor 2 only 0.3 dy, so the product falls either way
    pos = np.array([[10.0, 90.0], [90.0, 10.0]])
    sal = np.array([[0.7, 0.3], [0.3, 0.7]])
    out = nash.solve(Batch.from_arrays(pos, sal, np.array([1.0, 1.0])))
    np.testing.assert_allclose(out.outcome[0], [10.0, 10.0], atol=1e-6)


def test_status_quo_between_the_positions_means_no_agreement() -> None:
    out = nash.solve(one_issue([0, 100], [1, 1], status_quo=50))
    assert not out.agreement[0]
    assert np.isnan(out.outcome[0, 0])
    assert out.info["no_agreement_draws"] == 1


def test_status_quo_on_one_side_gives_an_agreement_between_it_and_the_positions() -> None:
    # gains over the status quo 0: 60 - |y - 60| and 100 - |y - 100|. Below 60 both rise with
    # y; on [60, 100] they are 120 - y and y, and with capabilities 1:2 the derivative
    # -1/(120 - y) + 2/y vanishes at y = 80
    out = nash.solve(one_issue([60, 100], [1, 2], status_quo=0))
    assert out.agreement[0]
    assert out.outcome[0, 0] == pytest.approx(80.0, abs=1e-6)


def test_outcomes_at_a_kink_are_reported_exactly() -> None:
    # issue 1: positions 0, 100, 50 with worst-end disagreement; the optimum is the middle
    # actor's position 50, where the objective is almost flat to the right (slope ~1e-6)
    pos = np.array([[0.0, 30.0], [100.0, 0.0], [50.0, 70.0]])
    eng = np.array([[True, True], [True, False], [True, True]])
    b = Batch.from_arrays(pos, np.full((3, 2), 0.5), np.ones(3), engaged=eng)
    out = nash.solve(b)
    assert out.outcome[0, 0] == 50.0  # exactly: a kink
    assert out.outcome[0, 1] == pytest.approx(50.0, abs=1e-9)  # interior: up to round-off
    # and the value is the grid's best
    g = np.linspace(40, 60, 401)
    pts = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    best = nash.objective(b.take(np.zeros(len(pts), int)), pts).max()
    assert nash.objective(b, out.outcome)[0] >= best - 1e-12


def test_actor_holding_all_capability_gets_its_ideal() -> None:
    b = one_issue([30, 70, 90], [1, 0, 0])
    b = Batch.from_arrays(b.position, b.salience, np.array([1.0, 0.0, 0.0]))
    out = nash.solve(b)
    assert out.agreement[0]
    assert out.outcome[0, 0] == pytest.approx(30.0, abs=1e-6)


def test_actor_whose_disagreement_is_its_ideal_blocks_agreement() -> None:
    out = nash.solve(one_issue([0, 100], [1, 1], status_quo=0), SQ)
    assert not out.agreement[0]
    assert out.info["actor_cannot_gain_draws"] == 1


def test_reservation_rule_uses_reservations_before_the_status_quo() -> None:
    b = one_issue([0, 100], [1, 1], status_quo=50)
    res = np.array([[[60.0], [40.0]]])  # each accepts up to 60 / down to 40
    b = Batch.from_arrays(b.position, b.salience, b.capability, reservation=res,
                          status_quo=b.status_quo)
    d, fallback = nash.disagreement_points(b, "reservation")
    assert d[0, :, 0].tolist() == [60.0, 40.0] and fallback == 0
    assert nash.disagreement_points(b, "status_quo")[0][0, :, 0].tolist() == [50.0, 50.0]
    out = nash.solve(b)
    assert out.agreement[0] and out.outcome[0, 0] == pytest.approx(50.0, abs=1e-6)
    assert not nash.solve(b, SQ).agreement[0]


def test_quadratic_loss_matches_its_first_order_condition() -> None:
    # positions 0 and 100, worst-end disagreement, capabilities 1:3: gains 100^2 - y^2 and
    # 100^2 - (100 - y)^2, so y^2 (200 - y) = 3 (100 - y)^2 (100 + y) at the optimum
    poly = np.polysub(np.polymul([1, 0, 0], [-1, 200]),
                      3 * np.polymul(np.polymul([1, -100], [1, -100]), [1, 100]))
    roots = [r.real for r in np.roots(poly) if abs(r.imag) < 1e-9 and 0 < r.real < 100]
    assert len(roots) == 1
    out = nash.solve(one_issue([0, 100], [1, 3]), QUAD)
    assert out.outcome[0, 0] == pytest.approx(roots[0], abs=1e-6)
    assert nash.solve(one_issue([0, 100], [2, 2]), QUAD).outcome[0, 0] == pytest.approx(50, abs=1e-6)


def test_quadratic_loss_several_issues_is_the_gain_weighted_mean() -> None:
    # at the optimum y_k = sum_i l_i s_ik x_ik / sum_i l_i s_ik with l_i = c_i / gain_i
    b = random_batch(3, 20, 4, 3, status_quo=False)
    out = nash.solve(b, QUAD)
    assert out.agreement.all()
    d, _ = nash.disagreement_points(b)
    s = b.salience
    gain = (s * ((d - b.position) ** 2 - (out.outcome[:, None] - b.position) ** 2)).sum(axis=2)
    lam = b.capability / gain
    mean = (lam[:, :, None] * s * b.position).sum(1) / (lam[:, :, None] * s).sum(1)
    np.testing.assert_allclose(out.outcome, mean, atol=1e-5)


def test_nobody_with_a_stake_is_a_vacuous_agreement() -> None:
    b = one_issue([10, 30], [1, 1], sal=[0, 0])
    out = nash.solve(b)
    assert out.agreement[0] and out.info["no_stake_draws"] == 1
    assert 10 <= out.outcome[0, 0] <= 30


# ---------------------------------------------------------------- brute-force references


@pytest.mark.parametrize(("k", "rule"), [(1, SQ), (2, SQ), (3, SQ), (5, SQ), (2, LIN), (4, LIN)])
def test_feasibility_verdict_matches_the_exact_linear_program(k: int, rule: nash.Params) -> None:
    b = random_batch(100 + k, 120, 5, k, reservations=rule is LIN)
    out = nash.solve(b, rule)
    x, sig, _, _ = normalised(b, rule)
    checked = 0
    for j in range(b.draws):
        value, _ = lp_maxmin(x[j], sig[j])
        # with the status quo as everyone's disagreement point, the package y = status quo
        # gives every actor zero gain, so the max-min gain is exactly 0 when there is no deal
        if 1e-9 < value < 1e-7:  # a feasible set thinner than the tolerance: either verdict
            continue
        checked += 1
        assert out.agreement[j] == (value > 1e-9), (j, value)
    assert checked > 100
    if k <= 2 or rule is LIN:  # the hard regimes: both verdicts occur
        assert 0.1 < out.agreement.mean() < 0.9


@pytest.mark.parametrize(("k", "rule"), [(2, SQ), (3, SQ), (5, LIN)])
def test_objective_matches_multistart_slsqp(k: int, rule: nash.Params) -> None:
    b = random_batch(200 + k, 60, 5, k)
    out = nash.solve(b, rule)
    x, sig, c, _ = normalised(b, rule)
    ours = nash.objective(b, out.outcome, rule)
    rng = np.random.default_rng(k)
    diffs = []
    for j in np.flatnonzero(out.agreement)[:40]:
        _, y_lp = lp_maxmin(x[j], sig[j])
        starts = [y_lp] + [np.clip(y_lp + rng.normal(0, 0.05, k), 0, 1) for _ in range(2)]
        ref = slsqp_nash(x[j], sig[j], c[j], starts)
        assert ours[j] >= ref - 1e-6, (j, ours[j], ref)
        diffs.append(ours[j] - ref)
    assert len(diffs) >= 20
    # the reference is sharp: it usually reaches the same optimum
    assert np.median(np.abs(diffs)) < 1e-6


def test_one_issue_matches_a_dense_grid() -> None:
    b = random_batch(7, 60, 4, 1)
    out = nash.solve(b, SQ)
    grid = np.linspace(0, 100, 20001)
    kinks = b.position[:, :, 0]
    for j in range(b.draws):
        cand = np.concatenate([grid, kinks[j]])
        bj = b.take(np.zeros(cand.size, int) + j)
        f = nash.objective(bj, cand[:, None], SQ)
        if not np.isfinite(f.max()):
            assert not out.agreement[j]
            continue
        assert out.agreement[j]
        best = cand[np.argmax(f)]
        assert out.outcome[j, 0] == pytest.approx(best, abs=0.05)
        assert nash.objective(b.take([j]), out.outcome[j : j + 1], SQ)[0] >= f.max() - 1e-9


def test_two_issues_match_a_dense_grid() -> None:
    b = random_batch(8, 12, 4, 2)
    out = nash.solve(b, SQ)
    axis = np.linspace(0, 100, 301)
    for j in range(b.draws):
        pts = np.stack(np.meshgrid(np.union1d(axis, b.position[j, :, 0]),
                                   np.union1d(axis, b.position[j, :, 1])), -1).reshape(-1, 2)
        f = nash.objective(b.take(np.zeros(len(pts), int) + j), pts, SQ)
        if not np.isfinite(f.max()):
            assert not out.agreement[j]
            continue
        assert out.agreement[j]
        ours = nash.objective(b.take([j]), out.outcome[j : j + 1], SQ)[0]
        assert ours >= f.max() - 1e-9


def test_quadratic_matches_multistart_optimisation() -> None:
    b = random_batch(9, 15, 4, 3, status_quo=False)
    out = nash.solve(b, QUAD)
    ours = nash.objective(b, out.outcome, QUAD)
    rng = np.random.default_rng(0)
    for j in range(b.draws):
        bj = b.take([j])

        def f(y, bj=bj):
            v = nash.objective(bj, y[None] * 100, QUAD)[0]
            return -v if np.isfinite(v) else 1e6

        best = min(minimize(f, y0, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000}).fun
                   for y0 in [out.outcome[j] / 100, rng.random(3), rng.random(3)])
        assert ours[j] >= -best - 1e-9


# ---------------------------------------------------------------- invariants


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 5), k=st.integers(1, 3),
       quadratic=st.booleans())
def test_outcome_lies_in_the_hull_of_engaged_positions(seed, n, k, quadratic) -> None:
    b = random_batch(seed, 8, n, k, status_quo=seed % 2 == 0)
    out = nash.solve(b, QUAD if quadratic else LIN)
    pos = np.where(b.engaged[None], b.position, np.nan)
    ok = out.agreement
    assert (out.outcome[ok] >= np.nanmin(pos, axis=1)[ok] - 1e-9).all()
    assert (out.outcome[ok] <= np.nanmax(pos, axis=1)[ok] + 1e-9).all()
    assert np.isnan(out.outcome[~ok]).all()


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 6), k=st.integers(1, 4),
       scale=st.floats(1e-3, 1e3))
def test_invariant_to_actor_order_and_capability_scale(seed, n, k, scale) -> None:
    b = random_batch(seed, 10, n, k)
    base = nash.solve(b, SQ)
    order = np.random.default_rng(seed).permutation(n)
    for other in (b.permute_actors(order),
                  Batch.from_arrays(b.position, b.salience, b.capability * scale,
                                    status_quo=b.status_quo)):
        out = nash.solve(other, SQ)
        np.testing.assert_array_equal(out.agreement, base.agreement)
        f0 = nash.objective(b, base.outcome, SQ)
        f1 = nash.objective(b, out.outcome, SQ)
        np.testing.assert_allclose(f1[base.agreement], f0[base.agreement], atol=1e-7)
        np.testing.assert_allclose(gains(b, out.outcome, SQ)[base.agreement],
                                   gains(b, base.outcome, SQ)[base.agreement], atol=1e-3)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000), extra=st.integers(1, 100), chunk=st.integers(20, 64))
def test_more_draws_or_other_chunks_never_change_earlier_draws(seed, extra, chunk) -> None:
    b = random_batch(seed, 40 + extra, 5, 3)
    first = nash.solve(b.take(slice(0, 40)), SQ)
    full = nash.solve(b, SQ)
    small = nash.solve(b, nash.Params(disagreement="status_quo", chunk=chunk))
    np.testing.assert_array_equal(full.outcome[:40], first.outcome)
    np.testing.assert_array_equal(full.agreement[:40], first.agreement)
    np.testing.assert_array_equal(small.outcome, full.outcome)


@pytest.mark.parametrize("params", [SQ, nash.Params(loss="quadratic", disagreement="status_quo")])
@pytest.mark.parametrize("max_iter", [2, 1000])
@pytest.mark.parametrize("shape", [(5, 3), (10, 1)])
def test_streamed_working_set_never_changes_a_draw(monkeypatch, params, max_iter, shape) -> None:
    """The interior-point method streams draws through a bounded working set; how many draws
    share it, and when a draw joins, changes no draw's result, also for draws given up on at
    max_iter."""
    b = random_batch(11, 57, *shape)
    params = nash.Params(loss=params.loss, disagreement="status_quo", max_iter=max_iter)
    whole = nash.solve(b, params)
    for window in (2, 3, 10):
        monkeypatch.setattr(nash, "_WINDOW", window)
        out = nash.solve(b, params)
        np.testing.assert_array_equal(out.outcome, whole.outcome)
        np.testing.assert_array_equal(out.agreement, whole.agreement)
        assert out.info == whole.info
    assert (whole.info["unconverged_draws"] > 0) == (max_iter == 2)


def test_unknown_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="loss"):
        nash.Params(loss="cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="disagreement"):
        nash.Params(disagreement="hope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_gain"):
        nash.Params(min_gain=-1.0)
    with pytest.raises(ValueError, match="disagreement"):
        nash.disagreement_points(one_issue([0, 100], [1, 1]), "hope")


@pytest.mark.parametrize("params", [SQ, nash.Params(loss="quadratic", disagreement="status_quo")])
def test_extreme_capability_ratios_still_converge(params: nash.Params) -> None:
    # capabilities spread over ~5 orders of magnitude: weak actors' optima sit very close to
    # their zero-gain boundary, which is where Newton-type methods lose accuracy
    rng = np.random.default_rng(3)
    pos = rng.uniform(0, 100, (40, 6, 5))
    sal = rng.uniform(0, 1, (40, 6, 5)) * (rng.random((40, 6, 5)) > 0.3)
    cap = np.exp(rng.normal(0, 3, (40, 6)))
    b = Batch.from_arrays(pos, sal, cap, status_quo=rng.uniform(0, 100, (40, 5)))
    out = nash.solve(b, params)
    assert out.info["unconverged_draws"] == 0
    assert not np.isnan(out.outcome[out.agreement]).any()
    ours = nash.objective(b, out.outcome, params)
    x, sig, c, _ = normalised(b, params)
    for j in np.flatnonzero(out.agreement)[:10]:
        if params.loss == "linear":
            _, y = lp_maxmin(x[j], sig[j])
            ref = slsqp_nash(x[j], sig[j], c[j], [y, np.full(5, 0.5)])
        else:
            bj = b.take([j])

            def f(y, bj=bj):
                v = nash.objective(bj, y[None] * 100, params)[0]
                return -v if np.isfinite(v) else 1e6

            ref = -minimize(f, out.outcome[j] / 100, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 4000}).fun
        assert ours[j] >= ref - 1e-6, (j, ours[j], ref)


def test_regressions_found_by_stress_runs() -> None:
    nan = np.nan
    # (a) actor 5's no-deal point is 0.002 scale points from its ideal, so as a share of its
    # largest gain every point of distance counts 500-fold: phase 1 used to diverge on this
    # badly scaled problem and report no agreement although the LP finds one
    pos = np.array([[57.084543, 78.976731], [75.686596, 58.392865], [22.713823, 13.604845],
                    [48.527234, 45.404556], [69.787574, 44.3944], [31.883815, 74.423994],
                    [87.531517, 34.086164], [28.925939, 75.375062], [40.312085, 95.476193]])
    sal = np.array([[0.152164, 0.065435], [0.938198, 0.0], [0.0, 0.0], [0.277815, 0.607542],
                    [0.08507, 0.823018], [0.074193, 0.0], [0.0, 0.465843], [0.0, 0.147089],
                    [0.0, 0.272301]])
    cap = np.array([0.008951, 79.578665, 4.836049, 0.215056, 1.164312, 0.010043, 11.573769,
                    38.468213, 0.273572])
    eng = np.array([[True, False], [True, True], [False, True], [True, True], [False, True],
                    [True, True], [True, False], [True, True], [True, True]])
    b = Batch.from_arrays(pos, sal, cap, status_quo=np.array([31.881977, 1.45824]), engaged=eng)
    out = nash.solve(b, SQ)
    x, sig, c, _ = normalised(b, SQ)
    value, y = lp_maxmin(x[0], sig[0])
    assert value > 1e-6
    assert out.agreement[0]
    ref = slsqp_nash(x[0], sig[0], c[0], [y])
    assert nash.objective(b, out.outcome, SQ)[0] >= ref - 1e-6
    # (b) two actors, five issues, reservations on some issues: the primal-dual iteration
    # cycled through four points until it was given a line search
    pos = np.array([[40.0, 60.0, 30.0, 90.0, 70.0], [70.0, 80.0, 70.0, 80.0, 10.0]])
    sal = np.array([[0.966614, 0.452353, 0.325621, 0.0, 0.697186],
                    [0.5519, 0.0, 0.50598, 0.611753, 0.144644]])
    res = np.array([[nan, nan, nan, nan, nan], [nan, 36.695564, nan, 80.640055, 57.758354]])
    sq = np.array([72.70259, 55.068852, 59.18466, 8.126058, 41.592159])
    eng = np.array([[True, True, True, True, True], [True, False, True, True, True]])
    b = Batch.from_arrays(pos, sal, np.array([1.11381, 0.830013]), reservation=res,
                          status_quo=sq, engaged=eng)
    out = nash.solve(b, LIN)
    assert out.agreement[0] and out.info["unconverged_draws"] == 0
    x, sig, c, _ = normalised(b, LIN)
    _, y = lp_maxmin(x[0], sig[0])
    ref = slsqp_nash(x[0], sig[0], c[0], [y, np.full(5, 0.5)])
    assert nash.objective(b, out.outcome, LIN)[0] >= ref - 1e-6


def test_pair_certificate_skips_no_deal_draws_without_changing_any_result(monkeypatch) -> None:
    """Draws where two actors alone prove there is no deal skip the interior-point method;
    every outcome and agreement flag is what the full solver gives, and the certificate never
    fires where the solver finds a deal."""
    rng = np.random.default_rng(4)
    d, n, k = 600, 6, 3
    res = np.where(rng.random((d, n, k)) < 0.6, rng.uniform(0, 100, (d, n, k)), np.nan)
    b = Batch.from_arrays(rng.uniform(0, 100, (d, n, k)), rng.uniform(0.05, 1, (d, n, k)),
                          rng.uniform(1, 100, (d, n)), reservation=res,
                          status_quo=rng.uniform(0, 100, (d, k)))
    fast = nash.solve(b)
    dd, _ = nash.disagreement_points(b)
    x, shat, g0, _, _ = nash._normalise(b, dd, False)
    cert = nash._pair_certificate(x, shat, g0, nash.Params().min_gain)
    monkeypatch.setattr(nash, "_pair_certificate", lambda x, s, g, m: np.zeros(x.shape[0], bool))
    full = nash.solve(b)
    assert cert.sum() > 0 and not (cert & full.agreement).any()
    assert np.array_equal(fast.agreement, full.agreement)
    assert np.array_equal(fast.outcome, full.outcome, equal_nan=True)


# --- the compiled engine -----------------------------------------------------------------------

def engines_agree(b: Batch, params: nash.Params) -> tuple[nash.Outcome, nash.Outcome]:
    """The compiled engine against the numpy reference: the same agreement flags and packages
    within 1e-6 scale points (sums run in another order, so not bit for bit)."""
    fast = nash.solve(b, replace(params, engine="compiled"))
    slow = nash.solve(b, replace(params, engine="numpy"))
    np.testing.assert_array_equal(fast.agreement, slow.agreement)
    np.testing.assert_allclose(fast.outcome, slow.outcome, rtol=0, atol=1e-6)
    assert fast.info["unconverged_draws"] == slow.info["unconverged_draws"]
    return fast, slow


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 7), k=st.integers(1, 4),
       loss=st.sampled_from(["linear", "quadratic"]),
       rule=st.sampled_from(["reservation", "status_quo"]), status_quo=st.booleans())
def test_engines_agree_on_random_draws(seed, n, k, loss, rule, status_quo) -> None:
    pytest.importorskip("numba")
    b = random_batch(seed, 30, n, k, status_quo=status_quo, reservations=True)
    engines_agree(b, nash.Params(loss=loss, disagreement=rule))


@pytest.mark.parametrize("scenario", ["ukraine-2025-05", "ukraine-2026-02"])
@pytest.mark.parametrize("params", [LIN, SQ, QUAD])
def test_engines_agree_on_bundled_scenarios(scenario: str, params: nash.Params) -> None:
    pytest.importorskip("numba")
    from parley.core import batch as batching
    from parley.io.loading import load

    fast, _ = engines_agree(batching.sample(load(scenario), 400, 1), params)
    assert fast.agreement.any()


@pytest.mark.parametrize("params", [SQ, nash.Params(loss="quadratic", disagreement="status_quo")])
def test_compiled_engine_on_hard_cases(params: nash.Params) -> None:
    """Extreme capability ratios (see above), a single draw, and draws given up on at max_iter:
    both engines give the same verdicts."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(3)
    pos = rng.uniform(0, 100, (40, 6, 5))
    sal = rng.uniform(0, 1, (40, 6, 5)) * (rng.random((40, 6, 5)) > 0.3)
    cap = np.exp(rng.normal(0, 3, (40, 6)))
    b = Batch.from_arrays(pos, sal, cap, status_quo=rng.uniform(0, 100, (40, 5)))
    engines_agree(b, params)
    engines_agree(b.take([7]), params)
    fast, _ = engines_agree(b, replace(params, max_iter=3))
    assert fast.info["unconverged_draws"] > 0


def test_compiled_engine_on_the_stress_regressions() -> None:
    pytest.importorskip("numba")
    pos = np.array([[40.0, 60.0, 30.0, 90.0, 70.0], [70.0, 80.0, 70.0, 80.0, 10.0]])
    sal = np.array([[0.966614, 0.452353, 0.325621, 0.0, 0.697186],
                    [0.5519, 0.0, 0.50598, 0.611753, 0.144644]])
    nan = np.nan
    res = np.array([[nan, nan, nan, nan, nan], [nan, 36.695564, nan, 80.640055, 57.758354]])
    sq = np.array([72.70259, 55.068852, 59.18466, 8.126058, 41.592159])
    eng = np.array([[True, True, True, True, True], [True, False, True, True, True]])
    b = Batch.from_arrays(pos, sal, np.array([1.11381, 0.830013]), reservation=res,
                          status_quo=sq, engaged=eng)
    fast, _ = engines_agree(b, LIN)  # (the numpy engine needed careful mode here)
    assert fast.agreement[0]


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000), extra=st.integers(1, 100), chunk=st.integers(1, 64))
def test_compiled_engine_results_do_not_depend_on_the_chunk(seed, extra, chunk) -> None:
    pytest.importorskip("numba")
    b = random_batch(seed, 40 + extra, 5, 3)
    params = nash.Params(disagreement="status_quo", engine="compiled")
    full = nash.solve(b, params)
    first = nash.solve(b.take(slice(0, 40)), params)
    small = nash.solve(b, replace(params, chunk=chunk))
    np.testing.assert_array_equal(full.outcome[:40], first.outcome)
    np.testing.assert_array_equal(small.outcome, full.outcome)
    np.testing.assert_array_equal(small.agreement, full.agreement)


def test_compiled_engine_uses_the_constants_of_the_numpy_engine() -> None:
    pytest.importorskip("numba")
    from parley.models import _nash_numba

    for name in ("PARKED", "MU_FLOOR", "SIGMA", "CENTRED_RES", "CENTRED_GAP", "GAP0", "FTB",
                 "TAU0", "PATIENCE", "RESID"):
        assert getattr(_nash_numba, name) == getattr(nash, "_" + name), name


def test_auto_engine_leaves_numba_unloaded_for_small_runs() -> None:
    """One draw (a scenario without uncertain inputs, the answer's line of every model) must
    not pay for loading numba; a large run takes the compiled engine."""
    code = ("import sys; from parley.core import batch; from parley.io.loading import load;"
            " from parley.models import nash;"
            " s = load('ukraine-2025-05'); nash.solve(batch.sample(s, 1000, 1));"
            " nash.solve(batch.sample(s, 1, 1), nash.one_run_params(nash.Params()));"
            " print('numba' in sys.modules, nash._use_compiled(nash.Params(), nash.COMPILED_FROM))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(SRC)})
    loaded, large = out.stdout.split()
    assert loaded == "False"
    assert large == str(find_spec("numba") is not None)
    assert nash.one_run_params(nash.Params()).engine == "numpy"
    assert nash.one_run_params(nash.Params(engine="compiled")).engine == "compiled"
    with pytest.raises(ValueError, match="engine"):
        nash.Params(engine="gpu")  # type: ignore[arg-type]


@pytest.mark.parametrize("params", [LIN, SQ, QUAD])
def test_engines_agree_on_degenerate_draws(params: nash.Params) -> None:
    """Nobody with a stake, an actor that cannot gain, a single actor, partial engagement, tied
    positions and a missing status quo (worst-end fallback), mixed in one batch."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(9)
    d, n, k = 60, 4, 3
    pos = np.round(rng.uniform(0, 100, (d, n, k)) / 25) * 25
    sal = rng.uniform(0, 1, (d, n, k))
    sal[:10] = 0.0  # nobody with a stake
    sal[10:20, 1:] = 0.0  # one actor with a stake
    sq = rng.uniform(0, 100, (d, k))
    sq[20:30] = np.nan  # worst-end fallback
    pos[30:40, 0] = sq[30:40]  # an actor whose no-deal point is its ideal: cannot gain
    eng = np.ones((n, k), bool)
    eng[2, 0] = eng[3, 2] = False
    b = Batch.from_arrays(pos, sal, rng.uniform(0.1, 1, (d, n)), status_quo=sq, engaged=eng)
    fast, slow = engines_agree(b, params)
    for key in fast.info:  # (draws stopped at the precision limit may differ in count)
        assert key == "precision_limited_draws" or fast.info[key] == slow.info[key], key
    assert fast.info["no_stake_draws"] == 10 and fast.info["actor_cannot_gain_draws"] >= 10
