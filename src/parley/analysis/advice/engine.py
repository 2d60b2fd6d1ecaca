"""Many what-ifs on the same draws, solved as one batched model call per group of variants.

Each variant edits the sampled inputs (never the scenario), so every variant sees the baseline's
draws: its difference from the baseline, draw by draw, is its own effect (common random
numbers). The variants are stacked along the draw axis, so a model solves V x D draws in one
call instead of V calls (and never one call per draw).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from parley.analysis.advice.utility import utility
from parley.analysis.settlement import Rule, evaluate
from parley.core.batch import Batch
from parley.models import registry

Edit = Callable[[Batch], Batch]

GROUP_WORK = 40_000
"""Stacked draws per model call, in compromise-model draws (dynamic models get fewer, since
they keep a trajectory per draw): bounds memory, not results."""


@dataclass(frozen=True)
class Variant:
    """One what-if. `real`: the edit changes what actors want (persuasion, levers), so who accepts
    the package is judged on the edited inputs; otherwise it changes only what they bargain for
    (an own move, a trade) and acceptance is judged on the stances as written. What a package is
    worth to an actor is always judged on the stances as written: advice serves the interests
    the scenario gives the actor, not the ones a lever would give it."""

    id: str
    kind: str  # baseline | position | salience | persuade | trade | lever
    edit: Edit | None = None
    real: bool = False
    meta: dict[str, Any] | None = None


BASELINE = Variant("baseline", "baseline")


@dataclass(frozen=True)
class Runs:
    """Per-draw results of every variant under one model (variant 0 is the baseline)."""

    model: str
    outcome: np.ndarray  # [V, D, K], NaN where no package
    agreement: np.ndarray  # [V, D] bool
    settle: np.ndarray  # [V, D] bool

    def utility(self, truth: Batch, actor: int, tests_settlement: bool,
                variants: slice | Sequence[int] = slice(None)) -> np.ndarray:
        """What each variant's package is worth to `actor` per draw, [V, D] (see utility)."""
        return utility(truth, actor, self.outcome[variants], self.agreement[variants],
                       self.settle[variants], tests_settlement)


def stack(parts: Sequence[Batch]) -> Batch:
    """Batches of the same scenario one after another along the draw axis (no RNG stream: a
    model's own randomness then uses its fixed seed, the same for every variant)."""
    cat = {f: np.concatenate([getattr(p, f) for p in parts])
           for f in ("position", "salience", "capability", "reservation", "status_quo")}
    return replace(parts[0], seed=None, draw_start=0, **cat)


def run(base: Batch, variants: Sequence[Variant], model: str, params: Any, rule: Rule) -> Runs:
    """Solve `model` on every variant of the sampled draws `base`, in stacked groups, and test
    the settlement (on the veto players only: nobody else's acceptance decides it)."""
    d = base.draws
    cost = registry.relative_cost(model, params) * (4 if registry.MODELS[model].dynamic else 1)
    per_group = max(1, int(GROUP_WORK / cost) // max(d, 1))
    mod = registry.module(model)
    veto = np.flatnonzero(base.veto)
    base_veto = base.permute_actors(veto)  # only the veto players' acceptance decides a settlement
    outcome, agreement, settle = [], [], []
    for start in range(0, len(variants), per_group):
        group = variants[start:start + per_group]
        edited = [v.edit(base) if v.edit is not None else base for v in group]
        result = mod.solve(stack(edited), params)
        if veto.size:
            truth = stack([e.permute_actors(veto) if v.real else base_veto
                           for v, e in zip(group, edited, strict=True)])
            ok = evaluate(truth, result, rule).settle
        else:
            ok = np.zeros(result.agreement.shape, bool)
        outcome.append(np.where(result.agreement[:, None], result.outcome, np.nan).reshape(len(group), d, -1))
        agreement.append(result.agreement.reshape(len(group), d))
        settle.append(ok.reshape(len(group), d))
    return Runs(model, np.concatenate(outcome), np.concatenate(agreement), np.concatenate(settle))


# --- edits ------------------------------------------------------------------------------------
def shift_cells(field: str, cells: Sequence[tuple[int, int, float]]) -> Edit:
    """Add a constant to (actor, issue) cells of `position` (0–100) or `salience` (0–1),
    clipped to the valid range; cells where the actor has no stance are left alone."""

    def edit(b: Batch) -> Batch:
        arr = getattr(b, field).copy()
        hi = 1.0 if field == "salience" else 100.0
        for i, k, delta in cells:
            if b.engaged[i, k]:
                arr[:, i, k] = np.clip(arr[:, i, k] + delta, 0.0, hi)
        return replace(b, **{field: arr})

    return edit


def persuade(target: int, towards: int, step: float) -> Edit:
    """Actor `target` moves up to `step` points towards actor `towards` on every issue both
    weigh in on (in each draw, never past it); its reservation moves with its position."""

    def edit(b: Batch) -> Batch:
        both = b.engaged[target] & b.engaged[towards]
        gap = b.position[:, towards] - b.position[:, target]
        shift = np.where(both[None], np.clip(gap, -step, step), 0.0)
        pos, res = b.position.copy(), b.reservation.copy()
        pos[:, target] = b.position[:, target] + shift
        res[:, target] = np.clip(b.reservation[:, target] + shift, 0.0, 100.0)
        return replace(b, position=pos, reservation=res)

    return edit


def persuade_shift(b: Batch, target: int, towards: int, step: float) -> np.ndarray:
    """How far `persuade` moves the target on each issue in each draw: [D, K] points."""
    both = b.engaged[target] & b.engaged[towards]
    gap = b.position[:, towards] - b.position[:, target]
    return np.where(both[None], np.abs(np.clip(gap, -step, step)), 0.0)
