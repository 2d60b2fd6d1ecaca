"""The focal model: landing points, probabilities, batching, the fit, and its scores."""

from __future__ import annotations

import numpy as np
import pytest

from parley.backtest import fit_focal as ff
from parley.backtest.capability import CapabilitySpec
from parley.backtest.data import load_deu
from parley.backtest.leaderboard import leaderboard
from parley.core.batch import Batch
from parley.models import focal


def _batch(draws: int = 1) -> Batch:
    rng = np.random.default_rng(3)
    pos = np.array([[30.0, 80.0], [30.3, 20.0], [70.0, 20.0], [100.0, 55.0]])
    pos = np.clip(pos[None] + rng.normal(0, 5, (draws, 4, 2)) * (np.arange(draws) > 0)[:, None, None], 0, 100)
    return Batch.from_arrays(pos, np.full((4, 2), 0.6), np.array([3.0, 1.0, 2.0, 1.0]),
                             status_quo=np.array([0.0, np.nan]), actors=("com", "ep", "de", "fr"))


def test_candidates_merge_and_probabilities_sum_to_one():
    b = _batch()
    des = focal.design(b, focal.Params(procedure="codecision"))
    pts = des.point[0, 0][des.valid[0, 0]]
    # 30 and 30.3 are one landing point, held by com and ep
    at30 = np.flatnonzero(np.abs(pts - 30.0) <= 0.5)
    assert at30.size == 1
    holders = des.holders[0, 0][des.valid[0, 0]][at30[0]]
    assert holders.tolist() == [True, True, False, False]
    mass, rest = focal.probabilities(des, focal.Params().beta())
    assert np.allclose(mass.sum(-1) + rest, 1.0)
    assert np.all(mass[~des.valid] == 0)


def test_version_2_features_by_hand():
    """com 30 (capability 3), ep 30.3 (1), de 70 (2), fr 100 (1); reference point 0 on issue 0."""
    des = focal.design(_batch())
    col = {name: j for j, name in enumerate(focal.ALL_FEATURES)}

    def feature(name: str, issue: int, x: float) -> float:
        pts = des.point[0, issue]
        j = int(np.flatnonzero(des.valid[0, issue] & (np.abs(pts - x) <= 0.5))[0])
        return float(des.X[0, issue, j, col[name]])

    # rank: 1 − (engaged actors strictly more capable) / 3; a point takes its best holder's
    assert feature("capability_rank", 0, 30.0) == 1.0  # com
    assert feature("capability_rank", 0, 70.0) == pytest.approx(2 / 3)  # de, behind com
    assert feature("capability_rank", 0, 100.0) == pytest.approx(1 / 3)  # fr, behind com and de
    assert feature("capability_rank", 0, 0.0) == 0.0  # nobody holds the reference point
    # Council = de (2 votes) and fr (1): de's 70 has half the votes on each side, fr's 100 not
    assert feature("council_median", 0, 70.0) == 1.0
    assert feature("council_median", 0, 100.0) == 0.0
    assert feature("council_median", 0, 30.0) == 0.0
    # between the Commission (30) and the reference point (0), ends included
    assert feature("between_commission_reference", 0, 0.0) == 1.0
    assert feature("between_commission_reference", 0, 30.0) == 1.0
    assert feature("between_commission_reference", 0, 70.0) == 0.0
    assert feature("between_commission_reference", 1, 80.0) == 0.0  # issue 1: no reference point


def test_batched_draws_equal_draw_by_draw():
    b = _batch(draws=4)
    whole = focal.solve(b).outcome
    for d in range(4):
        one = focal.solve(b.take(slice(d, d + 1))).outcome
        assert np.allclose(one, whole[d : d + 1])
    assert np.all((whole >= 0) & (whole <= 100))


def test_landing_summary_names_holders():
    b = _batch()
    out = focal.solve(b)
    rows = focal.landing_summary(out.info, b.actors, 0)
    assert rows and abs(sum(r["probability"] for r in rows) - 1) < 1 and rows[0]["probability"] > 0
    labels = " ".join(r["label"] for r in rows)
    assert "position" in labels
    assert "EU law-making" in out.info["learnt_from"]


def test_bad_params_are_refused():
    with pytest.raises(ValueError, match="rule"):
        focal.Params(rule="plurality")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown focal feature"):
        focal.Params(coefficients=(("nonsense", 1.0),))


@pytest.fixture(scope="module")
def dev_items():
    dev = load_deu()
    return dev, ff.designs(dev, CapabilitySpec("votes"))


def test_fit_matches_statsmodels_conditional_logit(dev_items):
    sm = pytest.importorskip("statsmodels.discrete.conditional_models")
    dev, items = dev_items
    items, y = items[:80], dev.outcomes[:80]
    ours = np.array(list(ff.fit(items, y, ridge=0.0)["coefficients"].values()))
    X = np.concatenate([d.X for d in items])
    groups = np.concatenate([np.full(len(d.X), i) for i, d in enumerate(items)])
    endog = np.zeros(len(X))
    offset = 0
    for d, yi in zip(items, y, strict=True):
        endog[offset + ff.choice(d, yi)] = 1.0
        offset += len(d.X)
    keep = X.std(0) > 0  # features constant in this subset are not identified
    ref = sm.ConditionalLogit(endog, X[:, keep], groups=groups).fit(method="newton", disp=0)
    assert np.allclose(ours[keep], ref.params, atol=1e-2)  # statsmodels stops at its own tolerance


def test_shipped_fit_reproduces(dev_items):
    dev, items = dev_items
    fitted = ff.fit(items, dev.outcomes)
    shipped = focal.shipped()
    for name, value in fitted["coefficients"].items():
        assert value == pytest.approx(shipped["coefficients"][name], abs=1e-4)
    assert fitted["remainder_scale"] == shipped["remainder_scale"]


def test_leaderboard_scores_distributions_and_beats_compromise():
    """Nothing shipped as a combined model may be worse than compromise in grouped CV."""
    board = leaderboard(load_deu(), CapabilitySpec("votes"), ["compromise", "ensemble", "focal"],
                        reps=200)
    rows = {r.model: r for r in board.rows}
    for name in ("compromise", "ensemble", "focal"):
        assert {"crps", "mae", "exact_hit"} <= set(rows[name].metrics)
    for name in ("ensemble", "focal"):
        assert rows[name].metrics["mae"].value <= rows["compromise"].metrics["mae"].value
        assert rows[name].metrics["crps"].value <= rows["compromise"].metrics["crps"].value
    focal_row = rows["focal"]
    assert focal_row.forecast_kind == "distribution"
    assert focal_row.evaluation.startswith("grouped CV")
    assert 0.7 <= focal_row.coverage[0.8] <= 0.9
    assert focal_row.pit is not None and np.all((focal_row.pit >= 0) & (focal_row.pit <= 1))


def test_run_report_shows_landing_points_and_says_where_it_learnt():
    from typer.testing import CliRunner

    from parley.cli import app

    out = CliRunner().invoke(app, ["run", "-n", "200", "-m", "focal"])
    assert out.exit_code == 0, out.output
    assert "Where each issue lands" in out.stdout and "lands at" in out.stdout
    assert "learnt from EU law-making" in out.stdout


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(arrays(float, (2, 5, 3), elements=st.sampled_from([0.0, 20.0, 33.3, 50.0, 80.0, 100.0])),
       arrays(bool, (5, 3), elements=st.booleans()),
       st.sampled_from(["qmv", "unanimity"]), st.sampled_from(["codecision", "consultation", "none"]))
def test_any_batch_gives_a_distribution_on_the_scale(pos, engaged, rule, procedure):
    engaged[:2] = True  # at least two engaged actors on every issue
    b = Batch.from_arrays(pos, np.full((5, 3), 0.5), np.array([1.0, 2.0, 3.0, 1.0, 1.0]),
                          engaged=engaged, status_quo=np.array([10.0, np.nan, 100.0]),
                          actors=("com", "ep", "a", "b", "c"))
    params = focal.Params(rule=rule, procedure=procedure)
    dist, des = focal.distribution(b, params)
    assert np.allclose(dist.mass.sum(-1) + dist.remainder, 1.0)
    med = dist.median()
    assert np.all((med >= 0) & (med <= 100))
    lo = np.where(engaged[None], pos, np.inf).min(1)
    hi = np.where(engaged[None], pos, -np.inf).max(1)
    # the remainder lives on the engaged actors' range (rounded out to a whole 1-point bin)
    knots = dist.knots
    below = knots[None, None] < np.floor(lo)[..., None] - 1
    above = knots[None, None] > np.ceil(hi)[..., None] + 1
    assert np.all(dist.cont_cdf[below] == 0) and np.allclose(dist.cont_cdf[above], 1)
    # every engaged actor's position is a landing point
    for d in range(2):
        for k in range(3):
            pts = des.point[d, k][des.valid[d, k]]
            for i in np.flatnonzero(engaged[:, k]):
                assert np.min(np.abs(pts - pos[d, i, k])) <= 0.5


@settings(max_examples=40, deadline=None)
@given(arrays(float, (3, 6, 2), elements=st.sampled_from([0.0, 20.0, 20.4, 33.3, 50.0, 80.0, 99.8, 100.0])
              | st.floats(0, 100)),
       arrays(bool, (6, 2), elements=st.booleans()),
       arrays(float, (6,), elements=st.sampled_from([1.0, 2.0, 3.0]) | st.floats(0.1, 10)),
       st.sampled_from(["qmv", "unanimity"]), st.sampled_from(["codecision", "consultation", "none"]),
       st.sampled_from([0.5, 0.0, 3.0, 150.0]), st.sampled_from([10.0, 50.0, np.nan]))
def test_solve_equals_design_then_probabilities(pos, engaged, cap, rule, procedure, merge, q):
    """solve's folded linear predictor (landing) against the feature tensor of design: same
    landing points, holders and kinds exactly; probabilities up to the order of the sums."""
    engaged[:2] = True
    b = Batch.from_arrays(pos, np.full((6, 2), 0.5), cap, engaged=engaged,
                          status_quo=np.array([q, 0.0]), actors=("a", "ep", "com", "b", "c", "d"))
    params = focal.Params(rule=rule, procedure=procedure, merge=merge)
    des = focal.design(b, params)
    mass, rest = focal.probabilities(des, params.beta())
    land = focal.landing(b, params)
    assert np.array_equal(land.valid, des.valid)
    assert np.array_equal(land.point, des.point, equal_nan=True)
    assert np.array_equal(land.holders, des.holders) and np.array_equal(land.kinds, des.kinds)
    assert np.allclose(land.mass, mass, rtol=0, atol=1e-14)
    assert np.allclose(land.remainder, rest, rtol=0, atol=1e-14)
    dist, _ = focal.distribution(b, params)
    assert np.allclose(focal.solve(b, params).outcome, dist.median(), rtol=0, atol=1e-9)


def test_blocks_of_draws_do_not_change_results(monkeypatch):
    b = _batch(draws=300)
    whole = focal.solve(b)
    monkeypatch.setattr(focal, "BLOCK_DRAWS", 128)
    blocks = focal.solve(b)
    assert np.array_equal(whole.outcome, blocks.outcome)
    for key in ("landing_point", "landing_probability", "landing_slot",
                "landing_remainder"):
        assert np.array_equal(whole.info[key], blocks.info[key]), key


@settings(max_examples=30, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 60), st.integers(1, 70)), elements=st.booleans()))
def test_unique_rows_is_numpys(keys):
    # landing_summary groups landing points by who and what holds them: same groups, same order
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    half = keys.shape[1] // 2
    for parts in ((keys,), (keys[:, :half], keys[:, half:])) if half else ((keys,),):
        got_uniq, got_inverse = focal._unique_rows(*parts)
        assert np.array_equal(got_uniq, uniq) and np.array_equal(got_inverse, inverse.reshape(-1))
