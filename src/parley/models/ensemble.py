"""Ensemble: a convex combination of simple forecasts, fitted once on the DEU development split.

O_k = Σ_j β_j f_jk with β_j ≥ 0 and Σ_j β_j = 1, where the components f_j are
- `mean`: the compromise model (capability × salience weighted mean),
- `median`: the weighted median (median voter),
- `commission`: the Commission's position (the agenda setter),
- `parliament`: the Parliament's position,
- `reference`: the issue's reference point (status quo),
- `centre`: 50, the middle of the scale (shrinkage; most outcomes lie in the middle).
A component an issue lacks (no Commission stance, no reference point) is replaced by `mean`, so
the ensemble runs on any scenario and reduces to a mix of the others there.

The weights minimise the mean absolute error (a linear program) on the DEU development split;
convex weights keep every forecast inside the range of its components, on 0–100. They ship in
`parley/data/ensemble_v1.json` and are applied to new data as they are: nothing is refitted.
`parley backtest deu` refits them inside each fold of a grouped cross-validation to report an
honest error. Regenerate the file with `python -m parley.backtest.fit_ensemble`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from parley.core.batch import Batch
from parley.models import compromise, median
from parley.models.base import Outcome

SUMMARY = "convex combination of mean, median, Commission, Parliament, reference point, centre"
COMPONENTS = ("mean", "median", "commission", "parliament", "reference", "centre")
VERSION = 1


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    """The fitted parameters bundled with parley (ensemble_v1.json)."""
    text = (resources.files("parley") / "data" / f"ensemble_v{VERSION}.json").read_text("utf-8")
    return json.loads(text)


def _shipped_weights() -> tuple[tuple[str, float], ...]:
    w = shipped()["weights"]
    return tuple((name, float(w.get(name, 0.0))) for name in COMPONENTS)


@dataclass(frozen=True)
class Params:
    """`weights`: (component, weight) pairs; default: the shipped fit (ensemble_v1.json).
    `commission` / `parliament`: the actor ids whose positions are those components."""

    weights: tuple[tuple[str, float], ...] = field(default_factory=_shipped_weights)
    commission: str = "com"
    parliament: str = "ep"

    def __post_init__(self) -> None:
        names = [n for n, _ in self.weights]
        unknown = sorted(set(names) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown ensemble component(s) {unknown}; known: {COMPONENTS}")
        values = np.array([v for _, v in self.weights], float)
        if (values < 0).any() or not np.isclose(values.sum(), 1.0, atol=1e-6):
            raise ValueError("ensemble weights must be >= 0 and sum to 1")

    def weight_vector(self) -> np.ndarray:
        """Weights in COMPONENTS order (0 for components not listed)."""
        w = dict(self.weights)
        return np.array([w.get(name, 0.0) for name in COMPONENTS])


def components(batch: Batch, params: Params | None = None) -> np.ndarray:
    """Every component's forecast: [D, K, J] in COMPONENTS order."""
    params = params or Params()
    mean = compromise.solve(batch, compromise.Params()).outcome
    med = median.solve(batch, median.Params()).outcome
    com = _actor_position(batch, params.commission, mean)
    ep = _actor_position(batch, params.parliament, mean)
    ref = np.where(np.isfinite(batch.status_quo), batch.status_quo, mean)
    centre = np.full_like(mean, 50.0)
    return np.stack([mean, med, com, ep, ref, centre], axis=-1)


def solve(batch: Batch, params: Params | None = None) -> Outcome:
    params = params or Params()
    outcome = components(batch, params) @ params.weight_vector()
    info: dict[str, Any] = {"weights": dict(params.weights)}
    if params.weights == _shipped_weights():
        info["interval_halfwidth"] = shipped().get("interval_halfwidth", {})
        info["version"] = VERSION
    return Outcome.always(np.clip(outcome, 0.0, 100.0), **info)


def fit(features: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Convex weights minimising the mean absolute error of features @ w against outcome.

    Linear program: minimise Σ (u⁺_i + u⁻_i) subject to F w + u⁺ − u⁻ = y, Σ w = 1, all ≥ 0.
    """
    from scipy.optimize import linprog

    F = np.asarray(features, float)
    y = np.asarray(outcome, float)
    n, j = F.shape
    cost = np.concatenate([np.zeros(j), np.ones(2 * n)])
    a_fit = np.hstack([F, np.eye(n), -np.eye(n)])
    a_sum = np.concatenate([np.ones(j), np.zeros(2 * n)])[None]
    res = linprog(cost, A_eq=np.vstack([a_fit, a_sum]), b_eq=np.concatenate([y, [1.0]]),
                  bounds=(0, None), method="highs")
    if not res.success:
        raise RuntimeError(f"ensemble fit failed: {res.message}")
    w = np.clip(res.x[:j], 0.0, None)
    return w / w.sum()


def _actor_position(batch: Batch, actor: str, fallback: np.ndarray) -> np.ndarray:
    """The actor's position per draw and issue where it is engaged, else the fallback."""
    if actor not in batch.actors:
        return fallback
    i = batch.actors.index(actor)
    return np.where(batch.engaged[i][None, :], batch.position[:, i, :], fallback)
