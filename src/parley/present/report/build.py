"""Compute everything the report shows (forecast, levers, sensitivity) and render the template."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from parley.analysis.advice import Advice
from parley.analysis.advice import advise as advise_actor
from parley.analysis.advice.actors import resolve_actor
from parley.analysis.compare import Comparison, compare, counterfactual_text, levers_text
from parley.analysis.decompose import Decomposition, decompose
from parley.analysis.forecast import DEFAULT_DRAWS, DEFAULT_SEED, Forecast, disclaimer, forecast
from parley.analysis.levers import lever_records, variants
from parley.analysis.sensitivity import Sensitivity, sensitivity
from parley.analysis.settlement import Rule
from parley.core import batch as batching
from parley.core.scenario import Lever, Scenario
from parley.core.version import VERSION
from parley.models import registry
from parley.present.narrative import answer, pct, verdict

LEVER_DRAWS = 2000
"""Draws for the lever section. Levers run on common random numbers, so their *differences* are
precise with far fewer draws than the forecast needs (the paired intervals say how precise)."""
SENSITIVITY_SAMPLES = 128
SENSITIVITY_ISSUES = 3
"""Issues analysed in the report of a scenario without a settlement test (the report stays short)."""


@dataclass
class ReportData:
    scenario: Scenario
    forecast: Forecast
    comparison: Comparison | None
    lever_model: str | None
    sensitivity: Sensitivity | None
    trajectories: dict[str, np.ndarray] = field(default_factory=dict)
    levers: list[Lever] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    decomposition: Decomposition | None = None
    advice: list[Advice] = field(default_factory=list)


Step = Callable[[str], None]


def build_report(
    scenario: Scenario,
    models: Sequence[str] = registry.STATIC,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    params: dict[str, dict[str, Any]] | None = None,
    rule: Rule = "compensatory",
    levers: list[Lever] | None = None,
    lever_draws: int = LEVER_DRAWS,
    sensitivity_samples: int = SENSITIVITY_SAMPLES,
    scheduler: str | None = None,
    workers: int | None = None,
    step: Step | None = None,
    advise: Sequence[str] = (),
) -> ReportData:
    """Run the forecast, the lever comparison and a sensitivity analysis for the report.

    Levers run under the static models among `models` (dynamic models only when no static one
    is chosen); sensitivity under the first of them. sensitivity_samples=0 skips it. `advise`
    names actors (id or name) to advise, under the first of those models on the lever draws.
    """
    import time

    say = step or (lambda _: None)
    timings: dict[str, float] = {}
    models = list(models)
    params = params or {}
    levers = list(scenario.levers if levers is None else levers)
    for who in advise:
        resolve_actor(scenario, who)  # an unknown name fails before the long work starts

    t0 = time.perf_counter()
    say("forecast")
    fc = forecast(scenario, models, draws=draws, seed=seed, params=params, rule=rule, workers=workers)
    timings["forecast"] = time.perf_counter() - t0

    trajectories: dict[str, np.ndarray] = {}
    lay = batching.layout(scenario)
    for m in models:
        if registry.MODELS[m].dynamic:
            out = registry.module(m).solve(lay.base, registry.make_params(m, params.get(m)))
            if getattr(out, "trajectory", None) is not None:
                trajectories[m] = np.asarray(out.trajectory)

    static = [m for m in models if not registry.MODELS[m].dynamic] or models[:1]
    cmp = None
    if levers:
        t0 = time.perf_counter()
        say("levers")
        vs = variants(scenario, [x.id for x in levers], levers)
        cmp = compare(scenario, vs, static, draws=min(lever_draws, draws), seed=seed, params=params,
                      rule=rule, scheduler=scheduler, workers=workers)
        timings["levers"] = time.perf_counter() - t0

    sens = None
    if sensitivity_samples and lay.n_inputs >= 2:
        t0 = time.perf_counter()
        say("sensitivity")
        # what drives the settlement question; without one, what drives the first few outcomes
        wanted = (("settlement", "gap") if scenario.tests_settlement
                  else tuple(i.id for i in scenario.issues[:SENSITIVITY_ISSUES]))
        sens = sensitivity(scenario, static[0], n=sensitivity_samples, seed=seed,
                           outputs=wanted, params=params.get(static[0]), rule=rule,
                           scheduler=scheduler, workers=workers)
        timings["sensitivity"] = time.perf_counter() - t0
    dec = None
    if sensitivity_samples and (lay.n_inputs >= 1 or len(static) > 1):
        t0 = time.perf_counter()
        say("decomposition")
        dec = decompose(scenario, static, n=max(sensitivity_samples, 8), seed=seed, params=params, rule=rule,
                        resamples=50)
        timings["decomposition"] = time.perf_counter() - t0
    advice = []
    if advise:
        t0 = time.perf_counter()
        say("advice")
        advice = [advise_actor(scenario, who, static[:1], draws=min(lever_draws, draws), seed=seed,
                               params=params, rule=rule) for who in dict.fromkeys(advise)]
        timings["advice"] = time.perf_counter() - t0
    return ReportData(scenario, fc, cmp, static[0], sens, trajectories, levers, timings, dec, advice)


# --- rendering ----------------------------------------------------------------------------------
def _env() -> Any:
    from jinja2 import Environment, StrictUndefined, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = pct
    env.filters["num"] = lambda x, d=0: "—" if x is None or not np.isfinite(x) else f"{x:.{d}f}"
    env.filters["signed"] = _signed
    return env


def _signed(x: float | None, digits: int = 1) -> str:
    if x is None or not np.isfinite(x):
        return "—"
    return f"{round(x, digits) + 0.0:+.{digits}f}"


def _template() -> str:
    return (resources.files("parley.present.report") / "template.html.j2").read_text(encoding="utf-8")


def render(data: ReportData) -> str:
    """The report as one HTML string (charts inline, no external resources)."""
    from markupsafe import Markup

    from parley.backtest import track_record
    from parley.present.landing import NOTE as LANDING_NOTE
    from parley.present.landing import landing
    from parley.present.report import figures

    s = data.scenario
    fc = data.forecast
    first = next(iter(fc.results))
    p, lo, hi = fc.results[first].p_settlement()
    cmp_ = data.comparison
    lead = counterfactual_text(cmp_, data.lever_model) if cmp_ is not None else ""
    lever_summary = levers_text(cmp_, data.lever_model) if cmp_ is not None else ""
    out = fc.outcomes()
    outcome_rows = []
    for issue in s.issues:
        cells = []
        for m in fc.results:
            r = out[(out.model == m) & (out.issue == issue.id)].iloc[0]
            cells.append(r.to_dict())
        outcome_rows.append({"issue": issue, "cells": cells})
    blockers = fc.blockers()
    if not blockers.empty:
        blockers = blockers[(blockers.model == first)
                            & ((blockers.share_driving > 0) | (blockers.share_fixable_alone > 0))]
        blockers = blockers.sort_values(["model", "actor", "share_driving"], ascending=[True, True, False])
    lever_rows = []
    if data.comparison is not None:
        cmp = data.comparison
        st = cmp.settlement()
        ac = cmp.actors()
        oc = cmp.outcomes()
        recs = {r["id"]: r for r in lever_records(s, data.levers)}
        for var in cmp.variants[1:]:
            row = {"id": var.id, "name": var.name, "lever": recs.get(var.id), "models": []}
            for m in cmp.models:
                r = st[(st.model == m) & (st.variant == var.id)].iloc[0].to_dict()
                r["accept"] = ac[(ac.model == m) & (ac.variant == var.id)].to_dict(orient="records")
                # per issue: the change in the mean outcome (what an outcome-only report shows)
                r["outcomes"] = oc[(oc.model == m) & (oc.variant == var.id)].to_dict(orient="records")
                row["models"].append(r)
            lever_rows.append(row)
    sens_tables = []
    charts: dict[str, Any] = {
        "outcomes": Markup(figures.outcomes(fc)),
        "settlement": Markup(figures.settlement(fc)),
        "trajectories": {m: Markup(figures.trajectories(s, m, t)) for m, t in data.trajectories.items()},
        "levers": Markup(figures.levers(data.comparison, data.lever_model)) if data.comparison else None,
        "tornado": [],
        "decomposition": Markup(figures.decomposition(data.decomposition)) if data.decomposition else None,
    }
    if data.sensitivity is not None:
        sens = data.sensitivity
        shown = [o for o in sens.outputs() if o not in sens.constant]
        for o in shown:
            charts["tornado"].append(Markup(figures.tornado(sens, o)))
            sens_tables.append({"output": o, "rows": sens.top(o, 12).to_dict(orient="records")})
    stances = []
    for st_ in s.stances:
        issue = s.issue(st_.issue)
        unit = f" {issue.scale.unit}" if issue.scale is not None else ""
        stances.append({
            "actor": s.actor(st_.actor).name, "issue": issue.name,
            "position": st_.position.describe() + unit, "salience": st_.salience.describe(),
            "reservation": (st_.reservation.describe() + unit) if st_.reservation is not None else "—",
            "sources": ", ".join(st_.sources), "note": st_.note,
        })
    pv = dict(fc.provenance)
    context = {
        "s": s,
        "fc": fc,
        "first": first,
        "p": p, "lo": lo, "hi": hi,
        "verdict": verdict(p),
        "lead": lead,
        "lever_summary": lever_summary,
        "answer": answer(fc, with_lead=False),  # the lead is shown on its own above
        "disclaimer": disclaimer(s),
        "outcome_rows": outcome_rows,
        "settlement": fc.settlement().to_dict(orient="records"),
        "actors_table": fc.actors().to_dict(orient="records"),
        "blockers": [] if blockers.empty else blockers.head(20).to_dict(orient="records"),
        "comparison": data.comparison,
        "lever_model": data.lever_model,
        "lever_rows": lever_rows,
        "sens": data.sensitivity,
        "sens_tables": sens_tables,
        "dec": data.decomposition,
        "charts": charts,
        "stances": stances,
        "provenance": pv,
        "version": VERSION,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "model_info": {m: registry.MODELS[m] for m in fc.results},
        "track_record": track_record.for_models(list(fc.results)),
        "advice": [_advice_context(a, figures) for a in data.advice],
        "landing": landing(fc), "landing_note": LANDING_NOTE,
    }
    return _env().from_string(_template()).render(**context)


def _advice_context(adv: Advice, figures: Any) -> dict[str, Any]:
    """One actor's advice as the template shows it: summary, chart, the top rows per table."""
    from markupsafe import Markup

    m = adv.models[0]
    base = next(b for b in adv.baseline if b["model"] == m)
    return {
        "name": adv.actor_name, "id": adv.actor_id, "model": m, "summary": adv.summary(m),
        "base": base, "chart": Markup(figures.tradeoff(adv, m)),
        "moves": adv.ranked_moves(m)[:6], "for_settlement": adv.ranked_moves(m, "settlement")[:3],
        "persuasion": [r for r in adv.persuasion if r["model"] == m],
        "trades": [r for r in adv.trades if r["model"] == m],
        "levers": [r for r in adv.levers if r["model"] == m],
        "provenance": adv.provenance,
    }


def write_report(scenario: Scenario, path: str | Path, **kwargs: Any) -> ReportData:
    """Build the report and write it to `path` (UTF-8)."""
    from parley.io.output import write_output

    data = build_report(scenario, **kwargs)
    write_output(path, render(data), force=True, option="path")  # the caller named the file
    return data
