"""`parley advise ACTOR [FILE]`: one actor's best moves, whom to persuade, what to trade."""

from __future__ import annotations

from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from parley.analysis.advice import DEFAULT_DRAWS, DEFAULT_MODELS
from parley.analysis.forecast import DEFAULT_SEED
from parley.cli.app import app, console, handles_input_errors, print_json
from parley.cli.run_command import parse_params
from parley.core.errors import ParleyInputError, Problem
from parley.io import bundled


def _signed(x: float, digits: int = 2) -> str:
    if x is None or x != x:
        return "—"
    return f"{round(x, digits) + 0.0:+.{digits}f}"


def _band(r: dict[str, Any], key: str, low: str, high: str, scale: float = 1.0, digits: int = 2) -> str:
    return Text.assemble(f"{_signed(r[key] * scale, digits)} ",
                         (f"[{_signed(r[low] * scale, digits)}, {_signed(r[high] * scale, digits)}]", "dim"))


@app.command()
@handles_input_errors
def advise(
    actor: str = typer.Argument(..., help="The actor to advise: its id or name (any case)."),
    scenario: str = typer.Argument(bundled.DEFAULT, help="Scenario file or bundled name."),
    model: list[str] = typer.Option(
        list(DEFAULT_MODELS), "--model", "-m",
        help="Model(s); repeat for several. bdm and pce re-run their dynamics for every what-if.",
    ),
    draws: int = typer.Option(DEFAULT_DRAWS, "--draws", "-n", help="Draws, shared by every what-if."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Random seed (results are reproducible)."),
    rule: str = typer.Option("compensatory", "--rule", help="Settlement rule: compensatory or strict."),
    param: list[str] = typer.Option([], "--param", help="Model parameter, e.g. nash.loss=quadratic."),
    step: float = typer.Option(10.0, "--step", help="Points another actor moves to measure persuasion."),
    trades: int = typer.Option(5, "--trades", help="How many trades (best per partner) to test."),
    levers_file: str | None = typer.Option(None, "--levers", help="Extra lever definitions (YAML file)."),
    top: int = typer.Option(8, "--top", help="Rows per table."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Advice for one actor: its best moves, whom to persuade, what to trade, which levers help.

    Its best own moves (position and salience, per issue), whom to persuade, what to trade and
    which of its levers help it, each against the baseline on the same draws with 90%
    intervals."""
    from parley.analysis import levers as lv
    from parley.analysis.advice import advise as run_advice
    from parley.io.loading import load

    if rule not in ("compensatory", "strict"):
        raise ParleyInputError([Problem("--rule", f"unknown rule '{rule}'", "use compensatory or strict")])
    models = [m.strip() for item in model for m in item.split(",") if m.strip()]
    s = load(scenario)
    pool = lv.all_levers(s, lv.load_lever_file(levers_file, s)) if levers_file else None
    adv = run_advice(s, actor, models, draws=draws, seed=seed, params=parse_params(param),
                     rule=rule, step=step, trades=trades, levers=pool)  # type: ignore[arg-type]
    if as_json:
        print_json(adv.to_dict())
        return
    show(adv, top)


def show(adv: Any, top: int = 8) -> None:
    """The summary first, then one table per question, per model."""
    from parley.analysis.advice.words import possessive

    s = adv.scenario
    settles = s.tests_settlement
    for m in adv.models:
        console.print(Panel(adv.summary(m), title=f"Advice for {adv.actor_name} ({m} model)",
                            border_style="green"))
    for m in adv.models:
        base = next(b for b in adv.baseline if b["model"] == m)
        head = f"{m}: baseline utility {base['utility']:.1f} of 100"
        if settles:
            head += f", P(settlement) {100 * base['p_settlement']:.1f}%"
        console.print(f"\n{head}", style="bold")
        t = Table(title=f"Own moves, best per issue and kind, by {possessive(adv.actor_name)} utility "
                        "(change, 90% interval)")
        for col in ("#", "move", "utility", "P(settlement)"):
            t.add_column(col, justify="left" if col == "move" else "right")
        for r in adv.ranked_moves(m)[:top]:
            t.add_row(str(r["rank"]), r["label"], _band(r, "utility_delta", "utility_low", "utility_high"),
                      _band(r, "p_delta", "p_low", "p_high", 100, 1) if settles else "—")
        console.print(t)
        for_p = adv.ranked_moves(m, "settlement")
        if settles and not any(abs(r["p_delta"]) > 0 for r in for_p):
            console.print(f"No own move tried changes P(settlement) under the {m} model.", style="dim")
        elif settles:
            t = Table(title="Own moves that most raise P(settlement) (change in points, 90% interval)")
            for col in ("#", "move", "P(settlement)", "utility"):
                t.add_column(col, justify="left" if col == "move" else "right")
            for r in for_p[:min(top, 5)]:
                t.add_row(str(r["rank"]), r["label"], _band(r, "p_delta", "p_low", "p_high", 100, 1),
                          _band(r, "utility_delta", "utility_low", "utility_high"))
            console.print(t)
        t = Table(title="Trade-off along the best moves, from the baseline (size 0) to the largest move")
        t.add_column("move")
        t.add_column("size: utility" + (" / P(settlement)" if settles else ""))
        for c in adv.tradeoff(m):
            pts = " → ".join(f"{p['size']:g}: {p['utility']:.1f}"
                             + (f" / {100 * p['p_settlement']:.0f}%" if settles else "") for p in c["points"])
            t.add_row(c["label"], pts)
        console.print(t)
        t = Table(title=f"Whom to persuade: {possessive(adv.actor_name)} utility per point another "
                        "actor moves towards it")
        for col in ("#", "actor", "per point", f"P(settlement), {adv.provenance['persuade_step']:g} pts",
                    "pivotal"):
            t.add_column(col, justify="left" if col == "actor" else "right")
        for r in [r for r in adv.persuasion if r["model"] == m][:top]:
            t.add_row(str(r["rank"]), r["actor_name"],
                      _band(r, "effect_per_point", "effect_low", "effect_high"),
                      _band(r, "p_delta", "p_low", "p_high", 100, 1) if settles else "—",
                      "yes" if r["pivotal"] else "")
        console.print(t)
        rows = [r for r in adv.trades if r["model"] == m]
        if rows:
            t = Table(title="What to trade (exchange model's equal-gain offers, measured under this model)")
            for col in ("#", "offer", adv.actor_name, "partner", "both gain"):
                t.add_column(col, justify="left" if col == "offer" else "right")
            for r in rows[:top]:
                offer = Text.assemble(r["offer"], "\n", (f"with {r['partner_name']}", "dim"))
                t.add_row(str(r["rank"]), offer,
                          _band(r, "utility_delta", "utility_low", "utility_high"),
                          _band(r, "partner_delta", "partner_low", "partner_high"),
                          "yes" if r["both_gain"] else "no")
            console.print(t)
        rows = [r for r in adv.levers if r["model"] == m]
        if rows:
            t = Table(title=f"Levers {adv.actor_name} holds (`owner: {adv.actor_id}`)")
            for col in ("#", "lever", "utility", "P(settlement)"):
                t.add_column(col, justify="left" if col == "lever" else "right")
            for r in rows:
                t.add_row(str(r["rank"]), r["name"], _band(r, "utility_delta", "utility_low", "utility_high"),
                          _band(r, "p_delta", "p_low", "p_high", 100, 1) if settles else "—")
            console.print(t)
        else:
            console.print(f"{adv.actor_name} owns no levers in this scenario (a lever names its "
                          f"owner with `owner: {adv.actor_id}`).", style="dim")
    pv = adv.provenance
    console.print(f"Utility: closeness of the outcome to {possessive(adv.actor_name)} positions, "
                  "weighted by its saliences (0–100), plus the value of a settlement against its "
                  "reservation points. "
                  f"Common random numbers: {pv['variants']} what-ifs on the same {pv['draws']:,} draws "
                  f"(seed {pv['seed']}); parley {pv['parley_version']} · scenario {pv['scenario_id']} "
                  f"sha256:{pv['scenario_hash'][:12]} · rule {pv['settlement_rule']}", style="dim")
