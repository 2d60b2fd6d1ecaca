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
    """Static index arrays of every (actor pair, issue pair) combination, length C, plus the
    actor pairs (ai, aj) and issue pairs (ip, iq) they are the product of."""

    i: np.ndarray
    j: np.ndarray
    p: np.ndarray
    q: np.ndarray
    ai: np.ndarray
    aj: np.ndarray
    ip: np.ndarray
    iq: np.ndarray

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
            ai=ai,
            aj=aj,
            ip=ip,
            iq=iq,
        )

    @property
    def size(self) -> int:
        return int(self.i.size)


@dataclass(frozen=True)
class Candidates:
    """The candidates that can trade, as flat arrays over (draw, candidate) cells: the cell's
    draw `d` and candidate index `c` (into `Pairs`), the roles, outcome shifts and gains."""

    d: np.ndarray
    c: np.ndarray
    a: np.ndarray  # actor demanding on p (supplies on q)
    b: np.ndarray  # actor demanding on q (supplies on p)
    dp: np.ndarray  # shift of the outcome on p towards a's position (> 0)
    dq: np.ndarray  # shift of the outcome on q towards b's position (> 0)
    gain_a: np.ndarray
    gain_b: np.ndarray


def opposed(pairs: Pairs, x: np.ndarray, w: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """[D, C] mask of candidates whose actors both weigh in on both issues and sit on opposite
    sides of the outcome on each: the only ones that can trade (cheap, so computed first)."""
    side = np.sign(x - outcome[:, None, :]) * (w > 0)  # 0 where not engaged
    opp = side[:, pairs.ai, :] * side[:, pairs.aj, :] < 0  # [D, actor pairs, K]
    both = opp[:, :, pairs.ip] & opp[:, :, pairs.iq]  # [D, actor pairs, issue pairs]
    return both.reshape(x.shape[0], -1)


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

    The arithmetic runs only on the (draw, candidate) cells that pass `opposed` (a quarter to a
    third of them on Decide's inputs), as flat arrays.
    """
    dd, cc = np.nonzero(opposed(pairs, x, w, outcome))
    n, k = x.shape[1], x.shape[2]
    # flat indices into the [D, N, K] arrays: np.take on them is much cheaper than 3-way indexing
    row, col = dd * (n * k), dd * k
    p, q = pairs.p[cc], pairs.q[cc]
    at_i, at_j = row + pairs.i[cc] * k, row + pairs.j[cc] * k
    sf, xf, wf = s.reshape(-1), x.reshape(-1), w.reshape(-1)
    ratio = sf.take(at_i + p) * sf.take(at_j + q) - sf.take(at_i + q) * sf.take(at_j + p)
    a_is_i = ratio > 0
    at_a, at_b = np.where(a_is_i, at_i, at_j), np.where(a_is_i, at_j, at_i)
    ap, aq, bp, bq = at_a + p, at_a + q, at_b + p, at_b + q
    s_ap, s_aq, s_bp, s_bq = sf.take(ap), sf.take(aq), sf.take(bp), sf.take(bq)
    x_ap, x_aq, x_bp, x_bq = xf.take(ap), xf.take(aq), xf.take(bp), xf.take(bq)
    w_aq, w_bp = wf.take(aq), wf.take(bp)
    of, tf = outcome.reshape(-1), total.reshape(-1)
    o_p, o_q = of.take(col + p), of.take(col + q)
    t_p, t_q = tf.take(col + p), tf.take(col + q)
    a = (at_a - row) // k
    b = (at_b - row) // k
    with np.errstate(divide="ignore", invalid="ignore"):
        dp_max = np.minimum(w_bp / t_p * np.abs(x_ap - x_bp), np.abs(x_ap - o_p))
        dq_max = np.minimum(w_aq / t_q * np.abs(x_bq - x_aq), np.abs(x_bq - o_q))
        ratio_pq = (s_ap + s_bp) / (s_aq + s_bq)
        dp = np.minimum(dp_max, dq_max / ratio_pq)
        dq = dp * ratio_pq
        if rex is not None and rex[0] > 0:
            prob, u, v, z = rex
            dp, dq = _randomise((prob, u[dd, cc], v[dd, cc], z[dd, cc]), dp, dq, dp_max, dq_max,
                                s_ap, s_aq, s_bp, s_bq)
        gain_a = s_ap * dp - s_aq * dq
        gain_b = s_bq * dq - s_bp * dp
    ok = (ratio != 0) & (dp > 0) & (dq > 0)
    return Candidates(d=dd[ok], c=cc[ok], a=a[ok], b=b[ok], dp=dp[ok], dq=dq[ok],
                      gain_a=gain_a[ok], gain_b=gain_b[ok])


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
