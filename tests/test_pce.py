"""KTAB's spatial model (pce): building blocks by hand, KTAB's reference outputs, properties."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.core.batch import Batch, point
from parley.io.ktab import load_ktab
from parley.models import _pce_kernel as kern
from parley.models import pce, registry

DATA = Path(__file__).parent / "data" / "ktab"
SCENARIOS = sorted(p.stem for p in DATA.glob("*.csv"))


def ktab_batch(name: str) -> Batch:
    return point(load_ktab(DATA / f"{name}.csv"))


def reference(name: str) -> tuple[int, dict[str, tuple[list[float], list[float], float, float]]]:
    """KTAB's states count and, per actor: start and final positions, start and final P(win)."""
    lines = (DATA / "reference" / f"{name}.tsv").read_text().splitlines()
    states = int(re.search(r"states=(\d+)", lines[1]).group(1))
    out = {}
    for line in lines[3:]:
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split("\t")
        pairs = [tuple(float(v) for v in cell.split("->")) for cell in f[1:]]
        out[f[0]] = ([p[0] for p in pairs[:-1]], [p[1] for p in pairs[:-1]], pairs[-1][0], pairs[-1][1])
    return states, out


# --- building blocks, by hand ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "expected"),
    [("prop", 0.6), ("binary", 2.0), ("prop_bin", 2 * (0.8 * 0.3 + 0.2)),
     ("prop_cbc", 2 * (0.15 + 0.5 * 0.027)), ("cubic", 2 * 0.027), ("asym_prosp", 2 * 0.2)],
)
def test_vote_rules(rule: str, expected: float) -> None:
    assert kern.vote(rule, np.array(2.0), np.array(0.7), np.array(0.4)) == pytest.approx(expected)


def test_asymmetric_prospect_vote_counts_losses_fully() -> None:
    assert kern.vote("asym_prosp", np.array(2.0), np.array(0.4), np.array(0.7)) == pytest.approx(-0.6)


def test_victory_probabilities() -> None:
    c = np.array([[1e-8, 3.0], [1.0, 1e-8]])
    assert kern.victory("linear", c)[0, 1] == pytest.approx(0.75)
    assert kern.victory("square", c)[0, 1] == pytest.approx(0.9)
    assert kern.victory("octic", c)[1, 0] == pytest.approx(1 / (1 + 3**8))
    assert kern.victory("binary", c)[0, 1] == 1.0
    assert kern.victory("linear", c)[0, 0] == 0.5


def test_pce_two_options_all_models() -> None:
    # Conditional: p_a ∝ V(a,a) V(a,b) = V_ab / 2, so p_a = V_ab.
    # Markov-uniform: q_a = (V(a,a) 2 p_a + V_ab (p_a + p_b)) / 2 = p_a / 2 + V_ab / 2,
    # whose fixed point is p_a = V_ab.
    c = np.array([[1e-8, 3.0], [1.0, 1e-8]])
    v = kern.victory("linear", c)
    np.testing.assert_allclose(kern.pce("conditional", v), [0.75, 0.25])
    np.testing.assert_allclose(kern.pce("markov_uniform", v), [0.75, 0.25], atol=1e-5)
    p = kern.pce("markov_incentive", v, c=c)
    assert p.sum() == pytest.approx(1.0) and p[0] > p[1]


def test_conditional_pce_three_options_by_hand() -> None:
    v = np.array([[0.5, 0.6, 0.9], [0.4, 0.5, 0.7], [0.1, 0.3, 0.5]])
    raw = np.array([0.5 * 0.6 * 0.9, 0.4 * 0.5 * 0.7, 0.1 * 0.3 * 0.5])
    np.testing.assert_allclose(kern.pce("conditional", v), raw / raw.sum())
    # restricted to options 0 and 2
    np.testing.assert_allclose(kern.pce("conditional", v, mask=np.array([True, False, True])),
                               [0.9, 0.0, 0.1])


def test_utility_and_distance() -> None:
    assert kern.bs_util(np.array(0.5), np.array(1.0)) == pytest.approx(0.75)
    assert kern.bs_util(np.array(0.5), np.array(-0.5)) == pytest.approx(0.375)
    assert kern.bs_util(np.array(0.0), np.array(0.3)) == pytest.approx(1.0)
    d = kern.distances(np.array([[0.0, 0.0]]), np.array([[0.3, 0.4]]), np.array([[0.5, 0.5]]))
    assert d[0, 0] == pytest.approx(math.sqrt((0.15**2 + 0.2**2) / 0.5))


@pytest.mark.parametrize(("rng", "expected"), [("mid", [-0.5, 0.1, 1.0]), ("min", [0.0, 0.4, 1.0]),
                                               ("max", [-1.0, -0.2, 1.0])])
def test_risk_attitude_ranges(rng: str, expected: list[float]) -> None:
    np.testing.assert_allclose(pce.big_r(np.array([[0.1, 0.3, 0.6]]), rng)[0], expected)


# --- KTAB reference ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_initial_win_probabilities_match_ktab(name: str) -> None:
    # KTAB's first-turn "P(pos wins)" column (printed to 3 decimals) checks utilities,
    # distances, the risk attitudes from the capability-weighted PCE, the conditional PCE and
    # KTAB's grouping of equal and nearly equal positions (SOE-* share positions; in
    # dummyData-a040 KTAB shows one number for 71.15 and 71.18).
    batch = ktab_batch(name)
    _, ref = reference(name)
    x = batch.position / 100
    s, c = batch.salience, batch.capability
    n = batch.n_actors
    p0 = pce.position_probabilities(x, x, s, c, np.zeros((1, n)), pce.Params(), distinct=False)
    r = pce.big_r(p0, "mid")
    p = pce.position_probabilities(x, x, s, c, r, pce.Params(), distinct=True)[0]
    expected = np.array([ref[a][2] for a in batch.actors])
    np.testing.assert_allclose(p, expected, atol=6e-4)


def test_equivalent_positions_group_by_first_representative() -> None:
    # 0.50 and 0.5003 are within 0.0005 of each other; 0.5008 is not within it of the group's
    # representative (0.50) although it is of 0.5003; 0.70 stands alone.
    x = np.array([[[0.50], [0.5003], [0.5008], [0.70], [0.50]]])
    np.testing.assert_array_equal(pce.equivalent_positions(x, 5e-4)[0], [0, 0, 2, 3, 0])
    np.testing.assert_array_equal(pce.equivalent_positions(x, 0.0)[0], [0, 1, 2, 3, 0])


@pytest.mark.parametrize("name", SCENARIOS)
def test_ktab_scenarios_run_and_converge(name: str) -> None:
    batch = ktab_batch(name)
    out = pce.solve(batch)
    start = batch.position[0]
    assert out.trajectory.shape[2:] == start.shape
    np.testing.assert_allclose(out.trajectory[0, 0], start)
    assert out.info["converged"][0]
    assert (out.trajectory[0] >= start.min(axis=0) - 1e-9).all()
    assert (out.trajectory[0] <= start.max(axis=0) + 1e-9).all()
    assert out.info["final_win_probability"].shape == (1, batch.n_actors)
    explained = pce.solve(batch, pce.Params(explain=True))
    assert explained.info["win_probability"].shape == (1, out.trajectory.shape[1], batch.n_actors)


def test_soe_policy_replicates_ktab_turn_by_turn_outcome() -> None:
    # Every actor's final position within 0.5 of KTAB's and the same number of turns
    # (KTAB's `states` counts the initial state too).
    batch = ktab_batch("SOE-Policy")
    states, ref = reference("SOE-Policy")
    out = pce.solve(batch)
    final = np.array([ref[a][1] for a in batch.actors])
    np.testing.assert_allclose(out.trajectory[0, -1], final, atol=0.1)
    assert out.info["rounds"][0] == states - 1
    assert out.outcome[0, 0] == pytest.approx(38.9, abs=0.1)  # KTAB's converged cluster


def _challenge(p_win: float) -> pce.Challenges:
    one = np.zeros((1, 2))
    return pce.Challenges(np.array([[1, -1]]), np.array([[p_win, 0.0]]), one, one, one)


def test_bargain_sides_get_their_own_coordinates() -> None:
    # KTAB's interpBrgnSnPm: 0.1 and 0.1001 with equal weights meet at 0.10005, on the rounding
    # boundary; with minW = 1e-6 on its own side each side stays on its own side of it:
    # b_i = 0.10005 - 0.00005 * 1e-6 / (2 w + 1e-6), b_j = 0.10005 + the same, w = (0.5 * 0.5)^2.
    x = np.array([[[0.1], [0.1001]]])
    s = np.array([[[0.5], [0.5]]])
    w = 0.25**2
    tgt = np.array([[1, -1]])
    bi, br = pce.bargains(x, s, _challenge(0.5), "s2p2", 1e-6)
    assert bi[0, 0, 0] == pytest.approx(0.10005 - 0.00005 * 1e-6 / (2 * w + 1e-6), abs=1e-15)
    assert br[0, 0, 0] == pytest.approx(0.10005 + 0.00005 * 1e-6 / (2 * w + 1e-6), abs=1e-15)
    assert pce._rounded(bi, x, tgt, 4)[0, 0, 0] == pytest.approx(0.1, abs=1e-15)
    assert pce._rounded(br, x, tgt, 4)[0, 0, 0] == pytest.approx(0.1001, abs=1e-15)
    # the clean version: one shared point for both
    bi0, br0 = pce.bargains(x, s, _challenge(0.5), "s2p2", 0.0)
    assert bi0 is br0
    assert bi0[0, 0, 0] == pytest.approx(0.10005, abs=1e-15)


def test_rounding_is_half_up_like_ktabs_round4() -> None:
    # 0.00125 * 1e4 = 12.5 exactly: KTAB's (int)(0.5 + x * 1e4) gives 13, where rounding half
    # to even would give 12
    x = np.array([[[0.0], [1.0]]])
    b = np.full((1, 2, 1), 0.00125)
    assert pce._rounded(b, x, np.array([[1, 0]]), 4)[0, 0, 0] == pytest.approx(0.0013, abs=1e-15)


def test_win_probability_shows_the_last_equivalent_representative() -> None:
    # 0.50 represents a group that 0.5008 joins (0.0008 < 1e-3); 0.5016 is 0.0016 from 0.50, so
    # it represents a second group, which is also within 1e-3 of 0.5008. KTAB's posProb shows
    # actor 1 the probability of the last representative near it (actor 2); "own" its own group's.
    x = np.array([[[0.50], [0.5008], [0.5016]]])
    np.testing.assert_array_equal(pce.shown_representative(x, 1e-3, "last")[0], [0, 2, 2])
    np.testing.assert_array_equal(pce.shown_representative(x, 1e-3, "own")[0], [0, 0, 2])


# --- modes, options, batching ------------------------------------------------------------------
def test_registered_as_dynamic() -> None:
    assert registry.MODELS["pce"].dynamic
    assert registry.module("pce") is pce


def test_stochastic_mode_is_reproducible_for_a_seed() -> None:
    batch = ktab_batch("dummyData_3Dim")
    a = pce.solve(batch, pce.Params(stochastic=True, seed=7))
    b = pce.solve(batch, pce.Params(stochastic=True, seed=7))
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    others = [pce.solve(batch, pce.Params(stochastic=True, seed=s)).trajectory for s in (1, 2, 3)]
    assert any(o.shape != a.trajectory.shape or not np.array_equal(o, a.trajectory) for o in others)


def test_draws_do_not_depend_on_chunking() -> None:
    rng = np.random.default_rng(11)
    pos = rng.uniform(0, 100, (5, 6, 2))
    sal = rng.uniform(0.1, 0.5, (5, 6, 2))
    cap = rng.uniform(10, 200, (5, 6))
    batch = Batch.from_arrays(pos, sal, cap)
    whole = pce.solve(batch)
    split = pce.solve(batch, pce.Params(chunk_elements=1))
    np.testing.assert_allclose(whole.outcome, split.outcome)
    one = pce.solve(batch.take(slice(3, 4)))
    t = one.trajectory.shape[1]
    np.testing.assert_allclose(one.trajectory[0], whole.trajectory[3, :t])
    stoch = pce.solve(batch, pce.Params(stochastic=True, seed=3))
    stoch_split = pce.solve(batch, pce.Params(stochastic=True, seed=3, chunk_elements=1))
    np.testing.assert_allclose(stoch.outcome, stoch_split.outcome)


@pytest.mark.parametrize("params", [
    pce.Params(pce_model="markov_uniform"), pce.Params(pce_model="markov_incentive"),
    pce.Params(voting_rule="binary", victory_model="square"),
    pce.Params(big_r_range="max", big_r_adjust="full"),
    pce.Params(third_party="none", interpolation="s1p1"), pce.Params(third_party="full"),
    pce.Params(forecast="expected"), pce.Params(forecast="mode"),
])
def test_variants_run(params: pce.Params) -> None:
    batch = ktab_batch("dummyData_3Dim")
    out = pce.solve(batch, params)
    assert np.isfinite(out.outcome).all()
    assert ((out.outcome >= 0) & (out.outcome <= 100)).all()


def test_bad_params_rejected() -> None:
    with pytest.raises(ValueError, match="voting_rule"):
        pce.Params(voting_rule="majority")  # type: ignore[arg-type]


def test_forecast_is_the_centre_of_the_most_probable_cluster() -> None:
    x = np.array([[[0.40, 0.5], [0.41, 0.5], [0.9, 0.1]]])
    p = np.array([[0.3, 0.3, 0.4]])  # the two close positions together: 0.6
    c = np.array([[1.0, 3.0, 10.0]])
    out = pce.forecast(x, p, c, np.ones((3, 2), bool), pce.Params())
    np.testing.assert_allclose(out[0], [100 * (0.40 + 3 * 0.41) / 4, 50.0])
    mode = pce.forecast(x, p, c, np.ones((3, 2), bool), pce.Params(forecast="mode"))
    np.testing.assert_allclose(mode[0], [90.0, 10.0])


# --- properties --------------------------------------------------------------------------------
small = st.integers(2, 5).flatmap(
    lambda n: st.tuples(
        st.lists(st.lists(st.floats(0, 100), min_size=2, max_size=2), min_size=n, max_size=n),
        st.lists(st.lists(st.floats(0.05, 0.5), min_size=2, max_size=2), min_size=n, max_size=n),
        st.lists(st.floats(1, 200), min_size=n, max_size=n),
    )
)


@settings(max_examples=25, deadline=None)
@given(small)
def test_positions_stay_in_initial_hull(data) -> None:
    pos, sal, cap = (np.array(v) for v in data)
    out = pce.solve(Batch.from_arrays(pos, sal, cap))
    assert (out.trajectory[0] >= pos.min(axis=0) - 1e-9).all()
    assert (out.trajectory[0] <= pos.max(axis=0) + 1e-9).all()


@pytest.mark.parametrize("forecast", ["cluster", "mode"])
def test_tied_clusters_forecast_does_not_depend_on_actor_order(forecast: str) -> None:
    # Two equal actors 3 apart (beyond the 2.5 cluster radius): both positions are equally
    # probable and equally capable, so the tie goes to the lower coordinates, (0, 0), in
    # either order (it used to go to whichever actor came first).
    batch = Batch.from_arrays(np.array([[0.0, 3.0], [0.0, 0.0]]), np.array([[0.5, 0.5]] * 2),
                              np.array([1.0, 1.0]))
    for order in ([0, 1], [1, 0]):
        out = pce.solve(batch.permute_actors(np.array(order)), pce.Params(forecast=forecast))
        np.testing.assert_allclose(out.outcome[0], [0.0, 0.0])


@settings(max_examples=25, deadline=None)
@given(small, st.randoms(use_true_random=False))
def test_actor_order_does_not_matter(data, rnd) -> None:
    pos, sal, cap = (np.array(v) for v in data)
    batch = Batch.from_arrays(pos, sal, cap)
    order = np.array(rnd.sample(range(len(pos)), len(pos)))
    a = pce.solve(batch)
    b = pce.solve(batch.permute_actors(order))
    np.testing.assert_allclose(a.outcome, b.outcome, atol=1e-9)
    rows = np.column_stack([pos, sal, cap])
    if len(np.unique(rows, axis=0)) == len(rows):
        # identical actors tie as targets and the lower index wins (KTAB's rule), so which of
        # them moves depends on the order; the outcome above does not
        np.testing.assert_allclose(a.trajectory[:, :, order], b.trajectory, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=2, max_size=2), st.floats(0.05, 0.5), st.integers(1, 4))
def test_single_or_identical_actors_do_not_move(x, s, n) -> None:
    pos = np.tile(np.array(x), (n, 1))
    out = pce.solve(Batch.from_arrays(pos, np.full((n, 2), s), np.full(n, 50.0)))
    np.testing.assert_allclose(out.trajectory[0], np.broadcast_to(pos, out.trajectory[0].shape), atol=1e-9)
    np.testing.assert_allclose(out.outcome[0], x, atol=1e-9)


# --- the compiled engine -----------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_compiled_and_numpy_engines_agree_on_ktab_samples(name: str) -> None:
    pytest.importorskip("numba")
    batch = ktab_batch(name)
    fast = pce.solve(batch, pce.Params(engine="compiled"))
    slow = pce.solve(batch, pce.Params(engine="numpy"))
    assert fast.trajectory.shape == slow.trajectory.shape
    np.testing.assert_allclose(fast.trajectory, slow.trajectory, atol=1e-9)
    np.testing.assert_allclose(fast.outcome, slow.outcome, atol=1e-9)
    assert fast.info["rounds"][0] == slow.info["rounds"][0]
    fast_log, slow_log = pce.bargain_log(fast), pce.bargain_log(slow)
    # who adopted a bargain can differ where a bargain and the status quo tie exactly (same
    # position); the positions, compared above, cannot
    assert [(r["turn"], r["initiator"], r["target"]) for r in fast_log] == [
        (r["turn"], r["initiator"], r["target"]) for r in slow_log]
    np.testing.assert_allclose([r["eu_gain"] for r in fast_log], [r["eu_gain"] for r in slow_log],
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("params", "atol"), [
    (pce.Params(stochastic=True, seed=5), 1e-7),
    (pce.Params(voting_rule="asym_prosp", victory_model="quartic", big_r_range="min"), 1e-7),
    (pce.Params(third_party="none", interpolation="s1p1", bargain_decimals=None), 1e-7),
    # Markov PCEs iterate to a tolerance: the numpy engine stops when every election in the
    # batch has converged, the compiled one per election, so bargains can round differently
    (pce.Params(pce_model="markov_uniform"), 0.02),
])
def test_compiled_and_numpy_engines_agree_on_many_draws(params: pce.Params, atol: float) -> None:
    pytest.importorskip("numba")
    rng = np.random.default_rng(21)
    batch = Batch.from_arrays(rng.uniform(0, 100, (6, 7, 2)), rng.uniform(0.1, 0.5, (6, 7, 2)),
                              rng.uniform(10, 200, (6, 7)))
    fast = pce.solve(batch, replace(params, engine="compiled"))
    slow = pce.solve(batch, replace(params, engine="numpy"))
    np.testing.assert_allclose(fast.trajectory, slow.trajectory, atol=atol)
    np.testing.assert_array_equal(fast.info["rounds"], slow.info["rounds"])


def test_path_false_keeps_first_and_last_states_only() -> None:
    rng = np.random.default_rng(2)
    batch = Batch.from_arrays(rng.uniform(0, 100, (4, 6, 2)), rng.uniform(0.1, 0.3, (4, 6, 2)),
                              rng.uniform(1, 100, (4, 6)))
    full = pce.solve(batch)
    short = pce.solve(batch, pce.Params(path=False))
    assert short.trajectory.shape == (4, 2, 6, 2)
    np.testing.assert_array_equal(short.trajectory[:, 0], full.trajectory[:, 0])
    np.testing.assert_array_equal(short.trajectory[:, 1], full.trajectory[:, -1])
    np.testing.assert_array_equal(short.outcome, full.outcome)


def test_engines_are_bit_identical_on_bundled_draws() -> None:
    # `engine="auto"` picks numpy for small runs and numba for large ones: a draw's result must
    # not depend on that choice
    pytest.importorskip("numba")
    from parley.core import batch as batching
    from parley.io.loading import load

    b = batching.sample(load("ukraine-2025-05"), 60, seed=3)
    fast = pce.solve(b, pce.Params(engine="compiled"))
    slow = pce.solve(b, pce.Params(engine="numpy"))
    np.testing.assert_array_equal(fast.trajectory, slow.trajectory)
    np.testing.assert_array_equal(fast.info["rounds"], slow.info["rounds"])
    np.testing.assert_array_equal(fast.outcome, slow.outcome)
    np.testing.assert_array_equal(fast.info["final_win_probability"],
                                  slow.info["final_win_probability"])


def test_auto_engine_runs_small_work_with_numpy_and_long_runs_keep_two_states() -> None:
    assert not pce._use_compiled("auto", 1 * 50**3)  # one run of a 50-actor KTAB file
    assert not pce._use_compiled("numpy", 10**9)
    rng = np.random.default_rng(4)
    many = pce.PATH_DRAWS + 1
    batch = Batch.from_arrays(rng.uniform(0, 100, (many, 4, 1)), rng.uniform(0.1, 0.3, (many, 4, 1)),
                              rng.uniform(1, 100, (many, 4)))
    out = pce.solve(batch, pce.Params(engine="numpy"))
    assert out.trajectory.shape[1] == 2
    few = pce.solve(Batch.from_arrays(batch.position[:3], batch.salience[:3], batch.capability[:3]),
                    pce.Params(engine="numpy"))
    assert few.trajectory.shape[1] == few.info["rounds"].max() + 1
    np.testing.assert_array_equal(out.trajectory[:3, -1], few.trajectory[:, -1])


def test_ktab_conditional_pce_matches_the_log_form_and_survives_underflow() -> None:
    rng = np.random.default_rng(8)
    u = rng.uniform(0, 1, (2, 9, 6))
    w = rng.uniform(1, 100, (2, 9))
    exact = kern.ktab_conditional_pce("prop", w, u)
    c_mat = kern.coalitions("prop", w, u)
    np.testing.assert_allclose(exact, kern.pce("conditional", kern.victory("linear", c_mat)),
                               rtol=1e-12)
    # 1,100 equally good options: every product is 0.5^1100, below the smallest double; the
    # log form takes over and gives each the same chance
    same = np.full((1, 2, 1100), 0.5)
    p = kern.ktab_conditional_pce("prop", np.ones((1, 2)), same)
    np.testing.assert_allclose(p, 1 / 1100)
