"""bdm's reading="scholz_code" against the implementation that reproduces Scholz et al.'s Table 2.

Reference: jmckib/bdm-scholz-expected-utility-model @55f63e9, a Python port that "follows
Scholz' original code" (Scholz, Calbert & Smith 2011, Table 2), run on the EC car-emissions case
(Bueno de Mesquita 1994, p. 78) with Q = 1; outputs from ../shared/reference/bdm/ (README and
ec_jmckib_positions.tsv). The repository states no licence, so only the numbers this test needs
are kept here, with this citation; no code of it is used.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.test_bdm import scenarios

from parley.core.batch import Batch
from parley.models import bdm
from parley.models.base import Outcome

EC_ACTORS = ("NL", "BE", "LU", "DE", "FR", "IT", "UK", "IE", "DK", "GR")
EC_CAP = np.array([0.08, 0.08, 0.03, 0.16, 0.16, 0.16, 0.16, 0.05, 0.05, 0.08])
EC_YEARS = np.array([4, 7, 4, 4, 10, 10, 10, 7, 4, 7.0])
EC_SAL = np.array([80, 40, 20, 80, 60, 60, 90, 10, 100, 70]) / 100


def years(v: np.ndarray | float) -> np.ndarray:
    return 4 + np.asarray(v) / 100 * 6


def ec_batch() -> Batch:
    """Bueno de Mesquita (1994) table p. 78, as in Scholz et al. (2011) table 1 (and tests/test_bdm.py)."""
    pos = (EC_YEARS - 4) / 6 * 100
    return Batch.from_arrays(pos[:, None], EC_SAL[:, None], EC_CAP, actors=EC_ACTORS)

JMCKIB_POSITIONS = np.array([  # state 0-10 x (NL, BE, LU, DE, FR, IT, UK, IE, DK, GR), years
    [4, 7, 4, 4, 10, 10, 10, 7, 4, 7],
    [4, 8.41593231543, 7, 4, 10, 10, 10, 4, 4, 7],
    [4, 9.61085913412, 8.41593231543, 4, 10, 10, 10, 7, 4, 7],
    [4, 9.9619795904, 9.61085913412, 4, 10, 10, 10, 8.41593231543, 4, 7],
    [4, 4.80088114063, 9.9619795904, 4, 10, 10, 10, 9.61085913412, 4, 7],
    [4, 5.5242376942, 4.80088114063, 4, 10, 10, 10, 9.9619795904, 4, 7],
    [4, 7.47204636192, 5.5242376942, 4, 10, 10, 10, 5.5242376942, 4, 7],
    [4, 8.82459385526, 7.47204636192, 4, 10, 10, 10, 7.47204636192, 4, 7],
    [4, 9.6711297698, 8.82459385526, 4, 10, 10, 10, 8.82459385526, 4, 7],
    [4, 4.1448490625, 9.6711297698, 4, 10, 10, 10, 9.6711297698, 4, 7],
    [4, 4.29154122498, 4.1448490625, 4, 10, 10, 10, 4.1448490625, 4, 7],
])
JMCKIB_MEDIANS = [8.415932, 9.610859, 9.961980, 9.961980, 9.961980, 7.472046, 8.824594, 9.671130,
                  9.671130, 7.000000]  # after rounds 1-10
JMCKIB_MEANS = [7.461314, 7.552501, 7.590145, 7.358131, 7.349174, 7.414878, 7.510457, 7.572447,
                7.324989, 7.242131]


def scholz_run() -> Outcome:
    return bdm.solve(ec_batch(), bdm.Params(reading="scholz_code"))


def test_medians_and_means_per_round_equal_jmckib() -> None:
    out = scholz_run()
    np.testing.assert_allclose(years(out.info["median"][0, 1:11, 0]), JMCKIB_MEDIANS, atol=1e-6)
    np.testing.assert_allclose(years(out.info["mean"][0, 1:11, 0]), JMCKIB_MEANS, atol=1e-6)


def test_every_actor_in_every_state_equals_jmckib() -> None:
    # The reference prints 11 decimals; parley agrees to about 4e-12 years.
    out = scholz_run()
    assert out.trajectory.shape[1] == 11  # never converges nor cycles within 10 rounds
    got = years(out.trajectory[0, :, :, 0])
    for state in range(11):
        bad = np.flatnonzero(np.abs(got[state] - JMCKIB_POSITIONS[state]) > 1e-9)
        assert bad.size == 0, (f"state {state}: first diverging actor {EC_ACTORS[bad[0]]}: "
                               f"{got[state, bad[0]]} vs jmckib {JMCKIB_POSITIONS[state, bad[0]]}")


def test_round1_france_and_belgium_as_the_reference_reads_them() -> None:
    # ../shared/reference/bdm/README.md: with Belgium's exponent r_BE = 0.754 France's challenge
    # of Belgium is worth E = +0.2433 and Belgium's counter-challenge E = -0.1148, a compromise:
    # Belgium is offered 7 + 3 * 0.1148 / 0.2433 = 8.4159 years and (no conflict offer) takes it.
    out = scholz_run()
    log = bdm.challenge_log(out)
    fr_be = next(c for c in log if c["round"] == 1 and c["challenger"] == "FR" and c["target"] == "BE")
    assert fr_be["kind"] == "compromise"
    assert fr_be["eu_challenger"] == pytest.approx(0.2433, abs=1e-4)
    assert fr_be["eu_target"] == pytest.approx(-0.1148, abs=1e-4)
    assert years(fr_be["offer"]) == pytest.approx(7 + 3 * abs(fr_be["eu_target"] / fr_be["eu_challenger"]))
    taken = [c for c in log if c["round"] == 1 and c["accepted"]]
    assert {(c["target"], round(float(years(c["offer"])), 4)) for c in taken} == {
        ("BE", 8.4159), ("LU", 7.0), ("IE", 4.0)}
    assert not any(c["kind"] == "capitulation" for c in log)


def test_pooled_denominator_by_hand() -> None:
    # A at 0 (w 3), B at 100 (1), C at 40 (1). Sum over k of |v_k(a, b)| per ordered pair:
    # (A, B) 300 + 100 + 20 = 420; (A, C) 120 + 40 + 40 = 200; (B, C) 180 + 60 + 60 = 300;
    # each twice: 1840. P_AB = positive votes for A (A's 300 and C's 20) / 1840.
    x = np.array([[0.0, 100.0, 40.0]])
    w = np.array([[3.0, 1.0, 1.0]])
    act = np.ones_like(x, bool)
    p = bdm.win_probability(x, w, act, pooled=True)
    assert p[0, 0, 1] == pytest.approx(320 / 1840)
    assert p[0, 1, 0] == pytest.approx(100 / 1840)
    assert p[0, 2, 0] == pytest.approx((40 + 40) / 1840)  # C vs A: B's and C's votes


def test_risk_adjusted_votes_by_hand() -> None:
    # Same actors, Delta = 100, r = (2, 1, 1/2): v_k(A, B) = w_k (d_kB^r_k - d_kA^r_k):
    # A 3 (1 - 0) = 3, B 1 (0 - 1) = -1, C (0.6^.5 - 0.4^.5) = 0.1421 -> P_AB = 3.1421 / 4.1421.
    x = np.array([[0.0, 100.0, 40.0]])
    w = np.array([[3.0, 1.0, 1.0]])
    act = np.ones_like(x, bool)
    r = np.array([2.0, 1.0, 0.5])
    dist = (np.abs(x[:, :, None] - x[:, None, :]) / 100.0) ** r[None, None, :]
    c = 0.6**0.5 - 0.4**0.5
    assert bdm.win_probability(x, w, act, dist=dist)[0, 0, 1] == pytest.approx((3 + c) / (4 + c))


def test_reading_fills_only_unset_fields() -> None:
    p = bdm.Params(reading="scholz_code", acceptance="least_move")
    assert (p.acceptance, p.p_denominator, p.eu_exponent, p.votes, p.capitulation, p.delta) == (
        "least_move", "pooled", "receiver", "risk", "never", "initial")
    spec = bdm.Params()
    assert (spec.acceptance, spec.p_denominator, spec.eu_exponent, spec.votes, spec.capitulation,
            spec.delta) == ("least_move", "pair", "own", "linear", "offer", "current")
    with pytest.raises(ValueError, match="target_view"):
        bdm.Params(reading="scholz_code", target_view="neutral")
    with pytest.raises(ValueError, match="reading"):
        bdm.Params(reading="paper")


def test_capitulation_never_fires_when_switched_off() -> None:
    rng = np.random.default_rng(11)
    batch = Batch.from_arrays(rng.uniform(0, 100, (40, 6, 1)), rng.uniform(0.05, 1, (40, 6, 1)),
                              rng.uniform(1, 9, (40, 6)))
    on = bdm.solve(batch, bdm.Params(rounds=3, explain=True))
    off = bdm.solve(batch, bdm.Params(rounds=3, explain=True, capitulation="never"))
    assert (on.info["challenge_table"]["kind"] == 3).any()  # the case exists here
    assert not (off.info["challenge_table"]["kind"] == 3).any()


@settings(max_examples=30, deadline=None)
@given(scenarios, st.randoms(use_true_random=False))
def test_scholz_reading_ignores_actor_order_and_stays_in_the_hull(
        data: tuple[list[float], list[float], list[float]], rnd) -> None:
    pos, sal, cap = (np.array(v) for v in data)
    batch = Batch.from_arrays(pos[:, None], sal[:, None], cap)
    order = np.array(rnd.sample(range(len(pos)), len(pos)))
    params = bdm.Params(reading="scholz_code", rounds=5)
    a = bdm.solve(batch, params)
    b = bdm.solve(batch.permute_actors(order), params)
    np.testing.assert_allclose(a.trajectory[:, :, order], b.trajectory, atol=1e-9)
    assert (a.trajectory >= pos.min() - 1e-9).all() and (a.trajectory <= pos.max() + 1e-9).all()
