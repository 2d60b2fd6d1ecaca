"""Compiled turn loop of the `pce` model (numba): the same algorithm as `pce.py`, per draw.

Why: a KTAB turn is O(N^3) arithmetic but, written as array operations, small scenarios pay
mostly fixed per-call overhead (a few ms per turn). Compiled loops remove it, and the third-party
table is summed on the fly instead of being held as an [N, N, N] array. Each draw's turns are
independent of the others, so results do not depend on how draws are chunked (parallelism
across draws is the caller's: process chunks). Options are passed as integer codes (`CODES` in
pce.py). Compiled on first use and cached on disk (numba `cache=True`): the first Monte Carlo
run after installing pays the compilation once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_NU = np.array([1.0, 2.0, 4.0, 8.0])
_LOG11 = math.log(1.1)


@njit(cache=True)
def _vote(rule: int, w: float, delta: float) -> float:
    if rule == 0:  # prop
        return w * delta
    binary = min(1.0, max(-1.0, delta / 1e-8))
    if rule == 1:
        return w * binary
    if rule == 2:
        return w * (0.8 * delta + 0.2 * binary)
    if rule == 3:
        return w * (0.5 * delta + 0.5 * delta**3)
    if rule == 4:
        return w * delta**3
    return w * delta if delta < 0 else w * (2.0 / 3.0) * delta  # asym_prosp


@njit(cache=True)
def _victory(model: int, s1: float, s2: float) -> float:
    if model == 4:  # binary
        return min(1.0, max(0.0, 0.5 + math.log(s1 / s2) / (2.0 * _LOG11)))
    if model == 0:  # linear: x ** 1.0 is x, without the cost of a pow
        return 1.0 / (1.0 + s2 / s1)
    return 1.0 / (1.0 + (s2 / s1) ** _NU[model])


@njit(cache=True)
def _bs_util(d: float, r: float) -> float:
    if d <= 1.0:
        return (1.0 - d) * (1.0 + d * r)
    return (1.0 - d) * (1.0 + r)


@njit(cache=True)
def _distances(y: np.ndarray, pos: np.ndarray, s: np.ndarray) -> np.ndarray:
    """d[a, m] from a's ideal y[a] to position pos[m], weighted by a's saliences."""
    na, k = y.shape
    nm = pos.shape[0]
    out = np.zeros((na, nm))
    for a in range(na):
        norm = 0.0
        for q in range(k):
            norm += s[a, q] * s[a, q]
        if norm <= 0.0:
            continue
        for m in range(nm):
            sq = 0.0
            for q in range(k):
                diff = s[a, q] * (y[a, q] - pos[m, q])
                sq += diff * diff
            out[a, m] = math.sqrt(sq / norm)
    return out


@njit(cache=True)
def _coalitions(rule: int, w: np.ndarray, util: np.ndarray) -> np.ndarray:
    """C[a, b] = 1e-8 + sum over voters v of max(0, vote(w_v, util[v, a] - util[v, b]))."""
    nv, m = util.shape
    out = np.full((m, m), 1e-8)
    for a in range(m):
        for b in range(m):
            if a == b:
                continue
            tot = 0.0
            for v in range(nv):
                x = _vote(rule, w[v], util[v, a] - util[v, b])
                if x > 0.0:
                    tot += x
            out[a, b] += tot
    return out


@njit(cache=True)
def _victory_matrix(model: int, c: np.ndarray) -> np.ndarray:
    m = c.shape[0]
    out = np.empty((m, m))
    for a in range(m):
        for b in range(m):
            out[a, b] = 0.5 if a == b else _victory(model, c[a, b], c[b, a])
    return out


@njit(cache=True)
def _log_victory(v: np.ndarray) -> np.ndarray:
    """log V, floored as the conditional PCE floors it: computed once per matrix, as every
    actor's election reads the same entries."""
    m = v.shape[0]
    out = np.empty((m, m))
    for a in range(m):
        for b in range(m):
            out[a, b] = math.log(max(v[a, b], 1e-300))
    return out


@njit(cache=True)
def _pce(model: int, v: np.ndarray, c: np.ndarray, opts: np.ndarray, logv: np.ndarray) -> np.ndarray:
    """Win probability of each option in `opts` (indices into v), by the chosen PCE model
    (`logv`: log V from `_log_victory`, read by the conditional model only)."""
    q = opts.shape[0]
    p = np.empty(q)
    if model == 0:  # conditional
        best = -np.inf
        for i in range(q):
            s = 0.0
            for j in range(q):
                s += logv[opts[i], opts[j]]
            p[i] = s
            best = max(best, s)
        tot = 0.0
        for i in range(q):
            p[i] = math.exp(p[i] - best)
            tot += p[i]
        for i in range(q):  # in place: no second array per election
            p[i] /= tot
        return p
    p[:] = 1.0 / q
    if model == 1:  # Markov, uniform challenges
        for _ in range(100_000):
            qn = np.empty(q)
            for i in range(q):
                s1 = 0.0
                s2 = 0.0
                for j in range(q):
                    s1 += v[opts[i], opts[j]]
                    s2 += v[opts[i], opts[j]] * p[j]
                qn[i] = (p[i] * s1 + s2) / q
            done = np.max(np.abs(qn - p)) < 1e-6
            p = (p + qn) / 2.0
            if done:
                break
        return p / p.sum()
    # Markov, incentive-weighted challenges
    chal = np.zeros((q, q))  # P[a -> b | b]
    for j in range(q):
        col = 0.0
        for i in range(q):
            col += c[opts[i], opts[j]] * v[opts[i], opts[j]] + (1e-10 if i == j else 0.0)
        for i in range(q):
            nij = c[opts[i], opts[j]] * v[opts[i], opts[j]] + (1e-10 if i == j else 0.0)
            chal[i, j] = nij / col if col > 0 else 0.0
    for _ in range(100_000):
        qn = np.empty(q)
        for i in range(q):
            s = 0.0
            for j in range(q):
                s += v[opts[i], opts[j]] * (p[i] * chal[j, i] + p[j] * chal[i, j])
            qn[i] = s
        done = np.max(np.abs(qn - p)) < 1e-8
        p = (p + qn) / 2.0
        if done:
            break
    return p / p.sum()


@njit(cache=True)
def _ktab_conditional(rule: int, w: np.ndarray, util: np.ndarray) -> np.ndarray:
    """The conditional PCE over every option in KTAB's arithmetic, as
    `_pce_kernel.ktab_conditional_pce` (linear victory model)."""
    nv, m = util.shape
    c = np.empty((m, m))
    for a in range(m):
        for b in range(m):
            acc = 1e-8
            for v in range(nv):
                x = _vote(rule, w[v], util[v, a] - util[v, b])
                if x > 0.0:
                    acc += x
            c[a, b] = acc
    p = np.empty(m)
    for a in range(m):
        prod = 1.0
        for b in range(m):
            prod *= 0.5 if a == b else c[a, b] / (c[a, b] + c[b, a])
        p[a] = prod
    tot = 0.0
    for a in range(m):
        tot += p[a]
    if not tot > 0.0:  # every product underflowed: the log form
        for a in range(m):
            s = 0.0
            for b in range(m):
                s += math.log(max(0.5 if a == b else c[a, b] / (c[a, b] + c[b, a]), 1e-300))
            p[a] = s
        best = p.max()
        for a in range(m):
            p[a] = math.exp(p[a] - best)
            tot += p[a]
    for a in range(m):
        p[a] /= tot
    return p


@njit(cache=True)
def _est_nra(rh: float, ri: float, rule: int) -> float:
    """h's estimate of i's risk attitude, in KTAB's arithmetic (pce.est_nra; codes: none,
    one_third, half, two_thirds, full)."""
    if rule == 0:
        return rh
    if rule == 1:
        return ((2.0 * rh) + ri) / 3.0
    if rule == 2:
        return (rh + ri) / 2
    if rule == 3:
        return (rh + (2.0 * ri)) / 3.0
    return ri


@njit(cache=True)
def _big_r(p: np.ndarray, rng: int) -> np.ndarray:
    hi = p.max()
    lo = p.min()
    span = hi - lo
    out = np.zeros_like(p)
    if span <= 1e-12:
        return out
    for i in range(p.shape[0]):  # one pass, the same arithmetic as pce.big_r
        if rng == 0:
            out[i] = (3.0 * p[i] - (hi + 2.0 * lo)) / (2.0 * span)
        elif rng == 1:
            out[i] = (p[i] - lo) / span
        else:
            out[i] = (2.0 * p[i] - hi - lo) / span
    return out


@njit(cache=True)
def _turn(x, s, c, s_tot, codes, adj, decimals, min_w, u_rand, tgt, p_win, gain, barg, barg_r,
          choice):
    """One turn for one draw (ideals = positions). Writes the challenge/bargain/choice arrays
    (barg: the initiators' coordinates, barg_r: their targets') and returns the new positions."""
    vr, vpm, pcem, rrng, tp, interp = codes[0], codes[1], codes[2], codes[3], codes[4], codes[5]
    n, k = x.shape
    d = _distances(x, x, s)
    u0 = np.empty((n, n))
    for a in range(n):
        for m in range(n):
            u0[a, m] = _bs_util(d[a, m], 0.0)
    if vpm == 0 and pcem == 0:  # KTAB's defaults, in its arithmetic (pce.risk_attitudes)
        r = _big_r(_ktab_conditional(vr, c, u0), rrng)
    else:
        c0 = _coalitions(vr, c, u0)
        v0 = _victory_matrix(vpm, c0)
        r = _big_r(_pce(pcem, v0, c0, np.arange(n), _log_victory(v0) if pcem == 0 else v0), rrng)
    w = s_tot * c
    r_hm = np.empty(n)  # h's estimate of each actor m's risk attitude
    u_mh = np.empty(n)  # ... of m's utility for h's position
    u_mm = np.empty(n)  # ... and for its own
    # --- best challenges (h = i) ---
    for h in range(n):
        best_gain = -np.inf
        best_j = -1
        best_p = 0.0
        rh = r[h]
        rh_self = _est_nra(rh, rh, adj)  # h's own utilities: KTAB's aUtil[h](h, .)
        u_hh = _bs_util(d[h, h], rh_self)
        for m in range(n):
            r_hm[m] = _est_nra(rh, r[m], adj)
            u_mh[m] = _bs_util(d[m, h], r_hm[m])
            u_mm[m] = _bs_util(d[m, m], r_hm[m])
        for j in range(n):
            if j == h:
                continue
            u_hj = _bs_util(d[h, j], rh_self)
            u_jh = u_mh[j]
            u_jj = u_mm[j]
            c_ij = 1e-10 + _vote(vr, w[h], u_hh - u_hj)
            c_ji = 1e-10 - _vote(vr, w[j], u_jh - u_jj)
            if tp == 0:
                add_i = 0.0
                add_j = 0.0
                for m in range(n):
                    if m == h or m == j:  # noqa: SIM109 (plain compares compile simply)
                        continue
                    u_nh = u_mh[m]
                    u_nj = _bs_util(d[m, j], r_hm[m])
                    u_nn = u_mm[m]
                    vn = _vote(vr, w[m], u_nh - u_nj)
                    p_in = (c_ij + max(vn, 0.0)) / (c_ij + c_ji + abs(vn))
                    lose = u_nj - u_nn
                    delta = lose + p_in * ((u_nn - u_nh) - lose)
                    v3 = _vote(vr, w[m], delta)
                    if v3 > 0:
                        add_i += v3
                    else:
                        add_j -= v3
                c_ij += add_i
                c_ji += add_j
            p = c_ij / (c_ij + c_ji)
            s_j = s_tot[j]
            g = (1.0 - s_j) * 2.0 * u_hh + s_j * (p * 2.0 * u_hh + (1.0 - p) * 2.0 * u_hj) - (u_hh + u_hj)
            if g > best_gain:
                best_gain = g
                best_j = j
                best_p = p
        gain[h] = best_gain
        if best_gain > 1e-5:
            tgt[h] = best_j
            p_win[h] = best_p
        else:
            tgt[h] = -1
            p_win[h] = best_p
    # --- bargains: each side adds min_w to its own weight (KTAB's interpBrgnSnPm) ---
    scale = 10.0**decimals
    for i in range(n):
        j = tgt[i] if tgt[i] >= 0 else 0
        pi = p_win[i]
        pj = 1.0 - pi
        for q in range(k):
            if interp == 0:
                wi = (s[i, q] * s[i, q]) * (pi * pi)
                wj = (s[j, q] * s[j, q]) * (pj * pj)
            else:
                wi = s[i, q] * pi
                wj = s[j, q] * pj
            if min_w > 0:
                tot = wi + min_w + wj
                bq = ((wi + min_w) * x[i, q] + wj * x[j, q]) / tot
                br = (wi * x[i, q] + (min_w + wj) * x[j, q]) / tot
            else:
                if wi + wj > 0:  # noqa: SIM108
                    bq = (wi * x[i, q] + wj * x[j, q]) / (wi + wj)
                else:
                    bq = (x[i, q] + x[j, q]) / 2.0
                br = bq
            if decimals >= 0:
                lo = min(x[i, q], x[j, q])
                hi = max(x[i, q], x[j, q])
                bq = min(max(math.floor(0.5 + bq * scale) / scale, lo), hi)
                br = min(max(math.floor(0.5 + br * scale) / scale, lo), hi)
            barg[i, q] = bq
            barg_r[i, q] = br
    # --- each actor's election among its status quo and its bargains ---
    # a's utility of each current position with its estimate of its own risk attitude, of the
    # moved coordinates with its own; each state's mean summed in KTAB's order (pce.resolve)
    u_own = np.empty((n, n))
    for a in range(n):
        r_self = _est_nra(r[a], r[a], adj)
        for m in range(n):
            u_own[a, m] = _bs_util(d[a, m], r_self)
    db = _distances(x, barg, s)
    dr = _distances(x, barg_r, s)
    util = np.empty((n, n + 1))
    for a in range(n):
        base = 0.0
        for m in range(n):
            base += u_own[a, m]
        util[a, 0] = base / n
        for m in range(n):
            j = tgt[m] if tgt[m] >= 0 else 0
            acc = _bs_util(db[a, m], r[a])
            acc += _bs_util(dr[a, m], r[a])
            for o in range(n):
                if o != m and o != j:
                    acc += u_own[a, o]
            util[a, m + 1] = acc / n
    cm = _coalitions(vr, c, util)
    vm = _victory_matrix(vpm, cm)
    logvm = _log_victory(vm) if pcem == 0 else vm
    new = x.copy()
    opts = np.empty(n + 1, np.int64)
    for kk in range(n):
        q = 1
        opts[0] = 0
        for m in range(n):
            if tgt[m] >= 0 and (m == kk or tgt[m] == kk):
                opts[q] = m + 1
                q += 1
        p = _pce(pcem, vm, cm, opts[:q], logvm)
        pick = 0
        if u_rand.shape[0] == 0:
            for i in range(1, q):
                if p[i] > p[pick]:
                    pick = i
        else:
            tot = 0.0
            for i in range(q):
                tot += p[i]
            thr = u_rand[kk] * tot
            acc = 0.0
            pick = q - 1
            for i in range(q):
                acc += p[i]
                if acc >= thr:
                    pick = i
                    break
        choice[kk] = opts[pick]
        if opts[pick] > 0:
            m = opts[pick] - 1
            new[kk, :] = barg[m, :] if m == kk else barg_r[m, :]
    return new


@njit(cache=True)
def _run_one(x0, s, c, codes, adj, decimals, min_w, u_rand, max_turns, stop_ratio, tol,
             traj, tgt, p_win, gain, barg, barg_r, choice):
    """All turns of one draw; returns (turns, status: 0 cap, 1 converged, 2 oscillated)."""
    n, k = x0.shape
    s_tot = np.zeros(n)
    for a in range(n):
        for q in range(k):
            s_tot[a] += s[a, q]
    traj[0] = x0
    x = x0.copy()
    first = 0.0
    empty = np.zeros(0)
    for t in range(1, max_turns + 1):
        ur = u_rand[t - 1] if u_rand.shape[0] > 0 else empty
        new = _turn(x, s, c, s_tot, codes, adj, decimals, min_w, ur, tgt[t - 1], p_win[t - 1],
                    gain[t - 1], barg[t - 1], barg_r[t - 1], choice[t - 1])
        moved = 0.0
        for a in range(n):
            sq = 0.0
            for q in range(k):
                sq += (new[a, q] - x[a, q]) ** 2
            moved += math.sqrt(sq)
        if t == 1:
            first = moved
        traj[t] = new
        if t >= 2 and moved / (first + 1e-4) < stop_ratio:
            return t, 1
        if moved > tol:
            for old in range(t - 1):
                same = True
                for a in range(n):
                    for q in range(k):
                        if abs(new[a, q] - traj[old, a, q]) > tol:
                            same = False
                            break
                    if not same:
                        break
                if same:
                    return t, 2
        x = new
    return max_turns, 0


@njit(cache=True)
def run_draws(x0, s, c, codes, adj, decimals, min_w, u_rand, max_turns, stop_ratio, tol,
              traj, tgt, p_win, gain, barg, barg_r, choice):
    """Every draw's turns. `traj` [D, T + 1, N, K] receives every state, or, when it holds two
    states per draw, the initial and the final one. The per-turn records (tgt, p_win, gain,
    barg, barg_r, choice: [L, T, N(, K)]) are kept for the first L draws only (L = 0 or 1: the
    explain log); the others use one scratch buffer, so a large batch allocates no
    [D, T, N, K] arrays."""
    nd, n, k = x0.shape
    full = traj.shape[1] == max_turns + 1
    hist = np.empty((max_turns + 1, n, k))
    s_tgt = np.empty((max_turns, n), np.int64)
    s_p = np.empty((max_turns, n))
    s_g = np.empty((max_turns, n))
    s_b = np.empty((max_turns, n, k))
    s_br = np.empty((max_turns, n, k))
    s_ch = np.empty((max_turns, n), np.int64)
    turns = np.zeros(nd, np.int64)
    status = np.zeros(nd, np.int64)
    for dd in range(nd):
        h = traj[dd] if full else hist
        if dd < tgt.shape[0]:
            tt, st = _run_one(x0[dd], s[dd], c[dd], codes, adj, decimals, min_w, u_rand[dd],
                              max_turns, stop_ratio, tol, h, tgt[dd], p_win[dd], gain[dd],
                              barg[dd], barg_r[dd], choice[dd])
        else:
            tt, st = _run_one(x0[dd], s[dd], c[dd], codes, adj, decimals, min_w, u_rand[dd],
                              max_turns, stop_ratio, tol, h, s_tgt, s_p, s_g, s_b, s_br, s_ch)
        if not full:
            traj[dd, 0] = hist[0]
            traj[dd, 1] = hist[tt]
        turns[dd] = tt
        status[dd] = st
    return turns, status
