"""Levers: validation, application to sampled arrays, comparisons on common random numbers."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import parley
from parley.analysis import levers as lv
from parley.analysis.compare import compare, lever_answer
from parley.analysis.forecast import forecast
from parley.cli import app
from parley.core import batch as batching
from parley.core.errors import ParleyInputError
from parley.io.scenario_file import scenario_from_data

runner = CliRunner()


def tiny(levers: list | None = None) -> dict:
    """Two veto actors on one issue plus a scaled issue; numbers chosen for hand arithmetic."""
    data = {
        "id": "tiny",
        "title": "Tiny",
        "as_of": "2025-01-01",
        "question": "Deal?",
        "sources": {"src": "a source"},
        "actors": [
            {"id": "A", "name": "A", "capability": 3, "veto": True},
            {"id": "B", "name": "B", "capability": 1, "veto": True},
        ],
        "issues": [
            {"id": "x", "name": "X", "low": "none", "high": "all"},
            {"id": "army", "name": "Army", "low": "big", "high": "small",
             "scale": {"unit": "k", "at_0": 1000, "at_100": 0}},
        ],
        "stances": [
            {"actor": "A", "issue": "x", "position": 20, "salience": 50, "reservation": 40},
            {"actor": "B", "issue": "x", "position": 80, "salience": 50, "reservation": 50},
            {"actor": "A", "issue": "army", "position": 800, "salience": 40},
            {"actor": "B", "issue": "army", "position": {"low": 200, "mode": 300, "high": 400},
             "salience": 60, "reservation": 600},
        ],
    }
    if levers is not None:
        data["levers"] = levers
    return data


def lever(changes: list, **kw) -> dict:
    return {"id": kw.pop("id", "L"), "name": kw.pop("name", "Lever"), "changes": changes, **kw}


def messages(exc: ParleyInputError) -> str:
    return exc.render()


# --- hand-computed effects ----------------------------------------------------------------------
def test_compromise_with_salience_lever_matches_hand_computation():
    # baseline on x: weights A 3*0.5=1.5, B 1*0.5=0.5 -> (1.5*20 + 0.5*80)/2 = 35.
    # lever sets B's salience to 100 -> weights 1.5 and 1.0 -> (30 + 80)/2.5 = 44.
    change = {"field": "salience", "actors": ["B"], "issues": ["x"], "set": 100}
    s = scenario_from_data(tiny([lever([change])]))
    cmp = compare(s, lv.variants(s, ["L"]), "compromise", draws=10, seed=1)
    oc = cmp.outcomes().set_index(["variant", "issue"])
    assert oc.loc[("baseline", "x"), "point"] == pytest.approx(35.0)
    assert oc.loc[("L", "x"), "point"] == pytest.approx(44.0)
    assert oc.loc[("L", "x"), "delta_point"] == pytest.approx(9.0)
    # x has no uncertainty: every draw moves by exactly 9, so the interval collapses on it
    assert oc.loc[("L", "x"), "delta"] == pytest.approx(9.0)
    assert oc.loc[("L", "x"), "delta_low"] == pytest.approx(9.0)


def test_settlement_flips_by_hand():
    # baseline outcome on x is 35: A (position 20, reservation 40) accepts, B (80, reservation 50)
    # refuses; on army B's reservation 600k ~ 40 on the scale vs outcome (3*.4*20+1*.6*70)/1.8 ~ 36.7
    # Shifting B's reservation on x to 30 (shift -20) makes B accept x: loss 45 vs 50.
    s = scenario_from_data(tiny([
        lever([{"field": "reservation", "actors": ["B"], "issues": ["x"], "shift": -20},
               {"field": "reservation", "actors": ["B"], "issues": ["army"], "set": 700}], id="B_softens"),
    ]))
    cmp = compare(s, lv.variants(s, ["B_softens"]), "compromise", draws=200, seed=3)
    st_ = cmp.settlement().set_index("variant")
    assert st_.loc["baseline", "p_settlement"] == 0.0
    assert st_.loc["B_softens", "p_settlement"] == 1.0
    assert st_.loc["B_softens", "delta"] == 1.0
    assert bool(st_.loc["B_softens", "point_settles"])


def test_units_are_mapped_like_the_scenario():
    # army: at_0 = 1000k, at_100 = 0k -> 800k is 20 on the scale; set 500k -> 50; shift -100k -> +10
    s = scenario_from_data(tiny([
        lever([{"field": "position", "actors": ["A"], "issues": ["army"], "set": 500}], id="set"),
        lever([{"field": "position", "actors": ["A"], "issues": ["army"], "shift": -100}], id="shift"),
        lever([{"field": "position", "actors": ["A"], "issues": ["army"], "scale": 0.5}], id="half"),
    ]))
    base = batching.point(s)
    a, army = 0, 1
    assert base.position[0, a, army] == pytest.approx(20.0)
    for name, expected in (("set", 50.0), ("shift", 30.0), ("half", 60.0)):  # 400k -> 60
        b = lv.apply(base, lv.variants(s, [name], baseline=False)[0])
        assert b.position[0, a, army] == pytest.approx(expected)


def test_capability_scale_and_untouched_cells():
    s = scenario_from_data(tiny([lever([{"field": "capability", "actors": ["A"], "scale": 2}])]))
    b0 = batching.sample(s, 50, seed=5)
    b1 = lv.apply(b0, lv.variants(s, ["L"], baseline=False)[0])
    assert np.allclose(b1.capability[:, 0], 2 * b0.capability[:, 0])
    assert np.array_equal(b1.capability[:, 1], b0.capability[:, 1])
    assert np.array_equal(b1.position, b0.position)
    assert b0.capability[0, 0] == 3  # the input batch is not modified in place


def test_baseline_equals_forecast_on_same_seed():
    s = parley.load("ukraine-2025-05")
    fc = forecast(s, ["compromise", "median"], draws=3000, seed=11)
    cmp = compare(s, lv.variants(s, ["security_guarantee"]), ["compromise", "median"], draws=3000, seed=11)
    st_ = cmp.settlement()
    for m in ("compromise", "median"):
        p_fc = fc.settlement().set_index("model").loc[m, "p_settlement"]
        assert st_[(st_.model == m) & (st_.variant == "baseline")].p_settlement.iloc[0] == p_fc
        means = fc.outcomes().set_index(["model", "issue"])["mean"]
        oc = cmp.outcomes()
        got = oc[(oc.model == m) & (oc.variant == "baseline")].set_index("issue")["mean"]
        for issue in s.issue_ids:
            assert got[issue] == pytest.approx(means[(m, issue)], rel=1e-9)


def test_identity_lever_changes_nothing_and_chunks_do_not_matter():
    s = scenario_from_data(tiny([lever([{"field": "position", "shift": 0}], id="noop")]))
    a = compare(s, lv.variants(s, ["noop"]), ["compromise", "median"], draws=3000, seed=2)
    b = compare(s, lv.variants(s, ["noop"]), ["compromise", "median"], draws=3000, seed=2, chunk=1024)
    st_ = a.settlement()
    assert (st_.delta == 0).all() and (st_.draws_changed == 0).all()
    assert (a.outcomes().delta.fillna(0) == 0).all()
    for f in ("settle", "flips", "agree", "accept"):  # counts: identical however the draws are split
        assert np.array_equal(getattr(a.tally, f), getattr(b.tally, f))
    for f in ("sum_o", "sum_d"):  # float sums: equal up to summation order
        assert np.allclose(getattr(a.tally, f), getattr(b.tally, f), rtol=1e-12, atol=1e-9)


def test_draws_are_clipped_but_point_is_checked():
    # B's army position is 200–400k = 60–80 on the scale; a shift of -250k moves the point (70) to
    # 95 (allowed) and the tail draws beyond 100, which are clipped.
    s = scenario_from_data(tiny([lever([{"field": "position", "actors": ["B"], "issues": ["army"],
                                         "shift": -250}])]))
    b = lv.apply(batching.sample(s, 2000, seed=1), lv.variants(s, ["L"], baseline=False)[0])
    assert b.position[:, 1, 1].max() == 100.0
    assert b.position.min() >= 0


@settings(max_examples=30, deadline=None)
@given(shift=st.floats(-30, 30), factor=st.floats(0, 1.5), field=st.sampled_from(["position", "salience"]))
def test_apply_keeps_values_in_range(shift, factor, field):
    s, b0 = _bundled_sample()
    ops = (lv.compile_change(s, _change(field, shift=shift)),
           lv.compile_change(s, _change(field, scale=factor)))
    b = lv.apply(b0, ops)
    assert np.nanmin(b.position) >= 0 and np.nanmax(b.position) <= 100
    assert b.salience.min() >= 0 and b.salience.max() <= 1
    assert np.all(b.salience[:, ~b0.engaged] == 0)  # no stance, no salience


@functools.cache
def _bundled_sample():
    s = parley.load("ukraine-2025-05")
    return s, batching.sample(s, 64, seed=4)


def _change(field, **op):
    from parley.core.scenario import Change

    return Change(field=field, **op)


# --- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"field": "position", "actors": ["C"], "issues": ["x"], "set": 10}, "unknown actor 'C'"),
        ({"field": "position", "actors": ["A"], "issues": ["y"], "set": 10}, "unknown issue 'y'"),
        ({"field": "positon", "actors": ["A"], "set": 10}, "field"),
        ({"field": "position", "actors": ["A"], "issues": ["x"], "shift": 90}, "outside the valid range"),
        ({"field": "salience", "actors": ["A"], "issues": ["x"], "scale": 3}, "outside the valid range"),
        ({"field": "capability", "actors": ["B"], "shift": -5}, "capability must stay > 0"),
        ({"field": "reservation", "actors": ["A"], "issues": ["army"], "shift": 5}, "no reservation"),
        ({"field": "capability", "actors": ["A"], "issues": ["x"], "scale": 2}, "not to an issue"),
        ({"field": "position", "actors": ["A"], "issues": ["x"], "set": 10, "shift": 2}, "exactly one"),
        ({"field": "position", "actors": ["A"], "issues": ["x"]}, "exactly one"),
        ({"field": "status_quo", "issues": ["x"], "shift": 2}, "no status quo"),
    ],
)
def test_bad_levers_get_clear_errors(change, fragment):
    with pytest.raises(ParleyInputError) as info:
        scenario_from_data(tiny([lever([change])]), "tiny.yaml")
    text = messages(info.value)
    assert fragment in text
    assert "tiny.yaml" in text and "levers[0]" in text


def test_no_stance_is_an_error():
    data = tiny([lever([{"field": "position", "actors": ["A"], "issues": ["army"], "set": 10}])])
    data["stances"] = [x for x in data["stances"] if not (x["actor"] == "A" and x["issue"] == "army")]
    with pytest.raises(ParleyInputError) as info:
        scenario_from_data(data)
    assert "actor 'A' has no stance on issue 'army'" in messages(info.value)


def test_unknown_source_and_duplicate_ids():
    with pytest.raises(ParleyInputError) as info:
        scenario_from_data(tiny([lever([{"field": "position", "shift": 1}], sources=["nope"]),
                                 lever([{"field": "position", "shift": 1}])]))
    text = messages(info.value)
    assert "source 'nope' is not defined" in text
    with pytest.raises(ParleyInputError) as info:
        scenario_from_data(tiny([lever([{"field": "position", "shift": 1}]),
                                 lever([{"field": "position", "shift": 1}])]))
    assert "duplicate lever id 'L'" in messages(info.value)


def test_combination_pushed_out_of_range_is_an_error():
    up = {"field": "position", "actors": ["A"], "issues": ["x"], "shift": 50}
    s = scenario_from_data(tiny([lever([up], id="up1"), lever([up], id="up2")]))
    lv.variants(s, ["up1", "up2"])  # each alone is fine
    with pytest.raises(ParleyInputError) as info:
        lv.variants(s, ["up1+up2"])
    assert "outside the valid range" in messages(info.value)
    with pytest.raises(ParleyInputError) as info:
        lv.variants(s, ["up3"])
    assert "unknown lever 'up3'" in messages(info.value)


def test_lever_file(tmp_path):
    s = scenario_from_data(tiny())
    good = tmp_path / "levers.yaml"
    good.write_text(
        "sources:\n  memo: An internal memo\nlevers:\n"
        "  - id: soft\n    name: B softens\n    sources: [memo]\n"
        "    changes:\n      - {field: reservation, actors: [B], issues: [x], shift: -20}\n"
    )
    levers = lv.load_lever_file(good, s)
    assert [x.id for x in levers] == ["soft"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("levers:\n  - id: soft\n    name: B\n    changes:\n"
                   "      - {field: reservation, actors: [Z], issues: [x], shift: -20}\n")
    with pytest.raises(ParleyInputError) as info:
        lv.load_lever_file(bad, s)
    text = messages(info.value)
    assert "unknown actor 'Z'" in text and "bad.yaml:5" in text


# --- bundled levers and the CLI ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["ukraine-2025-05", "ukraine-2026-02"])
def test_bundled_levers_are_sourced(name):
    s = parley.load(name)
    assert len(s.levers) >= 5
    for x in s.levers:
        assert x.sources and x.description


def test_bundled_may_2025_levers_and_answer():
    s = parley.load("ukraine-2025-05")
    ids = {x.id for x in s.levers}
    assert {"no_minerals_deal", "us_pressure_on_russia", "normalisation_carrot", "aid_cut_or_loans",
            "security_guarantee", "ukraine_cedes_crimea"} <= ids
    assert s.levers[0].counterfactual_of
    cmp = compare(s, lv.variants(s, ["security_guarantee", "no_minerals_deal"]), "compromise", draws=2000)
    text = lever_answer(cmp)
    assert text.startswith("What difference does the US–Ukraine minerals deal make?")
    # a security guarantee makes Ukraine accept far more often (its reservation moves 10 points)
    ac = cmp.actors()
    ua = ac[(ac.actor == "UA") & (ac.variant == "security_guarantee")].delta.iloc[0]
    assert ua > 0.2


def test_levers_do_not_change_hash_of_files_without_them():
    data = tiny()
    s = scenario_from_data(data)
    assert "levers" not in s.model_dump(mode="json", exclude={"levers"})
    with_levers = scenario_from_data(tiny([lever([{"field": "position", "shift": 1}])]))
    assert with_levers.content_hash() != s.content_hash()
    assert scenario_from_data(copy.deepcopy(data)).content_hash() == s.content_hash()


def test_cli_compare_and_levers():
    r = runner.invoke(app, ["compare", "ukraine-2025-05", "-l", "security_guarantee", "-m", "median",
                            "-n", "500", "--json"])
    assert r.exit_code == 0, r.output
    import json

    data = json.loads(r.stdout)
    assert [v["id"] for v in data["variants"]] == ["baseline", "security_guarantee"]
    r = runner.invoke(app, ["levers", "ukraine-2025-05", "-n", "500", "--issue", "security"])
    assert r.exit_code == 0, r.output
    assert "security_guarantee" in r.stdout
    r = runner.invoke(app, ["compare", "ukraine-2025-05", "-l", "nope"])
    assert r.exit_code == 2
    assert "unknown lever 'nope'" in r.output and "Traceback" not in r.output


def test_counterfactual_lead_for_run_answers():
    from parley.analysis.compare import counterfactual_lead
    from parley.present.narrative import pct

    fc = forecast(parley.load("ukraine-2025-05"), ["median"], draws=1500, seed=8)
    text = counterfactual_lead(fc)
    p = fc.settlement().p_settlement.iloc[0]
    assert text.startswith("What difference does the US–Ukraine minerals deal make? Under the median model")
    assert f"{pct(p)} with it" in text  # the baseline is exactly the forecast (same draws)
    assert counterfactual_lead(forecast(parley.load("ukraine-2026-02"), ["median"], draws=200)) == ""


def test_cli_compare_prints_tables_for_people():
    r = runner.invoke(app, ["compare", "ukraine-2025-05", "-l", "security_guarantee", "-m", "median",
                            "-n", "300"])
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "P(settlement) per lever" in out and "security_guarantee" in out
    assert "P(accept) per veto player" in out and "Common random numbers" in out
    assert "same 300 draws" in out


EC_EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "ec-car-emissions.yaml"


def test_outcome_only_scenario_compares_outcomes_not_settlement():
    # The tutorial's EC case has no veto players. Compromise at the point estimates, in years:
    # weights c*s sum to .677 with 4 years .248, 7 years .093, 10 years .336: 5.003/.677 = 7.390.
    # Germany's salience 80 -> 40 takes .064 off the 4-year weight: 4.747/.613 = 7.744 years.
    # The change, 0.354 years, is 5.90 points of the 4-10 year scale.
    r = runner.invoke(app, ["compare", str(EC_EXAMPLE), "-m", "compromise", "-n", "500", "--json"])
    assert r.exit_code == 0, r.output
    import json

    data = json.loads(r.stdout)
    row = next(o for o in data["outcomes"] if o["variant"] == "germany_softens")
    assert abs(row["delta_point"] - 5.899) < 0.01
    assert "no settlement test" in data["answer"] and "Germany cares less" in data["answer"]
    people = runner.invoke(app, ["compare", str(EC_EXAMPLE), "-m", "compromise", "-n", "500"])
    assert people.exit_code == 0 and "P(settlement) per lever" not in people.stdout
    ranked = json.loads(runner.invoke(app, ["levers", str(EC_EXAMPLE), "-n", "500", "--json"]).stdout)
    assert ranked["ranked_by"] == "largest_outcome_move"
    assert [(x["variant"], x["issue"]) for x in ranked["ranking"]] == [("germany_softens", "delay")]
