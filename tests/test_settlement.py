"""The settlement test: hand-computed acceptance, refusal reasons, and the smallest move."""

from __future__ import annotations

import numpy as np
import pytest

from parley.analysis.settlement import evaluate, wilson
from parley.core.batch import Batch
from parley.models.base import Outcome


def two_issue_case() -> Batch:
    # actor 0: ideal (0, 0), saliences (1, .5), reservations (40, 60) -> loss at reservation 40 + 30 = 70
    # actor 1: ideal (100, 100), saliences (.5, .5), reservation on issue 0 only at 30 -> 0.5*70 = 35
    pos = np.array([[0.0, 0.0], [100.0, 100.0]])
    sal = np.array([[1.0, 0.5], [0.5, 0.5]])
    res = np.array([[40.0, 60.0], [30.0, np.nan]])
    return Batch.from_arrays(pos, sal, np.ones(2), reservation=res, veto=np.array([True, True]))


def test_compensatory_acceptance_hand_computed() -> None:
    b = two_issue_case()
    # package (50, 30): actor 0 loss 50 + 15 = 65 <= 70 accepts; actor 1 loss 0.5*50 = 25 <= 35 accepts
    s = evaluate(b, Outcome.always(np.array([[50.0, 30.0]])))
    assert s.accept.tolist() == [[True, True]]
    assert s.settle.tolist() == [True]
    np.testing.assert_allclose(s.deficit, [[-5.0, -10.0]])


def test_refusal_reasons_and_smallest_move() -> None:
    b = two_issue_case()
    # package (60, 40): actor 0 loss 60 + 20 = 80 > 70 (deficit 10); actor 1 loss 0.5*40 = 20 accepts
    s = evaluate(b, Outcome.always(np.array([[60.0, 40.0]])))
    assert s.accept.tolist() == [[False, True]]
    assert not s.settle[0]
    # issue 0 costs 60 vs 40 allowed: drives refusal; issue 1 costs 20 vs 30 allowed: does not
    assert s.drives[0, 0].tolist() == [True, False]
    # moving issue 0 by 10/1 = 10 points, or issue 1 by 10/0.5 = 20 points, wins actor 0 over
    np.testing.assert_allclose(s.move[0, 0], [10.0, 20.0])
    assert np.isnan(s.move[0, 1]).all()


def test_move_impossible_on_issue_alone_is_inf() -> None:
    b = two_issue_case()
    # package (90, 10): actor 0 loss 90 + 5 = 95, deficit 25; issue 1 can give back at most 0.5*10 = 5
    s = evaluate(b, Outcome.always(np.array([[90.0, 10.0]])))
    assert s.move[0, 0, 0] == pytest.approx(25.0)
    assert np.isinf(s.move[0, 0, 1])


def test_strict_rule_needs_every_issue_inside() -> None:
    b = two_issue_case()
    out = Outcome.always(np.array([[50.0, 30.0]]))
    s = evaluate(b, out, rule="strict")
    # issue 0 at 50 is beyond actor 0's reservation 40: strict refuses although compensatory accepts
    assert s.accept.tolist() == [[False, True]]
    assert s.move[0, 0, 0] == pytest.approx(10.0)


def test_issues_without_reservation_do_not_count() -> None:
    b = two_issue_case()
    # actor 1 has no reservation on issue 1: any outcome there is irrelevant to its test
    s1 = evaluate(b, Outcome.always(np.array([[50.0, 0.0]])))
    s2 = evaluate(b, Outcome.always(np.array([[50.0, 100.0]])))
    assert s1.accept[0, 1] == s2.accept[0, 1]
    assert s1.deficit[0, 1] == pytest.approx(s2.deficit[0, 1])


def test_no_package_means_no_settlement() -> None:
    b = two_issue_case()
    res = Outcome(outcome=np.full((1, 2), np.nan), agreement=np.array([False]))
    s = evaluate(b, res)
    assert not s.settle[0]
    assert not s.accept.any()


def test_non_veto_refusal_does_not_block() -> None:
    b = two_issue_case()
    from dataclasses import replace

    b = replace(b, veto=np.array([False, True]))
    s = evaluate(b, Outcome.always(np.array([[60.0, 40.0]])))
    assert not s.accept[0, 0] and s.settle[0]


def test_wilson_interval_known_values() -> None:
    # 90% Wilson interval for 50/100: 0.5 +- 1.6449 * sqrt(.25/100 + 1.6449^2/40000) / (1 + 1.6449^2/100)
    lo, hi = wilson(50, 100, 0.90)
    z = 1.6448536269514722
    half = z * np.sqrt(0.25 / 100 + z * z / 40000) / (1 + z * z / 100)
    assert lo == pytest.approx(0.5 - half) and hi == pytest.approx(0.5 + half)
    assert wilson(0, 1000, 0.9)[0] == 0.0 and wilson(0, 1000, 0.9)[1] > 0
