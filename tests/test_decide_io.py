"""Reading Decide's input format: delimiters, quotes, scales, missing stances, and errors that
name the row. Shipped tests use small files written for parley (tests/data/decide); Decide's
own files (GPL) are only read where ../shared is present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import parley
from parley.core.batch import point
from parley.core.errors import ParleyInputError
from parley.core.scenario import check
from parley.io.decide import load_decide, parse_decide, sniff_delimiter

DATA = Path(__file__).parent / "data" / "decide"


def test_small_file_semicolons_and_double_quotes() -> None:
    s = load_decide(DATA / "decide_small.csv")
    assert [(a.id, a.name, a.capability.mode) for a in s.actors] == [
        ("North", "Northern League", 0.8), ("South_bloc", "Southern Bloc", 1.0),
        ("Farmers", "Farmers union", 0.3)]
    levy, dam = s.issues
    assert (levy.id, levy.name, levy.low, levy.high) == (
        "levy", "Water levy", "half a euro per m3", "seven euro per m3")
    assert (levy.scale.at_0, levy.scale.at_100) == (0.5, 7.0)
    assert dam.scale is None and (dam.low, dam.high) == ("no dam", "full height")
    stance = s.stance("North", "levy")
    assert stance.position.mode == 6 and stance.salience.mode == pytest.approx(90)
    assert s.stance("Farmers", "levy") is None  # no #D row: not engaged


def test_tab_and_single_quotes_give_the_same_scenario() -> None:
    a = load_decide(DATA / "decide_small.csv")
    b = load_decide(DATA / "decide_small_tab.txt")
    assert a.actors == b.actors and a.issues == b.issues
    assert [(x.actor, x.issue, x.position, x.salience) for x in a.stances] == [
        (x.actor, x.issue, x.position, x.salience) for x in b.stances]


def test_batch_rescales_positions_to_0_100() -> None:
    b = point(load_decide(DATA / "decide_small.csv"))
    assert b.position[0, 0, 0] == pytest.approx((6 - 0.5) / 6.5 * 100)
    assert b.salience[0, 1, 1] == pytest.approx(0.8)
    assert b.engaged.tolist() == [[True, True], [True, True], [False, True]]
    assert not b.veto.any()


def test_imported_scenario_meets_every_rule_and_forecasts_outcomes_only() -> None:
    s = load_decide(DATA / "decide_small.csv")
    assert check(s) == []
    assert s.settlement_test is False and not s.tests_settlement


def test_runs_through_the_forecast_api() -> None:
    s = parley.load(str(DATA / "decide_small.csv"), format="decide")
    f = parley.forecast(s, model="exchange", draws=1, seed=0)
    assert np.isfinite(f.outcomes()["mean"]).all()


def test_errors_name_every_bad_row() -> None:
    with pytest.raises(ParleyInputError) as err:
        load_decide(DATA / "decide_small_errors.csv")
    found = {(p.line, p.message.split(" ")[0]) for p in err.value.problems}
    assert {line for line, _ in found} == {7, 8, 9, 10}
    text = err.value.render()
    assert "decide_small_errors.csv:7" in text and "'West'" in text
    assert "salience 1.4 lies outside 0–1" in text
    assert "position 'forty' is not a number" in text
    assert "position 120 lies outside the scale of issue 'levy' (0 to 100)" in text
    assert all(p.fix for p in err.value.problems)


def bad(text: str) -> str:
    with pytest.raises(ParleyInputError) as err:
        parse_decide(text, "f.csv")
    return err.value.render()


GOOD = "#A;a;A\n#A;b;B\n#P;x;X\n#M;x;0\n#M;x;100\n#D;a;x;10;0.5;1\n#D;b;x;90;0.5;1\n"


def test_good_minimal_text() -> None:
    s = parse_decide(GOOD)
    assert [a.id for a in s.actors] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "no #A rows"),
        (GOOD + "#X;oops\n", "f.csv:8: row: unknown row type '#X'"),
        (GOOD + "#D;a;x;10\n", "f.csv:8: #D row: #D row has 4 fields"),
        ("#A;a;A\n#M;x;0\n", "f.csv:2: #M row: scale point for issue 'x'"),
        (GOOD.replace("#M;x;100\n", ""), "f.csv:3: #P row: issue 'x' needs two #M rows"),
        (GOOD.replace("#D;b;x;90;0.5;1", "#D;b;x;90;0.5;0"), "f.csv:7: #D row: power 0 must be > 0"),
        (GOOD + "#P;y;Y\n#M;y;0\n#M;y;1\n#D;a;y;1;0.5;0.7\n#D;b;y;0;0.5;1\n",
         "f.csv:11: #D row: power of 'a' is 0.7 here but 1 on row 6"),
        (GOOD + "#A;a;again\n", "f.csv:8: #A row: actor 'a' is defined twice (first on row 1)"),
        (GOOD + "#A;c;C\n", "f.csv:8: #A row: actor 'c' has no #D rows"),
        (GOOD + "#D;a;z;1;0.5;1\n", "f.csv:8: #D row: stance on issue 'z', which no #P row defines"),
    ],
)
def test_malformed_text(text: str, expected: str) -> None:
    assert expected in bad(text)


def test_decimal_commas_and_comma_delimiter() -> None:
    s = parse_decide(GOOD.replace("0.5;1", "0,5;1"))
    assert s.stances[0].salience.mode == pytest.approx(50)
    s = parse_decide(GOOD.replace(";", ","))
    assert s.stances[0].salience.mode == pytest.approx(50)
    assert sniff_delimiter("#A\tx\ty\n#P\tz\tw\n") == "\t"


def test_ids_are_made_valid_and_unique() -> None:
    text = ('#A;"EU (incl Norway)";EU\n#A;"EU incl Norway";EU2\n#A;"77";G77\n#P;x;X\n#M;x;0\n'
            '#M;x;100\n#D;"EU (incl Norway)";x;0;0.5;1\n#D;"EU incl Norway";x;50;0.5;1\n'
            '#D;"77";x;100;0.5;1\n')
    s = parse_decide(text)
    assert [a.id for a in s.actors] == ["EU_incl_Norway", "EU_incl_Norway_2", "actor_77"]
    assert s.actors[0].name == "EU"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ParleyInputError, match="file not found"):
        load_decide(tmp_path / "nope.csv")


# --- Decide's own files (GPL-3.0; not shipped) ------------------------------------------------
def _shared() -> Path | None:
    here = Path(__file__).resolve()
    for cand in (os.environ.get("PARLEY_SHARED"), here.parents[2] / "shared", Path("/work/shared")):
        if cand and (Path(cand) / "data" / "decide").is_dir():
            return Path(cand) / "data" / "decide"
    return None


SHARED = _shared()


@pytest.mark.skipif(SHARED is None, reason="Decide's inputs (GPL) are not shipped; needs ../shared")
@pytest.mark.parametrize(("name", "actors", "issues", "stances"), [
    ("sample_data.txt", 10, 6, 60), ("copenhagen.csv", 11, 7, 75), ("cop21.csv", 15, 13, 181)])
def test_decides_own_files(name: str, actors: int, issues: int, stances: int) -> None:
    s = load_decide(SHARED / name)
    assert (len(s.actors), len(s.issues), len(s.stances)) == (actors, issues, stances)
    if name == "sample_data.txt":
        toll = s.issue("tol-hoogte")
        assert (toll.scale.at_0, toll.scale.at_100) == (0.5, 7.0)
    if name == "copenhagen.csv":
        assert s.actor("EU_incl_Norway").name == "EU (incl Norway)"
        assert s.stance("Russia", "Commitments") is None


# --- `parley import decide` ---------------------------------------------------------------------
def cli(*args: str):
    from typer.testing import CliRunner

    from parley.cli import app

    return CliRunner().invoke(app, list(args))


def test_import_writes_yaml_that_reads_back(tmp_path: Path) -> None:
    from parley.io.yaml_io import parse_yaml

    out = tmp_path / "s.yaml"
    result = cli("import", "decide", str(DATA / "decide_small.csv"), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("# Converted from the Decide file decide_small.csv")
    data, _ = parse_yaml(text, str(out))
    original = load_decide(DATA / "decide_small.csv")
    assert data["actors"][1] == {"id": "South_bloc", "name": "Southern Bloc", "capability": 1}
    assert len(data["stances"]) == len(original.stances)
    assert data["issues"][0]["scale"] == {"unit": "on Decide's scale", "at_0": 0.5, "at_100": 7}


def test_import_of_a_malformed_file_exits_2() -> None:
    result = cli("import", "decide", str(DATA / "decide_small_errors.csv"))
    assert result.exit_code == 2
    assert "decide_small_errors.csv:8" in result.output and "Traceback" not in result.output


# --- round trip: any well-formed file, any delimiter and quoting ---------------------------------

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC XYZ()-_.0123456789", min_size=1,
                max_size=12).map(str.strip).filter(lambda v: v != "")


@settings(max_examples=30, deadline=None)
@given(
    actors=st.lists(NAMES, min_size=1, max_size=4, unique=True),
    issues=st.lists(NAMES, min_size=1, max_size=3, unique=True),
    delimiter=st.sampled_from([";", "\t", ","]),
    quote=st.sampled_from(["", "'", '"']),
    data=st.data(),
)
def test_round_trip(actors, issues, delimiter, quote, data) -> None:
    def row(*cells: object) -> str:
        return delimiter.join(f"{quote}{c}{quote}" if isinstance(c, str) else repr(c)
                              for c in cells)

    bounds = {i: sorted(data.draw(st.lists(st.integers(-50, 150), min_size=2, max_size=2,
                                           unique=True))) for i in issues}
    power = {a: data.draw(st.floats(0.01, 1)) for a in actors}
    lines = [row("#A", a, a, "") for a in actors]
    stances = []
    for i in issues:
        lines += [row("#P", i, i, ""), row("#M", i, float(bounds[i][0]), "lo"),
                  row("#M", i, float(bounds[i][1]), "hi")]
    for a in actors:
        for i in issues:
            x = data.draw(st.floats(bounds[i][0], bounds[i][1]))
            # someone must care about each issue (all-zero salience is refused)
            s = data.draw(st.floats(0.01 if a == actors[0] else 0, 1))
            stances.append((a, i, x, s))
            lines.append(row("#D", a, i, x, s, power[a]))
    sc = parse_decide("\n".join(lines) + "\n")
    assert [a.name for a in sc.actors] == actors
    assert [x.name for x in sc.issues] == issues
    assert len({a.id for a in sc.actors}) == len(actors)
    b = point(sc)
    for (a, i, x, s), st_ in zip(stances, sc.stances, strict=True):
        assert st_.position.mode == pytest.approx(x)
        assert st_.salience.mode == pytest.approx(s * 100)
        lo, hi = bounds[i]
        ia, ii = actors.index(a), issues.index(i)
        assert b.position[0, ia, ii] == pytest.approx((x - lo) / (hi - lo) * 100, abs=1e-9)
        assert b.capability[0, ia] == pytest.approx(power[a])
