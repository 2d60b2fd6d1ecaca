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


def pct(p: float | None) -> str:
    """A share as a whole percentage, never rounding a rare event to 0% or a near-certain one to 100%."""
    if p is None or not np.isfinite(p):
        return "n/a"
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 < p < 1:
        return ">99%"
    return f"{100 * p:.0f}%"


def _outcome_sentence(fc: Forecast, model: str, most: int = 6) -> str:
    """Where the model puts each issue: the median over draws and the 5–95% band, in the
    issue's units where it has them (the answer of an outcome-only scenario)."""
    out = fc.outcomes()
    out = out[out.model == model].set_index("issue")
    one = fc.results[model].one_run
    parts = []
    for issue in fc.scenario.issues[:most]:
        r = out.loc[issue.id]
        if r["median"] != r["median"]:  # NaN: no agreement in any draw
            parts.append(f"{issue.name}: no agreement")
            continue
        if one:  # no uncertain inputs: the one run, no band
            parts.append(f"{issue.name}: {r['median']:.0f} on its 0–100 scale"
                         + (f" ({issue.scale.rounded(r['median_units'])} {issue.scale.unit})"
                            if issue.scale is not None else ""))
        elif issue.scale is not None:
            u = issue.scale.rounded
            parts.append(f"{issue.name}: {u(r['median_units'])} {issue.scale.unit} "
                         f"({u(r['p05_units'])}–{u(r['p95_units'])} in 90% of simulated cases)")
        else:
            parts.append(f"{issue.name}: {r['median']:.0f} on its 0–100 scale "
                         f"({r['p05']:.0f}–{r['p95']:.0f} in 90% of simulated cases)")
    more = len(fc.scenario.issues) - most
    tail = f"; {more} more issue(s) in the table" if more > 0 else ""
    tail += " (no uncertain inputs: one run)" if one else ""
    return f"Under the {model} model: " + "; ".join(parts) + tail + "."


def answer(fc: Forecast, model: str | None = None, with_lead: bool = True) -> str:
    """One paragraph: the verdict, how sure, who blocks, on what, and what would move them.

    It opens with what the scenario's counterfactual lever changes (`Forecast.lead`) unless
    `with_lead` is False (for callers that show that sentence on its own, like the report)."""
    sc = fc.scenario
    model = model or next(iter(fc.results))
    res = fc.results[model]
    p, lo, hi = res.p_settlement()
    if not sc.tests_settlement:
        return (
            f"{sc.question.strip()} {_outcome_sentence(fc, model)} The settlement test is off "
            "for this scenario (`settlement_test: false`, as in files imported with no veto "
            "players), so parley forecasts the outcome on each issue but not whether the parties "
            "would settle. To ask that, mark the actors who must sign with `veto: true`, give "
            "them `reservation` values and remove `settlement_test: false`."
        )
    lead = fc.lead if with_lead and model == next(iter(fc.results)) else ""
    parts = [lead] if lead else []
    if res.one_run:  # no uncertain inputs: one run, a yes or a no
        who = "every veto player accepts" if p else "not every veto player accepts"
        how = "(no uncertain inputs: one run)"
    else:
        who = "every veto player accepts"
        how = f"in {pct(p)} of {res.n:,} simulated cases (90% Monte Carlo interval {pct(lo)}–{pct(hi)})"
    parts += [
        f"{sc.question.strip()} {verdict(p)}, on these inputs: under the {model} model {who} the "
        f"predicted package {how}."
    ]
    if len(fc.results) > 1:
        table = fc.settlement().set_index("model")["p_settlement"]
        spread = ", ".join(f"{m} {pct(v)}" for m, v in table.items())
        parts.append(f"Across models: {spread}.")
    if fc.zone is not None:
        parts.append(_zone_sentence(fc, p))
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
            second = actors.iloc[1] if len(actors) > 1 else None
            if second is not None and second.p_accept < 0.5:
                parts.append(_opposed_sentence(fc, model, worst, second, blockers))
        else:
            parts.append(
                f"The most reluctant veto player, {worst.actor_name}, still accepts in "
                f"{pct(worst.p_accept)} of cases."
            )
        mentioned = 2 if worst.p_accept < 0.5 and len(actors) > 1 and actors.iloc[1].p_accept < 0.5 else 1
        others = actors.iloc[mentioned:]
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
    share = pct(top.share_driving)
    text += f"; {_lower_first(issue.name)} is what it rejects most often ({share} of its refusals)"
    movable = mine[np.isfinite(mine.median_move) & (mine.share_fixable_alone > 0)]
    if not movable.empty:
        best = movable.sort_values(["share_fixable_alone", "median_move"], ascending=[False, True]).iloc[0]
        issue_b = sc.issue(best.issue)
        units = f" ({issue_b.scale.move(best.median_move)})" if issue_b.scale is not None else ""
        text += (
            f". Moving {_lower_first(issue_b.name)} about {best.median_move:.0f} points{units} towards "
            f"its position would win it over in {pct(best.share_fixable_alone)} of those cases"
        )
    else:
        text += ". No single issue, moved alone, wins it over: it needs concessions on several"
    return text + "."


def _lower_first(name: str) -> str:
    """Lower-case a leading common word, keep proper names ("US–Russia", "Ukraine's")."""
    first = name.split()[0] if name.split() else name
    if first[:1].isupper() and first[1:].islower() and "'" not in first and first.isalpha():
        return name[0].lower() + name[1:]
    return name


def _opposed_sentence(fc: Forecast, model: str, a, b, blockers) -> str:
    """Two refusing veto players: say where they pull the package in opposite directions."""
    sc = fc.scenario
    res = fc.results[model]
    i, j = sc.actor_ids.index(a.actor), sc.actor_ids.index(b.actor)
    from parley.batch import point

    base = point(sc)
    out = res.point.outcome[0]
    opposed = [
        sc.issues[k].name
        for k in range(len(sc.issues))
        if base.engaged[i, k]
        and base.engaged[j, k]
        and np.isfinite(out[k])
        and (base.position[0, i, k] - out[k]) * (base.position[0, j, k] - out[k]) < 0
        and not np.isnan(base.reservation[0, i, k])
        and not np.isnan(base.reservation[0, j, k])
    ]
    text = f"{b.actor_name} also refuses in most cases (accepts in {pct(b.p_accept)})"
    if opposed:
        text += (
            f", and on {_join([_lower_first(n) for n in opposed])} the two stand on opposite sides of "
            "the predicted outcome, so moving it towards one moves it away from the other"
        )
    return text + "."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _zone_sentence(fc: Forecast, p_model: float) -> str:
    """How often *any* package would satisfy every veto player: the ceiling for every model."""
    assert fc.zone is not None
    pz, lo, hi = fc.zone.p_exists()
    text = (
        f"Some package that every veto player would accept exists in {pct(pz)} of cases "
        f"({pct(lo)}–{pct(hi)}, any model)"
    )
    if pz < 0.05:
        return text + ": their reservation points leave no room for a deal, so the obstacle is the " \
            "walk-away points themselves, not the design of the package."
    if pz - p_model >= 0.10:
        return text + ": a package designed for the veto players could do better than the forecast one."
    return text + "."
