"""The library interface: load, forecast, DataFrames, JSON, provenance, narrative."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import parley
from parley.core.errors import ParleyInputError


@pytest.fixture(scope="module")
def fc() -> parley.Forecast:
    return parley.forecast("ukraine-2025-05", model=["compromise", "median"], draws=2000, seed=5)


def test_tables_are_dataframes_with_every_issue(fc) -> None:
    out = fc.outcomes()
    assert isinstance(out, pd.DataFrame)
    assert set(out.issue) == set(fc.scenario.issue_ids)
    assert set(out.model) == {"compromise", "median"}
    assert (out.p05 <= out["median"]).all() and (out["median"] <= out.p95).all()
    st = fc.settlement()
    assert ((st.ci_low <= st.p_settlement) & (st.p_settlement <= st.ci_high)).all()
    actors = fc.actors()
    assert set(actors.actor) == {a.id for a in fc.scenario.actors if a.veto}


def test_settlement_share_matches_acceptance_of_all_vetoes(fc) -> None:
    res = fc.results["compromise"]
    veto = np.array([a.veto for a in fc.scenario.actors])
    expected = res.draws.accept[:, veto].all(axis=1).mean()
    assert fc.settlement().set_index("model").loc["compromise", "p_settlement"] == pytest.approx(expected)


def test_same_seed_same_numbers_and_provenance() -> None:
    a = parley.forecast("ukraine-2025-05", model="compromise", draws=1500, seed=9)
    b = parley.forecast("ukraine-2025-05", model="compromise", draws=1500, seed=9)
    pd.testing.assert_frame_equal(a.outcomes(), b.outcomes())
    pv = a.provenance
    assert pv["seed"] == 9 and pv["draws"] == 1500
    assert pv["scenario_hash"] == a.scenario.content_hash()
    assert pv["models"]["compromise"] == {"weights": "capability_salience"}
    assert "parley_version" in pv


def test_json_is_valid_and_has_the_answer(fc) -> None:
    from parley.core.jsonable import finite

    data = fc.to_dict()
    assert fc.scenario.question in data["answer"]
    assert "analyst estimates" in data["disclaimer"]
    again = json.loads(json.dumps(finite(data), allow_nan=False))
    assert again["provenance"]["scenario_id"] == "ukraine-2025-05"


def test_answer_names_the_blocker_and_issue() -> None:
    fc = parley.forecast("ukraine-2025-05", model="compromise", draws=1000, seed=1)
    actors = fc.actors().sort_values("p_accept")
    worst = actors.iloc[0]
    text = fc.to_dict()["answer"]
    if worst.p_accept < 0.5:
        assert worst.actor_name in text


def test_unknown_model_and_bad_params_are_input_errors() -> None:
    with pytest.raises(ParleyInputError, match="unknown model"):
        parley.forecast("ukraine-2025-05", model="astrology", draws=10)
    with pytest.raises(ParleyInputError, match="no parameter"):
        parley.forecast("ukraine-2025-05", model="compromise", draws=10, params={"compromise": {"x": 1}})
    with pytest.raises(ParleyInputError, match="draws"):
        parley.forecast("ukraine-2025-05", model="compromise", draws=0)


def test_scenario_round_trips_through_yaml_data(tmp_path) -> None:
    from conftest import write_yaml
    from parley.io.scenario_file import load_yaml_file

    s = parley.load("ukraine-2025-05")
    path = write_yaml(tmp_path / "copy.yaml", s.to_yaml_data())
    again = load_yaml_file(path)
    assert again.content_hash() == s.content_hash()


def test_a_model_run_in_a_forked_process_gives_the_same_forecast() -> None:
    """With two cores, `forecast` runs the costliest one-chunk model in a forked process while
    it runs the others (and the zone check), when asked to (`overlap`, as `parley run` does):
    every draw, every info entry and the zone are the same as when everything runs here."""
    from parley.analysis import forecast as fmod
    from parley.analysis.parallel import can_fork

    names = ["compromise", "median", "nash"]
    side = fmod._side_model(names, {}, 1, 600)
    assert side == ("nash" if can_fork() else None)
    kw = dict(draws=600, seed=5, progress=lambda n: None, count_lead=True)
    a = parley.forecast("ukraine-2025-05", names, overlap=True, **kw)
    b = parley.forecast("ukraine-2025-05", names, **kw)
    assert a.lead and a.lead == b.lead  # computed while the side model ran, from the first model
    assert list(a.results) == names == list(b.results)
    for m in names:
        for f in ("outcome", "agreement", "accept", "deficit", "drives", "move", "settle"):
            np.testing.assert_array_equal(getattr(a.results[m].draws, f), getattr(b.results[m].draws, f))
        assert a.results[m].draws.info == b.results[m].draws.info
    np.testing.assert_array_equal(a.zone.exists, b.zone.exists)
    assert a.to_dict()["outcomes"] == b.to_dict()["outcomes"]
    assert a.to_dict()["answer"] == b.to_dict()["answer"]


def test_no_side_process_for_one_model_or_a_run_a_pool_takes() -> None:
    from parley.analysis import forecast as fmod

    assert fmod._side_model(["nash"], {}, 1, 10_000) is None  # one model: nothing to overlap
    assert fmod._side_model(["compromise", "nash"], {}, 0, 10_000) is None  # one run each
    assert fmod._side_model(["compromise", "nash"], {}, 1, 10**6) is None  # simulate pools it


def test_a_fork_that_cannot_start_leaves_the_forecast_to_this_process(monkeypatch) -> None:
    """No process or semaphore to be had (a sandbox, a process limit): the overlap quietly
    computes everything here, with the same numbers."""
    import multiprocessing

    from parley.analysis.parallel import can_fork

    if not can_fork():
        pytest.skip("no fork here: nothing to fall back from")
    ctx = multiprocessing.get_context("fork")

    def refuse(*args, **kwargs):
        raise OSError("no more processes")

    monkeypatch.setattr(type(ctx), "Process", refuse)
    names = ["compromise", "median", "nash"]
    kw = dict(draws=300, seed=2, progress=lambda n: None, count_lead=True)
    a = parley.forecast("ukraine-2025-05", names, overlap=True, **kw)
    b = parley.forecast("ukraine-2025-05", names, **kw)
    np.testing.assert_array_equal(a.results["nash"].draws.outcome, b.results["nash"].draws.outcome)
    assert a.to_dict()["answer"] == b.to_dict()["answer"]
