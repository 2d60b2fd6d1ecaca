"""`parley scenarios`, `parley validate`, `parley schema`: finding and checking scenario files."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from parley.cli.app import app, console, handles_input_errors, print_json, refuse_overwrite, styled
from parley.core.errors import ParleyInputError, Problem
from parley.io import bundled
from parley.io.loading import formats, load

scenarios_app = typer.Typer(
    help="List the scenarios bundled with parley, or export one as a file to edit.",
    no_args_is_help=False, add_completion=False,
)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.callback(invoke_without_command=True)
@handles_input_errors
def scenarios(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the scenarios bundled with parley (`parley scenarios export NAME -o FILE` copies one)."""
    if ctx.invoked_subcommand is not None:
        return
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
    console.print("`parley scenarios export NAME -o FILE` writes one as a file to edit.", style="dim")


@scenarios_app.command("export")
@handles_input_errors
def export(
    name: str = typer.Argument(..., help="Bundled scenario name (see `parley scenarios`)."),
    out: Path = typer.Option(..., "-o", "--output", help="File to write (the bundled file, byte for byte)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
) -> None:
    """Write a bundled scenario to a file, comments and all, to edit and run with `parley run FILE`."""
    source = bundled.path(name)
    if source is None:
        raise ParleyInputError([Problem("NAME", f"no bundled scenario '{name}'",
                                        f"choose one of: {', '.join(bundled.names())}")])
    refuse_overwrite(out, force, "--output")
    write_atomically(out, source.read_bytes())
    console.print(f"wrote {out} (bundled scenario {name}); edit it and run `parley run {out}`",
                  highlight=False)


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, so an interrupted write never leaves
    half a file where the user expects one."""
    import os
    import tempfile

    target = Path(path).resolve()
    try:
        fd, tmp = tempfile.mkstemp(prefix=".parley-export-", dir=target.parent)
    except OSError as exc:
        raise ParleyInputError([Problem("--output", f"cannot write there: {exc.strerror}",
                                        "choose a writable folder")], str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    from parley.core.schema import json_schema

    text = json.dumps(json_schema(), indent=2)
    if out is None:
        typer.echo(text)
    else:
        from parley.io.output import write_output

        write_output(out, text + "\n", force)
