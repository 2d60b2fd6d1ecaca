"""The blocked settlement test gives the same bits as testing every cell of every actor at once
(the test as it was written first, kept here as its definition)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.analysis.settlement import ROWS, SettlementDraws, evaluate
from parley.core.batch import Batch
from parley.models.base import Outcome


def every_cell(batch: Batch, result: Outcome, rule: str) -> SettlementDraws:
    O = result.outcome[:, None, :]
    x, s = batch.position, batch.salience
    has_res = ~np.isnan(batch.reservation) & batch.engaged[None]
    r = np.where(has_res, batch.reservation, x)
    dist_pkg = np.abs(O - x)
    dist_res = np.abs(r - x)
    loss_pkg = np.where(has_res, s * dist_pkg, 0.0)
    loss_res = np.where(has_res, s * dist_res, 0.0)
    excess = loss_pkg - loss_res
    tol = 1e-9
    if rule == "compensatory":
        deficit = excess.sum(axis=2)
        accept = deficit <= tol * np.maximum(loss_res.sum(axis=2), 1.0)
        need = deficit[:, :, None] / np.where(s > 0, s, np.nan)
        can = has_res & (s > 0) & (need <= dist_pkg + 1e-9)
        move = np.where(can, need, np.inf)
    else:
        over = np.where(has_res, dist_pkg - dist_res, -np.inf)
        deficit = np.maximum(over, 0.0).sum(axis=2)
        accept = ~(over > tol).any(axis=2)
        violating = (over > tol).sum(axis=2, keepdims=True)
        move = np.where((over > tol) & (violating == 1), over, np.inf)
    no_package = ~result.agreement
    accept = np.where(no_package[:, None], False, accept)
    refusing = ~accept & ~no_package[:, None]
    move = np.where(refusing[:, :, None], move, np.nan)
    drives = refusing[:, :, None] & (excess > tol)
    settle = result.agreement & np.where(batch.veto[None, :], accept, True).all(axis=1)
    return SettlementDraws(accept=accept, deficit=np.where(no_package[:, None], np.nan, deficit),
                           drives=drives, move=move.astype(np.float32), settle=settle)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Batch, Outcome]:
    d = draw(st.sampled_from([1, 3, ROWS - 1, ROWS + 5, 2 * ROWS + 17]))
    n, k = draw(st.integers(1, 6)), draw(st.sampled_from([1, 2, 5, 6, 9]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    grid = draw(st.booleans())  # whole numbers: exact ties between package, reservation, position

    def values(shape: tuple[int, ...]) -> np.ndarray:
        return rng.integers(0, 5, shape) * 25.0 if grid else rng.uniform(0, 100, shape)

    pos = values((d, n, k))
    sal = np.where(rng.random((d, n, k)) < 0.15, 0.0, rng.uniform(0, 1, (d, n, k)))
    res_share = draw(st.sampled_from([0.0, 0.3, 1.0]))
    res = np.where(rng.random((1 if draw(st.booleans()) else d, n, k)) < res_share, values((d, n, k)), np.nan)
    engaged = rng.random((n, k)) < 0.85
    b = Batch.from_arrays(pos, sal, rng.uniform(1, 5, (d, n)), reservation=res, engaged=engaged,
                          veto=rng.random(n) < 0.6)
    outcome = values((d, k))
    agreement = rng.random(d) < draw(st.sampled_from([1.0, 0.7]))
    outcome[~agreement] = np.nan
    return b, Outcome(outcome=outcome, agreement=agreement)


@settings(max_examples=60, deadline=None)
@given(cases(), st.sampled_from(["compensatory", "strict"]))
def test_blocked_test_matches_testing_every_cell(case: tuple[Batch, Outcome], rule: str) -> None:
    b, result = case
    got, want = evaluate(b, result, rule), every_cell(b, result, rule)  # type: ignore[arg-type]
    for name in ("accept", "deficit", "drives", "move", "settle"):
        x, y = getattr(got, name), getattr(want, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name
