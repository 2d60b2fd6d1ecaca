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

    Only the actors from the first to the last one with a reservation are tested (the others
    accept whenever there is a package, with deficit 0), a block of draws at a time, and the
    smallest moves and refusal reasons only for the actors that refuse; the arithmetic per
    number is the test's own (`_test_block`), so the results are those of testing every cell.
    """
    if rule not in ("compensatory", "strict"):
        raise ValueError(f"unknown settlement rule {rule!r}")
    d, n, k = batch.position.shape
    has_res = ~np.isnan(batch.reservation)
    has_res &= batch.engaged[None]
    # actors with a reservation in some draw (any over draws first: a long, vectorised reduction)
    who = np.flatnonzero(has_res.reshape(d, n * k).any(axis=0).reshape(n, k).any(axis=1))
    no_package = ~result.agreement
    accept = np.ones((d, n), bool)
    deficit = np.zeros((d, n))
    drives = np.zeros((d, n, k), bool)
    move = np.full((d, n, k), np.nan, np.float32)
    if who.size:
        # a range of actors is a view of every input; an actor in it without a reservation
        # passes the test exactly as one left out would (deficit 0, accepts)
        actors = slice(int(who[0]), int(who[-1]) + 1)
        scratch = _Scratch(min(d, ROWS), actors.stop - actors.start, k, batch.salience, has_res)
        for r0 in range(0, d, ROWS):
            r1 = min(d, r0 + ROWS)
            _test_block(batch, result, rule, has_res, actors, r0, r1, scratch,
                        accept, deficit, drives, move)
    accept[no_package] = False
    deficit[no_package] = np.nan
    settle = result.agreement & (accept | ~batch.veto[None, :]).all(axis=1)
    return SettlementDraws(accept=accept, deficit=deficit, drives=drives, move=move, settle=settle)


class _Scratch:
    """Arrays [ROWS, tested actors, K] reused from block to block (a fresh array of this size
    would be page-faulted in on every use), and the inputs as rows [draws * actors, K]."""

    def __init__(self, rows: int, actors: int, k: int, salience: np.ndarray, has_res: np.ndarray):
        self.salience = np.ascontiguousarray(salience).reshape(-1, k)  # a view, in practice
        self.has_res = has_res.reshape(-1, k)
        shape = (rows, actors, k)
        self.dist_pkg, self.dist_res = np.empty(shape), np.empty(shape)
        self.loss_pkg, self.loss_res = np.empty(shape), np.empty(shape)
        self.mask = np.empty(shape, np.int64)


def _test_block(
    batch: Batch, result: Outcome, rule: Rule, has_res: np.ndarray, actors: slice, r0: int, r1: int,
    w: _Scratch, accept: np.ndarray, deficit: np.ndarray, drives: np.ndarray, move: np.ndarray,
) -> None:
    """The settlement test for draws [r0, r1) of a range of actors, written into the outputs.

    Per cell: dist = |O - x| and |r - x|, loss = s * dist where the actor has a reservation and
    0 elsewhere, excess = loss at the package - loss at the reservation. The per-actor sums
    run over all K issues (zeros included) of contiguous rows, which numpy adds up the same way
    however many rows an array has: the same bits as summing the whole batch at once.
    """
    m, n, k = r1 - r0, batch.n_actors, batch.n_issues
    x, s, r, h = (a[r0:r1, actors] for a in (batch.position, batch.salience, batch.reservation, has_res))
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
    else:
        over = np.where(h, dist_pkg - dist_res, -np.inf)
        dfc = np.maximum(over, 0.0).sum(axis=2)
        violates = over > TOL
        ok = ~violates.any(axis=2)
    accept[r0:r1, actors] = ok
    deficit[r0:r1, actors] = dfc
    # the refusing (draw, actor) pairs, as rows of the [draws * actors, K] views
    i, j = np.nonzero(~ok & ~no_package)
    here = i * ok.shape[1] + j  # in this block's arrays
    full = (r0 + i) * n + actors.start + j  # in the batch's and the outputs' arrays
    if rule == "compensatory":
        # moving issue k by m towards x lowers the loss by s*m, up to s*|O-x|
        s_i = w.salience[full]
        need = dfc.reshape(-1)[here][:, None] / np.where(s_i > 0, s_i, np.nan)
        reach = dist_pkg.reshape(-1, k)[here]
        can = w.has_res[full] & (s_i > 0) & (need <= reach + 1e-9)
        moves = np.where(can, need, np.inf)
    else:
        # only an issue that is the sole violation can fix refusal by itself
        v = violates.reshape(-1, k)[here]
        moves = np.where(v & (v.sum(axis=1, keepdims=True) == 1), over.reshape(-1, k)[here], np.inf)
    move.reshape(-1, k)[full] = moves
    drives.reshape(-1, k)[full] = excess.reshape(-1, k)[here] > TOL


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
