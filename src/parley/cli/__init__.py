"""Command-line interface: `parley run`, `parley validate`, ... (one module per command group)."""

from __future__ import annotations

# Each command module attaches its commands to `app` when imported.
from parley.cli import (
    backtest,  # noqa: F401
    draft,  # noqa: F401
    dynamic,  # noqa: F401
    exchange,  # noqa: F401
    levers,  # noqa: F401
    run_command,  # noqa: F401
    runs,  # noqa: F401
    scenario_commands,  # noqa: F401
    web,  # noqa: F401
)
from parley.cli.app import app


def main() -> None:
    app()
