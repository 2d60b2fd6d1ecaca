"""Global sensitivity analysis: which analyst estimates drive P(settlement) and each outcome.

SALib draws points in the unit cube, one coordinate per uncertain input; each coordinate is used
as that input's uniform and pushed through the same inverse-CDF path as the Monte Carlo draws
(`batch.from_uniforms`). The indices therefore describe the scenario's own uncertainty: an input
written with a wide range can matter, a fixed number cannot (it is not an input at all).

Outputs per sample point:
- ``settlement``: 1 when every veto player accepts the package, else 0;
- ``gap``: the largest deficit among veto players (salience-weighted points on 0–100 by which the
  package falls short of their reservation; <= 0 means everyone accepts). It varies even when the
  settlement indicator does not, so it shows what moves the parties *towards* a deal;
- one output per issue: the predicted outcome (where the model finds no package, the status quo
  of that draw stands in, or the mean of the other points when the issue has none).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from parley.analysis.forecast import DEFAULT_SEED
from parley.analysis.parallel import executor, run_tasks
from parley.analysis.settlement import Rule
from parley.analysis.simulate import solve_batch
from parley.core import batch as batching
from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario
from parley.core.version import VERSION
from parley.models import registry

Method = Literal["sobol", "morris", "auto"]
AUTO_MORRIS_INPUTS = 200
"""With method='auto', scenarios with more uncertain inputs than this get Morris screening
(runs grow like n x inputs for both, but Sobol needs a larger n to rank many inputs)."""
GroupBy = Literal["input", "actor", "field", "issue"]
ROWS_PER_TASK = 8192
EPS = 1e-6
"""Unit-cube points are kept inside [EPS, 1 - EPS]: the inverse CDF of a normal estimate is
infinite at 0 and 1 (Morris puts points exactly on the faces)."""


@dataclass(frozen=True)
class Sensitivity:
    """Indices per output and input (or input group), tidy: one row per (output, input)."""

    scenario_id: str
    model: str
    method: Method
    group_by: GroupBy
    table: pd.DataFrame
    runs: int
    constant: tuple[str, ...]  # outputs that did not vary across the sample
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> str:
        """The column that ranks inputs: total-order index (Sobol) or mu* (Morris)."""
        return "ST" if self.method == "sobol" else "mu_star"

    def outputs(self) -> list[str]:
        return list(dict.fromkeys(self.table.output))

    def top(self, output: str, k: int = 15) -> pd.DataFrame:
        rows = self.table[self.table.output == output]
        return rows.sort_values(self.score, ascending=False).head(k).reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        recs = [
            {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
            for r in self.table.to_dict(orient="records")
        ]
        return {"scenario": self.scenario_id, "model": self.model, "method": self.method,
                "group_by": self.group_by, "runs": self.runs, "constant_outputs": list(self.constant),
                "indices": recs, "provenance": self.provenance}


def input_groups(lay: batching.Layout, group_by: GroupBy) -> list[str]:
    """The group of every uncertain input (its own label when group_by='input')."""
    out = []
    for inp in lay.inputs:
        if group_by == "input":
            out.append(inp.label)
        elif group_by == "field":
            out.append(inp.field)
        elif group_by == "actor":
            out.append(lay.actors[inp.actor] if inp.actor is not None else "status quo")
        else:
            out.append(lay.issues[inp.issue] if inp.issue is not None else "capability")
    return out


def evaluate(lay: batching.Layout, model: str, params: Any, rule: Rule, x: np.ndarray) -> np.ndarray:
    """Outputs [rows, 2 + K] (settlement, gap, outcome per issue) at unit-cube points x."""
    b = batching.from_uniforms(lay, np.clip(x, EPS, 1 - EPS))
    d = solve_batch(b, model, params, rule)
    veto = b.veto
    gap = np.nanmax(np.where(veto[None], d.deficit, -np.inf), axis=1) if veto.any() else np.zeros(len(x))
    gap = np.where(d.agreement, gap, np.nan)
    outcome = np.where(d.agreement[:, None], d.outcome, b.status_quo)
    return np.column_stack([d.settle.astype(float), gap, outcome])


def result_columns(scenario: Scenario, lay: batching.Layout,
                   outputs: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The columns `evaluate` returns, and those asked for (default: all the scenario offers),
    with a clear error for an unknown one."""
    every = ["settlement", "gap", *lay.issues]
    # settlement and gap exist only where there are veto players to accept or refuse
    offered = every if scenario.tests_settlement else list(lay.issues)
    wanted = list(outputs) if outputs else offered
    unknown = [o for o in wanted if o not in offered]
    if unknown:
        raise ParleyInputError([Problem("--result", f"unknown result '{unknown[0]}'",
                                        f"use one of: {', '.join(offered)}")])
    return every, wanted


def fill_missing(y: np.ndarray) -> np.ndarray:
    """Columns without a value in some rows (no package, no status quo): fill with the column
    mean for the outcomes and with the column maximum for the gap (no package = far apart)."""
    y = y.copy()
    for j in range(y.shape[1]):
        bad = ~np.isfinite(y[:, j])
        if bad.any() and (~bad).any():
            y[bad, j] = np.nanmax(y[~bad, j]) if j == 1 else np.nanmean(y[~bad, j])
        elif bad.all():
            y[:, j] = 0.0
    return y


def sensitivity(
    scenario: Scenario,
    model: str = "compromise",
    *,
    method: Method = "sobol",
    n: int = 256,
    seed: int = DEFAULT_SEED,
    group_by: GroupBy = "input",
    outputs: Sequence[str] | None = None,
    params: dict[str, Any] | None = None,
    rule: Rule = "compensatory",
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> Sensitivity:
    """Sobol (first and total order, Saltelli/Jansen estimators) or Morris (mu*, sigma) indices.

    n: Sobol base sample (rounded up to a power of two; runs = n x (groups + 2)) or Morris
    trajectories (runs = n x (groups + 1)). outputs: which results to analyse (default all:
    settlement, gap and every issue id; only the issues for a scenario without a settlement
    test). progress(k) is called with model runs finished; on_total(runs) once the sample
    size is known.
    """
    if method not in ("sobol", "morris", "auto"):
        raise ParleyInputError([Problem("--method", f"unknown method '{method}'",
                                        "use sobol, morris or auto")])
    if group_by not in ("input", "actor", "field", "issue"):
        raise ParleyInputError([Problem("--group-by", f"unknown grouping '{group_by}'",
                                        "use input, actor, field or issue")])
    if n < 2:
        raise ParleyInputError([Problem("--samples", f"need at least 2 samples, got {n}", "use e.g. 256")])
    if bad_seed := batching.seed_problems(seed):
        raise ParleyInputError(bad_seed)
    p = registry.make_params(model, params)
    lay = batching.layout(scenario)
    every, wanted = result_columns(scenario, lay, outputs)
    if lay.n_inputs < 2:
        raise ParleyInputError([Problem("", f"scenario '{scenario.id}' has {lay.n_inputs} uncertain "
                                        "input(s); sensitivity analysis needs at least two",
                                        "write uncertain values as {low, mode, high} or {mean, sd}")])
    if method == "auto":
        method = "morris" if lay.n_inputs > AUTO_MORRIS_INPUTS else "sobol"
    groups = input_groups(lay, group_by)
    names = list(dict.fromkeys(groups))
    problem: dict[str, Any] = {
        "num_vars": lay.n_inputs,
        "names": [inp.label for inp in lay.inputs],
        "bounds": [[0.0, 1.0]] * lay.n_inputs,
    }
    if group_by != "input":
        if len(names) < 2:
            raise ParleyInputError([Problem("--group-by", f"grouping by {group_by} leaves one group",
                                            "group by input or another key")])
        problem["groups"] = groups
    if method == "sobol":
        from SALib.sample import sobol as sampler

        base = 1 << int(np.ceil(np.log2(n)))
        x = sampler.sample(problem, base, calc_second_order=False, scramble=True, seed=seed)
    else:
        from SALib.sample import morris as sampler

        x = sampler.sample(problem, n, num_levels=4, seed=seed)
    if on_total:
        on_total(len(x))
    blocks = [x[i : i + ROWS_PER_TASK] for i in range(0, len(x), ROWS_PER_TASK)]
    tasks = [(lay, model, p, rule, blk) for blk in blocks]
    sizes = iter([len(blk) for blk in blocks])

    def tick(_: int) -> None:
        if progress:
            progress(next(sizes))

    big = len(x) * len(lay.actors) > 2_000_000 and len(blocks) > 1
    with executor(scheduler, workers, parallel=big) as pool:
        parts = run_tasks(evaluate, tasks, pool, tick)
    y = fill_missing(np.concatenate(parts))
    rows: list[dict[str, Any]] = []
    constant = []
    for out in wanted:
        col = y[:, every.index(out)]
        if np.ptp(col) <= 1e-12:
            constant.append(out)
            for g in names:
                rows.append(_zero_row(out, g, method))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows += _analyse(problem, x, col, method, names, out, seed)
    table = pd.DataFrame(rows)
    provenance = {
        "parley_version": VERSION, "scenario_id": scenario.id, "scenario_hash": scenario.content_hash(),
        "model": model, "params": registry.params_dict(p), "method": method, "samples": n,
        "runs": len(x), "seed": seed, "settlement_rule": rule, "group_by": group_by,
        "uncertain_inputs": lay.n_inputs,
    }
    return Sensitivity(scenario.id, model, method, group_by, table, len(x), tuple(constant), provenance)


def _zero_row(out: str, name: str, method: Method) -> dict[str, Any]:
    if method == "sobol":
        return {"output": out, "input": name, "S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0}
    return {"output": out, "input": name, "mu_star": 0.0, "mu_star_conf": 0.0, "sigma": 0.0}


def _analyse(problem: dict[str, Any], x: np.ndarray, y: np.ndarray, method: Method, names: list[str],
             out: str, seed: int) -> list[dict[str, Any]]:
    if method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=100, conf_level=0.95,
                            seed=seed)
        return [
            {"output": out, "input": g, "S1": float(res["S1"][i]), "S1_conf": float(res["S1_conf"][i]),
             "ST": float(res["ST"][i]), "ST_conf": float(res["ST_conf"][i])}
            for i, g in enumerate(names)
        ]
    from SALib.analyze import morris

    res = morris.analyze(problem, x, y, num_resamples=100, conf_level=0.95, num_levels=4, seed=seed)
    got = list(res["names"])
    return [
        {"output": out, "input": g, "mu_star": float(res["mu_star"][got.index(g)]),
         "mu_star_conf": float(res["mu_star_conf"][got.index(g)]), "sigma": float(res["sigma"][got.index(g)])}
        for g in names
    ]
