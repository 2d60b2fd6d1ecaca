"""Bueno de Mesquita's challenge model: hand-computed cases, the EC emissions case, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.batch import Batch
from parley.models import bdm, registry

EC_ACTORS = ("NL", "BE", "LU", "DE", "FR", "IT", "UK", "IE", "DK", "GR")
EC_CAP = np.array([0.08, 0.08, 0.03, 0.16, 0.16, 0.16, 0.16, 0.05, 0.05, 0.08])
EC_YEARS = np.array([4, 7, 4, 4, 10, 10, 10, 7, 4, 7.0])
EC_SAL = np.array([80, 40, 20, 80, 60, 60, 90, 10, 100, 70]) / 100


def years(v: np.ndarray) -> np.ndarray:
    return 4 + np.asarray(v) / 100 * 6


def ec_batch() -> Batch:
    """Bueno de Mesquita (1994) table p. 78, as in Scholz et al. (2011) table 1."""
    pos = (EC_YEARS - 4) / 6 * 100
    return Batch.from_arrays(pos[:, None], EC_SAL[:, None], EC_CAP, actors=EC_ACTORS)


def test_registered_as_dynamic() -> None:
    info = registry.MODELS["bdm"]
    assert info.dynamic
    assert registry.module("bdm") is bdm


def test_two_equal_actors_make_no_offers() -> None:
    # P = 1/2, d = 1: EU = s_j (2/2 - 2/2) + 0 - U_sq(=0 at r=1) = 0, so nobody moves and the
    # median voter is the midpoint of the two tied positions.
    out = bdm.solve(Batch.from_arrays([[0.0], [100.0]], [[1.0], [1.0]], [1.0, 1.0]))
    assert out.trajectory.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(out.trajectory[0, -1, :, 0], [0.0, 100.0])
    assert out.outcome[0, 0] == pytest.approx(50.0)
    assert out.info["converged"][0]
    assert bdm.challenge_log(out) == []


def test_compromise_worked_by_hand() -> None:
    # A at 0 (c=3, s=1), B at 100 (c=1, s=1/2). P_AB = 3/3.5 = 6/7.
    # r = 1: EU_A = 1/2 (6/7*2 - 1/7*2) + 1/2*2 = 12/7; EU_B = 1/7*2 - 6/7*2 = -10/7.
    # R_A = EU_B(B->A) = -10/7 (min) -> R^ = -1 -> r_A = 2; R_B = 12/7 -> r_B = 1/2.
    # With risk: U_sq,A = 2 - 4/4 = 1 -> EU_A = 5/7 + 1 - 1 = 5/7;
    #            U_sq,B = 2 - 4/sqrt(2) -> EU_B = -10/7 - 2 + 2 sqrt(2).
    # EU_A > 0 > EU_B and EU_A > |EU_B|: compromise; B is offered
    # 100 + (0 - 100) |EU_B / EU_A| = 100 (2.8 sqrt(2) - 3.8). The geometry repeats each round
    # (distances scale with the range), so B's position after t rounds is 100 f^t.
    f = 2.8 * math.sqrt(2) - 3.8
    batch = Batch.from_arrays([[0.0], [100.0]], [[1.0], [0.5]], [3.0, 1.0], actors=("A", "B"))
    out = bdm.solve(batch, bdm.Params(rounds=4))
    np.testing.assert_allclose(out.trajectory[0, :, 1, 0], [100 * f**t for t in range(5)], rtol=1e-9)
    np.testing.assert_allclose(out.trajectory[0, :, 0, 0], 0.0)
    first = [c for c in bdm.challenge_log(out) if c["round"] == 1]
    assert first == [
        {
            "round": 1, "issue": "k0", "challenger": "A", "target": "B", "kind": "compromise",
            "eu_challenger": pytest.approx(5 / 7), "eu_target": pytest.approx(-10 / 7 - 2 + 2 * math.sqrt(2)),
            "from": 100.0, "offer": pytest.approx(100 * f), "accepted": True,
        }
    ]
    assert out.outcome[0, 0] == pytest.approx(0.0)  # A holds the weighted median throughout


def test_ec_emissions_initial_median_and_mean() -> None:
    # Weight c*s at 4 years: .064+.006+.128+.05 = .248; at 7: .032+.005+.056 = .093;
    # at 10: .096+.096+.144 = .336. 7 beats 10 by .341 to .336 and beats 4 by .429 to .248,
    # so the weighted Condorcet winner of the initial positions is 7 years; the weighted mean
    # is 5.003/.677 = 7.39 ("about 7.4", data/cases/README.md).
    out = bdm.solve(ec_batch())
    assert years(out.info["median"][0, 0, 0]) == pytest.approx(7.0)
    assert years(out.info["mean"][0, 0, 0]) == pytest.approx(5.003 / 0.677, abs=1e-3)


def test_ec_emissions_first_round_moves() -> None:
    # Round 1 offers computed from the specification's equations (see docs/models/bdm.md,
    # "EC emissions case"): the UK, at 10 years, accepts the least-moving offer it gets.
    out = bdm.solve(ec_batch())
    log = bdm.challenge_log(out)
    uk = [c for c in log if c["round"] == 1 and c["target"] == "UK"]
    assert uk, "the UK receives offers in round 1"
    taken = [c for c in uk if c["accepted"]]
    assert len(taken) == 1
    assert min(abs(c["offer"] - 100.0) for c in uk) == pytest.approx(abs(taken[0]["offer"] - 100.0))
    assert years(out.trajectory[0, 1, EC_ACTORS.index("UK"), 0]) == pytest.approx(years(taken[0]["offer"]))


def test_status_flags_and_shapes_for_many_draws() -> None:
    rng = np.random.default_rng(3)
    pos = rng.uniform(0, 100, (7, 6, 3))
    sal = rng.uniform(0.1, 1, (7, 6, 3))
    cap = rng.uniform(1, 10, (7, 6))
    out = bdm.solve(Batch.from_arrays(pos, sal, cap))
    assert out.outcome.shape == (7, 3)
    assert out.trajectory.shape[0] == 7 and out.trajectory.shape[2:] == (6, 3)
    flags = out.info["converged"].astype(int) + out.info["oscillated"] + out.info["cap"]
    assert (flags == 1).all()
    assert out.agreement.all()
    assert "challenge_table" not in out.info  # only recorded for one draw unless asked


def test_draws_are_independent_of_batching() -> None:
    rng = np.random.default_rng(5)
    pos = rng.uniform(0, 100, (6, 5, 2))
    sal = rng.uniform(0.1, 1, (6, 5, 2))
    cap = rng.uniform(1, 10, (6, 5))
    whole = bdm.solve(Batch.from_arrays(pos, sal, cap), bdm.Params(chunk_elements=1))
    for d in (0, 4):
        one = bdm.solve(Batch.from_arrays(pos[d:d + 1], sal[d:d + 1], cap[d:d + 1]))
        np.testing.assert_allclose(one.outcome[0], whole.outcome[d])
        t = one.trajectory.shape[1]
        np.testing.assert_allclose(one.trajectory[0], whole.trajectory[d, :t])


def test_unengaged_actor_neither_moves_nor_counts() -> None:
    pos = np.array([[0.0, 10.0], [100.0, 90.0], [40.0, 50.0]])
    engaged = np.array([[True, True], [True, True], [False, True]])
    sal = np.full((3, 2), 0.8)
    out = bdm.solve(Batch.from_arrays(pos, sal, [3.0, 1.0, 50.0], engaged=engaged))
    np.testing.assert_allclose(out.trajectory[0, :, 2, 0], 40.0)
    only_two = bdm.solve(Batch.from_arrays(pos[:2, :1], sal[:2, :1], [3.0, 1.0]))
    np.testing.assert_allclose(out.outcome[0, 0], only_two.outcome[0, 0])


def test_q_half_and_other_options_run() -> None:
    for params in (bdm.Params(q=0.5), bdm.Params(q=0.5, t_rule="fixed", t=0.3),
                   bdm.Params(acceptance="strongest"), bdm.Params(forecast="mean")):
        out = bdm.solve(ec_batch(), params)
        assert 0.0 <= out.outcome[0, 0] <= 100.0


def test_bad_params_rejected() -> None:
    with pytest.raises(ValueError):
        bdm.Params(q=1.5)
    with pytest.raises(ValueError):
        bdm.Params(rounds=0)


# --- properties ------------------------------------------------------------------------------
scenarios = st.integers(2, 6).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0, 100), min_size=n, max_size=n),
        st.lists(st.floats(0.05, 1), min_size=n, max_size=n),
        st.lists(st.floats(0.5, 10), min_size=n, max_size=n),
    )
)


@settings(max_examples=40, deadline=None)
@given(scenarios)
def test_positions_stay_in_initial_hull(data: tuple[list[float], list[float], list[float]]) -> None:
    pos, sal, cap = (np.array(v) for v in data)
    out = bdm.solve(Batch.from_arrays(pos[:, None], sal[:, None], cap))
    assert (out.trajectory >= pos.min() - 1e-9).all()
    assert (out.trajectory <= pos.max() + 1e-9).all()
    assert pos.min() - 1e-9 <= out.outcome[0, 0] <= pos.max() + 1e-9


@settings(max_examples=40, deadline=None)
@given(scenarios, st.randoms(use_true_random=False))
def test_actor_order_does_not_matter(data: tuple[list[float], list[float], list[float]], rnd) -> None:
    pos, sal, cap = (np.array(v) for v in data)
    batch = Batch.from_arrays(pos[:, None], sal[:, None], cap)
    order = np.array(rnd.sample(range(len(pos)), len(pos)))
    a = bdm.solve(batch)
    b = bdm.solve(batch.permute_actors(order))
    np.testing.assert_allclose(a.outcome, b.outcome, atol=1e-9)
    np.testing.assert_allclose(a.trajectory[:, :, order], b.trajectory, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.floats(0, 100), st.floats(0.05, 1), st.floats(0.5, 10), st.integers(1, 5))
def test_single_or_identical_actors_do_not_move(x: float, s: float, c: float, n: int) -> None:
    out = bdm.solve(Batch.from_arrays(np.full((n, 1), x), np.full((n, 1), s), np.full(n, c)))
    np.testing.assert_allclose(out.trajectory, x)
    assert out.outcome[0, 0] == pytest.approx(x)
    assert out.info["converged"][0]
