"""Exchange model: hand-computed two-actor exchanges, properties, reproducibility, and Decide's
own outcomes on its three example inputs (compared only where ../shared is present: GPL data)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.batch import Batch, point
from parley.models import exchange, registry

# Two actors, two issues. A cares about p (0.8 vs 0.2), B about q (0.6 vs 0.4); they sit at
# opposite ends of both scales, so A supplies on q and B on p.
POS = [[100.0, 0.0], [0.0, 100.0]]
SAL = [[0.8, 0.2], [0.4, 0.6]]


def two_actor(pos=POS, sal=SAL, cap=(1.0, 1.0)) -> Batch:
    return Batch.from_arrays(np.array(pos), np.array(sal), np.array(cap),
                             actors=("A", "B"), issues=("p", "q"))


def test_registered_as_dynamic_model() -> None:
    assert registry.MODELS["exchange"].dynamic
    assert registry.module("exchange") is exchange


def test_one_round_by_hand() -> None:
    # O_p = 0.8*100/1.2 = 66.67, O_q = 0.6*100/0.8 = 75.
    # Largest shifts: dp <= min(0.4/1.2*100, 100-66.67) = 33.33, dq <= min(0.2/0.8*100, 25) = 25.
    # Equal gain: dq = dp (0.8+0.4)/(0.2+0.6) = 1.5 dp, so dq's cap binds: dq = 25, dp = 16.67.
    # Gains: A 0.8*16.67 - 0.2*25 = 8.33; B 0.6*25 - 0.4*16.67 = 8.33.
    # Moves: B on p by 16.67*1.2/0.4 = 50; A on q by 25*0.8/0.2 = 100 (to B, the cap).
    out = exchange.solve(two_actor(), exchange.Params(rounds=1, explain=True))
    assert out.outcome[0] == pytest.approx([100 / 1.2, 100.0])
    [ex] = out.info["exchanges"]
    assert (ex["actor_a"], ex["actor_b"]) == ("A", "B")
    assert ex["supply_a"] == {"issue": "q", "from": 0.0, "to": 100.0}
    assert ex["supply_b"] == {"issue": "p", "from": 0.0, "to": pytest.approx(50.0)}
    assert ex["gain_a"] == pytest.approx(25 / 3)
    assert ex["gain_b"] == pytest.approx(25 / 3)
    assert ex["outcome_shift"] == {"p": pytest.approx(50 / 3), "q": pytest.approx(25.0)}
    np.testing.assert_allclose(out.trajectory[0, 1], [[100, 100], [50, 100]])


def test_second_round_starts_from_salience_weighted_step() -> None:
    # After round 1: x_Bp = 0 + (0.1 + 0.4*0.6)*50 = 17, x_Aq = 0 + (0.1 + 0.4*0.8)*100 = 42.
    # Round 2: O_p = (80 + 0.4*17)/1.2 = 72.33, O_q = (8.4 + 60)/0.8 = 85.5;
    # dp <= 0.4/1.2*83 = 27.67, dq <= 0.2/0.8*58 = 14.5 -> dq = 14.5, dp = 9.667;
    # B moves 9.667*1.2/0.4 = 29 to 46; O_p = (80 + 0.4*46)/1.2 = 82.
    out = exchange.solve(two_actor(), exchange.Params(rounds=2, explain=True))
    assert out.outcome[0] == pytest.approx([82.0, 100.0])
    assert [e["supply_b"]["from"] for e in out.info["exchanges"]] == pytest.approx([0, 17])
    assert [e["supply_a"]["from"] for e in out.info["exchanges"]] == pytest.approx([0, 42])


def test_full_update_moves_to_the_voted_position() -> None:
    out = exchange.solve(two_actor(), exchange.Params(rounds=2, update="full"))
    # round 2 starts at B_p = 50, A_q = 100: A has nothing left to give on q, no exchange
    assert out.info["exchanges_made"][0] == 1
    assert out.info["converged"][0]
    assert out.outcome[0] == pytest.approx([100 / 1.2, 100.0])


def test_demanders_cap_binds_on_the_other_issue() -> None:
    # A: s = (0.5, 0.25), c = 1; B: s = (0.25, 0.5), c = 2. O_p = 50, O_q = 80.
    # dp <= min(0.5*100, 50) = 50, dq <= min(0.25/1.25*100, 20) = 20; ratio 1 -> both 20.
    # gain 0.5*20 - 0.25*20 = 5 each; B moves 40 on p, A moves 100 on q (to B's position).
    out = exchange.solve(two_actor(sal=[[0.5, 0.25], [0.25, 0.5]], cap=(1.0, 2.0)),
                         exchange.Params(rounds=1, explain=True))
    [ex] = out.info["exchanges"]
    assert ex["gain_a"] == pytest.approx(5.0) and ex["gain_b"] == pytest.approx(5.0)
    assert ex["supply_b"]["to"] == pytest.approx(40.0)
    assert ex["supply_a"]["to"] == pytest.approx(100.0)
    assert out.outcome[0] == pytest.approx([70.0, 100.0])


def test_outcome_cap_at_the_demanders_position() -> None:
    # C (only on p, at 100) sits beyond A (at 90). O_p = (81 + 0 + 50)/1.5 = 87.33, O_q = 90.
    # B moving all the way to A would shift O_p by 0.1/1.5*90 = 6 and carry it past A's 90:
    # the cap is 90 - 87.33 = 2.67. dq <= min(0.1*100, 10) = 10; ratio (0.9+0.1)/(0.1+0.9) = 1.
    pos = [[90.0, 0.0], [0.0, 100.0], [100.0, 0.0]]
    sal = [[0.9, 0.1], [0.1, 0.9], [0.5, 0.0]]
    b = Batch.from_arrays(np.array(pos), np.array(sal), np.ones(3),
                          engaged=np.array([[1, 1], [1, 1], [1, 0]], bool))
    out = exchange.solve(b, exchange.Params(rounds=1, explain=True))
    [ex] = out.info["exchanges"]
    assert ex["outcome_shift"] == {"k0": pytest.approx(90 - 131 / 1.5),
                                   "k1": pytest.approx(90 - 131 / 1.5)}
    assert ex["supply_b"]["to"] == pytest.approx((90 - 131 / 1.5) * 1.5 / 0.1)
    assert out.outcome[0, 0] == pytest.approx(90.0)


def test_no_trade_when_saliences_are_proportional() -> None:
    out = exchange.solve(two_actor(sal=[[0.8, 0.4], [0.4, 0.2]]))
    assert out.info["exchanges_made"][0] == 0
    assert out.outcome[0] == pytest.approx([100 * 0.8 / 1.2, 100 * 0.2 / 0.6])


def test_no_trade_when_on_the_same_side() -> None:
    out = exchange.solve(two_actor(pos=[[100.0, 100.0], [0.0, 100.0]]))
    assert out.info["exchanges_made"][0] == 0


def random_batch(seed: int, d: int, n: int, k: int) -> Batch:
    rng = np.random.default_rng(seed)
    return Batch.from_arrays(
        rng.choice([0.0, 25.0, 50.0, 75.0, 100.0], size=(d, n, k)),
        rng.choice([0.2, 0.4, 0.5, 0.6, 0.8, 1.0], size=(d, n, k)),  # ties on purpose
        rng.uniform(0.1, 1.0, size=(d, n)),
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 6), k=st.integers(2, 4),
       rex=st.sampled_from([0.0, 0.5, 1.0]))
def test_no_exchange_makes_a_side_worse_off(seed: int, n: int, k: int, rex: float) -> None:
    b = random_batch(seed, 1, n, k)
    out = exchange.solve(b, exchange.Params(rounds=4, rex=rex, seed=seed, explain=True))
    s, c = b.salience[0], b.capability[0]
    total = (c[:, None] * s).sum(axis=0)
    idx_a, idx_k = {a: i for i, a in enumerate(b.actors)}, {x: j for j, x in enumerate(b.issues)}
    for ex in out.info["exchanges"]:
        a, bb = idx_a[ex["actor_a"]], idx_a[ex["actor_b"]]
        q, p = idx_k[ex["supply_a"]["issue"]], idx_k[ex["supply_b"]["issue"]]
        # outcome shifts recomputed from the moves themselves
        d_q = abs(ex["supply_a"]["to"] - ex["supply_a"]["from"]) * c[a] * s[a, q] / total[q]
        d_p = abs(ex["supply_b"]["to"] - ex["supply_b"]["from"]) * c[bb] * s[bb, p] / total[p]
        gain_a = s[a, p] * d_p - s[a, q] * d_q
        gain_b = s[bb, q] * d_q - s[bb, p] * d_p
        assert gain_a >= -1e-9 and gain_b >= -1e-9
        assert gain_a == pytest.approx(ex["gain_a"], abs=1e-9)
        if rex == 0:
            assert gain_a == pytest.approx(gain_b, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 6), k=st.integers(2, 4),
       rex=st.sampled_from([0.0, 1.0]))
def test_outcome_stays_within_the_positions(seed: int, n: int, k: int, rex: float) -> None:
    b = random_batch(seed, 3, n, k)
    out = exchange.solve(b, exchange.Params(rex=rex, seed=seed))
    lo, hi = b.position.min(axis=1), b.position.max(axis=1)
    assert np.all(out.outcome >= lo - 1e-9) and np.all(out.outcome <= hi + 1e-9)
    assert np.all((out.trajectory >= 0) & (out.trajectory <= 100))
    # every actor only ever moves inside the range its issue started with
    assert np.all(out.trajectory >= lo[:, None, None, :] - 1e-9)
    assert np.all(out.trajectory <= hi[:, None, None, :] + 1e-9)


def test_draws_are_solved_independently() -> None:
    b = random_batch(7, 5, 6, 4)
    together = exchange.solve(b, exchange.Params())
    for i in range(5):
        alone = exchange.solve(b.take(slice(i, i + 1)), exchange.Params())
        np.testing.assert_allclose(alone.outcome[0], together.outcome[i], atol=1e-12)
        np.testing.assert_allclose(alone.trajectory[0], together.trajectory[i], atol=1e-12)


def test_slicing_draws_for_memory_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    b = random_batch(9, 7, 5, 3)  # 10 actor pairs x 3 issue pairs = 30 candidates per draw
    whole = exchange.solve(b, exchange.Params(explain=True, log_draw=5))
    monkeypatch.setattr(exchange, "CELLS_PER_SLICE", 60)  # slices of 2 draws
    sliced = exchange.solve(b, exchange.Params(explain=True, log_draw=5))
    np.testing.assert_array_equal(whole.outcome, sliced.outcome)
    np.testing.assert_array_equal(whole.trajectory, sliced.trajectory)
    np.testing.assert_array_equal(whole.info["exchanges_made"], sliced.info["exchanges_made"])
    assert whole.info["exchanges"] == sliced.info["exchanges"]


def test_rex_spreads_identical_draws() -> None:
    b = random_batch(4, 1, 6, 3)
    many = b.take(np.zeros(50, int))  # 50 copies of one draw
    plain = exchange.solve(many).outcome
    assert np.ptp(plain, axis=0).max() == 0
    rex = exchange.solve(many, exchange.Params(rex=1.0, seed=3)).outcome
    assert np.ptp(rex, axis=0).max() > 0.1


def test_same_input_and_seed_same_result() -> None:
    b = random_batch(3, 4, 8, 5)
    for params in (exchange.Params(explain=True), exchange.Params(rex=0.7, seed=11, explain=True)):
        first, second = exchange.solve(b, params), exchange.solve(b, params)
        assert np.array_equal(first.outcome, second.outcome)
        assert first.info["exchanges"] == second.info["exchanges"]
    other = exchange.solve(b, exchange.Params(rex=0.7, seed=12))
    assert not np.array_equal(other.outcome, exchange.solve(b, exchange.Params(rex=0.7, seed=11))
                              .outcome)


def test_ties_go_to_the_lowest_index() -> None:
    # Two identical partners for A: the exchange goes to the first one listed.
    pos = [[100.0, 0.0], [0.0, 100.0], [0.0, 100.0]]
    sal = [[0.8, 0.2], [0.4, 0.6], [0.4, 0.6]]
    b = Batch.from_arrays(np.array(pos), np.array(sal), np.ones(3), actors=("A", "B", "C"))
    [first, *_] = exchange.solve(b, exchange.Params(rounds=1, explain=True)).info["exchanges"]
    assert first["actor_b"] == "B"


def test_random_tie_order_is_seeded() -> None:
    # Two identical partners for A: with random tie order the seed decides who trades first,
    # and the same seed always decides the same way.
    pos = [[100.0, 0.0], [0.0, 100.0], [0.0, 100.0]]
    sal = [[0.8, 0.2], [0.4, 0.6], [0.4, 0.6]]
    b = Batch.from_arrays(np.array(pos), np.array(sal), np.ones(3), actors=("A", "B", "C"))

    def first_partner(seed: int) -> str:
        params = exchange.Params(rounds=1, ties="random", seed=seed, explain=True)
        return exchange.solve(b, params).info["exchanges"][0]["actor_b"]

    picks = [first_partner(seed) for seed in range(12)]
    assert set(picks) == {"B", "C"}
    assert picks == [first_partner(seed) for seed in range(12)]


def test_rex_zero_is_the_equal_gain_model() -> None:
    b = random_batch(5, 2, 5, 3)
    np.testing.assert_array_equal(exchange.solve(b).outcome,
                                  exchange.solve(b, exchange.Params(rex=0.0, seed=99)).outcome)


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="rex"):
        exchange.Params(rex=1.5)
    with pytest.raises(ValueError, match="rounds"):
        exchange.Params(rounds=0)


def test_convergence_is_reported() -> None:
    out = exchange.solve(two_actor(), exchange.Params(rounds=50))
    assert out.info["converged"][0]
    assert out.info["rounds"][0] < 50
    assert out.trajectory.shape == (1, 51, 2, 2)
    # the first round without an exchange votes on the positions carried into it, and stays
    last = out.info["rounds"][0] + 1
    assert np.array_equal(out.trajectory[0, -1], out.trajectory[0, last])


def test_runs_on_a_bundled_scenario() -> None:
    import parley

    f = parley.forecast(parley.load("ukraine-2025-05"), model="exchange", draws=64, seed=1)
    assert np.isfinite(f.outcomes()["mean"]).all()


# --- Decide's own outcomes ---------------------------------------------------------------------
def _shared() -> Path | None:
    here = Path(__file__).resolve()
    for cand in (os.environ.get("PARLEY_SHARED"), here.parents[2] / "shared",
                 here.parents[1].parent / "shared", Path("/work/shared")):
        if cand and (Path(cand) / "data" / "decide").is_dir():
            return Path(cand)
    return None


SHARED = _shared()
CASES = {"sample_data": "sample_data.txt", "copenhagen": "copenhagen.csv", "cop21": "cop21.csv"}

# Issues where the deterministic run lands more than 2 points outside the range of Decide's
# five runs, with the distance (0–100 scale) measured when this was written. Decide's own runs
# spread by up to 17 points on an issue because its coin flips reorder exchanges; with random
# tie-breaking parley's model spreads the same way, and these issues' spreads reach or near
# Decide's (docs/models/exchange.md, "Decide's outcomes").
KNOWN_OUTSIDE = {
    ("sample_data", "wanneer-tol"): 7.0,
    ("sample_data", "woonwerkverkeer"): 6.4,
    ("sample_data", "extra-investering"): 2.5,
    ("sample_data", "kleine-of-grote-ring"): 2.8,
    ("copenhagen", "DevlopC2020"): 8.0,
    ("copenhagen", "Commitments"): 8.1,
    ("copenhagen", "Control"): 11.3,
    ("cop21", "differentiation"): 3.1,
    ("cop21", "mrv"): 7.0,
    ("cop21", "finance_vol"): 2.6,
    ("cop21", "progress"): 5.1,
    ("cop21", "amb2050"): 5.8,
}


@pytest.mark.skipif(SHARED is None, reason="Decide's inputs (GPL) are not shipped; needs ../shared")
@pytest.mark.parametrize("case", list(CASES))
def test_decide_reference_outcomes(case: str) -> None:
    from parley.io.decide import load_decide

    scenario = load_decide(SHARED / "data" / "decide" / CASES[case])
    out = exchange.solve(point(scenario))
    with open(SHARED / "reference" / "decide" / "final_outcomes.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["case"] == case]
    assert len(rows) == len(scenario.issues)
    for k, (row, issue) in enumerate(zip(rows, scenario.issues, strict=True)):
        assert row["issue"].split(" [")[0] == issue.name
        lo, hi = float(row["min"]), float(row["max"])
        value = out.outcome[0, k]
        if issue.scale is not None:  # reference in the issue's own units
            lo, hi = issue.scale.to_scale(lo), issue.scale.to_scale(hi)
        distance = max(0.0, lo - value, value - hi)
        allowed = KNOWN_OUTSIDE.get((case, issue.name), 2.0)
        assert distance <= allowed, f"{case}/{issue.name}: {value:.2f} vs [{lo:.2f}, {hi:.2f}]"


# --- `parley exchanges` -------------------------------------------------------------------------
SMALL = Path(__file__).parent / "data" / "decide" / "decide_small.csv"


def cli(*args: str):
    from typer.testing import CliRunner

    from parley.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_lists_the_exchanges_as_json() -> None:
    import json

    result = cli("exchanges", str(SMALL), "--json", "--param", "rounds=2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["params"]["rounds"] == 2 and len(data["rounds"]) == 2
    [ex] = data["rounds"][0]["exchanges"]
    # North cares about the levy (0.9 vs 0.3), South bloc about the dam (0.8 vs 0.4)
    assert (ex["actor_a"], ex["supply_a"]["issue"]) == ("North", "dam")
    assert (ex["actor_b"], ex["supply_b"]["issue"]) == ("South_bloc", "levy")
    assert ex["gain_a"] == pytest.approx(ex["gain_b"])
    assert data["units"]["levy"]["at_100"] == 7.0
    first = data["rounds"][0]
    for iss, shift in ex["outcome_shift"].items():
        assert first["outcome_after"][iss] - first["outcome_before"][iss] == pytest.approx(shift)


def test_cli_filters_and_tables() -> None:
    result = cli("exchanges", str(SMALL), "--actor", "Farmers")
    assert result.exit_code == 0 and "no exchange matches" in result.output
    result = cli("exchanges", str(SMALL), "--issue", "dam", "--param", "rounds=1")
    assert result.exit_code == 0
    assert "North ⇄ South_bloc" in result.output and "North gives on dam" in result.output


@pytest.mark.parametrize("args", [
    ("--actor", "Nobody"), ("--issue", "nowhere"), ("--param", "rex=3"), ("--param", "colour=red"),
    ("--format", "excel")])
def test_cli_bad_options_exit_2(args: tuple[str, str]) -> None:
    result = cli("exchanges", str(SMALL), *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
