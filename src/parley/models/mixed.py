"""Forecast distributions on the 0–100 scale that mix point masses with a continuous part.

Negotiations often end exactly at a proposal someone made, so a forecast puts probability on
points (atoms) and spreads the rest over the scale. The continuous part is piecewise uniform
between knots (any density can be written so; the focal model's is on 1-point bins), which makes
the CDF piecewise linear with jumps at the atoms. Everything here is exact for that family and
vectorised over any leading shape [...]: CDF, quantiles, and the continuous ranked probability
score CRPS(F, y) = ∫ (F(x) − 1{x ≥ y})² dx.
"""

from __future__ import annotations

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
        a = self.mass.shape[-1]
        m = self.knots.size
        return (self.point.reshape(-1, a), self.mass.reshape(-1, a),
                self.cont_cdf.reshape(-1, m), self.remainder.reshape(-1))

    def _cont(self, x: np.ndarray, cdf: np.ndarray, rem: np.ndarray) -> np.ndarray:
        """Continuous part's (weighted) CDF at x[R, P], piecewise linear between knots."""
        k = self.knots
        step = (k[-1] - k[0]) / (k.size - 1)
        if np.allclose(np.diff(k), step):  # evenly spaced (the default): no search needed
            i = np.clip(np.floor((x - k[0]) / step).astype(np.intp), 0, k.size - 2)
        else:
            i = np.clip(np.searchsorted(k, x, side="right") - 1, 0, k.size - 2)
        lo, hi = k[i], k[i + 1]
        c0 = np.take_along_axis(cdf, i, axis=1)
        c1 = np.take_along_axis(cdf, i + 1, axis=1)
        frac = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
        val = np.where(x < k[0], 0.0, np.where(x >= k[-1], 1.0, c0 + frac * (c1 - c0)))
        return rem[:, None] * val

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
        p = self._breaks()
        start = self._cdf_flat(p[:, :-1])  # F at the left end of each piece (atoms included)
        end = self._cdf_flat(p[:, 1:], strict=True)  # F just before the right end
        eps = 1e-12
        reach = end >= tau - eps
        j = np.where(reach.any(axis=1), np.argmax(reach, axis=1), p.shape[1] - 2)
        r = np.arange(p.shape[0])
        s, e, a, b = start[r, j], end[r, j], p[r, j], p[r, j + 1]
        slope = np.where(e - s > eps, (tau - s) / np.where(e - s > eps, e - s, 1.0), 0.0)
        q = np.where(s >= tau - eps, a, a + np.clip(slope, 0.0, 1.0) * (b - a))
        return q.reshape(self.shape)

    def median(self) -> np.ndarray:
        return self.quantile(0.5)

    def mode_point(self) -> np.ndarray:
        """The most likely atom (NaN when there is none)."""
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
    c = np.asarray(centre, float)[..., None]
    lo = knots[0] if low is None else np.asarray(low, float)[..., None]
    hi = knots[-1] if high is None else np.asarray(high, float)[..., None]
    i_lo = np.clip(np.searchsorted(knots, lo, side="right") - 1, 0, knots.size - 2)
    i_hi = np.clip(np.searchsorted(knots, hi, side="left"), 1, knots.size - 1)
    i_hi = np.maximum(i_hi, i_lo + 1)
    a, b = knots[i_lo], knots[i_hi]

    def raw(x: np.ndarray) -> np.ndarray:
        z = (x - c) / scale
        return np.where(z < 0, 0.5 * np.exp(np.minimum(z, 0)), 1 - 0.5 * np.exp(-np.maximum(z, 0)))

    ra, rb = raw(a), raw(b)
    flat = rb - ra <= 1e-12  # centre far outside the support: uniform on it instead
    val = (raw(np.clip(knots, a, b)) - ra) / np.where(flat, 1.0, rb - ra)
    uniform = (np.clip(knots, a, b) - a) / (b - a)
    return np.where(flat, uniform, val)
