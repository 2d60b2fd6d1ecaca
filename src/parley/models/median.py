"""Weighted median: the position where half the weight lies on either side.

With single-peaked symmetric preferences and weighted votes this is the Condorcet winner on
one issue (Black's median voter theorem).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from parley.core.batch import Batch
from parley.models.base import Outcome, WeightRule, weights, with_fallback

SUMMARY = "weighted median position (median voter)"


@dataclass(frozen=True)
class Params:
    """`tie`: when the weight splits exactly in half between two positions, take the lower,
    the upper, or the midpoint of the two (default: midpoint, which is symmetric)."""

    weights: WeightRule = "capability_salience"
    tie: Literal["midpoint", "lower", "upper"] = "midpoint"


def solve(batch: Batch, params: Params | None = None) -> Outcome:
    params = params or Params()
    w, fallbacks = with_fallback(weights(batch, params.weights), batch)
    order = np.argsort(batch.position, axis=1, kind="stable")
    xs = np.take_along_axis(batch.position, order, axis=1)
    ws = np.take_along_axis(w, order, axis=1)
    cum = np.cumsum(ws, axis=1)
    half = cum[:, -1:, :] / 2.0
    tol = 1e-9 * cum[:, -1:, :]
    lower_i = np.argmax(cum >= half - tol, axis=1)[:, None, :]
    upper_i = np.argmax(cum > half + tol, axis=1)[:, None, :]
    lower = np.take_along_axis(xs, lower_i, axis=1)[:, 0, :]
    upper = np.take_along_axis(xs, upper_i, axis=1)[:, 0, :]
    if params.tie == "lower":
        outcome = lower
    elif params.tie == "upper":
        outcome = upper
    else:
        outcome = (lower + upper) / 2.0
    return Outcome.always(outcome, zero_weight_fallbacks=fallbacks)
