"""Capability conventions: Council votes by era, Shapley–Shubik index, Commission/Parliament."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from parley.backtest.capability import (
    ERAS,
    CapabilitySpec,
    capabilities,
    era_for,
    shapley_shubik,
    shapley_shubik_council,
)
from parley.backtest.data import Issue, load_deu
from parley.core.errors import ParleyInputError


def brute_force_ssi(weights, quota):
    """Share of orderings in which each player is pivotal (definition, by enumeration)."""
    n = len(weights)
    pivots = np.zeros(n)
    for order in itertools.permutations(range(n)):
        total = 0
        for player in order:
            total += weights[player]
            if total >= quota:
                pivots[player] += 1
                break
    return pivots / math.factorial(n)


@pytest.mark.parametrize("weights,quota", [((4, 3, 2, 1), 6), ((3, 2, 2), 4), ((5, 1, 1, 1, 1), 6)])
def test_shapley_shubik_matches_enumeration(weights, quota):
    np.testing.assert_allclose(shapley_shubik(weights, quota), brute_force_ssi(weights, quota))


def test_eu15_council_index_matches_published_values():
    # Felsenthal & Machover's EU-15 QMV (62 of 87) indices: large 11.67%, Spain 9.55%,
    # Belgium 5.52%, Austria 4.54%, Denmark 3.53%, Luxembourg 2.07%
    ssi = shapley_shubik_council(load_deu().actors, ERAS[0], "QMV")
    for code, value in {"de": 0.1167, "es": 0.0955, "be": 0.0552, "at": 0.0454, "dk": 0.0353,
                        "lu": 0.0207}.items():
        assert abs(ssi[code] - value) < 5e-4
    assert len(ssi) == 15 and np.isclose(sum(ssi.values()), 1.0)


def test_unanimity_gives_every_member_one_nth():
    ssi = shapley_shubik_council(load_deu().actors, ERAS[2], "Unan")
    assert len(ssi) == 27
    np.testing.assert_allclose(list(ssi.values()), 1 / 27)


def _issue(actors, date):
    n = len(actors)
    return Issue("x", "p", tuple(actors), np.zeros(n), np.ones(n), 50.0, np.nan, "COD", "QMV", date)


def test_era_follows_the_date_and_moves_on_for_new_members():
    actors = load_deu().actors
    assert era_for(_issue(["com", "de"], "01-01-99"), actors).name == "EU-15 pre-Nice"
    assert era_for(_issue(["de"], "01-06-05"), actors).name == "EU-25 Nice"
    assert era_for(_issue(["de", "pl"], "01-01-03"), actors).name == "EU-25 Nice"
    assert era_for(_issue(["de", "ro"], "01-01-08"), actors).name == "EU-27 Nice"
    assert era_for(_issue(["de"], ""), actors).name == "EU-15 pre-Nice"


def test_institutions_get_multiples_of_the_largest_state():
    d = load_deu()
    first = d.issues[0]  # d00032i1, decided 2001: pre-Nice votes, largest state 10
    caps = capabilities(d, CapabilitySpec("votes", commission=2.0, parliament=0.5))[0]
    by_actor = dict(zip(first.actors, caps, strict=True))
    assert by_actor["com"] == 20.0 and by_actor["ep"] == 5.0
    assert by_actor["de"] == 10.0 and by_actor["lu"] == 2.0
    equal = capabilities(d, CapabilitySpec("equal"))[0]
    assert np.all(equal == 1.0)


def test_conventions_needing_actor_data_say_so():
    d = load_deu()
    no_actors = type(d)(d.name, d.issues, None)
    with pytest.raises(ParleyInputError, match="needs an actors file"):
        capabilities(no_actors, CapabilitySpec("votes"))
    with pytest.raises(ParleyInputError, match="no 'capability' column"):
        capabilities(d, CapabilitySpec("column"))
    with pytest.raises(ParleyInputError, match="unknown capability convention"):
        capabilities(d, CapabilitySpec("weird"))  # type: ignore[arg-type]


def test_fixed_vote_column_rescales_states_without_votes_under_it():
    d = load_deu()
    k = next(j for j, i in enumerate(d.issues) if "pl" in i.actors)
    caps = dict(zip(d.issues[k].actors, capabilities(d, CapabilitySpec("votes_pre_nice"))[k],
                    strict=True))
    assert caps["de"] == 10.0 and np.isclose(caps["pl"], 27 * 10 / 29)


def test_column_convention_reads_the_actors_capability_column(tmp_path):
    from parley.backtest.data import load_tidy

    (tmp_path / "i.csv").write_text("isnr,prnr,outcome\ni1,p1,30\n")
    (tmp_path / "s.csv").write_text("isnr,actor,position,salience\n"
                                    "i1,a,0,100\ni1,b,100,100\ni1,com,50,100\n")
    (tmp_path / "a.csv").write_text("actor,capability\na,3\nb,1\ncom,\n")
    d = load_tidy(tmp_path / "i.csv", tmp_path / "s.csv", tmp_path / "a.csv")
    caps = capabilities(d, CapabilitySpec("column", commission=0.5))[0]
    np.testing.assert_allclose(caps, [3.0, 1.0, 1.5])  # com: half the largest (3)


def test_negative_institution_weight_is_rejected():
    with pytest.raises(ParleyInputError, match="commission weight"):
        capabilities(load_deu(), CapabilitySpec("equal", commission=-1.0))
