"""`parley backtest`: how accurate is each model on negotiations whose outcome is known?

- `parley backtest deu`: the DEU development split shipped with parley (grouped CV).
- `parley backtest --issues FILE --stances FILE [--actors FILE]`: your own data, or a held-out
  split, scored with the parameters and interval calibration fitted on the development split.
- `parley backtest cases`: the classic published cases, forecast against outcome per case.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from parley.backtest.capability import CONVENTIONS, CapabilitySpec, check_spec
from parley.backtest.cv import DEFAULT_FOLDS
from parley.backtest.data import Dataset, load_deu, load_tidy
from parley.backtest.leaderboard import BASELINE, TABLE_COLUMNS, Leaderboard, leaderboard
from parley.cli.app import app, console, handles_input_errors, print_json, styled
from parley.core.errors import ParleyInputError, Problem
from parley.models import registry

TARGETS = ("deu", "cases")
TABLE_WIDTH = 200
"""Width of the leaderboard when stdout is not a terminal (pipes, files): one line per model."""


@app.command()
@handles_input_errors
def backtest(
    target: str = typer.Argument(
        None, help="deu (bundled development split) or cases (classic cases); omit with --issues."),
    issues: Path = typer.Option(None, "--issues", help="Issues CSV (isnr,prnr,...,outcome)."),
    stances: Path = typer.Option(None, "--stances", help="Stances CSV (isnr,actor,position,salience)."),
    actors: Path = typer.Option(None, "--actors", help="Actors CSV (actor, vote/population columns)."),
    capability: list[str] = typer.Option(
        ["votes"], "--capability", "-c",
        help=f"Capability convention(s), repeatable or 'all': {', '.join(CONVENTIONS)}."),
    commission: float = typer.Option(1.0, "--commission",
                                     help="Commission capability, x the largest member state."),
    parliament: float = typer.Option(1.0, "--parliament",
                                     help="Parliament capability, x the largest member state."),
    model: list[str] = typer.Option([], "--model", "-m",
                                    help="Only these models (repeat); default: every registered model."),
    folds: int = typer.Option(DEFAULT_FOLDS, "--folds", help="Grouped CV folds (by proposal)."),
    seed: int = typer.Option(0, "--seed", help="Seed of folds and bootstrap."),
    reps: int = typer.Option(2000, "--reps", help="Bootstrap replicates (resampling proposals)."),
    min_actors: int = typer.Option(3, "--min-actors", help="Skip issues with fewer coded actors."),
    unit: str = typer.Option("issue", "--unit",
                             help="issue: one issue at a time; proposal: each proposal's issues "
                                  "together (for models that link issues)."),
    csv_path: Path = typer.Option(None, "--csv", help="Write per-issue predictions to this CSV."),
    pit_path: Path = typer.Option(None, "--pit",
                                  help="Write the PIT calibration figure (PNG/SVG/PDF) here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Score every model on negotiations with known outcomes.

    MAE, RMSE, median AE, share within 10 points (95% bootstrap intervals resampled by
    proposal) and coverage of 50%/80% intervals."""
    specs = _specs(capability, commission, parliament)
    _check_counts({"--folds": (folds, 2), "--reps": (reps, 10), "--min-actors": (min_actors, 1)})
    if unit not in ("issue", "proposal"):
        raise ParleyInputError([Problem("--unit", f"unknown unit '{unit}'",
                                        "use issue or proposal")])
    models = _models(model)
    if target is not None and target not in TARGETS:
        raise ParleyInputError([Problem("target", f"unknown backtest '{target}'",
                                        "use `deu`, `cases`, or --issues/--stances files")])
    if target == "cases":
        from parley.backtest.cases import score_cases
        result = score_cases(models)
        _output_cases(result, as_json, csv_path)
        return
    if target == "deu":
        if issues or stances:
            raise ParleyInputError([Problem("--issues", "give either `deu` or data files, not both",
                                            "drop `deu` to score your own files")])
        dev = load_deu(min_actors)
        boards = [leaderboard(dev, spec, models, n_folds=folds, seed=seed, reps=reps, unit=unit)
                  for spec in specs]
        notes: list[str] = []
    else:
        if issues is None or stances is None:
            raise ParleyInputError([Problem(
                "--issues" if issues is None else "--stances",
                "say what to score", "run `parley backtest deu`, `parley backtest cases`, or give "
                "--issues FILE --stances FILE [--actors FILE]")])
        data = load_tidy(issues, stances, actors, min_actors=min_actors)
        dev = load_deu(min_actors)
        notes = _overlap_notes(data, dev)
        boards = [leaderboard(data, spec, models, calibration=dev, n_folds=folds, seed=seed,
                              reps=reps, unit=unit) for spec in specs]
    if csv_path is not None:
        _write_csv(csv_path, [p for b in boards for p in b.predictions])
    if pit_path is not None:
        from parley.backtest.pit_figure import write_pit_figure

        write_pit_figure(boards[0], pit_path)
    if as_json:
        out = boards[0].as_dict()
        out["capability"] = [b.capability for b in boards]
        out["rows"] = [r for b in boards for r in b.as_dict()["rows"]]
        out["notes"] = notes
        print_json(out)
    else:
        for board in boards:
            show(board, notes if board is boards[-1] else [])


def _check_counts(values: dict[str, tuple[int, int]]) -> None:
    problems = [Problem(opt, f"{opt} {value} is too small", f"use at least {least}")
                for opt, (value, least) in values.items() if value < least]
    if problems:
        raise ParleyInputError(problems)


def _specs(conventions: list[str], commission: float, parliament: float) -> list[CapabilitySpec]:
    names = [c.strip() for item in conventions for c in item.split(",") if c.strip()]
    if "all" in names:
        names = [c for c in CONVENTIONS if c != "column"]
    specs = [CapabilitySpec(c, commission, parliament) for c in dict.fromkeys(names)]  # type: ignore[arg-type]
    for spec in specs:
        check_spec(spec)
    return specs


def _models(requested: list[str]) -> list[str] | None:
    names = [m.strip() for item in requested for m in item.split(",") if m.strip()]
    for name in names:
        registry.module(name)  # clear error for unknown names
    if names and BASELINE not in names:
        names = [BASELINE, *names]  # the paired comparison needs the baseline
    return names or None


def _overlap_notes(data: Dataset, dev: Dataset) -> list[str]:
    dev_ids = {i.isnr for i in dev.issues}
    shared = [i.isnr for i in data.issues if i.isnr in dev_ids]
    if not shared:
        return []
    return [f"{len(shared)} of {len(data.issues)} issues are in parley's development split: "
            "fitted models and intervals were fitted on them, so their scores there are "
            "in-sample (use `parley backtest deu` for grouped-CV scores)."]


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    import io

    from parley.io.output import write_output

    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    # --csv has always replaced an existing file; the shared writer still refuses directories
    # and devices and never leaves half a file
    write_output(path, buf.getvalue(), force=True, option="--csv")


def show(board: Leaderboard, notes: list[str]) -> None:
    table = Table(title=board.title(), title_justify="left")
    for col in TABLE_COLUMNS:
        table.add_column(col, justify="left" if col == "model" else "right",
                         no_wrap=col == "model", min_width=10 if col == "model" else None)
    for cells in board.display_rows():
        table.add_row(*cells)
    ranked = board.ranked()
    out = console if console.is_terminal else Console(width=TABLE_WIDTH, markup=False)
    out.print(table)
    for r in ranked:
        if r.evaluation != "fixed parameters":
            console.print(f"* {r.model}: {r.evaluation}", highlight=False)
    for r in board.rows:
        if r.error:
            console.print(styled("[yellow]skipped {}[/]: {}", r.model, r.error), highlight=False)
        elif r.no_agreement:
            console.print(f"{r.model}: no agreement on {r.no_agreement} issues; "
                          f"{r.fell_back} of them scored at the reference point", highlight=False)
    n_skip = len(board.skipped_issues)
    console.print(
        f"{len({p['isnr'] for p in board.predictions})} issues scored"
        + (f", {n_skip} left out (no outcome or too few actors)" if n_skip else "")
        + ". [brackets]: 95% bootstrap intervals resampling proposals. cov: share of outcomes "
        f"inside the 50%/80% conformal intervals ({board.setting}, {board.folds} folds, seed "
        f"{board.seed}). ΔMAE: MAE − {BASELINE} MAE on the same issues (paired); < 0 is better. "
        "CRPS: of forecast + out-of-sample errors as a distribution, or of the forecast "
        "distribution itself (focal); ΔCRPS paired like ΔMAE; exact: the most likely point is "
        "the outcome (within 0.5); for distributions cov is of prediction sets.",
        highlight=False)
    for note in notes:
        console.print(styled("[yellow]note[/]: {}", note), highlight=False)


def _output_cases(result, as_json: bool, csv_path: Path | None) -> None:
    rows = result["rows"]
    if csv_path is not None:
        _write_csv(csv_path, rows)
    if as_json:
        print_json(result)
        return
    table = Table(title="Classic cases: forecast vs outcome (0–100)", title_justify="left")
    for col in ("case", "horizon", "outcome", "model", "forecast", "error"):
        table.add_column(col, justify="left" if col in ("case", "model", "horizon") else "right",
                         no_wrap=True)
    for r in rows:
        table.add_row(r["case"], r["horizon"], f"{r['outcome']:.1f}", r["model"],
                      "—" if r["forecast"] is None else f"{r['forecast']:.1f}",
                      "—" if r["error"] is None else f"{r['error']:+.1f}")
    console.print(table)
    console.print("Outcomes: BDM case as published (8.83 years); SOE cases as coded by a third "
                  "party (ranges in data/cases/outcomes.csv). Three cases cannot rank models.",
                  highlight=False)
    for name, reason in result.get("skipped_models", {}).items():
        console.print(styled("[yellow]skipped {}[/]: {}", name, reason), highlight=False)
    sys.stdout.flush()
