"""Compiled engine of the `nash` model (numba): the same algorithm as nash.py, draw by draw.

Why: the numpy engine moves a working set of draws through each Newton step together, about 9 us
per draw and step on a 7 x 6 scenario, spent mostly streaming [N, K, B] arrays through memory.
Here each draw runs alone in scalar loops over its few actors and issues (~2.3 us a step), with
every work array allocated once per call: `prepare` does what `nash._solve_chunk` does before
the interior-point method (disagreement points, normalisation, verdicts, the pair certificate,
the start), `solve_draws` the method itself with the same phases, certificates, stopping rules,
careful mode and safeguards as `nash._interior_point` (and its `_newton_step`, `_newton_quad`,
`_progress`, `_upper_bound`: read those for the reasoning), then `clip_to_hull` and `snap`.
Sums follow numpy's order where that was cheap, but not everywhere, so results agree with the
numpy engine to rounding (tested: the same agreement flags, packages within 1e-6 scale points),
not bit for bit. Draws are independent, so a draw's result does not depend on its chunk.
Work arrays are indexed by row rather than through views: numba reference-counts views and
array arguments with atomic operations, which cost more than the arithmetic of a step.
Compiled on first use and cached on disk (numba `cache=True`).

Arrays are draws-first ([B, N, K]); unit-scale positions, saliences normalised per actor, the
largest gains g0 and capabilities c as `nash._normalise` returns them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# the constants of nash.py (tests check they match)
PARKED = 1e3
MU_FLOOR = 1e-3
SIGMA = 0.1
CENTRED_RES = 0.05
CENTRED_GAP = 3.0
GAP0 = 1e-2
FTB = 0.99
TAU0 = 1e-2
PATIENCE = 15
RESID = 1e-7

# rows of the [N, K] work array W
_Z, _S1, _S2, _D1, _D2, _IDL, _M, _REST, _V, _MV, _IS1, _IS2, _IL1, _IL2 = range(14)
_Y, _RE, _DE, _DS1, _DS2, _DL1, _DL2, _T1, _T2, _EN, _L1N, _L2N = range(14, 26)
_NW = 26
# rows of the [N] work array Vn
_HH, _CONF, _W, _RHO, _AOBJ, _A, _DHH, _DNU, _TNU, _NUN, _LAM, _Q = range(12)
_NV = 12
# rows of the [K + 1] work array R
_RHS, _STEP, _DU, _RU, _UN, _YV = range(6)
_NR = 6


@njit(cache=True, error_model="numpy", inline="always")
def _chol(S, L):
    """Cholesky factor of the lower triangle of S into L (as nash._chol_factor)."""
    n = S.shape[0]
    for j in range(n):
        acc = 0.0
        for q in range(j):
            acc += L[j, q] * L[j, q]
        dj = S[j, j] - acc
        floor = 1e-300 + 1e-15 * abs(S[j, j])
        if dj < floor:  # (NaN stays NaN, as with np.maximum)
            dj = floor
        dj = math.sqrt(dj)
        L[j, j] = dj
        for r in range(j + 1, n):
            acc = 0.0
            for q in range(j):
                acc += L[r, q] * L[j, q]
            L[r, j] = (S[r, j] - acc) / dj


@njit(cache=True, error_model="numpy", inline="always")
def _back(L, R):
    """Solve L L^T R[_STEP] = R[_RHS] (rows of one work array: no views, whose reference
    counting costs more than the arithmetic here)."""
    n = L.shape[0]
    for j in range(n):
        acc = 0.0
        for q in range(j):
            acc += L[j, q] * R[_YV, q]
        R[_YV, j] = (R[_RHS, j] - acc) / L[j, j]
    for j in range(n - 1, -1, -1):
        acc = 0.0
        for q in range(j + 1, n):
            acc += L[q, j] * R[_STEP, q]
        R[_STEP, j] = (R[_YV, j] - acc) / L[j, j]


@njit(cache=True, error_model="numpy")
def _gram(Vn, phi, S, free, R):
    """Lower triangle of sum_i w_i phi_i phi_i^T (w = Vn[_W]), plus R[_RU] + free on the first K
    diagonal entries (phi [N, K + 1])."""
    N, n = phi.shape
    for a in range(n):
        for b in range(a + 1):
            acc = 0.0
            for i in range(N):
                acc += Vn[_W, i] * phi[i, a] * phi[i, b]
            S[a, b] = acc
    for k in range(n - 1):
        S[k, k] += R[_RU, k] + free[k]


@njit(cache=True, error_model="numpy", inline="always")
def _fix_t(S, phase1):
    """Phase 2 keeps t fixed: last row and column of the identity."""
    if not phase1:
        n = S.shape[0]
        for q in range(n):
            S[n - 1, q] = 0.0
            S[q, n - 1] = 0.0
        S[n - 1, n - 1] = 1.0


@njit(cache=True, error_model="numpy", inline="always")
def _loss(zz, quadratic):
    return zz * zz if quadratic else abs(zz)


@njit(cache=True, error_model="numpy", inline="always")
def _slacks(x, sig, g0, actor, u, e, t, quadratic, W, Vn):
    """z, s1, s2 into W and Vn[_HH] (gain minus t; 1 for actors without a stake)."""
    N, K = x.shape
    for i in range(N):
        acc = 0.0
        for k in range(K):
            zz = u[k] - x[i, k]
            W[_Z, i, k] = zz
            if quadratic:
                W[_S1, i, k] = 1.0
                W[_S2, i, k] = 1.0
                acc += sig[i, k] * zz * zz
            else:
                W[_S1, i, k] = e[i, k] - zz
                W[_S2, i, k] = e[i, k] + zz
                acc += sig[i, k] * e[i, k]
        Vn[_HH, i] = g0[i] - acc - t if actor[i] else 1.0


@njit(cache=True, error_model="numpy")
def _reset_duals(x, sig, g0, c, pf, actor, u, e, t, phase1, tau, quadratic, lam1, lam2, nu, W,
                 Vn):
    """Multipliers on the central path at the starting gap of the phase; returns (mu, tau)."""
    N, K = x.shape
    hh = Vn[_HH]
    _slacks(x, sig, g0, actor, u, e, t, quadratic, W, Vn)
    tot = 0.0
    for i in range(N):
        if actor[i]:
            tot += 1.0 / hh[i]
    mu = 1.0 / max(tot, 1e-300) if phase1 else GAP0
    for i in range(N):
        for k in range(K):
            lam1[i, k] = mu * pf[i, k] / W[_S1, i, k]
            lam2[i, k] = 0.0 if quadratic else mu * pf[i, k] / W[_S2, i, k]
        con = actor[i] and (phase1 or c[i] <= 0.0)
        nu[i] = mu * (1.0 / hh[i]) if con else 0.0
    return mu, (tau if phase1 else TAU0)


@njit(cache=True, error_model="numpy")
def _recentre(x, sig, g0, pair, u, e, quadratic):
    """Epigraph slacks keeping every actor at half its gain at u (a centred phase-2 start)."""
    N, K = x.shape
    for i in range(N):
        acc = 0.0
        ssum = 0.0
        for k in range(K):
            acc += sig[i, k] * _loss(u[k] - x[i, k], quadratic)
            ssum += sig[i, k]
        eta = 0.5 * (g0[i] - acc) / (ssum if ssum > 0 else 1.0)
        for k in range(K):
            e[i, k] = _loss(u[k] - x[i, k], quadratic) + eta if pair[i, k] else PARKED


@njit(cache=True, error_model="numpy")
def _min_share(x, sig, g0, actor, u, quadratic):
    N, K = x.shape
    best = np.inf
    for i in range(N):
        if not actor[i]:
            continue
        acc = 0.0
        for k in range(K):
            acc += sig[i, k] * _loss(u[k] - x[i, k], quadratic)
        best = min(best, (g0[i] - acc) / g0[i])
    return best


@njit(cache=True, error_model="numpy")
def _upper_bound(x, sig, g0, actor, nu, quadratic, Vn):
    """max_y sum_i lam_i gain_i(y) / sum_i lam_i g0_i with lam = nu scaled to sum one (see
    nash._upper_bound)."""
    N, K = x.shape
    tot = 0.0
    for i in range(N):
        Vn[_LAM, i] = max(nu[i], 0.0) if actor[i] else 0.0
        tot += Vn[_LAM, i]
    tot = max(tot, 1e-300)
    for i in range(N):
        Vn[_LAM, i] = Vn[_LAM, i] / tot
    cost = 0.0
    for k in range(K):
        if quadratic:
            ws = 0.0
            wx = 0.0
            for i in range(N):
                w = Vn[_LAM, i] * sig[i, k]
                ws += w
                wx += w * x[i, k]
            mean = wx / (ws if ws > 0 else 1.0)
            for i in range(N):
                dz = x[i, k] - mean
                cost += Vn[_LAM, i] * sig[i, k] * dz * dz
        else:
            low = np.inf
            for j in range(N):
                acc = 0.0
                for i in range(N):
                    acc += Vn[_LAM, i] * sig[i, k] * abs(x[j, k] - x[i, k])
                low = min(low, acc)
            cost += low
    scale = 0.0
    for i in range(N):
        scale += Vn[_LAM, i] * g0[i]
    return (scale - cost) / max(scale, 1e-300)


@njit(cache=True, error_model="numpy", inline="always")
def _target(mu, gap, resid):
    """Barrier parameter lowered only once the iterate is centred (nash._target)."""
    if resid < CENTRED_RES and gap < CENTRED_GAP * mu:
        mu = SIGMA * min(mu, gap)
    return mu


@njit(cache=True, error_model="numpy")
def _merit(x, sig, g0, c, pair, pf, actor, phase1, u, R, e, W, t, dt, alpha, mu):
    """Barrier function of the linear-loss problem at (u, e, t) + alpha (R[_DU], W[_DE], dt)."""
    N, K = x.shape
    tt = t + alpha * dt
    logs = 0.0
    bar = 0.0
    for i in range(N):
        acc = 0.0
        row = 0.0
        for k in range(K):
            ee = e[i, k] + alpha * W[_DE, i, k]
            zz = (u[k] + alpha * R[_DU, k]) - x[i, k]
            s1 = ee - zz
            s2 = ee + zz
            if pair[i, k]:
                if s1 <= 0.0 or s2 <= 0.0:
                    return -np.inf
                row += pf[i, k] * math.log(s1 * s2)
            acc += sig[i, k] * ee
        bar += row
        if actor[i]:
            h = g0[i] - acc - tt
            if h <= 0.0:
                return -np.inf
            weight = mu if (phase1 or c[i] <= 0.0) else c[i]
            logs += weight * math.log(h)
    return (tt if phase1 else 0.0) + logs + mu * bar


@njit(cache=True, error_model="numpy", inline="always")
def _direction(corrector, x, sig, pf, actor, af, lam1, lam2, nu, phase1, W, Vn, R, L, mu_c,
               careful):
    """Newton direction (nash._newton_step's `direction`): the affine-scaling one, or the
    corrector aiming at mu_c minus the predictor's second-order terms (W[_T1], W[_T2],
    Vn[_TNU] hold the targets). Writes du, de, ds1, ds2, dl1, dl2, dhh, dnu; returns
    (dt, alpha, slope)."""
    N, K = x.shape
    for k in range(K):
        R[_RU, k] = 0.0
    asum = 0.0
    for i in range(N):
        if corrector:
            Vn[_A, i] = Vn[_AOBJ, i] + Vn[_CONF, i] * Vn[_TNU, i] / Vn[_HH, i]
        else:
            Vn[_A, i] = Vn[_AOBJ, i]
        asum += Vn[_A, i]
    # r_e, y and the right-hand side
    for i in range(N):
        vr = 0.0
        for k in range(K):
            if corrector:
                q1 = W[_T1, i, k] * W[_IS1, i, k]
                q2 = W[_T2, i, k] * W[_IS2, i, k]
                W[_T1, i, k] = q1  # (the targets are used up: keep q)
                W[_T2, i, k] = q2
                r = (q1 + q2) - Vn[_A, i] * sig[i, k]
                R[_RU, k] += q2 - q1
            else:
                r = -Vn[_A, i] * sig[i, k]
            W[_RE, i, k] = r
            vr += W[_V, i, k] * r
        coef = Vn[_RHO, i] * vr
        for k in range(K):
            W[_Y, i, k] = W[_RE, i, k] * W[_IDL, i, k] - coef * W[_V, i, k]
    r_t = 1.0 - asum if phase1 else 0.0
    wy = 0.0
    for k in range(K):
        acc = 0.0
        for i in range(N):
            acc += W[_M, i, k] * W[_Y, i, k]
        R[_RHS, k] = acc + R[_RU, k]
    if phase1:
        for i in range(N):
            acc = 0.0
            for k in range(K):
                acc += Vn[_W, i] * sig[i, k] * W[_Y, i, k]
            wy += acc
    R[_RHS, K] = r_t - wy
    _back(L, R)
    for k in range(K):
        R[_DU, k] = R[_STEP, k]
    dt = R[_STEP, K]
    # the rest of the direction and the ratio test
    fall = np.inf
    nan_check = 0.0  # (NaN if any ratio is NaN: they must propagate as np.minimum's do)
    worst_v = -np.inf
    slope = 0.0
    for i in range(N):
        mdu = 0.0
        for k in range(K):
            mdu += W[_MV, i, k] * R[_DU, k]
        coef = Vn[_RHO, i] * (mdu + dt)
        dsig = 0.0
        for k in range(K):
            de = W[_Y, i, k] + W[_M, i, k] * W[_IDL, i, k] * R[_DU, k] - coef * W[_V, i, k]
            W[_DE, i, k] = de
            ds1 = de - R[_DU, k]
            ds2 = de + R[_DU, k]
            W[_DS1, i, k] = ds1
            W[_DS2, i, k] = ds2
            dsig += sig[i, k] * de
            dl1 = -lam1[i, k] - W[_D1, i, k] * ds1
            dl2 = -lam2[i, k] - W[_D2, i, k] * ds2
            if corrector:
                dl1 += W[_T1, i, k]
                dl2 += W[_T2, i, k]
            W[_DL1, i, k] = dl1
            W[_DL2, i, k] = dl2
            f = min(min(ds1 * W[_IS1, i, k], ds2 * W[_IS2, i, k]),
                    min(dl1 * W[_IL1, i, k], dl2 * W[_IL2, i, k]))
            fall = min(fall, f)
            nan_check += f
            if careful:
                slope += W[_RE, i, k] * de
        dhh = -dsig - dt
        Vn[_DHH, i] = dhh
        dnu = -Vn[_CONF, i] * (nu[i] + (nu[i] / Vn[_HH, i]) * dhh)
        if corrector:
            dnu += Vn[_CONF, i] * Vn[_TNU, i] / Vn[_HH, i]
        Vn[_DNU, i] = dnu
        sh = -dhh / (Vn[_HH, i] + (1.0 - af[i])) * af[i]
        sn = -dnu / (nu[i] + (1.0 - Vn[_CONF, i])) * Vn[_CONF, i]
        v = max(sh, sn)
        if v > worst_v or v != v:
            worst_v = v
    worst = max(-fall, worst_v)
    if nan_check != nan_check or worst_v != worst_v:
        worst = np.nan
    if worst != worst:
        alpha = np.nan
    elif worst <= 0.0:
        alpha = np.inf
    else:
        alpha = 1.0 / worst
    if careful:
        for k in range(K):
            slope += R[_RU, k] * R[_DU, k]
        slope += r_t * dt
    return dt, alpha, slope


@njit(cache=True, error_model="numpy")
def _step_linear(x, sig, g0, c, pair, pf, free, actor, af, u, e, lam1, lam2, nu, t, mu, phase1,
                 careful, n_con, W, Vn, R, S, L, fresh):
    """One Mehrotra predictor-corrector step (nash._newton_step) on one draw. Returns (gap,
    resid, t, mu, bad): bad when the step was refused (a slack rounded to zero)."""
    N, K = x.shape
    if not fresh:  # (else left by the last step's update, from the same formulas)
        _slacks(x, sig, g0, actor, u, e, t, False, W, Vn)
    tot1 = 0.0
    tot2 = 0.0
    tot3 = 0.0
    ncon = 0.0
    for i in range(N):
        r1 = 0.0
        r2 = 0.0
        for k in range(K):
            r1 += lam1[i, k] * W[_S1, i, k]
            r2 += lam2[i, k] * W[_S2, i, k]
        tot1 += r1
        tot2 += r2
        con = actor[i] and (phase1 or c[i] <= 0.0)
        Vn[_CONF, i] = 1.0 if con else 0.0
        if con:
            tot3 += nu[i] * Vn[_HH, i]
            ncon += 1.0
    gap = (tot1 + tot2 + tot3) / max(n_con + ncon, 1.0)
    # scaling, residuals and the reduced system
    res_e = 0.0
    nucon = 0.0
    for i in range(N):
        cof = Vn[_CONF, i] * nu[i] + (1.0 - Vn[_CONF, i]) * c[i] / Vn[_HH, i]
        wi = cof / Vn[_HH, i] * af[i]
        Vn[_W, i] = wi
        Vn[_AOBJ, i] = (1.0 - Vn[_CONF, i]) * c[i] / Vn[_HH, i] * af[i]
        nucon += nu[i] * Vn[_CONF, i]
        sv = 0.0
        for k in range(K):
            npf = 1.0 - pf[i, k]
            is1 = 1.0 / W[_S1, i, k]
            is2 = 1.0 / W[_S2, i, k]
            d1 = lam1[i, k] * is1
            d2 = lam2[i, k] * is2
            idl = 1.0 / (d1 + d2 + npf)
            W[_IS1, i, k] = is1
            W[_IS2, i, k] = is2
            W[_D1, i, k] = d1
            W[_D2, i, k] = d2
            W[_IDL, i, k] = idl
            m = d1 - d2
            W[_M, i, k] = m
            W[_REST, i, k] = 4.0 * d1 * d2 * idl
            v = sig[i, k] * idl
            W[_V, i, k] = v
            sv += sig[i, k] * v
            W[_IL1, i, k] = 1.0 / (lam1[i, k] + npf)
            W[_IL2, i, k] = 1.0 / (lam2[i, k] + npf)
            obj = cof * sig[i, k]
            dual = lam1[i, k] + lam2[i, k]
            num = abs(dual - obj)
            den = dual + obj + 1e-300
            if not num < 0.999999 * res_e * den:  # (divide only where the maximum may grow)
                r = num / den
                if r > res_e or r != r:
                    res_e = r
        rho = wi / (1.0 + wi * sv)
        Vn[_RHO, i] = rho
        for k in range(K):
            W[_MV, i, k] = W[_M, i, k] * W[_V, i, k]
    resid = res_e
    for k in range(K):
        num = 0.0
        den = 0.0
        for i in range(N):
            num += lam2[i, k] - lam1[i, k]
            den += lam1[i, k] + lam2[i, k]
        r = abs(num) / (den + 1e-300)
        if r > resid or r != r:
            resid = r
    if phase1:
        r = abs(1.0 - nucon)
        if r > resid or r != r:
            resid = r
    # S = diag(rest) + sum_i rho_i phi_i phi_i^T, phi_i = (m v, 1)
    for a in range(K):
        for b in range(a + 1):
            acc = 0.0
            for i in range(N):
                acc += Vn[_RHO, i] * W[_MV, i, a] * W[_MV, i, b]
            S[a, b] = acc
    for b in range(K):
        acc = 0.0
        for i in range(N):
            acc += Vn[_RHO, i] * W[_MV, i, b]
        S[K, b] = acc
    acc = 0.0
    for i in range(N):
        acc += Vn[_RHO, i]
    S[K, K] = acc
    for k in range(K):
        acc = 0.0
        for i in range(N):
            acc += W[_REST, i, k]
        S[k, k] += acc + free[k]
    _fix_t(S, phase1)
    _chol(S, L)
    # predictor
    _, aff, _ = _direction(False, x, sig, pf, actor, af, lam1, lam2, nu, phase1, W, Vn, R, L,
                           0.0, False)
    aff = min(aff, 1.0) if aff == aff else aff
    c1 = 0.0
    c2 = 0.0
    c3 = 0.0
    for i in range(N):
        r1 = 0.0
        r2 = 0.0
        for k in range(K):
            r1 += (W[_S1, i, k] + aff * W[_DS1, i, k]) * (lam1[i, k] + aff * W[_DL1, i, k])
            r2 += (W[_S2, i, k] + aff * W[_DS2, i, k]) * (lam2[i, k] + aff * W[_DL2, i, k])
        c1 += r1
        c2 += r2
        if Vn[_CONF, i] > 0.0:
            c3 += (Vn[_HH, i] + aff * Vn[_DHH, i]) * (nu[i] + aff * Vn[_DNU, i])
    gap_aff = max((c1 + c2 + c3) / max(n_con + ncon, 1.0), 0.0)
    ratio = gap_aff / max(gap, 1e-300)
    ratio = min(max(ratio, 0.0), 1.0)
    sigma = ratio**3.0  # (pow, as numpy's ** 3: the same rounding)
    hold = 0.0 if phase1 else min(resid, 1.0)
    mu_c = gap * max(max(sigma, MU_FLOOR), hold)
    if careful:
        mu = _target(mu, gap, resid)
        mu_c = mu
    # corrector targets
    for i in range(N):
        for k in range(K):
            if careful:
                W[_T1, i, k] = mu_c * pf[i, k]
                W[_T2, i, k] = mu_c * pf[i, k]
            else:
                W[_T1, i, k] = mu_c * pf[i, k] - W[_DS1, i, k] * W[_DL1, i, k]
                W[_T2, i, k] = mu_c * pf[i, k] - W[_DS2, i, k] * W[_DL2, i, k]
        Vn[_TNU, i] = mu_c if careful else mu_c - Vn[_DHH, i] * Vn[_DNU, i]
    dt, alpha, slope = _direction(True, x, sig, pf, actor, af, lam1, lam2, nu, phase1, W, Vn, R,
                                  L, mu_c, careful)
    alpha = min(1.0, FTB * alpha)
    if not math.isfinite(alpha):
        alpha = 0.0
    if careful and alpha > 0.0:
        f0 = _merit(x, sig, g0, c, pair, pf, actor, phase1, u, R, e, W, t, dt, 0.0, mu_c)
        for _ in range(40):
            f1 = _merit(x, sig, g0, c, pair, pf, actor, phase1, u, R, e, W, t, dt, alpha,
                        mu_c)
            if f1 >= f0 + 1e-4 * alpha * slope:
                break
            alpha = 0.5 * alpha
    # the new iterate, kept only if every slack stays positive
    bad = False
    for k in range(K):
        R[_UN, k] = u[k] + alpha * R[_DU, k]
        if not math.isfinite(R[_UN, k]):
            bad = True
    tn = t + alpha * dt
    for i in range(N):
        acc = 0.0
        for k in range(K):
            en = e[i, k] + alpha * W[_DE, i, k]
            W[_EN, i, k] = en
            l1 = lam1[i, k] + alpha * W[_DL1, i, k]
            l2 = lam2[i, k] + alpha * W[_DL2, i, k]
            W[_L1N, i, k] = l1
            W[_L2N, i, k] = l2
            if not math.isfinite(l1 + l2):
                bad = True
            zz = R[_UN, k] - x[i, k]
            s1 = en - zz
            s2 = en + zz
            W[_Z, i, k] = zz  # (the next step's slacks, see `fresh`)
            W[_S1, i, k] = s1
            W[_S2, i, k] = s2
            if min(s1, s2) <= 0.0:
                bad = True
            acc += sig[i, k] * en
        Vn[_NUN, i] = nu[i] + alpha * Vn[_DNU, i]
        h = g0[i] - acc - tn
        Vn[_HH, i] = h if actor[i] else 1.0
        if actor[i] and h <= 0.0:
            bad = True
    if bad:
        return gap, resid, t, mu, True
    for k in range(K):
        u[k] = R[_UN, k]
    for i in range(N):
        for k in range(K):
            e[i, k] = W[_EN, i, k]
            lam1[i, k] = W[_L1N, i, k]
            lam2[i, k] = W[_L2N, i, k]
        nu[i] = Vn[_NUN, i]
    return gap, resid, tn, mu, False


@njit(cache=True, error_model="numpy")
def _step_quadratic(x, sig, g0, c, free, actor, u, nu, t, mu, tau, phase1, W, Vn, R, S, L, phi):
    """Quadratic loss (nash._newton_quad) on one draw. Returns (gap or decrement, resid, t, mu,
    tau)."""
    N, K = x.shape
    ncon = 0.0
    tot = 0.0
    nucon = 0.0
    for i in range(N):
        acc = 0.0
        for k in range(K):
            zz = u[k] - x[i, k]
            W[_Z, i, k] = zz
            acc += sig[i, k] * zz * zz
        Vn[_HH, i] = g0[i] - acc - t if actor[i] else 1.0
        con = actor[i] and (phase1 or c[i] <= 0.0)
        Vn[_CONF, i] = 1.0 if con else 0.0
        if con:
            tot += nu[i] * Vn[_HH, i]
            ncon += 1.0
            nucon += nu[i]
    gap = tot / max(ncon, 1.0)
    resid = 0.0
    for k in range(K):
        num = 0.0
        den = 0.0
        for i in range(N):
            if actor[i]:
                coef = nu[i] if Vn[_CONF, i] > 0.0 else c[i] / Vn[_HH, i]
                b = coef * sig[i, k] * W[_Z, i, k]
                num += b
                den += abs(b)
        r = abs(num) / (den + 1e-300)
        if r > resid or r != r:
            resid = r
    if phase1:
        r = abs(1.0 - nucon)
        if r > resid or r != r:
            resid = r
    mu = _target(mu, gap, resid)
    for i in range(N):
        cw = c[i] + tau
        con = Vn[_CONF, i] > 0.0
        if not actor[i]:
            Vn[_A, i] = 0.0
            Vn[_W, i] = 0.0
            Vn[_Q, i] = 0.0
        elif con:
            Vn[_A, i] = mu / Vn[_HH, i]
            Vn[_W, i] = nu[i] / Vn[_HH, i]
            Vn[_Q, i] = nu[i]
        else:
            Vn[_A, i] = cw / Vn[_HH, i]
            Vn[_W, i] = cw / (Vn[_HH, i] * Vn[_HH, i])
            Vn[_Q, i] = cw / Vn[_HH, i]
        for k in range(K):
            phi[i, k] = 2.0 * sig[i, k] * W[_Z, i, k]
        phi[i, K] = 1.0
    for k in range(K):
        acc = 0.0
        for i in range(N):
            acc += Vn[_Q, i] * sig[i, k]
        R[_RU, k] = 2.0 * acc
    _gram(Vn, phi, S, free, R)
    for q in range(K + 1):
        acc = 0.0
        for i in range(N):
            acc += Vn[_A, i] * phi[i, q]
        R[_RHS, q] = -acc
    R[_RHS, K] += 1.0
    _fix_t(S, phase1)
    if not phase1:
        R[_RHS, K] = 0.0
    _chol(S, L)
    _back(L, R)
    dt = R[_STEP, K]
    dec = 0.0
    for q in range(K + 1):
        dec += R[_RHS, q] * R[_STEP, q]
    dec = max(dec, 0.0)
    amax = np.inf
    anu = np.inf
    for i in range(N):
        A = 0.0
        szdu = 0.0
        for k in range(K):
            A += sig[i, k] * R[_STEP, k] * R[_STEP, k]
            szdu += sig[i, k] * W[_Z, i, k] * R[_STEP, k]
        Bc = -2.0 * szdu - dt
        dhh = Bc
        if actor[i]:
            root = np.sqrt(Bc * Bc + 4.0 * A * Vn[_HH, i])
            if A <= 0.0 and Bc >= 0.0:
                am = np.inf
            elif Bc <= 0.0:
                am = 2.0 * Vn[_HH, i] / (root - Bc)
            else:
                am = (Bc + root) / (2.0 * A)
            if am < amax or am != am:
                amax = am
        dnu = 0.0
        if Vn[_CONF, i] > 0.0:
            dnu = mu / Vn[_HH, i] - nu[i] - (nu[i] / Vn[_HH, i]) * dhh
            if dnu < 0.0:
                an = -nu[i] / dnu
                if an < anu:
                    anu = an
        Vn[_DNU, i] = dnu
    alpha = min(1.0, FTB * min(amax, anu))
    if amax != amax:
        alpha = np.nan
    if not phase1 and dec > 0.0625:
        alpha = min(alpha, 1.0 / (1.0 + math.sqrt(dec)))
    if not math.isfinite(alpha):
        alpha = 0.0
    for k in range(K):
        u[k] = u[k] + alpha * R[_STEP, k]
    t = t + alpha * dt
    for i in range(N):
        nu[i] = nu[i] + alpha * Vn[_DNU, i]
    if not phase1 and dec < 0.1 * tau:
        tau = 0.1 * tau if tau > 1e-12 else 0.0
    if phase1:
        return gap, 0.0, t, mu, tau
    return max(max(gap, dec), tau), 0.0, t, mu, tau


@njit(cache=True, error_model="numpy")
def solve_draws(x, sig, g0, c, u0, quadratic, min_gain, tol, max_iter, u_out, ok_out, flags):
    """The two-phase interior-point method of nash._interior_point, draw by draw.

    x, sig [B, N, K]; g0, c [B, N]; u0 [B, K] starting packages. Writes u_out [B, K], ok_out [B]
    and flags [B, 2] (given up at max_iter, stalled at the limits of floating point)."""
    B, N, K = x.shape
    W = np.zeros((_NW, N, K))
    Vn = np.zeros((_NV, N))
    R = np.zeros((_NR, K + 1))
    S = np.zeros((K + 1, K + 1))
    L = np.zeros((K + 1, K + 1))
    phi = np.zeros((N, K + 1))
    u = np.zeros(K)
    e = np.zeros((N, K))
    lam1 = np.zeros((N, K))
    lam2 = np.zeros((N, K))
    nu = np.zeros(N)
    pair = np.zeros((N, K), np.bool_)
    pf = np.zeros((N, K))
    free = np.zeros(K)
    actor = np.zeros(N, np.bool_)
    af = np.zeros(N)
    for b in range(B):
        xb, sb, gb, cb = x[b], sig[b], g0[b], c[b]
        # structure of the draw
        for k in range(K):
            free[k] = 1.0
        for i in range(N):
            actor[i] = False
            for k in range(K):
                p = sb[i, k] > 0.0
                pair[i, k] = p
                pf[i, k] = 1.0 if p else 0.0
                if p:
                    actor[i] = True
                    free[k] = 0.0
            af[i] = 1.0 if actor[i] else 0.0
        # starting point (nash._State.__init__)
        for k in range(K):
            u[k] = u0[b, k]
        gmin = np.inf
        npair = 0.0
        for i in range(N):
            acc = 0.0
            for k in range(K):
                acc += sb[i, k] * _loss(u[k] - xb[i, k], quadratic)
                if pair[i, k]:
                    npair += 1.0
            if actor[i]:
                gmin = min(gmin, (gb[i] - acc) / gb[i])
        feasible = gmin > 1e-6
        tmin = np.inf
        for i in range(N):
            acc = 0.0
            ssum = 0.0
            for k in range(K):
                acc += sb[i, k] * _loss(u[k] - xb[i, k], quadratic)
                ssum += sb[i, k]
            eta = 0.5 * (gb[i] - acc) / (ssum if ssum > 0 else 1.0) if feasible else 1e-2
            acc = 0.0
            for k in range(K):
                e[i, k] = _loss(u[k] - xb[i, k], quadratic) + eta if pair[i, k] else PARKED
                acc += sb[i, k] * e[i, k]
            if actor[i]:
                tmin = min(tmin, gb[i] - acc)
        t = 0.0 if feasible else tmin - 1.0
        phase1 = not feasible
        n_con = 0.0 if quadratic else 2.0 * npair
        mu, tau = _reset_duals(xb, sb, gb, cb, pf, actor, u, e, t, phase1, 0.0, quadratic, lam1,
                               lam2, nu, W, Vn)
        fresh = True  # W[_Z], W[_S1], W[_S2], Vn[_HH] hold the slacks of (u, e, t)
        done = False
        ok = False
        stalled = False
        careful = False
        gave_up = False
        best = np.inf
        since = 0
        age = 0
        while not done:
            if age >= max_iter:
                gave_up = True
                ok = not phase1
                stalled = False
                break
            if quadratic:
                gap, resid, t, mu, tau = _step_quadratic(xb, sb, gb, cb, free, actor, u, nu, t, mu,
                                                         tau, phase1, W, Vn, R, S, L, phi)
            else:
                gap, resid, t, mu, bad = _step_linear(xb, sb, gb, cb, pair, pf, free, actor, af, u,
                                                      e, lam1, lam2, nu, t, mu, phase1, careful,
                                                      n_con, W, Vn, R, S, L, fresh)
                fresh = not bad
                if bad:
                    stalled = True
            age += 1
            # nash._progress
            if gap < 0.5 * best:
                best = gap
                since = 0
            else:
                since += 1
            if since >= PATIENCE and not careful and not quadratic:
                careful = True
                mu = gap
                since = 0
            found = False
            if phase1:
                ub = _upper_bound(xb, sb, gb, actor, nu, quadratic, Vn)
                if ub <= min_gain or gap < 1e-15:
                    done = True
                elif _min_share(xb, sb, gb, actor, u, quadratic) > min_gain:
                    found = True
            if found:
                phase1 = False
                stalled = False
                careful = False
                best = np.inf
                since = 0
                t = 0.0
                _recentre(xb, sb, gb, pair, u, e, quadratic)
                mu, tau = _reset_duals(xb, sb, gb, cb, pf, actor, u, e, t, phase1, tau, quadratic,
                                       lam1, lam2, nu, W, Vn)
                fresh = True
            elif not phase1 and not done and ((gap <= tol and resid <= RESID) or stalled):
                ok = True
                done = True
            if phase1 and stalled:
                done = True
        for k in range(K):
            u_out[b, k] = u[k]
        ok_out[b] = ok
        flags[b, 0] = gave_up
        flags[b, 1] = stalled and not gave_up


@njit(cache=True, error_model="numpy")
def pair_certificate(x, shat, g0, min_gain, out):
    """nash._pair_certificate draw by draw: out[b] True where two actors alone prove that no
    package gives every actor more than `min_gain` of its largest gain (linear loss)."""
    D, N, K = x.shape
    sig = np.empty((N, K))
    inv = np.empty((N, K))
    active = np.empty(N, np.bool_)
    for b in range(D):
        out[b] = False
        for i in range(N):
            g = g0[b, i] if g0[b, i] > 0 else 1.0
            tot = 0.0
            for k in range(K):
                sig[i, k] = shat[b, i, k] / g
                inv[i, k] = 1.0 / sig[i, k] if sig[i, k] != 0.0 else np.inf
                tot += shat[b, i, k]
            active[i] = tot > 0
        for i in range(N):
            if not active[i] or out[b]:
                continue
            for j in range(i + 1, N):
                if not active[j]:
                    continue
                # filter: each issue's term is at most its value at its own breakpoint
                reach = 0.0
                for k in range(K):
                    reach += abs(x[b, i, k] - x[b, j, k]) / (inv[i, k] + inv[j, k])
                if not reach >= 1.0 - min_gain - 1e-12:
                    continue
                best = 0.0
                for q in range(K):  # the breakpoints, one per issue
                    tot = sig[i, q] + sig[j, q]
                    lam = sig[j, q] / (tot if tot > 0 else 1.0)
                    acc = 0.0
                    for k in range(K):
                        dist = abs(x[b, i, k] - x[b, j, k])
                        acc += min(lam * (sig[i, k] * dist), (1.0 - lam) * (sig[j, k] * dist))
                    best = max(best, acc)
                if 1.0 - best <= min_gain:
                    out[b] = True
                    break


@njit(cache=True, error_model="numpy")
def _value(x, sig, g0, c, u):
    """Linear-loss objective sum_i c_i log gain_i at u (nash._value); -inf where an actor with
    a stake does not gain."""
    N, K = x.shape
    val = 0.0
    for i in range(N):
        acc = 0.0
        ssum = 0.0
        for k in range(K):
            acc += sig[i, k] * abs(u[k] - x[i, k])
            ssum += sig[i, k]
        if ssum > 0:
            gain = g0[i] - acc
            if not gain > 0:
                return -np.inf
            val += c[i] * math.log(gain)
    return val


@njit(cache=True, error_model="numpy")
def snap(x, sig, g0, c, u):
    """nash._snap draw by draw (u [B, K] changed in place): each issue onto the nearest
    stakeholder's position within 0.1 scale points when that does not lower the objective."""
    B, N, K = x.shape
    cand = np.empty(K)
    for b in range(B):
        f = _value(x[b], sig[b], g0[b], c[b], u[b])
        for k in range(K):
            near = np.inf
            at = 0.0
            for j in range(N):
                if sig[b, j, k] > 0:
                    dist = abs(x[b, j, k] - u[b, k])
                    if dist < near:
                        near = dist
                        at = x[b, j, k]
            if not near < 1e-3:
                continue
            for q in range(K):
                cand[q] = u[b, q]
            cand[k] = at
            fc = _value(x[b], sig[b], g0[b], c[b], cand)
            if fc >= f:
                u[b, k] = at
                f = fc


OPEN, HOPELESS, NO_STAKE, SETTLED = 0, 1, 2, 3
"""What `prepare` found for a draw: to be solved, an actor that cannot gain, nobody with a
stake (a vacuous agreement), no deal proved by the pair certificate."""


@njit(cache=True, error_model="numpy")
def prepare(pos, sal, cap, engaged, sq, res, use_res, quadratic, min_gain, x, shat, g0, c, u0,
            state):
    """nash.disagreement_points, nash._normalise, the draw's verdicts before any Newton step
    (the pair certificate for the linear loss) and nash._start, draw by draw. Fills x, shat
    [D, N, K], g0, c [D, N], u0 [D, K] (where a package is reported) and state [D]."""
    D, N, K = pos.shape
    d = np.empty((N, K))
    sig = np.empty((N, K))
    cand = np.empty(K)
    best_u = np.empty(K)
    order = np.empty(N, np.int64)
    one = np.empty(1, np.bool_)
    for b in range(D):
        xb, sb = x[b], shat[b]
        # disagreement points and the normalised problem
        ctot = 0.0
        hopeless = False
        for i in range(N):
            tot = 0.0
            for k in range(K):
                dd = sq[b, k]
                if use_res and not math.isnan(res[b, i, k]):
                    dd = res[b, i, k]
                if math.isnan(dd):
                    dd = 100.0 if pos[b, i, k] <= 50.0 else 0.0
                d[i, k] = dd
                xb[i, k] = (pos[b, i, k] if engaged[i, k] else 0.0) / 100.0
                s = sal[b, i, k] if engaged[i, k] else 0.0
                s = s if s > 0 else 0.0
                sb[i, k] = s
                tot += s
            active = tot > 0
            g = 0.0
            for k in range(K):
                sb[i, k] = sb[i, k] / (tot if active else 1.0)
                g += sb[i, k] * _loss(d[i, k] / 100.0 - xb[i, k], quadratic)
            if active and not g > 1e-12:
                hopeless = True
            g0[b, i] = g if active else 0.0
            c[b, i] = cap[b, i] if active else 0.0
            ctot += c[b, i]
        no_stake = True
        for i in range(N):
            c[b, i] = c[b, i] / (ctot if ctot > 0 else 1.0)
            if c[b, i] > 0:
                no_stake = False
        if hopeless:
            state[b] = HOPELESS
            continue
        if no_stake:
            state[b] = NO_STAKE
        else:
            state[b] = OPEN
            if not quadratic:
                pair_certificate(x[b : b + 1], shat[b : b + 1], g0[b : b + 1], min_gain, one)
                if one[0]:
                    state[b] = SETTLED
                    continue
        # starting package (nash._start)
        for i in range(N):
            g = g0[b, i] if g0[b, i] > 0 else 1.0
            for k in range(K):
                sig[i, k] = sb[i, k] / g
        best = -np.inf
        for which in range(4):
            for k in range(K):
                wf = 0.0
                wfx = 0.0
                for i in range(N):
                    if engaged[i, k]:
                        wf += cap[b, i]
                        wfx += cap[b, i] * xb[i, k]
                free = 0.5 if math.isnan(sq[b, k]) else sq[b, k] / 100.0
                if wf > 0:
                    free = wfx / max(wf, 1e-300)
                ws = 0.0
                for i in range(N):
                    ws += sig[i, k]
                if not ws > 0:
                    cand[k] = free
                    continue
                if which < 3:
                    tot = 0.0
                    acc = 0.0
                    for i in range(N):
                        if which == 0:
                            w = cap[b, i] * sig[i, k]
                        elif which == 1:
                            w = sig[i, k]
                        else:
                            w = sig[i, k] * sig[i, k]
                        tot += w
                        acc += w * xb[i, k]
                    cand[k] = acc / (tot if tot > 0 else 1.0)
                else:  # sigma-weighted median (stable order of positions)
                    for i in range(N):
                        order[i] = i
                    for i in range(1, N):
                        j = i
                        while j > 0 and xb[order[j - 1], k] > xb[order[j], k]:
                            order[j - 1], order[j] = order[j], order[j - 1]
                            j -= 1
                    acc = 0.0
                    for i in range(N):  # (the total in sorted order, as numpy's cumsum)
                        acc += sig[order[i], k]
                    half = 0.5 * acc
                    acc = 0.0
                    cand[k] = xb[order[0], k]
                    for i in range(N):
                        acc += sig[order[i], k]
                        if acc >= half:
                            cand[k] = xb[order[i], k]
                            break
            worst = np.inf
            for i in range(N):
                acc = 0.0
                ssum = 0.0
                for k in range(K):
                    acc += sb[i, k] * _loss(cand[k] - xb[i, k], quadratic)
                    ssum += sb[i, k]
                if ssum > 0:
                    share = (g0[b, i] - acc) / (g0[b, i] if g0[b, i] > 0 else 1.0)
                    worst = min(worst, share)
            if worst > best or which == 0:
                best = worst
                for k in range(K):
                    best_u[k] = cand[k]
        for k in range(K):
            u0[b, k] = best_u[k]


@njit(cache=True, error_model="numpy")
def clip_to_hull(x, shat, u):
    """Each issue into the hull of its stakeholders' positions (u [B, K] in place): this only
    raises every gain."""
    B, N, K = x.shape
    for b in range(B):
        for k in range(K):
            lo = np.inf
            hi = -np.inf
            for i in range(N):
                if shat[b, i, k] > 0:
                    lo = min(lo, x[b, i, k])
                    hi = max(hi, x[b, i, k])
            if lo <= hi:
                u[b, k] = min(max(u[b, k], lo), hi)
