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


ROWS = 1024
"""Draws tested at a time: the block's temporaries stay in a core's cache."""
TOL = 1e-9


def evaluate(batch: Batch, result: Outcome, rule: Rule = "compensatory") -> SettlementDraws:
    """Apply the settlement test to every draw of a model's outcome.

    Only actors with a reservation somewhere are tested (the others accept whenever there is a
    package, with deficit 0), a block of draws at a time, and the smallest moves and refusal
    reasons only for the actors that refuse; the arithmetic per number is the test's own
    (`_test_block`), so the results are those of testing every cell.
    """
    if rule not in ("compensatory", "strict"):
        raise ValueError(f"unknown settlement rule {rule!r}")
    d, n, k = batch.position.shape
    has_res = ~np.isnan(batch.reservation)
    has_res &= batch.engaged[None]
    who = np.flatnonzero(has_res.any(axis=(0, 2)))  # actors with a reservation in some draw
    no_package = ~result.agreement
    accept = np.ones((d, n), bool)
    deficit = np.zeros((d, n))
    drives = np.zeros((d, n, k), bool)
    move = np.full((d, n, k), np.nan, np.float32)
    if who.size:
        scratch = _Scratch(min(d, ROWS), who.size, k)
        for r0 in range(0, d, ROWS):
            r1 = min(d, r0 + ROWS)
            _test_block(batch, result, rule, has_res, who, r0, r1, scratch, accept, deficit, drives, move)
    accept[no_package] = False
    deficit[no_package] = np.nan
    settle = result.agreement & (accept | ~batch.veto[None, :]).all(axis=1)
    return SettlementDraws(accept=accept, deficit=deficit, drives=drives, move=move, settle=settle)


class _Scratch:
    """Arrays [ROWS, tested actors, K] reused from block to block (a fresh array of this size
    would be page-faulted in on every use)."""

    def __init__(self, rows: int, actors: int, k: int):
        shape = (rows, actors, k)
        for name in ("x", "s", "r", "dist_pkg", "dist_res", "loss_pkg", "loss_res"):
            setattr(self, name, np.empty(shape))
        self.has = np.empty(shape, bool)
        self.mask = np.empty(shape, np.int64)


def _test_block(
    batch: Batch, result: Outcome, rule: Rule, has_res: np.ndarray, who: np.ndarray, r0: int, r1: int,
    w: _Scratch, accept: np.ndarray, deficit: np.ndarray, drives: np.ndarray, move: np.ndarray,
) -> None:
    """The settlement test for draws [r0, r1) of the actors `who`, written into the outputs.

    Per cell: dist = |O - x| and |r - x|, loss = s * dist where the actor has a reservation and
    0 elsewhere, excess = loss at the package - loss at the reservation; the per-actor sums
    run over all K issues (zeros included), so they add up in the same order as before.
    """
    m = r1 - r0
    x, s, r, h = (np.take(a[r0:r1], who, axis=1, out=out[:m], mode="clip")
                  for a, out in ((batch.position, w.x), (batch.salience, w.s),
                                 (batch.reservation, w.r), (has_res, w.has)))
    dist_pkg = np.subtract(result.outcome[r0:r1, None, :], x, out=w.dist_pkg[:m])
    np.abs(dist_pkg, out=dist_pkg)
    dist_res = np.subtract(r, x, out=w.dist_res[:m])  # NaN without a reservation: masked below
    np.abs(dist_res, out=dist_res)
    mask = np.negative(h.view(np.int8), out=w.mask[:m])  # all bits set where there is a reservation
    loss_pkg = np.multiply(s, dist_pkg, out=w.loss_pkg[:m])
    loss_pkg.view(np.int64)[...] &= mask  # exactly 0.0 without a reservation (np.where's value)
    loss_res = np.multiply(s, dist_res, out=w.loss_res[:m])
    loss_res.view(np.int64)[...] &= mask
    excess = np.subtract(loss_pkg, loss_res, out=loss_pkg)
    no_package = ~result.agreement[r0:r1, None]
    if rule == "compensatory":
        dfc = excess.sum(axis=2)
        ok = dfc <= TOL * np.maximum(loss_res.sum(axis=2), 1.0)
        refusing = ~ok & ~no_package
        i, j = np.nonzero(refusing)
        # moving issue k by m towards x lowers the loss by s*m, up to s*|O-x|
        s_i = s[i, j]
        need = dfc[i, j][:, None] / np.where(s_i > 0, s_i, np.nan)
        can = h[i, j] & (s_i > 0) & (need <= dist_pkg[i, j] + 1e-9)
        moves = np.where(can, need, np.inf)
    else:
        over = np.where(h, dist_pkg - dist_res, -np.inf)
        dfc = np.maximum(over, 0.0).sum(axis=2)
        violates = over > TOL
        ok = ~violates.any(axis=2)
        refusing = ~ok & ~no_package
        i, j = np.nonzero(refusing)
        # only an issue that is the sole violation can fix refusal by itself
        sole = violates[i, j] & (violates[i, j].sum(axis=1, keepdims=True) == 1)
        moves = np.where(sole, over[i, j], np.inf)
    rows, cols = r0 + i, who[j]
    accept[r0:r1, who] = ok
    deficit[r0:r1, who] = dfc
    move[rows, cols] = moves
    drives[rows, cols] = excess[i, j] > TOL
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
