"""`parley runs list|show|rerun|diff`: look back at recorded forecasts and reproduce them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from parley.cli.app import app, console, handles_input_errors, print_json, styled
from parley.core.errors import ParleyInputError, Problem
from parley.core.jsonable import finite
from parley.present.narrative import pct
from parley.store import runs as registry_mod

runs_app = typer.Typer(
    help="The runs registry: every forecast from the CLI, the library and the web app.",
    no_args_is_help=True,
)
app.add_typer(runs_app, name="runs")

DB_HELP = "Runs registry file (default: $PARLEY_DB, else runs.sqlite in the user data directory)."


def open_registry(db: str | None) -> registry_mod.Registry:
    """The registry to read, with a clear error when recording is turned off."""
    path = Path(db).expanduser() if db else registry_mod.default_path()
    if path is None:
        raise ParleyInputError(
            [Problem("PARLEY_DB", "run recording is turned off (PARLEY_DB=off)", "pass --db FILE")]
        )
    if db and not path.exists():
        raise ParleyInputError(
            [Problem("--db", "no runs database at this path", "check the path")], str(path)
        )
    return registry_mod.registry_for(path)


def _p(value: float | None) -> str:
    return "—" if value is None else pct(value)


def _signed(value: float | None, percent: bool) -> str:
    if value is None:
        return "—"
    return f"{100 * value:+.1f} pts" if percent else f"{value:+.2f}"


@runs_app.command("list")
@handles_input_errors
def list_runs(
    limit: int = typer.Option(20, "--limit", "-n", help="How many of the latest runs to show."),
    scenario_hash: str = typer.Option(None, "--hash", help="Only runs of scenarios with this hash prefix."),
    status: str = typer.Option(
        None, "--status", help="Only runs with this status: running, ok, failed, cancelled."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The latest recorded runs, newest first."""
    if status and status not in registry_mod.STATUSES:
        raise ParleyInputError(
            [Problem("--status", f"unknown status '{status}'",
                     f"use one of: {', '.join(registry_mod.STATUSES)}")]
        )
    reg = open_registry(db)
    rows = reg.list(limit=limit, scenario_hash=scenario_hash, status=status)
    if as_json:
        print_json([r.summary() for r in rows])
        return
    t = Table(title=f"Runs in {reg.path}")
    right = ("id", "draws", "seed", "P(settle)", "s")
    for col in ("id", "started (UTC)", "from", "status", "scenario", "models", *right[1:]):
        t.add_column(col, justify="right" if col in right else "left")
    for r in rows:
        t.add_row(
            str(r.id),
            r.started[:19].replace("T", " "),
            r.source,
            r.status,
            styled("{} [dim]{}[/]", r.scenario_id, r.scenario_hash[:8]),
            ",".join(r.models),
            f"{r.draws:,}",
            str(r.seed),
            _p(r.p_settlement()),
            "—" if r.seconds is None else f"{r.seconds:.1f}",
        )
    console.print(t)
    if not rows:
        console.print("No runs recorded yet: `parley run` records one.")


@runs_app.command("show")
@handles_input_errors
def show_run(
    run_id: int = typer.Argument(..., metavar="ID", help="Run id (see `parley runs list`)."),
    scenario: bool = typer.Option(False, "--scenario", help="Print the scenario as YAML instead."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the whole record as JSON."),
) -> None:
    """One run: its settings, provenance and answer."""
    run = open_registry(db).get(run_id)
    if scenario:
        typer.echo(registry_mod.yaml_text(run.scenario().to_yaml_data()), nl=False)
        return
    if as_json:
        print_json(run.to_dict())
        return
    t = Table(show_header=False, title=f"Run {run.id}")
    t.add_column("field", style="dim")
    t.add_column("value")
    for key, value in run.summary().items():
        if key == "p_settlement":
            continue
        t.add_row(key, json.dumps(value) if isinstance(value, (dict, list)) else str(value))
    console.print(t)
    if run.results:
        console.print(run.results.get("answer", ""))
        st = Table(title="P(settlement)")
        for col in ("model", "P(settlement)", "90% MC interval"):
            st.add_column(col)
        for r in run.results.get("settlement", []):
            st.add_row(r["model"], _p(r["p_settlement"]), f"{_p(r['ci_low'])}–{_p(r['ci_high'])}")
        console.print(st)


@runs_app.command("rerun")
@handles_input_errors
def rerun(
    run_id: int = typer.Argument(..., metavar="ID", help="Run id to reproduce."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Run a recorded forecast again with the same scenario, models, parameters and seed, and
    check that the numbers are the same (exit code 1 when they are not)."""
    from parley.analysis.forecast import forecast

    reg = open_registry(db)
    old = reg.get(run_id)
    with registry_mod.recording(reg.path, source="rerun"):
        fc = forecast(
            old.scenario(),
            old.models,
            draws=old.draws,
            seed=old.seed,
            params=old.params,
            rule=old.rule,  # type: ignore[arg-type]
        )
    new_id = registry_mod.last_id()
    new = reg.get(new_id) if new_id is not None else None
    fresh = json.loads(json.dumps(finite(fc.to_dict())))
    same = registry_mod.same_numbers(old.results, fresh)
    report: dict[str, Any] = {"run": old.id, "new_run": new_id, "identical": same}
    if new is not None:
        report["diff"] = registry_mod.diff(old, new)
    if as_json:
        print_json(report)
    elif same:
        console.print(f"Run {old.id} reproduced as run {new_id}: identical numbers.")
    else:
        console.print(styled("[bold red]Run {} did not reproduce[/] (new run {}).", old.id, new_id))
        if new is not None:
            _print_diff(report["diff"])
    if not same:
        raise typer.Exit(1)


@runs_app.command("diff")
@handles_input_errors
def diff_runs(
    a: int = typer.Argument(..., metavar="A", help="First run id."),
    b: int = typer.Argument(..., metavar="B", help="Second run id."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """What changed between two runs: scenario fields, settings, and the resulting numbers."""
    reg = open_registry(db)
    d = registry_mod.diff(reg.get(a), reg.get(b))
    if as_json:
        print_json(d)
    else:
        _print_diff(d)


def _print_diff(d: dict[str, Any]) -> None:
    a, b = d["a"], d["b"]
    if d["same_scenario"]:
        console.print("Same scenario (identical content hash).")
    else:
        t = Table(title="Scenario changes")
        for col in ("field", f"run {a}", f"run {b}"):
            t.add_column(col)
        for c in d["scenario_changes"]:
            t.add_row(c["path"], _cell(c["a"]), _cell(c["b"]))
        console.print(t)
    if d["settings"]:
        t = Table(title="Settings")
        for col in ("setting", f"run {a}", f"run {b}"):
            t.add_column(col)
        for k, v in d["settings"].items():
            t.add_row(k, _cell(v["a"]), _cell(v["b"]))
        console.print(t)
    if d["identical_results"]:
        console.print("Identical results.")
    for title, rows, key, percent in (
        ("P(settlement)", d["p_settlement"], None, True),
        ("Outcome per issue (median)", d["outcomes"], "issue", False),
        ("P(accept) per veto player", d["p_accept"], "actor", True),
    ):
        if not rows:
            continue
        t = Table(title=title)
        for col in ("model", *([key] if key else []), f"run {a}", f"run {b}", "change"):
            t.add_column(col)
        for r in rows:
            fmt = _p if percent else _num
            keys = [r["model"], *([r[key]] if key else [])]
            t.add_row(*keys, fmt(r["a"]), fmt(r["b"]), _signed(r["delta"], percent))
        console.print(t)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
