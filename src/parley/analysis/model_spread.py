"""Every model's point forecast on the same inputs, and the ones that stand apart.

The models can disagree a lot on the same scenario (a weighted mean, a median, a bargaining
solution and rounds of offers read the same positions differently). A forecast run over draws
usually shows two or three of them; this module solves *every* registered model once, at the
most likely values of the inputs (one draw each, a few milliseconds), so an answer can show the
whole spread in one line and flag a model whose forecast sits where no veto player would accept
it or far from all the others, instead of printing it silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from parley.analysis.settlement import Rule
from parley.core import batch as batching
from parley.models import registry

if TYPE_CHECKING:
    from parley.analysis.forecast import Forecast
    from parley.core.scenario import Scenario

FAR = 25.0
"""A model whose forecast on an issue is more than this many points (0–100) from every other
model's is flagged as standing apart. A presentation threshold (a quarter of the scale), not a
fitted value: it marks disagreements larger than anything the models' track records explain."""

@dataclass(frozen=True)
class Flag:
    model: str
    issue: str  # issue id
    value: float  # 0–100
    reason: str  # "outside" (beyond every veto player's range on the issue) or "far" (from every other model)
    gap: float  # for "far": points to the nearest other model; for "outside": to the nearest acceptable range


@dataclass(frozen=True)
class Spread:
    """Point forecasts of every model (NaN where a model finds no package) and flags."""

    models: tuple[str, ...]
    outcome: dict[str, np.ndarray]  # model -> [K]
    settles: dict[str, bool]  # model -> every veto player accepts the point forecast
    failed: dict[str, str]  # model -> why it could not be solved on this scenario
    flags: tuple[Flag, ...]

    def no_package(self) -> list[str]:
        return [m for m in self.models if not np.isfinite(self.outcome[m]).any()]


def spread(fc: Forecast) -> Spread:
    """Every registered model at the most likely inputs, reusing the forecast's own point
    solutions (with its parameters) for the models it ran; computed once per forecast."""
    if "_model_spread" not in fc.__dict__:
        fc.__dict__["_model_spread"] = _spread(fc)
    return fc.__dict__["_model_spread"]


Solved = dict[str, "tuple[np.ndarray, bool] | str"]
"""Model -> (outcome [K], NaN without a package; every veto player accepts it), or why the
model could not be solved on the scenario."""


def _spread(fc: Forecast) -> Spread:
    sc = fc.scenario
    rule: Rule = fc.provenance.get("settlement_rule", "compensatory")
    lay = batching.layout(sc)
    ahead = fc.__dict__.get("_spread_ahead")
    others = (ahead.result() if ahead is not None else
              solve_others(sc, [m for m in registry.names() if m not in fc.results], rule))
    outcome: dict[str, np.ndarray] = {}
    settles: dict[str, bool] = {}
    failed: dict[str, str] = {}
    for name in registry.names():
        if name in fc.results:
            point = fc.results[name].point
            solved: tuple[np.ndarray, bool] | str = (_outcome(point), bool(point.settle[0]))
        else:
            solved = others[name]
        if isinstance(solved, str):
            failed[name] = solved
            continue
        outcome[name], settles[name] = solved
    models = tuple(outcome)
    return Spread(models, outcome, settles, failed, tuple(_flags(sc, lay.base, outcome)))


def _outcome(point) -> np.ndarray:
    ok = bool(point.agreement[0])
    return np.where(ok, point.outcome[0], np.nan).astype(float)


def solve_others(sc: Scenario, models: Sequence[str], rule: Rule) -> Solved:
    """The given models at the most likely inputs, with their default parameters, on one draw:
    the engine that starts fastest (pce's and exchange's numpy engines rather than loading the
    compiled ones; the same numbers either way)."""
    from parley.analysis.simulate import solve_batch

    base = batching.layout(sc).base
    out: Solved = {}
    for name in models:
        try:
            params = registry.one_run_params(name, registry.make_params(name))
            point = solve_batch(base, name, params, rule)
        except Exception as exc:  # a model that cannot read this scenario is reported, not fatal
            out[name] = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            continue
        out[name] = (_outcome(point), bool(point.settle[0]))
    return out


class Ahead:
    """`solve_others` started beside the forecast, on the second core.

    Why: the line of every model costs a one-draw run of each model the forecast did not run
    (on a 27-actor KTAB file the exchange model alone takes 0.2 s); on two cores that can
    overlap the forecast instead of following it. The models are shared with a forked process
    (`parallel.Shared`: it takes them from the front, the dynamic and slowest first; this
    process takes the rest from the back when it needs the line). Same function, same numbers;
    where forking is not available, `result()` solves every model here."""

    def __init__(self, sc: Scenario, models: Sequence[str], rule: Rule) -> None:
        from parley.analysis.parallel import Shared

        dynamic = [m for m in models if registry.MODELS[m].dynamic][::-1]  # exchange, pce, bdm
        self._models = dynamic + [m for m in models if m not in dynamic]
        self._shared = Shared(partial(_solve_one, sc, rule), self._models)

    def result(self) -> Solved:
        return dict(zip(self._models, self._shared.results(), strict=True))


def _solve_one(sc: Scenario, rule: Rule, name: str) -> tuple[np.ndarray, bool] | str:
    return solve_others(sc, [name], rule)[name]


class Ready:
    """Other models' point solutions computed already (by the forecast, while it waited for a
    model run in a forked process), handed to the line of every model as `Ahead` would."""

    def __init__(self, solved: Solved) -> None:
        self._solved = solved

    def result(self) -> Solved:
        return self._solved


def _acceptable(base: batching.Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per veto player and issue, the range it accepts on that issue taken alone (as the strict
    settlement rule reads a reservation): [x - |r - x|, x + |r - x|]; `has` marks where it states
    a reservation."""
    x, r = base.position[0], base.reservation[0]
    has = ~np.isnan(r) & base.engaged & base.veto[:, None]
    radius = np.abs(np.where(has, r, x) - x)
    return np.maximum(x - radius, 0.0), np.minimum(x + radius, 100.0), has


def _flags(sc: Scenario, base: batching.Batch, outcome: dict[str, np.ndarray]) -> list[Flag]:
    lo, hi, has = _acceptable(base) if sc.tests_settlement else (None, None, None)
    flags = []
    for k, issue in enumerate(sc.issues):
        values = {m: float(v[k]) for m, v in outcome.items() if np.isfinite(v[k])}
        for m, v in values.items():
            if has is not None and has[:, k].any():
                # beyond the hull of the veto players' ranges: every one of them would want it
                # moved the same way (a value in a gap between two ranges is not flagged: that
                # gap is the negotiation's problem, not the model's)
                low_end, high_end = float(lo[has[:, k], k].min()), float(hi[has[:, k], k].max())
                if v < low_end - 1e-9 or v > high_end + 1e-9:
                    gap = low_end - v if v < low_end else v - high_end
                    flags.append(Flag(m, issue.id, v, "outside", gap))
                    continue
            others = [w for n, w in values.items() if n != m]
            if len(others) >= 2:
                nearest = min(abs(v - w) for w in others)
                if nearest > FAR:
                    flags.append(Flag(m, issue.id, v, "far", nearest))
    return flags


def reservation_gaps(sc: Scenario) -> list[dict[str, object]]:
    """Issues on which two veto players' reservation points leave no overlap at the most likely
    values (each accepts the issue only on its own side of its reservation): which two, where
    each stands, and the gap in points. Largest gap first.

    Under the compensatory rule a gap on one issue can be bought with gains on another, so gaps
    do not by themselves rule a deal out; they say what a low P(settlement) rests on."""
    if not sc.tests_settlement:
        return []
    base = batching.point(sc)
    lo, hi, has = _acceptable(base)
    out = []
    for k, issue in enumerate(sc.issues):
        idx = np.flatnonzero(has[:, k])
        if len(idx) < 2:
            continue
        i_lo = idx[np.argmax(lo[idx, k])]  # the player whose range starts highest
        i_hi = idx[np.argmin(hi[idx, k])]  # the player whose range ends lowest
        gap = float(lo[i_lo, k] - hi[i_hi, k])
        if gap > 0:
            out.append({"issue": issue.id, "issue_name": issue.name, "gap": gap,
                        "low_actor": sc.actors[i_hi].name, "low_end": float(hi[i_hi, k]),
                        "high_actor": sc.actors[i_lo].name, "high_end": float(lo[i_lo, k])})
    return sorted(out, key=lambda g: -float(g["gap"]))  # type: ignore[arg-type]
