"""The what-ifs advice weighs for one actor: its own moves, persuading each other actor,
trades of support (the exchange model's logic) and the levers it owns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parley.analysis.advice.engine import Variant, persuade, shift_cells
from parley.analysis.levers import apply, compile_variant
from parley.core.batch import Batch
from parley.core.scenario import Lever, Scenario

POSITION_SIZES = (5.0, 10.0, 20.0)
SALIENCE_SIZES = (10.0, 20.0)


def others_centre(b: Batch, actor: int) -> np.ndarray:
    """The capability x salience weighted mean position of everyone else, per issue, at the
    point estimate: where a concession moves towards ([K], NaN where nobody else weighs in)."""
    w = b.weight()[0].copy()
    w[actor] = 0.0
    tot = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, (w * b.position[0]).sum(axis=0) / tot, np.nan)


def own_moves(s: Scenario, point: Batch, actor: int,
              sizes: tuple[float, ...] = POSITION_SIZES,
              salience_sizes: tuple[float, ...] = SALIENCE_SIZES) -> list[Variant]:
    """Concessions (towards the others' weighted centre) and hardenings of the actor's position
    on each issue, and raising or lowering its salience, each at several sizes."""
    out: list[Variant] = []
    centre = others_centre(point, actor)
    for k, issue in enumerate(s.issues):
        if not point.engaged[actor, k]:
            continue
        x = float(point.position[0, actor, k])
        sal = float(point.salience[0, actor, k]) * 100
        toward = np.sign(centre[k] - x) if np.isfinite(centre[k]) else 0.0
        for direction, sign in (("concede", toward), ("harden", -toward)):
            if sign == 0 or (direction == "harden" and not 0.5 < x < 99.5):
                continue
            for size in sizes:
                out.append(Variant(
                    f"{direction}:{issue.id}:{size:g}", "position",
                    shift_cells("position", [(actor, k, float(sign * size))]),
                    meta={"issue": issue.id, "direction": direction, "size": size,
                          "shift": float(sign * size)}))
        for direction, sign in (("raise", 1.0), ("lower", -1.0)):
            if (direction == "raise" and sal >= 99.5) or (direction == "lower" and sal <= 0.5):
                continue
            for size in salience_sizes:
                out.append(Variant(
                    f"{direction}_salience:{issue.id}:{size:g}", "salience",
                    shift_cells("salience", [(actor, k, sign * size / 100.0)]),
                    meta={"issue": issue.id, "direction": direction, "size": size,
                          "shift": sign * size}))
    return out


def persuasions(s: Scenario, point: Batch, actor: int, step: float) -> list[Variant]:
    """Each other actor that shares an issue with the advisee moves `step` points towards it
    on every such issue (its reservation with it): a real change of what it wants."""
    out = []
    for j, other in enumerate(s.actors):
        if j == actor or not (point.engaged[j] & point.engaged[actor]).any():
            continue
        out.append(Variant(f"persuade:{other.id}", "persuade", persuade(j, actor, step), real=True,
                           meta={"partner": j, "step": step}))
    return out


@dataclass(frozen=True)
class Trade:
    """An exchange of support: the advisee moves `give` points towards the partner on issue p,
    the partner `get` points towards the advisee on issue q (equal gains at the point estimate
    under the exchange model's weighted-mean logic)."""

    partner: int
    p: int  # issue the advisee gives on
    q: int  # issue the partner gives on
    give: float
    get: float
    shift_p: float  # signed move of the advisee's position on p
    shift_q: float  # signed move of the partner's position on q
    gain: float  # equal gain of each side at the point estimate, salience x points


def trades(point: Batch, actor: int, cap: float = 20.0, limit: int = 5) -> list[Trade]:
    """The best exchange with each partner, as the exchange model finds them.

    The advisee a supplies on p and demands on q when it cares relatively more about q than the
    partner j does (s_ap s_jq < s_aq s_jp) and the two sit on opposite sides of the outcome on
    both issues. Moving a position by m shifts the weighted-mean outcome by m w/W; gains are
    equal when dq = dp (s_ap + s_jp) / (s_aq + s_jq), capped as in the exchange model (nobody
    moves past the partner, no outcome past the demander). Moves are then scaled so that the
    larger is at most `cap` points (the gains stay equal, they are linear in the moves)."""
    x, s = point.position[0], point.salience[0]
    w = point.weight()[0]
    tot = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        o = (w * x).sum(axis=0) / tot
    a = actor
    best: dict[int, Trade] = {}
    n, k = x.shape
    for j in range(n):
        if j == a:
            continue
        for p in range(k):
            for q in range(k):
                if p == q or not (point.engaged[a, [p, q]].all() and point.engaged[j, [p, q]].all()):
                    continue
                if not s[a, p] * s[j, q] < s[a, q] * s[j, p]:
                    continue
                if not (np.sign(x[a, p] - o[p]) * np.sign(x[j, p] - o[p]) < 0
                        and np.sign(x[a, q] - o[q]) * np.sign(x[j, q] - o[q]) < 0):
                    continue
                if w[a, p] <= 0 or w[j, q] <= 0:
                    continue
                dp_max = min(w[a, p] / tot[p] * abs(x[a, p] - x[j, p]), abs(x[j, p] - o[p]))
                dq_max = min(w[j, q] / tot[q] * abs(x[j, q] - x[a, q]), abs(x[a, q] - o[q]))
                ratio = (s[a, p] + s[j, p]) / (s[a, q] + s[j, q])
                dp = min(dp_max, dq_max / ratio)
                dq = dp * ratio
                give, get = dp * tot[p] / w[a, p], dq * tot[q] / w[j, q]
                scale = min(1.0, cap / max(give, get)) if max(give, get) > 0 else 0.0
                give, get = round(give * scale), round(get * scale)
                if give < 1 or get < 1:
                    continue
                dp, dq = give * w[a, p] / tot[p], get * w[j, q] / tot[q]
                gain = min(s[a, q] * dq - s[a, p] * dp, s[j, p] * dp - s[j, q] * dq)
                if gain <= 0:
                    continue
                t = Trade(j, p, q, float(give), float(get),
                          float(np.sign(x[j, p] - x[a, p]) * give),
                          float(np.sign(x[a, q] - x[j, q]) * get), float(gain))
                if j not in best or t.gain > best[j].gain:
                    best[j] = t
    ranked = sorted(best.values(), key=lambda t: (-t.gain, t.partner))
    return ranked[:limit]


def trade_variants(s: Scenario, actor: int, found: list[Trade]) -> list[Variant]:
    """Both sides change the position they bargain for (not what they want)."""
    out = []
    for t in found:
        cells = [(actor, t.p, t.shift_p), (t.partner, t.q, t.shift_q)]
        out.append(Variant(f"trade:{s.actors[t.partner].id}:{s.issues[t.p].id}:{s.issues[t.q].id}",
                           "trade", shift_cells("position", cells), meta={"trade": t}))
    return out


def lever_variants(s: Scenario, actor: int, levers: list[Lever] | None = None) -> list[Variant]:
    """The levers the actor owns (`owner:`; the scenario's, or `levers` when given), as
    `parley compare` applies them."""
    out = []
    for lever in s.levers if levers is None else levers:
        if lever.owner == s.actors[actor].id:
            variant = compile_variant(s, (lever,))
            out.append(Variant(f"lever:{lever.id}", "lever", lambda b, v=variant: apply(b, v),
                               real=True, meta={"lever": lever}))
    return out
