"""The runs registry: recording from the library and the CLI, concurrency, crashes, rerun, diff."""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import minimal
from parley.analysis.forecast import forecast
from parley.cli import app
from parley.io.scenario_file import scenario_from_data
from parley.store import runs

runner = CliRunner()


def tiny(salience_b_x: float = 60, uncertain: bool = False):
    data = minimal()
    data["stances"][1]["salience"] = salience_b_x
    if uncertain:  # Monte Carlo draws are run (without uncertain inputs a model runs once)
        data["stances"][0]["position"] = {"low": 10, "mode": 20, "high": 30}
    return scenario_from_data(data)


def integrity(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def test_library_forecast_is_recorded_with_everything_needed_to_reproduce_it(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    s = tiny()
    with runs.recording(db):
        fc = forecast(s, "compromise", draws=300, seed=7, params={"compromise": {}})
    reg = runs.Registry(db)
    (row,) = reg.list()
    assert (row.status, row.source, row.models) == ("ok", "library", ["compromise"])
    assert (row.draws, row.seed) == (300, 7)
    full = reg.get(row.id)
    assert full.scenario_hash == s.content_hash()
    assert full.scenario() == s  # the scenario itself, not only its hash
    assert full.results["settlement"][0]["p_settlement"] == pytest.approx(fc.settlement().p_settlement[0])
    assert full.finished is not None and full.seconds is not None and full.seconds >= 0
    assert runs.last_id() == row.id
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_a_failing_model_leaves_the_run_marked_failed(tmp_path: Path, monkeypatch) -> None:
    fmod = sys.modules["parley.analysis.forecast"]  # the package re-exports the function under this name

    def boom(*args, **kwargs):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(fmod, "simulate", boom)
    with runs.recording(tmp_path / "r.sqlite"), pytest.raises(RuntimeError):
        forecast(tiny(uncertain=True), "compromise", draws=10)
    (row,) = runs.Registry(tmp_path / "r.sqlite").list()
    assert row.status == "failed"
    assert "model exploded" in row.error


def test_unwritable_registry_never_breaks_a_forecast(tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with (caplog.at_level(logging.WARNING, logger="parley.store.runs"),
          runs.recording(blocker / "runs.sqlite")):
        fc = forecast(tiny(), "compromise", draws=50)
    assert fc.settlement().shape[0] == 1
    assert "not recorded" in caplog.text


def test_corrupt_registry_file_never_breaks_a_forecast_and_the_cli_explains(tmp_path: Path) -> None:
    db = tmp_path / "junk.sqlite"
    db.write_bytes(b"this is not sqlite" * 100)
    with runs.recording(db):
        forecast(tiny(), "compromise", draws=50)
    result = runner.invoke(app, ["runs", "list", "--db", str(db)])
    assert result.exit_code == 2
    assert "not a usable runs database" in result.output


def test_recording_can_be_turned_off(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_DB", "off")
    assert runs.default_path() is None
    forecast(tiny(), "compromise", draws=20)
    with runs.recording(tmp_path / "x.sqlite", enabled=False):
        forecast(tiny(), "compromise", draws=20)
    assert not (tmp_path / "x.sqlite").exists()


def test_default_path_uses_env_then_user_data_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PARLEY_DB", str(tmp_path / "a.sqlite"))
    assert runs.default_path() == tmp_path / "a.sqlite"
    monkeypatch.delenv("PARLEY_DB")
    assert runs.default_path().name == "runs.sqlite"
    assert "parley" in str(runs.default_path().parent)


def test_newer_schema_is_refused_with_a_fix(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version=99")
    con.close()
    result = runner.invoke(app, ["runs", "list", "--db", str(db)])
    assert result.exit_code == 2
    assert "newer parley" in result.output


SCHEMA_1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    scenario_id TEXT NOT NULL, scenario_title TEXT NOT NULL, scenario_hash TEXT NOT NULL,
    scenario_json TEXT NOT NULL, models_json TEXT NOT NULL, params_json TEXT NOT NULL,
    draws INTEGER NOT NULL, seed INTEGER NOT NULL, rule TEXT NOT NULL,
    parley_version TEXT NOT NULL, started TEXT NOT NULL, finished TEXT, seconds REAL,
    host TEXT NOT NULL, pid INTEGER NOT NULL, error TEXT, results_json TEXT
);
CREATE INDEX runs_started ON runs (started);
CREATE INDEX runs_hash ON runs (scenario_hash);
"""


def test_a_schema_1_file_is_upgraded_in_place_keeping_every_run(tmp_path: Path) -> None:
    # A registry written before the `cancelled` status existed (schema 1, as parley 0.1's first
    # releases created it): its runs and ids survive, and cancelled runs can then be recorded.
    db = tmp_path / "old.sqlite"
    s = tiny()
    con = sqlite3.connect(db)
    con.executescript(SCHEMA_1)
    row = ("cli", "ok", s.id, s.title, s.content_hash(), json.dumps(s.model_dump(mode="json")),
           '["compromise"]', "{}", 100, 5, "compensatory", "0.1.0", "2026-01-01T00:00:00",
           "2026-01-01T00:00:01", 1.0, "host", 1, None, '{"settlement": []}')
    con.execute("INSERT INTO runs (id, source, status, scenario_id, scenario_title, scenario_hash, "
                "scenario_json, models_json, params_json, draws, seed, rule, parley_version, "
                "started, finished, seconds, host, pid, error, results_json) "
                "VALUES (7, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    reg = runs.Registry(db)
    (old,) = reg.list()
    assert (old.id, old.status, old.seed, old.source) == (7, "ok", 5, "cli")
    assert reg.get(7).scenario() == s
    rid = reg.start(s, ["compromise"], {}, 10, seed=1, rule="compensatory")
    assert rid == 8  # ids go on from the old rows
    reg.cancel(rid, "stopped", 0.1)
    assert [(r.id, r.status) for r in reg.list()] == [(8, "cancelled"), (7, "ok")]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == runs.SCHEMA_VERSION == 2
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert {"runs", "runs_started", "runs_hash"} <= names and "runs_v1" not in names
    con.close()
    assert integrity(db) == "ok"


def test_a_forecast_stopped_with_ctrl_c_is_recorded_as_cancelled(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"

    def interrupt(_: int) -> None:
        raise KeyboardInterrupt

    with runs.recording(db), pytest.raises(KeyboardInterrupt):
        forecast(tiny(), "compromise", draws=5000, seed=1, progress=interrupt)
    (row,) = runs.Registry(db).list()
    assert row.status == "cancelled" and row.error == "KeyboardInterrupt"
    result = runner.invoke(app, ["runs", "list", "--db", str(db), "--status", "cancelled", "--json"])
    assert result.exit_code == 0 and [r["id"] for r in json.loads(result.stdout)] == [row.id]


# --- concurrency and crashes -----------------------------------------------------------------
def _writer(db: str, worker: int, n: int) -> None:
    reg = runs.Registry(db)
    s = tiny(10 + worker)
    for i in range(n):
        rid = reg.start(s, ["compromise"], {}, 10, seed=worker * 1000 + i, rule="compensatory")
        reg.finish(rid, {"settlement": [{"model": "compromise", "p_settlement": i / n}], "worker": worker})


def test_eight_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "busy.sqlite"
    runs.Registry(db).count()  # create the file first, as a running app would have
    ctx = mp.get_context("fork")
    n = 25
    procs = [ctx.Process(target=_writer, args=(str(db), w, n)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    reg = runs.Registry(db)
    rows = reg.list(limit=1000)
    assert len(rows) == 8 * n
    assert {r.seed for r in rows} == {w * 1000 + i for w in range(8) for i in range(n)}
    assert all(r.status == "ok" for r in rows)
    assert integrity(db) == "ok"


def _crash_mid_run(db: str) -> None:
    fmod = sys.modules["parley.analysis.forecast"]
    real = fmod.simulate

    def slow(*args, **kwargs):
        time.sleep(30)  # killed long before this ends
        return real(*args, **kwargs)

    fmod.simulate = slow
    with runs.recording(db):
        forecast(tiny(uncertain=True), "compromise", draws=100)


def test_a_process_killed_mid_run_leaves_it_failed_and_the_database_sound(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite"
    reg = runs.Registry(db)
    reg.count()
    proc = mp.get_context("fork").Process(target=_crash_mid_run, args=(str(db),))
    proc.start()
    deadline = time.time() + 30
    while time.time() < deadline and reg.count() == 0:
        time.sleep(0.05)
    con = sqlite3.connect(db)
    assert con.execute("SELECT status FROM runs").fetchone()[0] == "running"
    con.close()
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    (row,) = reg.list()
    assert row.status == "failed"
    assert "process ended" in row.error
    assert integrity(db) == "ok"


# --- CLI ------------------------------------------------------------------------------------
@pytest.fixture
def two_runs(tmp_path: Path) -> Path:
    db = tmp_path / "cli.sqlite"
    with runs.recording(db):
        forecast(tiny(60), ["compromise", "median"], draws=400, seed=5)
        forecast(tiny(90), ["compromise", "median"], draws=400, seed=5)
    return db


def test_cli_run_records_with_source_cli(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    result = runner.invoke(app, ["run", "-m", "compromise", "-n", "200", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["runs", "list", "--db", str(db), "--json"])
    (row,) = json.loads(listed.output)
    assert row["source"] == "cli" and row["status"] == "ok" and row["draws"] == 200
    assert row["p_settlement"] == json.loads(result.output)["settlement"][0]["p_settlement"]


def test_cli_list_and_show(two_runs: Path) -> None:
    result = runner.invoke(app, ["runs", "list", "--db", str(two_runs)])
    assert result.exit_code == 0, result.output
    assert "tiny" in result.output
    shown = runner.invoke(app, ["runs", "show", "1", "--db", str(two_runs), "--json"])
    data = json.loads(shown.output)
    assert data["scenario"]["id"] == "tiny" and data["results"]["settlement"]
    text = runner.invoke(app, ["runs", "show", "2", "--db", str(two_runs)])
    assert "P(settlement)" in text.output
    yaml_out = runner.invoke(app, ["runs", "show", "2", "--db", str(two_runs), "--scenario"])
    back = scenario_from_data(__import__("ruamel.yaml").yaml.YAML(typ="safe").load(yaml_out.output))
    assert back == tiny(90)


def test_cli_show_unknown_id_and_missing_db(two_runs: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["runs", "show", "99", "--db", str(two_runs)])
    assert result.exit_code == 2 and "no run with id 99" in result.output
    result = runner.invoke(app, ["runs", "list", "--db", str(tmp_path / "nope.sqlite")])
    assert result.exit_code == 2 and "no runs database" in result.output


def test_cli_rerun_reproduces_the_same_numbers(two_runs: Path) -> None:
    result = runner.invoke(app, ["runs", "rerun", "2", "--db", str(two_runs), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["identical"] is True and data["new_run"] == 3
    assert data["diff"]["identical_results"] is True
    rows = runs.Registry(two_runs).list()
    assert rows[0].source == "rerun"


def test_cli_rerun_detects_a_different_result(two_runs: Path) -> None:
    con = sqlite3.connect(two_runs)
    res = json.loads(con.execute("SELECT results_json FROM runs WHERE id=1").fetchone()[0])
    res["settlement"][0]["p_settlement"] = 0.123
    con.execute("UPDATE runs SET results_json=? WHERE id=1", (json.dumps(res),))
    con.commit()
    con.close()
    result = runner.invoke(app, ["runs", "rerun", "1", "--db", str(two_runs)])
    assert result.exit_code == 1
    assert "did not reproduce" in result.output


def test_cli_diff_names_the_changed_field_and_the_effect(two_runs: Path) -> None:
    result = runner.invoke(app, ["runs", "diff", "1", "2", "--db", str(two_runs), "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.output)
    assert d["same_scenario"] is False
    assert d["scenario_changes"] == [{"path": "stances[B/x].salience", "a": 60.0, "b": 90.0}]
    assert d["settings"] == {}
    assert {r["model"] for r in d["p_settlement"]} == {"compromise", "median"}
    comp_x = next(r for r in d["outcomes"] if r["model"] == "compromise" and r["issue"] == "x")
    assert comp_x["delta"] == pytest.approx(comp_x["b"] - comp_x["a"])
    # B (position 80 on x) cares more: the capability x salience weighted mean moves towards it
    assert comp_x["delta"] > 0
    table = runner.invoke(app, ["runs", "diff", "1", "2", "--db", str(two_runs)])
    assert "stances[B/x].salience" in table.output


def test_scenario_changes_keyed_by_ids() -> None:
    a = tiny().model_dump(mode="json")
    b = json.loads(json.dumps(a))
    b["actors"][0]["name"] = "Renamed"
    b["stances"][0]["position"] = {"kind": "triangular", "low": 10, "mode": 20, "high": 30, "sd": 0}
    b["actors"].append({"id": "D", "name": "New"})
    changes = runs.scenario_changes(a, b)
    assert {"path": "actors[A].name", "a": "Actor A", "b": "Renamed"} in changes
    assert {"path": "stances[A/x].position", "a": 20.0, "b": "10/20/30"} in changes
    assert {"path": "actors[D]", "a": None, "b": {"id": "D", "name": "New"}} in changes


def test_a_forecast_that_cannot_be_summarised_is_recorded_as_failed(tmp_path: Path, monkeypatch) -> None:
    fmod = sys.modules["parley.analysis.forecast"]

    def broken(self):
        raise ValueError("cannot summarise")

    monkeypatch.setattr(fmod.Forecast, "to_dict", broken)
    with runs.recording(tmp_path / "s.sqlite"):
        forecast(tiny(uncertain=True), "compromise", draws=10)
    (row,) = runs.Registry(tmp_path / "s.sqlite").list()
    assert row.status == "failed" and "cannot summarise" in row.error


def test_imported_scenario_without_veto_players_can_be_rerun(tmp_path: Path) -> None:
    from parley.io.loading import load

    db = tmp_path / "k.sqlite"
    ktab = Path(__file__).parent / "data" / "ktab" / "dummyData_3Dim.csv"
    s = load(ktab, format="ktab")
    with runs.recording(db):
        forecast(s, "compromise", draws=200, seed=2)
    run = runs.Registry(db).get(1)
    assert run.scenario() == s
    result = runner.invoke(app, ["runs", "rerun", "1", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "identical numbers" in result.output


def test_a_rerun_is_judged_on_the_numbers_of_the_old_result() -> None:
    old = {"answer": "Unlikely.", "outcomes": [{"model": "m", "median": 41.5}],
           "provenance": {"parley_version": "0.1.0", "created": "t1", "seed": 3}}
    # a newer parley words the answer differently and adds fields: still the same numbers
    new = {"answer": "Unlikely, on these inputs.", "track_record": {"models": {}},
           "outcomes": [{"model": "m", "median": 41.5, "median_units": 7.4}],
           "provenance": {"parley_version": "0.2.0", "created": "t2", "seed": 3}}
    assert runs.same_numbers(old, new)
    changed = {**new, "outcomes": [{"model": "m", "median": 41.6}]}
    assert not runs.same_numbers(old, changed)
    assert not runs.same_numbers(old, {**new, "provenance": {**new["provenance"], "seed": 4}})
    assert not runs.same_numbers(old, {k: v for k, v in new.items() if k != "outcomes"})
