"""Monte Carlo intervals of effects measured on common random numbers."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from parley.analysis.forecast import CI_LEVEL
from parley.analysis.settlement import wilson

Z = NormalDist().inv_cdf(0.5 + CI_LEVEL / 2)


def paired(variant: np.ndarray, baseline: np.ndarray) -> tuple[float, float, float]:
    """Mean of the per-draw differences and its 90% interval (normal approximation; the pairs
    share their draws, so the sampling noise of the inputs cancels). Draws where either side is
    undefined (NaN) are left out."""
    diff = np.asarray(variant, float) - np.asarray(baseline, float)
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        return (float("nan"),) * 3
    mean = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else 0.0
    return mean, mean - Z * se, mean + Z * se


def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean of a per-draw quantity and the 90% interval of that mean."""
    return paired(values, np.zeros_like(values))


def share(flags: np.ndarray) -> tuple[float, float, float]:
    """A probability over draws with its Wilson interval."""
    k, n = int(np.sum(flags)), int(np.size(flags))
    lo, hi = wilson(k, n, CI_LEVEL)
    return k / max(n, 1), lo, hi
