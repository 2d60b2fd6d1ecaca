"""Sensitivity analysis against a case whose Sobol indices follow from the variances by hand."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from parley.analysis.sensitivity import sensitivity
from parley.cli import app
from parley.core.errors import ParleyInputError
from parley.io.scenario_file import scenario_from_data

runner = CliRunner()


def linear_case() -> dict:
    """Compromise outcome = 0.5 * xA + 0.5 * xB (equal capability and salience).

    xA ~ triangular(10, 20, 30): variance (10² + 20² + 30² - 10·20 - 10·30 - 20·30) / 18 = 300/18;
    xB ~ triangular(40, 60, 80): four times that. The outcome is additive, so first-order and
    total indices agree: S_A = 1/5 = 0.2 and S_B = 4/5 = 0.8.
    """
    return {
        "id": "linear", "title": "Linear", "as_of": "2025-01-01", "question": "Deal?",
        "actors": [
            {"id": "A", "name": "A", "capability": 1, "veto": True},
            {"id": "B", "name": "B", "capability": 1, "veto": True},
        ],
        "issues": [{"id": "x", "name": "X", "low": "none", "high": "all"}],
        "stances": [
            {"actor": "A", "issue": "x", "position": {"low": 10, "mode": 20, "high": 30}, "salience": 50,
             "reservation": 45},
            {"actor": "B", "issue": "x", "position": {"low": 40, "mode": 60, "high": 80}, "salience": 50,
             "reservation": 38},
        ],
    }


@pytest.fixture(scope="module")
def scenario():
    return scenario_from_data(linear_case(), "linear.yaml")


def test_sobol_matches_variance_shares(scenario):
    res = sensitivity(scenario, "compromise", n=2048, seed=7, outputs=["x"])
    t = res.table.set_index("input")
    assert t.loc["A.x.position", "S1"] == pytest.approx(0.2, abs=0.04)
    assert t.loc["B.x.position", "S1"] == pytest.approx(0.8, abs=0.04)
    assert t.loc["A.x.position", "ST"] == pytest.approx(0.2, abs=0.04)
    assert t.loc["B.x.position", "ST"] == pytest.approx(0.8, abs=0.04)
    assert res.runs == 2048 * (2 + 2)
    assert list(res.top("x").input) == ["B.x.position", "A.x.position"]


def test_morris_ranks_the_wider_input_first(scenario):
    res = sensitivity(scenario, "compromise", method="morris", n=40, seed=3, outputs=["x", "gap"])
    top = res.top("x")
    assert list(top.input) == ["B.x.position", "A.x.position"]
    # elementary effects of a linear output are constant: sigma ~ 0, and mu* of B is twice A's
    # (weight 0.5 times a range twice as wide, over the same quantile steps)
    assert top.mu_star.iloc[0] == pytest.approx(2 * top.mu_star.iloc[1], rel=0.05)
    assert top.sigma.max() < 1e-6


def test_settlement_varies_here_and_a_constant_one_is_flagged(scenario):
    # A accepts when the outcome 0.5 xA + 0.5 xB is at most 45, B when it is at least 38: varies
    res = sensitivity(scenario, "compromise", n=256, seed=1, outputs=["settlement", "gap"])
    assert res.constant == ()
    assert res.table[res.table.output == "settlement"].ST.sum() > 0.5
    # with A's reservation at 31 nobody's range can meet (38 <= outcome <= 31): P(settlement) = 0
    data = linear_case()
    data["stances"][0]["reservation"] = 31
    never = scenario_from_data(data)
    res = sensitivity(never, "compromise", n=64, seed=1, outputs=["settlement", "gap"])
    assert res.constant == ("settlement",)
    assert (res.table[res.table.output == "settlement"].ST == 0).all()
    assert res.table[res.table.output == "gap"].ST.max() > 0


def test_grouping_by_actor(scenario):
    res = sensitivity(scenario, "compromise", n=1024, seed=2, group_by="actor", outputs=["x"])
    t = res.table.set_index("input")
    assert set(t.index) == {"A", "B"}
    assert t.loc["B", "ST"] == pytest.approx(0.8, abs=0.05)


def test_bundled_scenario_runs_and_same_seed_same_result():
    import parley

    s = parley.load("ukraine-2025-05")
    a = sensitivity(s, "compromise", n=32, seed=5, outputs=["gap", "territory"])
    b = sensitivity(s, "compromise", n=32, seed=5, outputs=["gap", "territory"])
    assert a.table.equals(b.table)
    top = a.top("territory", 3)
    assert all("territory" in name or "capability" in name for name in top.input)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"method": "fast"}, "unknown method"),
        ({"group_by": "colour"}, "unknown grouping"),
        ({"outputs": ["nope"]}, "unknown result 'nope'"),
        ({"n": 1}, "at least 2"),
        ({"group_by": "issue"}, "leaves one group"),
    ],
)
def test_bad_options(scenario, kwargs, fragment):
    with pytest.raises(ParleyInputError) as info:
        sensitivity(scenario, "compromise", **kwargs)
    assert fragment in info.value.render()


def test_cli_sensitivity(tmp_path):
    path = tmp_path / "linear.yaml"
    import ruamel.yaml

    yaml = ruamel.yaml.YAML()
    with path.open("w") as fh:
        yaml.dump(linear_case(), fh)
    plot = tmp_path / "tornado.svg"
    r = runner.invoke(app, ["sensitivity", str(path), "-n", "256", "-r", "x", "--plot", str(plot), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert {row["output"] for row in data["indices"]} == {"x"}
    assert plot.read_text().lstrip().startswith(("<?xml", "<svg"))
    r = runner.invoke(app, ["sensitivity", str(path), "-n", "64"])
    assert r.exit_code == 0 and "What drives 'x'" in r.stdout
    r = runner.invoke(app, ["sensitivity", str(path), "--method", "nope"])
    assert r.exit_code == 2 and "unknown method" in r.output


def test_outcome_only_scenario_analyses_the_issues_only():
    from pathlib import Path

    import parley

    ec = Path(__file__).resolve().parent.parent / "docs" / "examples" / "ec-car-emissions.yaml"
    s = parley.load(str(ec))
    res = sensitivity(s, "compromise", n=16, seed=1)
    assert res.outputs() == ["delay"] and res.constant == ()
    # Only Germany's and France's saliences are uncertain, and both move the weighted mean.
    assert set(res.top("delay").input) == {"DE.delay.salience", "FR.delay.salience"}
    out = runner.invoke(app, ["sensitivity", str(ec), "-n", "16", "-r", "settlement"])
    assert out.exit_code == 2 and "unknown result 'settlement'" in out.output
