"""Candidate exchanges of the Stokman–Van Oosten model, computed for all draws at once.

A candidate is an unordered pair of actors (i < j) and an unordered pair of issues (p < q).
Which actor demands on which issue follows from the saliences: the actor that cares relatively
more about p (s_ip s_jq > s_iq s_jp) demands on p and supplies on q. Everything here is a
pure function of the current state, so the round loop in `exchange.py` can recompute it.

Naming: `a` is the actor demanding on p (supplying on q), `b` the one demanding on q
(supplying on p). `dp`, `dq` are the shifts of the outcome on p and q the exchange causes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pairs:
    """Static index arrays of every (actor pair, issue pair) combination, length C."""

    i: np.ndarray
    j: np.ndarray
    p: np.ndarray
    q: np.ndarray

    @classmethod
    def build(cls, n_actors: int, n_issues: int) -> Pairs:
        ai, aj = np.triu_indices(n_actors, k=1)
        ip, iq = np.triu_indices(n_issues, k=1)
        # actor pair major, issue pair minor: the order fixes how ties are broken
        return cls(
            i=np.repeat(ai, ip.size),
            j=np.repeat(aj, ip.size),
            p=np.tile(ip, ai.size),
            q=np.tile(iq, ai.size),
        )

    @property
    def size(self) -> int:
        return int(self.i.size)


@dataclass(frozen=True)
class Candidates:
    """Every candidate's roles, outcome shifts and gains for D draws: arrays [D, C]."""

    a: np.ndarray  # actor demanding on p (supplies on q)
    b: np.ndarray  # actor demanding on q (supplies on p)
    dp: np.ndarray  # shift of the outcome on p towards a's position (>= 0)
    dq: np.ndarray  # shift of the outcome on q towards b's position (>= 0)
    gain_a: np.ndarray
    gain_b: np.ndarray
    valid: np.ndarray  # bool: a profitable exchange exists


def compute(
    pairs: Pairs,
    x: np.ndarray,
    s: np.ndarray,
    w: np.ndarray,
    outcome: np.ndarray,
    total: np.ndarray,
    rex: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Candidates:
    """Candidates for positions x[D, N, K], saliences s, weights w = c s (0 when not engaged),
    outcomes O[D, K] and weight totals W[D, K].

    Equal gain: with a supplying on q and b on p, gain_a = s_ap dp - s_aq dq and
    gain_b = s_bq dq - s_bp dp are equal when dq = dp (s_ap + s_bp) / (s_aq + s_bq). The shift
    each supplier can cause is capped twice: by moving all the way to its partner's position,
    and by the outcome reaching the demander's position (beyond it the demander would lose).
    `rex` = (p, u, v, z) applies the randomised variant (see `_randomise`).
    """
    i, j, p, q = pairs.i, pairs.j, pairs.p, pairs.q
    s_ip, s_iq, s_jp, s_jq = s[:, i, p], s[:, i, q], s[:, j, p], s[:, j, q]
    ratio = s_ip * s_jq - s_iq * s_jp
    a_is_i = ratio > 0

    def pick(for_i: np.ndarray, for_j: np.ndarray, a_side: bool) -> np.ndarray:
        return np.where(a_is_i, for_i, for_j) if a_side else np.where(a_is_i, for_j, for_i)

    x_ip, x_iq, x_jp, x_jq = x[:, i, p], x[:, i, q], x[:, j, p], x[:, j, q]
    w_ip, w_iq, w_jp, w_jq = w[:, i, p], w[:, i, q], w[:, j, p], w[:, j, q]
    x_ap, x_aq = pick(x_ip, x_jp, True), pick(x_iq, x_jq, True)
    x_bp, x_bq = pick(x_ip, x_jp, False), pick(x_iq, x_jq, False)
    s_ap, s_aq = pick(s_ip, s_jp, True), pick(s_iq, s_jq, True)
    s_bp, s_bq = pick(s_ip, s_jp, False), pick(s_iq, s_jq, False)
    w_aq, w_bp = pick(w_iq, w_jq, True), pick(w_ip, w_jp, False)
    w_ap, w_bq = pick(w_ip, w_jp, True), pick(w_iq, w_jq, False)
    o_p, o_q = outcome[:, p], outcome[:, q]
    t_p, t_q = total[:, p], total[:, q]

    valid = (
        (ratio != 0)
        & (w_ap > 0) & (w_aq > 0) & (w_bp > 0) & (w_bq > 0)
        & ((x_ap - o_p) * (x_bp - o_p) < 0)
        & ((x_aq - o_q) * (x_bq - o_q) < 0)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        dp_max = np.minimum(w_bp / t_p * np.abs(x_ap - x_bp), np.abs(x_ap - o_p))
        dq_max = np.minimum(w_aq / t_q * np.abs(x_bq - x_aq), np.abs(x_bq - o_q))
        k = (s_ap + s_bp) / (s_aq + s_bq)
        dp = np.minimum(dp_max, dq_max / k)
        dq = dp * k
        if rex is not None and rex[0] > 0:
            dp, dq = _randomise(rex, dp, dq, dp_max, dq_max, s_ap, s_aq, s_bp, s_bq)
        gain_a = s_ap * dp - s_aq * dq
        gain_b = s_bq * dq - s_bp * dp
    valid &= (dp > 0) & (dq > 0)
    zero = np.zeros_like(dp)
    return Candidates(
        a=pick(i, j, True).astype(np.intp),
        b=pick(i, j, False).astype(np.intp),
        dp=np.where(valid, dp, zero),
        dq=np.where(valid, dq, zero),
        gain_a=np.where(valid, gain_a, zero),
        gain_b=np.where(valid, gain_b, zero),
        valid=valid,
    )


def _randomise(
    rex: tuple[float, np.ndarray, np.ndarray, np.ndarray],
    dp: np.ndarray,
    dq: np.ndarray,
    dp_max: np.ndarray,
    dq_max: np.ndarray,
    s_ap: np.ndarray,
    s_aq: np.ndarray,
    s_bp: np.ndarray,
    s_bq: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """REX: one side's gain eu is redrawn and its partner's move recomputed.

    u < 1/2 picks side a, else b; v < 1/2 raises the gain to eu + p z (eu_max - eu), else lowers
    it to eu - p z eu. eu_max is the gain that leaves the partner with nothing. The chosen side
    keeps its own move; the partner's move is recomputed (and capped as in the equal-gain case),
    so both gains stay >= 0.
    """
    prob, u, v, z = rex
    eu = s_ap * dp - s_aq * dq  # equal for both sides here
    side_a = u < 0.5
    up = v < 0.5
    # side a keeps dq (its own supply) and gets dp' from its partner b
    eu_max_a = dq * (s_ap * s_bq / s_bp - s_aq)
    eu_max_b = dp * (s_bq * s_ap / s_aq - s_bp)
    eu_max = np.where(side_a, eu_max_a, eu_max_b)
    new = np.where(up, eu + prob * z * (eu_max - eu), eu - prob * z * eu)
    dp_a = np.minimum((new + s_aq * dq) / s_ap, dp_max)
    dq_b = np.minimum((new + s_bp * dp) / s_bq, dq_max)
    return np.where(side_a, dp_a, dp), np.where(side_a, dq, dq_b)
