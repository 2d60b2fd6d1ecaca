"""`parley trajectory` (how actors move round by round in the dynamic models) and
`parley import ktab` (KTAB scenario files to parley YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.table import Table

from parley.cli.app import (
    app,
    console,
    handles_input_errors,
    parse_key_values,
    print_json,
    refuse_overwrite,
    styled,
)
from parley.cli.import_group import AS_OF_OPT, import_app, write_converted
from parley.core import batch as batching
from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario
from parley.io.loading import detect_format, load
from parley.models import registry

PLOT_SUFFIXES = (".png", ".svg")


def _parse_params(items: list[str]) -> dict[str, Any]:
    return parse_key_values(items, "rounds=20 or --param stochastic=true")


def run_dynamic(s: Scenario, model: str, overrides: dict[str, Any]) -> tuple[Any, batching.Batch]:
    """The dynamic model on the scenario's point estimate (one deterministic draw)."""
    info = registry.MODELS.get(model)
    if info is None or not info.dynamic:
        dynamic = [m for m, i in registry.MODELS.items() if i.dynamic]
        raise ParleyInputError([Problem("--model", f"'{model}' is not a dynamic model",
                                        f"use one of: {', '.join(dynamic)}")])
    params = registry.make_params(model, dict(overrides, explain=True))
    b = batching.point(s)
    return registry.module(model).solve(b, params), b


def trajectory_data(s: Scenario, model: str, out: Any, b: batching.Batch) -> dict[str, Any]:
    """Plain data of a single-draw dynamic run (what `--json` prints)."""
    traj = out.trajectory[0]  # [T, N, K]
    info = out.info
    status = ("converged" if info["converged"][0] else "oscillated" if info["oscillated"][0]
              else "hit the round cap")
    data: dict[str, Any] = {
        "scenario": s.id,
        "model": model,
        "rounds": int(info["rounds"][0]),
        "status": status,
        "actors": list(b.actors),
        "issues": list(b.issues),
        "forecast": {iss: float(out.outcome[0, k]) for k, iss in enumerate(b.issues)},
        "trajectory": {
            iss: {a: [float(v) for v in traj[:, i, k]] for i, a in enumerate(b.actors) if b.engaged[i, k]}
            for k, iss in enumerate(b.issues)
        },
    }
    if "cycle_length" in info and info["oscillated"][0]:
        data["cycle_length"] = {iss: int(info["cycle_length"][0, k]) for k, iss in enumerate(b.issues)}
    if "median" in info:
        data["median_by_round"] = {iss: [float(v) for v in info["median"][0, :, k]]
                                   for k, iss in enumerate(b.issues)}
    if "win_probability" in info:
        data["win_probability_by_round"] = {
            a: [float(v) for v in info["win_probability"][0, :, i]] for i, a in enumerate(b.actors)
        }
    if "challenge_table" in info:
        from parley.models.bdm import challenge_log

        data["challenges"] = challenge_log(out)
    if "bargain_table" in info:
        from parley.models.pce import bargain_log

        data["bargains"] = bargain_log(out)
    return data


@app.command()
@handles_input_errors
def trajectory(
    file: str = typer.Argument(..., help="Scenario file (YAML, KTAB .csv/.xml) or bundled name."),
    model: str = typer.Option("bdm", "--model", "-m", help="Dynamic model: bdm or pce."),
    fmt: str = typer.Option("auto", "--format",
                            help="Input format: auto (Decide or KTAB files by content and "
                                 "suffix), yaml, ktab, decide."),
    param: list[str] = typer.Option([], "--param", help="Model parameter key=value, e.g. rounds=20."),
    plot: str = typer.Option(None, "--plot", metavar="FILE",
                             help="Write a plot of the paths to FILE (.png or .svg)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the --plot file if it exists."),
    explain: bool = typer.Option(False, "--explain",
                                 help="Show who challenged whom (bdm) or the bargains (pce)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Each actor's position round by round under a dynamic model (point estimates)."""
    refuse_overwrite(plot, force, "--plot")
    if plot is not None and Path(plot).suffix.lower() not in PLOT_SUFFIXES:
        raise ParleyInputError([Problem("--plot", f"cannot tell the image type of '{plot}'",
                                        "give a file name ending in .png or .svg")])
    if fmt == "auto":
        fmt = detect_format(file)
    s = load(file, format=fmt)
    overrides = _parse_params(param)
    if fmt == "ktab" and model == "pce":
        from parley.io.ktab import read_ktab

        overrides = {**read_ktab(file).params, **overrides}
    out, b = run_dynamic(s, model, overrides)
    data = trajectory_data(s, model, out, b)
    if plot is not None:
        _plot(data, plot)
    if as_json:
        print_json(data)
        return
    _show(s, data, explain)
    if plot is not None:
        console.print(f"plot saved to {plot}")


def _show(s: Scenario, data: dict[str, Any], explain: bool) -> None:
    unit = "round" if data["model"] == "bdm" else "turn"
    console.print(styled("[bold]{}[/] · model {} · {} {}s · {}", s.title, data['model'],
                         data['rounds'], unit, data['status']))
    for iss, paths in data["trajectory"].items():
        steps = len(next(iter(paths.values())))
        shown = _shown(steps, max(len(a) for a in paths))
        table = Table(title=f"{s.issue(iss).name if iss in s.issue_ids else iss} "
                            f"(forecast {data['forecast'][iss]:.1f})")
        table.add_column("actor", no_wrap=True)
        for t in shown:
            table.add_column(str(t), justify="right", no_wrap=True)
        for actor, values in paths.items():
            table.add_row(actor, *(f"{values[t]:.1f}" for t in shown))
        if "median_by_round" in data:
            med = data["median_by_round"][iss]
            table.add_row(styled("[italic]median[/]"), *(f"{med[t]:.1f}" for t in shown))
        console.print(table)
        if steps > len(shown):
            console.print(f"(some {unit}s not shown for width; --json or --plot show all)")
    if explain:
        _explain(data)


def _shown(steps: int, name_width: int, col: int = 8) -> list[int]:
    """Rounds that fit the console: all, or the first and last ones."""
    fit = max(2, (console.width - name_width - 4) // col)
    if steps <= fit:
        return list(range(steps))
    head = (fit + 1) // 2
    return [*range(head), *range(steps - (fit - head), steps)]


def _explain(data: dict[str, Any]) -> None:
    if "challenges" in data:
        current = None
        for c in data["challenges"]:
            if (c["round"], c["issue"]) != current:
                current = (c["round"], c["issue"])
                console.print(styled("[bold]round {} · {}[/]", c['round'], c['issue']))
            verdict = "accepted" if c["accepted"] else "not taken"
            console.print(f"  {c['challenger']} → {c['target']}: {c['kind']} "
                          f"(EU {c['eu_challenger']:+.3f} vs {c['eu_target']:+.3f}); offer "
                          f"{c['from']:.1f} → {c['offer']:.1f}, {verdict}", highlight=False)
        if not data["challenges"]:
            console.print("no actor made an offer")
    if "bargains" in data:
        current = None
        for bg in data["bargains"]:
            if bg["turn"] != current:
                current = bg["turn"]
                console.print(styled("[bold]turn {}[/]", current))
            point = ", ".join(f"{v:.1f}" for v in bg["bargain"])
            adopted = ", ".join(bg["adopted_by"]) or "nobody"
            console.print(f"  {bg['initiator']} challenges {bg['target']} "
                          f"(P win {bg['p_initiator_wins']:.2f}, EU gain {bg['eu_gain']:+.3f}): "
                          f"bargain ({point}) adopted by {adopted}", highlight=False)
        probs = data.get("win_probability_by_round", {})
        if probs:
            table = Table(title="P(actor's position wins) by turn")
            table.add_column("actor", no_wrap=True)
            steps = len(next(iter(probs.values())))
            shown = _shown(steps, max(len(a) for a in probs), col=9)
            for t in shown:
                table.add_column(str(t), justify="right", no_wrap=True)
            for actor, values in probs.items():
                table.add_row(actor, *(f"{values[t]:.3f}" for t in shown))
            console.print(table)


def _plot(data: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    issues = list(data["trajectory"])
    fig, axes = plt.subplots(len(issues), 1, figsize=(7, 2.6 * len(issues) + 0.6), squeeze=False)
    for ax, iss in zip(axes[:, 0], issues, strict=True):
        for actor, values in data["trajectory"][iss].items():
            ax.plot(np.arange(len(values)), values, marker=".", linewidth=1, label=actor)
        ax.axhline(data["forecast"][iss], color="black", linestyle="--", linewidth=1, label="forecast")
        ax.set_title(iss)
        ax.set_ylim(-2, 102)
        ax.set_ylabel("position (0–100)")
    axes[-1, 0].set_xlabel("round" if data["model"] == "bdm" else "turn")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if len(labels) <= 16:
        fig.legend(handles, labels, loc="upper right", fontsize=7)
    fig.suptitle(f"{data['scenario']} · {data['model']} · {data['status']}")
    fig.tight_layout()
    from parley.io.output import write_figure

    try:  # --force was checked before the run (refuse_overwrite)
        write_figure(fig, path, force=True)
    finally:
        plt.close(fig)


@import_app.command("ktab")
@handles_input_errors
def import_ktab(
    file: str = typer.Argument(..., help="KTAB scenario file (.csv, with or without trailing "
                                         "commas, or .xml)."),
    output: str = typer.Option(None, "--output", "-o", help="YAML file to write (default: stdout)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
    as_of: str | None = AS_OF_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Convert a KTAB scenario (CSV or XML) into a parley scenario YAML file."""
    from parley.io.ktab import load_ktab

    write_converted(load_ktab(file), file, "KTAB", output, force, as_json, as_of)
