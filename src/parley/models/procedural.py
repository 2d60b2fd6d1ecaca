"""Procedural points of EU law-making: where the rules of the game say a one-dimensional issue ends.

Spatial models of the EU legislative procedures (Steunenberg 1994; Crombez 1996, 2001; Tsebelis &
Garrett 2000) predict the outcome from the reference point (status quo) q, the Council members'
ideal points and votes, the Commission's position and, under codecision, the Parliament's. All
functions work on batched arrays: positions [D, N, K], Council voting weights [D, N, K] (zero for
actors that do not vote in the Council), q [D, K]. A point that is undefined (no reference point,
no Commission, no Council) is NaN.

Preferences are single-peaked and symmetric, so a member i prefers x to q exactly when
|x_i − x| < |x_i − q|. For moves to the right of q that is x_i > (x + q) / 2, so the Council can
move q right to any x below 2·p_R − q, where p_R, the right pivot, is the highest position such
that members at or above it hold the quota. Moves left mirror this with the left pivot p_L. With
p_R ≤ q ≤ p_L nothing beats q (the gridlock interval).
"""

from __future__ import annotations

import numpy as np

UNANIMITY = 1.0
QMV_QUOTA = 0.72
"""Share of Council votes for a qualified majority: 62/87 = 71% before Nice, 255/345 = 74% under
Nice; 72% sits between them (the backtest does not switch quota by era)."""


def pivots(position: np.ndarray, weight: np.ndarray, quota: float) -> tuple[np.ndarray, np.ndarray]:
    """(p_R, p_L) [D, K]: the right pivot (members at or above it hold `quota` of the votes) and
    the left pivot (members at or below it hold the quota). NaN where nobody votes."""
    return pivot_sets(position, weight, (quota,))[0]


def pivot_sets(position: np.ndarray, weight: np.ndarray,
               quotas: tuple[float, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """`pivots` for several quotas, sorting the members once."""
    order = np.argsort(position, axis=1, kind="stable")
    xs = np.take_along_axis(position, order, axis=1)
    ws = np.take_along_axis(weight, order, axis=1)
    total = ws.sum(axis=1, keepdims=True)
    from_top = np.cumsum(ws[:, ::-1], axis=1)[:, ::-1]
    from_bottom = np.cumsum(ws, axis=1)
    n = position.shape[1]
    none = total[:, 0] <= 0
    out = []
    for quota in quotas:
        need = quota * total * (1 - 1e-9)
        # largest index whose weight from the top still reaches the quota
        right = n - 1 - np.argmax((from_top >= need)[:, ::-1], axis=1)
        left = np.argmax(from_bottom >= need, axis=1)
        p_r = np.take_along_axis(xs, right[:, None], axis=1)[:, 0]
        p_l = np.take_along_axis(xs, left[:, None], axis=1)[:, 0]
        out.append((np.where(none, np.nan, p_r), np.where(none, np.nan, p_l)))
    return out


def winset(q: np.ndarray, p_r: np.ndarray, p_l: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed interval [lo, hi] of points the Council prefers to q (q itself when nothing does).

    Its ends are the points where the pivot is indifferent; they are kept (ties go to change)."""
    right = q < p_r
    left = q > p_l
    lo = np.where(right, q, np.where(left, 2 * p_l - q, q))
    hi = np.where(right, 2 * p_r - q, np.where(left, q, q))
    return lo, hi


def beats(x: np.ndarray, q: np.ndarray, p_r: np.ndarray, p_l: np.ndarray) -> np.ndarray:
    """Whether point(s) x beat q under the rule whose pivots are p_r, p_l (False where q unknown).
    x may have extra trailing axes beyond [D, K]."""
    extra = (slice(None), slice(None)) + (None,) * (np.ndim(x) - 2)
    lo, hi = winset(q, p_r, p_l)
    moves = (q < p_r) | (q > p_l)
    inside = (x >= lo[extra] - 1e-9) & (x <= hi[extra] + 1e-9) & (np.abs(x - q[extra]) > 1e-9)
    return inside & moves[extra] & np.isfinite(q)[extra]


def pivot_point(q: np.ndarray, p_r: np.ndarray, p_l: np.ndarray) -> np.ndarray:
    """The ideal point of the member pivotal for moving q: p_R when q lies left of the gridlock
    interval, p_L when right of it, q itself inside it (no qualified coalition moves it)."""
    return np.where(q < p_r, p_r, np.where(q > p_l, p_l, q))


def agenda_point(q: np.ndarray, commission: np.ndarray, p_r: np.ndarray, p_l: np.ndarray,
                 lo_core: np.ndarray, hi_core: np.ndarray) -> np.ndarray:
    """Commission agenda-setting (consultation; Steunenberg 1994, Crombez 1996): the point
    nearest the Commission that the pivotal coalition prefers to q and that the Council cannot
    amend by unanimity (inside [lo_core, hi_core], the span of the Council members)."""
    lo, hi = winset(q, p_r, p_l)
    lo, hi = np.maximum(lo, lo_core), np.minimum(hi, hi_core)
    moves = ((q < p_r) | (q > p_l)) & (lo <= hi)
    return np.where(moves, np.clip(commission, lo, hi), q)


def codecision_point(q: np.ndarray, parliament: np.ndarray, p_r: np.ndarray,
                     p_l: np.ndarray) -> np.ndarray:
    """Codecision with the Parliament as a second veto player (Tsebelis & Garrett 2000): the
    outcome must beat q for the Council's pivot and for the Parliament. parley's reduced form of
    the conciliation bargain: the midpoint of the Council's pivot and the Parliament, moved into
    the set both prefer to q; q when that set is empty."""
    lo, hi = winset(q, p_r, p_l)
    ep_lo = np.minimum(q, 2 * parliament - q)
    ep_hi = np.maximum(q, 2 * parliament - q)
    lo, hi = np.maximum(lo, ep_lo), np.minimum(hi, ep_hi)
    council = pivot_point(q, p_r, p_l)
    moves = ((q < p_r) | (q > p_l)) & (lo < hi) & (np.abs(parliament - q) > 1e-9)
    return np.where(moves, np.clip((council + parliament) / 2, lo, hi), q)
