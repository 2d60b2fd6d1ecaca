"""Bad scenario files get a message naming the file, the YAML path/line and the fix; exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import minimal, write_yaml
from parley.cli import app
from parley.core.errors import ParleyInputError
from parley.io.scenario_file import load_yaml_file

runner = CliRunner()


def mutate(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = minimal()
    fn(data)
    return data


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        node = d
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value

    return apply


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        node = d
        for p in path[:-1]:
            node = node[p]
        del node[path[-1]]

    return apply


# (case name, mutation, substrings that must appear in the message)
DATA_CASES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("missing title", _delete(["title"]), ["title", "missing"]),
    ("missing stance salience", _delete(["stances", 0, "salience"]), ["stances[0]", "salience", "missing"]),
    ("unknown top field", _set(["colour"], "blue"), ["unknown field `colour`"]),
    ("misspelt stance field", _set(["stances", 1, "posiiton"], 3), ["posiiton", "did you mean `position`"]),
    (
        "stance for unknown actor",
        _set(["stances", 0, "actor"], "Z"),
        ["stances[0].actor", "unknown actor 'Z'"],
    ),
    ("stance for unknown issue", _set(["stances", 0, "issue"], "q"), ["unknown issue 'q'"]),
    ("duplicate actor id", _set(["actors", 2, "id"], "A"), ["actors[2].id", "duplicate id 'A'"]),
    ("duplicate issue id", _set(["issues", 1, "id"], "x"), ["duplicate id 'x'"]),
    ("duplicate stance", lambda d: d["stances"].append(dict(d["stances"][2])), ["second stance"]),
    ("position 140", _set(["stances", 0, "position"], 140), ["stances[0].position", "0–100"]),
    ("salience -3", _set(["stances", 0, "salience"], -3), ["stances[0].salience", "0–100"]),
    ("capability 0", _set(["actors", 0, "capability"], 0), ["actors[0].capability", "> 0"]),
    (
        "capability negative range",
        _set(["actors", 1, "capability"], {"low": -1, "mode": 1, "high": 2}),
        ["actors[1].capability", "> 0"],
    ),
    ("NaN position", _set(["stances", 0, "position"], float("nan")), ["finite"]),
    ("inf salience", _set(["stances", 1, "salience"], float("inf")), ["finite"]),
    (
        "low > high",
        _set(["stances", 0, "position"], {"low": 30, "mode": 20, "high": 10}),
        ["low <= mode <= high"],
    ),
    ("negative sd", _set(["stances", 0, "position"], {"mean": 30, "sd": -2}), ["sd"]),
    ("bad uncertainty keys", _set(["stances", 0, "position"], {"min": 1, "max": 3}), ["low, mode, high"]),
    ("position as text", _set(["stances", 0, "position"], "fifty"), ["must be a number", "without quotes"]),
    ("veto as yes-string", _set(["actors", 0, "veto"], "yes"), ["true or false"]),
    ("id as number", _set(["actors", 0, "id"], 7), ["actors[0].id"]),
    ("id with spaces", _set(["actors", 0, "id"], "Actor A"), ["not a valid id"]),
    ("no veto actor", lambda d: [a.update(veto=False) for a in d["actors"]], ["veto: true"]),
    (
        "veto actor without reservation",
        _set(["actors", 2, "veto"], True),
        ["actors[2].veto", "no reservation"],
    ),
    (
        "reservation on wrong side",
        _set(["stances", 0, "reservation"], 5),
        ["stances[0].reservation", "far side"],
    ),
    (
        "reservation ranges overlap",
        _set(["stances", 0, "position"], {"low": 10, "mode": 20, "high": 70}),
        ["overlap"],
    ),
    (
        "issue without stances",
        lambda d: d["issues"].append({"id": "z", "name": "Z", "low": "a", "high": "b"}),
        ["no actor has a stance on issue 'z'"],
    ),
    ("unknown source id", _set(["stances", 0, "sources"], ["nope"]), ["source 'nope' is not defined"]),
    ("actors not a list", _set(["actors"], {"A": 1}), ["actors", "list"]),
    ("empty stances", _set(["stances"], []), ["stances", "at least one"]),
    ("bad date", _set(["as_of"], "last tuesday"), ["as_of", "YYYY-MM-DD"]),
    (
        "scale with equal ends",
        _set(["issues", 1, "scale"], {"unit": "k", "at_0": 5, "at_100": 5}),
        ["must differ"],
    ),
    (
        "position outside unit scale",
        lambda d: (
            d["issues"][1].update(scale={"unit": "thousand troops", "at_0": 1000, "at_100": 100}),
            [s.update(position=p) for s, p in zip(d["stances"][3:], (900, 1200), strict=True)],
        ),
        ["thousand troops", "outside the issue's scale"],
    ),
]


@pytest.mark.parametrize(("name", "fn", "needles"), DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data_is_explained(tmp_path: Path, name: str, fn, needles: list[str]) -> None:
    path = write_yaml(tmp_path / "bad.yaml", mutate(fn))
    with pytest.raises(ParleyInputError) as info:
        load_yaml_file(path)
    text = info.value.render()
    assert str(path) in text
    for needle in needles:
        assert needle in text, f"{name}: {needle!r} not in {text!r}"
    assert "Fix:" in text or "YAML" in text
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


RAW_CASES: list[tuple[str, bytes, list[str]]] = [
    ("empty file", b"", ["empty"]),
    ("whitespace only", b"   \n\n", ["empty"]),
    ("binary file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["binary"]),
    ("not utf-8", "title: caf\u00e9\n".encode("latin-1"), ["UTF-8"]),
    ("tab indentation", b"id: t\nactors:\n\t- id: A\n", ["tab"]),
    (
        "YAML bomb",
        b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
        ["aliases"],
    ),
    ("top level a list", b"- a\n- b\n", ["top level must be a mapping"]),
    ("unclosed bracket", b"id: [a, b\ntitle: x\n", ["YAML syntax error"]),
    ("duplicate key", b"id: a\nid: b\n", ["twice"]),
]


@pytest.mark.parametrize(("name", "raw", "needles"), RAW_CASES, ids=[c[0] for c in RAW_CASES])
def test_bad_files_are_explained(tmp_path: Path, name: str, raw: bytes, needles: list[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(raw)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, f"{name}: {needle!r} not in {result.output!r}"


def test_huge_file_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:
        fh.write(b"# " + b"x" * (50 * 1024 * 1024) + b"\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "limited to" in result.output


def test_line_numbers_point_at_the_value(tmp_path: Path) -> None:
    data = minimal()
    data["stances"][1]["position"] = 140
    path = write_yaml(tmp_path / "bad.yaml", data)
    with pytest.raises(ParleyInputError) as info:
        load_yaml_file(path)
    line = info.value.problems[0].line
    assert line is not None
    assert "140" in path.read_text().splitlines()[line - 1]


def test_country_code_no_is_a_string_not_false(tmp_path: Path) -> None:
    data = minimal()
    data["actors"][2]["id"] = "NO"
    data["stances"][2]["actor"] = "NO"
    path = tmp_path / "no.yaml"
    text = write_yaml(path, data).read_text().replace("'NO'", "NO")
    path.write_text(text)
    assert "id: NO\n" in text
    scenario = load_yaml_file(path)
    assert "NO" in scenario.actor_ids


def test_missing_file_and_unknown_bundled_name() -> None:
    result = runner.invoke(app, ["validate", "does-not-exist.yaml"])
    assert result.exit_code == 2 and "file not found" in result.output
    result = runner.invoke(app, ["run", "no-such-scenario"])
    assert result.exit_code == 2 and "bundled scenario" in result.output


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    data = minimal()
    data["stances"][0]["position"] = 140
    data["stances"][1]["salience"] = 400
    path = write_yaml(tmp_path / "bad.yaml", data)
    with pytest.raises(ParleyInputError) as info:
        load_yaml_file(path)
    assert len(info.value.problems) == 2


def test_valid_file_passes(tiny_file: Path) -> None:
    result = runner.invoke(app, ["validate", str(tiny_file)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_messages_are_printed_verbatim(tmp_path: Path) -> None:
    """Rich must not turn `:100:` into an emoji or eat `[brackets]` in messages."""
    data = minimal()
    data["stances"][0]["position"] = {"low": 30, "mode": 20, "high": 10}
    text = write_yaml(tmp_path / "bad.yaml", data).read_text()
    # pad so that the error sits on line 100
    path = tmp_path / "bad.yaml"
    path.write_text("#\n" * (100 - 1 - _line_of(text, "position:")) + text)
    result = runner.invoke(app, ["validate", str(path)])
    assert ":100:" in result.output, result.output
    assert "{low, mode, high}" in result.output or "low <= mode <= high" in result.output


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines()) if needle in line)


def test_outcome_only_scenarios_need_no_veto_player(tmp_path: Path) -> None:
    data = minimal()
    for a in data["actors"]:
        a["veto"] = False
    data["settlement_test"] = False
    s = load_yaml_file(write_yaml(tmp_path / "outcomes.yaml", data))
    assert not s.tests_settlement
    data["settlement_test"] = True
    with pytest.raises(ParleyInputError, match="settlement_test: false"):
        load_yaml_file(write_yaml(tmp_path / "needs_veto.yaml", data))
