"""A plain-language answer to the scenario's question, written only from the forecast's numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from parley.forecast import Forecast


def verdict(p: float) -> str:
    """Words for a probability, on the scale intelligence analysts use."""
    if p < 0.05:
        return "Almost certainly not"
    if p < 0.20:
        return "Unlikely"
    if p < 0.45:
        return "Less likely than not"
    if p <= 0.55:
        return "About as likely as not"
    if p < 0.80:
        return "More likely than not"
    if p < 0.95:
        return "Likely"
    return "Almost certainly"


def pct(p: float) -> str:
    return f"{100 * p:.0f}%" if np.isfinite(p) else "n/a"


def answer(fc: Forecast, model: str | None = None) -> str:
    """One paragraph: the verdict, how sure, who blocks, on what, and what would move them."""
    sc = fc.scenario
    model = model or next(iter(fc.results))
    res = fc.results[model]
    p, lo, hi = res.p_settlement()
    parts = [
        f"{sc.question.strip()} {verdict(p)}, on these inputs: under the {model} model every "
        f"veto player accepts the predicted package in {pct(p)} of {res.n:,} simulated cases "
        f"(90% Monte Carlo interval {pct(lo)}–{pct(hi)})."
    ]
    if len(fc.results) > 1:
        table = fc.settlement().set_index("model")["p_settlement"]
        spread = ", ".join(f"{m} {pct(v)}" for m, v in table.items())
        parts.append(f"Across models: {spread}.")
    if res.p_package() < 0.999:
        parts.append(
            f"The {model} model finds no package that leaves every party better off than no deal "
            f"in {pct(1 - res.p_package())} of cases."
        )
    actors = fc.actors()
    actors = actors[actors.model == model].sort_values("p_accept")
    blockers = fc.blockers()
    blockers = blockers[blockers.model == model] if not blockers.empty else blockers
    if not actors.empty:
        worst = actors.iloc[0]
        if worst.p_accept < 0.5:
            parts.append(_blocker_sentence(fc, model, worst, blockers))
        else:
            parts.append(
                f"The most reluctant veto player, {worst.actor_name}, still accepts in "
                f"{pct(worst.p_accept)} of cases."
            )
        others = actors.iloc[1:]
        keen = [f"{r.actor_name} {pct(r.p_accept)}" for r in others.itertuples()]
        if keen:
            parts.append("Acceptance by the other veto players: " + ", ".join(keen) + ".")
    parts.append(
        "All inputs are analyst estimates written in the scenario file; change them there to "
        "test other readings."
    )
    return " ".join(parts)


def _blocker_sentence(fc: Forecast, model: str, worst, blockers) -> str:
    sc = fc.scenario
    text = f"The main obstacle is {worst.actor_name}, which accepts in only {pct(worst.p_accept)} of cases"
    mine = blockers[blockers.actor == worst.actor] if not blockers.empty else blockers
    if mine.empty:
        return text + "."
    top = mine.sort_values("share_driving", ascending=False).iloc[0]
    issue = sc.issue(top.issue)
    text += f"; {issue.name.lower()} is what it rejects most often ({pct(top.share_driving)} of its refusals)"
    movable = mine[np.isfinite(mine.median_move) & (mine.share_fixable_alone > 0)]
    if not movable.empty:
        best = movable.sort_values(["share_fixable_alone", "median_move"], ascending=[False, True]).iloc[0]
        issue_b = sc.issue(best.issue)
        text += (
            f". Moving {issue_b.name.lower()} about {best.median_move:.0f} points towards its position "
            f"would win it over in {pct(best.share_fixable_alone)} of those cases"
        )
    else:
        text += ". No single issue, moved alone, wins it over: it needs concessions on several"
    return text + "."
