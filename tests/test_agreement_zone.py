"""Zone of agreement: does any package satisfy every veto player? Hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from parley.analysis.agreement_zone import zone
from parley.analysis.settlement import evaluate
from parley.core.batch import Batch
from parley.models.base import Outcome


def one_issue(res_a: float, res_b: float) -> Batch:
    # A wants 0 and accepts up to res_a; B wants 100 and accepts down to res_b
    return Batch.from_arrays(
        np.array([[0.0], [100.0]]),
        np.ones((2, 1)),
        np.ones(2),
        reservation=np.array([[res_a], [res_b]]),
        veto=np.array([True, True]),
    )


@pytest.mark.parametrize("rule", ["compensatory", "strict"])
def test_overlapping_reservations_leave_a_zone(rule: str) -> None:
    z = zone(one_issue(60.0, 40.0), rule)  # any y in [40, 60] works
    assert z.exists.tolist() == [True]
    assert 40.0 - 1e-6 <= z.package[0, 0] <= 60.0 + 1e-6


@pytest.mark.parametrize("rule", ["compensatory", "strict"])
def test_disjoint_reservations_leave_none(rule: str) -> None:
    z = zone(one_issue(30.0, 70.0), rule)  # A needs y <= 30, B needs y >= 70
    assert z.exists.tolist() == [False]
    assert np.isnan(z.package).all()


def test_compensation_across_issues_opens_a_zone_the_strict_rule_does_not() -> None:
    # A: ideal (0, 0), saliences (1, 1), reservations (40, 40): total slack 80
    # B: ideal (100, 100), saliences (1, .25), reservations (50 on issue 0 only): slack 50
    # y = (50, 20): A loses 50 + 20 = 70 <= 80, B loses 50 <= 50 -> compensatory zone exists;
    # strict: issue 0 needs y <= 40 for A and y >= 50 for B -> none.
    b = Batch.from_arrays(
        np.array([[0.0, 0.0], [100.0, 100.0]]),
        np.array([[1.0, 1.0], [1.0, 0.25]]),
        np.ones(2),
        reservation=np.array([[40.0, 40.0], [50.0, np.nan]]),
        veto=np.array([True, True]),
    )
    assert zone(b, "strict").exists.tolist() == [False]
    z = zone(b, "compensatory")
    assert z.exists.tolist() == [True]
    # the package it returns is accepted by both under the settlement test
    s = evaluate(b, Outcome.always(np.nan_to_num(z.package, nan=0.0)))
    assert s.accept.all()


def test_non_veto_actors_do_not_constrain_the_zone() -> None:
    b = Batch.from_arrays(
        np.array([[0.0], [100.0], [50.0]]),
        np.ones((3, 1)),
        np.ones(3),
        reservation=np.array([[60.0], [40.0], [50.0]]),  # C would accept only exactly 50
        veto=np.array([True, True, False]),
    )
    assert zone(b, "strict").exists.tolist() == [True]
    assert zone(b, "compensatory").exists.tolist() == [True]


def test_zone_is_an_upper_bound_on_settlement() -> None:
    import parley

    fc = parley.forecast("ukraine-2025-05", model=["compromise", "median"], draws=2000, seed=4)
    pz = fc.zone.p_exists()[0]
    settles_without_zone = fc.results["compromise"].draws.settle[: fc.zone.n] & ~fc.zone.exists
    assert not settles_without_zone.any()
    assert fc.settlement().p_settlement.max() <= pz + 0.05
