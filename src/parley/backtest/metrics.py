"""Error metrics with bootstrap intervals that resample whole proposals.

Issues of one proposal are decided together and share errors, so resampling issues one by one
would understate the uncertainty; every interval here resamples proposals (a cluster bootstrap)
with replacement and keeps all issues of each drawn proposal. Paired comparisons resample the
same proposals for both models, so the interval is for the difference itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("mae", "rmse", "median_ae", "within10")
LABELS = {"mae": "MAE", "rmse": "RMSE", "median_ae": "median AE", "within10": "within 10"}


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def point_metrics(error: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, median absolute error and share of |error| <= 10 (as a fraction)."""
    a = np.abs(np.asarray(error, dtype=float))
    if a.size == 0:
        return dict.fromkeys(METRICS, float("nan"))
    return {
        "mae": float(a.mean()),
        "rmse": float(np.sqrt((a * a).mean())),
        "median_ae": float(np.median(a)),
        "within10": float((a <= 10.0).mean()),
    }


def group_counts(groups: np.ndarray, reps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """How often each issue enters each bootstrap replicate: [reps, I], by resampling groups.

    Returns the per-issue multiplicities and the group index of every issue.
    """
    labels, index = np.unique(np.asarray(groups), return_inverse=True)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, labels.size, size=(reps, labels.size))
    per_group = np.zeros((reps, labels.size))
    np.add.at(per_group, (np.arange(reps)[:, None], draws), 1.0)
    return per_group[:, index], index


def bootstrap_metrics(error: np.ndarray, groups: np.ndarray, reps: int = 2000, seed: int = 0,
                      level: float = 0.95) -> dict[str, Estimate]:
    """Each metric with a percentile interval from a bootstrap over groups (proposals)."""
    a = np.abs(np.asarray(error, dtype=float))
    point = point_metrics(a)
    if a.size == 0:
        return {m: Estimate(point[m], float("nan"), float("nan")) for m in METRICS}
    w, _ = group_counts(groups, reps, seed)
    total = w.sum(axis=1)
    total = np.where(total > 0, total, 1.0)
    reps_values = {
        "mae": (w @ a) / total,
        "rmse": np.sqrt((w @ (a * a)) / total),
        "median_ae": _weighted_median(a, w),
        "within10": (w @ (a <= 10.0).astype(float)) / total,
    }
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {m: Estimate(point[m], float(np.percentile(v, lo)), float(np.percentile(v, hi)))
            for m, v in reps_values.items()}


def bootstrap_mean(values: np.ndarray, groups: np.ndarray, reps: int = 2000, seed: int = 0,
                   level: float = 0.95) -> Estimate:
    """Mean of per-issue values (a CRPS, a hit indicator) with a cluster-bootstrap interval."""
    v = np.asarray(values, float)
    if v.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"))
    w, _ = group_counts(groups, reps, seed)
    total = np.where(w.sum(axis=1) > 0, w.sum(axis=1), 1.0)
    boot = (w @ v) / total
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return Estimate(float(v.mean()), float(np.percentile(boot, lo)), float(np.percentile(boot, hi)))


def paired_difference(error_a: np.ndarray, error_b: np.ndarray, groups: np.ndarray,
                      reps: int = 2000, seed: int = 0, level: float = 0.95) -> Estimate:
    """MAE(a) − MAE(b) on the issues both forecast, with a paired bootstrap over groups.

    An interval that contains 0 means DEU cannot tell the two models apart.
    """
    a, b = np.abs(np.asarray(error_a, float)), np.abs(np.asarray(error_b, float))
    both = np.isfinite(a) & np.isfinite(b)
    a, b, g = a[both], b[both], np.asarray(groups)[both]
    if a.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"))
    w, _ = group_counts(g, reps, seed)
    total = np.where(w.sum(axis=1) > 0, w.sum(axis=1), 1.0)
    diff = (w @ (a - b)) / total
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return Estimate(float((a - b).mean()), float(np.percentile(diff, lo)),
                    float(np.percentile(diff, hi)))


def crps_samples(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS of equally weighted samples x[..., m] at outcomes y[...]: E|X − y| − ½ E|X − X'|,
    exact for that discrete distribution, with the sorted-sample form of E|X − X'|."""
    x = np.sort(np.asarray(x, float), axis=-1)
    m = x.shape[-1]
    first = np.abs(x - np.asarray(y, float)[..., None]).mean(axis=-1)
    rank = 2.0 * np.arange(1, m + 1) - m - 1
    spread = 2.0 * (x * rank).sum(axis=-1) / (m * m)
    return first - 0.5 * spread


def coverage(outcome: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of outcomes inside their intervals (ends included)."""
    inside = (outcome >= low - 1e-9) & (outcome <= high + 1e-9)
    return float(inside.mean()) if inside.size else float("nan")


def _weighted_median(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Median of values a under integer multiplicities w[reps, I] (lower median on ties)."""
    order = np.argsort(a, kind="stable")
    sa, sw = a[order], w[:, order]
    cum = np.cumsum(sw, axis=1)
    half = cum[:, -1:] / 2.0
    lower = np.argmax(cum >= half, axis=1)
    upper = np.argmax(cum > half, axis=1)
    even = np.isclose(cum[np.arange(len(cum)), lower], half[:, 0])
    return np.where(even, (sa[lower] + sa[upper]) / 2.0, sa[lower])
