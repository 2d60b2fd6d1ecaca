"""`parley scenarios`, `parley validate`, `parley schema`: finding and checking scenario files."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from parley import bundled
from parley.cli.app import app, console, handles_input_errors, print_json, styled
from parley.loading import formats, load


@app.command()
@handles_input_errors
def scenarios(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the scenarios bundled with parley."""
    rows = []
    for name in bundled.names():
        s = load(name)
        rows.append(
            {
                "name": name,
                "title": s.title,
                "as_of": s.as_of.isoformat(),
                "actors": len(s.actors),
                "issues": len(s.issues),
                "default": name == bundled.DEFAULT,
            }
        )
    if as_json:
        print_json(rows)
        return
    table = Table(title="Bundled scenarios (use the name with `parley run NAME`)")
    for col in ("name", "title", "as of", "actors", "issues"):
        table.add_column(col)
    for r in rows:
        name = r["name"] + (" (default)" if r["default"] else "")
        table.add_row(name, r["title"], r["as_of"], str(r["actors"]), str(r["issues"]))
    console.print(table)


@app.command()
@handles_input_errors
def validate(
    file: str = typer.Argument(..., help="Scenario file (or bundled name) to check."),
    format: str = typer.Option("auto", "--format",
                               help=f"Input format: auto (by content and suffix), {', '.join(formats())}."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a scenario file and report every problem with its line and the fix."""
    s = load(file, format=format)
    uncertain = sum(1 for _ in _uncertain_values(s))
    summary = {
        "file": file,
        "valid": True,
        "id": s.id,
        "actors": len(s.actors),
        "issues": len(s.issues),
        "stances": len(s.stances),
        "veto_actors": [a.id for a in s.actors if a.veto],
        "uncertain_values": uncertain,
    }
    if as_json:
        print_json(summary)
        return
    settlement = ("veto: " + ", ".join(summary["veto_actors"]) if s.tests_settlement
                  else "outcomes only (no settlement test)")
    console.print(styled(
        "[green]valid[/]: {}: {} actors, {} issues, {} stances, {} uncertain values; {}",
        file, len(s.actors), len(s.issues), len(s.stances), uncertain, settlement,
    ))


def _uncertain_values(s):
    for a in s.actors:
        if a.capability.is_uncertain:
            yield a.capability
    for st in s.stances:
        for v in (st.position, st.salience, st.reservation):
            if v is not None and v.is_uncertain:
                yield v


@app.command()
@handles_input_errors
def schema(
    out: Path | None = typer.Option(None, "-o", "--output", help="Write to this file."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
) -> None:
    """Print the JSON Schema of the scenario format (for editors and other tools)."""
    from parley.schema import json_schema

    text = json.dumps(json_schema(), indent=2)
    if out is None:
        typer.echo(text)
    else:
        from parley.io.output import write_output

        write_output(out, text + "\n", force)
