"""Nash bargaining solution: the package maximising the capability-weighted product of gains.

    maximise  sum_i c_i log(U_i(y) - U_i(d_i))  over packages y in [0, 100]^K,
    U_i(y) = -sum_k s_ik L(y_k - x_ik),  L(z) = |z| (default) or z^2.

Why an interior-point method. The objective is concave but not smooth (the kinks of |z| sit at
the actors' positions, where outcomes often land) and not separable (the log of a sum couples
the issues), and whether any package gives every actor a positive gain at all is part of the
answer. Writing each linear loss through an epigraph variable, e_ik >= |y_k - x_ik|, makes every
gain linear in (y, e): a smooth concave objective over a polyhedron, which a primal-dual
interior-point method solves to a certified accuracy (the quadratic loss is smooth already):

* phase 1 maximises t subject to gain_i / maxgain_i >= t. As soon as t > `min_gain` the draw is
  known to have an agreement (the point proves it); when the multipliers give an upper bound
  max_y sum_i lambda_i gain_i(y) / maxgain_i <= `min_gain` (computed exactly: it is separable
  across issues, a weighted-median problem per issue) the draw is known to have none.
* phase 2 maximises the Nash objective from that feasible point (Mehrotra predictor-corrector)
  until the mean complementarity is below `tol`.

Newton systems are reduced to (K+1) x (K+1) by eliminating e actor by actor (each actor's block
is diagonal plus rank one), then solved with a Cholesky written over the draw axis: all draws
move together, draws that have finished drop out of the working set. This is the numpy engine,
the readable reference; `_nash_numba` runs the same algorithm draw by draw in compiled loops
(`Params.engine`; about four times less CPU). See docs/models/nash.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from parley.core.batch import Batch
from parley.models.base import Outcome
from parley.models.engine_choice import use_compiled

SUMMARY = "Nash bargaining solution (capability-weighted product of gains over disagreement)"

# Reproducibility: a draw's result must not depend on which other draws share its chunk (the
# Monte Carlo engine splits draws across chunks and workers and expects identical results).
# numpy picks its summation order from the memory layout, so the engine (1) reduces over one axis
# at a time (`.sum(axis=1).sum(axis=0)`, never `axis=(0, 1)`), (2) keeps its working arrays
# contiguous, and (3) never works on a single draw, where a reduction over actors becomes a
# contiguous SIMD sum with a different rounding order: one draw is solved as two copies, and a
# finished draw is kept as padding when only one is still running.

_PARKED = 1e3
"""Epigraph value for (actor, issue) pairs without a stake: never binding, masked out."""


@dataclass(frozen=True)
class Params:
    """Parameters of the Nash bargaining solution.

    `loss`: distance loss of an actor, "linear" |y - x| (default, as the other models) or
        "quadratic" (y - x)^2.
    `disagreement`: each actor's no-deal point per issue. "reservation" uses its reservation
        where it states one, else the issue's status quo; "status_quo" ignores reservations.
        Where neither exists, the end of the scale farther from the actor's position is used
        (the actor cannot lose on that issue by agreeing).
    `min_gain`: a package counts as an agreement only when it gives every bargaining actor more
        than this share of the largest gain it could possibly get (its gain at its own ideal).
        Feasible sets thinner than this are reported as no agreement.
    `tol`: final mean complementarity (duality gap per constraint) of the interior-point
        method; the log-objective (capabilities summing to one) ends within ~1e-9 of its maximum.
    `chunk`: draws prepared together (certificates, starting points); bounds memory for very
        large draw counts and never changes any draw's result. The interior-point method works
        on at most 1024 of them at a time, a finished draw's place going to a waiting one.
    `max_iter`: interior-point iterations a draw may take before it is given up on (counted
        in `info["unconverged_draws"]`; about 25 are needed at most in practice).
    `engine`: who runs the interior-point method. "numpy" (the working set of draws moves
        through each step together; the readable reference), "compiled" (numba, each draw in
        scalar loops: same algorithm, about ten times less CPU; needs numba) or "auto" (compiled
        when numba is installed and the call has at least `COMPILED_FROM` draws or numba is
        already loaded). The engines give the same agreement flags and packages equal to
        rounding (tested within 1e-6 scale points), not bit for bit.
    """

    loss: Literal["linear", "quadratic"] = "linear"
    disagreement: Literal["reservation", "status_quo"] = "reservation"
    min_gain: float = 1e-9
    tol: float = 1e-10
    chunk: int = 4096
    max_iter: int = 1000
    engine: Literal["auto", "compiled", "numpy"] = "auto"

    def __post_init__(self) -> None:
        if self.loss not in ("linear", "quadratic"):
            raise ValueError(f"unknown loss {self.loss!r}: use linear or quadratic")
        if self.disagreement not in ("reservation", "status_quo"):
            raise ValueError(
                f"unknown disagreement rule {self.disagreement!r}: use reservation or status_quo"
            )
        if not (0.0 <= self.min_gain < 1.0):
            raise ValueError("min_gain must be in [0, 1)")
        if not self.tol > 0.0:
            raise ValueError("tol must be positive")
        if self.chunk < 1 or self.max_iter < 1:
            raise ValueError("chunk and max_iter must be at least 1")
        if self.engine not in ("auto", "compiled", "numpy"):
            raise ValueError(f"engine must be 'auto', 'compiled' or 'numpy', got {self.engine!r}")


COMPILED_FROM = 12_000
"""engine="auto" compiles from this many draws in one call on (or once numba is loaded).
Loading numba and the cached machine code costs ~0.5 s a process; on the bundled 7 x 6 scenario
the compiled engine saves ~23 us a draw (10^4 draws: 0.30 s numpy, 0.07 s compiled), so one
call pays from ~20,000 draws, a process that solves several batches sooner. 12,000 keeps the
default `parley run` (10,000 draws) free of numba, whose start-up must stay short, while each
16,384-draw chunk of a larger Monte Carlo run (`simulate`) compiles."""


def relative_cost(params: Params) -> float:
    """Time per draw relative to the compromise model on the bundled scenario (`simulate` and
    `compare` use it to decide on a process pool): about 10 with the numpy engine, 3 with the
    compiled one (10^5 draws of ukraine-2025-05: 2.6 s and 0.66 s of CPU, December)."""
    return 3.0 if _use_compiled(params, COMPILED_FROM) else 10.0


def one_run_params(params: Params) -> Params:
    """Params for a single run (a scenario without uncertain inputs, or the answer's line of
    every model at the most likely inputs): "auto" takes the numpy engine, which answers in
    milliseconds, where loading the compiled one takes about half a second."""
    return replace(params, engine="numpy") if params.engine == "auto" else params


def _use_compiled(params: Params, draws: int) -> bool:
    """Whether this call runs the compiled interior-point method (decided once per call, so
    that every chunk of draws of one call takes the same engine)."""
    return use_compiled(params.engine, draws >= COMPILED_FROM)


def disagreement_points(batch: Batch, rule: str = "reservation") -> tuple[np.ndarray, int]:
    """d[D, N, K] and how many engaged (actor, issue) pairs fell back to the worst scale end.

    `rule` is "reservation" (reservation, else status quo, else worst end) or "status_quo"
    (status quo, else worst end). The fallback count is for the first draw (every draw has the
    same pattern of given and missing values).
    """
    sq = np.broadcast_to(batch.status_quo[:, None, :], batch.position.shape)
    d = sq.copy()
    if rule == "reservation":
        d = np.where(np.isnan(batch.reservation), d, batch.reservation)
    elif rule != "status_quo":
        raise ValueError(f"unknown disagreement rule {rule!r}")
    worst = np.where(batch.position <= 50.0, 100.0, 0.0)
    missing = np.isnan(d)
    fallback = int((missing[0] & batch.engaged).sum()) if batch.draws else 0
    return np.where(missing, worst, d), fallback


def solve(batch: Batch, params: Params | None = None) -> Outcome:
    """Nash bargaining package per draw; NaN and agreement False where no package gives every
    bargaining actor a positive gain."""
    params = params or Params()
    if params.loss not in ("linear", "quadratic"):
        raise ValueError(f"unknown loss {params.loss!r}")
    D, _, K = batch.position.shape
    fallback = disagreement_points(batch.take(slice(0, 1)), params.disagreement)[1] if D else 0
    outcome = np.empty((D, K))
    agreement = np.zeros(D, bool)
    counts = {"hopeless": 0, "unconverged": 0, "no_stake": 0, "stalled": 0}
    step = max(int(params.chunk), 1)
    compiled = _use_compiled(params, D)
    for lo in range(0, D, step):  # chunks of draws (bounded memory), each solved vectorised
        hi = min(lo + step, D)
        part = batch.take(slice(lo, hi))
        if compiled:
            u, ok, chunk_counts = _solve_chunk_compiled(part, params)
        else:
            d = disagreement_points(part, params.disagreement)[0]
            u, ok, chunk_counts = _solve_chunk(part, d, params)
        outcome[lo:hi] = u
        agreement[lo:hi] = ok
        for key, value in chunk_counts.items():
            counts[key] += value
    outcome[~agreement] = np.nan
    return Outcome(
        outcome=outcome,
        agreement=agreement,
        info={
            "disagreement_fallbacks": fallback,
            "no_agreement_draws": int((~agreement).sum()),
            "actor_cannot_gain_draws": counts["hopeless"],
            "no_stake_draws": counts["no_stake"],
            "unconverged_draws": counts["unconverged"],
            "precision_limited_draws": counts["stalled"],
        },
    )


def objective(batch: Batch, package: np.ndarray, params: Params | None = None) -> np.ndarray:
    """sum_i c_i log(gain_i / maxgain_i) at packages [D, K] (capabilities of bargaining actors
    normalised to sum one); -inf where some bargaining actor does not gain. For tests and
    diagnostics: the value `solve` maximises."""
    params = params or Params()
    d, _ = disagreement_points(batch, params.disagreement)
    x, shat, g0, c, _ = _normalise(batch, d, params.loss == "quadratic")
    z = np.asarray(package, float)[:, None, :] / 100.0 - x
    lost = (shat * _loss(z, params.loss == "quadratic")).sum(axis=2)
    gain = (g0 - lost) / np.where(g0 > 0, g0, 1.0)
    act = c > 0
    bad = (act & (gain <= 0)).any(axis=1)
    val = (c * np.log(np.where(act & (gain > 0), gain, 1.0))).sum(axis=1)
    return np.where(bad, -np.inf, val)


def _loss(z: np.ndarray, quadratic: bool) -> np.ndarray:
    return z * z if quadratic else np.abs(z)


def _normalise(batch: Batch, d: np.ndarray, quadratic: bool):
    """The problem in the engine's units: unit-scale positions x; stakes shat = s / sum_k s
    (each actor's saliences summing to one); g0 = sum_k shat L(d - x), the actor's largest
    possible gain (at its ideal) in scale units; capabilities c of the actors with a stake,
    summing to one; and which actors cannot gain at all (g0 ~ 0).

    An actor's gain at y is g0 - sum_k shat L(y - x), a salience-weighted mean in scale units,
    so every coefficient lies in [0, 1]. (Dividing by g0 instead, as the reported objective
    does, makes the coefficients huge for an actor whose no-deal point is next to its ideal,
    and the phase-1 linear program badly scaled.)
    """
    x = np.where(batch.engaged[None], batch.position, 0.0) / 100.0  # others' are ignored
    s = np.where(batch.engaged[None], batch.salience, 0.0)
    s = np.where(s > 0, s, 0.0)
    total = s.sum(axis=2)  # [D, N]
    active = total > 0
    shat = s / np.where(active, total, 1.0)[:, :, None]
    g0 = (shat * _loss(d / 100.0 - x, quadratic)).sum(axis=2)
    cannot = active & ~(g0 > 1e-12)
    cap = np.where(active, batch.capability, 0.0)
    ctot = cap.sum(axis=1, keepdims=True)
    c = cap / np.where(ctot > 0, ctot, 1.0)
    return x, shat, np.where(active, g0, 0.0), c, cannot


def _start(batch: Batch, x: np.ndarray, shat: np.ndarray, g0: np.ndarray,
           quadratic: bool) -> np.ndarray:
    """Starting package (unit scale): of a few cheap candidates, the one whose worst-off actor
    keeps the largest share of its possible gain (a start where everyone already gains skips
    phase 1). Candidates, per issue: means of the stakeholders' positions weighted by
    capability x sigma, sigma and sigma^2 (sigma = salience / largest gain: the actors most
    sensitive to the issue pull hardest), and the sigma-weighted median; all lie inside the
    hull of the stakeholders' positions. Issues nobody has a stake in take the
    capability-weighted mean of the engaged positions, else the status quo, else the midpoint
    (no actor cares, so any value is as good)."""
    eng = batch.engaged[None].astype(float)
    w_free = batch.capability[:, :, None] * eng
    sq = batch.status_quo / 100.0
    free = np.where(w_free.sum(1) > 0, (w_free * x).sum(1) / np.maximum(w_free.sum(1), 1e-300),
                    np.where(np.isnan(sq), 0.5, sq))
    sig = shat / np.where(g0 > 0, g0, 1.0)[:, :, None]
    ws = sig.sum(axis=1)
    has = ws > 0

    def mean(w: np.ndarray) -> np.ndarray:
        tot = w.sum(axis=1)
        return np.where(has, (w * x).sum(axis=1) / np.where(tot > 0, tot, 1.0), free)

    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    cum = np.cumsum(np.take_along_axis(sig, order, axis=1), axis=1)
    first = np.argmax(cum >= 0.5 * cum[:, -1:], axis=1)[:, None]
    median = np.where(has, np.take_along_axis(xs, first, axis=1)[:, 0], free)
    cands = np.stack([mean(batch.capability[:, :, None] * sig), mean(sig), mean(sig * sig),
                      median])  # [C, D, K]
    lost = (shat[None] * _loss(cands[:, :, None, :] - x[None], quadratic)).sum(axis=3)
    share = (g0[None] - lost) / np.where(g0 > 0, g0, 1.0)[None]
    worst = np.where((shat.sum(axis=2) > 0)[None], share, np.inf).min(axis=2)  # [C, D]
    pick = np.argmax(worst, axis=0)
    return np.take_along_axis(cands, pick[None, :, None], axis=0)[0]


def _solve_chunk(batch: Batch, d: np.ndarray, params: Params):
    quadratic = params.loss == "quadratic"
    x, sig, g0, c, cannot = _normalise(batch, d, quadratic)
    hopeless = cannot.any(axis=1)
    no_stake = (c <= 0).all(axis=1) & ~hopeless
    agree = np.zeros(x.shape[0], bool)
    agree[no_stake] = True
    open_ = ~hopeless & ~no_stake
    if not quadratic and open_.any():  # most draws without a deal are settled by two actors
        open_ &= ~_pair_certificate(x, sig, g0, params.min_gain)
    todo = np.flatnonzero(open_)
    # starting packages only where a package is reported (the others end as NaN); one draw is
    # computed as two copies (see the reproducibility note)
    u_out = np.full((x.shape[0], x.shape[2]), np.nan)
    need = np.flatnonzero(open_ | no_stake)
    if need.size:
        pick = np.repeat(need, 2) if need.size == 1 else need
        u_out[need] = _start(batch.take(pick), x[pick], sig[pick], g0[pick], quadratic)[: need.size]
    u0 = u_out
    unconverged = stalled = 0
    if todo.size:
        xt, st_ = x[todo], sig[todo]
        # the engine works draws-last ([N, K, B]) so that every reduction adds whole vectors
        u, ok, unconverged, stalled = _interior_point(
            np.ascontiguousarray(xt.transpose(1, 2, 0)),
            np.ascontiguousarray(st_.transpose(1, 2, 0)),
            np.ascontiguousarray(g0[todo].T),
            np.ascontiguousarray(c[todo].T),
            np.ascontiguousarray(u0[todo].T),
            quadratic,
            params,
        )
        u = u.T
        # clipping into each issue's hull of stakeholders' positions only raises every gain
        lo_h = np.where(st_ > 0, xt, np.inf).min(axis=1)
        hi_h = np.where(st_ > 0, xt, -np.inf).max(axis=1)
        has = np.isfinite(lo_h)
        u = np.where(has, np.clip(u, np.where(has, lo_h, 0.0), np.where(has, hi_h, 1.0)), u)
        if not quadratic:
            u = _snap(xt, st_, g0[todo], c[todo], u)
        u_out[todo] = u
        agree[todo] = ok
    counts = {"hopeless": int(hopeless.sum()), "no_stake": int(no_stake.sum()),
              "unconverged": int(unconverged), "stalled": int(stalled)}
    return u_out * 100.0, agree, counts


def _solve_chunk_compiled(batch: Batch, params: Params):
    """_solve_chunk in the compiled engine: the same steps, each a per-draw loop in
    `_nash_numba` (disagreement points, normalisation, certificates and start in `prepare`;
    the interior-point method for the draws still open; clipping and snapping)."""
    from parley.models import _nash_numba as nb

    quadratic = params.loss == "quadratic"
    D, N, K = batch.position.shape
    x, shat = np.empty((D, N, K)), np.empty((D, N, K))
    g0, c = np.empty((D, N)), np.empty((D, N))
    u = np.full((D, K), np.nan)
    state = np.empty(D, np.int8)

    def arr(a):
        return np.ascontiguousarray(a, float)

    nb.prepare(arr(batch.position), arr(batch.salience), arr(batch.capability),
               np.ascontiguousarray(batch.engaged, bool), arr(batch.status_quo),
               arr(batch.reservation), params.disagreement == "reservation", quadratic,
               float(params.min_gain), x, shat, g0, c, u, state)
    agree = state == nb.NO_STAKE
    todo = np.flatnonzero(state == nb.OPEN)
    unconverged = stalled = 0
    if todo.size:
        xt, st_, gt, ct = x[todo], shat[todo], g0[todo], c[todo]
        ut, ok, unconverged, stalled = _interior_point_compiled(xt, st_, gt, ct, u[todo],
                                                                quadratic, params)
        nb.clip_to_hull(xt, st_, ut)
        if not quadratic:
            nb.snap(xt, st_, gt, ct, ut)
        u[todo] = ut
        agree[todo] = ok
    counts = {"hopeless": int((state == nb.HOPELESS).sum()),
              "no_stake": int((state == nb.NO_STAKE).sum()),
              "unconverged": int(unconverged), "stalled": int(stalled)}
    return u * 100.0, agree, counts


def _interior_point_compiled(x, sig, g0, c, u0, quadratic, params):
    """The interior-point method in the compiled engine (`_nash_numba`), draws first: packages
    [B, K], agreement flags, draws given up on at max_iter, draws stopped by rounding."""
    from parley.models import _nash_numba

    B, _, K = x.shape
    u = np.empty((B, K))
    ok = np.zeros(B, bool)
    flags = np.zeros((B, 2), bool)
    _nash_numba.solve_draws(
        np.ascontiguousarray(x, float), np.ascontiguousarray(sig, float),
        np.ascontiguousarray(g0, float), np.ascontiguousarray(c, float),
        np.ascontiguousarray(u0, float), bool(quadratic), float(params.min_gain),
        float(params.tol), int(params.max_iter), u, ok, flags)
    return u, ok, int(flags[:, 0].sum()), int(flags[:, 1].sum())


def _pair_certificate(x: np.ndarray, shat: np.ndarray, g0: np.ndarray, min_gain: float) -> np.ndarray:
    """[D] True where two actors alone prove that no package gives every actor more than
    `min_gain` of its largest gain (linear loss): the phase-1 bound of the interior-point
    method with multipliers on one pair only, maximised over the pair's weight exactly.

    For actors i, j with sigma = shat / g0, lam share_i(y) + (1 - lam) share_j(y) is at most
    1 - sum_k min(lam sigma_ik, (1 - lam) sigma_jk) |x_ik - x_jk| (each issue's two-point
    weighted median), a concave piecewise-linear function of lam whose maximum lies at a
    breakpoint sigma_jk / (sigma_ik + sigma_jk) or an end. When the largest bound over lam is
    <= min_gain, the smaller share is <= min_gain for every package: no agreement. On the
    bundled scenarios this settles every draw the solver would find without a deal, before
    any Newton step, and the result is the same (agreement False, no package)."""
    D, N, _ = x.shape
    i_idx, j_idx = np.triu_indices(N, 1)
    if i_idx.size == 0:
        return np.zeros(D, bool)
    sig = shat / np.where(g0 > 0, g0, 1.0)[:, :, None]
    active = shat.sum(axis=2) > 0  # [D, N]
    # Filter: each issue's term is at most its value at its own breakpoint,
    # sigma_i sigma_j / (sigma_i + sigma_j) |x_i - x_j| = |x_i - x_j| / (1/sigma_i + 1/sigma_j),
    # so a pair whose sum of those cannot reach 1 - min_gain cannot prove anything (about 90%
    # of the pairs on the bundled scenarios). Computed pair by pair on draws-last copies (whole
    # contiguous vectors, no [D, pairs, K] temporaries); the reciprocal is inf without a stake,
    # which makes the term 0. The margin only admits a few more pairs to the exact test below.
    with np.errstate(divide="ignore"):
        r = np.ascontiguousarray((1.0 / sig).transpose(1, 2, 0))  # [N, K, D]
    xt = np.ascontiguousarray(x.transpose(1, 2, 0))
    reach = np.empty((i_idx.size, D))
    tmp = np.empty(xt.shape[1:])
    den = np.empty(xt.shape[1:])
    for p, (i, j) in enumerate(zip(i_idx, j_idx, strict=True)):
        np.subtract(xt[i], xt[j], out=tmp)
        np.abs(tmp, out=tmp)
        np.add(r[i], r[j], out=den)
        np.divide(tmp, den, out=tmp)
        tmp.sum(axis=0, out=reach[p])
    pick = (reach >= 1.0 - min_gain - 1e-12) & active[:, i_idx].T & active[:, j_idx].T  # [P, D]
    out = np.zeros(D, bool)
    if not pick.any():
        return out
    # exact maximum over lam for the surviving pairs, each a row [K] (as before the filter)
    pp, dd = np.nonzero(pick)
    a, b = sig[dd, i_idx[pp]], sig[dd, j_idx[pp]]  # [M, K]
    dist = np.abs(x[dd, i_idx[pp]] - x[dd, j_idx[pp]])
    tot = a + b
    lam = b / np.where(tot > 0, tot, 1.0)
    wa, wb = a * dist, b * dist
    best = np.zeros(a.shape[0])  # lam = 0 or 1: f = 0 (the ends never prove anything)
    for k in range(a.shape[1]):  # the breakpoints, one per issue
        t = lam[:, k : k + 1]
        best = np.maximum(best, np.minimum(t * wa, (1.0 - t) * wb).sum(axis=1))
    out[dd[1.0 - best <= min_gain]] = True
    return out


def _value(x: np.ndarray, sig: np.ndarray, g0: np.ndarray, c: np.ndarray,
           u: np.ndarray) -> np.ndarray:
    """Linear-loss objective sum_i c_i log gain_i (up to a constant) at unit-scale packages
    u [D, K] (reductions over the last axis only); -inf where an actor with a stake does not
    gain."""
    gain = g0 - (sig * np.abs(u[:, None, :] - x)).sum(axis=2)
    act = sig.sum(axis=2) > 0
    bad = (act & (gain <= 0)).any(axis=1)
    val = (c * np.log(np.where(act & (gain > 0), gain, 1.0))).sum(axis=1)
    return np.where(bad, -np.inf, val)


def _snap(x: np.ndarray, sig: np.ndarray, g0: np.ndarray, c: np.ndarray,
          u: np.ndarray) -> np.ndarray:
    """Linear loss: optima often sit exactly on an actor's position (a kink of its loss), and
    where the objective is nearly flat on one side the interior-point iterate stops a few 1e-4
    away. Move each issue onto the nearest stakeholder's position within 0.1 scale points when
    that does not lower the objective (so reported outcomes read 50, not 50.0003)."""
    rows = np.arange(u.shape[0])
    f = _value(x, sig, g0, c, u)
    for k in range(u.shape[1]):
        dist = np.where(sig[:, :, k] > 0, np.abs(x[:, :, k] - u[:, None, k]), np.inf)
        j = dist.argmin(axis=1)
        near = dist[rows, j] < 1e-3
        if not near.any():
            continue
        cand = u.copy()
        cand[:, k] = np.where(near, x[rows, j, k], u[:, k])
        fc = _value(x, sig, g0, c, cand)
        take = near & (fc >= f)
        u = np.where(take[:, None], cand, u)
        f = np.where(take, fc, f)
    return u


_MU_FLOOR = 1e-3  # the corrector never aims below this share of the current gap
_SIGMA = 0.1  # the barrier parameter shrinks by this factor once the iterate is centred
_CENTRED_RES = 0.05  # centred: relative stationarity residual below this ...
_CENTRED_GAP = 3.0  # ... and mean complementarity below this multiple of the parameter
_GAP0 = 1e-2  # complementarity per constraint at the start of phase 2
_FTB = 0.99  # fraction of the way to the boundary a step may go
_TAU0 = 1e-2  # quadratic loss: starting weight floor added to every capability (see _newton_quad)
_PATIENCE = 15  # steps without the gap halving before a draw switches to careful mode
_COMPACT = 0.1  # drop finished draws from the working set once they are this share of it
_WINDOW = 1024  # draws in the working set at most: enough to amortise numpy's per-call cost,
# few enough for its arrays to stay in cache; finished draws are replaced by waiting ones
_RESID = 1e-7  # relative stationarity residual required at the end (with gap <= tol)

_FIELDS = ("idx", "x", "sig", "g0", "c", "u", "pair", "pf", "free", "actor", "af", "e", "t", "lam1", "lam2",
           "nu", "mu", "tau", "phase1", "done", "ok", "n_con", "stalled", "careful", "best",
           "since", "age")


class _State:
    """Working set of draws (last axis) being solved: primal iterates (u, e, t), the multipliers
    of the epigraph constraints (lam1: e - z >= 0, lam2: e + z >= 0; linear loss only) and of the
    actor constraints gain_i - t >= 0 (nu: every actor in phase 1, actors without capability in
    phase 2), and for the quadratic loss the capability floor tau.

    x, sig, pair, pf, e, lam1, lam2: [N, K, B]; u: [K, B]; c, actor, nu: [N, B]; t, flags: [B].
    """

    def __init__(self, x, sig, g0, c, u, quadratic):
        B = x.shape[2]
        self.quadratic = quadratic
        self.next_slacks = None  # (u, e, z, s1, s2, sum_k sig e) after a Newton step
        self.idx = np.arange(B)
        self.x, self.sig, self.g0, self.c, self.u = x, sig, g0, c, u.copy()
        self.pair = sig > 0
        self.pf = self.pair.astype(float)
        self.free = (~self.pair.any(axis=0)).astype(float)  # [K, B] issues nobody has a stake in
        self.actor = self.pair.any(axis=1)
        self.af = self.actor.astype(float)
        L = _loss(self.u[None] - x, quadratic)
        gain = g0 - (sig * L).sum(axis=1)  # [N, B]
        gmin = np.where(self.actor, gain / np.where(self.actor, g0, 1.0), np.inf).min(axis=0)
        feasible = gmin > 1e-6
        # phase 2 start: slacks that keep every gain at half its value at the start
        ssum = sig.sum(axis=1)
        eta2 = 0.5 * gain / np.where(ssum > 0, ssum, 1.0)
        # phase 1 start: a slack of one scale point, t one below the worst gain
        eta = np.where(feasible[None], eta2, 1e-2)[:, None, :]
        self.e = np.where(self.pair, L + eta, _PARKED)
        h = g0 - (sig * self.e).sum(axis=1)
        self.t = np.where(feasible, 0.0, np.where(self.actor, h, np.inf).min(axis=0) - 1.0)
        self.phase1 = ~feasible
        self.n_con = (0.0 if quadratic else 2.0) * self.pf.sum(axis=1).sum(axis=0)
        self.lam1 = np.zeros_like(self.e)
        self.lam2 = np.zeros_like(self.e)
        self.nu = np.zeros_like(c)
        self.mu = np.zeros(B)
        self.tau = np.zeros(B)
        self.reset_duals(np.ones(B, bool))
        self.done = np.zeros(B, bool)
        self.ok = np.zeros(B, bool)
        self.stalled = np.zeros(B, bool)
        self.careful = np.zeros(B, bool)  # see _newton_step
        self.best = np.full(B, np.inf)  # smallest gap so far
        self.since = np.zeros(B, int)  # iterations since the gap last halved
        self.age = np.zeros(B, int)  # Newton steps taken (a draw gets at most max_iter)

    def part(self, take: np.ndarray | None, *names: str) -> list[np.ndarray]:
        """The named fields for the working draws `take` (None: all of them) as contiguous
        arrays: a draw's values computed from them are bit for bit those computed on the whole
        working set, as long as `take` has at least two draws (see _padded)."""
        if take is None:
            return [getattr(self, name) for name in names]
        return [np.ascontiguousarray(getattr(self, name)[..., take]) for name in names]

    def slacks(self, take: np.ndarray | None = None):
        u, x, sig, g0, t = self.part(take, "u", "x", "sig", "g0", "t")
        z = u[None] - x
        if self.quadratic:  # no epigraph: the gains themselves are smooth
            ones = np.ones_like(z)
            hh = g0 - (sig * z * z).sum(axis=1) - t
            return z, ones, ones, np.where(self.part(take, "actor")[0], hh, 1.0)
        e, af = self.part(take, "e", "af")
        known = self.next_slacks  # left by the last Newton step, valid while u and e are its own
        if take is None and known is not None and known[0] is u and known[1] is e:
            z, s1, s2, sig_e = known[2:]
        else:
            # (pairs without a stake keep e = _PARKED, so their slacks stay positive)
            s1 = e - z
            s2 = e + z
            sig_e = (sig * e).sum(axis=1)
        # arithmetic blends instead of np.where: with random masks np.where is ~10x slower
        hh = af * (g0 - sig_e - t) + (1.0 - af)
        return z, s1, s2, hh

    def recentre(self, which: np.ndarray) -> None:
        """Epigraph slacks that keep every actor at half its gain at the current package: a
        well-centred phase-2 start (phase 1 ends near the boundary)."""
        # computed on the chosen draws only (padded to two, see _padded), blended
        # arithmetically (np.where on [N, K, B] is slow)
        cols = np.flatnonzero(which)
        take = _padded(cols)
        u, x, sig, g0, pf = self.part(take, "u", "x", "sig", "g0", "pf")
        L = _loss(u[None] - x, self.quadratic)
        gain = g0 - (sig * L).sum(axis=1)
        ssum = sig.sum(axis=1)
        eta = 0.5 * gain / np.where(ssum > 0, ssum, 1.0)
        e = pf * (L + eta[:, None]) + (1.0 - pf) * _PARKED
        self.e[..., cols] = e[..., : cols.size]
        self.next_slacks = None  # e changed in place

    def constrained(self) -> np.ndarray:
        """[N, B] actors whose gain enters as a constraint with a multiplier: all of them in
        phase 1, and in phase 2 those with zero capability (they must gain but add no weight)."""
        return self.actor & (self.phase1 | (self.c <= 0))

    def reset_duals(self, which: np.ndarray) -> None:
        """Multipliers on the central path at the starting gap of the draw's phase: phase 1
        (maximise t) needs sum nu = 1; phase 2 starts at complementarity _GAP0."""
        cols = np.flatnonzero(which)
        take = None if cols.size == which.size else _padded(cols)  # the chosen draws only
        _, s1, s2, hh = self.slacks(take)
        af, pf, phase1, actor, c, tau = self.part(take, "af", "pf", "phase1", "actor", "c", "tau")
        inv = af / hh
        mu = np.where(phase1, 1.0 / np.maximum(inv.sum(axis=0), 1e-300), _GAP0)
        n = cols.size
        self.lam1[..., cols] = (mu * pf / s1)[..., :n]
        self.lam2[..., cols] = ((not self.quadratic) * mu * pf / s2)[..., :n]
        self.nu[:, cols] = ((actor & (phase1 | (c <= 0))) * mu * inv)[:, :n]  # constrained()
        self.mu[cols] = mu[:n]
        self.tau[cols] = np.where(phase1, tau, _TAU0)[:n]

    def gap(self, s1, s2, hh) -> np.ndarray:
        """Mean complementarity s * multiplier over the draw's constraints."""
        # (lam1 and lam2 are exactly zero on pairs without a stake: no mask needed)
        total = (self.lam1 * s1).sum(axis=1).sum(axis=0)
        total = total + (self.lam2 * s2).sum(axis=1).sum(axis=0)
        count = self.n_con.copy()
        con = self.constrained()
        total = total + (self.nu * hh * con).sum(axis=0)
        count = count + con.sum(axis=0)
        return total / np.maximum(count, 1)

    def min_share(self, take: np.ndarray | None = None) -> np.ndarray:
        """Smallest gain of any bargaining actor at the current package, as a share of the
        actor's largest possible gain [B] (for the draws `take`, see part)."""
        u, x, sig, g0, af, actor = self.part(take, "u", "x", "sig", "g0", "af", "actor")
        gain = g0 - (sig * _loss(u[None] - x, self.quadratic)).sum(axis=1)
        share = gain / (g0 + (1.0 - af))
        return np.where(actor, share, np.inf).min(axis=0)

    def keep(self, sel: np.ndarray) -> None:
        self.next_slacks = None
        for name in _FIELDS:  # contiguous copies: the layout decides numpy's summation order
            setattr(self, name, np.ascontiguousarray(getattr(self, name)[..., sel]))

    def extend(self, other: _State) -> None:
        """Append the draws of another working set (new draws joining this one)."""
        self.next_slacks = None
        for name in _FIELDS:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)], axis=-1))


def _interior_point(x, sig, g0, c, u0, quadratic, params):
    """Two-phase primal-dual interior-point method on all draws at once (draws on the last
    axis). Returns unit-scale packages [K, B], agreement flags and the number of draws that
    hit the iteration limit."""
    B = x.shape[2]
    if B == 1:  # see the reproducibility note
        u, ok, unconverged, stalled = _interior_point(
            np.repeat(x, 2, axis=2), np.repeat(sig, 2, axis=2), np.repeat(g0, 2, axis=1),
            np.repeat(c, 2, axis=1), np.repeat(u0, 2, axis=1), quadratic, params)
        return u[:, :1], ok[:1], min(unconverged, 1), min(stalled, 1)
    u_out = u0.copy()
    ok_out = np.zeros(B, bool)

    def arrivals(lo: int, hi: int) -> _State:
        """Working set of draws [lo, hi) at their starting point (at least two draws are
        initialised together, see the reproducibility note)."""
        pick = np.arange(lo, hi) if hi - lo > 1 else np.array([lo, lo])
        # contiguous copies (fancy indexing on the last axis is not): layout decides numpy's
        # summation order
        x_, sig_, g0_, c_, u0_ = (np.ascontiguousarray(a[..., pick]) for a in (x, sig, g0, c, u0))
        new = _State(x_, sig_, g0_, c_, u0_, quadratic)
        new.idx = pick
        if hi - lo == 1:
            new.keep(np.array([0]))
        return new

    waiting = min(B, _WINDOW)
    if B - waiting == 1:  # (never leave a single draw to arrive on its own)
        waiting = B
    st = arrivals(0, waiting)
    stalled = unconverged = 0
    while st.idx.size:
        # a draw that has had max_iter steps is given up on: a phase-2 point is a feasible
        # package, a phase-1 point is not (counted in unconverged)
        out = (st.age >= params.max_iter) & ~st.done
        if out.any():
            unconverged += int(out.sum())
            st.ok = np.where(out, ~st.phase1, st.ok)
            st.stalled = st.stalled & ~out
            st.done = st.done | out
        else:
            gap, resid = _newton_quad(st) if quadratic else _newton_step(st)
            st.age = st.age + 1
            st = _progress(st, gap, resid, quadratic, params)
        if st.done.mean() > _COMPACT or st.done.all():
            fin = st.done
            stalled += int((fin & st.stalled).sum())
            u_out[:, st.idx[fin]] = st.u[:, fin]
            ok_out[st.idx[fin]] = st.ok[fin]
            sel = ~fin
            room = _WINDOW - int(sel.sum())
            if waiting < B and room > 0:  # finished draws make room for waiting ones
                hi = min(B, waiting + room)
                if B - hi == 1:
                    hi = B
                st.keep(sel)
                st.extend(arrivals(waiting, hi))
                waiting = hi
                continue
            if sel.sum() == 1:  # keep a finished draw as padding (see the reproducibility note)
                sel[np.argmax(fin)] = True
            st.keep(sel)
            if st.done.all():
                break
    return u_out, ok_out, unconverged, stalled


def _progress(st: _State, gap: np.ndarray, resid: np.ndarray, quadratic: bool,
              params: Params) -> _State:
    """After a Newton step: careful mode for stuck draws, the phase-1 certificates (a proof of
    no agreement, or a package everyone gains from, where phase 2 starts) and the stopping
    test of phase 2."""
    # no halving of the gap in _PATIENCE steps: switch the draw to careful path following
    better = gap < 0.5 * st.best
    st.best = np.where(better, gap, st.best)
    st.since = np.where(better, 0, st.since + 1)
    slow = (st.since >= _PATIENCE) & ~st.careful & ~st.done
    if slow.any() and not quadratic:
        st.careful |= slow
        st.mu = np.where(slow, gap, st.mu)
        st.since = np.where(slow, 0, st.since)
    p1 = st.phase1 & ~st.done
    found = np.zeros_like(p1)
    if p1.any():
        cols = np.flatnonzero(p1)
        # any multipliers bound max_y min_i gain_i(y); a bound <= min_gain proves no deal
        ub = _upper_bound(st, cols)
        none = (ub <= params.min_gain) | (gap[cols] < 1e-15)
        st.done[cols[none]] = True
        # a package where every actor gains more than min_gain proves a deal exists:
        # phase 2 starts from here
        found[cols[~none & (st.min_share(_padded(cols))[: cols.size] > params.min_gain)]] = True
    if found.any():
        st.phase1 = st.phase1 & ~found
        st.stalled = st.stalled & ~found
        st.careful = st.careful & ~found
        st.best = np.where(found, np.inf, st.best)
        st.since = np.where(found, 0, st.since)
        st.t = np.where(found, 0.0, st.t)
        st.recentre(found)
        st.reset_duals(found)
    p2 = ~st.phase1 & ~found & ~st.done
    fin = p2 & (((gap <= params.tol) & (resid <= _RESID)) | st.stalled)
    st.ok |= fin
    st.done |= fin
    # a phase-1 draw that cannot progress has a feasible set too thin to resolve
    st.done |= st.phase1 & st.stalled
    return st


def _padded(cols: np.ndarray) -> np.ndarray:
    """Working-set columns to compute on: a single draw twice (see the reproducibility note)."""
    return np.concatenate([cols, cols]) if cols.size == 1 else cols


def _upper_bound(st: _State, cols: np.ndarray) -> np.ndarray:
    """max_y sum_i lam_i gain_i(y) with the phase-1 multipliers lam = nu scaled to sum one, for
    the working draws `cols`: an upper bound on max_y min_i gain_i(y) valid for any lam >= 0,
    exact and separable across issues (a weighted-median problem per issue for linear loss)."""
    take = _padded(cols)
    x = np.ascontiguousarray(st.x[..., take])
    sig = np.ascontiguousarray(st.sig[..., take])
    g0 = np.ascontiguousarray(st.g0[..., take])
    lam = np.ascontiguousarray(np.where(st.actor, np.maximum(st.nu, 0.0), 0.0)[..., take])
    lam = lam / np.maximum(lam.sum(axis=0), 1e-300)
    w = lam[:, None, :] * sig  # [N, K, b]
    if st.quadratic:
        ws = w.sum(axis=0)
        mean = (w * x).sum(axis=0) / np.where(ws > 0, ws, 1.0)
        cost = (w * (x - mean) ** 2).sum(axis=1).sum(axis=0)
    else:
        # sum_i w_ik |y - x_ik| is convex piecewise linear: its minimum is at a position x_jk
        at = np.abs(x[:, None] - x[None, :])  # [j, i, K, b]
        cost = (w[None] * at).sum(axis=1).min(axis=0).sum(axis=0)
    # sum_i lam_i gain_i <= sum_i lam_i g0_i - cost; as shares of the largest gains, weights
    # lam_i g0_i (scaled to sum one) give the bound on max_y min_i gain_i / g0_i
    scale = (lam * g0).sum(axis=0)
    return ((scale - cost) / np.maximum(scale, 1e-300))[: cols.size]


def _newton_step(st: _State) -> tuple[np.ndarray, np.ndarray]:
    """One Mehrotra predictor-corrector step of the primal-dual method (linear loss) on every
    working draw. Returns the mean complementarity and the relative stationarity residual
    before the step (for the stopping test)."""
    N, K, B = st.x.shape
    _, s1, s2, hh = st.slacks()
    gap = st.gap(s1, s2, hh)
    pf, p1 = st.pf, st.phase1
    con = st.constrained()  # actors whose gain is a constraint with multiplier nu
    conf = con.astype(float)
    af = st.af
    # multipliers are zero on pairs without a stake, so d1, d2, m, rest vanish there too
    # (reciprocals once, then multiplications: a division costs several multiplications)
    npf = 1.0 - pf
    inv_s1 = 1.0 / s1
    inv_s2 = 1.0 / s2
    d1 = st.lam1 * inv_s1
    d2 = st.lam2 * inv_s2
    delta = d1 + d2 + npf  # [N, K, B] e-block diagonal (1 on unused pairs)
    inv_delta = 1.0 / delta
    m = d1 - d2  # e-u coupling
    rest = 4.0 * d1 * d2 * inv_delta  # u curvature left after e
    m_delta = m * inv_delta
    # relative residual of the Lagrangian's stationarity
    obj = (conf * st.nu + (1.0 - conf) * st.c / hh)[:, None] * st.sig
    dual_e = st.lam1 + st.lam2
    res_e = (np.abs(dual_e - obj) / (dual_e + obj + 1e-300)).max(axis=(0, 1))  # 0 off-stake
    res_u = np.abs((st.lam2 - st.lam1).sum(axis=0)) / (dual_e.sum(axis=0) + 1e-300)
    resid = np.maximum(res_e, res_u.max(axis=0))
    resid = np.maximum(resid, np.where(p1, np.abs(1.0 - (st.nu * con).sum(axis=0)), 0.0))
    # reduced (K+1) x (K+1) system on (u, t): diag(rest) + sum_i rho_i phi_i phi_i^T
    w = (conf * st.nu + (1.0 - conf) * st.c / hh) / hh * af
    v = st.sig * inv_delta
    rho = w / (1.0 + w * (st.sig * v).sum(axis=1))  # [N, B]
    mv = m * v
    n = K + 1
    phi = np.empty((N, n, B))
    phi[:, :K] = mv
    phi[:, K] = 1.0
    S = _gram(rho, phi)
    kk = np.arange(K)
    S[kk, kk] += rest.sum(axis=0) + st.free
    _fix_t(S, p1)
    L = _chol_factor(S)
    wsig = w[:, None] * st.sig

    inv_l1 = 1.0 / (st.lam1 + npf)  # (for the ratio test; 1 on unused pairs)
    inv_l2 = 1.0 / (st.lam2 + npf)
    a_obj = (1.0 - conf) * st.c / hh * af  # gradient weight of the objective's actors
    r_obj = -a_obj[:, None] * st.sig

    def direction(tau1, tau2, tau_nu, want_slope=False):
        """Newton direction when complementarity s * lam aims at tau (per constraint; tau1,
        tau2 zero on pairs without a stake); tau None: the affine-scaling direction."""
        rhs = np.empty((n, B))
        if tau1 is None:
            a = a_obj
            r_e = r_obj
            r_u = 0.0
        else:
            q1, q2 = tau1 * inv_s1, tau2 * inv_s2
            a = a_obj + conf * tau_nu / hh
            r_e = (q1 + q2) - a[:, None] * st.sig
            r_u = (q2 - q1).sum(axis=0)
        y = r_e * inv_delta - (rho * (v * r_e).sum(axis=1))[:, None] * v
        r_t = np.where(p1, 1.0 - a.sum(axis=0), 0.0)
        rhs[:K] = (m * y).sum(axis=0) + r_u
        rhs[K] = r_t - np.where(p1, (wsig * y).sum(axis=1).sum(axis=0), 0.0)
        step = _chol_back(L, rhs)
        du, dt = step[:K], step[K]
        de = y + m_delta * du - (rho * ((mv * du).sum(axis=1) + dt))[:, None] * v
        ds1, ds2 = de - du, de + du
        dhh = -(st.sig * de).sum(axis=1) - dt
        dl1 = -st.lam1 - d1 * ds1
        dl2 = -st.lam2 - d2 * ds2
        dnu = -conf * (st.nu + (st.nu / hh) * dhh)
        if tau1 is not None:
            dl1 += q1
            dl2 += q2
            dnu += conf * tau_nu / hh
        # largest step keeping slacks and multipliers positive: 1 / max_j (-d_j / v_j). Pairs
        # without a stake have slacks ~ _PARKED, far too large to bind (alpha is capped at 1)
        fall = np.minimum(np.minimum(ds1 * inv_s1, ds2 * inv_s2),
                          np.minimum(dl1 * inv_l1, dl2 * inv_l2))
        worst = np.maximum(-(fall.min(axis=1).min(axis=0)),
                           np.maximum(_shrink(hh, dhh, af), _shrink(st.nu, dnu, conf)).max(axis=0))
        with np.errstate(divide="ignore"):
            alpha = 1.0 / np.maximum(worst, 0.0)
        # slope of the barrier function along the step (an ascent direction when tau = mu;
        # only the line search of careful mode reads it)
        if not want_slope:
            return du, dt, de, ds1, ds2, dhh, dl1, dl2, dnu, alpha, None
        slope = (r_e * de).sum(axis=1).sum(axis=0) + (r_u * du).sum(axis=0) + r_t * dt
        return du, dt, de, ds1, ds2, dhh, dl1, dl2, dnu, alpha, slope

    # predictor: the pure Newton (affine-scaling) direction, tau = 0
    _, _, _, ds1, ds2, dhh, dl1, dl2, dnu, aff, _ = direction(None, None, None)
    aff = np.minimum(aff, 1.0)
    comp = ((s1 + aff * ds1) * (st.lam1 + aff * dl1)).sum(axis=1).sum(axis=0)
    comp += ((s2 + aff * ds2) * (st.lam2 + aff * dl2)).sum(axis=1).sum(axis=0)
    comp += ((hh + aff * dhh) * (st.nu + aff * dnu) * con).sum(axis=0)
    count = np.maximum(st.n_con + con.sum(axis=0), 1)
    gap_aff = np.maximum(comp / count, 0.0)
    sigma = np.clip(gap_aff / np.maximum(gap, 1e-300), 0.0, 1.0) ** 3
    # ... but while stationarity is far off, stay near the current gap (no collapse of the
    # multipliers before the iterate is optimal for the objective)
    # (phase 1 is a linear program, where plain Mehrotra is safe)
    hold = np.where(p1, 0.0, np.minimum(resid, 1.0))
    mu = gap * np.maximum(np.maximum(sigma, _MU_FLOOR), hold)
    # draws that stopped making progress (Newton can cycle on the nonlinear objective) follow
    # the central path carefully instead: parameter held until centred, no corrector term,
    # and a backtracking line search on the barrier function
    careful = st.careful & ~st.done
    cf = careful.astype(float)
    if careful.any():
        mu = np.where(careful, _target(st, gap, resid), mu)
    # corrector: aim at mu, minus the predictor's second-order complementarity error
    mu_pf = mu * pf
    any_careful = bool(careful.any())
    if any_careful:
        second1, second2 = (1.0 - cf) * ds1 * dl1, (1.0 - cf) * ds2 * dl2
    else:  # (1.0 - cf) is 1 everywhere: the same values, two passes fewer
        second1, second2 = ds1 * dl1, ds2 * dl2
    du, dt, de, _, _, _, dl1c, dl2c, dnuc, alpha, slope = direction(
        mu_pf - second1, mu_pf - second2, mu - (1.0 - cf) * dhh * dnu, want_slope=any_careful
    )
    alpha = np.minimum(1.0, _FTB * alpha)
    alpha = np.where(st.done | ~np.isfinite(alpha), 0.0, alpha)
    if any_careful:
        f0 = _merit(st, st.u, st.e, st.t, mu)
        check = careful & (alpha > 0)
        for _ in range(40):
            f1 = _merit(st, st.u + alpha * du, st.e + alpha * de, st.t + alpha * dt, mu)
            short = check & ~(f1 >= f0 + 1e-4 * alpha * slope)
            if not short.any():
                break
            alpha = np.where(short, 0.5 * alpha, alpha)
            check = short
    u = st.u + alpha * du
    e = st.e + alpha * de  # de is zero on pairs without a stake
    t = st.t + alpha * dt
    lam1 = st.lam1 + alpha * dl1c
    lam2 = st.lam2 + alpha * dl2c
    nu = st.nu + alpha * dnuc
    # near the limits of floating point a slack can round to zero: keep the last good iterate
    z = u[None] - st.x
    s1, s2, sig_e = e - z, e + z, (st.sig * e).sum(axis=1)
    bad = ~np.isfinite(u).all(axis=0) | ~np.isfinite(lam1 + lam2).all(axis=(0, 1))
    bad |= (np.minimum(s1, s2).min(axis=1) <= 0).any(axis=0)
    bad |= (st.actor & (st.g0 - sig_e - t <= 0)).any(axis=0)
    st.next_slacks = None
    if not bad.any():  # the next step starts from these slacks (see _State.slacks)
        st.next_slacks = (u, e, z, s1, s2, sig_e)
    else:
        keep = ~bad
        u = np.where(keep, u, st.u)
        e = np.where(keep, e, st.e)
        t = np.where(keep, t, st.t)
        lam1 = np.where(keep, lam1, st.lam1)
        lam2 = np.where(keep, lam2, st.lam2)
        nu = np.where(keep, nu, st.nu)
        st.stalled |= bad & ~st.done
    st.u, st.e, st.t, st.lam1, st.lam2, st.nu = u, e, t, lam1, lam2, nu
    return gap, resid


def _merit(st: _State, u, e, t, mu) -> np.ndarray:
    """Barrier function of the linear-loss problem: [t in phase 1] + sum_i w_i log(gain_i - t)
    (w_i = c_i, or mu for actors entering as constraints) + mu sum log(epigraph slacks)."""
    z = u[None] - st.x
    s1, s2 = e - z, e + z
    hh = st.g0 - (st.sig * e).sum(axis=1) - t
    con = st.constrained()
    bad = (st.actor & (hh <= 0)).any(axis=0) | (st.pair & ((s1 <= 0) | (s2 <= 0))).any(axis=(0, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.where(st.actor, hh, 1.0))
        bar = (st.pf * np.log(np.where(st.pair, s1 * s2, 1.0))).sum(axis=1).sum(axis=0)
    weight = np.where(con, mu, st.c) * st.actor
    val = np.where(st.phase1, t, 0.0) + (weight * logs).sum(axis=0) + mu * bar
    return np.where(bad, -np.inf, val)


def _shrink(val: np.ndarray, dval: np.ndarray, maskf: np.ndarray) -> np.ndarray:
    """-dval / val on the entries of a positive quantity selected by the float mask (0
    elsewhere): a full step is allowed when the largest of these is at most 1."""
    return -dval / (val + (1.0 - maskf)) * maskf


def _newton_quad(st: _State) -> tuple[np.ndarray, np.ndarray]:
    """Quadratic loss: gains are smooth, so no epigraph variables are needed. Phase 1 is a
    primal-dual step on max t s.t. gain_i >= t (multipliers nu); phase 2 a damped Newton step on
    sum_i (c_i + tau) log gain_i, with tau lowered tenfold each time the step is nearly centred
    and finally set to zero. Without that floor an actor with a tiny capability is a weak
    barrier: Newton runs into its zero-gain boundary and crawls there. Returns (phase 1 gap |
    phase 2 max(Newton decrement^2, tau), zeros)."""
    N, K, B = st.x.shape
    p1 = st.phase1
    z = st.u[None] - st.x  # [N, K, B]
    sz = st.sig * z
    hh = np.where(st.actor, st.g0 - (sz * z).sum(axis=1) - st.t, 1.0)  # [N, B]
    con = st.constrained()
    count = np.maximum(con.sum(axis=0), 1)
    gap = (st.nu * hh * con).sum(axis=0) / count
    b = np.where(con, st.nu, st.c / hh)[:, None] * sz * st.actor[:, None]
    resid = (np.abs(b.sum(axis=0)) / (np.abs(b).sum(axis=0) + 1e-300)).max(axis=0)
    resid = np.maximum(resid, np.where(p1, np.abs(1.0 - (st.nu * con).sum(axis=0)), 0.0))
    mu = _target(st, gap, resid)
    cw = st.c + st.tau  # capability plus the current floor
    a = np.where(con, mu, cw) / hh * st.actor  # gradient weight of each actor's term
    w = np.where(con, st.nu / hh, cw / (hh * hh)) * st.actor  # weight of grad h grad h^T
    bend = np.where(con, st.nu, cw / hh) * st.actor  # weight of the curvature of h itself
    n = K + 1
    phi = np.empty((N, n, B))  # -grad h_i with respect to (u, t)
    phi[:, :K] = 2.0 * sz
    phi[:, K] = 1.0
    S = _gram(w, phi)
    kk = np.arange(K)
    S[kk, kk] += 2.0 * (bend[:, None] * st.sig).sum(axis=0) + st.free
    rhs = -(a[:, None] * phi).sum(axis=0)
    rhs[K] += 1.0
    _fix_t(S, p1)
    p2 = ~p1
    rhs[K, p2] = 0.0
    step = _chol_solve(S, rhs)
    du, dt = step[:K], step[K]
    dec = np.maximum((rhs * step).sum(axis=0), 0.0)
    # gain_i - t along the step is a concave quadratic in alpha: exact ratio test
    A = (st.sig * du * du).sum(axis=1)
    Bc = -2.0 * (sz * du).sum(axis=1) - dt
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(Bc * Bc + 4.0 * A * hh)
        amax = np.where(Bc <= 0, 2.0 * hh / (root - Bc), (Bc + root) / (2.0 * A))
        amax = np.where((A <= 0) & (Bc >= 0), np.inf, amax)
        amax = np.where(st.actor, amax, np.inf).min(axis=0)
        dhh = -(2.0 * sz * du[None]).sum(axis=1) - dt
        dnu = np.where(con, mu / hh - st.nu - (st.nu / hh) * dhh, 0.0)
        anu = np.where(con & (dnu < 0), -st.nu / dnu, np.inf).min(axis=0)
    alpha = np.minimum(1.0, _FTB * np.minimum(amax, anu))
    # phase 2: damped Newton (1 / (1 + decrement)) until the fast local region
    alpha = np.where(p2 & (dec > 0.0625), np.minimum(alpha, 1.0 / (1.0 + np.sqrt(dec))), alpha)
    alpha = np.where(st.done | ~np.isfinite(alpha), 0.0, alpha)
    st.u = st.u + alpha * du
    st.t = st.t + alpha * dt
    st.nu = st.nu + alpha * dnu
    centred = p2 & (dec < 0.1 * st.tau)
    st.tau = np.where(centred, np.where(st.tau > 1e-12, 0.1 * st.tau, 0.0), st.tau)
    return np.where(p1, gap, np.maximum(np.maximum(gap, dec), st.tau)), np.zeros(B)


def _target(st: _State, gap: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """Barrier parameter for this step: lowered by _SIGMA only once the iterate is centred for
    the current one, so the multipliers cannot collapse before stationarity is reached."""
    centred = (resid < _CENTRED_RES) & (gap < _CENTRED_GAP * st.mu)
    st.mu = np.where(centred, _SIGMA * np.minimum(st.mu, gap), st.mu)
    return st.mu


def _gram(weight: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Lower triangle of sum_i weight_i phi_i phi_i^T, [n, n, B] (what _chol_factor reads)."""
    n = phi.shape[1]
    S = np.zeros((n, n, phi.shape[2]))
    wphi = weight[:, None] * phi
    for i in range(n):  # a row per call (few numpy calls; each entry summed over actors in order)
        S[i, : i + 1] = (wphi[:, i : i + 1] * phi[:, : i + 1]).sum(axis=0)
    return S


def _fix_t(S: np.ndarray, phase1: np.ndarray) -> None:
    """Phase-2 draws keep t fixed: their last row and column become those of the identity."""
    K = S.shape[0] - 1
    p1f = phase1.astype(float)
    S[K] *= p1f
    S[:, K] *= p1f
    S[K, K] += 1.0 - p1f


def _chol_factor(S: np.ndarray) -> np.ndarray:
    """Cholesky factors of small symmetric positive definite systems stacked on the last axis
    (S [n, n, B]): loops over the few rows, vectorised over the stack (far faster than one
    LAPACK call per draw)."""
    n = S.shape[0]
    L = np.zeros_like(S)
    for j in range(n):  # a column per step (the rows below the diagonal in one call)
        dj = S[j, j] - (L[j, :j] ** 2).sum(axis=0)
        dj = np.sqrt(np.maximum(dj, 1e-300 + 1e-15 * np.abs(S[j, j])))
        L[j, j] = dj
        if j + 1 < n:
            L[j + 1 :, j] = (S[j + 1 :, j] - (L[j + 1 :, :j] * L[j, :j]).sum(axis=1)) / dj
    return L


def _chol_back(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve L L^T x = b (b [n, B]) by forward and back substitution."""
    n = L.shape[0]
    yv = np.empty_like(b)
    yv[0] = b[0] / L[0, 0]  # (b - an empty sum is b exactly: one call fewer per end)
    for j in range(1, n):
        yv[j] = (b[j] - (L[j, :j] * yv[:j]).sum(axis=0)) / L[j, j]
    xv = np.empty_like(b)
    xv[n - 1] = yv[n - 1] / L[n - 1, n - 1]
    for j in range(n - 2, -1, -1):
        xv[j] = (yv[j] - (L[j + 1 :, j] * xv[j + 1 :]).sum(axis=0)) / L[j, j]
    return xv


def _chol_solve(S: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve S x = b for stacked small SPD systems (see _chol_factor)."""
    return _chol_back(_chol_factor(S), b)
