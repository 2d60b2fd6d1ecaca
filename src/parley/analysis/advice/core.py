"""`advise(scenario, actor)`: the actor's best own moves, whom to persuade, what to trade and
which of its levers help it, each measured against the baseline on the same draws."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from parley.analysis.advice import candidates as cand
from parley.analysis.advice.actors import display_names, resolve_actor
from parley.analysis.advice.engine import BASELINE, Runs, Variant, persuade_shift, run
from parley.analysis.advice.stats import mean_interval, paired, share
from parley.analysis.forecast import CI_LEVEL, DEFAULT_SEED
from parley.analysis.settlement import Rule
from parley.core import batch as batching
from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Lever, Scenario
from parley.core.version import VERSION
from parley.models import registry

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_MODELS = ("compromise", "median")
"""Cheap enough to weigh ~80 what-ifs x 2,000 draws in about a second; add nash, bdm or pce
with `models=` (their dynamics are re-run for every what-if, which costs their run time)."""
DEFAULT_DRAWS = 2_000
"""Effects are paired differences on common draws, so their intervals are narrow at 2,000."""
PERSUADE_STEP = 10.0
PIVOTAL_SHARE = 0.5


@dataclass(frozen=True)
class Advice:
    """Advice for one actor: tables (lists of rows, one per model and item) and provenance."""

    scenario: Scenario
    actor: int
    models: tuple[str, ...]
    baseline: list[dict[str, Any]]
    own_moves: list[dict[str, Any]]  # every candidate move
    persuasion: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    levers: list[dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def actor_id(self) -> str:
        return self.scenario.actors[self.actor].id

    @property
    def actor_name(self) -> str:
        return display_names(self.scenario)[self.actor]

    def ranked_moves(self, model: str | None = None, goal: str = "utility") -> list[dict[str, Any]]:
        """For each issue and kind of move (position, salience), the size and direction that most
        raises `goal` ("utility" or "settlement"), ranked best first."""
        key = "utility_delta" if goal == "utility" else "p_delta"
        rows = [r for r in self.own_moves if r["model"] == (model or self.models[0])]

        def order(r: dict[str, Any]) -> tuple[float, float, str]:  # ties: the cheaper move first
            return (-_num(r[key]), -_num(r["utility_delta"]), r["id"])

        best: dict[tuple[str, str], dict[str, Any]] = {}
        for r in sorted(rows, key=order):
            best.setdefault((r["issue"], r["kind"]), r)
        out = sorted(best.values(), key=order)
        return [{**r, "rank": n + 1, "goal": goal} for n, r in enumerate(out)]

    def tradeoff(self, model: str | None = None, top: int = 3) -> list[dict[str, Any]]:
        """Utility against P(settlement) along the best few moves, size by size from the
        baseline (size 0): how much of one buys how much of the other."""
        model = model or self.models[0]
        base = next(b for b in self.baseline if b["model"] == model)
        picks: list[tuple[str, str, str]] = []
        for goal in ("utility", "settlement"):
            for r in self.ranked_moves(model, goal)[:top]:
                key = (r["issue"], r["kind"], r["direction"])
                if key not in picks:
                    picks.append(key)
        curves = []
        for issue, kind, direction in picks:
            rows = sorted((r for r in self.own_moves if r["model"] == model and r["issue"] == issue
                           and r["kind"] == kind and r["direction"] == direction),
                          key=lambda r: r["size"])
            points = [{"size": 0.0, "utility": base["utility"], "p_settlement": base["p_settlement"]}]
            points += [{"size": r["size"], "utility": base["utility"] + r["utility_delta"],
                        "p_settlement": r["p_settlement"]} for r in rows]
            curves.append({"model": model, "issue": issue, "kind": kind, "direction": direction,
                           "label": rows[0]["label_stem"], "points": points})
        return curves

    def summary(self, model: str | None = None) -> str:
        """Three sentences an analyst can paste (see parley.analysis.advice.words)."""
        from parley.analysis.advice.words import summary

        return summary(self, model or self.models[0])

    def frame(self, table: str) -> pd.DataFrame:
        """One table as a DataFrame: baseline, own_moves, persuasion, trades or levers."""
        import pandas

        return pandas.DataFrame(getattr(self, table))

    def to_dict(self) -> dict[str, Any]:
        s = self.scenario
        return {
            "scenario": {"id": s.id, "title": s.title, "question": s.question},
            "actor": {"id": self.actor_id, "name": self.actor_name},
            "summary": {m: self.summary(m) for m in self.models},
            "ci_level": CI_LEVEL,
            "baseline": self.baseline,
            "own_moves": {m: self.ranked_moves(m, "utility") for m in self.models},
            "own_moves_for_settlement": {m: self.ranked_moves(m, "settlement") for m in self.models},
            "tradeoff": {m: self.tradeoff(m) for m in self.models},
            "persuasion": self.persuasion,
            "trades": self.trades,
            "levers": self.levers,
            "all_own_moves": self.own_moves,
            "provenance": self.provenance,
        }


def _num(x: float) -> float:
    return x if np.isfinite(x) else -np.inf


def advise(
    scenario: Scenario | str,
    actor: str,
    models: str | Sequence[str] = DEFAULT_MODELS,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    params: dict[str, dict[str, Any]] | None = None,
    rule: Rule = "compensatory",
    step: float = PERSUADE_STEP,
    trades: int = 5,
    levers: list[Lever] | None = None,
) -> Advice:
    """Advice for `actor` (an id or a name, any case) under each model.

    Every figure is a difference from the baseline on the same `draws` Monte Carlo draws
    (common random numbers), with its 90% interval. `step`: how far each other actor is moved
    towards the advisee to measure persuasion; `trades`: how many trades to test; `levers`:
    the levers to consider (default the scenario's; those the actor owns are tested).
    """
    from parley.io.loading import load

    s = load(scenario) if isinstance(scenario, str) else scenario
    a = resolve_actor(s, actor)
    names = (models,) if isinstance(models, str) else tuple(dict.fromkeys(models))
    _check_settings(names, step, trades)
    batching.check_run(draws, seed)
    params = params or {}
    ps = {m: registry.make_params(m, params.get(m)) for m in names}
    lay = batching.layout(s)
    point = lay.base
    base = batching.sample(lay, draws, seed)
    found = cand.trades(point, a, limit=trades)
    variants = [BASELINE, *cand.own_moves(s, point, a), *cand.persuasions(s, point, a, step),
                *cand.trade_variants(s, a, found), *cand.lever_variants(s, a, levers)]
    results = {m: run(base, variants, m, ps[m], rule) for m in names}
    settles = s.tests_settlement
    adv_sal = base.salience[:, a, :]
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("baseline", "own", "persuade", "trade", "lever")}
    for m, r in results.items():
        u = r.utility(base, a, settles)  # [V, D]: the advisee's utility in every variant
        rows["baseline"].append(_baseline_row(s, m, r, u[0]))
        for v, var in enumerate(variants[1:], start=1):
            common = _effects(r, u, v, settles)
            if var.kind in ("position", "salience"):
                rows["own"].append(_own_row(s, m, var, common))
            elif var.kind == "persuade":
                rows["persuade"].append(_persuade_row(s, m, var, r, v, a, base, adv_sal, common))
            elif var.kind == "trade":
                rows["trade"].append(_trade_row(s, var, r, v, a, base, common))
            else:
                rows["lever"].append(_lever_row(m, var, common))
    provenance = {
        "parley_version": VERSION, "scenario_id": s.id, "scenario_hash": s.content_hash(),
        "actor": s.actors[a].id, "models": {m: registry.params_dict(p) for m, p in ps.items()},
        "draws": draws, "seed": seed, "settlement_rule": rule, "persuade_step": step,
        "variants": len(variants), "common_random_numbers": True,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return Advice(s, a, names, rows["baseline"], rows["own"], _rank_persuasion(rows["persuade"]),
                  _rank(rows["trade"], "utility_delta"), _rank(rows["lever"], "utility_delta"),
                  provenance)


def _check_settings(models: tuple[str, ...], step: float, trades: int) -> None:
    problems = []
    if not models:
        problems.append(Problem("model", "no model chosen",
                                f"choose one or more of: {', '.join(registry.names())}"))
    if not (np.isfinite(step) and 0 < step <= 100):
        problems.append(Problem("step", f"the persuasion step must lie in (0, 100] points, got {step:g}",
                                "use e.g. 10"))
    if trades < 0:
        problems.append(Problem("trades", f"the number of trades must be >= 0, got {trades}", "use e.g. 5"))
    if problems:
        raise ParleyInputError(problems)


# --- rows ---------------------------------------------------------------------------------------
def _baseline_row(s: Scenario, model: str, r: Runs, u0: np.ndarray) -> dict[str, Any]:
    u, u_lo, u_hi = mean_interval(u0)
    p, p_lo, p_hi = share(r.settle[0]) if s.tests_settlement else (np.nan,) * 3
    return {"model": model, "utility": u, "utility_low": u_lo, "utility_high": u_hi,
            "p_settlement": p, "p_low": p_lo, "p_high": p_hi,
            "p_package": float(r.agreement[0].mean()),
            "outcome": {iss.id: _mean(r.outcome[0, :, k]) for k, iss in enumerate(s.issues)}}


def _mean(x: np.ndarray) -> float:
    """Mean over the draws with a package (NaN when there is none)."""
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def _effects(r: Runs, util: np.ndarray, v: int, settles: bool) -> dict[str, Any]:
    u = paired(util[v], util[0])
    p = paired(r.settle[v].astype(float), r.settle[0].astype(float)) if settles else (np.nan,) * 3
    return {"model": r.model, "utility_delta": u[0], "utility_low": u[1], "utility_high": u[2],
            "p_settlement": float(r.settle[v].mean()) if settles else np.nan,
            "p_delta": p[0], "p_low": p[1], "p_high": p[2]}


def _own_row(s: Scenario, model: str, var: Variant, eff: dict[str, Any]) -> dict[str, Any]:
    meta = var.meta or {}
    issue = s.issue(meta["issue"])
    from parley.analysis.advice.words import move_phrase

    return {"id": var.id, "kind": var.kind, "issue": issue.id, "issue_name": issue.name,
            "direction": meta["direction"], "size": meta["size"], "shift": meta["shift"],
            "label": move_phrase(issue, var.kind, meta["direction"], meta["size"]),
            "label_stem": move_phrase(issue, var.kind, meta["direction"], None), **eff}


def _persuade_row(s: Scenario, model: str, var: Variant, r: Runs, v: int, a: int, base: Any,
                  adv_sal: np.ndarray, eff: dict[str, Any]) -> dict[str, Any]:
    meta = var.meta or {}
    j, step = meta["partner"], meta["step"]
    shift = persuade_shift(base, j, a, step)  # [D, K]
    tot = adv_sal.sum(axis=1)
    moved = float(np.mean(np.where(tot > 0, (adv_sal * shift).sum(axis=1) / np.where(tot > 0, tot, 1), 0.0)))
    x_a = base.position[:, a, :]
    toward = np.abs(r.outcome[0] - x_a) - np.abs(r.outcome[v] - x_a)  # [D, K] closer = positive
    per_issue = {}
    for k, issue in enumerate(s.issues):
        sk = float(shift[:, k].mean())
        if sk > 0:
            m, lo, hi = mean_interval(toward[:, k])
            per_issue[issue.id] = {"moved": sk, "outcome_toward": m, "per_point": m / sk,
                                   "per_point_low": lo / sk, "per_point_high": hi / sk}
    scale = 1.0 / moved if moved > 0 else np.nan
    return {"actor": s.actors[j].id, "actor_name": display_names(s)[j], "step": step, "moved": moved,
            "effect_per_point": eff["utility_delta"] * scale,
            "effect_low": eff["utility_low"] * scale, "effect_high": eff["utility_high"] * scale,
            "issues": per_issue, **eff}


def _trade_row(s: Scenario, var: Variant, r: Runs, v: int, a: int, base: Any,
               eff: dict[str, Any]) -> dict[str, Any]:
    t: cand.Trade = (var.meta or {})["trade"]
    from parley.analysis.advice.words import offer

    up = r.utility(base, t.partner, s.tests_settlement, [0, v])
    pu = paired(up[1], up[0])
    return {"partner": s.actors[t.partner].id, "partner_name": display_names(s)[t.partner],
            "give_issue": s.issues[t.p].id, "give": t.give, "get_issue": s.issues[t.q].id,
            "get": t.get, "offer": offer(s, a, t), "exchange_gain": t.gain,
            "partner_delta": pu[0], "partner_low": pu[1], "partner_high": pu[2],
            "both_gain": bool(eff["utility_delta"] > 0 and pu[0] > 0), **eff}


def _lever_row(model: str, var: Variant, eff: dict[str, Any]) -> dict[str, Any]:
    lever = (var.meta or {})["lever"]
    return {"lever": lever.id, "name": lever.name, **eff}


def _rank(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = sorted((r for r in rows if r["model"] == model), key=lambda r: -_num(r[key]))
        out += [{"rank": n + 1, **r} for n, r in enumerate(mine)]
    return out


def _rank_persuasion(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranked by effect per point; pivotal: its effect is clearly positive (interval above zero)
    and at least half the largest, or persuading it clearly raises P(settlement)."""
    ranked = _rank(rows, "effect_per_point")
    for model in dict.fromkeys(r["model"] for r in ranked):
        mine = [r for r in ranked if r["model"] == model]
        top = max((_num(r["effect_per_point"]) for r in mine), default=0.0)
        for r in mine:
            strong = r["effect_low"] > 0 and r["effect_per_point"] >= PIVOTAL_SHARE * top
            r["pivotal"] = bool(strong or (np.isfinite(r["p_low"]) and r["p_low"] > 0))
    return ranked
