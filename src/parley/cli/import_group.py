"""The `parley import` command group, shared by the importers of other tools' formats.

Importer modules attach their subcommands with `@import_app.command("NAME")`; the group itself
is registered on the main app here, once, whichever importer is loaded first.
"""

from __future__ import annotations

from pathlib import Path

import typer

from parley.cli.app import app, console, err_console, print_json
from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario
from parley.io.imported import as_of_sentence, restate_as_of
from parley.io.output import write_output

import_app = typer.Typer(
    name="import",
    help="Convert another tool's scenario file into a parley scenario YAML file.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")


AS_OF_OPT = typer.Option(
    None, "--as-of", help="Date the positions describe, YYYY-MM-DD (default: a date written in "
                          "the file's names or description, else the placeholder 2000-01-01; "
                          "the output says which)."
)


def write_converted(scenario: Scenario, source: str, tool: str, output: str | None, force: bool,
                    as_json: bool, as_of: str | None = None) -> None:
    """Write an imported scenario as YAML (stdout when no output file), never over an existing
    file unless asked, with a header saying what the conversion leaves for the analyst to add."""
    import datetime as dt

    from parley.store.runs import yaml_text

    if as_of is not None:
        try:
            date = dt.date.fromisoformat(as_of)
        except ValueError:
            raise ParleyInputError([Problem("--as-of", f"'{as_of}' is not a date",
                                            "write it as YYYY-MM-DD, e.g. 2014-06-30")]) from None
        scenario = scenario.model_copy(update={
            "as_of": date, "description": restate_as_of(scenario.description, date)})
    dated = as_of_sentence(scenario.description)
    if not as_json:
        err_console.print(dated, highlight=False)

    text = (
        f"# Converted from the {tool} file {Path(source).name} by `parley import {tool.lower()}`.\n"
        f"# {dated}\n"
        f"# {tool} files have no veto players or reservations, so this scenario has\n"
        "# `settlement_test: false`: `parley run` forecasts the outcomes only. To ask whether the\n"
        "# parties settle, mark the actors who must sign with `veto: true`, give them a\n"
        "# `reservation`, and remove the `settlement_test: false` line.\n"
        + yaml_text(scenario.to_yaml_data())
    )
    if output is None:
        typer.echo(text, nl=False)
        return
    write_output(output, text, force)
    counts = {"actors": len(scenario.actors), "issues": len(scenario.issues),
              "stances": len(scenario.stances)}
    if as_json:
        print_json({"written": output, "id": scenario.id, **counts})
    else:
        console.print(f"wrote {output}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
