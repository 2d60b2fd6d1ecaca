"""Draws only where there is uncertainty: a scenario without uncertain inputs under a
deterministic model is computed once; everything with uncertainty gives the numbers it gave
before that change (pinned from main), and models with their own randomness keep their draws."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import minimal

from parley.analysis.compare import compare
from parley.analysis.forecast import forecast
from parley.analysis.levers import variants
from parley.analysis.simulate import simulate, solve_batch
from parley.core import batch as batching
from parley.core.scenario import Scenario
from parley.io.loading import load
from parley.models import registry

DATA = Path(__file__).parent / "data"
PINNED = json.loads((DATA / "pinned" / "static_seed7.json").read_text())
KTAB = DATA / "ktab" / "dummyData_3Dim.csv"


def _close(got: float, want: float | None) -> bool:
    if want is None:
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("name", sorted(k for k in PINNED if not k.startswith("_")))
def test_static_models_give_the_numbers_main_gave(name: str) -> None:
    """P(settlement), medians, bands and the zone at seed 7 are those recorded on main before
    the change (nash to 1e-6: its solver's own tolerance)."""
    want = PINNED[name]
    s = load(str(Path(__file__).parent.parent / name) if name.endswith(".yaml") else name)
    fc = forecast(s, ["compromise", "median", "nash"], draws=3000, seed=7)
    assert fc.provenance["draws_run"] == {"compromise": 3000, "median": 3000, "nash": 3000}
    assert not any(r.one_run for r in fc.results.values())
    st = fc.settlement().set_index("model")["p_settlement"]
    for model, p in want["p_settlement"].items():
        assert _close(float(st[model]), p), (model, st[model], p)
    oc = fc.outcomes()
    for col in ("median", "p05", "p95"):
        for key, value in want[col].items():
            model, issue = key.split("/")
            got = float(oc[(oc.model == model) & (oc.issue == issue)][col].iloc[0])
            if model == "nash" and value is not None:
                assert abs(got - value) < 1e-6, (key, col, got, value)
            else:
                assert _close(got, value), (key, col, got, value)
    zs = fc.zone_summary()
    assert (zs is None and want["zone"] is None) or _close(zs["p_exists"], want["zone"])


def test_no_uncertain_inputs_is_one_run_with_the_numbers_every_draw_had() -> None:
    """A KTAB file has no uncertain inputs: each model runs once, and that run is what each of
    the draws computed before (simulate over 40 identical draws)."""
    s = load(str(KTAB))
    lay = batching.layout(s)
    assert lay.n_inputs == 0
    fc = forecast(s, ["compromise", "median", "nash", "pce"], draws=40, seed=3)
    assert fc.provenance["draws"] == 40
    assert fc.provenance["draws_run"] == {"compromise": 1, "median": 1, "nash": 1, "pce": 1}
    oc = fc.outcomes()
    for name, res in fc.results.items():
        assert res.one_run and res.n == 1
        p = registry.make_params(name)
        full = simulate(s, name, p, 40, 3)
        assert np.allclose(full.outcome, full.outcome[:1], equal_nan=True)  # all draws the same
        got = oc[oc.model == name]
        for col in ("point", "median", "p05", "p95"):
            assert np.allclose(got[col].to_numpy(), full.outcome[0], atol=1e-9, equal_nan=True)


def test_one_run_settlement_is_exact_and_the_json_keeps_its_shape(tiny_data) -> None:
    """The tiny scenario has no uncertain inputs: P(settlement) is 0 or 1 with a collapsed
    interval; the JSON has the same keys as a run with uncertainty."""
    s = Scenario.model_validate(tiny_data)
    fc = forecast(s, ["compromise", "nash"], draws=500, seed=1)
    st = fc.settlement()
    assert set(st.draws) == {1}
    assert ((st.p_settlement == st.ci_low) & (st.ci_low == st.ci_high)).all()
    assert set(st.p_settlement) <= {0.0, 1.0}
    acc = fc.actors()
    for col in ("ci_low", "ci_high"):
        assert np.array_equal(acc[col].to_numpy(), acc.p_accept.to_numpy(), equal_nan=True)
    assert fc.zone is not None and fc.zone.n == 1
    uncertain = minimal()
    uncertain["stances"][0]["position"] = {"low": 10, "mode": 20, "high": 30}
    other = forecast(Scenario.model_validate(uncertain), ["compromise", "nash"], draws=500, seed=1)
    a, b = fc.to_dict(), other.to_dict()
    assert a.keys() == b.keys()
    for key in ("outcomes", "settlement", "actors"):
        assert a[key][0].keys() == b[key][0].keys()
    assert a["provenance"].keys() == b["provenance"].keys()
    assert "one run" in a["answer"]


def test_some_uncertain_inputs_change_nothing(tiny_data) -> None:
    """One uncertain input: every draw is computed and equals the model on the sampled batch."""
    tiny_data["actors"][2]["capability"] = {"low": 0.5, "mode": 1, "high": 2}
    s = Scenario.model_validate(tiny_data)
    fc = forecast(s, ["compromise", "bdm"], draws=300, seed=5)
    lay = batching.layout(s)
    assert lay.n_inputs == 1
    for name, res in fc.results.items():
        assert not res.one_run and res.n == 300
        ref = solve_batch(batching.sample(lay, 300, 5), name, registry.make_params(name))
        assert np.array_equal(res.draws.outcome, ref.outcome, equal_nan=True)
        assert np.array_equal(res.draws.settle, ref.settle)


@dataclass(frozen=True)
class _Noisy:
    own_randomness: bool = True


def test_models_with_their_own_randomness_keep_their_draws() -> None:
    """exchange with REX or random ties, pce stochastic: every draw differs, so all are run."""
    ex = registry.make_params("exchange", {"rex": 0.5})
    assert registry.own_randomness("exchange", ex)
    assert registry.own_randomness("exchange", registry.make_params("exchange", {"ties": "random"}))
    assert not registry.own_randomness("exchange", registry.make_params("exchange"))
    assert registry.own_randomness("pce", registry.make_params("pce", {"stochastic": True}))
    assert not registry.own_randomness("nash", registry.make_params("nash"))
    assert registry.own_randomness("compromise", _Noisy())  # the Params property wins
    assert not registry.own_randomness("compromise", _Noisy(False))
    assert registry.draws_needed("exchange", ex, 0, 700) == 700
    assert registry.draws_needed("exchange", registry.make_params("exchange"), 0, 700) == 1
    assert registry.draws_needed("compromise", _Noisy(False), 3, 700) == 700
    s = Scenario.model_validate(minimal())
    fc = forecast(s, "exchange", draws=30, seed=2, params={"exchange": {"rex": 0.5}})
    assert fc.results["exchange"].n == 30 and not fc.results["exchange"].one_run


def test_compare_without_uncertain_inputs_is_one_run() -> None:
    """Levers on a fixed scenario: one run per variant, the same shares a full run gives."""
    data = minimal()
    data["levers"] = [{"id": "soften", "name": "B softens",
                       "changes": [{"field": "reservation", "actors": ["B"], "issues": ["x"],
                                    "shift": -15}]}]
    s = Scenario.model_validate(data)
    cmp = compare(s, variants(s, ["soften"]), ["compromise", "median"], draws=64, seed=1)
    assert cmp.one_run and cmp.n == 1 and cmp.provenance["draws"] == 64
    st = cmp.settlement()
    assert ((st.ci_low == st.p_settlement) & (st.ci_high == st.p_settlement)).all()
    for model in ("compromise", "median"):
        for var in cmp.variants:
            b = batching.layout(s).base
            from parley.analysis.levers import apply

            d = solve_batch(apply(b, var), model, registry.make_params(model))
            row = st[(st.model == model) & (st.variant == var.id)].iloc[0]
            assert row.p_settlement == float(d.settle[0])


@pytest.mark.parametrize("model", ["compromise", "bdm"])
def test_the_lead_reuses_the_forecast_baseline_and_says_the_same(model: str) -> None:
    """The counterfactual lead takes the baseline draws from the forecast instead of solving
    them again; its numbers are those of a comparison that solves everything."""
    from parley.analysis.compare import counterfactual_text

    s = load("ukraine-2025-05")
    fc = forecast(s, model, draws=300, seed=11)
    ids = [lv.id for lv in s.levers if lv.counterfactual_of]
    full = compare(s, variants(s, ids), model, draws=300, seed=11)
    reused = compare(s, variants(s, ids), model, draws=300, seed=11,
                     baseline={model: fc.results[model].draws})
    for f in ("settle", "flips", "agree", "accept", "sum_o", "sum_d"):
        assert np.array_equal(getattr(full.tally, f), getattr(reused.tally, f)), f
    assert fc.lead == counterfactual_text(full, model)
