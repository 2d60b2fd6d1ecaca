"""Model registry: names -> modules with `solve(batch, params) -> Outcome` and a `Params` class.

Modules are imported on first use, so listing models (CLI help, web forms) stays cheap.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from parley.core.errors import ParleyInputError, Problem


@dataclass(frozen=True)
class ModelInfo:
    name: str
    module: str
    summary: str
    dynamic: bool = False
    cost: float = 1.0
    """Time per draw relative to the compromise model (measured on the bundled scenario); it
    decides when a run is worth a process pool. A module may refine it with
    `relative_cost(params)` (pce: its compiled engine is about 3 times faster than numpy)."""
    randomness: Callable[[Any], bool] | None = None
    """Fallback for `own_randomness` while a model's Params do not define the property."""


MODELS: dict[str, ModelInfo] = {
    "compromise": ModelInfo("compromise", "parley.models.compromise",
                            "weighted mean of positions (capability x salience)"),
    "median": ModelInfo("median", "parley.models.median", "weighted median position (median voter)"),
    "nash": ModelInfo("nash", "parley.models.nash",
                      "Nash bargaining solution over the disagreement point", cost=10),
    "bdm": ModelInfo("bdm", "parley.models.bdm",
                     "Bueno de Mesquita's expected-utility challenge model (rounds of offers)",
                     dynamic=True, cost=75),
    "pce": ModelInfo("pce", "parley.models.pce",
                     "KTAB's spatial bargaining model with probabilistic Condorcet elections",
                     dynamic=True, cost=15,
                     randomness=lambda p: bool(getattr(p, "stochastic", False))),
    "exchange": ModelInfo("exchange", "parley.models.exchange",
                          "Stokman–Van Oosten exchange model: equal-gain trades of support across "
                          "issues (rounds)", dynamic=True, cost=35,
                          randomness=lambda p: getattr(p, "rex", 0) > 0
                          or getattr(p, "ties", "first") == "random"),
    "ensemble": ModelInfo("ensemble", "parley.models.ensemble",
                          "convex mix of mean, median, Commission, Parliament, reference, centre "
                          "fitted on DEU"),
    "focal": ModelInfo("focal", "parley.models.focal",
                       "probabilities of landing at each actor's position or a focal point "
                       "(learnt from EU law-making)", cost=25),
}

STATIC = ("compromise", "median", "nash")
"""The models `parley run` shows by default."""


def relative_cost(name: str, params: Any) -> float:
    """Time per draw of `name` with `params`, relative to the compromise model."""
    refine = getattr(module(name), "relative_cost", None)
    return float(refine(params)) if refine is not None else MODELS[name].cost


def compiles_first(name: str, params: Any, draws: int, n_actors: int, n_issues: int) -> bool:
    """Whether running `name` on `draws` draws would first compile its compiled engine (the
    first Monte Carlo run of pce or exchange after installing): a model says so with a
    module function `compiles_first(params, draws, n_actors, n_issues)`."""
    check = getattr(module(name), "compiles_first", None)
    return bool(check(params, draws, n_actors, n_issues)) if check is not None else False


def own_randomness(name: str, params: Any) -> bool:
    """Whether the model draws random numbers of its own under these params (exchange's REX or
    random tie orders, pce's stochastic bargains): then every Monte Carlo draw differs even when
    the scenario has no uncertain input. A model says so with a boolean property
    `own_randomness` on its Params; a missing property means False."""
    flag = getattr(params, "own_randomness", None)
    if flag is not None:
        return bool(flag)
    fallback = MODELS[name].randomness if name in MODELS else None
    return bool(fallback(params)) if fallback is not None else False


def draws_needed(name: str, params: Any, n_inputs: int, draws: int) -> int:
    """Draws worth computing: all of them where anything is random, else one (a deterministic
    model on a scenario without uncertain inputs gives the same answer in every draw)."""
    return draws if n_inputs > 0 or own_randomness(name, params) else min(draws, 1)


def one_run_params(name: str, params: Any) -> Any:
    """The params to compute a model's single run with (a scenario without uncertain inputs):
    a module may define `one_run_params(params)` to pick what starts fastest (pce: its numpy
    engine rather than loading the compiled one)."""
    pick = getattr(module(name), "one_run_params", None)
    return pick(params) if pick is not None else params


def names() -> list[str]:
    return list(MODELS)


def module(name: str) -> ModuleType:
    """The module implementing a model; a clear error for an unknown name."""
    if name not in MODELS:
        raise ParleyInputError(
            [
                Problem(
                    "model",
                    f"unknown model '{name}'",
                    f"choose one of: {', '.join(MODELS)}",
                )
            ]
        )
    return importlib.import_module(MODELS[name].module)


def make_params(name: str, overrides: dict[str, Any] | None = None) -> Any:
    """The model's parameter object, with user overrides checked against its fields."""
    mod = module(name)
    overrides = dict(overrides or {})
    fields = {f.name: f for f in dataclasses.fields(mod.Params)}
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ParleyInputError(
            [
                Problem(
                    f"params.{unknown[0]}",
                    f"model '{name}' has no parameter '{unknown[0]}'",
                    f"its parameters are: {', '.join(fields) or 'none'}",
                )
            ]
        )
    try:
        return mod.Params(**overrides)
    except (TypeError, ValueError) as exc:
        raise ParleyInputError([Problem("params", str(exc), "check the parameter values")]) from None


def params_dict(params: Any) -> dict[str, Any]:
    """Parameters as plain data for provenance records."""
    return dataclasses.asdict(params)
