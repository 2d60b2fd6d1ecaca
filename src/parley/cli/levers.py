"""`parley compare`, `parley levers`, `parley sensitivity`, `parley report`: what would change
the outcome."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
import typer
from rich.panel import Panel
from rich.table import Table

from parley.analysis import levers as lv
from parley.analysis.forecast import DEFAULT_DRAWS, DEFAULT_SEED
from parley.cli.app import (
    app,
    console,
    err_console,
    handles_input_errors,
    print_json,
    refuse_overwrite,
    styled,
)
from parley.cli.progress import progress_bar
from parley.cli.run_command import parse_params
from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario
from parley.io import bundled
from parley.io.loading import load
from parley.models import registry
from parley.present.narrative import pct


def _models(model: list[str]) -> list[str]:
    names = [m.strip() for item in model for m in item.split(",") if m.strip()]
    for m in names:
        registry.module(m)
    return names


def _rule(rule: str) -> str:
    if rule not in ("compensatory", "strict"):
        raise ParleyInputError([Problem("--rule", f"unknown rule '{rule}'", "use compensatory or strict")])
    return rule


def load_with_levers(scenario: str, levers_file: str | None, format: str = "auto") -> tuple[Scenario, list]:
    s = load(scenario, format=format)
    extra = lv.load_lever_file(levers_file, s) if levers_file else []
    return s, lv.all_levers(s, extra)


MODEL_OPT = typer.Option(
    list(registry.STATIC), "--model", "-m",
    help=f"Model(s); repeat for several. Available: {', '.join(registry.names())}.",
)
DRAWS_OPT = typer.Option(DEFAULT_DRAWS, "--draws", "-n", help="Monte Carlo draws.")
SEED_OPT = typer.Option(DEFAULT_SEED, "--seed", help="Random seed (results are reproducible).")
RULE_OPT = typer.Option("compensatory", "--rule", help="Settlement rule: compensatory or strict.")
PARAM_OPT = typer.Option([], "--param", help="Model parameter, e.g. nash.loss=quadratic.")
LEVERS_FILE_OPT = typer.Option(None, "--levers", help="Extra lever definitions (YAML file).")
SCHEDULER_OPT = typer.Option(
    None, "--scheduler", help="Dask scheduler address (needs parley[distributed]), e.g. tcp://127.0.0.1:8786."
)
WORKERS_OPT = typer.Option(0, "--workers", help="Local worker processes (0 = automatic, 1 = none).")
JSON_OPT = typer.Option(False, "--json", help="Print JSON instead of tables.")
SCENARIO_ARG = typer.Argument(bundled.DEFAULT, help="Scenario file or bundled name.")


def _signed(x: float, digits: int = 1) -> str:
    if not np.isfinite(x):
        return "—"
    v = round(x, digits) + 0.0
    return f"{v:+.{digits}f}"


@app.command()
@handles_input_errors
def compare(
    scenario: str = SCENARIO_ARG,
    lever: list[str] = typer.Option(
        [], "--lever", "-l", help="Lever id; repeat for several; 'a+b' applies a and b together."
    ),
    all_levers: bool = typer.Option(False, "--all", help="Compare every defined lever."),
    combine: bool = typer.Option(False, "--combine", help="Also run all the given levers together."),
    levers_file: str | None = LEVERS_FILE_OPT,
    model: list[str] = MODEL_OPT,
    draws: int = DRAWS_OPT,
    seed: int = SEED_OPT,
    rule: str = RULE_OPT,
    param: list[str] = PARAM_OPT,
    scheduler: str | None = SCHEDULER_OPT,
    workers: int = WORKERS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Baseline against levers on the same random draws: change in P(settlement) and outcomes."""
    models = _models(model)
    s, pool = load_with_levers(scenario, levers_file)
    names = list(lever)
    if all_levers or not names:
        names = [x.id for x in pool] + [n for n in names if n not in {x.id for x in pool}]
    if not names:
        raise ParleyInputError([Problem("--lever", "no levers to compare",
                                        "define `levers:` in the scenario or pass --levers FILE")])
    if combine and len(names) > 1:
        names.append("+".join(n for n in names if "+" not in n))
    variants = lv.variants(s, names, pool)
    cmp = _compare_with_progress("comparing", s, variants, models, draws, seed, param, rule,
                                 scheduler, workers, as_json)
    if as_json:
        print_json(cmp.to_dict())
        return
    show_comparison(cmp)


def _compare_with_progress(label: str, s: Scenario, variants: list, models: list[str], draws: int,
                           seed: int, param: list[str], rule: str, scheduler: str | None,
                           workers: int, quiet: bool) -> Any:
    """The comparison `compare` and `levers` both run, with a progress bar on a terminal."""
    from parley.analysis.compare import compare as run_compare

    with progress_bar(label, draws, quiet) as tick:
        return run_compare(s, variants, models, draws=draws, seed=seed, params=parse_params(param),
                           rule=_rule(rule), scheduler=scheduler, workers=workers or None,  # type: ignore[arg-type]
                           progress=tick)


def show_comparison(cmp: Any) -> None:
    from parley.analysis.compare import lever_answer

    s = cmp.scenario
    console.print(Panel(lever_answer(cmp), title=styled("{}: what the levers change", s.title),
                        border_style="green"))
    if s.tests_settlement:
        _settlement_tables(cmp)
    _outcome_tables(cmp)
    pv = cmp.provenance
    draws = ("No uncertain inputs: one run per variant" if cmp.one_run else
             f"Common random numbers: every variant uses the same {pv['draws']:,} draws")
    console.print(f"{draws} "
                  f"(seed {pv['seed']}); parley {pv['parley_version']} · scenario {pv['scenario_id']} "
                  f"sha256:{pv['scenario_hash'][:12]} · rule {pv['settlement_rule']}", style="dim")


def _settlement_tables(cmp: Any) -> None:
    """P(settlement) and the veto players' P(accept) per lever and model."""
    s = cmp.scenario
    st = cmp.settlement()
    t = Table(title="P(settlement) per lever, and the change from the baseline on the same draws "
                    "(90% intervals)")
    for col in ("lever", *cmp.models):
        t.add_column(col, justify="left" if col == "lever" else "right")
    for var in cmp.variants:
        cells = []
        for m in cmp.models:
            r = st[(st.model == m) & (st.variant == var.id)].iloc[0]
            cell = f"{pct(r.p_settlement)}"
            if not var.is_baseline:
                cell += (f"\n{_signed(100 * r.delta)} pts [{_signed(100 * r.delta_low)}, "
                         f"{_signed(100 * r.delta_high)}]")
            cells.append(cell)
        t.add_row(styled("{}\n[dim]{}[/]", var.name, var.id), *cells)
    console.print(t)
    ac = cmp.actors()
    at = Table(title="P(accept) per veto player (change from the baseline)")
    at.add_column("lever")
    veto = [a for a in s.actors if a.veto]
    for m in cmp.models:
        for a in veto:
            at.add_column(f"{m}\n{a.id}", justify="right")
    for var in cmp.variants:
        cells = []
        for m in cmp.models:
            for a in veto:
                r = ac[(ac.model == m) & (ac.variant == var.id) & (ac.actor == a.id)].iloc[0]
                cells.append(pct(r.p_accept) + ("" if var.is_baseline else f" ({_signed(100 * r.delta, 0)})"))
        at.add_row(var.id, *cells)
    console.print(at)


def _outcome_tables(cmp: Any) -> None:
    """Per model: the baseline's mean outcome per issue and each lever's change."""
    s = cmp.scenario
    oc = cmp.outcomes()
    for m in cmp.models:
        ot = Table(title=f"{m}: mean outcome per issue (0–100) at the baseline, and the change each lever "
                         "makes (90% intervals in --json)")
        ot.add_column("lever")
        for issue in s.issues:
            ot.add_column(issue.id, justify="right")
        for var in cmp.variants:
            cells = []
            for issue in s.issues:
                r = oc[(oc.model == m) & (oc.variant == var.id) & (oc.issue == issue.id)].iloc[0]
                if not np.isfinite(r["mean"]):
                    cells.append("no package")
                else:
                    cells.append(f"{r['mean']:.1f}" if var.is_baseline else _signed(r.delta))
            ot.add_row(var.id, *cells)
        console.print(ot)


@app.command("levers")
@handles_input_errors
def levers_command(
    scenario: str = SCENARIO_ARG,
    issue: str | None = typer.Option(None, "--issue", help="Rank by the change in this issue's outcome."),
    levers_file: str | None = LEVERS_FILE_OPT,
    model: list[str] = typer.Option(["compromise"], "--model", "-m", help="Model(s) to rank under."),
    draws: int = DRAWS_OPT,
    seed: int = SEED_OPT,
    rule: str = RULE_OPT,
    param: list[str] = PARAM_OPT,
    scheduler: str | None = SCHEDULER_OPT,
    workers: int = WORKERS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Rank every lever by its effect on P(settlement) (or on one issue), with sources."""
    models = _models(model)
    s, pool = load_with_levers(scenario, levers_file)
    if not pool:
        raise ParleyInputError([Problem("levers", f"scenario '{s.id}' defines no levers",
                                        "add a `levers:` section (docs/levers.md) or pass --levers FILE")])
    if issue is not None and issue not in s.issue_ids:
        raise ParleyInputError([Problem("--issue", f"unknown issue '{issue}'",
                                        f"use one of: {', '.join(s.issue_ids)}")])
    variants = lv.variants(s, [x.id for x in pool], pool)
    cmp = _compare_with_progress("ranking levers", s, variants, models, draws, seed, param, rule,
                                 scheduler, workers, as_json)
    records = {r["id"]: r for r in lv.lever_records(s, pool)}
    if as_json:
        out = []
        for m in models:
            for row in cmp.ranking(m, issue).to_dict(orient="records"):
                row["lever"] = records[row["variant"]]
                out.append(row)
        ranked_by = issue or ("p_settlement" if s.tests_settlement else "largest_outcome_move")
        print_json({"scenario": s.id, "ranked_by": ranked_by, "ranking": out,
                    "provenance": cmp.provenance})
        return
    settles = s.tests_settlement
    for m in models:
        rank = cmp.ranking(m, issue)
        what = (f"the outcome on {s.issue(issue).name}" if issue else
                "P(settlement)" if settles else "the outcomes (the largest move of any issue)")
        t = Table(title=f"Levers ranked by their effect on {what} ({m} model, "
                  f"{'no uncertain inputs: one run' if cmp.one_run else f'{cmp.n:,} common draws'})")
        veto = [a for a in s.actors if a.veto] if settles else []
        settle_cols = ("ΔP(settle) pts [90%]",) if settles else ()
        for col in ("#", "lever", *settle_cols, *[f"Δaccept {a.id}" for a in veto]):
            t.add_column(col, justify="right" if col not in ("lever",) else "left")
        by_issue = issue is not None or not settles
        if by_issue:
            t.add_column(f"Δ {issue} [90%]" if issue else "largest move [90%]", justify="right")
        for r in rank.itertuples():
            label = styled("{}\n[dim]{}[/]", r.name, r.variant)
            cells = [str(r.rank), label]
            if settles:
                interval = f"[{_signed(100 * r.delta_low)}, {_signed(100 * r.delta_high)}]"
                cells.append(f"{_signed(100 * r.delta)} {interval}")
            cells += [_signed(100 * getattr(r, f"accept_{a.id}"), 0) for a in veto]
            if by_issue:
                where = "" if issue else f"{r.issue}: "
                cells.append(f"{where}{_signed(r.issue_delta)} [{_signed(r.issue_delta_low)}, "
                             f"{_signed(r.issue_delta_high)}]")
            t.add_row(*cells)
        console.print(t)
    lt = Table(title="What each lever changes (ΔP in percentage points; Δaccept: change in a veto "
                     "player's P(accept))")
    lt.add_column("lever")
    lt.add_column("changes")
    lt.add_column("sources")
    for rec in records.values():
        lt.add_row(rec["id"], "\n".join(rec["changes"]), "\n".join(rec["sources"]) or "—")
    console.print(lt)


@app.command()
@handles_input_errors
def sensitivity(
    scenario: str = SCENARIO_ARG,
    model: list[str] = typer.Option([], "--model", "-m", help="Model to analyse (default compromise); "
                                    "with --decompose, the models to compare (default: as parley run)."),
    decompose: bool = typer.Option(False, "--decompose", help="Split each result's variance into input "
                                   "groups, model choice, their interaction and noise."),
    method: str = typer.Option("auto", "--method", help="sobol (first/total-order indices), morris "
                               "(screening, for large scenarios) or auto (morris above 200 inputs)."),
    samples: int = typer.Option(512, "--samples", "-n", help="Sobol base samples (runs = n x (inputs + 2)) "
                                "or Morris trajectories (runs = n x (inputs + 1))."),
    group_by: str = typer.Option("input", "--group-by", help="input, actor, field or issue."),
    output: list[str] = typer.Option([], "--result", "-r",
                                     help="Result(s): settlement, gap or an issue id (default: all)."),
    top: int = typer.Option(12, "--top", help="Inputs to show per result."),
    plot: str | None = typer.Option(None, "--plot", metavar="FILE",
                                    help="Write tornado chart(s) to FILE (.svg or .png)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the --plot file if it exists."),
    seed: int = SEED_OPT,
    rule: str = RULE_OPT,
    param: list[str] = PARAM_OPT,
    scheduler: str | None = SCHEDULER_OPT,
    workers: int = WORKERS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Which uncertain estimates drive P(settlement), the deal gap and each outcome (SALib)."""
    if decompose:
        _decompose(scenario, model, samples, output, seed, rule, param, as_json)
        return
    if len(model) > 1:
        raise ParleyInputError([Problem("--model", "sensitivity analyses one model at a time",
                                        "give one --model, or pass --decompose to compare models")])
    model = model[0] if model else "compromise"  # type: ignore[assignment]
    refuse_overwrite(plot, force, "--plot")
    from parley.analysis.sensitivity import sensitivity as run_sensitivity

    registry.module(model)  # type: ignore[arg-type]
    s = load(scenario)
    wanted = [o for item in output for o in item.split(",") if o]
    state: dict[str, Any] = {}
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("[bold]sensitivity"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=err_console, transient=True, disable=as_json or not err_console.is_terminal)
    with bar:
        def total(n: int) -> None:
            state["task"] = bar.add_task("runs", total=n)

        res = run_sensitivity(s, model, method=method, n=samples, seed=seed,  # type: ignore[arg-type]
                              group_by=group_by, outputs=wanted or None,  # type: ignore[arg-type]
                              params=parse_params(param).get(model), rule=_rule(rule),  # type: ignore[arg-type]
                              scheduler=scheduler, workers=workers or None,
                              progress=lambda k: bar.advance(state["task"], k), on_total=total)
    shown = wanted or res.outputs()
    if plot:
        _write_tornado(res, [o for o in shown if o not in res.constant] or shown[:1], plot, top)
    if as_json:
        data = res.to_dict()
        data["indices"] = [r for r in data["indices"] if r["output"] in shown]
        print_json(data)
        return
    score = res.score
    for o in shown:
        if o in res.constant:
            console.print(f"'{o}' does not vary across the {res.runs:,} runs: no input moves it.",
                          style="dim")
            continue
        t = Table(title=f"What drives '{o}' ({model}, {res.method}, {res.runs:,} runs)")
        t.add_column("input")
        cols = ("ST", "ST_conf", "S1", "S1_conf") if score == "ST" else ("mu_star", "mu_star_conf", "sigma")
        for c in cols:
            t.add_column(c.replace("_conf", " ±"), justify="right")
        rows = res.top(o, top)
        biggest = max(float(rows[score].max()), 1e-12)
        for r in rows.itertuples():
            bar_len = round(20 * max(getattr(r, score), 0) / biggest)
            t.add_row(styled("{} [cyan]{}[/]", r.input, "█" * bar_len),
                      *[f"{getattr(r, c):.3f}" for c in cols])
        console.print(t)
    gap = (" 'gap': largest shortfall of a veto player from its reservation (salience-weighted "
           "points; <= 0 means all accept)." if "gap" in res.outputs() else "")
    console.print("ST: share of the result's variance due to the input including interactions; "
                  f"S1: alone.{gap}", style="dim")


def _decompose(scenario: str, models: list[str], samples: int, output: list[str], seed: int, rule: str,
               param: list[str], as_json: bool) -> None:
    """`parley sensitivity --decompose`: the variance table per result."""
    from parley.analysis.decompose import decompose

    names = models or list(registry.STATIC)
    for m in names:
        registry.module(m)
    s = load(scenario)
    wanted = [o for item in output for o in item.split(",") if o]
    with nullcontext() if as_json else err_console.status("decomposing the variance", spinner="dots"):
        res = decompose(s, names, n=samples, seed=seed, params=parse_params(param), rule=_rule(rule),  # type: ignore[arg-type]
                        outputs=wanted or None)
    if as_json:
        print_json(res.to_dict())
        return
    for o in res.constant:
        what = "P(settlement)" if o == "settlement" else f"'{o}'"
        console.print(f"{what} is the same in every draw under every model: no variance to split.",
                      style="dim")
    for o in res.outputs():
        t = Table(title=f"Where the variance of '{o}' comes from ({', '.join(res.models)}; "
                        f"{res.runs:,} runs)")
        t.add_column("source")
        t.add_column("share", justify="right")
        t.add_column("±", justify="right")
        rows = sorted(res.table(o), key=lambda r: (r["kind"] == "input", -r["share"]))
        for r in rows:
            if r["kind"] == "input" and r["share"] < 0.005:
                continue
            bar = "█" * round(20 * r["share"])
            t.add_row(styled("{} [cyan]{}[/]", r["component"], bar), f"{100 * r['share']:.1f}%",
                      f"{100 * r['se']:.1f}")
        small = [r for r in res.table(o) if r["kind"] == "input" and r["share"] < 0.005]
        if small:
            t.add_row(styled("[dim]{} input groups under 0.5% each[/]", len(small)),
                      f"{100 * sum(r['share'] for r in small):.1f}%", "")
        console.print(t)
    console.print("Shares of each result's variance over draws and models (they sum to 100%). "
                  "'model choice': how far the models' average forecasts differ; 'model × inputs': "
                  "models reacting differently to the same inputs; ±: bootstrap standard error "
                  "(Monte Carlo precision). 'gap': the largest shortfall of a veto player from its "
                  "walk-away value.", style="dim")


def _write_tornado(res: Any, outputs: list[str], path: str, top: int) -> None:
    from matplotlib import rc_context

    from parley.present.report import figures

    if not path.endswith((".svg", ".png")):
        raise ParleyInputError([Problem("--plot", f"'{path}' must end in .svg or .png",
                                        "e.g. --plot tornado.svg")])
    fig = figures.tornado_figure(res, outputs[0], top)
    from parley.io.output import write_figure

    with rc_context(figures.STYLE):  # --force was checked before the run (refuse_overwrite)
        write_figure(fig, path, force=True, dpi=150, bbox_inches="tight")


@app.command()
@handles_input_errors
def report(
    scenario: str = SCENARIO_ARG,
    out: str = typer.Option("report.html", "--output", "-o", help="HTML file to write."),
    model: list[str] = MODEL_OPT,
    draws: int = DRAWS_OPT,
    seed: int = SEED_OPT,
    rule: str = RULE_OPT,
    param: list[str] = PARAM_OPT,
    levers_file: str | None = LEVERS_FILE_OPT,
    lever_draws: int = typer.Option(2000, "--lever-draws", help="Common draws for the lever section."),
    sensitivity_samples: int = typer.Option(128, "--sensitivity-samples",
                                            help="Sobol base samples (0 skips the sensitivity section)."),
    scheduler: str | None = SCHEDULER_OPT,
    workers: int = WORKERS_OPT,
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
    as_json: bool = JSON_OPT,
    advise: list[str] = typer.Option([], "--advise",
                                     help="Add advice for an actor (id or name); repeat for several."),
) -> None:
    """Write one self-contained HTML report (answer, forecasts, levers, sensitivity, inputs)."""
    import time
    from pathlib import Path

    from parley.io.output import write_output
    from parley.present.report import build_report, render

    refuse_overwrite(out, force, "--output")
    models = _models(model)
    s, pool = load_with_levers(scenario, levers_file)
    t0 = time.perf_counter()
    steps = ["forecast", "levers", "sensitivity", "decomposition", "advice", "render"]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("[bold]report: {task.fields[step]}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=err_console, transient=True,
                   disable=as_json or not err_console.is_terminal)
    with bar:
        task = bar.add_task("report", total=len(steps), step="forecast")

        def step(name: str) -> None:
            bar.update(task, completed=steps.index(name), step=name)

        data = build_report(s, models, draws=draws, seed=seed, params=parse_params(param), rule=_rule(rule),  # type: ignore[arg-type]
                            levers=pool, lever_draws=lever_draws, sensitivity_samples=sensitivity_samples,
                            scheduler=scheduler, workers=workers or None, step=step, advise=advise)
        step("render")
        html = render(data)
    write_output(out, html, force)
    info = {"file": str(Path(out).resolve()), "bytes": len(html.encode()),
            "seconds": round(time.perf_counter() - t0, 2),
            "sections": {"levers": data.comparison is not None, "sensitivity": data.sensitivity is not None,
                         "trajectories": sorted(data.trajectories),
                         "advice": [a.actor_id for a in data.advice]}}
    if as_json:
        print_json(info)
    else:
        console.print(f"wrote {info['file']} ({info['bytes'] / 1e6:.2f} MB, {info['seconds']:.1f} s); "
                      "open it in any browser, no network needed")
