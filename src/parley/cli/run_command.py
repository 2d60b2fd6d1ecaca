"""`parley run`: forecast a scenario with one or more models and print the answer."""

from __future__ import annotations

from typing import Any

import numpy as np
import typer
from rich.panel import Panel
from rich.table import Table

from parley.analysis.forecast import DEFAULT_DRAWS, DEFAULT_SEED, Forecast, disclaimer, forecast
from parley.cli.app import (
    app,
    console,
    err_console,
    handles_input_errors,
    parse_value,
    print_json,
    styled,
)
from parley.cli.progress import progress_bar
from parley.core.errors import ParleyInputError, Problem
from parley.core.estimate import Estimate
from parley.io import bundled
from parley.io.loading import load
from parley.models import registry
from parley.present.narrative import answer, pct
from parley.store import runs


def parse_params(items: list[str]) -> dict[str, dict[str, Any]]:
    """`model.key=value` options -> {model: {key: value}} with numbers and booleans parsed."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ParleyInputError(
                [Problem("--param", f"'{item}' is not model.key=value", "e.g. --param nash.loss=quadratic")]
            )
        key, value = item.split("=", 1)
        model, name = key.split(".", 1)
        out.setdefault(model, {})[name] = parse_value(value)
    return out


@app.command()
@handles_input_errors
def run(
    scenario: str = typer.Argument(bundled.DEFAULT, help="Scenario file or bundled name."),
    model: list[str] = typer.Option(
        list(registry.STATIC),
        "--model",
        "-m",
        help=f"Model(s) to run; repeat the option for several. Available: {', '.join(registry.names())}.",
    ),
    draws: int = typer.Option(DEFAULT_DRAWS, "--draws", "-n", help="Monte Carlo draws."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Random seed (results are reproducible)."),
    rule: str = typer.Option(
        "compensatory",
        "--rule",
        help="Settlement rule: compensatory (losses offset across issues) or strict.",
    ),
    param: list[str] = typer.Option([], "--param", help="Model parameter, e.g. nash.loss=quadratic."),
    format: str = typer.Option("auto", "--format",
                               help="Input format: auto (Decide or KTAB files by content and "
                                    "suffix), yaml, ktab, decide."),
    workers: int = typer.Option(0, "--workers", help="Worker processes (0 = automatic)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    db: str = typer.Option(None, "--db", help="Runs registry file (default: $PARLEY_DB or user data dir)."),
) -> None:
    """Forecast the outcome per issue and the chance of a settlement."""
    if rule not in ("compensatory", "strict"):
        raise ParleyInputError([Problem("--rule", f"unknown rule '{rule}'", "use compensatory or strict")])
    models = [m.strip() for item in model for m in item.split(",") if m.strip()]
    for m in models:
        registry.module(m)
    s = load(scenario, format=format)
    params = parse_params(param)
    _say_if_compiling(s, models, params, draws)
    bar = progress_bar("forecasting", _work(s, models, params, draws))
    with runs.recording(db, source="cli"), bar as tick:
        fc = forecast(
            s,
            models,
            draws=draws,
            seed=seed,
            params=params,
            rule=rule,  # type: ignore[arg-type]
            workers=workers or None,
            progress=tick,
            count_lead=True,
            overlap=True,
        )
    if as_json:
        print_json(fc.to_dict())
    else:
        show(fc)


def _planned(s: Any, models: list[str], params: dict[str, dict[str, Any]],
             draws: int) -> list[tuple[str, Any, int]] | None:
    """(model, params, draws it will compute) for each model asked for; None when a model's
    parameters are bad (left for `forecast` to report)."""
    from parley.core.batch import layout

    n_inputs = layout(s).n_inputs
    plan = []
    for m in models:
        try:
            p = registry.make_params(m, params.get(m))
        except ParleyInputError:
            return None
        plan.append((m, p, registry.draws_needed(m, p, n_inputs, draws)))
    return plan


def _work(s: Any, models: list[str], params: dict[str, dict[str, Any]], draws: int) -> int:
    """Draws the run will compute over all models (the progress bar's total); 0 for a run too
    small to be worth a bar."""
    plan = _planned(s, models, params, draws)
    if plan is None:
        return 0
    if any(lv.counterfactual_of for lv in s.levers) and plan:  # the lead: one more run
        plan.append(plan[0])
    total = sum(n for _, _, n in plan)
    cost = sum(n * registry.relative_cost(m, p) for m, p, n in plan if n > 1)  # (one run: no import)
    return int(total) if cost >= BAR_WORK else 0


def _say_if_compiling(s: Any, models: list[str], params: dict[str, dict[str, Any]],
                      draws: int) -> None:
    """A line on stderr before a run that first compiles a model's engine (once per install)."""
    plan = _planned(s, list(dict.fromkeys(models)), params, draws) or []
    slow = [m for m, p, n in plan
            if n > 1 and registry.compiles_first(m, p, n, len(s.actors), len(s.issues))]
    if slow:
        err_console.print(f"compiling the engine of {', '.join(slow)} (numba): the first Monte Carlo "
                          "run after installing takes about 5–15 s longer, once.", style="dim")


BAR_WORK = 500_000
"""Runs below this much work (in compromise-model draws; `parley run` by default is about 120,000)
finish in about a second: no bar."""


def _range(est: Estimate) -> str:
    if est.kind == "triangular":
        return f"{est.mode:.0f} ({est.low:.0f}–{est.high:.0f})"
    if est.kind == "normal":
        return f"{est.mode:.0f} ± {est.sd:.0f}"
    return f"{est.mode:.0f}"


def _numba_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("numba") is not None


def _dynamics_line(name: str, info: dict[str, Any]) -> str:
    """Rounds and how the rounds ended, for a dynamic model's draws."""
    parts = [f"{name}:"]
    rounds = info.get("rounds")
    if isinstance(rounds, np.ndarray) and rounds.size == 1:  # one run
        ends = {"converged": "converged", "oscillated": "oscillated", "cap": "hit the round cap"}
        how = [w for k, w in ends.items() if isinstance(info.get(k), np.ndarray) and info[k].any()]
        return f"{name}: {int(rounds[0])} rounds, {' and '.join(how) or 'stopped'} (one run)"
    if isinstance(rounds, np.ndarray) and rounds.size:
        parts.append(f"median {np.median(rounds):.0f} rounds (range {rounds.min()}–{rounds.max()});")
    ends = [(k, info.get(k)) for k in ("converged", "oscillated", "cap")]
    words = {"converged": "converged", "oscillated": "oscillated", "cap": "hit the round cap"}
    parts.append(", ".join(f"{words[k]} in {pct(float(v.mean()))}" for k, v in ends
                           if isinstance(v, np.ndarray) and v.size) + " of draws")
    return " ".join(parts)


def _scales(fc: Forecast) -> Table:
    """What 0 and 100 mean on each issue, and where things stand without a deal."""
    t = Table(title="Issue scales", show_lines=False)
    for col in ("issue", "0 =", "100 =", "status quo"):
        t.add_column(col, style="dim" if col != "issue" else None)
    for issue in fc.scenario.issues:
        sq = "—" if issue.status_quo is None else _range(issue.to_scale(issue.status_quo))
        if issue.status_quo is not None and issue.scale is not None:
            sq += f" = {issue.status_quo.describe()} {issue.scale.unit}"
        t.add_row(issue.name, issue.low, issue.high, sq)
    return t


def show(fc: Forecast) -> None:
    """Rich tables: answer, outcomes, settlement, veto players, blockers, provenance."""
    s = fc.scenario
    console.print(Panel.fit(styled("[bold]{}[/]\nas of {}\n{}", s.title, s.as_of.isoformat(),
                                   s.question)))
    console.print(Panel(answer(fc), title="Answer", border_style="green"))

    all_one = all(r.one_run for r in fc.results.values())
    t = Table(title="Outcome per issue (0–100)" if all_one else
              "Outcome per issue (0–100): point forecast | median [5–95% band over draws]",
              caption="no uncertain inputs: one run" if all_one else None)
    t.add_column("issue")
    for name in fc.results:
        t.add_column(name, justify="right")
    out = {(r["model"], r["issue"]): r for r in fc.outcome_rows()}
    for issue in s.issues:
        cells = []
        for name in fc.results:
            r = out[(name, issue.id)]
            if np.isnan(r["median"]):
                cells.append("no agreement")
                continue
            pt = "—" if np.isnan(r["point"]) else f"{r['point']:.0f}"
            one = fc.results[name].one_run
            if one:  # every draw would be this one run: no band
                cell = pt if all_one else f"{pt} (one run)"
            else:
                cell = f"{pt} | {r['median']:.0f} [{r['p05']:.0f}–{r['p95']:.0f}]"
            if issue.scale is not None:
                u = issue.scale.rounded
                cell += (f"\n≈ {u(r['point_units'])}" if one else
                         f"\n≈ {u(r['median_units'])} [{u(r['p05_units'])}–{u(r['p95_units'])}]")
            cells.append(cell)
        label = styled("{}" + ("\n[dim]({})[/]" if issue.scale is not None else ""), issue.name,
                       *([issue.scale.unit] if issue.scale is not None else []))
        t.add_row(label, *cells)
    console.print(t)
    console.print(_scales(fc))
    for name, res in fc.results.items():
        if registry.MODELS[name].dynamic:
            console.print(_dynamics_line(name, res.draws.info))
    if "pce" in fc.results and fc.provenance["draws"] >= 1000 and not _numba_installed():
        console.print("pce ran on its numpy engine: numba, a dependency of parley, is not "
                      "installed here; `pip install numba` adds the compiled engine, several times "
                      "faster for Monte Carlo runs.", style="dim")
    if "focal" in fc.results:
        from parley.cli.landing import show_landing

        show_landing(fc)
    _track_record(list(fc.results))

    if not s.tests_settlement:
        _provenance(fc)
        return
    st = Table(title="P(settlement): every veto player accepts the package")
    for col in ("model", "P(settlement)", "90% MC interval", "package found", "at point estimate"):
        st.add_column(col, justify="right" if col != "model" else "left")
    for r in fc.settlement_rows():
        st.add_row(
            r["model"],
            pct(r["p_settlement"]),
            "one run" if fc.results[r["model"]].one_run else f"{pct(r['ci_low'])}–{pct(r['ci_high'])}",
            pct(r["p_package"]),
            "deal" if r["point_settles"] else "no deal",
        )
    console.print(st)
    console.print("90% MC interval: simulation precision (how closely the draws pin the share "
                  "down), not confidence about the world. package found: share of draws in which the "
                  "model produced a package at all (nash produces none when no package leaves every "
                  "actor with a stake better off than no deal).", style="dim")
    zs = fc.zone_summary()
    if zs is not None and fc.zone is not None and fc.zone.one_run:
        console.print(styled("Zone of agreement (any model): some package satisfies every veto player: "
                             "[bold]{}[/] (no uncertain inputs: one check).",
                             "yes" if zs["p_exists"] else "no"))
    elif zs is not None:
        console.print(styled(
            "Zone of agreement (any model): some package satisfies every veto player in "
            "[bold]{}[/] of the first {} draws (90% MC interval {}–{}).",
            pct(zs['p_exists']), f"{zs['draws']:,}", pct(zs['ci_low']), pct(zs['ci_high'])))

    acc = {(r["actor"], r["model"]): r["p_accept"] for r in fc.actor_rows()}
    at = Table(title="P(accept) per veto player")
    at.add_column("actor")
    for name in fc.results:
        at.add_column(name, justify="right")
    for actor in [a for a in s.actors if a.veto]:
        at.add_row(actor.name, *[pct(acc.get((actor.id, m), np.nan)) for m in fc.results])
    console.print(at)

    primary = next(iter(fc.results))
    bl = [r for r in fc.blocker_rows() if r["model"] == primary]
    if bl:
        title = "Why veto players refuse, and the smallest move per issue that wins them over"
        if len(fc.results) > 1:
            title += f" ({primary}; other models: --json or --model)"
        bt = Table(title=title)
        for col in (
            "actor",
            "issue",
            "drives refusals",
            "fixable by this issue alone",
            "median move (points)",
        ):
            bt.add_column(col)
        # by actor, then the issues driving its refusals most first (stable, as pandas sorted)
        ordered = sorted(bl, key=lambda r: (r["actor"], -r["share_driving"]))
        for r in ordered:
            if r["share_driving"] == 0 and r["share_fixable_alone"] == 0:
                continue
            med = r["median_move"]
            move = "—" if np.isnan(med) else f"{med:.1f} towards {r['actor']}"
            scale = s.issue(r["issue"]).scale
            if scale is not None and not np.isnan(med):
                move += f"\n({scale.move(med)})"
            bt.add_row(
                s.actor(r["actor"]).name,
                s.issue(r["issue"]).name,
                pct(r["share_driving"]),
                pct(r["share_fixable_alone"]),
                move,
            )
        console.print(bt)

    _provenance(fc)


def _track_record(models: list[str]) -> None:
    """Each model's record on EU legislation beside its forecast: how far to trust which model."""
    from parley.backtest import track_record

    title, rows = track_record.table(models)
    if not rows:
        return
    t = Table(title=title)
    for col in track_record.COLUMNS:
        t.add_column(col, justify="left" if col == "model" else "right")
    for row in rows:
        t.add_row(*row)
    console.print(t)
    console.print(f"{track_record.CAVEAT} `parley backtest deu` reproduces it.", style="dim")


def _provenance(fc: Forecast) -> None:
    s = fc.scenario
    pv = fc.provenance
    console.print(
        f"{disclaimer(s)}\nparley {pv['parley_version']} · scenario {pv['scenario_id']} "
        f"sha256:{pv['scenario_hash'][:12]} · {_draws_text(fc)} · seed {pv['seed']} · "
        f"rule {pv['settlement_rule']}", style="dim"
    )


def _draws_text(fc: Forecast) -> str:
    """Draws as run: 'no uncertain inputs: one run' where every draw would be the same."""
    one = [m for m, r in fc.results.items() if r.one_run]
    draws = f"draws {fc.provenance['draws']:,}"
    if not one:
        return draws
    if len(one) == len(fc.results):
        return "no uncertain inputs: one run"
    return f"{draws} (no uncertain inputs: one run for {', '.join(one)})"
