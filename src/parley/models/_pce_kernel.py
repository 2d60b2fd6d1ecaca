"""Voting, victory probabilities and probabilistic Condorcet elections (PCE) for the `pce` model.

These are the building blocks KTAB's kmodel library uses (spec: ../shared/models/pce.md, §2–3),
written as array functions over any leading batch axes so that draws, actors and bargains are
handled together. Options live on the last axis (or the last two for pairwise matrices).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

VotingRule = Literal["binary", "prop_bin", "prop", "prop_cbc", "cubic", "asym_prosp"]
VictoryModel = Literal["linear", "square", "quartic", "octic", "binary"]
PCEModel = Literal["conditional", "markov_uniform", "markov_incentive"]

VOTING_RULES: tuple[str, ...] = ("binary", "prop_bin", "prop", "prop_cbc", "cubic", "asym_prosp")
VICTORY_MODELS: tuple[str, ...] = ("linear", "square", "quartic", "octic", "binary")
PCE_MODELS: tuple[str, ...] = ("conditional", "markov_uniform", "markov_incentive")

_NU = {"linear": 1.0, "square": 2.0, "quartic": 4.0, "octic": 8.0}


def vote(rule: str, w: np.ndarray, ua: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """Vote of weight w between options with utilities ua, ub (positive: for a)."""
    return vote_delta(rule, w, ua - ub)


def vote_delta(rule: str, w: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Vote of weight w given the utility difference delta = u_a - u_b (every rule depends on
    the difference only)."""
    if rule == "prop":
        return w * delta
    binary = np.clip(delta / 1e-8, -1.0, 1.0)
    if rule == "binary":
        return w * binary
    if rule == "prop_bin":
        return w * (0.8 * delta + 0.2 * binary)
    if rule == "prop_cbc":
        return w * (0.5 * delta + 0.5 * delta**3)
    if rule == "cubic":
        return w * delta**3
    if rule == "asym_prosp":
        return w * np.where(delta < 0, delta, 2.0 / 3.0 * delta)
    raise ValueError(f"unknown voting rule {rule!r}")


def coalitions(rule: str, w: np.ndarray, util: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """C[..., a, b] = 1e-8 + sum over voters of their positive votes for a over b.

    `w[..., V]` are voter weights, `util[..., V, M]` each voter's utility of each option;
    `mask[..., V]` leaves voters out.
    """
    ww = w if mask is None else np.where(mask, w, 0.0)
    diff = util[..., :, :, None] - util[..., :, None, :]  # [..., V, a, b]
    if rule == "prop":
        # weights are >= 0, so max(0, w d) = w max(0, d): one weighted sum over voters
        np.maximum(diff, 0.0, out=diff)
        lead, (nv, na, nb) = diff.shape[:-3], diff.shape[-3:]
        wv = np.broadcast_to(ww, (*lead, nv))[..., None, :]  # [..., 1, V]
        summed = (wv @ diff.reshape(*lead, nv, na * nb)).reshape(*lead, na, nb)
        return 1e-8 + summed
    v = vote_delta(rule, ww[..., :, None, None], diff)
    return 1e-8 + np.maximum(v, 0.0).sum(axis=-3)


def victory(model: str, c: np.ndarray) -> np.ndarray:
    """V[..., a, b]: probability that a beats b given coalition strengths C; V(a, a) = 1/2.

    "binary" is 1 when a's coalition is at least 1.1 times b's, 0 when b's is 1.1 times a's,
    and linear in log(C_ab / C_ba) in between (so it is symmetric, 1/2 at equality).
    """
    s1 = c
    s2 = np.swapaxes(c, -1, -2)
    if model == "binary":
        out = np.clip(0.5 + np.log(s1 / s2) / (2.0 * np.log(1.1)), 0.0, 1.0)
    else:
        nu = _NU[model]
        # s1^nu / (s1^nu + s2^nu), written to avoid overflow for large nu
        out = 1.0 / (1.0 + (s2 / s1) ** nu)
    m = c.shape[-1]
    eye = np.eye(m, dtype=bool)
    return np.where(eye, 0.5, out)


def pce(model: str, v: np.ndarray, c: np.ndarray | None = None, mask: np.ndarray | None = None,
        weight: np.ndarray | None = None) -> np.ndarray:
    """Probability that each option wins, from the victory matrix V[..., M, M].

    `mask[..., M]` restricts the election to some options (others get 0). `weight[..., M]`
    counts an option that many times in the conditional product (used to count a position
    held by several actors once: weight = 1 / multiplicity). `c` (coalition strengths) is
    needed by the Markov-incentive model only.
    """
    shape = v.shape[:-1] if mask is None else np.broadcast_shapes(v.shape[:-1], mask.shape)
    mk = np.broadcast_to(True if mask is None else mask, shape)
    if model == "conditional":
        wt = mk.astype(float) if weight is None else np.where(mk, weight, 0.0)
        logv = np.log(np.maximum(v, 1e-300))
        logp = np.cumsum(logv * wt[..., None, :], axis=-1)[..., -1]  # sequential, as the compiled engine
        logp = np.where(mk, logp, -np.inf)
        logp = logp - logp.max(axis=-1, keepdims=True)
        p = np.where(mk, np.exp(logp), 0.0)
        if weight is not None:
            return p / (p * wt).sum(axis=-1, keepdims=True)
        return p / p.sum(axis=-1, keepdims=True)
    count = mk.sum(axis=-1, keepdims=True).astype(float)
    p = mk / count
    vm = v * mk[..., None, :]
    if model == "markov_uniform":
        tol = 1e-6
        for _ in range(100_000):
            q = (p * vm.sum(axis=-1) + (vm * p[..., None, :]).sum(axis=-1)) / count
            q = np.where(mk, q, 0.0)
            done = np.abs(q - p).max() < tol
            p = (p + q) / 2.0
            if done:
                break
        return p / p.sum(axis=-1, keepdims=True)
    if model == "markov_incentive":
        if c is None:
            raise ValueError("the Markov-incentive PCE needs the coalition matrix")
        m = v.shape[-1]
        n = c * v + 1e-10 * np.eye(m)
        n = n * mk[..., :, None] * mk[..., None, :]
        col = n.sum(axis=-2, keepdims=True)
        chal = np.where(col > 0, n / np.where(col > 0, col, 1.0), 0.0)  # P[a -> b | b]
        tol = 1e-8
        for _ in range(100_000):
            # q_a = sum_b V(a,b) (p_a P[b->a | a] + p_b P[a->b | b])
            term1 = p * (vm * np.swapaxes(chal, -1, -2)).sum(axis=-1)
            term2 = (vm * chal * p[..., None, :]).sum(axis=-1)
            q = np.where(mk, term1 + term2, 0.0)
            done = np.abs(q - p).max() < tol
            p = (p + q) / 2.0
            if done:
                break
        return p / p.sum(axis=-1, keepdims=True)
    raise ValueError(f"unknown PCE model {model!r}")


def bs_util(d: np.ndarray, r: np.ndarray) -> np.ndarray:
    """KTAB's risk-adjusted utility of a distance d in [0, 1] (R > 0 risk-averse)."""
    return np.where(d <= 1.0, (1.0 - d) * (1.0 + d * r), (1.0 - d) * (1.0 + r))


def distances(ideal: np.ndarray, pos: np.ndarray, sal: np.ndarray) -> np.ndarray:
    """d[..., a, m]: salience-weighted normalised distance from a's ideal to position m.

    d = sqrt(sum_k (s_ak (y_ak - x_mk))^2 / sum_k s_ak^2); 0 for an actor with no salience.
    ideal[..., A, K], pos[..., M, K], sal[..., A, K].
    """
    diff = sal[..., :, None, :] * (ideal[..., :, None, :] - pos[..., None, :, :])
    norm = (sal**2).sum(axis=-1)[..., :, None]
    sq = (diff**2).sum(axis=-1)
    return np.sqrt(np.where(norm > 0, sq / np.where(norm > 0, norm, 1.0), 0.0))


def ktab_conditional_pce(rule: str, w: np.ndarray, util: np.ndarray) -> np.ndarray:
    """The conditional PCE over every option in KTAB's own arithmetic (`Model::coalitions`,
    `Model::vProb` with the linear model, `Model::condPCE`): coalition strengths summed voter by
    voter from 1e-8, V(a, b) = C(a, b) / (C(a, b) + C(b, a)), each option's product of its
    victory probabilities taken left to right, then normalised by their sum. The result equals
    `pce("conditional", victory("linear", coalitions(...)))` up to the last bits, and these bits
    decide KTAB's exact ties. `w[..., V]` voter weights, `util[..., V, M]`."""
    du = util[..., :, :, None] - util[..., :, None, :]  # [..., V, a, b]
    votes = np.maximum(vote_delta(rule, w[..., :, None, None], du), 0.0)
    start = np.full((*votes.shape[:-3], 1, *votes.shape[-2:]), 1e-8)
    c = np.cumsum(np.concatenate([start, votes], axis=-3), axis=-3)[..., -1, :, :]
    v = c / (c + np.swapaxes(c, -1, -2))
    m = c.shape[-1]
    v = np.where(np.eye(m, dtype=bool), 0.5, v)
    p = np.cumprod(v, axis=-1)[..., -1]
    tot = np.cumsum(p, axis=-1)[..., -1:]
    if not (tot > 0).all():  # every product underflowed (many options, lopsided votes)
        safe = pce("conditional", v)
        return np.where(tot > 0, p / np.where(tot > 0, tot, 1.0), safe)
    return p / tot
