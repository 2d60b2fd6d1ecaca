"""Is there any package every veto player would accept? (the zone of possible agreement)

A model predicts one package; the settlement test asks whether the veto players accept *that*
package. Whether *some* package would satisfy all of them is a separate, model-free question: when
no such package exists in a draw, no model and no mediator can produce a settlement there short
of changing someone's reservation. The share of draws with a zone is therefore an upper bound on
P(settlement) under any model, and the gap between the two says how much a better-designed package
could add.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from parley.analysis.settlement import Rule
from parley.core.batch import Batch


@dataclass(frozen=True)
class Zone:
    """exists[D]: a package acceptable to every veto player exists; package[D, K]: one such
    package (the Nash bargaining package among the veto players under the compensatory rule,
    the centre of the acceptable box under the strict rule; NaN where none exists or an issue
    is unconstrained)."""

    exists: np.ndarray
    package: np.ndarray


def zone(batch: Batch, rule: Rule = "compensatory") -> Zone:
    """The zone of agreement of the veto players in every draw."""
    has_res = ~np.isnan(batch.reservation) & batch.engaged[None] & batch.veto[None, :, None]
    if rule == "strict":
        return _strict(batch, has_res)
    return _compensatory(batch, has_res)


def _strict(batch: Batch, has_res: np.ndarray) -> Zone:
    """Per issue, the acceptable intervals |y - x| <= |r - x| of all veto players must meet."""
    radius = np.abs(batch.reservation - batch.position)
    lo = np.where(has_res, batch.position - radius, -np.inf).max(axis=1)
    hi = np.where(has_res, batch.position + radius, np.inf).min(axis=1)
    lo, hi = np.maximum(lo, 0.0), np.minimum(hi, 100.0)
    exists = (lo <= hi + 1e-9).all(axis=1)
    constrained = has_res.any(axis=1)
    package = np.where(exists[:, None] & constrained, (lo + hi) / 2.0, np.nan)
    return Zone(exists=exists, package=package)


def _compensatory(batch: Batch, has_res: np.ndarray) -> Zone:
    """Some y with sum_k s_ik |y_k - x_ik| <= sum_k s_ik |r_ik - x_ik| for every veto player i.

    That is exactly the Nash bargaining problem of the veto players alone with their reservations
    as disagreement points and every other issue ignored: its feasibility decides the zone, and
    its solution is a natural package inside it (equal capabilities: the zone does not depend on
    power).

    nash runs on its numpy engine: a forecast checks the zone on at most 2,000 draws, too few
    to repay loading (or, after installing, compiling) the compiled engine, which "auto" would
    take whenever another model had loaded numba; so the check neither waits for a compile nor
    depends on which models ran before it.
    """
    from parley.models import nash

    only_veto = replace(
        batch,
        salience=np.where(has_res, batch.salience, 0.0),
        capability=np.ones_like(batch.capability),
    )
    result = nash.solve(only_veto, nash.Params(disagreement="reservation", engine="numpy"))
    constrained = has_res.any(axis=1)
    package = np.where(constrained, result.outcome, np.nan)
    return Zone(exists=result.agreement, package=package)
