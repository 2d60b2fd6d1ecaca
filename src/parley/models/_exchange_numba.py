"""Compiled round of the exchange model (numba): Decide's loop one exchange at a time, per draw.

Why: the vectorised engine (`_exchange_round.py`) needs a sweep of array operations for every
few exchanges, and with one draw (a Decide file, `parley exchanges`) those sweeps cost mostly
fixed per-call overhead. Here the same rules run as plain loops: take the most profitable
live exchange, carry it out, re-value the exchanges it touched. Same arithmetic, in the same
order, as `_exchange_candidates.evaluate`; draws are independent, so results do not depend on
chunking. Compiled on first use and cached on disk (numba `cache=True`): the first Monte Carlo run after
installing pays the compilation once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MIN_MOVE = 1e-10
REACHED = 1e-9
SCALE = 1e9
EDGE = 1e-9  # tolerance of the scale's ends  # gains equal to 9 decimals tie
CAP_PASSES, CAP_STOPS, CAP_BLOCKED = 0, 1, 2  # the cap modes (`cap_mode` in exchange.py)


@njit(cache=True, error_model="numpy")
def _cap(rec, t_k, x0_sup, outcome_k, shift_k, x_dem, pos, w_sup, sign, amount, mode):
    """The shift on issue k after the cap at the demander (see `_exchange_candidates._cap`).
    `rec`: where the supplier stood after its first concession to this demander on k this round
    (NaN: none); `shift_k`: the weighted moves of the concessions the demander received on k.
    `mode`: CAP_PASSES, CAP_STOPS or CAP_BLOCKED. Scalars only, so numba inlines it with no
    reference counting."""
    had = not math.isnan(rec)
    own_rec = w_sup * (rec - x0_sup) if had else 0.0
    base = outcome_k * t_k + shift_k - own_rec
    known = (base + w_sup * (pos - x0_sup)) / t_k
    gap = (x_dem - known) * sign
    if mode == CAP_BLOCKED:
        if gap <= REACHED:
            return 0.0
        return min(amount, gap)
    if gap <= REACHED:
        if mode == CAP_STOPS and gap >= -REACHED:
            return 0.0
        return amount
    if amount > gap:
        at = rec if had else pos
        return abs(x_dem * t_k - base - w_sup * (at - x0_sup)) / t_k
    return amount


@njit(cache=True, error_model="numpy")
def _value(s_Ip, s_Iq, s_Jp, s_Jq, w_Iq, w_Jp, t_p, t_q, pos_I, pos_J, dem_I, dem_J, r, sI, sJ,
           hist_I, hist_J, rec_q, shift_q, O_q, x0_Iq, rec_p, shift_p, O_p, x0_Jp, mode, budget,
           rex, u, v, z):
    """Value one exchange on the round's current state: (valid, dp, dq, move_I, move_J, gain).

    I supplies on q (from pos_I towards dem_J, J's position), J on p (from pos_J towards dem_I);
    `rec_q`, `shift_q`, `O_q`, `x0_Iq` feed the cap on q at demander J, the `_p` ones the cap on
    p at demander I. Same arithmetic, in the same order, as `_exchange_candidates.evaluate`.
    Scalars in, scalars out: the hot loop calls it without touching arrays' reference counts.
    """
    dist_I = (dem_J - pos_I) * sI
    dist_J = (dem_I - pos_J) * sJ
    dp = dist_J * w_Jp / t_p
    dq = dp * r
    m_I = dq * t_q / w_Iq
    m_J = dist_J
    if m_I > dist_I:
        dq = dist_I * w_Iq / t_q
        dp = dq / r
        m_I = dist_I
        m_J = dp * t_p / w_Jp
    gain0 = s_Ip * dp - s_Iq * dq
    if not (dist_I > MIN_MOVE and dist_J > MIN_MOVE and m_I > MIN_MOVE and m_J > MIN_MOVE
            and gain0 > MIN_MOVE):
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    if budget and (hist_I + sI * m_I > 100.0 or hist_J + sJ * m_J > 100.0):
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    capped = _cap(rec_q, t_q, x0_Iq, O_q, shift_q, dem_J, pos_I, w_Iq, sI, dq, mode)
    if capped != dq:
        dp = capped / r
    dq = capped
    capped = _cap(rec_p, t_p, x0_Jp, O_p, shift_p, dem_I, pos_J, w_Jp, sJ, dp, mode)
    if capped != dp:
        dq = capped * r
    dp = capped
    m_I = dq * t_q / w_Iq
    m_J = dp * t_p / w_Jp
    if not (m_I > MIN_MOVE and m_J > MIN_MOVE):
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    # Decide's check that a move stays on the scale (a cap counted from an earlier position can
    # overshoot)
    end_I, end_J = pos_I + sI * m_I, pos_J + sJ * m_J
    if not (-EDGE <= end_I <= 100.0 + EDGE and -EDGE <= end_J <= 100.0 + EDGE):
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    gain = s_Ip * dp - s_Iq * dq
    if rex > 0.0:  # REX: one side's gain redrawn within the equal-gain shifts
        eu = s_Ip * dp - s_Iq * dq
        side_i = u < 0.5
        eu_max = dq * (s_Ip * s_Jq / s_Jp - s_Iq) if side_i else dp * (s_Jq * s_Ip / s_Iq - s_Jp)
        new = eu + rex * z * (eu_max - eu) if v < 0.5 else eu - rex * z * eu
        if u < 0.5:
            dp = min((new + s_Iq * dq) / s_Ip, dp)
        else:
            dq = min((new + s_Jp * dp) / s_Jq, dq)
        gain = max(s_Ip * dp - s_Iq * dq, s_Jq * dq - s_Jp * dp)
        if math.isnan(gain):
            gain = 0.0
        m_I = dq * t_q / w_Iq
        m_J = dp * t_p / w_Jp
    return True, dp, dq, sI * m_I, sJ * m_J, gain


@njit(cache=True, error_model="numpy")
def run_rounds(x, s, w, total, step, rounds, pi, pj, pp, pq, n_ipairs, tie_u, rex_u, rex,
               mode, budget, min_gain, traj, made_out, pref_out, log_draw, log_out):
    """All rounds for every draw. x[D, N, K] start positions; tie_u[R, D, C] random tie keys
    (R = 0: Decide's creation order); rex_u[R, D, 3, C] REX uniforms (R = 0 without REX).
    Fills traj[D, rounds + 1, N, K] (voting positions per round), made_out[D, rounds] and
    pref_out[D, K] (the last round's preference MDS); for draw `log_draw` (-1: none) each
    exchange in order into log_out[round, n, :] (I, J, p, q, from/to of I on q, from/to of J on
    p, signed outcome shifts on p and q, gains of I and J; unused rows keep I = -1).

    Each round values every candidate, then repeats: carry out the live exchange with the
    largest gain (to 9 decimals; ties to the lower rank, unique per candidate, so the order in
    which live exchanges are kept does not matter), and re-value the live exchanges it touched
    (the same supplier on the same issue, or the same demander on the same issue). Valuing is
    one loop over a to-do list, for the round's first valuation and every re-valuation alike.
    """
    d_n, n, k = x.shape
    n_c = pi.size
    n_pairs = n_c // n_ipairs if n_ipairs > 0 else 0
    opp = np.zeros((n_pairs, k), np.bool_)
    O = np.zeros(k)
    I = np.empty(n_c, np.int64)
    J = np.empty(n_c, np.int64)
    P = np.empty(n_c, np.int64)
    Q = np.empty(n_c, np.int64)
    sI = np.empty(n_c)
    sJ = np.empty(n_c)
    ratio = np.empty(n_c)
    rank = np.empty(n_c)
    cidx = np.empty(n_c, np.int64)
    hist_I = np.zeros(n_c)
    hist_J = np.zeros(n_c)
    g9 = np.zeros(n_c, np.int64)
    v_dp = np.zeros(n_c)
    v_dq = np.zeros(n_c)
    v_mI = np.zeros(n_c)
    v_mJ = np.zeros(n_c)
    sIq = np.empty(n_c, np.int64)  # flat (actor, issue) slots: I supplies on q, ...
    sJp = np.empty(n_c, np.int64)
    sJq = np.empty(n_c, np.int64)  # J demands on q
    sIp = np.empty(n_c, np.int64)
    u = np.zeros(n_c)
    vv = np.zeros(n_c)
    z = np.zeros(n_c)
    live = np.empty(n_c, np.int64)  # the live exchanges, in no particular order
    todo = np.empty(n_c, np.int64)  # the exchanges to (re-)value
    recv = np.empty((n, k, n))
    shift = np.zeros((n, k))
    xd = np.empty((n, k))
    pos = np.empty((n, k))
    for d in range(d_n):
        sd, wd, td = s[d], w[d], total[d]
        xd[:] = x[d]
        traj[d, 0] = xd
        for r in range(rounds):
            for kk in range(k):
                acc = 0.0
                for a in range(n):
                    acc += wd[a, kk] * xd[a, kk]
                O[kk] = acc / td[kk]
                pref_out[d, kk] = O[kk]
            # the round's candidates: actor pairs on opposite sides of the outcome on both
            # issues, both engaged on both (in the order of `cidx`, Decide's creation order)
            for pr in range(n_pairs):
                i, j = pi[pr * n_ipairs], pj[pr * n_ipairs]
                for kk in range(k):
                    opp[pr, kk] = (wd[i, kk] > 0 and wd[j, kk] > 0
                                   and (xd[i, kk] <= O[kk]) != (xd[j, kk] <= O[kk]))
            m = 0
            for pr in range(n_pairs):
                for ipair in range(n_ipairs):
                    c = pr * n_ipairs + ipair
                    p, q = pp[c], pq[c]
                    if not (opp[pr, p] and opp[pr, q]):
                        continue
                    i, j = pi[c], pj[c]
                    if sd[i, p] * sd[j, q] < sd[j, p] * sd[i, q]:
                        bi, bj = j, i
                    else:
                        bi, bj = i, j
                    if xd[i, q] > O[q]:  # Decide's first actor: the one right of the outcome on q
                        first, second = i, j
                    else:
                        first, second = j, i
                    same = (xd[first, p] <= O[p]) == (xd[first, q] <= O[q])
                    if tie_u.shape[0] > 0:
                        rank[m] = tie_u[r, d, c]
                    else:
                        rank[m] = ((ipair * 2 + (0 if same else 1)) * n + first) * n + second
                    I[m], J[m], P[m], Q[m] = bi, bj, p, q
                    ratio[m] = (sd[bi, p] + sd[bj, p]) / (sd[bi, q] + sd[bj, q])
                    sI[m] = np.sign(xd[bj, q] - xd[bi, q])
                    sJ[m] = np.sign(xd[bi, p] - xd[bj, p])
                    cidx[m] = c
                    m += 1
            pos[:] = xd
            recv[:] = np.nan
            shift[:] = 0.0
            for c in range(m):
                hist_I[c] = 0.0
                hist_J[c] = 0.0
                todo[c] = c
                sIq[c] = I[c] * k + Q[c]
                sJp[c] = J[c] * k + P[c]
                sJq[c] = J[c] * k + Q[c]
                sIp[c] = I[c] * k + P[c]
                if rex > 0.0:
                    u[c] = rex_u[r, d, 0, cidx[c]]
                    vv[c] = rex_u[r, d, 1, cidx[c]]
                    z[c] = rex_u[r, d, 2, cidx[c]]
            n_live = 0
            n_todo = m
            best = -1  # the best live exchange that needs no re-valuation
            count = 0
            while True:
                # (re-)value the to-do list; those still worth making join the live ones
                for t in range(n_todo):
                    c = todo[t]
                    ci, cj, cp, cq = I[c], J[c], P[c], Q[c]
                    ok, dp, dq, mI, mJ, gain = _value(
                        sd[ci, cp], sd[ci, cq], sd[cj, cp], sd[cj, cq], wd[ci, cq], wd[cj, cp],
                        td[cp], td[cq], pos[ci, cq], pos[cj, cp], xd[ci, cp], xd[cj, cq],
                        ratio[c], sI[c], sJ[c], hist_I[c], hist_J[c],
                        recv[cj, cq, ci], shift[cj, cq], O[cq], xd[ci, cq],
                        recv[ci, cp, cj], shift[ci, cp], O[cp], xd[cj, cp],
                        mode, budget, rex, u[c], vv[c], z[c])
                    if not (ok and gain > min_gain):
                        continue
                    v_dp[c], v_dq[c], v_mI[c], v_mJ[c] = dp, dq, mI, mJ
                    g9[c] = np.int64(np.rint(gain * SCALE))
                    live[n_live] = c
                    n_live += 1
                    if best < 0 or g9[c] > g9[best] or (g9[c] == g9[best] and rank[c] < rank[best]):
                        best = c
                if best < 0:
                    break
                bi, bj, bp, bq = I[best], J[best], P[best], Q[best]
                y_I = min(100.0, max(0.0, pos[bi, bq] + v_mI[best]))
                y_J = min(100.0, max(0.0, pos[bj, bp] + v_mJ[best]))
                if math.isnan(recv[bj, bq, bi]):
                    recv[bj, bq, bi] = y_I
                    shift[bj, bq] += wd[bi, bq] * (y_I - xd[bi, bq])
                if math.isnan(recv[bi, bp, bj]):
                    recv[bi, bp, bj] = y_J
                    shift[bi, bp] += wd[bj, bp] * (y_J - xd[bj, bp])
                if d == log_draw:
                    log_out[r, count, 0] = bi
                    log_out[r, count, 1] = bj
                    log_out[r, count, 2] = bp
                    log_out[r, count, 3] = bq
                    log_out[r, count, 4] = pos[bi, bq]
                    log_out[r, count, 5] = y_I
                    log_out[r, count, 6] = pos[bj, bp]
                    log_out[r, count, 7] = y_J
                    log_out[r, count, 8] = sJ[best] * v_dp[best]
                    log_out[r, count, 9] = sI[best] * v_dq[best]
                    log_out[r, count, 10] = sd[bi, bp] * v_dp[best] - sd[bi, bq] * v_dq[best]
                    log_out[r, count, 11] = sd[bj, bq] * v_dq[best] - sd[bj, bp] * v_dp[best]
                pos[bi, bq] = y_I
                pos[bj, bp] = y_J
                count += 1
                # one pass over the other live exchanges: those it touched (the same supplier
                # on the same issue, or the same demander on the same issue) go to the to-do
                # list, the rest stay live and give the best one that needs no re-valuation
                b_sup1, b_sup2 = sIq[best], sJp[best]
                b_dem1, b_dem2 = sJq[best], sIp[best]
                done = best
                best = -1
                n_todo = 0
                kept = 0
                for ii in range(n_live):
                    c = live[ii]
                    if c == done:
                        continue
                    sup_i = sIq[c] == b_sup1 or sIq[c] == b_sup2
                    sup_j = sJp[c] == b_sup1 or sJp[c] == b_sup2
                    dem = (sJq[c] == b_dem1 or sJq[c] == b_dem2 or sIp[c] == b_dem1
                           or sIp[c] == b_dem2)
                    if sup_i or sup_j or dem:
                        if sup_i:
                            hist_I[c] += v_mI[c]
                        if sup_j:
                            hist_J[c] += v_mJ[c]
                        todo[n_todo] = c
                        n_todo += 1
                        continue
                    live[kept] = c
                    kept += 1
                    if best < 0 or g9[c] > g9[best] or (g9[c] == g9[best] and rank[c] < rank[best]):
                        best = c
                n_live = kept
            made_out[d, r] = count
            traj[d, r + 1] = pos
            if count == 0:
                for rr in range(r + 2, rounds + 1):
                    traj[d, rr] = pos
                break
            for a in range(n):
                for kk in range(k):
                    xd[a, kk] = xd[a, kk] + step[d, a, kk] * (pos[a, kk] - xd[a, kk])
