"""The command line: run, scenarios, validate, schema (output and exit codes)."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from parley.cli import app

runner = CliRunner()


def test_run_default_scenario_prints_every_part() -> None:
    result = runner.invoke(app, ["run", "--draws", "1000", "-m", "compromise", "-m", "median"])
    assert result.exit_code == 0, result.output
    for needle in (
        "minerals deal",
        "Answer",
        "P(settlement)",
        "P(accept) per veto player",
        "Territory",
        "analyst estimates",
        "seed",
    ):
        assert needle in result.output


def test_run_json_has_outcomes_for_each_model() -> None:
    result = runner.invoke(
        app, ["run", "--json", "--draws", "500", "--model", "compromise,median", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {r["model"] for r in data["outcomes"]} == {"compromise", "median"}
    assert data["provenance"]["seed"] == 3
    assert 0.0 <= data["settlement"][0]["p_settlement"] <= 1.0


def test_run_user_file(tiny_file) -> None:
    result = runner.invoke(app, ["run", str(tiny_file), "--draws", "100", "--json", "-m", "compromise"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # point forecast: weights A 2*.8=1.6 @20, B .6 @80, C .5 @50 -> (32+48+25)/2.7
    x = next(r for r in data["outcomes"] if r["issue"] == "x")
    assert abs(x["point"] - 105 / 2.7) < 1e-9


def test_bad_options_exit_2() -> None:
    assert runner.invoke(app, ["run", "--model", "astrology", "--draws", "10"]).exit_code == 2
    assert runner.invoke(app, ["run", "--rule", "maybe", "--draws", "10"]).exit_code == 2
    assert runner.invoke(app, ["run", "--param", "nonsense", "--draws", "10"]).exit_code == 2


def test_scenarios_and_validate_for_people(tiny_file, tmp_path) -> None:
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0 and "ukraine-2025-05" in result.stdout and "(default)" in result.stdout
    result = runner.invoke(app, ["validate", str(tiny_file)])
    text = " ".join(result.stdout.split())  # the console wraps long lines
    assert result.exit_code == 0
    assert "valid" in text and "3 actors, 2 issues, 5 stances" in text and "veto: A, B" in text
    from conftest import minimal, write_yaml

    data = minimal()
    data["settlement_test"] = False
    result = runner.invoke(app, ["validate", str(write_yaml(tmp_path / "outcomes.yaml", data))])
    assert result.exit_code == 0 and "outcomes only (no settlement test)" in " ".join(result.stdout.split())


def test_scenarios_lists_both_bundled() -> None:
    result = runner.invoke(app, ["scenarios", "--json"])
    assert result.exit_code == 0
    names = {r["name"] for r in json.loads(result.output)}
    assert {"ukraine-2025-05", "ukraine-2026-02"} <= names


def test_schema_is_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "stances" in schema["properties"]
    assert "Estimate" in schema["$defs"]


def test_bundled_scenarios_cite_sources_and_carry_uncertainty() -> None:
    import parley

    for name in ("ukraine-2025-05", "ukraine-2026-02"):
        s = parley.load(name)
        assert len(s.actors) >= 6 and len(s.issues) >= 5
        for st in s.stances:
            assert st.sources, f"{name}: stance {st.actor}/{st.issue} cites no source"
            assert st.position.is_uncertain and st.salience.is_uncertain
        ids = set(s.actor_ids)
        assert {"US", "UA", "RU", "EU", "CN"} <= ids


def test_run_on_a_file_without_veto_players_forecasts_outcomes_only() -> None:
    from pathlib import Path

    ktab = Path(__file__).parent / "data" / "ktab" / "SOE-Policy.csv"
    result = runner.invoke(app, ["run", str(ktab), "--format", "ktab", "--draws", "200", "--json",
                                 "-m", "compromise"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "settlement test is off" in data["answer"] and "no veto players" in data["answer"]
    # the answer states where the issue lands, as the outcome table has it (fixed inputs: one
    # run, so no band: median, band and point are that run)
    row = data["outcomes"][0]
    assert row["median"] == row["p05"] == row["p95"] == row["point"]
    assert f"Under the compromise model: {row['issue_name']}: {row['median']:.0f} on its " \
           "0–100 scale" in data["answer"] and "(no uncertain inputs: one run)" in data["answer"]
    assert data["settlement"][0]["draws"] == 1 and data["provenance"]["draws"] == 200
    assert data["settlement"][0]["p_settlement"] is None
    assert data["zone_of_agreement"] is None
    assert data["actors"] == []


def test_dynamic_models_report_rounds_and_how_they_ended() -> None:
    result = runner.invoke(app, ["run", "-m", "bdm", "--draws", "300"])
    assert result.exit_code == 0, result.output
    assert "rounds" in result.output and "of draws" in result.output
    data = json.loads(runner.invoke(app, ["run", "-m", "bdm", "--draws", "300", "--json"]).output)
    info = data["model_info"]["bdm"]
    assert 0.0 <= info["share_converged"] <= 1.0 and info["median_rounds"] >= 1


def test_unknown_field_inside_a_lever_change_lists_the_change_fields(tmp_path) -> None:
    from conftest import minimal, write_yaml

    data = minimal()
    data["levers"] = [{"id": "l1", "name": "L", "changes": [{"field": "position", "actors": ["A"],
                                                            "shift": 5, "colour": "red"}]}]
    path = write_yaml(tmp_path / "lever.yaml", data)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "colour" in result.output and "actors, issues" in result.output


def test_nothing_the_user_wrote_is_overwritten_without_force(tmp_path) -> None:
    from pathlib import Path

    ktab = Path(__file__).parent / "data" / "ktab" / "SOE-Policy.csv"
    target = tmp_path / "mine.yaml"
    target.write_text("my own notes\n")
    for args in (["import", "ktab", str(ktab), "-o", str(target)], ["schema", "-o", str(target)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "already exists" in result.output and "--force" in result.output
        assert target.read_text() == "my own notes\n"
    result = runner.invoke(app, ["import", "ktab", str(ktab), "-o", str(target), "--force"])
    assert result.exit_code == 0 and "settlement_test: false" in target.read_text()
    plot = tmp_path / "paths.png"
    plot.write_bytes(b"mine")
    result = runner.invoke(app, ["trajectory", "ukraine-2025-05", "-m", "bdm", "--plot", str(plot)])
    assert result.exit_code == 2 and plot.read_bytes() == b"mine"
    report = tmp_path / "report.html"
    report.write_text("mine")
    result = runner.invoke(app, ["report", "ukraine-2025-05", "-o", str(report), "--draws", "100"])
    assert result.exit_code == 2 and report.read_text() == "mine"


def test_bundled_headers_match_the_loaded_scenarios() -> None:
    import parley
    from parley.io import bundled

    for name in bundled.names():
        head = bundled.header(name)
        s = parley.load(name)
        assert head == {"name": name, "title": s.title, "as_of": s.as_of.isoformat()}


def test_pce_without_numba_says_how_to_get_the_compiled_engine(monkeypatch) -> None:
    from parley.cli import run_command

    monkeypatch.setattr(run_command, "_numba_installed", lambda: False)
    out = runner.invoke(app, ["run", "-m", "pce", "-n", "1000", "--param", "pce.engine=numpy"])
    assert out.exit_code == 0, out.output
    assert "`pip install numba`" in " ".join(out.stdout.split())


def test_a_negative_seed_is_refused_with_the_fix_everywhere() -> None:
    for args in (["run", "--seed", "-5", "-n", "10"],
                 ["compare", "ukraine-2025-05", "--seed", "-1", "-n", "10"],
                 ["sensitivity", "ukraine-2025-05", "--seed", "-1", "-n", "4"],
                 ["backtest", "deu", "--seed", "-1", "-m", "compromise"]):
        out = runner.invoke(app, args)
        assert out.exit_code == 2, (args, out.output)
        assert "the seed must be a whole number >= 0" in out.output and "Traceback" not in out.output


def test_scenarios_export_writes_the_bundled_file_byte_for_byte(tmp_path) -> None:
    from parley.io import bundled

    target = tmp_path / "x.yaml"
    r = runner.invoke(app, ["scenarios", "export", "ukraine-2025-05", "-o", str(target)])
    assert r.exit_code == 0, r.output
    assert target.read_bytes() == bundled.path("ukraine-2025-05").read_bytes()
    assert runner.invoke(app, ["validate", str(target)]).exit_code == 0
    # never over a file that exists, unless asked
    target.write_text("mine")
    r = runner.invoke(app, ["scenarios", "export", "ukraine-2025-05", "-o", str(target)])
    assert r.exit_code == 2 and "already exists" in r.output and target.read_text() == "mine"
    r = runner.invoke(app, ["scenarios", "export", "ukraine-2025-05", "-o", str(target), "--force"])
    assert r.exit_code == 0 and target.read_bytes() == bundled.path("ukraine-2025-05").read_bytes()
    r = runner.invoke(app, ["scenarios", "export", "atlantis", "-o", str(tmp_path / "y.yaml")])
    assert r.exit_code == 2 and "no bundled scenario 'atlantis'" in r.output
    assert not (tmp_path / "y.yaml").exists()
    # listing still works as before
    r = runner.invoke(app, ["scenarios", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["name"] == "ukraine-2025-05"


def test_help_shows_no_type_on_flags_and_a_file_for_plot() -> None:
    r = runner.invoke(app, ["run", "--help"], terminal_width=140)
    assert "<bool>" not in r.output and "--json" in r.output and "<int>" in r.output
    r = runner.invoke(app, ["trajectory", "--help"], terminal_width=140)
    assert re.search(r"--plot\s+FILE", r.output)
    r = runner.invoke(app, ["sensitivity", "--help"], terminal_width=140)
    assert re.search(r"--plot\s+FILE", r.output) and "<bool>" not in r.output
