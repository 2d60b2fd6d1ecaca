"""`parley exchanges` (the trades the exchange model carries out, round by round) and
`parley import decide` (Decide's exchange-model input files to parley YAML)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from parley.cli.app import app, console, handles_input_errors, parse_key_values, print_json, styled
from parley.cli.import_group import AS_OF_OPT, import_app, write_converted
from parley.core import batch as batching
from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario
from parley.io.loading import load
from parley.models import registry


def parse_params(items: list[str]) -> dict[str, Any]:
    """`key=value` options -> a dict with numbers and booleans parsed."""
    return parse_key_values(items, "rounds=20 or --param rex=0.5")


def exchanges_data(s: Scenario, overrides: dict[str, Any], actor: str | None = None,
                   issue: str | None = None) -> dict[str, Any]:
    """The exchange model on the scenario's point estimates, as plain data (the `--json` form).

    Positions and outcomes are on the issues' 0–100 scales; `units` gives the issue's own
    units where it has them. Filters keep the exchanges an actor takes part in, or that touch
    an issue; the per-round outcomes are always complete.
    """
    if actor is not None and actor not in s.actor_ids:
        raise ParleyInputError([Problem("--actor", f"unknown actor '{actor}'",
                                        f"use one of: {', '.join(s.actor_ids)}")])
    if issue is not None and issue not in s.issue_ids:
        raise ParleyInputError([Problem("--issue", f"unknown issue '{issue}'",
                                        f"use one of: {', '.join(s.issue_ids)}")])
    params = registry.make_params("exchange", {**overrides, "explain": True, "log_draw": 0})
    out = registry.module("exchange").solve(batching.point(s), params)
    rounds: dict[int, dict[str, Any]] = {
        r["round"]: {**r, "exchanges_listed": []} for r in out.info["round_log"]
    }
    for ex in out.info["exchanges"]:
        if actor is not None and actor not in (ex["actor_a"], ex["actor_b"]):
            continue
        if issue is not None and issue not in (ex["supply_a"]["issue"], ex["supply_b"]["issue"]):
            continue
        rounds[ex["round"]]["exchanges_listed"].append(ex)
    return {
        "scenario": s.id,
        "model": "exchange",
        "params": registry.params_dict(params),
        "rounds_with_exchanges": int(out.info["rounds"][0]),
        "converged": bool(out.info["converged"][0]),
        "exchanges_made": int(out.info["exchanges_made"][0]),
        "filters": {"actor": actor, "issue": issue},
        "start": {iss: float(v) for iss, v in
                  zip(s.issue_ids, _start_outcome(out), strict=True)},
        "forecast": {iss: float(out.outcome[0, k]) for k, iss in enumerate(s.issue_ids)},
        "reported_outcome": registry.params_dict(params).get("outcome", "voting"),
        # Decide's two outcomes of the last round, under Decide's names
        "voting_mds": {iss: float(out.info["voting"][0, k]) for k, iss in enumerate(s.issue_ids)},
        "preference_mds": {iss: float(out.info["preference"][0, k])
                           for k, iss in enumerate(s.issue_ids)},
        "units": {i.id: {"at_0": i.scale.at_0, "at_100": i.scale.at_100, "unit": i.scale.unit}
                  for i in s.issues if i.scale is not None},
        "rounds": [
            {
                "round": r["round"],
                "exchanges_made": r["exchanges"],
                "outcome_before": r["outcome_before"],
                "outcome_after": r["outcome_after"],
                "exchanges": r["exchanges_listed"],
            }
            for r in rounds.values()
        ],
    }


def _start_outcome(out: Any) -> list[float]:
    log = out.info["round_log"]
    if log:
        return list(log[0]["outcome_before"].values())
    return [float(v) for v in out.outcome[0]]


@app.command()
@handles_input_errors
def exchanges(
    file: str = typer.Argument(..., help="Scenario file (YAML, Decide, KTAB) or bundled name."),
    fmt: str = typer.Option("auto", "--format",
                            help="Input format: auto (sniffed), yaml, decide, ktab."),
    actor: str = typer.Option(None, "--actor", "-a", help="Only exchanges this actor takes part in."),
    issue: str = typer.Option(None, "--issue", "-i", help="Only exchanges on this issue."),
    param: list[str] = typer.Option([], "--param",
                                    help="Exchange model parameter key=value, e.g. rounds=20."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """The exchanges the exchange model carries out, round by round (point estimates).

    Who supplies what on which issue to whom, each side's gain, and how each outcome moves."""
    s = load(file, format=fmt)
    data = exchanges_data(s, parse_params(param), actor, issue)
    if as_json:
        print_json(data)
        return
    _show(s, data)


def _show(s: Scenario, data: dict[str, Any]) -> None:
    status = "converged" if data["converged"] else "stopped at the round cap"
    console.print(styled("[bold]{}[/] · exchange model · {} exchanges in {} round(s) · {}", s.title,
                         data['exchanges_made'], data['rounds_with_exchanges'], status),
                  highlight=False)
    moves = Table(title="Outcome per issue (0–100) after each round; last round as Decide names "
                  "them: preference MDS (positions the round started from) and voting MDS (after "
                  f"its exchanges; parley's forecast is the {data['reported_outcome']} MDS)")
    moves.add_column("issue", no_wrap=True)
    moves.add_column("start", justify="right")
    for r in data["rounds"]:
        moves.add_column(f"r{r['round']}", justify="right")
    moves.add_column("pref MDS", justify="right")
    moves.add_column("voting MDS", justify="right")
    for iss in s.issues:
        cells = [f"{r['outcome_after'][iss.id]:.1f}" for r in data["rounds"]]
        moves.add_row(iss.id, f"{data['start'][iss.id]:.1f}", *cells,
                      f"{data['preference_mds'][iss.id]:.1f}",
                      f"{data['voting_mds'][iss.id]:.1f}")
    console.print(moves)
    listed = 0
    for r in data["rounds"]:
        if not r["exchanges"]:
            continue
        shown = len(r["exchanges"])
        more = f", {shown} shown" if shown < r["exchanges_made"] else ""
        console.print(styled("[bold]Round {}[/] ({} exchanges{})", r['round'], r['exchanges_made'],
                             more), highlight=False)
        for ex in r["exchanges"]:
            sa, sb = ex["supply_a"], ex["supply_b"]
            gain = (f"gain {ex['gain_a']:.2f} each" if abs(ex["gain_a"] - ex["gain_b"]) < 5e-3
                    else f"gains {ex['gain_a']:.2f} / {ex['gain_b']:.2f}")
            shift = ", ".join(f"{k} {v:+.1f}" for k, v in ex["outcome_shift"].items())
            console.print(
                f"  {ex['actor_a']} ⇄ {ex['actor_b']} ({gain})\n"
                f"    {ex['actor_a']} gives on {sa['issue']} {sa['from']:.1f} → {sa['to']:.1f}; "
                f"{ex['actor_b']} gives on {sb['issue']} {sb['from']:.1f} → {sb['to']:.1f}\n"
                f"    outcome: {shift}",
                highlight=False,
            )
        listed += shown
    if not listed:
        console.print("no exchange matches" if data["exchanges_made"] else
                      "no exchange is profitable for any pair of actors")


@import_app.command("decide")
@handles_input_errors
def import_decide(
    file: str = typer.Argument(..., help="Decide exchange-model input file (#A/#P/#M/#D rows)."),
    output: str = typer.Option(None, "--output", "-o", help="YAML file to write (default: stdout)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
    as_of: str | None = AS_OF_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Convert a Decide input file into a parley scenario YAML file."""
    from parley.io.decide import load_decide

    write_converted(load_decide(file), file, "Decide", output, force, as_json, as_of)
