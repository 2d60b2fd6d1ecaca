"""`parley ledger seal|verify|resolve|grade`: a tamper-evident record of forecasts and how they
resolved (docs/ledger.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer
from rich.table import Table

from parley.cli.app import (
    app,
    console,
    err_console,
    handles_input_errors,
    parse_key_values,
    print_json,
    styled,
)
from parley.core.errors import ParleyInputError, Problem
from parley.io import bundled

ledger_app = typer.Typer(
    help="A hash-chained ledger of sealed forecasts, their resolutions and grades.", no_args_is_help=True
)
app.add_typer(ledger_app, name="ledger")

LEDGER_OPT = typer.Option("forecasts.jsonl", "--ledger", help="The ledger file (JSON Lines, append-only).")
SIGN_OPT = typer.Option(None, "--sign", help="Sign the entry with this private SSH key (ssh-keygen -Y sign).")


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ParleyInputError(
            [Problem(option, f"'{text}' is not a date", "write it as YYYY-MM-DD")]
        ) from None


def _yes_no(text: str) -> bool:
    low = text.strip().lower()
    if low in ("yes", "y", "true"):
        return True
    if low in ("no", "n", "false"):
        return False
    raise ParleyInputError(
        [Problem("--settled", f"'{text}' is neither yes nor no", "use --settled yes or no")]
    )


def _fmt(x: Any, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


@ledger_app.command("seal")
@handles_input_errors
def seal_command(
    scenario: str = typer.Argument(bundled.DEFAULT, help="Scenario file or bundled name."),
    question: str = typer.Option(..., "--question", help="The question the forecast answers."),
    resolves: str = typer.Option(..., "--resolves", help="When the question resolves (YYYY-MM-DD)."),
    criteria: str = typer.Option(..., "--criteria", help="How the question will be judged."),
    ledger: str = LEDGER_OPT,
    model: list[str] = typer.Option([], "--model", "-m", help="Model(s) (default: the run command's)."),
    draws: int = typer.Option(None, "--draws", "-n", help="Monte Carlo draws (default: as parley run)."),
    seed: int = typer.Option(None, "--seed", help="Random seed (default: as parley run)."),
    param: list[str] = typer.Option([], "--param", help="Model parameter, e.g. nash.loss=quadratic."),
    retrospective: bool = typer.Option(
        False, "--retrospective", help="Mark the entry as sealed after the outcome was known."
    ),
    sign: str = SIGN_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print the entry as JSON."),
) -> None:
    """Run a forecast and append it, with its question, to the ledger."""
    from parley.analysis.ledger import seal
    from parley.cli.run_command import parse_params

    entry = seal(
        scenario,
        question=question,
        resolves=_date(resolves, "--resolves"),
        criteria=criteria,
        ledger=ledger,
        models=model or None,
        draws=draws,
        seed=seed,
        params=parse_params(param) if param else None,
        retrospective=retrospective,
        sign_key=sign,
    )
    if as_json:
        print_json(entry)
        return
    console.print(
        f"sealed entry {entry['seq']} in {ledger} (hash {entry['hash'][:12]})", highlight=False
    )
    for name, fc in entry["forecast"].items():
        p = fc.get("p_settlement")
        shown = "—" if p is None else f"{100 * p:.1f}%"
        console.print(f"  {name}: P(settlement) {shown}", highlight=False)


@ledger_app.command("resolve")
@handles_input_errors
def resolve_command(
    entry: int = typer.Argument(..., help="The number of the forecast entry that resolved."),
    settled: str = typer.Option(..., "--settled", help="yes or no: did the settlement happen?"),
    outcome: list[str] = typer.Option([], "--outcome", help="ISSUE=VALUE, in the issue's units (repeat)."),
    source: str = typer.Option(..., "--source", help="Where the resolution comes from."),
    ledger: str = LEDGER_OPT,
    sign: str = SIGN_OPT,
) -> None:
    """Record how a sealed question resolved (a new entry; the old one is never edited)."""
    from parley.analysis.ledger import resolve

    values = parse_key_values(outcome, "territory=40")
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParleyInputError(
                [Problem("--outcome", f"{key}={value} is not a number", "e.g. --outcome territory=40")]
            )
    out = resolve(
        entry,
        settled=_yes_no(settled),
        source=source,
        outcomes={k: float(v) for k, v in values.items()},
        ledger=ledger,
        sign_key=sign,
    )
    console.print(f"resolved entry {entry} in entry {out['seq']} (hash {out['hash'][:12]})", highlight=False)


@ledger_app.command("verify")
@handles_input_errors
def verify_command(
    ledger: str = LEDGER_OPT,
    rerun: bool = typer.Option(True, "--rerun/--no-rerun", help="Re-run every sealed forecast."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check the hash chain (exit 1 on any edited, removed or reordered entry) and re-run forecasts."""
    from pathlib import Path

    from parley.analysis.ledger import verify

    if not Path(ledger).is_file():
        raise ParleyInputError(
            [Problem("--ledger", "no ledger file here", "seal a forecast first, or pass --ledger")], ledger
        )
    result = verify(ledger, rerun=rerun)
    if as_json:
        print_json(result.to_dict())
    else:
        for p in result.tampering:
            err_console.print(styled("[bold red]tampered:[/] {}", p.render()), highlight=False)
        for r in result.not_reproduced:
            tag = (
                "does not reproduce"
                if r["same_version"]
                else (f"differs (sealed with parley {r['sealed_with']}; report only)")
            )
            console.print(
                f"entry {r['seq']} {tag}: {'; '.join(r['differences'][:3])}", highlight=False
            )
        if result.reproduced:
            console.print(f"reproduced: entries {', '.join(map(str, result.reproduced))}", highlight=False)
        state = "intact" if not result.tampering else "TAMPERED"
        console.print(f"{result.entries} entries, chain {state}", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@ledger_app.command("grade")
@handles_input_errors
def grade_command(
    ledger: str = LEDGER_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score every resolved forecast: Brier and log score, CRPS and interval coverage, calibration."""
    from pathlib import Path

    from parley.analysis.ledger import grade

    if not Path(ledger).is_file():
        raise ParleyInputError([Problem("--ledger", "no ledger file here", "pass --ledger FILE")], ledger)
    g = grade(ledger)
    if as_json:
        print_json(g.to_dict())
        return
    if not g.rows:
        console.print("no resolved forecasts yet (parley ledger resolve ID ...)")
        return
    t = Table(title="Resolved forecasts by model")
    for col in ("model", "resolved", "Brier", "log score", "issues", "CRPS", "in 50%", "in 90%"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for r in g.by_model:
        t.add_row(
            r["model"],
            str(r["resolved"]),
            _fmt(r["brier"]),
            _fmt(r["log_score"]),
            str(r["issues_scored"]),
            _fmt(r["crps"], 1),
            _fmt(r["cover50"], 2),
            _fmt(r["cover90"], 2),
        )
    console.print(t)
    c = Table(title="Calibration of P(settlement)")
    for col in ("model", "forecast bin", "forecasts", "mean forecast", "share settled"):
        c.add_column(col, justify="left" if col in ("model", "forecast bin") else "right")
    for r in g.calibration:
        c.add_row(
            r["model"],
            r["bin"],
            str(r["forecasts"]),
            _fmt(r["mean_forecast"]),
            _fmt(r["share_settled"]),
        )
    console.print(c)
    if any(r["retrospective"] for r in g.rows):
        console.print(
            "Some entries were sealed retrospectively (after the outcome was known): they show the "
            "method, not a forecasting record."
        )
