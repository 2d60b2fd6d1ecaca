"""Broken and hostile input never crashes, hangs or eats the machine (issue 19).

Each test is a minimised reproducer of a defect found by trying parley as a hostile user would
(and by scripts/fuzz_campaign.py); each must end in a clear error naming the file, the line
where known, and the fix: never a traceback, never minutes of work.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parley.cli import app
from parley.core.errors import ParleyInputError
from parley.io.loading import load
from parley.io.output import check_target, write_output
from parley.io.scenario_file import scenario_from_data

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "docs/examples/ec-car-emissions.yaml").read_text(encoding="utf-8")
KTAB = (ROOT / "tests/data/ktab/dummyData_3Dim.csv").read_text(encoding="utf-8")
KTAB_XML = (ROOT / "tests/data/ktab/dummyData_3Dim.xml").read_text(encoding="utf-8-sig")
DECIDE = (ROOT / "tests/data/decide/decide_small.csv").read_text(encoding="utf-8")
runner = CliRunner()


def refused(tmp_path: Path, text: str, name: str = "bad.yaml", fmt: str = "auto") -> str:
    """The message `load` gives for `text`; fails the test on acceptance or on any traceback."""
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(ParleyInputError) as info:
        load(path, format=fmt)
    return info.value.render()


# --- parser exceptions become clear errors, with the line ------------------------------------------
@pytest.mark.parametrize(("old", "new", "words"), [
    ("capability: 0.08", "capability: " + "9" * 5000, "digits"),  # int over Python's 4,300 digits
    ("capability: 0.08", "capability: " + "9" * 400, "too large"),  # int too large for a float
    ("capability: 0.08", "capability: 1.7e308", "too large"),  # gave inf/NaN outcomes, exit 0
    ("as_of: 1989-06-01", "as_of: 2025-02-30", "not a valid date"),
    ("capability: 0.08", "capability: !!float abc", "tagged !!float"),
    ("at_0: 4,", "at_0: 1e20,", "ordinary size"),  # passed validate, ZeroDivisionError in run
    ("at_0: 4, at_100: 10", "at_0: -1e308, at_100: 1e308", "ordinary size"),  # OverflowError
    ("at_0: 4, at_100: 10", "at_0: 1e14, at_100: 100000000000001", "too close"),
    ("title: EC emission standards for medium-sized cars", "title: &t EC",  # scalar anchor
     "anchors and aliases"),
    ("capability: 0.08", "capability: !!python/object:os.system x", "not supported"),
])
def test_extreme_values_are_refused_with_their_line(tmp_path: Path, old: str, new: str, words: str) -> None:
    assert old in EXAMPLE
    message = refused(tmp_path, EXAMPLE.replace(old, new, 1))
    assert words in message and "Fix:" in message, message
    assert "bad.yaml:" in message and "Traceback" not in message


def test_validate_and_run_agree_on_extreme_numbers(tmp_path: Path) -> None:
    """What `validate` accepts, `run` runs: both refuse (exit 2) with the same message."""
    path = tmp_path / "s.yaml"
    path.write_text(EXAMPLE.replace("at_0: 4,", "at_0: 1e20,"), encoding="utf-8")
    for args in (["validate", str(path)], ["run", str(path), "-n", "50", "-m", "compromise"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "ordinary size" in result.output, result.output


def test_deep_nesting_is_a_clear_error(tmp_path: Path) -> None:
    message = refused(tmp_path, "a: " + "[" * 400 + "]" * 400 + "\n")  # 804 bytes: RecursionError
    assert "nested more than" in message and ":1:" in message


def test_many_errors_are_capped_and_fast(tmp_path: Path) -> None:
    """Multi-MB YAML of one repeated line took 16–113 s and printed 50,000 lines."""
    line = "  - {actor: NL, issue: nowhere, position: 4, salience: 80}\n"
    text = EXAMPLE.replace("stances:\n", "stances:\n" + line * 25_000)  # 1.5 MB
    start = time.perf_counter()
    message = refused(tmp_path, text)
    assert time.perf_counter() - start < 10
    assert len(message.splitlines()) <= 51 and "more problem(s) not shown" in message


@pytest.mark.parametrize(("text", "name", "fmt", "words"), [
    (KTAB.replace("SActor-00", "x" * 140_000, 1), "k.csv", "ktab", "longer than 131,072"),
    (KTAB.replace("Random Spatial Actor", "Rand\rom", 1), "k.csv", "ktab", "carriage return"),
    (KTAB_XML.replace('encoding="UTF-8"', 'encoding="x-bogus"'), "k.xml", "ktab", "encoding"),
    ("#A;" + "a" * 200_000 + "\n" + DECIDE, "d.csv", "decide", "longer than 131,072"),
    ("#A;x" + '"' * 5_000 + "\n" + DECIDE, "d.csv", "decide", "row"),
])
def test_csv_and_xml_breakage_is_a_clear_error(tmp_path: Path, text: str, name: str, fmt: str,
                                               words: str) -> None:
    message = refused(tmp_path, text, name, fmt)
    assert words in message and "Fix:" in message, message


def test_decide_import_of_an_xml_file_says_so_once(tmp_path: Path) -> None:
    """It printed 184 'unknown row type' errors (issue 18)."""
    message = refused(tmp_path, KTAB_XML, "k.xml", "decide")
    assert len(message.splitlines()) == 1
    assert "not a Decide input file" in message and "parley import ktab" in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_only_regular_files_are_read(tmp_path: Path) -> None:
    """/dev/zero ended in MemoryError; a FIFO blocked forever."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero"), tmp_path):
        if not path.exists():
            continue
        with pytest.raises(ParleyInputError) as info:
            load(path)
        assert "not a regular file" in str(info.value) or "directory" in str(info.value)


# --- limits ------------------------------------------------------------------------------------------
def large(actors: int, issues: int = 5) -> dict:
    """A valid scenario with a reservation on every stance (the cross-field checks run in full)."""
    stances = []
    for a in range(actors):
        for k in range(issues):
            low = (a + k) % 2 == 0
            pos = (10 if low else 60) + (a * 37 + k * 11) % 30
            stances.append({"actor": f"a{a}", "issue": f"i{k}", "position": pos,
                            "salience": 10 + (a + k) % 90, "reservation": pos + 5 if low else pos - 5})
    return {"id": "large", "title": "Large", "as_of": "2025-01-01", "question": "?",
            "actors": [{"id": f"a{a}", "name": f"A{a}", "capability": 1 + a % 7, "veto": a % 10 == 0}
                       for a in range(actors)],
            "issues": [{"id": f"i{k}", "name": f"I{k}", "low": "0", "high": "100"}
                       for k in range(issues)],
            "stances": stances}


def test_1000_actors_validate_in_under_a_second() -> None:
    """`_reservation_sides` was stances² × actors: 47 s for 1,000 actors."""
    data = large(1000)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        scenario_from_data(data)
        best = min(best, time.perf_counter() - start)
    assert best < 1.0, best


def test_too_many_actors_are_refused_before_building_anything(tmp_path: Path) -> None:
    """A 770 kB KTAB XML with 2,006 actors drove `parley run` to 13.8 GB."""
    actor = ("<Actor><name>A{n}</name><description>d</description><capability>10</capability>"
             "<Position><dCoord>50</dCoord></Position><Salience><dSal>50</dSal></Salience></Actor>")
    xml = ("<Scenario><name>big</name><desc>d</desc><prngSeed>1</prngSeed><Dimensions>"
           "<dName>x</dName></Dimensions><Actors>"
           + "".join(actor.format(n=n) for n in range(2006)) + "</Actors></Scenario>")
    message = refused(tmp_path, xml, "big.xml", "ktab")
    assert "2,006 actors" in message and "at most 1,000" in message


def test_a_run_too_large_for_memory_is_refused_with_its_estimate(monkeypatch) -> None:
    from parley.analysis.forecast import forecast

    monkeypatch.setenv("PARLEY_MAX_MEMORY_MB", "100")
    s = scenario_from_data(large(50, 2))
    with pytest.raises(ParleyInputError) as info:
        forecast(s, ["compromise"], draws=100_000)
    assert "GB" in str(info.value) and "draws" in str(info.value)


def test_a_1000_actor_nash_run_is_refused_before_allocating(monkeypatch) -> None:
    """nash (and the settlement test's zone, which runs it) needs memory growing with the
    square of the actors: about 140 GB for 1,000 actors at 10,000 draws."""
    from parley.analysis.forecast import forecast
    from parley.core.sizing import estimate_bytes

    monkeypatch.setenv("PARLEY_MAX_MEMORY_MB", "16000")
    assert estimate_bytes(200, 2, 500, ["nash"]) == pytest.approx(677e6, rel=0.05)  # measured
    s = scenario_from_data(large(1000, 2))
    start = time.perf_counter()
    with pytest.raises(ParleyInputError) as info:
        forecast(s, ["compromise"], draws=10_000)  # the settlement test's zone runs nash
    assert time.perf_counter() - start < 2
    assert "GB" in str(info.value) and "PARLEY_MAX_MEMORY_MB" in str(info.value)


def test_an_issue_nobody_cares_about_is_refused(tmp_path: Path) -> None:
    """A Decide file with zero salience on an issue silently fell back to the plain mean."""
    text = "#A;a;A\n#A;b;B\n#P;x;X\n#M;x;0\n#M;x;1\n#D;a;x;0.2;0;1\n#D;b;x;0.8;0;2\n"
    message = refused(tmp_path, text, "d.csv", "decide")
    assert "salience 0" in message


# --- rich output ---------------------------------------------------------------------------------------
def markup_scenario(tmp_path: Path) -> Path:
    title = "title: EC emission standards for medium-sized cars"
    text = (EXAMPLE.replace(title, 'title: "EC [/] [bold]cars"')
            .replace("name: Netherlands", 'name: "Nether[/]lands"')
            .replace("low: 4 years", 'low: "4 [/]years"')
            .replace("unit: years", 'unit: "ye[/]ars"')
            .replace("  Positions, saliences", "  [/]Positions, saliences"))
    folder = tmp_path / "odd["  # the path then reads ".../odd[/s[bold].yaml": a closing tag
    folder.mkdir()
    path = folder / "s[bold].yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("args", [["validate"], ["run", "-n", "50"], ["compare", "-n", "50"],
                                  ["trajectory"], ["exchanges"]])
def test_user_text_with_rich_markup_prints_literally(tmp_path: Path, args: list[str]) -> None:
    """`[/]` in a title, actor name, anchor, unit, disclaimer or path crashed these commands."""
    path = markup_scenario(tmp_path)
    result = runner.invoke(app, [args[0], str(path), *args[1:]])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    expected = "odd[/s[bold].yaml" if args[0] == "validate" else "EC [/] [bold]cars"
    assert expected in result.output.replace("\n", ""), result.output


# --- output files -------------------------------------------------------------------------------------
def test_write_output_replaces_only_regular_files(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    with pytest.raises(ParleyInputError, match="directory"):
        write_output(folder, "x", force=True)
    if Path("/dev/null").exists():
        with pytest.raises(ParleyInputError, match="device"):
            check_target("/dev/null", force=True)
    assert list(tmp_path.iterdir()) == [folder] and not list(folder.iterdir())  # no temp files


def test_write_output_never_follows_a_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "out.yaml"
    link.symlink_to(tmp_path / "elsewhere.yaml")
    with pytest.raises(ParleyInputError, match="symlink"):
        write_output(link, "x", force=False)
    write_output(link, "x", force=True)  # with --force the link itself is replaced
    assert not link.is_symlink() and link.read_text() == "x"
    assert not (tmp_path / "elsewhere.yaml").exists()


def test_write_output_uses_the_usual_file_mode(tmp_path: Path) -> None:
    """`parley draft -o` wrote files with mode 0600 (tempfile.mkstemp)."""
    old = os.umask(0o022)
    try:
        write_output(tmp_path / "a.yaml", "x", force=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.yaml").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]


def test_draft_output_onto_a_directory_is_refused(tmp_path: Path) -> None:
    """`parley draft -o DIR --force` crashed and left a temp file behind."""
    article = ROOT / "tests/data/articles/peace_talks.txt"
    target = tmp_path / "out"
    target.mkdir()
    result = runner.invoke(app, ["draft", str(article), "--rules", "-o", str(target), "--force"])
    assert result.exit_code == 2 and "directory" in result.output, result.output
    assert list(target.iterdir()) == [] and list(tmp_path.iterdir()) == [target]


def test_draft_bounds_its_inputs(tmp_path: Path) -> None:
    """A 2 MB article or a 20,000-entry alias file kept `parley draft` busy for minutes."""
    article = tmp_path / "long.txt"
    article.write_text("The parties met. " * 7000, encoding="utf-8")  # 119,000 characters
    result = runner.invoke(app, ["draft", str(article), "--rules"])
    assert result.exit_code == 2 and "100,000" in result.output, result.output
    aliases = tmp_path / "aliases.yaml"
    aliases.write_text("actors:\n" + "".join(f"  - {{id: X{i}, name: N{i}}}\n" for i in range(2500)))
    start = time.perf_counter()
    result = runner.invoke(app, ["draft", str(ROOT / "tests/data/articles/peace_talks.txt"),
                                 "--rules", "--aliases", str(aliases)])
    assert result.exit_code == 2 and "2,000 actors" in result.output, result.output
    assert time.perf_counter() - start < 10


# --- imported files: as_of --------------------------------------------------------------------------------
def test_imported_as_of_is_stable_and_stated(tmp_path: Path) -> None:
    """KTAB/Decide files took as_of from the file's modification time (issue 18, 19)."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(KTAB, encoding="utf-8")
    b.write_text(KTAB, encoding="utf-8")
    os.utime(b, (0, 0))
    sa, sb = load(a, format="ktab"), load(b, format="ktab")
    assert sa.as_of == sb.as_of and "placeholder" in sa.description
    dated = tmp_path / "c.csv"
    dated.write_text(KTAB.replace("DummyData_3Dim ", "Talks 2014-06-30", 1), encoding="utf-8")
    sc = load(dated, format="ktab")
    assert sc.as_of.isoformat() == "2014-06-30" and "written in the file" in sc.description


# --- JSON ------------------------------------------------------------------------------------------------
def test_forecast_json_has_no_nan() -> None:
    from parley.analysis.forecast import forecast

    fc = forecast(load(ROOT / "docs/examples/ec-car-emissions-veto.yaml"), ["nash", "median"],
                  draws=64)
    json.dumps(fc.to_dict(), allow_nan=False)


def test_import_says_where_as_of_comes_from(tmp_path: Path) -> None:
    """Imports stamped as_of without saying so (issue 18)."""
    src = tmp_path / "k.csv"
    src.write_text(KTAB, encoding="utf-8")
    result = runner.invoke(app, ["import", "ktab", str(src), "-o", str(tmp_path / "k.yaml")])
    assert result.exit_code == 0 and "placeholder" in result.output, result.output
    text = (tmp_path / "k.yaml").read_text(encoding="utf-8")
    assert "# The file gives no date: as_of 2000-01-01 is a placeholder" in text
    given = runner.invoke(app, ["import", "ktab", str(src), "--as-of", "2014-06-30"])
    assert "as_of 2014-06-30 was given with `--as-of`" in given.output
    assert "placeholder" not in given.output
