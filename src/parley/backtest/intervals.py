"""Conformal forecast intervals: forecast ± a quantile of absolute errors seen on other data.

Split conformal prediction: if the errors of past forecasts and of the next forecast are
exchangeable, the interval forecast ± q, with q the ⌈(n + 1)·level⌉-th smallest of n past absolute
errors, covers the outcome with probability at least `level`. parley fits q on the development
split and checks the promise where it was not fitted: inside the development split by grouped
cross-validation (q from the other folds' errors), and on new data by applying the dev q as is.
Intervals are clipped to the 0–100 scale.
"""

from __future__ import annotations

import math

import numpy as np

from parley.backtest.metrics import crps_samples

LEVELS = (0.5, 0.8)


def conformal_quantile(abs_errors: np.ndarray, level: float) -> float:
    """The finite-sample conformal quantile of absolute errors (inf when too few errors)."""
    a = np.sort(np.abs(np.asarray(abs_errors, float)[np.isfinite(abs_errors)]))
    n = a.size
    rank = math.ceil((n + 1) * level)
    if n == 0 or rank > n:
        return float("inf")
    return float(a[rank - 1])


def interval(forecast: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    return np.clip(forecast - q, 0.0, 100.0), np.clip(forecast + q, 0.0, 100.0)


def cv_coverage(forecast: np.ndarray, outcome: np.ndarray, folds: np.ndarray,
                level: float) -> tuple[float, float]:
    """Coverage and mean width of `level` intervals, each fold calibrated on the other folds."""
    err = np.abs(forecast - outcome)
    ok = np.isfinite(err)
    inside = np.zeros(len(err), bool)
    width = np.full(len(err), np.nan)
    for f in np.unique(folds[ok]):
        test = ok & (folds == f)
        q = conformal_quantile(err[ok & (folds != f)], level)
        lo, hi = interval(forecast[test], q)
        inside[test] = (outcome[test] >= lo - 1e-9) & (outcome[test] <= hi + 1e-9)
        width[test] = hi - lo
    if not ok.any():
        return float("nan"), float("nan")
    return float(inside[ok].mean()), float(np.nanmean(width[ok]))


def fixed_coverage(forecast: np.ndarray, outcome: np.ndarray, q: float) -> tuple[float, float]:
    """Coverage and mean width of intervals with a quantile fitted elsewhere."""
    ok = np.isfinite(forecast)
    if not ok.any():
        return float("nan"), float("nan")
    lo, hi = interval(forecast[ok], q)
    inside = (outcome[ok] >= lo - 1e-9) & (outcome[ok] <= hi + 1e-9)
    return float(inside.mean()), float((hi - lo).mean())


def _predictive(forecast: np.ndarray,
                residuals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """An all-NaN result per issue, where the forecast is finite, and the predictive samples
    forecast + residual clipped to 0–100 there [I, m] (None when there are none)."""
    r = np.asarray(residuals, float)
    r = r[np.isfinite(r)]
    f = np.asarray(forecast, float)
    ok = np.isfinite(f)
    x = np.clip(f[ok, None] + r[None, :], 0.0, 100.0) if r.size and ok.any() else None
    return np.full(f.shape, np.nan), ok, x


def crps_from_residuals(forecast: np.ndarray, outcome: np.ndarray,
                        residuals: np.ndarray) -> np.ndarray:
    """CRPS of the predictive distribution forecast + past residual (clipped to 0–100), per issue.

    The same out-of-sample residuals that set the conformal intervals define a whole predictive
    distribution; its continuous ranked probability score rewards sharp and calibrated forecasts
    (it equals the absolute error for a point mass). Uses the sample identity
    CRPS = E|X − y| − ½ E|X − X'| with the sorted-sample form of E|X − X'|.
    """
    out, ok, x = _predictive(forecast, residuals)
    if x is not None:
        out[ok] = crps_samples(x, np.asarray(outcome, float)[ok])
    return out


def cv_crps(forecast: np.ndarray, outcome: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Per-issue CRPS, each fold's distribution built from the other folds' residuals."""
    resid = outcome - forecast
    out = np.full(len(forecast), np.nan)
    for f in np.unique(folds):
        test = folds == f
        out[test] = crps_from_residuals(forecast[test], outcome[test], resid[~test])
    return out


def pit_from_residuals(forecast: np.ndarray, outcome: np.ndarray, residuals: np.ndarray,
                       u: np.ndarray) -> np.ndarray:
    """Randomised PIT of each outcome under forecast + past residual (clipped to 0–100): the
    share of the distribution below it plus u times the share exactly at it."""
    out, ok, x = _predictive(forecast, residuals)
    if x is None:
        return out
    y = np.asarray(outcome, float)[ok, None]
    below = (x < y - 1e-9).mean(axis=1)
    at = (np.abs(x - y) <= 1e-9).mean(axis=1)
    out[ok] = below + np.asarray(u, float)[ok] * at
    return out


def cv_pit(forecast: np.ndarray, outcome: np.ndarray, folds: np.ndarray,
           u: np.ndarray) -> np.ndarray:
    """Per-issue randomised PIT, each fold's distribution from the other folds' residuals."""
    resid = outcome - forecast
    out = np.full(len(forecast), np.nan)
    for f in np.unique(folds):
        test = folds == f
        out[test] = pit_from_residuals(forecast[test], outcome[test], resid[~test], u[test])
    return out
