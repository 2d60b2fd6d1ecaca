"""Jupyter display of forecasts and comparisons: the numbers of the tiny scenario, by hand,
and every scenario text escaped."""

from __future__ import annotations

from pathlib import Path

import parley
from conftest import minimal, write_yaml
from parley.analysis import levers
from parley.analysis.compare import compare


def _tiny(tmp_path: Path, **changes: object) -> parley.Scenario:
    data = minimal()
    data.update(changes)
    return parley.load(str(write_yaml(tmp_path / "tiny.yaml", data)))


def test_forecast_html_shows_hand_computed_outcomes_and_settlement(tmp_path: Path) -> None:
    # Compromise on x: weights c*s = A 1.6 (at 20), B 0.6 (80), C 0.5 (50): 105 / 2.7 = 38.9.
    # On y: A 0.8 (at 10), B 0.4 (90): 44 / 1.2 = 36.7. B's reservation on x is 40 (it wants
    # at least 40), so under the strict rule B refuses and P(settlement) is 0%; A accepts
    # (38.9 is within 40 of its 20).
    fc = parley.forecast(_tiny(tmp_path), model=["compromise"], draws=50, seed=3, rule="strict")
    html = fc._repr_html_()
    assert "<td>38.9</td>" in html and "<td>36.7</td>" in html
    assert "<th>P(settlement)</th>" in html and "<td>0%</td>" in html
    assert "Actor A</td>" in html and "<td>100%</td>" in html  # A accepts in every draw
    assert "Tiny test negotiation" in html and "seed 3" in html and "draws 50" in html
    assert "EU legislative" in html and "<td>compromise</td><td>23.0 [" in html  # track record


def test_comparison_html_shows_the_lever_effect(tmp_path: Path) -> None:
    lever = {"id": "soften", "name": "B softens on x",
             "changes": [{"field": "reservation", "actors": ["B"], "issues": ["x"], "set": 35}]}
    s = _tiny(tmp_path, levers=[lever])
    cmp = compare(s, levers.variants(s, ["soften"]), ["compromise"], draws=50, seed=3,
                  rule="strict")
    html = cmp._repr_html_()
    # With B's reservation at 35 the compromise (38.9) satisfies both veto players under the
    # strict rule: 0% -> 100%.
    assert "<td>B softens on x</td>" in html
    assert "<td>+100.0%</td>" in html


def test_scenario_texts_are_escaped(tmp_path: Path) -> None:
    s = _tiny(tmp_path, title="<script>alert(1)</script>", question="A & B <b>agree</b>?")
    html = parley.forecast(s, model=["compromise"], draws=20, seed=1)._repr_html_()
    assert "<script" not in html and "<b>agree" not in html
    assert "&lt;script&gt;" in html and "A &amp; B" in html


def test_scenario_html_lists_what_the_file_says(tmp_path: Path) -> None:
    data_levers = [{"id": "l1", "name": "L", "changes": [{"field": "salience", "shift": 5}]}]
    s = _tiny(tmp_path, levers=data_levers)
    html = s._repr_html_()
    # Actor A: capability 2, veto; its stance on x: position 20, salience 80, reservation 60.
    assert "<td>A</td><td>Actor A</td><td>2</td><td>yes</td>" in html
    assert "<td>20 · s 80 · r 60</td>" in html
    assert "<td>Actor C</td><td>50 · s 50</td><td></td>" in html  # C has no stance on y
    assert "3 actors, 2 issues, 1 levers" in html


def test_leaderboard_html_shows_the_published_deu_figure() -> None:
    from parley.backtest.capability import CapabilitySpec
    from parley.backtest.data import load_deu
    from parley.backtest.leaderboard import leaderboard

    # With equal capabilities the compromise model is the salience-weighted mean, whose MAE on
    # the development split the DEU README gives as 23.8.
    board = leaderboard(load_deu(), CapabilitySpec("equal"), ["compromise"], reps=200)
    html = board._repr_html_()
    assert "<td>compromise</td><td>229</td><td>23.8 [" in html
    assert "capability equal" in html and "<th>ΔMAE</th>" in html
