"""The tutorial's example scenarios (docs/examples) stay valid and answer what docs/tutorial.md
says they answer."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from parley.cli import app

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
runner = CliRunner()


def test_outcome_only_example_states_the_forecast_in_years() -> None:
    out = runner.invoke(app, ["run", str(EXAMPLES / "ec-car-emissions.yaml"), "-m", "compromise",
                              "-n", "500", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    # c*s weighted mean at the point estimates: 5.003 / .677 = 7.39 years = 56.5 on 4-10 years
    row = data["outcomes"][0]
    assert abs(row["point"] - 56.50) < 0.01
    # ... and in years: 4 + 56.50 / 100 * 6 = 7.39, the band's ends mapped the same way
    assert row["unit"] == "years" and abs(row["point_units"] - 7.39) < 0.001
    assert abs(row["p05_units"] - (4 + row["p05"] * 0.06)) < 1e-9
    assert "years" in data["answer"] and data["settlement"][0]["p_settlement"] is None


def test_veto_example_asks_the_settlement_question() -> None:
    out = runner.invoke(app, ["run", str(EXAMPLES / "ec-car-emissions-veto.yaml"), "-m", "compromise",
                              "-n", "500", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert {a["actor"] for a in data["actors"]} == {"DE", "UK"}
    # Germany (at most 8 years) always accepts the compromise's 7.4 years; the UK (at least
    # 7-8.5 years, mode 7.5) does only in the draws where its reservation sits below 7.4.
    accept = {a["actor"]: a["p_accept"] for a in data["actors"]}
    assert accept["DE"] == 1.0 and 0.05 < accept["UK"] < 0.5
    assert data["settlement"][0]["p_settlement"] == accept["UK"]
    # the smallest move that wins the UK over is also given in years (one decimal: 0.06 a point)
    import re

    m = re.search(r"about (\d+) points \((\d\.\d) years\) towards", data["answer"])
    assert m and abs(int(m.group(1)) * 0.06 - float(m.group(2))) <= 0.09  # both rounded


def test_tutorial_names_only_files_that_exist() -> None:
    text = (EXAMPLES.parent / "tutorial.md").read_text()
    for name in ("ec-car-emissions.yaml", "ec-car-emissions-veto.yaml"):
        assert f"docs/examples/{name}" in text and (EXAMPLES / name).exists()
