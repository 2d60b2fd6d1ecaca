"""The `parley import` command group, shared by the importers of other tools' formats.

Importer modules attach their subcommands with `@import_app.command("NAME")`; the group itself
is registered on the main app here, once, whichever importer is loaded first.
"""

from __future__ import annotations

import typer

from parley.cli.app import app

import_app = typer.Typer(
    name="import",
    help="Convert another tool's scenario file into a parley scenario YAML file.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
