"""Advice in plain words: move labels, trade offers and the three-sentence summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from parley.core.scenario import Issue, Scenario

if TYPE_CHECKING:
    from parley.analysis.advice.candidates import Trade
    from parley.analysis.advice.core import Advice


def possessive(name: str) -> str:
    """"Ukraine's", "United States'"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def amount(issue: Issue, points: float) -> str:
    """A position move in points, or in the issue's units where it declares a scale."""
    if issue.scale is not None:
        return issue.scale.move(points)
    return f"{points:g} points"


def move_phrase(issue: Issue, kind: str, direction: str, size: float | None) -> str:
    """'concede 10 points on Territory', 'raise its salience on Sanctions by 20'."""
    if kind == "position":
        how = f" {amount(issue, size)}" if size is not None else ""
        return f"{direction}{how} on {issue.name}"
    how = f" by {size:g}" if size is not None else ""
    return f"{direction} its salience on {issue.name}{how}"


def offer(s: Scenario, actor: int, t: Trade) -> str:
    """'move 10 points towards United States on Sanctions in return for 15 points towards
    Ukraine on US military support'."""
    p, q = s.issues[t.p], s.issues[t.q]
    from parley.analysis.advice.actors import display_names

    names = display_names(s)
    return (f"move {amount(p, t.give)} towards {names[t.partner]} on {p.name} in return "
            f"for {amount(q, t.get)} towards {names[actor]} on {q.name}")


def pts(x: float) -> str:
    """A signed change of utility: two decimals, since effects measured on common draws are
    often a fraction of a point with a narrow interval."""
    v = round(x, 2) + 0.0
    return f"{v:+.2f}"


def pp(x: float) -> str:
    """A change of probability in percentage points."""
    v = round(100 * x, 1) + 0.0
    return f"{v:+.1f} points"


def p_change(delta: float, base: float) -> str:
    """'raises P(settlement) from 20% to 27%' or 'leaves P(settlement) at 0%'."""
    if abs(delta) < 0.0005:
        return f"leaves P(settlement) at {100 * base:.0f}%"
    verb = "raises" if delta > 0 else "lowers"
    return f"{verb} P(settlement) from {100 * base:.1f}% to {100 * (base + delta):.1f}%"


def _interval(lo: float, hi: float, scale: float = 1.0) -> str:
    return f"90% interval {pts(lo * scale)} to {pts(hi * scale)}"


def summary(adv: Advice, model: str) -> str:
    """Three sentences: the best own move, whom to persuade, the best trade (and the actor's
    own levers when it has any), under one model."""
    name = adv.actor_name
    s = adv.scenario
    base = next(b for b in adv.baseline if b["model"] == model)
    settles = s.tests_settlement and np.isfinite(base["p_settlement"])
    out = []
    moves = adv.ranked_moves(model, "utility")
    best = moves[0] if moves else None
    if best is None or best["utility_delta"] <= 0:
        out.append(f"Under the {model} model no move of {possessive(name)} own raises its expected utility "
                   f"({base['utility']:.1f} of 100 at the baseline): it should hold its positions.")
    else:
        text = (f"Under the {model} model {possessive(name)} best own move is to {best['label']}: "
                f"its expected utility rises {pts(best['utility_delta'])} points "
                f"({_interval(best['utility_low'], best['utility_high'])}, "
                f"baseline {base['utility']:.1f} of 100)")
        if settles:
            text += f", and it {p_change(best['p_delta'], base['p_settlement'])}"
            for_p = adv.ranked_moves(model, "settlement")
            if for_p and for_p[0]["id"] != best["id"] and for_p[0]["p_delta"] > 0.005:
                text += (f", while {for_p[0]['label']} does most for a settlement "
                         f"({pp(for_p[0]['p_delta'])}, baseline {100 * base['p_settlement']:.0f}%)")
        out.append(text + ".")
    pers = [r for r in adv.persuasion if r["model"] == model]
    if pers and pers[0]["effect_per_point"] > 0:
        top = pers[0]
        pivotal = [r["actor_name"] for r in pers if r["pivotal"]]
        text = (f"The actor most worth persuading is {top['actor_name']}: each point it moves towards "
                f"{name} brings {name} {top['effect_per_point']:.2f} points of utility "
                f"({_interval(top['effect_low'], top['effect_high'])})")
        if settles:
            text += f", and a move of {top['step']:g} points {p_change(top['p_delta'], base['p_settlement'])}"
        text += f"; pivotal: {', '.join(pivotal)}." if pivotal else "; no actor is clearly pivotal."
        out.append(text)
    else:
        out.append(f"Under the {model} model no other actor's move towards {name} clearly helps it.")
    trades = [r for r in adv.trades if r["model"] == model and r["both_gain"]]
    if trades:
        t = trades[0]
        text = (f"The best trade is with {t['partner_name']}: {t['offer']} ({name} "
                f"{pts(t['utility_delta'])}, {t['partner_name']} {pts(t['partner_delta'])} points)")
    else:
        text = f"No trade of support leaves both {name} and a partner better off under the {model} model"
    levers = [r for r in adv.levers if r["model"] == model]
    if levers:
        lv = levers[0]
        p_text = f", {p_change(lv['p_delta'], base['p_settlement'])}" if settles else ""
        if lv["utility_delta"] > 0:
            text += (f"; of its own levers, '{lv['name']}' does most for it "
                     f"({pts(lv['utility_delta'])} points{p_text})")
        else:
            text += (f"; none of its own levers helps it (the best, '{lv['name']}', "
                     f"{pts(lv['utility_delta'])} points{p_text})")
    out.append(text + ".")
    return " ".join(out)


def row_text(r: dict[str, Any]) -> str:
    """An effect with its interval, for tables."""
    return f"{pts(r['utility_delta'])} [{pts(r['utility_low'])}, {pts(r['utility_high'])}]"
