"""The web app's advice page: pick an actor of the draft, see `parley advise` for it."""

from __future__ import annotations

from typing import Any

from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario

MAX_ADVICE_DRAWS = 20_000
"""Every what-if (about 60) runs on these draws while the page waits: keep the wait short."""
DEFAULT_MODELS = ("compromise", "median")


def context(scenario: Scenario | None, actor: str, models: list[str], draws: int | None,
            seed: int | None, problems: list[Problem]) -> dict[str, Any]:
    """What advise.html shows: the form's choices and, when an actor is chosen and everything
    is valid, the advice as plain data (summary per model, ranked tables)."""
    ctx: dict[str, Any] = {"actor": actor, "chosen_models": models, "draws": draws, "seed": seed,
                           "actors": [(a.id, a.name) for a in scenario.actors] if scenario else [],
                           "max_draws": MAX_ADVICE_DRAWS, "advice": None, "problems": list(problems)}
    if draws is not None and draws > MAX_ADVICE_DRAWS:
        ctx["problems"].append(Problem("draws", f"advice runs at most {MAX_ADVICE_DRAWS:,} draws here",
                                       "use fewer draws, or `parley advise` on the command line"))
    if scenario is None or not actor or ctx["problems"]:
        return ctx
    from parley.analysis.advice import advise

    try:
        adv = advise(scenario, actor, models, draws=draws or 2000, seed=seed or 0)
    except ParleyInputError as exc:
        ctx["problems"] += exc.problems
        return ctx
    from markupsafe import Markup

    from parley.present.report.figures import tradeoff

    ctx["advice"] = {
        "name": adv.actor_name, "id": adv.actor_id, "settles": scenario.tests_settlement,
        "models": [{
            "model": m,
            "summary": adv.summary(m),
            "chart": Markup(tradeoff(adv, m)),  # SVG drawn here: the page needs no script
            "base": next(b for b in adv.baseline if b["model"] == m),
            "moves": adv.ranked_moves(m)[:8],
            "for_settlement": adv.ranked_moves(m, "settlement")[:3],
            "persuasion": [r for r in adv.persuasion if r["model"] == m],
            "trades": [r for r in adv.trades if r["model"] == m],
            "levers": [r for r in adv.levers if r["model"] == m],
        } for m in adv.models],
        "provenance": adv.provenance,
    }
    return ctx
