"""Where the uncertainty of a forecast comes from: a variance decomposition across input groups
and model choice (`parley sensitivity --decompose`).

Each output Y (the settlement indicator; the settlement margin `gap`, the largest shortfall of a
veto player's utility from its walk-away value, which varies even where the indicator does not;
each issue's outcome) is computed for every chosen model
m on the same input draws θ (common random numbers). Over the crossed design of models × draws
the variance splits exactly (two-way analysis of variance, equal weights):

    Var Y = Var_m(E_θ Y)            model choice
          + Var_θ(E_m Y)            the inputs (averaged over models)
          + the rest                model × inputs: models react differently to the same inputs
          - noise                   the models' own randomness, where they have it

The inputs' part is split further by group (each actor's positions, saliences, capability and
reservations; the status quo points) with first-order indices estimated by pick-and-freeze
(Saltelli 2010): V_g = E[Ȳ(B)·(Ȳ(A_B^g) − Ȳ(A))], where A_B^g is draw set A with group g's inputs
taken from draw set B. What the first-order terms leave of the inputs' part is "interactions
between inputs". Monte Carlo noise has two faces here: the models' own random numbers (a row,
estimated from a re-run with other random numbers; zero for deterministic models) and the
precision of the estimates themselves (the ± column: a bootstrap over draws).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.analysis.forecast import DEFAULT_SEED
from parley.analysis.sensitivity import evaluate, fill_missing, result_columns
from parley.analysis.settlement import Rule
from parley.core import batch as batching
from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario
from parley.core.version import VERSION
from parley.models import registry

FIELD_NAMES = {"position": "positions", "salience": "saliences", "capability": "capability",
               "reservation": "reservations", "status_quo": "status quo"}
KIND_ORDER = ("input", "inputs", "model", "interaction", "noise")


@dataclass(frozen=True)
class Decomposition:
    """Shares of each output's variance, one row per (output, component); shares sum to 1."""

    scenario_id: str
    models: tuple[str, ...]
    samples: int
    runs: int
    rows: list[dict[str, Any]]
    variance: dict[str, float]
    constant: tuple[str, ...]  # outputs with no variance at all (e.g. P(settlement) = 0 everywhere)
    provenance: dict[str, Any] = field(default_factory=dict)

    def outputs(self) -> list[str]:
        return list(dict.fromkeys(r["output"] for r in self.rows))

    def table(self, output: str) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["output"] == output]

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario_id, "models": list(self.models), "samples": self.samples,
                "runs": self.runs, "variance": self.variance, "shares": self.rows,
                "constant_outputs": list(self.constant),
                "provenance": self.provenance}


def groups(scenario: Scenario, lay: batching.Layout) -> list[str]:
    """The group label of every uncertain input: '<actor name> <field>' or 'status quo'."""
    names = {a.id: a.name for a in scenario.actors}
    out = []
    for inp in lay.inputs:
        if inp.actor is None:
            out.append(FIELD_NAMES[inp.field])
        else:
            out.append(f"{names[lay.actors[inp.actor]]}: {FIELD_NAMES[inp.field]}")
    return out


def decompose(
    scenario: Scenario,
    models: Sequence[str] = registry.STATIC,
    *,
    n: int = 1024,
    seed: int = DEFAULT_SEED,
    params: dict[str, dict[str, Any]] | None = None,
    rule: Rule = "compensatory",
    outputs: Sequence[str] | None = None,
    resamples: int = 200,
) -> Decomposition:
    """Split each output's variance into input groups, model choice, their interaction and noise.

    Runs per model: n × (groups + 2), plus n for a model with its own random numbers."""
    names = list(dict.fromkeys(models))
    if n < 8:
        raise ParleyInputError([Problem("--samples", f"need at least 8 samples, got {n}", "use e.g. 512")])
    if bad := batching.seed_problems(seed):
        raise ParleyInputError(bad)
    params = params or {}
    made = {m: registry.make_params(m, params.get(m)) for m in names}
    lay = batching.layout(scenario)
    every, wanted = result_columns(scenario, lay, outputs)
    labels = groups(scenario, lay)
    group_names = list(dict.fromkeys(labels))
    cols = {g: np.array([lab == g for lab in labels]) for g in group_names}
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    p_in = lay.n_inputs
    a = rng.random((n, p_in))
    b = rng.random((n, p_in))
    blocks = [a, b] + [np.where(cols[g][None, :], b, a) for g in group_names]
    x = np.vstack(blocks) if p_in else np.zeros((n * (2 + len(group_names)), 0))
    ys: dict[str, np.ndarray] = {}
    noise: dict[str, np.ndarray] = {}
    runs = 0
    for m in names:
        y = fill_missing(_evaluate(lay, m, made[m], rule, x))
        ys[m] = y.reshape(2 + len(group_names), n, -1)
        runs += len(x)
        if getattr(made[m], "own_randomness", False) and hasattr(made[m], "seed"):
            again = dataclasses.replace(made[m], seed=made[m].seed + 1)
            noise[m] = fill_missing(_evaluate(lay, m, again, rule, a))
            runs += n
    rows: list[dict[str, Any]] = []
    variance: dict[str, float] = {}
    constant: list[str] = []
    boot = np.random.default_rng(np.random.SeedSequence([seed, 1])).integers(0, n, size=(resamples, n))
    for out in wanted:
        j = every.index(out)
        f = np.stack([ys[m][:, :, j] for m in names])  # [M, 2 + G, n]
        eps = np.stack([(ys[m][0, :, j] - noise[m][:, j]) if m in noise else np.zeros(n) for m in names])
        shares, total = _shares(f, eps)
        if total <= 1e-12:
            constant.append(out)  # the same in every draw under every model: nothing to split
            continue
        reps = np.stack([_shares(f[:, :, idx], eps[:, idx])[0] for idx in boot])
        se = reps.std(axis=0, ddof=1) if resamples > 1 else np.zeros_like(shares)
        variance[out] = total
        comps = _components(group_names)
        for (name, kind), share, err in zip(comps, shares, se, strict=True):
            rows.append({"output": out, "component": name, "kind": kind, "share": float(share),
                         "se": float(err)})
    provenance = {
        "parley_version": VERSION, "scenario_id": scenario.id, "scenario_hash": scenario.content_hash(),
        "models": {m: registry.params_dict(made[m]) for m in names}, "samples": n, "runs": runs,
        "seed": seed, "settlement_rule": rule, "resamples": resamples, "uncertain_inputs": p_in,
    }
    return Decomposition(scenario.id, tuple(names), n, runs, rows, variance, tuple(constant), provenance)


def _evaluate(lay: batching.Layout, model: str, params: Any, rule: Rule, x: np.ndarray) -> np.ndarray:
    if lay.n_inputs == 0:
        one = evaluate(lay, model, params, rule, np.zeros((1, 0)))
        return np.repeat(one, len(x), axis=0)
    return evaluate(lay, model, params, rule, x)


def _components(group_names: list[str]) -> list[tuple[str, str]]:
    return [*((g, "input") for g in group_names), ("interactions between inputs", "inputs"),
            ("model choice", "model"), ("model × inputs", "interaction"),
            ("models' own randomness", "noise")]


def _shares(f: np.ndarray, eps: np.ndarray) -> tuple[np.ndarray, float]:
    """Shares [G + 4] from outputs f[M, 2 + G, n] (sets A, B, then A with each group from B) and
    the differences eps[M, n] between two runs with other model random numbers (0 if none)."""
    cells = f[:, :2, :].reshape(f.shape[0], -1)  # models × draws (A and B)
    total = float(cells.var())
    if total <= 1e-12:
        return np.zeros(f.shape[1] + 2), 0.0
    v_model = float(cells.mean(axis=1).var())
    row_mean = cells.mean(axis=0)
    v_inputs = float(row_mean.var())
    v_noise = float(np.mean(eps**2) / 2.0)
    v_inter = max(total - v_model - v_inputs - v_noise, 0.0)
    ybar = f.mean(axis=0)  # [2 + G, n]: outputs averaged over models
    ya, yb = ybar[0], ybar[1]
    first = np.clip(np.mean(yb[None, :] * (ybar[2:] - ya[None, :]), axis=1), 0.0, None)
    if first.sum() > v_inputs > 0:
        first *= v_inputs / first.sum()
    elif v_inputs <= 0:
        first[:] = 0.0
    v_rest = max(v_inputs - float(first.sum()), 0.0)
    parts = np.concatenate([first, [v_rest, v_model, v_inter, v_noise]])
    return parts / parts.sum(), total
