"""Compromise model: the weighted mean of engaged actors' positions (Achen's baseline).

On EU legislative data it is the hardest baseline to beat, which is why it is parley's first model.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.core.batch import Batch
from parley.models.base import Outcome, WeightRule, weights, with_fallback

SUMMARY = "weighted mean of positions (capability x salience)"


@dataclass(frozen=True)
class Params:
    """`weights`: what an actor's pull is proportional to."""

    weights: WeightRule = "capability_salience"


def solve(batch: Batch, params: Params | None = None) -> Outcome:
    params = params or Params()
    w, fallbacks = with_fallback(weights(batch, params.weights), batch)
    outcome = (w * batch.position).sum(axis=1) / w.sum(axis=1)
    return Outcome.always(outcome, zero_weight_fallbacks=fallbacks)
