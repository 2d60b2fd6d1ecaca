"""Procedural points of EU law-making on hand-computed one-dimensional cases."""

from __future__ import annotations

import numpy as np
import pytest

from parley.models import procedural as pr

POS = np.array([10.0, 20.0, 30.0, 40.0, 50.0])


def _arr(x):
    return np.array([[x]], float)


def _pivots(quota):
    return pr.pivots(POS[None, :, None], np.ones((1, 5, 1)), quota)


def test_pivots_by_hand():
    # four of five equal members (0.8) at or above 20 and at or below 40
    r, l = _pivots(0.8)
    assert (r[0, 0], l[0, 0]) == (20.0, 40.0)
    r, l = _pivots(pr.UNANIMITY)
    assert (r[0, 0], l[0, 0]) == (10.0, 50.0)
    r, l = pr.pivots(POS[None, :, None], np.zeros((1, 5, 1)), 0.8)
    assert np.isnan(r[0, 0]) and np.isnan(l[0, 0])


def test_winset_and_beats():
    r, l = _pivots(0.8)
    q = _arr(0.0)
    lo, hi = pr.winset(q, r, l)
    assert (lo[0, 0], hi[0, 0]) == (0.0, 40.0)  # up to the mirror image of q in the pivot
    x = np.array([[[30.0, 45.0, 0.0]]])
    assert pr.beats(x, q, r, l)[0, 0].tolist() == [True, False, False]
    assert not pr.beats(x, _arr(30.0), r, l).any()  # q inside the gridlock interval
    assert not pr.beats(x, _arr(np.nan), r, l).any()  # no reference point
    assert pr.pivot_point(q, r, l)[0, 0] == 20.0
    assert pr.pivot_point(_arr(90.0), r, l)[0, 0] == 40.0
    assert pr.pivot_point(_arr(30.0), r, l)[0, 0] == 30.0


@pytest.mark.parametrize(("q", "com", "expected"), [
    (0.0, 100.0, 40.0),  # as far toward the Commission as the pivot accepts
    (0.0, 15.0, 15.0),  # the Commission's own position wins
    (30.0, 100.0, 30.0),  # gridlock: nothing beats q
    # moving left: the left pivot (40) accepts [−10, 90]; the unanimity core [10, 50] keeps
    # [10, 50], whose point nearest the Commission at 0 is 10
    (90.0, 0.0, 10.0),
])
def test_agenda_setting(q, com, expected):
    r, l = _pivots(0.8)
    ur, ul = _pivots(pr.UNANIMITY)
    assert pr.agenda_point(_arr(q), _arr(com), r, l, ur, ul)[0, 0] == pytest.approx(expected)


@pytest.mark.parametrize(("ep", "expected"), [
    (10.0, 15.0),  # EP accepts [0, 20]; midpoint of pivot 20 and EP 10
    (60.0, 40.0),  # EP accepts [0, 120]; midpoint 40 is the Council's limit
    (-5.0, 0.0),  # EP prefers the other side of q: no joint improvement, q stays
])
def test_codecision(ep, expected):
    r, l = _pivots(0.8)
    assert pr.codecision_point(_arr(0.0), _arr(ep), r, l)[0, 0] == pytest.approx(expected)
