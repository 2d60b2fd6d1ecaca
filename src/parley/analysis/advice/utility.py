"""What an outcome is worth to each actor, per draw, on a 0–100 scale.

Closeness: 100 minus the actor's salience-weighted mean distance from the forecast outcome to
its position (100 = every issue lands on its position). Where the scenario tests a settlement,
a draw that settles adds the value of the settlement against the actor's reservation points:
how much better the package is than its reservation package (the same salience-weighted
comparison the settlement test makes). Where a model finds no package at all, the walk-away
package stands in for the outcome: the reservation point where the actor states one, the status
quo elsewhere.
"""

from __future__ import annotations

import numpy as np

from parley.core.batch import Batch


def closeness(dist: np.ndarray, s: np.ndarray) -> np.ndarray:
    """100 minus the salience-weighted mean of dist[..., K] over issues; issues where dist is
    NaN are left out (NaN where nothing is left)."""
    ok = ~np.isnan(dist) & (s > 0)
    num = np.where(ok, s * dist, 0.0).sum(axis=-1)
    den = np.where(ok, s, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 - num / den


def utility(truth: Batch, actor: int, outcome: np.ndarray, agreement: np.ndarray,
            settle: np.ndarray, tests_settlement: bool) -> np.ndarray:
    """Utility of one actor, judged on `truth` (the stances as written): closeness of the
    forecast package (of the walk-away package where the model finds none), plus, in draws
    that settle, what the package gains the actor over its reservation package on the issues
    where it states a reservation (negative when a deal it would refuse goes through). Both
    terms are salience-weighted points over all its issues.

    outcome[..., D, K], agreement[..., D] and settle[..., D] may carry leading variant axes;
    the result has their shape [..., D]."""
    x, s = truth.position[:, actor], truth.salience[:, actor]  # [D, K]
    r = truth.reservation[:, actor]
    has_res = ~np.isnan(r) & truth.engaged[actor][None]
    res = np.abs(r - x)
    sq = np.abs(truth.status_quo - x)
    dist = np.abs(outcome - x)  # NaN where the model found no package
    walk = closeness(np.where(has_res, res, sq), s)  # [D]
    near = np.where(agreement, closeness(dist, s), walk)
    if not tests_settlement:
        return near
    gain = np.where(has_res & (s > 0), s * (res - np.where(np.isnan(dist), res, dist)), 0.0).sum(axis=-1)
    den = s.sum(axis=-1)
    surplus = np.where(den > 0, gain / np.where(den > 0, den, 1.0), 0.0)
    return near + np.where(settle, surplus, 0.0)
