"""Forecast distributions on the 0–100 scale that mix point masses with a continuous part.

Negotiations often end exactly at a proposal someone made, so a forecast puts probability on
points (atoms) and spreads the rest over the scale. The continuous part is piecewise uniform
between knots (any density can be written so; the focal model's is on 1-point bins), which makes
the CDF piecewise linear with jumps at the atoms. Everything here is exact for that family and
vectorised over any leading shape [...]: CDF, quantiles, and the continuous ranked probability
score CRPS(F, y) = ∫ (F(x) − 1{x ≥ y})² dx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

KNOTS = np.linspace(0.0, 100.0, 101)
"""Default knots of the continuous part: 1-point bins over the scale."""


@dataclass(frozen=True)
class Mixed:
    """`point[..., A]` with `mass[..., A]` (0 for unused slots); the continuous part has total
    weight `1 − Σ mass` and CDF `cont_cdf[..., M]` (0 at the first knot, 1 at the last) on `knots`.
    """

    point: np.ndarray
    mass: np.ndarray
    cont_cdf: np.ndarray
    knots: np.ndarray = field(default_factory=KNOTS.copy)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mass.shape[:-1]

    @property
    def remainder(self) -> np.ndarray:
        return np.clip(1.0 - self.mass.sum(axis=-1), 0.0, 1.0)

    def _flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """[R, A] atoms and masses, [R, M] CDF, [R] remainder (R counted from the leading
        shape, not inferred: with no atoms, A = 0, reshape(-1, 0) could not tell R)."""
        a = self.mass.shape[-1]
        m = self.knots.size
        r = int(np.prod(self.shape, dtype=np.int64))
        return (self.point.reshape(r, a), self.mass.reshape(r, a),
                self.cont_cdf.reshape(r, m), self.remainder.reshape(r))

    def _cont(self, x: np.ndarray, cdf: np.ndarray, rem: np.ndarray) -> np.ndarray:
        """Continuous part's (weighted) CDF at x[R, P], piecewise linear between knots."""
        return continuous(self.knots, x, lambda i: np.take_along_axis(cdf, i, axis=1), rem[:, None])

    def _cdf_flat(self, x: np.ndarray, strict: bool = False) -> np.ndarray:
        """F at x[R, P] without an [R, P, A] comparison: the atoms of every row are sorted and
        offset by row into one sorted array, so one searchsorted counts the atoms below x."""
        pt, ms, cdf, rem = self._flat()
        r, a = ms.shape
        order = np.argsort(pt, axis=1, kind="stable")
        spt = np.take_along_axis(pt, order, axis=1)
        cum = np.concatenate([np.zeros((r, 1)), np.cumsum(np.take_along_axis(ms, order, axis=1),
                                                          axis=1)], axis=1)
        span = 4.0 * (np.abs(self.knots).max() + 1.0) + 4.0 * float(np.abs(spt).max(initial=0))
        offset = span * np.arange(r)[:, None]
        keys = (spt + offset).ravel()
        q = np.clip(x, -span / 4, span / 4) + offset
        count = np.searchsorted(keys, q.ravel(), side="left" if strict else "right")
        count = count.reshape(x.shape) - a * np.arange(r)[:, None]
        atoms = np.take_along_axis(cum, np.clip(count, 0, a), axis=1)
        return atoms + self._cont(x, cdf, rem)

    def cdf(self, x: np.ndarray, strict: bool = False) -> np.ndarray:
        """F(x) (or F(x−) with `strict`) at x[...] (one value per distribution)."""
        x = np.broadcast_to(np.asarray(x, float), self.shape).reshape(-1, 1)
        return self._cdf_flat(x, strict)[:, 0].reshape(self.shape)

    def _breaks(self, extra: np.ndarray | None = None) -> np.ndarray:
        pt, _, _, _ = self._flat()
        parts = [np.broadcast_to(self.knots, (pt.shape[0], self.knots.size)), pt]
        if extra is not None:
            parts.append(extra.reshape(-1, 1))
        return np.sort(np.clip(np.concatenate(parts, axis=1), self.knots[0], self.knots[-1]), axis=1)

    def quantile(self, tau: float) -> np.ndarray:
        """Q(τ) = min{x : F(x) ≥ τ}, exactly (an atom or a point on a linear piece)."""
        pt, ms, cdf, rem = self._flat()
        k = self.knots
        if np.isnan(pt).any():
            return self._quantile_breaks(tau)
        m = k.size
        flat = np.ascontiguousarray(cdf).ravel()
        base = np.arange(len(rem)) * m
        q = quantile_search(pt, ms, rem, lambda i: flat[base + i], k, tau)
        return q.reshape(self.shape)

    def _quantile_breaks(self, tau: float) -> np.ndarray:
        """`quantile` by evaluating F at every break point (knots and atoms): the general case."""
        p = self._breaks()
        start = self._cdf_flat(p[:, :-1])  # F at the left end of each piece (atoms included)
        end = self._cdf_flat(p[:, 1:], strict=True)  # F just before the right end
        reach = end >= tau - EPS
        j = np.where(reach.any(axis=1), np.argmax(reach, axis=1), p.shape[1] - 2)
        r = np.arange(p.shape[0])
        return _on_piece(start[r, j], end[r, j], p[r, j], p[r, j + 1], tau).reshape(self.shape)

    def median(self) -> np.ndarray:
        return self.quantile(0.5)

    def mode_point(self) -> np.ndarray:
        """The most likely atom (NaN when there is none)."""
        if self.mass.shape[-1] == 0:
            return np.full(self.shape, np.nan)
        best = np.argmax(self.mass, axis=-1)
        pt = np.take_along_axis(self.point, best[..., None], axis=-1)[..., 0]
        has = np.take_along_axis(self.mass, best[..., None], axis=-1)[..., 0] > 0
        return np.where(has, pt, np.nan)

    def crps(self, y: np.ndarray) -> np.ndarray:
        """Exact CRPS against outcomes y[...] inside the knots' range: F is linear on each piece
        between break points (knots, atoms, y), so each piece contributes L·(u² + uv + v²)/3
        where u and v are F − 1{x ≥ y} at its ends."""
        yv = np.broadcast_to(np.asarray(y, float), self.shape).reshape(-1)
        p = self._breaks(yv)
        start = self._cdf_flat(p[:, :-1])
        end = self._cdf_flat(p[:, 1:], strict=True)
        h = (p[:, :-1] >= yv[:, None]).astype(float)
        u, v = start - h, end - h
        length = np.diff(p, axis=1)
        return (length * (u * u + u * v + v * v) / 3.0).sum(axis=1).reshape(self.shape)

    def prediction_set(self, y: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(covered, size) of the smallest set of atoms and knot-to-knot pieces whose probability
        reaches `level`, taken in order of probability: whether y lies in it (an atom counts
        within 0.5 of y) and the length of its continuous pieces (atoms have length 0)."""
        pt, ms, cdf, rem = self._flat()
        pieces = rem[:, None] * np.diff(cdf, axis=1)  # [R, M-1]
        mass = np.concatenate([ms, pieces], axis=1)
        order = np.argsort(-mass, axis=1, kind="stable")
        cum = np.cumsum(np.take_along_axis(mass, order, axis=1), axis=1)
        last = np.argmax(cum >= level - 1e-12, axis=1)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(mass.shape[1])[None].repeat(len(mass), 0), axis=1)
        chosen = rank <= last[:, None]
        a = ms.shape[1]
        yv = np.broadcast_to(np.asarray(y, float), self.shape).reshape(-1)
        near = (np.abs(pt - yv[:, None]) <= 0.5) & (ms > 0) & chosen[:, :a]
        k = self.knots
        piece = np.clip(np.searchsorted(k, yv, side="right") - 1, 0, k.size - 2)
        below = np.clip(np.searchsorted(k, yv, side="left") - 1, 0, k.size - 2)  # y on a knot
        r = np.arange(len(yv))
        inside = chosen[r, a + piece] | chosen[r, a + below]
        covered = near.any(axis=1) | inside
        size = (chosen[:, a:] * np.diff(k)[None]).sum(axis=1)
        return covered.reshape(self.shape), size.reshape(self.shape)

    def pit(self, y: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Randomised probability integral transform F(y−) + u·(F(y) − F(y−)), u ~ U(0, 1)."""
        lo, hi = self.cdf(y, strict=True), self.cdf(y)
        return lo + np.asarray(u, float) * (hi - lo)


def laplace_cdf(centre: np.ndarray, scale: float, low: np.ndarray | None = None,
                high: np.ndarray | None = None, knots: np.ndarray = KNOTS) -> np.ndarray:
    """CDF on the knots of a Laplace(centre, scale) density truncated to [low, high] (default:
    the knots' range): [..., M], 0 at the first knot and 1 at the last. `low` and `high` are
    rounded outward to knots, so the result is exactly piecewise uniform between knots."""
    return TruncatedLaplace(centre, scale, low, high, knots).table()


class TruncatedLaplace:
    """`laplace_cdf` evaluated lazily: `at(i)` gives the CDF at knot indices i[...] (one per
    distribution) with the same arithmetic as the full table, so a quantile search that needs a
    dozen knots per distribution does not build all of them."""

    def __init__(self, centre: np.ndarray, scale: float, low: np.ndarray | None = None,
                 high: np.ndarray | None = None, knots: np.ndarray = KNOTS) -> None:
        c = np.asarray(centre, float)
        lo = np.full_like(c, knots[0]) if low is None else np.asarray(low, float)
        hi = np.full_like(c, knots[-1]) if high is None else np.asarray(high, float)
        i_lo = np.clip(np.searchsorted(knots, lo, side="right") - 1, 0, knots.size - 2)
        i_hi = np.clip(np.searchsorted(knots, hi, side="left"), 1, knots.size - 1)
        i_hi = np.maximum(i_hi, i_lo + 1)
        self.knots, self.scale, self.centre = knots, scale, c
        self.a, self.b = knots[i_lo], knots[i_hi]
        self.ra, self.rb = self._raw(self.a, c), self._raw(self.b, c)
        self.flat = self.rb - self.ra <= 1e-12  # centre far outside the support: uniform on it
        self.denom = np.where(self.flat, 1.0, self.rb - self.ra)
        self.any_flat = bool(np.any(self.flat))

    def _raw(self, x: np.ndarray, c: np.ndarray) -> np.ndarray:
        z = (x - c) / self.scale
        half_tail = 0.5 * np.exp(-np.abs(z))  # = exp(min(z, 0)) below the centre, exp(-z) above
        return np.where(z < 0, half_tail, 1 - half_tail)

    def _value(self, knot: np.ndarray, ex: tuple[slice | None, ...]) -> np.ndarray:
        x = np.clip(knot, self.a[ex], self.b[ex])
        val = (self._raw(x, self.centre[ex]) - self.ra[ex]) / self.denom[ex]
        if not self.any_flat:
            return val
        uniform = (x - self.a[ex]) / (self.b[ex] - self.a[ex])
        return np.where(self.flat[ex], uniform, val)

    def table(self) -> np.ndarray:
        """[..., M]: the CDF at every knot."""
        return self._value(self.knots, (Ellipsis, None))

    def at(self, i: np.ndarray) -> np.ndarray:
        """The CDF at knot index i[...] of each distribution."""
        return self._value(self.knots[i], (Ellipsis,))


EPS = 1e-12
"""Tolerance of the quantile search: F within EPS of τ counts as reaching it."""


def continuous(knots: np.ndarray, x: np.ndarray, value_at: Callable[[np.ndarray], np.ndarray],
               rem: np.ndarray) -> np.ndarray:
    """rem × the continuous part's CDF at x, linear between knots; value_at(i) is the CDF at
    knot indices i (shaped like x)."""
    k = knots
    step = _even_step(k)
    if step:  # evenly spaced (the default): no search needed
        i = np.clip(np.floor((x - k[0]) / step).astype(np.intp), 0, k.size - 2)
    else:
        i = np.clip(np.searchsorted(k, x, side="right") - 1, 0, k.size - 2)
    lo, hi = k[i], k[i + 1]
    c0, c1 = value_at(i), value_at(i + 1)
    frac = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    val = np.where(x < k[0], 0.0, np.where(x >= k[-1], 1.0, c0 + frac * (c1 - c0)))
    return rem * val


def _even_step(knots: np.ndarray) -> float:
    """The knots' spacing when they are evenly spaced (np.allclose), else 0."""
    return _knot_rules(knots)[0]


def _on_knot(knots: np.ndarray) -> bool:
    """Whether continuous() puts every inner knot at the start of its own piece (fraction 0),
    so that its value there is exactly rem × the CDF at that knot (true for the default knots)."""
    return _knot_rules(knots)[1]


def _knot_rules(knots: np.ndarray) -> tuple[float, bool]:
    key = (knots.size, hash(knots.tobytes()))
    if key not in _RULES:
        step = (knots[-1] - knots[0]) / (knots.size - 1)
        _RULES[key] = (float(step) if np.allclose(np.diff(knots), step) else 0.0, False)
        inner = knots[:-1]
        probe: list[np.ndarray] = []
        continuous(knots, inner, lambda i: probe.append(i) or np.zeros(i.shape), np.ones(inner.shape))
        _RULES[key] = (_RULES[key][0], bool(np.array_equal(probe[0], np.arange(inner.size))))
    return _RULES[key]


_RULES: dict[tuple[int, int], tuple[float, bool]] = {}
"""Per set of knots: (even spacing or 0, whether each inner knot starts its own piece)."""


def _on_piece(s: np.ndarray, e: np.ndarray, a: np.ndarray, b: np.ndarray, tau: float) -> np.ndarray:
    """Where F reaches τ on the piece [a, b] that first reaches it: F(a) = s, F(b−) = e."""
    slope = np.where(e - s > EPS, (tau - s) / np.where(e - s > EPS, e - s, 1.0), 0.0)
    return np.where(s >= tau - EPS, a, a + np.clip(slope, 0.0, 1.0) * (b - a))


def quantile_search(point: np.ndarray, mass: np.ndarray, rem: np.ndarray,
                    value_at: Callable[[np.ndarray], np.ndarray], knots: np.ndarray,
                    tau: float) -> np.ndarray:
    """Q(τ) of R distributions (atoms point[R, A], not NaN, with mass[R, A], continuous weight
    rem[R], its CDF at knot indices from value_at(i[R])), the same number
    `Mixed._quantile_breaks` gives from F at every knot and atom, found by two bisections: the
    first atom x_J with F(x_J−) ≥ τ, then the first knot before it where F reaches τ. The piece
    that ends there is the one the full scan picks, and F at its ends is computed alike. As in
    the scan, atoms below the first knot count from it on and atoms beyond the last never."""
    r, a = mass.shape
    rows = np.arange(r)
    if a > 1 and not np.all(point[:, 1:] >= point[:, :-1]):
        order = np.argsort(point, axis=1, kind="stable")
        point, mass = np.take_along_axis(point, order, axis=1), np.take_along_axis(mass, order, axis=1)
    point = np.ascontiguousarray(point).ravel()
    cum = np.concatenate([np.zeros((r, 1)), np.cumsum(mass, axis=1)], axis=1).ravel()
    thr = tau - EPS
    # first atom J whose left limit F(x_J−) = (mass of the atoms below it) + continuous reaches τ
    first = np.zeros((r, max(a, 1)), np.intp)
    if a > 1:
        pt2 = point.reshape(r, a)
        starts = np.concatenate([np.ones((r, 1), bool), pt2[:, 1:] != pt2[:, :-1]], axis=1)
        first = np.maximum.accumulate(np.where(starts, np.arange(a), 0), axis=1)
    first = first.ravel()
    k0, km = knots[0], knots[-1]
    inside = bool(np.all((point >= k0) & (point <= km)))
    # atoms [lo_i, hi_i) are on the knots' range (sorted: those below first, those beyond last)
    lo_i = 0 if inside else (point.reshape(r, a) < k0).sum(axis=1)
    hi_i = a if inside else (point.reshape(r, a) <= km).sum(axis=1)
    lo, hi = np.zeros(r, np.intp) + lo_i, np.zeros(r, np.intp) + hi_i
    for _ in range(int(a).bit_length()):
        mid = (lo + hi) // 2
        j = rows * a + np.minimum(mid, a - 1)
        ok = cum[rows * (a + 1) + first[j]] + continuous(knots, point[j], value_at, rem) >= thr
        lo, hi = np.where(ok, lo, np.minimum(mid + 1, hi)), np.where(ok, mid, hi)
    big = lo
    c_j = cum[rows * (a + 1) + big]
    if a:
        below = np.where(big > lo_i, point[rows * a + np.maximum(big - 1, 0)], -np.inf)
        upper = np.where(big < hi_i, point[rows * a + np.minimum(big, a - 1)], km)
    else:
        below, upper = np.full(r, -np.inf), np.full(r, knots[-1])
    # between the atoms x_{J−1} and x_J, F = c_j + continuous part: the first knot reaching τ
    k_hi = np.searchsorted(knots, upper, side="left")
    k_lo = np.minimum(np.maximum(np.searchsorted(knots, below, side="right"), 1), k_hi)
    lo, hi = k_lo, k_hi
    on_knot = _on_knot(knots)
    for _ in range(int(knots.size).bit_length()):
        mid = (lo + hi) // 2  # < k_hi <= M - 1 while the search is open
        x = knots[np.minimum(mid, knots.size - 1)]
        if on_knot:  # continuous() at an inner knot is rem × CDF there: skip the interpolation
            cont = rem * value_at(np.minimum(mid, knots.size - 2))
        else:
            cont = continuous(knots, x, value_at, rem)
        ok = c_j + cont >= thr
        lo, hi = np.where(ok, lo, np.minimum(mid + 1, hi)), np.where(ok, mid, hi)
    end = np.where(lo < k_hi, knots[np.minimum(lo, knots.size - 1)], upper)
    start = np.maximum(below, knots[np.maximum(np.searchsorted(knots, end, side="left") - 1, 0)])
    s = c_j + continuous(knots, start, value_at, rem)
    e = c_j + continuous(knots, end, value_at, rem)
    q = _on_piece(s, e, start, end, tau)
    if not inside:  # nothing reaches τ before the end: the scan's last piece is [km, km] when
        # atoms beyond the last knot add break points there
        q = np.where((hi_i < a) & (big == hi_i) & (e < thr), km, q)
    return q
