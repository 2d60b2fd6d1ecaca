"""KTAB's spatial model of politics with probabilistic Condorcet elections (PCE).

Each turn every actor looks for the best challenge against another actor (judged from its own
view of everyone's risk attitude, with third parties joining the side they expect to pay off),
proposes a bargain between the two positions, and every actor then adopts, by a probabilistic
Condorcet election among the bargains that concern it (and the status quo), the most likely
one. Turns repeat until the movement dies down. Specification: ../shared/models/pce.md;
choices and differences from KTAB's program: docs/models/pce.md.

All issues are bargained together (positions are vectors). Everything is an array over draws:
[D, N, K] positions, [D, N, N] challenge tables, [D, N, N, N] third-party tables.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from parley.core.batch import Batch
from parley.models import _pce_kernel as kern
from parley.models.base import Outcome
from parley.models.engine_choice import use_compiled

SUMMARY = "KTAB's spatial bargaining model with probabilistic Condorcet elections"

BigRRange = Literal["mid", "min", "max"]
BigRAdjust = Literal["none", "one_third", "half", "two_thirds", "full"]
ThirdParty = Literal["semi", "none", "full"]
Interp = Literal["s2p2", "s1p1"]
Forecast = Literal["cluster", "expected", "mode"]
WinShown = Literal["last", "own"]

_ADJUST = {"none": 0, "one_third": 1, "half": 2, "two_thirds": 3, "full": 4}
"""Codes of `big_r_adjust` for the compiled engine (`est_nra`)."""


def est_nra(rh: np.ndarray, ri: np.ndarray, rule: str) -> np.ndarray:
    """h's estimate of i's risk attitude from their own, in KTAB's arithmetic (`Model::estNRA`):
    with "one_third" ((2 rh) + ri) / 3, so that h's estimate of its own is not always rh to
    the last bit, as in KTAB."""
    rh, ri = np.broadcast_arrays(rh, ri)
    if rule == "none":
        return rh.copy()
    if rule == "one_third":
        return ((2.0 * rh) + ri) / 3.0
    if rule == "half":
        return (rh + ri) / 2
    if rule == "two_thirds":
        return (rh + (2.0 * ri)) / 3.0
    return ri.copy()


@dataclass(frozen=True)
class Params:
    """Parameters, with KTAB's defaults (spec §7).

    - `voting_rule`: how a voter's utility difference becomes a vote (default "prop").
    - `victory_model`: coalition strengths -> victory probability ("linear": ratio).
    - `pce_model`: "conditional" (default), "markov_uniform", "markov_incentive".
    - `big_r_range`: range of the risk attitude R from position win probabilities
      ("mid": [-1/2, 1]; "min": [0, 1]; "max": [-1, 1]).
    - `big_r_adjust`: how much of the other actor's own R an actor uses when estimating it
      ("one_third": R_hi = (2 R_h + R_i) / 3; "none": own R; "full": i's R).
    - `third_party`: third-party commitment: "semi" (joins the loser's move only when its
      side loses), "none" (never moves), "full" (moves with its side either way).
    - `interpolation`: bargain point weights per dimension: "s2p2" (s^2 p^2) or "s1p1" (s p).
    - `bargain_decimals`: bargain coordinates are rounded half up to this many decimals on
      KTAB's internal 0–1 scale (4, i.e. 0.01 on 0–100, as KTAB's `round4`; None: no rounding).
    - `bargain_min_weight` (1e-6, KTAB's `minW` in `SMPActor::interpBrgnSnPm`): each side of a
      bargain adds this to its own weight, so initiator and receiver get their own coordinates
      (each nearer its own position; after rounding they differ by 0.01 now and then) and each
      election values the state with both. KTAB meant it to avoid 0/0; its side effect decides
      roundings. 0: one shared point (the clean version; the midpoint when both weights are 0).
    - `stochastic`: sample each actor's bargain with its PCE probability instead of taking
      the most probable; reproducible for `seed` (each draw has its own stream).
    - `max_turns` (100), `stop_ratio` (0.02): stop when the turn's total movement falls below
      stop_ratio x (first turn's movement + 1e-4), from turn 2 on; also stop when a state
      repeats exactly (a cycle, reported as oscillation).
    - `forecast`: outcome per issue: "cluster" (capability-weighted centre of the most probable
      cluster of final positions, clusters joining positions within `cluster_radius` on the
      0–100 scale), "expected" (win-probability-weighted mean of the distinct final positions)
      or "mode" (the single most probable final position).
    - `equivalence_tolerance` (0.1 on the 0–100 scale, KTAB's `posTol` = 1e-3 in
      `SMPState::equivNdx`): positions closer than this count as one position in the reported
      win probabilities. The dynamics do not use it, nor does the forecast (which groups
      identical positions only, so that it does not depend on actor order).
    - `win_probability_shown`: which group's probability an actor shows in the reported win
      probabilities. "last" (KTAB's `State::posProb`): that of the last group representative,
      in actor order, within the tolerance of the actor's position, which can be a neighbouring
      group's; "own": its own group's (the clean version).
    - `chunk_elements`: largest [draws x actors^3] block held in memory.
    - `explain`: record each turn's chosen bargains (automatic for a single draw).
    - `path`: return every state in `trajectory` (True) or only the initial and final ones
      (False: for large Monte Carlo runs, where [draws, up to 101 turns, N, K] would not fit);
      None (default): every state for runs of up to `PATH_DRAWS` draws, else the two.
    - `engine`: "compiled" (numba loops; without numba, a platform with no wheel, numpy), "numpy"
      (array operations over draws; the readable reference) or "auto" (compiled when numba is
      installed, except for small runs: `AUTO_NUMPY_WORK`). Both implement the same algorithm
      and give identical trajectories on every KTAB sample and on the bundled scenario's draws
      (bit for bit); as the dynamics are chaotic, a last-digit difference could in principle
      still send a run down another path.
    """

    voting_rule: kern.VotingRule = "prop"
    victory_model: kern.VictoryModel = "linear"
    pce_model: kern.PCEModel = "conditional"
    big_r_range: BigRRange = "mid"
    big_r_adjust: BigRAdjust = "one_third"
    third_party: ThirdParty = "semi"
    interpolation: Interp = "s2p2"
    bargain_decimals: int | None = 4
    stochastic: bool = False
    seed: int = 0
    max_turns: int = 100
    stop_ratio: float = 0.02
    forecast: Forecast = "cluster"
    cluster_radius: float = 2.5
    tolerance: float = 1e-9
    equivalence_tolerance: float = 0.1
    win_probability_shown: WinShown = "last"
    bargain_min_weight: float = 1e-6
    chunk_elements: int = 2_000_000
    explain: bool = False
    engine: Literal["auto", "compiled", "numpy"] = "auto"
    path: bool | None = None

    def __post_init__(self) -> None:
        choices = {
            "voting_rule": kern.VOTING_RULES,
            "victory_model": kern.VICTORY_MODELS,
            "pce_model": kern.PCE_MODELS,
            "big_r_range": ("mid", "min", "max"),
            "big_r_adjust": tuple(_ADJUST),
            "third_party": ("semi", "none", "full"),
            "interpolation": ("s2p2", "s1p1"),
            "forecast": ("cluster", "expected", "mode"),
            "engine": ("auto", "compiled", "numpy"),
            "win_probability_shown": ("last", "own"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if self.max_turns < 1:
            raise ValueError(f"max_turns must be >= 1, got {self.max_turns}")
        if self.stop_ratio < 0:
            raise ValueError(f"stop_ratio must be >= 0, got {self.stop_ratio}")
        if not self.bargain_min_weight >= 0:
            raise ValueError(f"bargain_min_weight must be >= 0, got {self.bargain_min_weight}")
        if self.equivalence_tolerance < 0:
            raise ValueError(f"equivalence_tolerance must be >= 0, got {self.equivalence_tolerance}")


# --- pieces of one turn ----------------------------------------------------------------------
def big_r(p: np.ndarray, rng: str) -> np.ndarray:
    """Risk attitude from each actor's position win probability p[D, N] (`bigRfromProb`)."""
    hi = p.max(axis=-1, keepdims=True)
    lo = p.min(axis=-1, keepdims=True)
    span = hi - lo
    ok = span > 1e-12
    den = np.where(ok, span, 1.0)
    if rng == "mid":
        r = (3.0 * p - (hi + 2.0 * lo)) / (2.0 * den)
    elif rng == "min":
        r = (p - lo) / den
    else:
        r = (2.0 * p - hi - lo) / den
    return np.where(ok, r, 0.0)


def _gaps(x: np.ndarray) -> np.ndarray:
    """[D, N, N]: Euclidean distances between positions (the scale of x)."""
    return np.sqrt(((x[:, :, None, :] - x[:, None, :, :]) ** 2).sum(axis=-1))


def _near(gap: np.ndarray, tol: float) -> np.ndarray:
    """Positions closer than tol (strictly) or identical, from `_gaps`."""
    return (gap < tol) | (gap == 0.0)


def equivalent_positions(x: np.ndarray, tol: float, gap: np.ndarray | None = None) -> np.ndarray:
    """Representative actor of each actor's position [D, N], as KTAB groups positions
    (`KBase::ueIndices` with `SMPState::equivNdx`).

    Actors are taken in order; an actor whose position lies within `tol` (Euclidean, on the 0–1
    scale, strictly) of an earlier representative's joins the first such, otherwise it
    represents a new position. With tol = 0 only identical positions are grouped. `gap`:
    `_gaps(x)`, if already computed.
    """
    dd, n, _ = x.shape
    near = _near(_gaps(x) if gap is None else gap, tol)
    rep = np.broadcast_to(np.arange(n), (dd, n)).copy()
    is_rep = np.ones((dd, n), bool)
    for i in range(1, n):
        cand = is_rep[:, :i] & near[:, i, :i]
        has = cand.any(axis=-1)
        rep[:, i] = np.where(has, np.argmax(cand, axis=-1), i)
        is_rep[:, i] = ~has
    return rep


def shown_representative(x: np.ndarray, tol: float, rule: str,
                         gap: np.ndarray | None = None) -> np.ndarray:
    """Whose group probability each actor shows [D, N] in the reported win probabilities.

    "last" (KTAB's `State::posProb`): the last representative, in actor order, within `tol` of
    the actor's position, which need not be the group the actor belongs to when groups lie
    closer than tol to each other. "own": the representative of the actor's own group.
    """
    gap = _gaps(x) if gap is None else gap
    rep = equivalent_positions(x, tol, gap)
    if rule == "own":
        return rep
    n = x.shape[1]
    is_rep = rep == np.arange(n)
    cand = _near(gap, tol) & is_rep[:, None, :]  # [D, actor, representative]
    return n - 1 - np.argmax(cand[..., ::-1], axis=-1)


def _grouped(x: np.ndarray, v: np.ndarray, c_mat: np.ndarray, params: Params, tol: float,
             gap: np.ndarray) -> np.ndarray:
    """The PCE among groups of positions within tol, shown per actor (`SMPState::pDist`,
    `State::posProb`)."""
    is_rep = equivalent_positions(x, tol, gap) == np.arange(x.shape[1])
    p = kern.pce(params.pce_model, v, c=c_mat, mask=is_rep)
    return np.take_along_axis(p, shown_representative(x, tol, params.win_probability_shown, gap),
                              axis=-1)


def position_probabilities(x: np.ndarray, y: np.ndarray, s: np.ndarray, c: np.ndarray,
                           r: np.ndarray, params: Params, distinct: bool) -> np.ndarray:
    """P(each actor's current position wins) [D, N], by a PCE with capability-weighted votes.

    With `distinct` (KTAB's reported column, `SMPState::pDist`), positions are first grouped as
    KTAB does (`equivalent_positions` with `params.equivalence_tolerance`): each group is one
    option, represented by its first actor's position, and every actor shows a group's
    probability as `params.win_probability_shown` says. Otherwise every actor's position is an
    option (KTAB's input to the risk attitudes, `SMPState::setAllAUtil`).
    """
    d = kern.distances(y, x, s)  # [D, voter, option]
    u = kern.bs_util(d, r[..., :, None])
    c_mat = kern.coalitions(params.voting_rule, c, u)
    v = kern.victory(params.victory_model, c_mat)
    if not distinct:
        return kern.pce(params.pce_model, v, c=c_mat)
    return _grouped(x, v, c_mat, params, params.equivalence_tolerance / 100.0, _gaps(x))


def final_probabilities(x: np.ndarray, s: np.ndarray, c: np.ndarray,
                        params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Win probabilities of the final positions x[D, N, K] (ideals = positions): KTAB's
    reported column (groups within `equivalence_tolerance`) and the one the forecast uses
    (identical positions grouped only). One pass: distances, utilities and coalitions are
    shared."""
    d = kern.distances(x, x, s)
    c0 = kern.coalitions(params.voting_rule, c, kern.bs_util(d, 0.0))
    r = big_r(kern.pce(params.pce_model, kern.victory(params.victory_model, c0), c=c0),
              params.big_r_range)
    r_self = est_nra(r, r, params.big_r_adjust)  # KTAB's aUtil[i](i, j) in `SMPState::pDist`
    c_mat = kern.coalitions(params.voting_rule, c, kern.bs_util(d, r_self[..., :, None]))
    v = kern.victory(params.victory_model, c_mat)
    gap = _gaps(x)
    shown = _grouped(x, v, c_mat, params, params.equivalence_tolerance / 100.0, gap)
    exact = _grouped(x, v, c_mat, _exact(params), 0.0, gap)
    return shown, exact


@dataclass(frozen=True)
class Challenges:
    """Each initiator's best challenge: target, its probability of prevailing, gain in EU."""

    target: np.ndarray  # [D, N] (-1: no challenge)
    p_win: np.ndarray  # [D, N] P_i[i beats target]
    gain: np.ndarray  # [D, N] EU gain of the best challenge
    p_all: np.ndarray  # [D, N, N] P_i[i beats j]
    gain_all: np.ndarray  # [D, N, N]


def risk_attitudes(x: np.ndarray, y: np.ndarray, s: np.ndarray, c: np.ndarray,
                   params: Params) -> np.ndarray:
    """Each actor's risk attitude [D, N] from the probability that its position wins a PCE
    among all actors' positions with risk-neutral utilities (`SMPState::setAllAUtil`). With
    KTAB's defaults (proportional votes, linear victory, conditional PCE) in KTAB's arithmetic
    to the last bit (`kern.ktab_conditional_pce`), as those bits break KTAB's exact ties."""
    u = kern.bs_util(kern.distances(y, x, s), 0.0)
    if params.victory_model == "linear" and params.pce_model == "conditional":
        p = kern.ktab_conditional_pce(params.voting_rule, c, u)
    else:
        c_mat = kern.coalitions(params.voting_rule, c, u)
        p = kern.pce(params.pce_model, kern.victory(params.victory_model, c_mat), c=c_mat)
    return big_r(p, params.big_r_range)


def best_challenges(d: np.ndarray, r_est: np.ndarray, s_tot: np.ndarray, c: np.ndarray,
                    params: Params) -> Challenges:
    """`bestChallengeUtils` for every initiator h = i at once.

    h's estimate of a's utility for b's position is au[h, a, b] = bs_util(d[a, b], R[h, a]),
    which is A[a, b] + R[h, a] B[a, b] with A = 1 - d and B = d (1 - d) (for d <= 1): only the
    third parties' table au[h, n, j] needs the [D, h, j, n] size. d[D, a, b] distances from
    ideals to positions, r_est[D, h, a] estimated risk attitudes, s_tot[D, N] total saliences.
    """
    n = c.shape[1]
    vr = params.voting_rule
    w = s_tot * c  # challenge weights c_i * sum_k s_ik
    idx = np.arange(n)
    a_mat = 1.0 - d
    b_mat = np.where(d <= 1.0, d * (1.0 - d), 1.0 - d)
    diag_a = a_mat[:, idx, idx]  # [D, a]
    diag_b = b_mat[:, idx, idx]
    r_self = r_est[:, idx, idx]  # [D, h]
    u_hh = diag_a + r_self * diag_b  # [D, h]
    u_hj = a_mat + r_self[:, :, None] * b_mat  # [D, h, j] = au[h, h, j]
    u_jh = np.swapaxes(a_mat, 1, 2) + r_est * np.swapaxes(b_mat, 1, 2)  # [D, h, j] = au[h, j, h]
    u_jj = diag_a[:, None, :] + r_est * diag_b[:, None, :]  # [D, h, j] = au[h, j, j]
    c_ij = 1e-10 + kern.vote_delta(vr, w[:, :, None], u_hh[:, :, None] - u_hj)  # >= 0
    c_ji = 1e-10 - kern.vote_delta(vr, w[:, None, :], u_jh - u_jj)  # >= 0
    if params.third_party == "semi":
        c_ij, c_ji = _third_parties(a_mat, b_mat, r_est, u_jh, u_jj, w, c_ij, c_ji, vr)
    # "none" and "full": with one p_in for both sides the two expected utilities coincide,
    # so third parties add nothing (docs/models/pce.md).
    p = c_ij / (c_ij + c_ji)
    s_j = s_tot[:, None, :]
    sq = u_hh[:, :, None] + u_hj
    vict = 2.0 * u_hh[:, :, None]
    contest = p * 2.0 * u_hh[:, :, None] + (1.0 - p) * 2.0 * u_hj
    gain = (1.0 - s_j) * vict + s_j * contest - sq
    gain[:, idx, idx] = -np.inf
    target = np.argmax(gain, axis=-1)
    best = np.take_along_axis(gain, target[..., None], axis=-1)[..., 0]
    ok = best > 1e-5
    p_best = np.take_along_axis(p, target[..., None], axis=-1)[..., 0]
    return Challenges(np.where(ok, target, -1), p_best, best, p, gain)


def _third_parties(a_mat: np.ndarray, b_mat: np.ndarray, r_est: np.ndarray, u_jh: np.ndarray,
                   u_jj: np.ndarray, w: np.ndarray, c_ij: np.ndarray, c_ji: np.ndarray,
                   vr: str) -> tuple[np.ndarray, np.ndarray]:
    """Add the semi-committed third parties' votes to both sides' strengths: [D, h, j] each.

    For a third party n, au[h, n, h] = u_jh[h, n], au[h, n, n] = u_jj[h, n] and
    au[h, n, j] = A[n, j] + R[h, n] B[n, j]. With L = au[h, n, j] - u_nn and
    a = u_nn - u_nh, n's own vote is vote(u_nh - u_nj) = vote(-(L + a)), and joining i rather
    than j is worth p_in (u_nn - u_nh) + (1 - p_in)(u_nj - u_nn) = L + p_in (a - L).
    Everything [D, h, j, n] is computed in place to keep the passes over memory few.
    """
    n = w.shape[1]
    idx = np.arange(n)
    u_nn = u_jj[:, :, None, :]  # [D, h, 1, n]
    a = u_nn - u_jh[:, :, None, :]  # u_nn - u_nh
    big = r_est[:, :, None, :] * np.swapaxes(b_mat, 1, 2)[:, None]  # [D, h, j, n]
    big += np.swapaxes(a_mat, 1, 2)[:, None]
    big -= u_nn  # L
    wn = w[:, None, None, :]
    v = big + a
    np.negative(v, out=v)  # u_nh - u_nj
    v = kern.vote_delta(vr, wn, v) if vr != "prop" else np.multiply(v, wn, out=v)
    total = (c_ij + c_ji)[..., None]
    p = np.abs(v)
    p += total
    np.maximum(v, 0.0, out=v)
    v += c_ij[..., None]
    np.divide(v, p, out=p)  # p_in
    a = a - big  # a - L, [D, h, j, n]
    a *= p
    a += big  # delta
    v3 = kern.vote_delta(vr, wn, a) if vr != "prop" else np.multiply(a, wn, out=a)
    v3[:, idx, :, idx] = 0.0  # n = h is a principal, not a third party
    v3[:, :, idx, idx] = 0.0  # n = j likewise
    net = v3.sum(axis=-1)
    mag = np.abs(v3, out=v3).sum(axis=-1)
    return c_ij + 0.5 * (mag + net), c_ji + 0.5 * (mag - net)


def bargains(x: np.ndarray, s: np.ndarray, ch: Challenges, interp: str,
             min_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates initiator i and its target would take in their bargain: [D, N, K] each.

    Per dimension the two positions are averaged with weights (s p)^2 (S2P2) or s p (S1P1).
    As KTAB's `SMPActor::interpBrgnSnPm` does, each side adds `min_weight` to its own weight, so
    the two sides get slightly different coordinates (each a little nearer its own position);
    with min_weight = 0 both share one point (the midpoint when both weights are 0).
    """
    tgt = np.maximum(ch.target, 0)
    xj = np.take_along_axis(x, tgt[..., None], axis=1)
    sj = np.take_along_axis(s, tgt[..., None], axis=1)
    pi = ch.p_win[..., None]
    pj = 1.0 - pi
    if interp == "s2p2":
        wi, wj = (s * s) * (pi * pi), (sj * sj) * (pj * pj)
    else:
        wi, wj = s * pi, sj * pj
    if min_weight > 0:
        tot = wi + min_weight + wj
        return ((wi + min_weight) * x + wj * xj) / tot, (wi * x + (min_weight + wj) * xj) / tot
    tot = wi + wj
    mid = (x + xj) / 2.0
    shared = np.where(tot > 0, (wi * x + wj * xj) / np.where(tot > 0, tot, 1.0), mid)
    return shared, shared


def _rounded(b: np.ndarray, x: np.ndarray, target: np.ndarray, decimals: int) -> np.ndarray:
    """Bargain coordinates rounded half up as KTAB's `round4` does (floor(0.5 + b 10^d) / 10^d),
    kept between the two parties' coordinates (rounding a point between positions with more
    decimals, as in parley's sampled draws, could otherwise step outside them)."""
    xj = np.take_along_axis(x, np.maximum(target, 0)[..., None], axis=1)
    scale = 10.0**decimals
    return np.clip(np.floor(0.5 + b * scale) / scale, np.minimum(x, xj), np.maximum(x, xj))


def resolve(x: np.ndarray, y: np.ndarray, s: np.ndarray, c: np.ndarray, r: np.ndarray,
            ch: Challenges, b_init: np.ndarray, b_rcvr: np.ndarray, params: Params,
            u_rand: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Each actor's election among the status quo and the bargains it takes part in
    (KTAB's `SMPState::updateBestBrgnPositions`).

    Bargain m moves its initiator m to b_init[m] and its target to b_rcvr[m]; every voter values
    the state that results (both moved coordinates, everyone else where they are). Returns the
    new positions [D, N, K] and the chosen option per actor [D, N] (0: status quo, m + 1: the
    bargain initiated by actor m).
    """
    dd, n, _ = x.shape
    valid = ch.target >= 0  # [D, m]
    rr = r[..., :, None]
    # a's utility of n's current position, judged with a's estimate of its own risk attitude
    # (KTAB's aUtil[a](a, n)); the bargain's moved coordinates with a's own R (`posUtil`)
    r_self = est_nra(r, r, params.big_r_adjust)[..., :, None]
    u_own = kern.bs_util(kern.distances(y, x, s), r_self)  # [D, a, n]
    u_bi = kern.bs_util(kern.distances(y, b_init, s), rr)  # [D, a, m]: of bargain m's init side
    u_br = (u_bi if b_rcvr is b_init
            else kern.bs_util(kern.distances(y, b_rcvr, s), rr))  # of its receiver side
    tgt = np.maximum(ch.target, 0)
    # the mean utility of each state, summed in KTAB's order (left to right: the status quo over
    # all actors; a bargain's two moved coordinates first, then everyone else's), so that ties
    # between mirror-image states break as in KTAB. Zeros in place of the two movers keep the
    # sequential sum exact.
    base = np.cumsum(u_own, axis=-1)[..., -1] / n  # [D, a]
    idx = np.arange(n)
    moved = (idx[None, :, None] == idx[None, None, :]) | (tgt[:, :, None] == idx[None, None, :])
    others = np.where(moved[:, None], 0.0, u_own[:, :, None, :])  # [D, a, m, n]
    seq = np.concatenate([u_bi[..., None], u_br[..., None], others], axis=-1)
    util_b = np.cumsum(seq, axis=-1)[..., -1] / n  # [D, a, m]
    util = np.concatenate([base[..., None], util_b], axis=-1)  # [D, a, 1 + N]
    c_mat = kern.coalitions(params.voting_rule, c, util)  # [D, M, M]
    v = kern.victory(params.victory_model, c_mat)
    eye = np.eye(n, dtype=bool)
    member = (eye[None] | (tgt[:, :, None] == np.arange(n)[None, None, :])) & valid[..., None]  # [D, m, k]
    queue = np.concatenate([np.ones((dd, n, 1), bool), np.swapaxes(member, 1, 2)], axis=-1)  # [D, k, M]
    p = kern.pce(params.pce_model, v[:, None], c=c_mat[:, None], mask=queue)  # [D, k, M]
    if u_rand is None:
        choice = np.argmax(p, axis=-1)
    else:
        cum = np.cumsum(p, axis=-1)
        choice = (cum < u_rand[..., None] * cum[..., -1:]).sum(axis=-1)
        choice = np.minimum(choice, n)
    # actor k in bargain m takes the initiator's side if k = m, else the receiver's
    side = np.where(eye[None, :, :, None], b_init[:, None], b_rcvr[:, None])  # [D, k, m, K]
    opts = np.concatenate([x[:, :, None, :], side], axis=2)  # [D, k, M, K]: option 0 = own
    new = np.take_along_axis(opts, choice[:, :, None, None], axis=2)[:, :, 0]
    return new, choice


# --- the turns -------------------------------------------------------------------------------
def _prepare(batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Internal arrays: positions on [0, 1], saliences with per-actor totals at most 1, c."""
    x = batch.position / 100.0
    s = np.where(batch.engaged[None], batch.salience, 0.0)
    tot = s.sum(axis=-1, keepdims=True)
    s = np.where(tot > 1.0, s / np.where(tot > 1.0, tot, 1.0), s)
    # an actor not engaged on an issue sits at the capability-weighted centre of those who are
    w = batch.capability[:, :, None] * batch.engaged[None]
    centre = (w * x).sum(axis=1, keepdims=True) / np.maximum(w.sum(axis=1, keepdims=True), 1e-300)
    x = np.where(batch.engaged[None], x, centre)
    return x, s, batch.capability.astype(float)


@dataclass
class _Trace:
    positions: list[np.ndarray]
    probs: list[np.ndarray]
    log: list[dict[str, np.ndarray]]
    forecast_probs: np.ndarray | None = None
    """Final win probabilities with identical positions only grouped (for the forecast)."""


def _run(x0: np.ndarray, s: np.ndarray, c: np.ndarray, params: Params, draw0: int,
         explain: bool) -> tuple[_Trace, np.ndarray, np.ndarray]:
    """The turns of a block of draws with array operations (the numpy engine)."""
    dd, n, _ = x0.shape
    x = x0.copy()
    y = x0.copy()
    s_tot = s.sum(axis=-1)
    rngs = ([np.random.default_rng([params.seed, draw0 + i]) for i in range(dd)]
            if params.stochastic else None)
    trace = _Trace([x.copy()], [], [])
    active = np.ones(dd, bool)
    turns = np.zeros(dd, int)
    status = np.zeros(dd, int)  # 0 running/cap, 1 converged, 2 oscillated
    first_move = np.zeros(dd)
    # Draws that have stopped are left out of the work (they keep their positions); the
    # explain log sees every draw, as it indexes draw 0.
    compact = not explain
    for t in range(1, params.max_turns + 1):
        at = np.nonzero(active)[0] if compact else np.arange(dd)
        xa, ya, sa, ca = x[at], y[at], s[at], c[at]
        r = risk_attitudes(xa, ya, sa, ca, params)
        r_est = est_nra(r[:, :, None], r[:, None, :], params.big_r_adjust)  # [D, h, i]
        d = kern.distances(ya, xa, sa)  # [D, a, b]
        ch = best_challenges(d, r_est, s_tot[at], ca, params)
        bi, br = bargains(xa, sa, ch, params.interpolation, params.bargain_min_weight)
        if params.bargain_decimals is not None:
            same = br is bi
            bi = _rounded(bi, xa, ch.target, params.bargain_decimals)
            br = bi if same else _rounded(br, xa, ch.target, params.bargain_decimals)
        # every draw's generator advances every turn, so a draw's path never depends on others
        u_rand = np.stack([g.random(n) for g in rngs])[at] if rngs is not None else None
        moved_a, choice = resolve(xa, ya, sa, ca, r, ch, bi, br, params, u_rand)
        new = x.copy()
        new[at] = np.where(active[at][:, None, None], moved_a, xa)
        if explain and params.explain:
            trace.probs.append(position_probabilities(
                xa, ya, sa, ca, est_nra(r, r, params.big_r_adjust), params, distinct=True))
        if explain:
            trace.log.append({"target": ch.target[0].copy(), "p_win": ch.p_win[0].copy(),
                              "gain": ch.gain[0].copy(), "bargain": bi[0].copy(),
                              "bargain_receiver": br[0].copy(),
                              "choice": choice[0].copy()})
        moved = np.sqrt(((new - x) ** 2).sum(axis=-1)).sum(axis=-1)  # D(t)
        if t == 1:
            first_move = moved
        stop = active & (t >= 2) & (moved / (first_move + 1e-4) < params.stop_ratio)
        cyc = np.zeros(dd, bool)
        for old in trace.positions[:-1]:
            cyc[at] |= np.abs(new[at] - old[at]).max(axis=(1, 2)) <= params.tolerance
        cyc &= active & ~stop & (moved > params.tolerance)
        turns = np.where(active, t, turns)
        status = np.where(stop, 1, np.where(cyc, 2, status))
        x = new
        y = x.copy()  # ideals follow positions (KTAB's CSV default: A = identity)
        active &= ~(stop | cyc)
        trace.positions.append(x.copy())
        if not active.any():
            break
    shown, exact = final_probabilities(x, s, c, params)
    trace.probs.append(shown)
    trace.forecast_probs = exact
    if not params.path:
        trace.positions[:] = [trace.positions[0], trace.positions[-1]]
    return trace, turns, status


def bargain_log(outcome: Outcome) -> list[dict[str, Any]]:
    """Plain records of the bargains proposed in each turn of draw 0 (for `--explain`):
    turn, initiator, target, its probability of prevailing, EU gain, the coordinates it offers
    the initiator (`bargain`) and the target (`bargain_target`; 0–100) and the actors who
    adopted it. Needs a solve with `explain=True` (automatic for one draw)."""
    turns = outcome.info.get("bargain_table")
    if turns is None:
        raise ValueError("no bargain log recorded: solve with Params(explain=True)")
    names = outcome.info["actors"]
    out = []
    for t, rec in enumerate(turns, start=1):
        for i in np.nonzero(rec["target"] >= 0)[0].tolist():
            out.append({
                "turn": t,
                "initiator": names[i],
                "target": names[int(rec["target"][i])],
                "p_initiator_wins": float(rec["p_win"][i]),
                "eu_gain": float(rec["gain"][i]),
                "bargain": (rec["bargain"][i] * 100.0).tolist(),
                "bargain_target": (rec["bargain_receiver"][i] * 100.0).tolist(),
                "adopted_by": [names[k] for k in np.nonzero(rec["choice"] == i + 1)[0].tolist()],
            })
    return out


def forecast(x: np.ndarray, p: np.ndarray, c: np.ndarray, engaged: np.ndarray,
             params: Params) -> np.ndarray:
    """Outcome per issue [D, K] (0–100) from final positions x[D, N, K] and their win
    probabilities p[D, N] (a position held by several actors shows the same p for each).

    Ties between equally probable clusters (or positions, for "mode") go to the one with more
    capability, then to the one with the lowest coordinates, so the forecast does not depend
    on the order of the actors."""
    n = x.shape[1]
    gap = _gaps(x)
    dist = gap * 100.0
    rep = equivalent_positions(x, params.equivalence_tolerance / 100.0, gap)
    mult = (rep[:, :, None] == rep[:, None, :]).sum(axis=-1)
    share = p / mult  # each group's probability spread over its members
    w_eng = c[:, :, None] * engaged[None]
    if params.forecast == "expected":
        return 100.0 * (share[..., None] * x).sum(axis=1) / share.sum(axis=1)[:, None]
    if params.forecast == "mode":
        same = (dist <= 1e-9).astype(float)
        best = _pick(p, same @ c[..., None], x)
        return 100.0 * np.take_along_axis(x, best[:, None, None], axis=1)[:, 0]
    link = dist <= params.cluster_radius
    for _ in range(max(1, int(np.ceil(np.log2(max(n, 2)))) + 1)):  # transitive closure
        link = (link.astype(np.float32) @ link.astype(np.float32)) > 0
    weight = (link * share[:, None, :]).sum(axis=-1)  # cluster probability seen by each actor
    lf = link.astype(float)
    mass = lf @ w_eng  # [D, N, K]: engaged capability of each actor's cluster
    centre = (lf @ (w_eng * x)) / np.maximum(mass, 1e-300)
    lead = _pick(weight, lf @ c[..., None], centre)  # one actor of the most probable cluster
    members = np.take_along_axis(link, lead[:, None, None], axis=1)[:, 0]  # [D, N]
    w = w_eng * members[..., None]
    tot = w.sum(axis=1)
    fallback = (w_eng * x).sum(axis=1) / np.maximum(w_eng.sum(axis=1), 1e-300)
    return 100.0 * np.where(tot > 0, (w * x).sum(axis=1) / np.where(tot > 0, tot, 1.0), fallback)


def _pick(score: np.ndarray, cap: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Index [D] of an actor with the highest score[D, N]; ties to the larger cap[D, N, 1], then
    to the lowest where[D, N, K] coordinates, one issue after another (order-independent)."""
    cand = score >= score.max(axis=-1, keepdims=True) - 1e-12
    cap = cap[..., 0]
    best_cap = np.where(cand, cap, -np.inf).max(axis=-1, keepdims=True)
    cand &= cap >= best_cap - 1e-9 * np.maximum(1.0, np.abs(best_cap))
    for k in range(where.shape[-1]):
        lo = np.where(cand, where[..., k], np.inf).min(axis=-1, keepdims=True)
        cand &= where[..., k] <= lo + 1e-12
    return np.argmax(cand, axis=-1)


CODES = {
    "voting_rule": {"prop": 0, "binary": 1, "prop_bin": 2, "prop_cbc": 3, "cubic": 4, "asym_prosp": 5},
    "victory_model": {"linear": 0, "square": 1, "quartic": 2, "octic": 3, "binary": 4},
    "pce_model": {"conditional": 0, "markov_uniform": 1, "markov_incentive": 2},
    "big_r_range": {"mid": 0, "min": 1, "max": 2},
    "third_party": {"semi": 0, "none": 1, "full": 2},
    "interpolation": {"s2p2": 0, "s1p1": 1},
}
"""Integer codes of the options, as the compiled engine takes them."""


def _run_compiled(x0: np.ndarray, s: np.ndarray, c: np.ndarray, params: Params, draw0: int,
                  explain: bool) -> tuple[_Trace, np.ndarray, np.ndarray]:
    """The turns of a block of draws in the compiled engine, returned like `_run`'s."""
    from parley.models import _pce_numba

    dd, n, k = x0.shape
    t_cap = params.max_turns
    codes = np.array([CODES[name][getattr(params, name)] for name in CODES], np.int64)
    if params.stochastic:
        u_rand = np.stack([np.random.default_rng([params.seed, draw0 + i]).random((t_cap, n))
                           for i in range(dd)])
    else:
        u_rand = np.zeros((dd, 0, n))
    # every state only when asked for (path, or per-turn win probabilities); the per-turn
    # bargain records only for draw 0's explain log
    full = params.path or (explain and params.explain)
    traj = np.zeros((dd, t_cap + 1 if full else 2, n, k))
    n_log = 1 if explain else 0
    tgt = np.zeros((n_log, t_cap, n), np.int64)
    p_win = np.zeros((n_log, t_cap, n))
    gain = np.zeros((n_log, t_cap, n))
    barg = np.zeros((n_log, t_cap, n, k))
    barg_r = np.zeros((n_log, t_cap, n, k))
    choice = np.zeros((n_log, t_cap, n), np.int64)
    decimals = -1 if params.bargain_decimals is None else int(params.bargain_decimals)
    turns, status = _pce_numba.run_draws(
        np.ascontiguousarray(x0), np.ascontiguousarray(s), np.ascontiguousarray(c), codes,
        _ADJUST[params.big_r_adjust], decimals, float(params.bargain_min_weight), u_rand, t_cap,
        params.stop_ratio, params.tolerance, traj, tgt, p_win, gain, barg, barg_r, choice,
    )
    if full:
        t_max = int(turns.max()) + 1
        traj = traj[:, :t_max]
        later = np.arange(t_max)[None, :] > turns[:, None]  # states after a draw stopped
        last = traj[np.arange(dd), turns]
        traj = np.where(later[:, :, None, None], last[:, None], traj)
    else:
        t_max = 2
    states = range(t_max) if params.path else (0, t_max - 1)
    trace = _Trace([traj[:, t].copy() for t in states], [], [])
    if explain:
        for t in range(int(turns[0])):
            trace.log.append({"target": tgt[0, t], "p_win": p_win[0, t], "gain": gain[0, t],
                              "bargain": barg[0, t], "bargain_receiver": barg_r[0, t],
                              "choice": choice[0, t]})
    if explain and params.explain:
        for t in range(t_max - 1):
            xt = traj[:, t]
            r_t = big_r(position_probabilities(xt, xt, s, c, np.zeros((dd, n)), params, False),
                        params.big_r_range)
            trace.probs.append(position_probabilities(
                xt, xt, s, c, est_nra(r_t, r_t, params.big_r_adjust), params, distinct=True))
    x = traj[:, -1]
    shown, exact = final_probabilities(x, s, c, params)
    trace.probs.append(shown)
    trace.forecast_probs = exact
    return trace, turns.astype(int), status.astype(int)


def _exact(params: Params) -> Params:
    """The same parameters grouping only identical positions: the forecast uses these, so that
    it does not depend on the order of the actors (KTAB's grouping of nearly equal positions
    does, through which actor represents a group)."""
    return replace(params, equivalence_tolerance=0.0)


def relative_cost(params: Params) -> float:
    """Time per draw relative to the compromise model on the bundled scenario, as `simulate`
    uses it to decide on a process pool. numpy: about 1,200 draws/s against 200,000/s. Compiled:
    about 8,000 draws/s of CPU (10,000 draws in 1.2 s, December), but a worker process that has
    not loaded numba yet first spends 0.4–1 s doing so, while workers forked after the parent
    ran the compiled engine inherit it; the figure (15, not 25) keeps runs of up to about 13,000
    draws inline, so that the parent loads numba once and later pools inherit it."""
    return 15.0 if _use_compiled(params.engine) else 170.0


def one_run_params(params: Params) -> Params:
    """Params for a single run (a forecast of a scenario without uncertain inputs): "auto"
    takes the numpy engine, which answers in milliseconds, where loading the compiled one
    takes a second or more."""
    return replace(params, engine="numpy") if params.engine == "auto" else params


AUTO_NUMPY_WORK = 150_000
"""With engine "auto", runs of at most this many draws x actors^3 use the numpy engine: loading
numba and its cached machine code takes 0.4–1 s (a first compile 20–60 s), more than the numpy
engine needs for one run of a 50-actor KTAB file (about 0.3 s) or 100 draws of 7 actors. The
engines give identical trajectories (tested), so the choice changes only the time."""


def compiles_first(params: Params, draws: int, n_actors: int, n_issues: int) -> bool:
    """Whether this run would first compile the compiled engine (no machine code cached yet)."""
    if not _use_compiled(params.engine, draws * n_actors**3):
        return False
    from parley.models import _numba_cache, _pce_numba

    return not _numba_cache.warm(_pce_numba.run_draws)


def _use_compiled(engine: str, work: float | None = None) -> bool:
    """Whether to run the compiled engine; `work` = draws x actors^3 of the run, if known."""
    return use_compiled(engine, work is None or work > AUTO_NUMPY_WORK, once_loaded=False)


PATH_DRAWS = 256
"""Runs of up to this many draws keep every state by default (`Params.path`): those who look at
paths run one or a few draws, while a Monte Carlo run of 10,000 draws would otherwise carry
[10,000, up to 101, N, K] states it does not use (280 MB for 7 actors x 5 issues)."""


def solve(batch: Batch, params: Params | None = None) -> Outcome:
    """Run KTAB's bargaining turns for every draw; outcome per `params.forecast`."""
    params = params or Params()
    x, s, c = _prepare(batch)
    d, n, k = x.shape
    if params.path is None:
        params = replace(params, path=d <= PATH_DRAWS)
    explain = params.explain or d == 1
    parts = []
    if _use_compiled(params.engine, d * n**3):
        per_draw = (params.max_turns + 1) * n * (k + 1) * 2 + n * n * 8
        step = max(1, params.chunk_elements // per_draw)
        for a in range(0, d, step):
            sl = slice(a, min(d, a + step))
            parts.append(_run_compiled(x[sl], s[sl], c[sl], params, a, explain and a == 0))
    else:
        step = max(1, params.chunk_elements // max(1, n**3 * 6))
        for a in range(0, d, step):
            sl = slice(a, min(d, a + step))
            parts.append(_run(x[sl], s[sl], c[sl], params, a, explain and a == 0))
    t_max = max(len(tr.positions) for tr, _, _ in parts)
    traj = np.concatenate([_pad(np.stack(tr.positions, axis=1), t_max) for tr, _, _ in parts])
    final_p = np.concatenate([tr.probs[-1] for tr, _, _ in parts])
    forecast_p = np.concatenate([tr.forecast_probs for tr, _, _ in parts])
    turns = np.concatenate([t for _, t, _ in parts])
    status = np.concatenate([st for _, _, st in parts])
    final = traj[:, -1]
    out = forecast(final, forecast_p, c, batch.engaged, _exact(params))
    info: dict[str, Any] = {
        "rounds": turns,
        "converged": status == 1,
        "oscillated": status == 2,
        "cap": status == 0,
        "final_win_probability": final_p,
        "forecast": params.forecast,
    }
    if explain:
        first = parts[0][0]
        if params.explain:
            info["win_probability"] = _pad(np.stack(first.probs, axis=1), t_max)[:1]
        info["bargain_table"] = first.log
        info["actors"] = batch.actors
    return Outcome(outcome=out, agreement=np.ones(d, bool), trajectory=traj * 100.0, info=info)


def _pad(a: np.ndarray, t: int) -> np.ndarray:
    """Hold the last state along axis 1 up to length t (draws that stopped earlier)."""
    if a.shape[1] == t:
        return a
    return np.concatenate([a, np.repeat(a[:, -1:], t - a.shape[1], axis=1)], axis=1)
