"""Advice for one actor: hand-computed persuasion and trade effects, reproducibility, errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import parley
from parley.analysis.advice import advise
from parley.analysis.compare import compare
from parley.analysis.levers import variants
from parley.core.errors import ParleyInputError
from parley.io.scenario_file import scenario_from_data


def three_on_one() -> dict:
    """Three actors on one issue, every value fixed (no uncertainty), no veto players.

    A (the advisee) wants 20, B 50, C 80; capabilities 30, 40, 30; saliences all 100, so the
    weights capability x salience are 30, 40, 30 (total 100).
    """
    return {
        "id": "three", "title": "Three", "as_of": "2025-01-01", "question": "Where does it land?",
        "settlement_test": False,
        "actors": [
            {"id": "A", "name": "Alpha", "capability": 30},
            {"id": "B", "name": "Bravo", "capability": 40},
            {"id": "C", "name": "Charlie", "capability": 30},
        ],
        "issues": [{"id": "x", "name": "X", "low": "none", "high": "all"}],
        "stances": [
            {"actor": "A", "issue": "x", "position": 20, "salience": 100},
            {"actor": "B", "issue": "x", "position": 50, "salience": 100},
            {"actor": "C", "issue": "x", "position": 80, "salience": 100},
        ],
    }


def test_persuasion_target_is_the_median_actor_with_the_hand_computed_effect():
    # Median model. Sorted positions 20 (w 30), 50 (w 40), 80 (w 30): cumulative weight 30, 70,
    # 100, half is 50, so the median is B's 50. Persuading B 10 points towards A puts B at 40;
    # the order and weights are unchanged, the median is B's 40: the outcome moves 10 points
    # towards A, 10 / 10 = 1.0 per point. Persuading C to 70 leaves B the median at 50: 0.
    # Without a settlement test A's utility is 100 - |outcome - 20|, so its gain is the
    # outcome's move towards it.
    s = scenario_from_data(three_on_one())
    adv = advise(s, "A", "median", draws=64, seed=3)
    top, second = adv.persuasion[0], adv.persuasion[1]
    assert (top["actor"], second["actor"]) == ("B", "C")
    assert top["effect_per_point"] == pytest.approx(1.0)
    assert top["issues"]["x"]["per_point"] == pytest.approx(1.0)
    assert (top["effect_low"], top["effect_high"]) == pytest.approx((1.0, 1.0))  # fixed inputs
    assert second["effect_per_point"] == pytest.approx(0.0)
    assert top["pivotal"] and not second["pivotal"]


def test_persuasion_under_the_compromise_model_is_the_weight_share():
    # Weighted mean (30*20 + 40*50 + 30*80) / 100 = 50. B at 40: (600 + 1600 + 2400) / 100 = 46,
    # 4 points closer to A: 0.4 per point. C at 70: (600 + 2000 + 2100) / 100 = 47: 0.3.
    adv = advise(scenario_from_data(three_on_one()), "alpha", "compromise", draws=64, seed=3)
    got = {r["actor"]: r["effect_per_point"] for r in adv.persuasion}
    assert got == pytest.approx({"B": 0.4, "C": 0.3})
    assert adv.persuasion[0]["actor"] == "B"


def two_traders() -> dict:
    """A cares about q (0.8) more than p (0.2), B the reverse; equal capabilities."""
    return {
        "id": "trade", "title": "Trade", "as_of": "2025-01-01", "question": "Trade?",
        "settlement_test": False,
        "actors": [{"id": "A", "name": "A", "capability": 1}, {"id": "B", "name": "B", "capability": 1}],
        "issues": [{"id": "p", "name": "P", "low": "0", "high": "100"},
                   {"id": "q", "name": "Q", "low": "0", "high": "100"}],
        "stances": [
            {"actor": "A", "issue": "p", "position": 0, "salience": 20},
            {"actor": "A", "issue": "q", "position": 0, "salience": 80},
            {"actor": "B", "issue": "p", "position": 100, "salience": 80},
            {"actor": "B", "issue": "q", "position": 100, "salience": 20},
        ],
    }


def test_trade_follows_the_exchange_model_and_both_gain_as_computed_by_hand():
    # Weights w = c s: A (0.2 on p, 0.8 on q), B (0.8, 0.2); totals 1 on each issue; outcomes
    # p = 80, q = 20. A supplies on p since s_Ap s_Bq = 0.04 < s_Aq s_Bp = 0.64. Equal gain:
    # dq = dp (0.2 + 0.8) / (0.8 + 0.2) = dp. Caps: A moving all the way to B shifts p by
    # 0.2 * 100 = 20 (= B's distance to the outcome, 20); likewise q. So the full trade is A
    # 100 towards B on p for B 100 towards A on q; scaled to the 20-point cap: 20 for 20.
    # Outcome shifts dp = dq = 20 * 0.2 = 4. A: loses 0.2 * 4 on p, gains 0.8 * 4 on q = +2.4
    # salience-points, over its salience total 1.0: +2.4 utility; B the mirror image: +2.4.
    adv = advise(scenario_from_data(two_traders()), "A", "compromise", draws=32, seed=1)
    (t,) = adv.trades
    assert (t["partner"], t["give_issue"], t["give"], t["get_issue"], t["get"]) == ("B", "p", 20, "q", 20)
    assert t["offer"] == "move 20 points towards B on P in return for 20 points towards A on Q"
    assert t["utility_delta"] == pytest.approx(2.4)
    assert t["partner_delta"] == pytest.approx(2.4)
    assert t["both_gain"]


@pytest.fixture(scope="module")
def ukraine() -> parley.Scenario:
    return parley.load("ukraine-2025-05")


def test_bundled_scenario_gives_ranked_moves_and_targets_with_intervals(ukraine):
    adv = advise(ukraine, "Ukraine", draws=300, seed=5)
    data = adv.to_dict()
    for model in adv.models:
        moves = data["own_moves"][model]
        assert len(moves) >= 3 and [m["rank"] for m in moves] == list(range(1, len(moves) + 1))
        assert all(m["utility_low"] <= m["utility_delta"] <= m["utility_high"] for m in moves)
        targets = [r for r in data["persuasion"] if r["model"] == model]
        assert len(targets) >= 3
        assert all(r["effect_low"] <= r["effect_per_point"] <= r["effect_high"] for r in targets)
        effects = [r["effect_per_point"] for r in targets]
        assert effects == sorted(effects, reverse=True)
    assert adv.summary().count(". ") >= 2  # three sentences, the first names the best move
    assert moves[0]["label"] in data["summary"][adv.models[-1]]


def test_same_seed_same_advice(ukraine):
    one = advise(ukraine, "RU", draws=200, seed=9).to_dict()
    two = advise(ukraine, "ru", draws=200, seed=9).to_dict()
    for d in (one, two):
        d["provenance"].pop("created")
    assert one == two
    assert one["provenance"]["seed"] == 9 and one["provenance"]["common_random_numbers"]


def test_unknown_actor_lists_the_actors(ukraine):
    with pytest.raises(ParleyInputError) as err:
        advise(ukraine, "Belarus", draws=10)
    text = str(err.value)
    assert "unknown actor 'Belarus'" in text
    assert "UA (Ukraine)" in text and "GULF (Gulf mediators)" in text


def test_owned_lever_effect_matches_compare_on_the_same_draws(ukraine):
    # advise runs the lever as `parley compare` does (the same draws, the edited inputs decide
    # acceptance), so the change in P(settlement) is the same number.
    adv = advise(ukraine, "US", "compromise", draws=500, seed=2)
    row = next(r for r in adv.levers if r["lever"] == "security_guarantee")
    cmp = compare(ukraine, variants(ukraine, ["security_guarantee"]), "compromise", draws=500, seed=2)
    st = cmp.settlement().set_index("variant")
    assert row["p_delta"] == pytest.approx(st.loc["security_guarantee", "delta"])
    assert {r["lever"] for r in adv.levers} == {lv.id for lv in ukraine.levers if lv.owner == "US"}


def test_lever_owner_must_be_an_actor():
    data = three_on_one()
    data["levers"] = [{"id": "L", "name": "L", "owner": "Zed",
                       "changes": [{"field": "position", "actors": ["B"], "shift": 5}]}]
    with pytest.raises(ParleyInputError) as err:
        scenario_from_data(data)
    assert "levers[0].owner" in str(err.value) and "unknown actor 'Zed'" in str(err.value)


def test_cli_json_and_tables(tmp_path):
    import json

    from typer.testing import CliRunner

    from parley.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["advise", "ukraine", "ukraine-2025-05", "--draws", "200", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["actor"] == {"id": "UA", "name": "Ukraine"}
    assert len(data["own_moves"]["compromise"]) >= 3
    res = runner.invoke(app, ["advise", "US", "--draws", "200", "-m", "compromise"])
    assert res.exit_code == 0, res.output
    assert "Advice for United States" in res.stdout and "Levers United States holds" in res.stdout
    res = runner.invoke(app, ["advise", "Narnia", "--draws", "10"])
    assert res.exit_code == 2
    assert "unknown actor 'Narnia'" in res.output and "RU (Russia)" in res.output


def test_library_entry_point():
    adv = parley.advise(scenario_from_data(three_on_one()), "Bravo", "median", draws=16)
    assert adv.actor_id == "B"


def test_report_section(ukraine):
    from parley.present.report import build_report, render

    data = build_report(ukraine, ["compromise"], draws=300, lever_draws=300, sensitivity_samples=0,
                        advise=["united states"])
    html = render(data)
    assert 'id="advice-US"' in html and "Whom to persuade" in html
    import html as html_lib

    assert "United States' best own move" in html_lib.unescape(html)  # the summary
    with pytest.raises(ParleyInputError):
        build_report(ukraine, ["compromise"], draws=10, sensitivity_samples=0, advise=["Atlantis"])


@settings(max_examples=25, deadline=None)
@given(xs=st.lists(st.integers(0, 100), min_size=3, max_size=3),
       caps=st.lists(st.integers(1, 50), min_size=3, max_size=3),
       sals=st.lists(st.integers(10, 100), min_size=3, max_size=3))
def test_compromise_persuasion_effect_is_the_weight_share(xs, caps, sals):
    # On one issue the weighted mean O = sum(w x) / W moves by w_j / W per point actor j moves
    # (weights capability x salience). Moving j 5 points towards A (it does not reach A) gives
    # O' = O + sign(x_A - x_j) 5 w_j / W, and A's utility 100 - |O - x_A| changes by
    # |O - x_A| - |O' - x_A|: per point, that over 5 (w_j / W when O is on j's side of A).
    data = three_on_one()
    for i, actor in enumerate(data["actors"]):
        actor["capability"] = caps[i]
    for i, stance in enumerate(data["stances"]):
        stance["position"], stance["salience"] = xs[i], sals[i]
    adv = advise(scenario_from_data(data), "A", "compromise", draws=4, step=5)
    w = [c * s for c, s in zip(caps, sals, strict=True)]
    o = sum(wi * xi for wi, xi in zip(w, xs, strict=True)) / sum(w)
    for r in adv.persuasion:
        j = "ABC".index(r["actor"])
        if abs(xs[j] - xs[0]) >= 5:
            o2 = o + (1 if xs[0] > xs[j] else -1) * 5 * w[j] / sum(w)
            assert r["effect_per_point"] == pytest.approx((abs(o - xs[0]) - abs(o2 - xs[0])) / 5, abs=1e-9)
        elif xs[j] == xs[0]:
            assert r["moved"] == 0


def test_levers_from_a_file_with_an_owner(tmp_path):
    lever_file = tmp_path / "extra.yaml"
    lever_file.write_text(
        "levers:\n"
        "  - id: ru_softens\n    name: Russia softens on territory\n    owner: RU\n"
        "    changes:\n      - {field: reservation, actors: [RU], issues: [territory], shift: -10}\n",
        encoding="utf-8")
    from typer.testing import CliRunner

    from parley.cli import app

    res = CliRunner().invoke(app, ["advise", "RU", "--levers", str(lever_file), "--draws", "100",
                                   "-m", "compromise", "--json"])
    assert res.exit_code == 0, res.output
    import json

    assert [r["lever"] for r in json.loads(res.stdout)["levers"]] == ["ru_softens"]


def test_concession_that_wins_a_settlement_as_computed_by_hand():
    # Compromise model, one issue, weights 3 (A) and 1 (B). A wants 20 (reservation 55), B 80
    # (reservation 48). Outcome (3*20 + 80) / 4 = 35: B is 45 from it, more than its 32 at its
    # reservation, so it refuses; no settlement. A's utility: 100 - |35 - 20| = 85.
    # A concedes 10 (towards B, the others' centre): (3*30 + 80) / 4 = 42.5, B 37.5 > 32 still
    # refuses; A's utility 100 - 22.5 = 77.5 (-7.5). A concedes 20: (3*40 + 80) / 4 = 50, B at
    # 30 <= 32 accepts, and A (judged on its real position 20) is 30 <= 35 from it: settlement.
    # A's utility: closeness 70 plus the settlement's value over its reservation, 35 - 30 = 5:
    # 75 (-10), P(settlement) 0 -> 1.
    data = {
        "id": "concede", "title": "Concede", "as_of": "2025-01-01", "question": "Deal?",
        "actors": [{"id": "A", "name": "A", "capability": 3, "veto": True},
                   {"id": "B", "name": "B", "capability": 1, "veto": True}],
        "issues": [{"id": "x", "name": "X", "low": "0", "high": "100"}],
        "stances": [{"actor": "A", "issue": "x", "position": 20, "salience": 100, "reservation": 55},
                    {"actor": "B", "issue": "x", "position": 80, "salience": 100, "reservation": 48}],
    }
    adv = advise(scenario_from_data(data), "A", "compromise", draws=8)
    rows = {r["id"]: r for r in adv.own_moves}
    assert rows["concede:x:10"]["utility_delta"] == pytest.approx(-7.5)
    assert rows["concede:x:10"]["p_delta"] == pytest.approx(0.0)
    assert rows["concede:x:20"]["utility_delta"] == pytest.approx(-10.0)
    assert rows["concede:x:20"]["p_delta"] == pytest.approx(1.0)
    best = adv.ranked_moves("compromise", "settlement")[0]
    assert best["id"] == "concede:x:20"
    assert adv.baseline[0]["utility"] == pytest.approx(85.0) and adv.baseline[0]["p_settlement"] == 0.0
    assert "concede 20 points on X does most for a settlement" in adv.summary()


def test_repeated_names_ask_for_an_id_and_advice_names_actors_by_id():
    data = three_on_one()
    data["actors"][1]["name"] = data["actors"][2]["name"] = "Same"
    s = scenario_from_data(data)
    with pytest.raises(ParleyInputError) as err:
        advise(s, "same", draws=4)
    assert "2 actors" in str(err.value) and "B, C" in str(err.value)
    adv = advise(s, "A", "compromise", draws=4)
    assert {r["actor_name"] for r in adv.persuasion} == {"B", "C"}


def test_dynamic_models_are_rerun_for_every_what_if():
    # bdm and pce answer through their own rounds: every what-if is solved by the model itself
    # (here a few draws of the three-actor case; values checked only for shape and order).
    adv = advise(scenario_from_data(three_on_one()), "A", ["bdm", "pce"], draws=4)
    for m in ("bdm", "pce"):
        rows = [r for r in adv.persuasion if r["model"] == m]
        assert [r["rank"] for r in rows] == [1, 2]
        assert all(r["effect_low"] <= r["effect_per_point"] <= r["effect_high"] for r in rows)
        assert len(adv.ranked_moves(m)) == 2  # one issue: the best position and salience move
    assert set(adv.provenance["models"]) == {"bdm", "pce"}


@pytest.mark.parametrize(("kw", "field"), [({"models": []}, "model"), ({"step": 0}, "step"),
                                            ({"trades": -1}, "trades"), ({"models": "nope"}, "model")])
def test_bad_settings_are_named(kw, field):
    with pytest.raises(ParleyInputError) as err:
        advise(scenario_from_data(three_on_one()), "A", **{"draws": 4, **kw})
    assert err.value.problems[0].path == field


def test_schema_documents_the_lever_owner():
    from parley.core.schema import json_schema

    owner = json_schema()["$defs"]["Lever"]["properties"]["owner"]
    assert "actor" in owner["description"]
