"""The plain-language answer: it says what it knows and no more, for every model, for outcome-only
scenarios, for ties between veto players and for questions that are not yes/no questions."""

from __future__ import annotations

import numpy as np
import pytest

import parley
from conftest import minimal
from parley.analysis.model_spread import FAR, _flags, reservation_gaps
from parley.core.errors import ParleyInputError
from parley.io.scenario_file import scenario_from_data
from parley.models import registry
from parley.present.narrative import answer

BROKEN = ("n/a", "nan", "None", "{", "}")
VERDICTS = ("Almost certainly", "Unlikely", "Less likely than not", "About as likely as not",
            "More likely than not", "Likely")


def uncertain() -> dict:
    """The tiny scenario with uncertain positions and reservations (draws differ)."""
    d = minimal()
    d["stances"][0]["position"] = {"low": 5, "mode": 20, "high": 50}
    d["stances"][1]["reservation"] = {"low": 20, "mode": 40, "high": 60}
    return d


def assert_reads_cleanly(text: str) -> None:
    for bad in BROKEN:
        assert bad not in text, f"{bad!r} in the answer: {text}"


@pytest.mark.parametrize("model", registry.names())
def test_every_single_model_gives_a_whole_answer(model) -> None:
    fc = parley.forecast(scenario_from_data(uncertain()), model, draws=300, seed=3)
    text = answer(fc)
    assert_reads_cleanly(text)
    assert text.startswith("Will A and B agree?")
    assert any(v in text for v in VERDICTS)
    assert f"under the {model} model" in text
    # the interval is named for what it is, and the test's missing track record is said
    assert "simulation precision" in text and "not confidence about the world" in text
    assert "has no track record" in text
    # every model's point forecast, in one line, whichever model was run
    assert f"All {len(registry.names())} models at the most likely inputs" in text


@pytest.mark.parametrize("model", registry.names())
def test_every_single_model_on_an_outcome_only_scenario(model) -> None:
    d = uncertain()
    d["settlement_test"] = False
    fc = parley.forecast(scenario_from_data(d), model, draws=300, seed=3)
    text = answer(fc)
    assert_reads_cleanly(text)
    assert "settlement test is off" in text
    assert f"Under the {model} model: Issue x:" in text
    assert not any(f"{v}," in text for v in VERDICTS)  # no verdict on a question it did not test
    assert "simulation precision" not in text


def test_nash_alone_reads_cleanly_on_the_bundled_scenarios() -> None:
    for name in ("ukraine-2025-05", "ukraine-2026-02"):
        fc = parley.forecast(name, "nash", draws=200, seed=1)
        text = answer(fc)
        assert_reads_cleanly(text)  # was "United States, still accepts in n/a of cases"
        n = len({s.actor for s in fc.scenario.stances})
        if fc.results["nash"].p_package() < 0.999:
            assert f"every actor with a stake (all {n} here, veto or not)" in text


def test_nash_with_no_package_in_any_draw_says_why() -> None:
    # A gains only below 10, B only above 90 (their reservations are their no-deal points):
    # no package leaves both better off, in any draw
    d = minimal()
    d["issues"] = d["issues"][:1]
    d["stances"] = [
        {"actor": "A", "issue": "x", "position": 0, "salience": 60,
         "reservation": {"low": 5, "mode": 10, "high": 15}},
        {"actor": "B", "issue": "x", "position": 100, "salience": 60, "reservation": 90},
        {"actor": "C", "issue": "x", "position": 50, "salience": 50},
    ]
    fc = parley.forecast(scenario_from_data(d), "nash", draws=200, seed=1)
    assert fc.results["nash"].p_package() == 0
    text = answer(fc)
    assert_reads_cleanly(text)
    assert "every actor with a stake (all 3 here, veto or not)" in text
    assert "nothing for the veto players to accept" in text and "still accepts" not in text


def test_a_question_that_is_not_yes_no_gets_no_verdict_word() -> None:
    d = uncertain()
    d["question"] = "How many years will the phase-out take?"
    text = answer(parley.forecast(scenario_from_data(d), "compromise", draws=300, seed=3))
    assert text.startswith("How many years will the phase-out take? parley does not answer this "
                           "question directly")
    assert "Less likely than not" not in text and "Likely," not in text


def test_the_horizon_is_in_the_answer_and_must_follow_as_of() -> None:
    d = uncertain()
    d["horizon"] = "2026-05-10"
    text = answer(parley.forecast(scenario_from_data(d), "compromise", draws=300, seed=3))
    assert "Will A and B agree? (by 10 May 2026, the scenario's horizon" in text
    d["horizon"] = "2024-12-31"
    with pytest.raises(ParleyInputError) as err:
        scenario_from_data(d)
    assert err.value.problems[0].path == "horizon" and "before as_of" in err.value.problems[0].message


def test_a_horizon_left_out_does_not_change_the_scenario_hash() -> None:
    d = uncertain()
    before = scenario_from_data(d).content_hash()
    d["horizon"] = "2026-05-10"
    assert scenario_from_data(d).content_hash() != before
    del d["horizon"]
    assert scenario_from_data(d).content_hash() == before


def symmetric(res_a: float, res_b: float) -> dict:
    """Two veto players of equal weight on one issue, mirror images of each other around 50."""
    d = minimal()
    d["actors"][0]["capability"] = 1
    d["issues"] = d["issues"][:1]
    d["stances"] = [
        {"actor": "A", "issue": "x", "position": 20, "salience": 60,
         "reservation": {"low": res_a - 10, "mode": res_a, "high": res_a + 10}},
        {"actor": "B", "issue": "x", "position": 80, "salience": 60,
         "reservation": {"low": res_b - 10, "mode": res_b, "high": res_b + 10}},
        {"actor": "C", "issue": "x", "position": {"low": 35, "mode": 50, "high": 65}, "salience": 50},
    ]
    return d


def test_veto_players_whose_acceptance_the_draws_do_not_separate_are_called_tied() -> None:
    fc = parley.forecast(scenario_from_data(symmetric(45, 55)), "compromise", draws=2000, seed=5)
    acc = fc.actors().set_index("actor").p_accept
    assert acc["A"] < 0.5 and acc["B"] < 0.5 and abs(acc["A"] - acc["B"]) < 0.05
    text = answer(fc)
    assert "tied" in text and "The main obstacle is" not in text
    assert "Actor A" in text and "Actor B" in text


def test_a_clear_difference_is_ranked() -> None:
    # B's red line sits far beyond where the package lands; A's only a little
    fc = parley.forecast(scenario_from_data(symmetric(48, 70)), "compromise", draws=2000, seed=5)
    acc = fc.actors().set_index("actor").p_accept
    assert acc["B"] + 0.2 < acc["A"] < 0.5
    text = answer(fc)
    assert "The main obstacle is Actor B" in text and "tied" not in text


def test_the_answer_names_the_gap_between_reservation_points() -> None:
    # A accepts at most 35 (position 20, reservation 35), B at least 65: a 30-point gap
    d = symmetric(35, 65)
    s = scenario_from_data(d)
    gaps = reservation_gaps(s)
    assert [(g["issue"], g["low_end"], g["high_end"], g["gap"]) for g in gaps] == [("x", 35, 65, 30)]
    text = answer(parley.forecast(s, "compromise", draws=500, seed=5))
    assert "rests mostly on the gaps between the veto players' reservation points" in text
    assert "issue x (Actor A accepts at most 35, Actor B at least 65: a 30-point gap)" in text


def test_the_bundled_may_2025_answer_says_what_its_low_chance_rests_on() -> None:
    fc = parley.forecast("ukraine-2025-05", ["compromise"], draws=500, seed=1)
    text = answer(fc)
    st = {(x.actor, x.issue): x for x in fc.scenario.stances}
    ua, ru = st["UA", "territory"].reservation.mode, st["RU", "territory"].reservation.mode
    assert f"territory (Ukraine accepts at most {ua:.0f}, Russia at least {ru:.0f}" in text


def test_flags_a_model_beyond_every_veto_range_or_far_from_the_others() -> None:
    s = scenario_from_data(symmetric(45, 55))
    from parley.core.batch import point

    base = point(s)  # A accepts [0, 45], B accepts [55, 100]: every value is inside some range
    far = {"m1": np.array([50.0]), "m2": np.array([52.0]), "m3": np.array([50 - FAR - 3])}
    flags = _flags(s, base, far)
    assert [(f.model, f.reason, round(f.gap)) for f in flags] == [("m3", "far", FAR + 3)]
    # A accepts [20, 60] (position 40, reservation 60), B [40, 80]: 95 is beyond both, by 15
    d = symmetric(45, 55)
    d["stances"][0].update(position=40, reservation=60)
    d["stances"][1].update(position=60, reservation=40)
    s2 = scenario_from_data(d)
    outside = _flags(s2, point(s2), {"m1": np.array([50.0]), "m2": np.array([95.0]), "m3": np.array([55.0])})
    assert [(f.model, f.reason, round(f.gap)) for f in outside] == [("m2", "outside", 15)]


def test_the_line_of_every_model_computed_ahead_is_the_one_computed_after() -> None:
    """`overlap` (what `parley run` uses) solves the other models in a forked process while
    the forecast runs, sharing them with the parent: the line and the whole answer are the same
    as when the answer solves them itself, on a scenario with veto players and on one without."""
    from parley.analysis.model_spread import spread

    for name in ("ukraine-2025-05", "ukraine-2026-02"):
        kw = dict(draws=300, seed=3)
        plain = parley.forecast(name, ["compromise"], **kw)
        ahead = parley.forecast(name, ["compromise"], overlap=True, **kw)
        a, b = spread(plain), spread(ahead)
        assert a.models == b.models and a.failed == b.failed and a.flags == b.flags
        for m in a.models:
            np.testing.assert_array_equal(a.outcome[m], b.outcome[m])
            assert a.settles[m] == b.settles[m]
        assert answer(plain) == answer(ahead)


def test_models_the_forked_process_did_not_send_are_solved_by_the_parent() -> None:
    """A child that dies before sending anything costs time, not the answer."""
    from parley.analysis import model_spread as ms

    sc = parley.load("ukraine-2025-05")
    models = [m for m in registry.names() if m != "compromise"]
    ahead = ms.Ahead(sc, models, "compensatory")
    shared = ahead._shared
    if shared is not None and shared._proc is not None:  # Linux: kill it before it can send
        shared._proc.kill()
        shared._proc.join()
    got = ahead.result()
    want = ms.solve_others(sc, models, "compensatory")
    assert set(got) == set(want)
    for m in models:
        if isinstance(want[m], str):
            assert got[m] == want[m]
        else:
            np.testing.assert_array_equal(got[m][0], want[m][0])
            assert got[m][1] == want[m][1]
