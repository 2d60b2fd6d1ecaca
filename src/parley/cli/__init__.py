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


def main() -> None:
    """Entry point of the `parley` command."""
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    load(COMMANDS.get(command or "", MODULES))
    _app_module.app()
