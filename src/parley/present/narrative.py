"""A plain-language answer to the scenario's question, written only from the forecast's numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from parley.core.text import pct

if TYPE_CHECKING:
    from parley.analysis.forecast import Forecast


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


def _outcome_sentence(fc: Forecast, model: str, most: int = 6) -> str:
    """Where the model puts each issue: the median over draws and the 5–95% band, in the
    issue's units where it has them (the answer of an outcome-only scenario)."""
    out = {r["issue"]: r for r in fc.outcome_rows() if r["model"] == model}
    one = fc.results[model].one_run
    parts = []
    for issue in fc.scenario.issues[:most]:
        r = out[issue.id]
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


YES_NO = ("will", "would", "is", "are", "was", "were", "do", "does", "did", "can", "could", "shall",
          "should", "has", "have", "had", "may", "might", "must")
"""First words of a question a probability can answer with "likely" or "unlikely"."""

TIE_POINTS = 0.05
"""Two veto players whose acceptance differs by less than this (5 points) are called tied: a
difference that small is within what one edit of the inputs or another model moves. A
presentation rule, not a fitted value; a larger difference must also be resolved by the draws
(a paired 95% test, `_resolved`)."""


def answer(fc: Forecast, model: str | None = None, with_lead: bool = True) -> str:
    """One paragraph: the verdict, how sure, what it rests on, who blocks and what would move them.

    It opens with what the scenario's counterfactual lever changes (`Forecast.lead`) unless
    `with_lead` is False (for callers that show that sentence on its own, like the report).
    Kept on the forecast once written: `parley run` shows it and records it (`to_dict`), and
    writing it solves every model once at the most likely inputs."""
    memo = fc.__dict__.setdefault("_answers", {})
    key = (model, with_lead)
    if key not in memo:
        memo[key] = _answer(fc, model, with_lead)
    return memo[key]


def _answer(fc: Forecast, model: str | None, with_lead: bool) -> str:
    sc = fc.scenario
    model = model or next(iter(fc.results))
    res = fc.results[model]
    p, lo, hi = res.p_settlement()
    spread = _spread_sentence(fc)
    if not sc.tests_settlement:
        return " ".join(x for x in (
            f"{sc.question.strip()}{_horizon(fc)} {_outcome_sentence(fc, model)}",
            spread,
            "The settlement test is off for this scenario (`settlement_test: false`, as in files "
            "imported with no veto players), so parley forecasts the outcome on each issue but not "
            "whether the parties would settle. To ask that, mark the actors who must sign with "
            "`veto: true`, give them `reservation` values and remove `settlement_test: false`.",
        ) if x)
    lead = fc.lead if with_lead and model == next(iter(fc.results)) else ""
    parts = [lead] if lead else []
    if res.one_run:  # no uncertain inputs: one run, a yes or a no
        who = "every veto player accepts" if p else "not every veto player accepts"
        share = f"{who} the predicted package (no uncertain inputs: one run)"
        precision = ""
    else:
        share = (f"every veto player accepts the predicted package in {pct(p)} of {res.n:,} simulated "
                 f"cases")
        precision = (f" The range {pct(lo)}–{pct(hi)} is simulation precision (how closely {res.n:,} "
                     "draws pin that share down), not confidence about the world; the settlement test "
                     "itself has no track record.")
    if _is_yes_no(sc.question):
        parts.append(f"{sc.question.strip()}{_horizon(fc)} {verdict(p)}, on these inputs: under the "
                     f"{model} model {share}.{precision}")
    else:
        parts.append(f"{sc.question.strip()}{_horizon(fc)} parley does not answer this question directly: "
                     f"it forecasts the outcome on each issue (see the table) and whether the veto players "
                     f"settle. On the latter, {verdict(p).lower()}: under the {model} model {share}."
                     f"{precision}")
    if len(fc.results) > 1:
        parts.append("P(settlement) across the models run: "
                     + ", ".join(f"{r['model']} {pct(r['p_settlement'])}" for r in fc.settlement_rows())
                     + ".")
    if spread:
        parts.append(spread)
    if fc.zone is not None:
        parts.append(_zone_sentence(fc, p))
    gaps = _gaps_sentence(fc, p)
    if gaps:
        parts.append(gaps)
    if res.p_package() < 0.999:
        parts.append(_no_package_sentence(fc, model))
    parts += _actor_sentences(fc, model)
    parts.append(
        "All inputs are analyst estimates written in the scenario file; change them there to "
        "test other readings."
    )
    return " ".join(parts)


def _is_yes_no(question: str) -> bool:
    words = question.strip().split()
    return bool(words) and words[0].lower().strip("¿\"'") in YES_NO


def _horizon(fc: Forecast) -> str:
    """The scenario's horizon, said once after the question (the models themselves have no clock)."""
    h = getattr(fc.scenario, "horizon", None)
    if h is None:
        return ""
    return (f" (by {h.day} {h:%B %Y}, the scenario's horizon: the models have no clock, so the answer "
            f"takes the negotiation coded on {fc.scenario.as_of.isoformat()} to play out by then)")


def _spread_sentence(fc: Forecast) -> str:
    """Every model's point forecast in one line (range per issue), and the models that stand apart."""
    from parley.analysis.model_spread import spread

    sp = spread(fc)
    sc = fc.scenario
    if len(sp.models) < 2:
        return ""
    ranges = []
    for k, issue in enumerate(sc.issues):
        vals = sorted((sp.outcome[m][k], m) for m in sp.models if np.isfinite(sp.outcome[m][k]))
        if not vals:
            continue
        low, high = vals[0], vals[-1]
        ranges.append(f"{_lower_first(issue.name)} {low[0]:.0f} ({low[1]})–{high[0]:.0f} ({high[1]})")
    models = ", ".join(sp.models)
    text = f"All {len(sp.models)} models at the most likely inputs ({models}): " + "; ".join(ranges)
    if sp.no_package():
        text += f"; {_join(sp.no_package())} found no package"
    text += "."
    notes = []
    for f in sp.flags:
        name = _lower_first(sc.issue(f.issue).name)
        if f.reason == "outside":
            notes.append(f"{f.model} puts {name} at {f.value:.0f}, beyond what every veto player accepts "
                         f"on that issue ({f.gap:.0f} points past the nearest)")
        else:
            notes.append(f"{f.model} puts {name} at {f.value:.0f}, {f.gap:.0f} points from the nearest "
                         "other model")
    if notes:
        text += " Read with care: " + "; ".join(notes) + "."
    if sp.failed:
        text += " Not run here: " + ", ".join(f"{m} ({why})" for m, why in sp.failed.items()) + "."
    return text


def _gaps_sentence(fc: Forecast, p: float) -> str:
    """What a low P(settlement) rests on: where two veto players' walk-away points do not meet."""
    if p >= 0.20:
        return ""
    from parley.analysis.model_spread import reservation_gaps

    gaps = reservation_gaps(fc.scenario)
    if not gaps:
        return ""
    items = [_gap_text(fc.scenario.issue(str(g["issue"])), g) for g in gaps[:3]]
    return (f"The {pct(p)} rests mostly on the gaps between the veto players' reservation points at "
            f"their most likely values: {_join(items)}. Gains on other issues could offset such a "
            "gap only where an actor cares enough about them.")


def _gap_text(issue, g: dict) -> str:
    """One gap in words, in the issue's units where it has them (a scale may run backwards)."""
    lo_end, hi_end = float(g["low_end"]), float(g["high_end"])
    words = ("at most", "at least")
    if issue.scale is not None:
        sc = issue.scale
        if sc.to_units(100) < sc.to_units(0):
            words = words[::-1]
        a = f"{sc.rounded(sc.to_units(lo_end))} {sc.unit}"
        b = f"{sc.rounded(sc.to_units(hi_end))} {sc.unit}"
    else:
        a, b = f"{lo_end:.0f}", f"{hi_end:.0f}"
    return (f"{_lower_first(issue.name)} ({g['low_actor']} accepts {words[0]} {a}, {g['high_actor']} "
            f"{words[1]} {b}: {_a(float(g['gap']))}-point gap)")


def _a(points: float) -> str:
    """'a 30' / 'an 11', 'an 8', 'an 80' (gaps are at most 100 points)."""
    n = f"{points:.0f}"
    return f"an {n}" if n[0] == "8" or n in ("11", "18") else f"a {n}"


def _no_package_sentence(fc: Forecast, model: str) -> str:
    """Why a model produced no package in some draws; for nash, what its solution needs."""
    res = fc.results[model]
    share = pct(1 - res.p_package())
    if model == "nash":
        sc = fc.scenario
        stakes = len({s.actor for s in sc.stances})
        rule = res.params.get("disagreement", "reservation")
        point = ("its no-deal point (its reservation where it states one, else the status quo)"
                 if rule == "reservation" else "the status quo")
        return (f"The nash model produces no package in {share} of cases: the Nash bargaining "
                f"solution needs a package that every actor with a stake (all {stakes} here, veto "
                f"or not) prefers to {point}, and in those cases there is none.")
    return f"The {model} model produces no package in {share} of cases."


def _resolved(fc: Forecast, model: str, a: str, b: str) -> bool:
    """Whether veto players a and b differ in acceptance by at least TIE_POINTS and the draws
    resolve the difference (paired test on the same draws, 95%)."""
    res = fc.results[model]
    ids = fc.scenario.actor_ids
    ok = res.draws.agreement
    n = int(ok.sum())
    if n == 0:
        return False
    x = res.draws.accept[ok, ids.index(a)]
    y = res.draws.accept[ok, ids.index(b)]
    n10, n01 = int((x & ~y).sum()), int((~x & y).sum())
    diff = (n10 - n01) / n
    se = np.sqrt(max(n10 + n01 - (n10 - n01) ** 2 / n, 0.0)) / n
    return abs(diff) >= TIE_POINTS and abs(diff) > 1.96 * se


def _actor_sentences(fc: Forecast, model: str) -> list[str]:
    """Who blocks (ties said as ties), where the two main refusers pull apart, and the rest."""
    res = fc.results[model]
    if res.p_package() == 0:
        return [f"With no package in any draw there is nothing for the veto players to accept under "
                f"the {model} model; the other models' packages are in the table."]
    mine = [_Row(r) for r in fc.actor_rows() if r["model"] == model]
    # least accepting first (a stable sort, as pandas sorted); NaN (no package) rows dropped
    rows = sorted((r for r in mine if r.p_accept == r.p_accept), key=lambda r: r.p_accept)
    if not rows:
        return []
    blockers = [_Row(r) for r in fc.blocker_rows() if r["model"] == model]
    worst = rows[0]
    parts = []
    if worst.p_accept >= 0.5:
        parts.append(f"The most reluctant veto player, {worst.actor_name}, still accepts in "
                     f"{pct(worst.p_accept)} of cases.")
        mentioned = 1
    else:
        tied = [r for r in rows[1:] if r.p_accept < 0.5 and not _resolved(fc, model, r.actor, worst.actor)]
        if tied:
            group = [worst, *tied]
            names = _join([f"{r.actor_name} ({pct(r.p_accept)})" for r in group])
            parts.append(f"The main obstacles are {names}, tied: the difference in how often they "
                         "accept is too small to rank them.")
            parts.append(_blocker_sentence(fc, model, worst, blockers, main=False))
        else:
            parts.append(_blocker_sentence(fc, model, worst, blockers))
        mentioned = 1 + len(tied)
        second = rows[1] if len(rows) > 1 else None
        if second is not None and second.p_accept < 0.5:
            parts.append(_opposed_sentence(fc, model, worst, second, blockers, tied=bool(tied)))
            mentioned = max(mentioned, 2)
    keen = [f"{r.actor_name} {pct(r.p_accept)}" for r in rows[mentioned:]]
    if keen:
        parts.append("Acceptance by the other veto players: " + ", ".join(keen) + ".")
    return parts


def _blocker_sentence(fc: Forecast, model: str, worst, blockers, main: bool = True) -> str:
    sc = fc.scenario
    if main:
        text = (f"The main obstacle is {worst.actor_name}, which accepts in only {pct(worst.p_accept)} "
                "of cases")
    else:
        text = f"{worst.actor_name} accepts in {pct(worst.p_accept)} of cases"
    mine = [r for r in blockers if r.actor == worst.actor]
    if not mine:
        return text + "."
    top = max(mine, key=lambda r: r.share_driving)  # the first of the largest
    issue = sc.issue(top.issue)
    share = pct(top.share_driving)
    text += f"; {_lower_first(issue.name)} is what it rejects most often ({share} of its refusals)"
    movable = [r for r in mine if np.isfinite(r.median_move) and r.share_fixable_alone > 0]
    if movable:
        best = min(movable, key=lambda r: (-r.share_fixable_alone, r.median_move))
        issue_b = sc.issue(best.issue)
        units = f" ({issue_b.scale.move(best.median_move)})" if issue_b.scale is not None else ""
        text += (
            f". Moving {_lower_first(issue_b.name)} about {best.median_move:.0f} points{units} towards "
            f"its position would win it over in {pct(best.share_fixable_alone)} of those cases"
        )
    else:
        text += ". No single issue, moved alone, wins it over: it needs concessions on several"
    return text + "."


class _Row:
    """A table row read by attribute (`row.p_accept`), as the sentences below read it."""

    def __init__(self, row: dict) -> None:
        self.__dict__.update(row)


def _lower_first(name: str) -> str:
    """Lower-case a leading common word, keep proper names ("US–Russia", "Ukraine's")."""
    first = name.split()[0] if name.split() else name
    if first[:1].isupper() and first[1:].islower() and "'" not in first and first.isalpha():
        return name[0].lower() + name[1:]
    return name


def _opposed_sentence(fc: Forecast, model: str, a, b, blockers, tied: bool = False) -> str:
    """Two refusing veto players: say where they pull the package in opposite directions."""
    sc = fc.scenario
    res = fc.results[model]
    i, j = sc.actor_ids.index(a.actor), sc.actor_ids.index(b.actor)
    from parley.core.batch import point

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
    text = (f"{b.actor_name} refuses in most cases too" if tied
            else f"{b.actor_name} also refuses in most cases (accepts in {pct(b.p_accept)})")
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
