"""Nash bargaining solution: the package maximising the capability-weighted product of gains.

maximise  sum_i c_i log(U_i(y) - U_i(d_i))  over packages y, with U_i(y) = -sum_k s_ik L(y_k - x_ik)

The objective is concave but couples the issues (the log of a sum), so it is solved as one small
convex program per draw, all draws at once: damped Newton steps on [D, K] with batched K x K
solves. Two continuations make that robust. A shift t M_i inside the log, lowered towards 0,
starts every draw feasible and tracks the solution as the shift vanishes; a smoothing of the
linear loss |z| ~ sqrt(z^2 + eps^2) - eps, lowered with it, keeps Newton's method defined at the
kinks where outcomes often sit (an actor's position). A draw where no package gives every
bargaining actor a positive gain has no solution: it is reported as no agreement, not a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from parley.batch import Batch
from parley.models.base import Outcome

SUMMARY = "Nash bargaining solution (capability-weighted product of gains over disagreement)"

_STAGES = (
    (2.0, 3.0),
    (0.5, 1.0),
    (0.1, 0.3),
    (2e-2, 0.1),
    (4e-3, 3e-2),
    (1e-3, 1e-2),
    (1e-4, 3e-3),
    (1e-5, 1e-3),
    (1e-7, 3e-4),
    (1e-9, 1e-4),
)
_ALPHAS = np.array([1.0, 0.5, 0.25, 0.1, 0.03, 1e-2, 3e-3, 1e-3, 1e-4])


@dataclass(frozen=True)
class Params:
    """`loss`: linear (default, as the other models) or quadratic distance loss.
    `disagreement`: each actor's no-deal point per issue. "reservation" uses its reservation
    where it has one, else the issue's status quo; "status_quo" ignores reservations. Where
    neither exists the actor's worst end of the scale is used (it loses nothing by agreeing).
    `min_gain`: a package counts as an agreement when every bargaining actor's gain exceeds
    this share of its largest possible gain.
    """

    loss: Literal["linear", "quadratic"] = "linear"
    disagreement: Literal["reservation", "status_quo"] = "reservation"
    max_newton: int = 30
    min_gain: float = 1e-7


def disagreement_points(batch: Batch, rule: str = "reservation") -> tuple[np.ndarray, int]:
    """d[D, N, K] and how many engaged (actor, issue) pairs fell back to the worst scale end."""
    sq = np.broadcast_to(batch.status_quo[:, None, :], batch.position.shape)
    d = sq.copy()
    if rule == "reservation":
        d = np.where(np.isnan(batch.reservation), d, batch.reservation)
    worst = np.where(batch.position <= 50.0, 100.0, 0.0)
    missing = np.isnan(d)
    fallback = int((missing[0] & batch.engaged).sum()) if batch.draws else 0
    return np.where(missing, worst, d), fallback


def _loss(z: np.ndarray, eps: float, quadratic: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss, first and second derivative (smoothed for the linear loss)."""
    if quadratic:
        return z * z / 100.0, z / 50.0, np.full_like(z, 1.0 / 50.0)
    r = np.sqrt(z * z + eps * eps)
    return r - eps, z / r, (eps * eps) / (r * r * r)


def solve(batch: Batch, params: Params | None = None) -> Outcome:
    params = params or Params()
    quadratic = params.loss == "quadratic"
    x = batch.position
    s = batch.salience * batch.engaged[None]
    d, fallback = disagreement_points(batch, params.disagreement)
    D, N, K = x.shape

    active = s.sum(axis=2) > 0  # [D, N] actors with a stake in this draw
    c = np.where(active, batch.capability, 0.0)
    c = c / c.sum(axis=1, keepdims=True)
    scale_max = 100.0 if not quadratic else 100.0 * 100.0 / 100.0
    M = np.where(active, s.sum(axis=2) * scale_max, 1.0)  # [D, N] largest possible loss

    gain_at_ideal = (s * _loss(d - x, 0.0, quadratic)[0]).sum(axis=2)  # G_i
    hopeless = (active & (gain_at_ideal <= 1e-12 * M)).any(axis=1)

    # start at the capability x salience weighted mean, inside every issue's hull
    w = batch.capability[:, :, None] * s
    wsum = w.sum(axis=1)
    y = np.where(wsum > 0, (w * x).sum(axis=1) / np.where(wsum > 0, wsum, 1.0), x.mean(axis=1))

    t = np.zeros(D)
    for t_stage, eps in _STAGES:
        A = (s * _loss(d - x, eps, quadratic)[0]).sum(axis=2)
        g = A - (s * _loss(y[:, None, :] - x, eps, quadratic)[0]).sum(axis=2)
        need = np.where(active, -g / M, -np.inf).max(axis=1) * 1.5 + 1e-12
        t = np.maximum(t_stage, need)  # the smallest shift that keeps y inside the domain
        y = _newton(y, x, s, c, A, M * t[:, None], active, eps, quadratic, params.max_newton)

    g_exact = (s * (_loss(d - x, 0.0, quadratic)[0] - _loss(y[:, None, :] - x, 0.0, quadratic)[0])).sum(axis=2)
    rel = np.where(active, g_exact / np.maximum(gain_at_ideal, 1e-300), np.inf).min(axis=1)
    agreement = (~hopeless) & (rel > params.min_gain) & (t <= _STAGES[-1][0] * 1.0001)
    outcome = np.where(agreement[:, None], y, np.nan)
    return Outcome(
        outcome=outcome,
        agreement=agreement,
        info={"disagreement_fallbacks": fallback, "no_agreement_draws": int((~agreement).sum())},
    )


def _objective(y, x, s, c, A, shift, active, eps, quadratic):
    """F(y) for candidate packages y[..., K]; -inf outside the domain."""
    L = _loss(y[..., None, :] - x, eps, quadratic)[0]
    h = A + shift - (s * L).sum(axis=-1)
    ok = np.where(active, h > 0, True).all(axis=-1)
    logs = np.where(active, np.log(np.where(h > 0, h, 1.0)), 0.0)
    return np.where(ok, (c * logs).sum(axis=-1), -np.inf)


def _newton(y, x, s, c, A, shift, active, eps, quadratic, max_iter):
    """Damped Newton ascent on every draw at once; draws that stop moving drop out."""
    K = x.shape[2]
    eye = np.eye(K)
    y = y.copy()
    todo = np.arange(y.shape[0])
    f = _objective(y, x, s, c, A, shift, active, eps, quadratic)
    for _ in range(max_iter):
        if todo.size == 0:
            break
        yt, xt, st, ct, At, sh, act = y[todo], x[todo], s[todo], c[todo], A[todo], shift[todo], active[todo]
        L, L1, L2 = _loss(yt[:, None, :] - xt, eps, quadratic)
        h = np.where(act, At + sh - (st * L).sum(axis=2), 1.0)
        cw = np.where(act, ct, 0.0)
        dg = -st * L1  # d g_i / d y_k  [D, N, K]
        grad = np.einsum("dn,dnk->dk", cw / h, dg)
        hess = -np.einsum("dn,dnk,dnl->dkl", cw / (h * h), dg, dg)
        diag = np.einsum("dn,dnk->dk", cw / h, st * L2)
        hess = hess - diag[:, :, None] * eye - 1e-12 * eye
        step = -np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        slope = (grad * step).sum(axis=1)
        cand = np.clip(yt[:, None, :] + _ALPHAS[None, :, None] * step[:, None, :], 0.0, 100.0)
        fc = _objective(cand, xt[:, None], st[:, None], ct[:, None], At[:, None], sh[:, None],
                        act[:, None], eps, quadratic)
        ft = f[todo]
        good = (fc >= ft[:, None] + 1e-4 * _ALPHAS[None, :] * slope[:, None]) & (fc > ft[:, None])
        moved = good.any(axis=1)
        first = np.argmax(good, axis=1)
        rows = np.arange(todo.size)
        new_y = np.where(moved[:, None], cand[rows, first], yt)
        change = np.abs(new_y - yt).max(axis=1)
        y[todo] = new_y
        f[todo] = np.where(moved, fc[rows, first], ft)
        todo = todo[moved & (change > 1e-8)]
    return y
