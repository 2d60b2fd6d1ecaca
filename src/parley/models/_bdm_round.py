"""One round of the challenge model (bdm) on slab-minor arrays: [actors(, actors), slabs].

Why this layout: a slab is one (draw, issue) pair and there are thousands of them, but only a
handful of actors. With the slabs on the last axis every operation runs over long contiguous
rows, and the reductions over actors (the median voter's cost, R_i, the best offer an actor
received) are sums and minima of a few rows instead of short strided loops. The selections
(which offer, which challenger) are written as arithmetic on 0/1 masks rather than np.where,
whose data-dependent branches dominate the run time on random masks. Every formula keeps the
order of its floating-point operations, so a round gives the numbers bdm always gave (for up
to 8 actors to the last bit; beyond that, sums over actors may round differently in the last
bit). bdm.py holds the parameters, the rounds and the public [slabs, actors] functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from parley.models.bdm import Params

EPS_EU = 1e-12
"""Expected utilities within this of zero count as zero (identical positions give 0 up to
rounding, and must not trigger offers)."""

TIE_REL = 1e-9
EU_TIE = 1e-12
"""Expected utilities (of order 1) closer than this count as equal, and as 0 when this close to it."""
"""Distances to the median voter that differ by less than this share of the range Delta count as
equal in the T rule (q < 1), so rounding in the input (a scale mapping 10 years to
100.00000000000001) cannot change which actor is "closer"."""

FAR = 1e300
"""Added to the entries a minimum must skip (finite, so 0/1 masks can multiply it)."""


@dataclass
class Round:
    """One round for a block of slabs, slab-minor: [i, j, B] for pairs (i challenges j)."""

    mu: np.ndarray  # [B] median voter before the moves
    new_x: np.ndarray  # [N, B]
    kind: np.ndarray  # [i, j, B] int8 offer kind (0 none, 1 conflict, 2 compromise, 3 capitulation)
    offer: np.ndarray  # [i, j, B] position offered to j by i (meaningless where kind == 0)
    eu: np.ndarray  # [i, j, B] E_i = EU_i(i -> j) as the offer rules value it
    eu_target: np.ndarray  # [i, j, B] E_j = EU_j(j -> i) as the offer rules value it
    p: np.ndarray  # [i, j, B] P_ij as the expected utilities used it
    r: np.ndarray  # [N, B] risk exponents
    taken: np.ndarray  # [i, j, B] bool: j accepted i's offer (explain only; else empty)


def pair_distances(x: np.ndarray) -> np.ndarray:
    """|x_i - x_j| as [i, j, B]."""
    return np.abs(x[:, None, :] - x[None, :, :])


def position_range(x: np.ndarray, act: np.ndarray) -> np.ndarray:
    """Delta per slab: range of the engaged actors' positions (1 where it is 0 or empty)."""
    span = np.where(act, x, -np.inf).max(axis=0) - np.where(act, x, np.inf).min(axis=0)
    return np.where(np.isfinite(span) & (span > 0), span, 1.0)


def vote_cost(dist: np.ndarray, wa: np.ndarray) -> np.ndarray:
    """F[a, B] = sum_k w_k dist[a, k]: the weighted distance of position a from the voters."""
    return (dist * wa[None, :, :]).sum(axis=1)


def median_voter(x: np.ndarray, wa: np.ndarray, act: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Weighted Condorcet winner among active positions, [B], from cost = vote_cost(|x - x|, wa):
    the position minimising sum_k w_k |x_k - x|; tied distinct positions give their midpoint."""
    cost = np.where(act, cost, np.inf)
    best = cost.min(axis=0)
    scale = np.maximum(np.abs(best), 1e-300)
    tied = act & (cost <= best + 1e-9 * scale + 1e-12)
    lo = np.where(tied, x, np.inf).min(axis=0)
    hi = np.where(tied, x, -np.inf).max(axis=0)
    return (lo + hi) / 2.0


def weighted_mean(x: np.ndarray, w: np.ndarray, act: np.ndarray) -> np.ndarray:
    """Weighted mean of active positions, [B] (equal weights if all weights are 0)."""
    wa = np.where(act, w, 0.0)
    total = wa.sum(axis=0)
    wa = np.where(total[None] > 0, wa, act.astype(float))
    return (wa * x).sum(axis=0) / np.maximum(wa.sum(axis=0), 1e-300)


def win_probability(dist: np.ndarray, wa: np.ndarray, third_parties: bool, pooled: bool,
                    symmetric: bool, f: np.ndarray | None = None) -> np.ndarray:
    """P[i, j, B] from voter distances dist[a, k, B] (|x_a - x_k|, or a risk-adjusted version).

    sum_k max(0, v_k) = (sum_k v_k + sum_k |v_k|) / 2 with sum_k v_k(i, j) = F_j - F_i, so only
    sum_k |v_k| needs the [i, j, k, B] pass. `f` is F if the caller has it."""
    if f is None:
        f = vote_cost(dist, wa)
    tot = _abs_vote_totals(dist, wa)
    net = f[None, :, :] - f[:, None, :]
    if third_parties:
        if symmetric:
            net = net - (wa[:, None, :] - wa[None, :, :]) * dist
            tot = tot - (wa[:, None, :] + wa[None, :, :]) * dist
        else:  # i's own vote w_i d(j, i), j's -w_j d(i, j)
            own_i = wa[:, None, :] * dist.transpose(1, 0, 2)
            own_j = wa[None, :, :] * dist
            net = net - (own_i - own_j)
            tot = tot - (own_i + own_j)
    den = np.broadcast_to(tot.sum(axis=(0, 1))[None, None, :], tot.shape) if pooled else tot
    ok = den > 1e-12 * np.maximum(wa.sum(axis=0), 1e-300)[None, None, :]
    return np.where(ok, 0.5 * (net + tot) / np.where(ok, den, 1.0), 0.5)


def _abs_vote_totals(dist: np.ndarray, wa: np.ndarray) -> np.ndarray:
    """T[i, j, B] = sum_k w_k |dist[j, k] - dist[i, k]|, summed over the voters k in order (so
    the rounding does not depend on the number of slabs).

    T is symmetric with a zero diagonal, so only the pairs i < j are computed and mirrored."""
    n = dist.shape[0]
    lo, hi = np.triu_indices(n, 1)
    if n <= 16:  # voter by voter: a few operations on [pairs, B]
        acc = np.zeros((lo.size, dist.shape[2]))
        for k in range(n):
            col = dist[:, k, :]
            term = np.subtract(col[hi], col[lo])
            np.abs(term, out=term)
            term *= wa[k]
            acc += term
    else:  # many voters: one [pairs, k, B] block, accumulated in the same order
        terms = np.subtract(dist[hi], dist[lo])
        np.abs(terms, out=terms)
        terms *= wa[None, :, :]
        acc = np.cumsum(terms, axis=1)[:, -1, :]
    tot = np.zeros_like(dist)
    tot[lo, hi] = acc
    tot[hi, lo] = acc
    return tot


@dataclass
class Terms:
    """What both expected-utility passes of a round share."""

    base_s: np.ndarray  # [i, j, B] max(0.5 - d_ij / 2, 0): U^s = 2 - 4 base_s^r
    base_f: np.ndarray  # [i, j, B] 0.5 + d_ij / 2: U^f = 2 - 4 base_f^r
    p: np.ndarray  # [i, j, B]
    not_p: np.ndarray  # [i, j, B] 1 - P_ij
    sj: np.ndarray  # salience of the contested branch, broadcastable to [i, j, B]
    invalid: np.ndarray  # [i, j, B] not a pair of two engaged, distinct actors
    dmd: np.ndarray | None = None  # d_iμ + d_ij (q < 1 only)
    t: np.ndarray | float = 1.0  # T (q < 1 only)


def terms(x: np.ndarray, s: np.ndarray, p: np.ndarray, mu: np.ndarray, span: np.ndarray,
          invalid: np.ndarray, dist: np.ndarray, params: Params) -> Terms:
    d = dist / span[None, None, :]
    sj = s[None, :, :] if params.eu_salience == "target" else s[:, None, :]
    half_d = np.multiply(0.5, d)
    base_s = np.subtract(0.5, half_d)
    np.maximum(base_s, 0.0, out=base_s)
    out = Terms(base_s, np.add(0.5, half_d, out=half_d), p, np.subtract(1.0, p), sj, invalid)
    if params.q < 1.0:
        gap = np.abs(x - mu[None, :])
        out.dmd = (gap / span[None, :])[:, None, :] + d
        if params.t_rule == "closer":
            # "i closer to the median voter than j", with a margin of TIE_REL * Delta: actors
            # equally far from mu (common on grids, e.g. 4 and 10 years around 7) stay tied
            # whatever the last bits of their positions (100 vs 100.00000000000001)
            margin = (TIE_REL * span)[None, None, :]
            out.t = (gap[:, None, :] < gap[None, :, :] - margin).astype(float)
        else:
            out.t = params.t
    return out


def expected_utilities(tm: Terms, rr: np.ndarray | None, params: Params) -> np.ndarray:
    """E[i, j, B] = EU_i(i -> j) with exponents rr broadcastable to [i, j, B] (None: r = 1).

    U^s = 2 - 4 max(0.5 - 0.5 d, 0)^r, U^f = 2 - 4 (0.5 + 0.5 d)^r, U^sq = 2 - 4 * 0.5^r;
    EU = s_j (P U^s + (1 - P) U^f) + (1 - s_j) U^s - Q U^sq - (1 - Q)(T U^b + (1 - T) U^w),
    evaluated in place in that order."""
    if rr is None:
        u_s, u_f = np.multiply(4.0, tm.base_s), np.multiply(4.0, tm.base_f)
    else:
        u_s, u_f = np.power(tm.base_s, rr), np.power(tm.base_f, rr)
        u_s *= 4.0
        u_f *= 4.0
    np.subtract(2.0, u_s, out=u_s)
    np.subtract(2.0, u_f, out=u_f)
    eu = np.multiply(tm.p, u_s)
    np.multiply(tm.not_p, u_f, out=u_f)
    eu += u_f
    eu *= tm.sj
    u_s *= np.subtract(1.0, tm.sj)
    eu += u_s
    if rr is not None:  # with r = 1, U^sq = 2 - 4 * 0.5 = 0
        eu -= params.q * (2.0 - 4.0 * 0.5**rr)
    if params.q < 1.0:
        assert tm.dmd is not None
        u_b = np.maximum(0.5 - 0.25 * tm.dmd, 0.0)
        u_w = np.minimum(0.5 + 0.25 * tm.dmd, 1.0)
        if rr is not None:
            u_b, u_w = u_b**rr, u_w**rr
        u_b = 2.0 - 4.0 * u_b
        u_w = 2.0 - 4.0 * u_w
        eu = eu - (1.0 - params.q) * (tm.t * u_b + (1.0 - tm.t) * u_w)
    eu[tm.invalid | (np.abs(eu) < EPS_EU)] = 0.0
    return eu


def risk_exponents(e1: np.ndarray, act: np.ndarray, params: Params) -> np.ndarray:
    """r[i, B] in [0.5, 2] from how attractive a target i is (R_i = sum_j EU_j(j -> i)), or
    from i's own prospects (risk_sum="challenger": R_i = sum_j EU_i(i -> j))."""
    big_r = e1.sum(axis=0) if params.risk_sum == "target" else e1.sum(axis=1)
    hi = np.where(act, big_r, -np.inf).max(axis=0)
    lo = np.where(act, big_r, np.inf).min(axis=0)
    spread = hi - lo
    ok = spread > 1e-12
    r_hat = np.where(ok, (2.0 * big_r - hi - lo) / np.where(ok, spread, 1.0), 0.0)
    r_hat = np.clip(r_hat, -1.0, 1.0)
    if params.risk_map == "inverted":
        r_hat = -r_hat
    return np.where(act, (1.0 - r_hat / 3.0) / (1.0 + r_hat / 3.0), 1.0)


def play(x: np.ndarray, w: np.ndarray, s: np.ndarray, act: np.ndarray, params: Params,
         span: np.ndarray | None = None, explain: bool = False) -> Round:
    """Challenges, offers and moves of one round for x[N, B] (w: vote weights, s: saliences)."""
    n = x.shape[0]
    dist = pair_distances(x)
    wa = np.where(act, w, 0.0)
    cost = vote_cost(dist, wa)
    mu = median_voter(x, wa, act, cost)
    if span is None:
        span = position_range(x, act)
    invalid = ~(act[:, None, :] & act[None, :, :])
    invalid[np.arange(n), np.arange(n)] = True
    third, pooled = params.voters == "third_parties", params.p_denominator == "pooled"
    p = win_probability(dist, wa, third, pooled, True, cost)
    tm = terms(x, s, p, mu, span, invalid, dist, params)
    e1 = expected_utilities(tm, None, params)
    r = risk_exponents(e1, act, params)
    if params.votes == "risk":  # votes w_k (d_kj^r_k - d_ki^r_k), distances on the Delta scale
        p = win_probability((dist / span[None, None, :]) ** r[None, :, :], wa, third, pooled, False)
        tm.p, tm.not_p = p, np.subtract(1.0, p)
    if params.eu_exponent == "receiver":  # both sides of the pair (i -> j) valued with r_j
        e = expected_utilities(tm, r[None, :, :], params)
        ej = expected_utilities(tm, r[:, None, :], params).transpose(1, 0, 2)
    else:
        e = expected_utilities(tm, r[:, None, :], params)
        if params.target_view == "own":
            ej = e.transpose(1, 0, 2)  # EU_j(j -> i), with j's own risk exponent
        elif params.target_view == "neutral":
            ej = e1.transpose(1, 0, 2)
        else:  # EU_j(j -> i) as i reckons it, with i's exponent: exponent indexed by the target
            ej = expected_utilities(tm, r[None, :, :], params).transpose(1, 0, 2)
    kind, offer, masks = offers(x, e, ej, p, params)
    new_x, taken = accept(x, kind, offer, e, ej, masks, params, explain)
    return Round(mu, new_x, kind, offer, e, ej, p, r, taken)


def offers(x: np.ndarray, e: np.ndarray, ej: np.ndarray, p: np.ndarray,
           params: Params) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Kind [i, j, B], the position i offers j, and the (conflict, compromise, capitulation) masks.

    conflict: E_i > 0, E_j > 0, E_i > E_j -> x_i (or the contest's expected outcome);
    compromise: E_i > 0 > E_j, E_i > |E_j| -> x_j + (x_i - x_j) f(E_i, E_j);
    capitulation: E_i > 0 > E_j, E_i < |E_j| -> x_i (never with capitulation="never")."""
    ej = np.ascontiguousarray(ej)  # often a transposed view
    # Signs and comparisons with a margin of EU_TIE: an expected utility that is 0 (or two that
    # are equal) in exact arithmetic comes out a few ulps either way depending on the order in
    # which the voters' terms were summed, so an exact test made the result depend on actor order
    # (grid positions such as 0/50/100 produce such ties).
    e_pos = e > EU_TIE
    conflict = e_pos & (ej > EU_TIE)
    conflict &= e > ej + EU_TIE
    loses = e_pos & (ej < -EU_TIE)
    neg_ej = np.negative(ej)
    compromise = loses & (e > neg_ej + EU_TIE)
    never = params.capitulation == "never"
    capitulation = np.zeros_like(loses) if never else loses & (e < neg_ej - EU_TIE)
    xi = x[:, None, :]
    xj = x[None, :, :]
    safe_e = e + (e == 0)  # e itself wherever a compromise is possible (e > 0)
    if params.compromise == "ratio":
        share = neg_ej / safe_e
    elif params.compromise == "complement":
        share = 1.0 - neg_ej / safe_e
    else:
        share = neg_ej / (safe_e + neg_ej * compromise)
    gap = np.subtract(xi, xj)  # x_i - x_j
    share *= gap
    share += xj  # the compromise offer x_j + (x_i - x_j) * share
    won = xi if params.conflict == "winner" else xj + p * gap
    # one of the three masks at most is 1: offer = that branch's value + 0 + 0 (exact)
    offer = share * compromise
    offer += won * conflict
    kind = conflict.view(np.int8) + compromise.view(np.int8) * np.int8(2)
    if not never:
        offer += xi * capitulation
        kind += capitulation.view(np.int8) * np.int8(3)
    return kind, offer, (conflict, compromise, capitulation)


def _first_min(values: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """Among the i with pick[i, j], the smallest values[i, j] (FAR where none), as [j, B]."""
    return (values + FAR * ~pick).min(axis=0)


def accept(x: np.ndarray, kind: np.ndarray, offer: np.ndarray, e: np.ndarray, ej: np.ndarray,
           masks: tuple[np.ndarray, np.ndarray, np.ndarray], params: Params,
           explain: bool) -> tuple[np.ndarray, np.ndarray]:
    """New positions [N, B] and, with `explain`, which offer each actor took ([i, j, B] bool).

    least_move: the nearest offer; equally near offers go to the challenger with the highest
    EU_i(i -> j), then to the lowest position (tie_break="challenger_eu"; the result never
    depends on actor order) or to the lowest challenger index (tie_break="index").
    strongest: the challenger with the highest EU_i(i -> j), ties to the lowest position.
    conflicts_first (Scholz's code): least move among conflict (and capitulation) offers; an
    actor without one takes the compromise with the lowest (|E_j| x_j + |E_i| x_i)/(|E_i| + |E_j|).
    """
    has = kind > 0
    any_offer = has.any(axis=0)
    xj = x[None, :, :]
    if params.acceptance == "conflicts_first":
        conflict, compromise, capitulation = masks
        yielding = conflict | capitulation
        abs_e, abs_ej = np.abs(e), np.abs(ej)
        denom = abs_e + abs_ej
        key = (abs_ej * xj + abs_e * x[:, None, :]) / (denom + (denom == 0))
        low = compromise & (key <= _first_min(key, compromise)[None] + 1e-12 * (1.0 + np.abs(xj)))
        pick = np.where(yielding.any(axis=0)[None], _nearest(yielding, offer, xj, e, params),
                        _nearest(low, offer, xj, e, params))
    elif params.acceptance == "least_move":
        pick = _nearest(has, offer, xj, e, params)
    else:
        pick = _strongest(has, offer, e)
    value = _first_min(offer, pick)
    new_x = np.where(any_offer, value, x)
    taken = np.zeros((0,), bool)
    if explain:  # the one challenger whose offer was taken: the first with that value
        hit = pick & (offer == value[None])
        taken = hit & (np.cumsum(hit, axis=0) == 1)
    return new_x, taken


def _nearest(has: np.ndarray, offer: np.ndarray, xj: np.ndarray, e: np.ndarray,
             params: Params) -> np.ndarray:
    """[i, j, B] bool: the offers j would take among `has` (all at one position but for ties)."""
    dist = np.abs(offer - xj)
    if params.tie_break == "index":
        best = _first_min(dist, has)
        near = has & (dist == best[None])
        return near & (np.cumsum(near, axis=0) == 1)
    near = has & (dist <= _first_min(dist, has)[None] + 1e-9)
    return _strongest(near, offer, e)


def _strongest(near: np.ndarray, offer: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Among `near`, the challengers with the highest EU_i(i -> j) (within 1e-12); the caller
    takes the lowest of their offers."""
    top_e = (e - FAR * ~near).max(axis=0)
    return near & (e >= top_e[None] - 1e-12)
