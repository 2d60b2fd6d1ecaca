"""Command-line interface: `parley run`, `parley validate`, ... (one module per command group).

`parley CMD` imports only the module that defines CMD, so a quick `parley run` does not pay for
the web app, the backtests or the article reader. `from parley.cli import app` (tests, other
tools) gets the application with every command loaded.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import parley.cli.app as _app_module

COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("run_command",),
    "scenarios": ("scenario_commands",),
    "validate": ("scenario_commands",),
    "schema": ("scenario_commands",),
    "compare": ("levers",),
    "levers": ("levers",),
    "sensitivity": ("levers",),
    "report": ("levers",),
    "trajectory": ("dynamic",),
    "exchanges": ("exchange",),
    "import": ("dynamic", "exchange"),
    "backtest": ("backtest",),
    "draft": ("draft",),
    "ui": ("web",),
    "runs": ("runs",),
    "ledger": ("ledger",),
    "advise": ("advise",),
}
"""Which module(s) attach each command to the app; a test checks this covers every command."""

MODULES = tuple(dict.fromkeys(m for mods in COMMANDS.values() for m in mods))

LISTING: dict[str, str] = {
    "run": "Forecast the outcome per issue and the chance of a settlement.",
    "validate": "Check a scenario file and report every problem with its line and the fix.",
    "schema": "Print the JSON Schema of the scenario format (for editors and other tools).",
    "compare": "Baseline against levers on the same random draws: change in P(settlement) and outcomes.",
    "levers": "Rank every lever by its effect on P(settlement) (or on one issue), with sources.",
    "sensitivity": "Which uncertain estimates drive P(settlement), the deal gap and each outcome (SALib).",
    "report": "Write one self-contained HTML report (answer, forecasts, levers, sensitivity, inputs).",
    "trajectory": "Each actor's position round by round under a dynamic model (point estimates).",
    "exchanges": "The exchanges the exchange model carries out, round by round (point estimates).",
    "backtest": "Score every model on negotiations with known outcomes.",
    "draft": "Draft a scenario from news articles, offline (numbers stay TODO for you to fill in).",
    "ui": "Start the local web app: pick or upload a scenario, edit it, run models, read the answer.",
    "advise": "Advice for one actor: its best moves, whom to persuade, what to trade, which levers help.",
    "scenarios": "List the scenarios bundled with parley, or export one as a file to edit.",
    "import": "Convert another tool's scenario file into a parley scenario YAML file.",
    "runs": "The runs registry: every forecast from the CLI, the library and the web app.",
    "ledger": "A hash-chained ledger of sealed forecasts, their resolutions and grades.",
}
"""What `parley` and `parley --help` list, in their order: the first paragraph of each command's
help. Listing the commands this way imports none of them (numpy, the models, pydantic's
scenario schema); a test checks the listing against the one the loaded commands print."""

# The submodule `parley.cli.app` would shadow the application object of the same name: drop the
# package attribute so that `from parley.cli import app` goes through __getattr__ below.
del globals()["app"]


def load(modules: tuple[str, ...] = MODULES) -> None:
    """Import command modules (each registers its commands on the app when imported)."""
    for name in modules:
        importlib.import_module(f"parley.cli.{name}")


def __getattr__(name: str) -> Any:
    if name == "app":
        load()
        return _app_module.app
    raise AttributeError(f"module 'parley.cli' has no attribute {name!r}")


def list_only() -> None:
    """Attach a stand-in for every command, with its help: enough for the list of commands."""
    for name, text in LISTING.items():
        _app_module.app.command(name=name, help=text)(_stand_in)


def _stand_in() -> None:  # never run: `main` loads the real command whenever one is named
    raise RuntimeError("parley.cli: a listed command was run without being loaded")


def entry() -> None:
    """The `parley` executable and `python -m parley`: `main`, then a quick exit.

    Tearing the interpreter down (freeing every module and object one by one, which the
    operating system does at once) takes ~0.07 s after `parley run`, a tenth of the command.
    So the exit handlers run (multiprocessing's children, logging, temporary files, the runs
    registry), output is flushed, and the process ends with the command's exit code. Callers
    that go on after the command (tests, benchmarks) call `main` instead."""
    try:
        main()
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code: object) -> None:
    import atexit
    import contextlib
    import os

    if isinstance(code, str):  # sys.exit("message"), as Python would print it
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else 0 if code is None else 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe (`parley run | head`) or a closed stream: nothing left to flush into
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def main() -> None:
    """Entry point of the `parley` command (raises SystemExit with its exit code)."""
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command is None:  # `parley`, `parley --help`: only the list of commands
        list_only()
    else:
        load(COMMANDS.get(command, MODULES))
    _app_module.app()
