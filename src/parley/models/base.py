"""What every model returns, and helpers shared by the static models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from parley.core.batch import Batch

WeightRule = Literal["capability_salience", "salience", "capability", "equal"]


@dataclass(frozen=True)
class Outcome:
    """A model's forecast for every draw.

    `outcome[D, K]` is the predicted package (NaN where the model finds no agreement);
    `agreement[D]` is False in those draws. Dynamic models add `trajectory[D, T, N, K]`.
    """

    outcome: np.ndarray
    agreement: np.ndarray
    trajectory: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def always(cls, outcome: np.ndarray, **info: Any) -> Outcome:
        """An outcome for models that always produce a package."""
        return cls(outcome=outcome, agreement=np.ones(outcome.shape[0], bool), info=info)


def weights(batch: Batch, rule: WeightRule) -> np.ndarray:
    """Per-draw weights [D, N, K] of each engaged actor under a weighting rule."""
    eng = batch.engaged[None].astype(float)
    if rule == "capability_salience":
        return batch.capability[:, :, None] * batch.salience * eng
    if rule == "salience":
        return batch.salience * eng
    if rule == "capability":
        return batch.capability[:, :, None] * eng
    if rule == "equal":
        return np.broadcast_to(eng, batch.position.shape).copy()
    raise ValueError(f"unknown weight rule {rule!r}")


def with_fallback(w: np.ndarray, batch: Batch) -> tuple[np.ndarray, int]:
    """Weights where every issue has positive total; issues whose engaged actors all have zero
    weight in a draw fall back to equal weights (counted, so the output can say so)."""
    total = w.sum(axis=1)  # [D, K]
    empty = total <= 0
    if not empty.any():
        return w, 0
    eng = np.broadcast_to(batch.engaged[None].astype(float), w.shape)
    return np.where(empty[:, None, :], eng, w), int(empty.sum())
