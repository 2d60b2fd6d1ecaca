"""Will there be a deal? Each veto actor compares the predicted package with walking away.

An actor accepts when its salience-weighted loss from the package is no larger than its loss
at its reservation points (the compensatory rule: a loss on one issue can be offset by a gain on
another), or, under the strict rule, when every issue lands on the acceptable side of its
reservation. Only issues where the actor states a reservation enter its test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from parley.core.batch import Batch
from parley.models.base import Outcome

Rule = Literal["compensatory", "strict"]


@dataclass(frozen=True)
class SettlementDraws:
    """Per-draw acceptance of the package by every actor (veto or not).

    accept[D, N]: the actor accepts (always True for actors without any reservation).
    deficit[D, N]: loss at the package minus loss at the reservation package (> 0 = refuses).
    drives[D, N, K]: issue k alone costs the actor more than its reservation allows.
    move[D, N, K]: for a refusing actor, the smallest shift of issue k towards its position
        that would, by itself, turn refusal into acceptance (inf: k alone cannot do it;
        NaN: the actor accepts, or there is no package).
    settle[D]: a package exists and every veto actor accepts it.
    """

    accept: np.ndarray
    deficit: np.ndarray
    drives: np.ndarray
    move: np.ndarray
    settle: np.ndarray


def evaluate(batch: Batch, result: Outcome, rule: Rule = "compensatory") -> SettlementDraws:
    """Apply the settlement test to every draw of a model's outcome."""
    O = result.outcome[:, None, :]  # [D, 1, K]
    x, s = batch.position, batch.salience
    has_res = ~np.isnan(batch.reservation) & batch.engaged[None]
    r = np.where(has_res, batch.reservation, x)
    dist_pkg = np.abs(O - x)
    dist_res = np.abs(r - x)
    loss_pkg = np.where(has_res, s * dist_pkg, 0.0)
    loss_res = np.where(has_res, s * dist_res, 0.0)
    excess = loss_pkg - loss_res  # [D, N, K]
    tol = 1e-9
    if rule == "compensatory":
        deficit = excess.sum(axis=2)
        accept = deficit <= tol * np.maximum(loss_res.sum(axis=2), 1.0)
        # moving issue k by m towards x lowers the loss by s*m, up to s*|O-x|
        need = deficit[:, :, None] / np.where(s > 0, s, np.nan)
        can = has_res & (s > 0) & (need <= dist_pkg + 1e-9)
        move = np.where(can, need, np.inf)
    elif rule == "strict":
        over = np.where(has_res, dist_pkg - dist_res, -np.inf)
        deficit = np.maximum(over, 0.0).sum(axis=2)
        accept = ~(over > tol).any(axis=2)
        violating = (over > tol).sum(axis=2, keepdims=True)
        # only an issue that is the sole violation can fix refusal by itself
        move = np.where((over > tol) & (violating == 1), over, np.inf)
    else:
        raise ValueError(f"unknown settlement rule {rule!r}")
    no_package = ~result.agreement
    accept = np.where(no_package[:, None], False, accept)
    refusing = ~accept & ~no_package[:, None]
    move = np.where(refusing[:, :, None], move, np.nan)
    drives = refusing[:, :, None] & (excess > tol)
    veto = batch.veto[None, :]
    settle = result.agreement & np.where(veto, accept, True).all(axis=1)
    return SettlementDraws(
        accept=accept,
        deficit=np.where(no_package[:, None], np.nan, deficit),
        drives=drives,
        move=move.astype(np.float32),
        settle=settle,
    )


def wilson(successes: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """Wilson score interval for a binomial share (the Monte Carlo precision of a probability)."""
    if n == 0:
        return (0.0, 1.0)
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))
