"""KTAB scenario files (CSV with/without trailing commas, XML), their errors, and the CLI
commands `parley import ktab` and `parley trajectory`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from parley.cli import app
from parley.core.batch import point
from parley.core.errors import ParleyInputError
from parley.io.ktab import load_ktab, parse_csv, parse_xml, read_ktab
from parley.io.scenario_file import scenario_from_data
from parley.io.yaml_io import parse_yaml

DATA = Path(__file__).parent / "data" / "ktab"
runner = CliRunner()


def test_csv_and_xml_samples_agree() -> None:
    a = read_ktab(DATA / "dummyData_3Dim.csv")
    b = read_ktab(DATA / "dummyData_3Dim.xml")
    assert a.actors == b.actors and a.dims == b.dims == ["Pstn1", "Pstn2", "Pstn3"]
    assert a.position == b.position and a.salience == b.salience and a.capability == b.capability
    assert a.position[0] == [75.79, 6.37, 70.45]  # first actor row of the file
    assert a.capability[6] == 54.178


def test_trailing_commas_do_not_matter(tmp_path: Path) -> None:
    text = (DATA / "dummyData_3Dim.csv").read_text()
    stripped = "\n".join(line.rstrip().rstrip(",") for line in text.splitlines()) + "\n"
    padded = "\n".join(line.rstrip().rstrip(",") + ",,, " for line in text.splitlines()) + "\n"
    with_commas = parse_csv(text)
    for variant in (stripped, padded):
        other = parse_csv(variant)
        assert other.position == with_commas.position and other.salience == with_commas.salience


@pytest.mark.parametrize("name", sorted(p.stem for p in DATA.glob("*.csv")))
def test_every_sample_loads_as_a_scenario(name: str) -> None:
    s = load_ktab(DATA / f"{name}.csv")
    data = read_ktab(DATA / f"{name}.csv")
    b = point(s)
    assert b.position.shape == (1, len(data.actors), len(data.dims))
    np.testing.assert_allclose(b.position[0], data.position)
    np.testing.assert_allclose(b.salience[0], np.array(data.salience) / 100)
    np.testing.assert_allclose(b.capability[0], data.capability)
    assert not b.veto.any()


def test_header_names_become_issues() -> None:
    s = load_ktab(DATA / "SOE-Pol-Comp.csv")
    assert [i.id for i in s.issues] == ["Policy", "Competitive"]
    assert s.actor("XJ").name == "Xi Jinping"


def _problem_text(exc: pytest.ExceptionInfo[ParleyInputError]) -> str:
    return exc.value.render()


@pytest.mark.parametrize(
    ("text", "needle", "line"),
    [
        ("x,y,2,1,\nA,B,C,P,S\na1,d,10,50,40\n", "announces 2 actors", 1),
        ("x,y,1,1,\nA,B,C,P,S\na1,d,ten,50,40\n", "capability is not a number", 3),
        ("x,y,1,1,\nA,B,C,P,S\na1,d,10,50\n", "expected 5 values", 3),
        ("x,y,1,2,\nA,B,C,P,S,P,S\na1,d,10,50,60,50,60\n", "add up to 120", 3),
        ("x,y,1,1,\nA,B,C,P,S\na1,d,10,150,40\n", "must lie in 0–100", 3),
        ("x,y,1,1,\nA,B,C,P,S\na1,d,0,50,40\n", "capability must be > 0", 3),
        ("x,y,many,1,\nA,B,C,P,S\na1,d,1,50,40\n", "nActors", 1),
        ("just one line\n", "title row", None),
    ],
)
def test_malformed_csv_is_explained(text: str, needle: str, line: int | None) -> None:
    with pytest.raises(ParleyInputError) as exc:
        parse_csv(text, "bad.csv")
    assert needle in _problem_text(exc)
    if line is not None:
        assert exc.value.problems[0].line == line
    assert all(p.fix for p in exc.value.problems)


XML_HEAD = '<?xml version="1.0"?><Scenario><name>t</name><desc>d</desc><prngSeed>1</prngSeed>'
ACTOR = ("<Actor><name>{n}</name><description>x</description><capability>10</capability>"
         "<Position><dCoord>{p}</dCoord></Position><Salience><dSal>50</dSal></Salience></Actor>")


def test_xml_model_parameters_become_pce_params() -> None:
    actors = "".join(ACTOR.format(n=n, p=p) for n, p in (("a", 10), ("b", 60), ("c", 90)))
    params = ("<ModelParameters><VictoryProbModel>Square</VictoryProbModel><PCEModel>MarkovUniform"
              "</PCEModel><StateTransitions>Stochastic</StateTransitions><VotingRule>Proportional"
              "</VotingRule><BigRAdjust>Half</BigRAdjust><BigRRange>Max</BigRRange><ThirdPartyCommit>"
              "FullCommit</ThirdPartyCommit><InterVecBrgn>S1P1</InterVecBrgn><BargnModel>InitOnlyInterp"
              "</BargnModel></ModelParameters>")
    data = parse_xml(XML_HEAD + params + "<Dimensions><dName>D</dName></Dimensions><Actors>" + actors
                     + "</Actors></Scenario>")
    assert data.params == {"victory_model": "square", "pce_model": "markov_uniform", "stochastic": True,
                           "voting_rule": "prop", "big_r_adjust": "half", "big_r_range": "max",
                           "third_party": "full", "interpolation": "s1p1"}
    assert data.dims == ["D"] and data.position == [[10.0], [60.0], [90.0]]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("<Actors>" + ACTOR.format(n="a", p=10), "not well-formed"),
        ("<ModelParameters><InterVecBrgn>S2PMax</InterVecBrgn></ModelParameters><Actors>"
         + ACTOR.format(n="a", p=10) + "</Actors></Scenario>", "not supported"),
        ("<Actors>" + ACTOR.format(n="a", p=10) + "</Actors><IdealAdjustment><iaPair><adjustingIdeal>a"
         "</adjustingIdeal><referencePos>a</referencePos><adjust>0.5</adjust></iaPair></IdealAdjustment>"
         "</Scenario>", "ideal adjustment"),
        ("<Actors>" + ACTOR.format(n="a", p=140) + "</Actors></Scenario>", "0–100"),
        ("<Actors></Actors></Scenario>", "no <Actor>"),
    ],
)
def test_malformed_xml_is_explained(body: str, needle: str) -> None:
    with pytest.raises(ParleyInputError) as exc:
        parse_xml(XML_HEAD + body, "bad.xml")
    assert needle in _problem_text(exc)


# --- CLI ---------------------------------------------------------------------------------------
def test_import_writes_yaml_that_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "soe.yaml"
    res = runner.invoke(app, ["import", "ktab", str(DATA / "SOE-Pol-Comp.csv"), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["actors"] == 13
    text = out.read_text()
    assert "veto: true" in text  # the header comment tells what to add for a settlement test
    data, _ = parse_yaml(text, str(out))
    assert data["settlement_test"] is False  # loads as it is: outcomes only
    s = scenario_from_data(data)
    assert not s.tests_settlement
    # mark one veto actor with a reservation, as the header asks: then it validates with the test
    data["actors"][0]["veto"] = True
    first = next(st for st in data["stances"] if st["actor"] == data["actors"][0]["id"])
    first["reservation"] = first["position"]
    del data["settlement_test"]
    assert scenario_from_data(data).tests_settlement
    direct = point(load_ktab(DATA / "SOE-Pol-Comp.csv"))
    np.testing.assert_allclose(point(s).position, direct.position)
    np.testing.assert_allclose(point(s).salience, direct.salience)


def test_import_of_a_bad_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y,1,1,\nA,B,C,P,S\na1,d,10,abc,40\n")
    res = runner.invoke(app, ["import", "ktab", str(bad)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output


def test_trajectory_json_for_bdm_and_pce() -> None:
    for model in ("bdm", "pce"):
        res = runner.invoke(app, ["trajectory", str(DATA / "dummyData_3Dim.csv"), "--model", model, "--json"])
        assert res.exit_code == 0, res.output
        data = json.loads(res.output)
        assert data["model"] == model and data["issues"] == ["Pstn1", "Pstn2", "Pstn3"]
        path = data["trajectory"]["Pstn1"]["SActor-00"]
        assert path[0] == pytest.approx(75.79)
        assert len(path) == (data["rounds"] + 1 if model == "pce" else len(path))
    assert "challenges" in json.loads(
        runner.invoke(app, ["trajectory", str(DATA / "dummyData_3Dim.csv"), "--json"]).output)


def test_trajectory_explain_and_plot(tmp_path: Path) -> None:
    png, svg = tmp_path / "t.png", tmp_path / "t.svg"
    res = runner.invoke(app, ["trajectory", str(DATA / "SOE-Policy.csv"), "--model", "bdm", "--explain",
                              "--plot", str(png)])
    assert res.exit_code == 0, res.output
    assert "round 1" in res.output and png.stat().st_size > 1000
    res = runner.invoke(app, ["trajectory", str(DATA / "dummyData_3Dim.xml"), "--model", "pce", "--explain",
                              "--plot", str(svg)])
    assert res.exit_code == 0, res.output
    assert "turn 1" in res.output and svg.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    "args",
    [["--model", "median"], ["--plot", "out.gif"], ["--param", "rounds"], ["--param", "nonsense=1"]],
)
def test_trajectory_bad_options_exit_2(args: list[str]) -> None:
    res = runner.invoke(app, ["trajectory", str(DATA / "dummyData_3Dim.csv"), *args])
    assert res.exit_code == 2, res.output


def test_a_title_too_long_for_the_format_is_an_error_naming_the_file(tmp_path: Path) -> None:
    # The importer builds its Scenario through the format's own rules, so a scenario title
    # longer than a YAML file may have is refused with the KTAB file named.
    text = (DATA / "dummyData_3Dim.csv").read_text()
    first, rest = text.split("\n", 1)
    bad = tmp_path / "long.csv"
    bad.write_text("T" * 5000 + first[first.index(","):] + "\n" + rest)
    with pytest.raises(ParleyInputError) as err:
        load_ktab(bad)
    assert "long.csv" in err.value.render() and "title" in err.value.render()


def test_import_with_as_of_gives_the_same_scenario_wherever_the_file_came_from(tmp_path: Path) -> None:
    # The file's modification date differs between checkouts; --as-of pins the scenario.
    import os

    outs = []
    for i, mtime in enumerate((1_000_000_000, 1_700_000_000)):
        copy = tmp_path / f"c{i}" / "SOE-Policy.csv"
        copy.parent.mkdir()
        copy.write_bytes((DATA / "SOE-Policy.csv").read_bytes())
        os.utime(copy, (mtime, mtime))
        out = tmp_path / f"s{i}.yaml"
        r = runner.invoke(app, ["import", "ktab", str(copy), "-o", str(out), "--as-of", "2014-06-30"])
        assert r.exit_code == 0, r.output
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    assert "as_of: '2014-06-30'" in outs[0] or "as_of: 2014-06-30" in outs[0]
    bad = runner.invoke(app, ["import", "ktab", str(DATA / "SOE-Policy.csv"), "--as-of", "June"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
