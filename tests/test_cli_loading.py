"""`parley CMD` loads only CMD's module; the map from commands to modules must cover them all."""

from __future__ import annotations

import subprocess
import sys

from parley import cli


def _registered_names() -> set[str]:
    app = cli.app  # loads every command module
    names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    return names | {g.name for g in app.registered_groups}


def test_every_command_is_in_the_lazy_map() -> None:
    assert _registered_names() == set(cli.COMMANDS)


def test_each_command_is_defined_by_the_modules_the_map_names() -> None:
    app = cli.app
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        module = command.callback.__module__.rsplit(".", 1)[-1]
        assert module in cli.COMMANDS[name], (name, module)


def test_run_loads_only_its_own_module() -> None:
    code = (
        "import sys; sys.argv = ['parley', 'run', '--help']\n"
        "import parley.cli as c\n"
        "try:\n    c.main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('parley.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip().splitlines()[-1]
    assert "parley.cli.run_command" in loaded
    for heavy in ("parley.cli.web", "parley.cli.draft", "parley.cli.backtest"):
        assert heavy not in loaded


def test_the_console_command_runs_a_forecast_in_a_fresh_process() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "parley", "run", "--draws", "200", "-m", "compromise", "--json"],
        capture_output=True, text=True, env={**__import__("os").environ, "PARLEY_DB": "off"},
    )
    assert out.returncode == 0, out.stderr
    assert '"p_settlement"' in out.stdout


def test_the_quick_exit_keeps_exit_codes_output_and_the_run_record(tmp_path) -> None:
    """`python -m parley` leaves without tearing the interpreter down (`cli.entry`): the exit
    code, everything printed and the run written to the registry are as with a normal exit."""
    import json
    import os

    env = {**os.environ, "PARLEY_DB": str(tmp_path / "runs.sqlite")}
    ok = subprocess.run([sys.executable, "-m", "parley", "run", "--draws", "200", "-m", "compromise",
                         "--json"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["settlement"]  # the whole JSON, flushed
    bad = subprocess.run([sys.executable, "-m", "parley", "run", str(tmp_path / "missing.yaml")],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "file not found" in bad.stderr
    listed = subprocess.run([sys.executable, "-m", "parley", "runs", "list"], capture_output=True,
                            text=True, env={**env, "COLUMNS": "200"})
    assert listed.returncode == 0 and "ok" in listed.stdout and "compromise" in listed.stdout
