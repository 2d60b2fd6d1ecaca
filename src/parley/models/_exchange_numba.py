"""Compiled round of the exchange model (numba): Decide's loop one exchange at a time, per draw.

Why: the vectorised engine (`_exchange_round.py`) needs a sweep of array operations for every
few exchanges, and with one draw (a Decide file, `parley exchanges`) those sweeps cost mostly
fixed per-call overhead. Here the same rules run as plain loops: take the most profitable
live exchange, carry it out, re-value the exchanges it touched. Same arithmetic, in the same
order, as `_exchange_candidates.evaluate`; draws are independent, so results do not depend on
chunking. Compiled on first use and cached on disk (numba `cache=True`); optional extra
`parley[fast]`.
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


@njit(cache=True, error_model="numpy", inline="always")
def _cap(x0, w, total, outcome, recv, shift, dem, sup, k, x_dem, pos, w_sup, sign, amount,
         mode):
    """`mode`: CAP_PASSES, CAP_STOPS or CAP_BLOCKED (see `_exchange_candidates._cap`)."""
    rec = recv[dem, k, sup]
    had = not math.isnan(rec)
    t_k = total[k]
    x0_sup = x0[sup, k]
    own_rec = w_sup * (rec - x0_sup) if had else 0.0
    base = outcome[k] * t_k + shift[dem, k] - own_rec
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


@njit(cache=True, error_model="numpy", inline="always")
def _value(c, I, J, p, q, sI, sJ, ratio, hist_I, hist_J, x0, pos, s, w, total, outcome, recv,
           shift, mode, budget, rex, u, v, z, out):
    """Value cell c; writes (dp, dq, move_I, move_J, gain) into out and returns validity."""
    i, j, pp, qq = I[c], J[c], p[c], q[c]
    s_Ip, s_Iq, s_Jp, s_Jq = s[i, pp], s[i, qq], s[j, pp], s[j, qq]
    w_Iq, w_Jp = w[i, qq], w[j, pp]
    t_p, t_q = total[pp], total[qq]
    pos_I, pos_J = pos[i, qq], pos[j, pp]
    dem_I, dem_J = x0[i, pp], x0[j, qq]
    r = ratio[c]
    dist_I = (dem_J - pos_I) * sI[c]
    dist_J = (dem_I - pos_J) * sJ[c]
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
        return False
    if budget and (hist_I[c] + sI[c] * m_I > 100.0 or hist_J[c] + sJ[c] * m_J > 100.0):
        return False
    capped = _cap(x0, w, total, outcome, recv, shift, j, i, qq, dem_J, pos_I, w_Iq, sI[c], dq,
                  mode)
    if capped != dq:
        dp = capped / r
    dq = capped
    capped = _cap(x0, w, total, outcome, recv, shift, i, j, pp, dem_I, pos_J, w_Jp, sJ[c], dp,
                  mode)
    if capped != dp:
        dq = capped * r
    dp = capped
    m_I = dq * t_q / w_Iq
    m_J = dp * t_p / w_Jp
    if not (m_I > MIN_MOVE and m_J > MIN_MOVE):
        return False
    # Decide's check that a move stays on the scale (a cap counted from an earlier position can
    # overshoot)
    end_I, end_J = pos_I + sI[c] * m_I, pos_J + sJ[c] * m_J
    if not (-EDGE <= end_I <= 100.0 + EDGE and -EDGE <= end_J <= 100.0 + EDGE):
        return False
    gain = s_Ip * dp - s_Iq * dq
    if rex > 0.0:  # REX: one side's gain redrawn within the equal-gain shifts
        eu = s_Ip * dp - s_Iq * dq
        side_i = u[c] < 0.5
        eu_max = dq * (s_Ip * s_Jq / s_Jp - s_Iq) if side_i else dp * (s_Jq * s_Ip / s_Iq - s_Jp)
        new = eu + rex * z[c] * (eu_max - eu) if v[c] < 0.5 else eu - rex * z[c] * eu
        if u[c] < 0.5:
            dp = min((new + s_Iq * dq) / s_Ip, dp)
        else:
            dq = min((new + s_Jp * dp) / s_Jq, dq)
        gain = max(s_Ip * dp - s_Iq * dq, s_Jq * dq - s_Jp * dp)
        if math.isnan(gain):
            gain = 0.0
        m_I = dq * t_q / w_Iq
        m_J = dp * t_p / w_Jp
    out[0] = dp
    out[1] = dq
    out[2] = sI[c] * m_I
    out[3] = sJ[c] * m_J
    out[4] = gain
    return True


@njit(cache=True, error_model="numpy")
def run_rounds(x, s, w, total, step, rounds, pi, pj, pp, pq, n_ipairs, tie_u, rex_u, rex,
               mode, budget, min_gain, traj, made_out, pref_out, log_draw, log_out):
    """All rounds for every draw. x[D, N, K] start positions; tie_u[R, D, C] random tie keys
    (R = 0: Decide's creation order); rex_u[R, D, 3, C] REX uniforms (R = 0 without REX).
    Fills traj[D, rounds + 1, N, K] (voting positions per round), made_out[D, rounds] and
    pref_out[D, K] (the last round's preference MDS); for draw `log_draw` (-1: none) each
    exchange in order into log_out[round, n, :] (I, J, p, q, from/to of I on q, from/to of J on
    p, signed outcome shifts on p and q, gains of I and J; unused rows keep I = -1)."""
    d_n, n, k = x.shape
    n_c = pi.size
    out = np.zeros(5)
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
    vals = np.zeros((n_c, 5))
    u = np.zeros(n_c)
    vv = np.zeros(n_c)
    z = np.zeros(n_c)
    live = np.empty(n_c, np.int64)  # indices of the live cells (swap-removed as they die)
    recv = np.empty((n, k, n))
    shift = np.zeros((n, k))
    for d in range(d_n):
        sd, wd, td = s[d], w[d], total[d]
        xd = x[d].copy()
        traj[d, 0] = xd
        y = xd.copy()
        for r in range(rounds):
            for kk in range(k):
                acc = 0.0
                for a in range(n):
                    acc += w[d, a, kk] * xd[a, kk]
                O[kk] = acc / total[d, kk]
                pref_out[d, kk] = O[kk]
            # the round's candidates
            m = 0
            for c in range(n_c):
                i, j, p, q = pi[c], pj[c], pp[c], pq[c]
                if not (w[d, i, p] > 0 and w[d, i, q] > 0 and w[d, j, p] > 0 and w[d, j, q] > 0):
                    continue
                li_p, li_q = xd[i, p] <= O[p], xd[i, q] <= O[q]
                lj_p, lj_q = xd[j, p] <= O[p], xd[j, q] <= O[q]
                if li_p == lj_p or li_q == lj_q:
                    continue
                if s[d, i, p] * s[d, j, q] < s[d, j, p] * s[d, i, q]:
                    bi, bj = j, i
                else:
                    bi, bj = i, j
                if not li_q:
                    first, second = i, j
                else:
                    first, second = j, i
                same = (xd[first, p] <= O[p]) == (xd[first, q] <= O[q])
                ipair = c % n_ipairs
                if tie_u.shape[0] > 0:
                    rank[m] = tie_u[r, d, c]
                else:
                    rank[m] = ((ipair * 2 + (0 if same else 1)) * n + first) * n + second
                I[m], J[m], P[m], Q[m] = bi, bj, p, q
                ratio[m] = (s[d, bi, p] + s[d, bj, p]) / (s[d, bi, q] + s[d, bj, q])
                sI[m] = np.sign(xd[bj, q] - xd[bi, q])
                sJ[m] = np.sign(xd[bi, p] - xd[bj, p])
                cidx[m] = c
                m += 1
            pos = xd.copy()
            recv[:] = np.nan
            shift[:] = 0.0
            if rex > 0.0:
                for c in range(m):
                    u[c] = rex_u[r, d, 0, cidx[c]]
                    vv[c] = rex_u[r, d, 1, cidx[c]]
                    z[c] = rex_u[r, d, 2, cidx[c]]
            n_live = 0
            for c in range(m):
                hist_I[c] = 0.0
                hist_J[c] = 0.0
                ok = _value(c, I, J, P, Q, sI, sJ, ratio, hist_I, hist_J, xd, pos, sd, wd, td,
                            O, recv, shift, mode, budget, rex, u, vv, z, out)
                if ok and out[4] > min_gain:
                    vals[c] = out
                    g9[c] = np.int64(np.rint(out[4] * SCALE))
                    live[n_live] = c
                    n_live += 1
            count = 0
            while n_live > 0:
                at = 0
                best = live[0]
                for ii in range(1, n_live):
                    c = live[ii]
                    if g9[c] > g9[best] or (g9[c] == g9[best] and rank[c] < rank[best]):
                        best = c
                        at = ii
                n_live -= 1
                live[at] = live[n_live]
                bi, bj, bp, bq = I[best], J[best], P[best], Q[best]
                y_I = min(100.0, max(0.0, pos[bi, bq] + vals[best, 2]))
                y_J = min(100.0, max(0.0, pos[bj, bp] + vals[best, 3]))
                if math.isnan(recv[bj, bq, bi]):
                    recv[bj, bq, bi] = y_I
                    shift[bj, bq] += w[d, bi, bq] * (y_I - xd[bi, bq])
                if math.isnan(recv[bi, bp, bj]):
                    recv[bi, bp, bj] = y_J
                    shift[bi, bp] += w[d, bj, bp] * (y_J - xd[bj, bp])
                if d == log_draw:
                    row = log_out[r, count]
                    row[0], row[1], row[2], row[3] = bi, bj, bp, bq
                    row[4], row[5], row[6], row[7] = pos[bi, bq], y_I, pos[bj, bp], y_J
                    row[8], row[9] = sJ[best] * vals[best, 0], sI[best] * vals[best, 1]
                    row[10] = sd[bi, bp] * vals[best, 0] - sd[bi, bq] * vals[best, 1]
                    row[11] = sd[bj, bq] * vals[best, 1] - sd[bj, bp] * vals[best, 0]
                pos[bi, bq] = y_I
                pos[bj, bp] = y_J
                count += 1
                ii = 0
                while ii < n_live:
                    c = live[ii]
                    ci, cj, cp, cq = I[c], J[c], P[c], Q[c]
                    sup_i = (ci == bi and cq == bq) or (ci == bj and cq == bp)
                    sup_j = (cj == bi and cp == bq) or (cj == bj and cp == bp)
                    dem = ((cj == bj and cq == bq) or (cj == bi and cq == bp)
                           or (ci == bj and cp == bq) or (ci == bi and cp == bp))
                    if not (sup_i or sup_j or dem):
                        ii += 1
                        continue
                    if sup_i:
                        hist_I[c] += vals[c, 2]
                    if sup_j:
                        hist_J[c] += vals[c, 3]
                    ok = _value(c, I, J, P, Q, sI, sJ, ratio, hist_I, hist_J, xd, pos, sd, wd, td,
                                O, recv, shift, mode, budget, rex, u, vv, z, out)
                    if ok and out[4] > min_gain:
                        vals[c] = out
                        g9[c] = np.int64(np.rint(out[4] * SCALE))
                        ii += 1
                    else:
                        n_live -= 1
                        live[ii] = live[n_live]
            made_out[d, r] = count
            y = pos
            traj[d, r + 1] = y
            if count == 0:
                for rr in range(r + 2, rounds + 1):
                    traj[d, rr] = y
                break
            for a in range(n):
                for kk in range(k):
                    xd[a, kk] = xd[a, kk] + step[d, a, kk] * (y[a, kk] - xd[a, kk])
