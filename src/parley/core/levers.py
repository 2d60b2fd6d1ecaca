"""Levers: named, declarative changes to a scenario, applied to sampled arrays.

A lever edits the *Batch* (after sampling), not the Scenario. Baseline and lever runs therefore
see exactly the same random draws (perfect common random numbers): any difference between them
is the lever's effect, not sampling noise. A lever is checked once against the point estimate:
if it pushes a value out of its valid range there, that is an error in the lever; in the tails
of the draws values are clipped to the valid range instead (a shift of +20 on a position drawn
at 95 lands on 100).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from parley.core.batch import Batch, Layout, layout
from parley.core.errors import Problem, unknown_ref

if TYPE_CHECKING:  # the scenario validates levers with this module: types only, no import cycle
    from parley.core.scenario import Change, Lever, Scenario

ISSUE_FIELDS = ("position", "salience", "reservation")
"""Fields set per (actor, issue): they need a stance."""

CAPABILITY_FLOOR = 1e-9


@dataclass(frozen=True)
class Op:
    """One compiled change: which cells, and the operation per issue on the 0–100 scale."""

    field: str
    actors: np.ndarray  # actor indices (empty for status_quo)
    issues: np.ndarray  # issue indices (empty for capability)
    kind: str  # set | shift | scale
    value: float
    offset: np.ndarray  # [len(issues)] units at 0 (0 when the issue has no scale)
    slope: np.ndarray  # [len(issues)] units per scale point (1 when the issue has no scale)


@dataclass(frozen=True)
class Variant:
    """Baseline (no levers) or one or more levers applied in order."""

    id: str
    name: str
    levers: tuple[Lever, ...]
    ops: tuple[Op, ...]

    @property
    def is_baseline(self) -> bool:
        return not self.levers

    @property
    def counterfactual_of(self) -> str:
        return self.levers[0].counterfactual_of if len(self.levers) == 1 else ""


BASELINE = "baseline"


# --- validation ------------------------------------------------------------------------------
def lever_problems(scenario: Scenario, levers: list[Lever], prefix: str = "levers") -> list[Problem]:
    """References, field/target fit and point-estimate ranges of levers on a scenario."""
    problems: list[Problem] = []
    actors, issues = scenario.actor_ids, scenario.issue_ids
    seen: dict[str, int] = {}
    for i, lever in enumerate(levers):
        path = f"{prefix}[{i}]"
        if lever.id in seen:
            problems.append(
                Problem(f"{path}.id", f"duplicate lever id '{lever.id}' (also {prefix}[{seen[lever.id]}])",
                        "give every lever its own id")
            )
        seen.setdefault(lever.id, i)
        if lever.id == BASELINE or "+" in lever.id:
            problems.append(
                Problem(f"{path}.id", f"'{lever.id}' cannot be a lever id",
                        "'baseline' is reserved and '+' combines levers on the command line")
            )
        for j, ch in enumerate(lever.changes):
            problems += _change_problems(scenario, ch, f"{path}.changes[{j}]", actors, issues)
        if lever.owner is not None and lever.owner not in actors:
            problems.append(unknown_ref(f"{path}.owner", "actor", lever.owner, actors))
    if problems:
        return problems
    lay = layout(scenario)
    for i, lever in enumerate(levers):
        problems += point_problems(scenario, lay, (lever,), f"{prefix}[{i}]")
    return problems


def point_problems(s: Scenario, lay: Layout, levers: tuple[Lever, ...], path: str) -> list[Problem]:
    """Apply levers change by change to the point estimate; report changes that touch nothing
    or push a value out of its valid range."""
    b = lay.base
    out: list[Problem] = []
    for lever in levers:
        for j, ch in enumerate(lever.changes):
            where = f"{path}.changes[{j}]" if len(levers) == 1 else f"{path} (lever {lever.id}).changes[{j}]"
            op = compile_change(s, ch)
            out += _range_problems(b, op, where)
            b = apply(b, (op,))
    return out


def _change_problems(
    s: Scenario, ch: Change, path: str, actors: list[str], issues: list[str]
) -> list[Problem]:
    out: list[Problem] = []
    for n, a in enumerate(ch.actors or []):
        if a not in actors:
            out.append(unknown_ref(f"{path}.actors[{n}]", "actor", a, actors))
    for n, k in enumerate(ch.issues or []):
        if k not in issues:
            out.append(unknown_ref(f"{path}.issues[{n}]", "issue", k, issues))
    if out:
        return out
    if ch.field == "capability" and ch.issues is not None:
        out.append(Problem(f"{path}.issues", "capability belongs to an actor, not to an issue",
                           "remove `issues:` from this change"))
    if ch.field == "status_quo" and ch.actors is not None:
        out.append(Problem(f"{path}.actors", "the status quo belongs to an issue, not to an actor",
                           "remove `actors:` from this change"))
    if ch.scale is not None and ch.scale < 0:
        out.append(Problem(f"{path}.scale", f"scale must be >= 0, got {ch.scale:g}",
                           "use a factor such as 0.8 (20% less) or 1.5 (50% more)"))
    if ch.field in ISSUE_FIELDS:
        for a in ch.actors or actors:
            for k in ch.issues or issues:
                st = s.stance(a, k)
                explicit = ch.actors is not None and ch.issues is not None
                if st is None and explicit:
                    out.append(Problem(
                        path, f"actor '{a}' has no stance on issue '{k}', so it has no {ch.field} there",
                        f"add a stance for {a} on {k} to the scenario, or drop {a} or {k} from this change"))
                elif (st is not None and ch.field == "reservation" and st.reservation is None
                      and ch.set is None and explicit):
                    out.append(Problem(
                        path, f"actor '{a}' has no reservation on issue '{k}' to {_verb(ch)}",
                        "use `set:` to give it one, or add a reservation to its stance"))
    if ch.field == "status_quo" and ch.set is None:
        for k in ch.issues or issues:
            if s.issue(k).status_quo is None and ch.issues is not None:
                out.append(Problem(path, f"issue '{k}' has no status quo to {_verb(ch)}",
                                   "use `set:` to give it one, or add `status_quo` to the issue"))
    return out


def _verb(ch: Change) -> str:
    return "shift" if ch.shift is not None else "scale"


def _range_problems(b: Batch, op: Op, path: str) -> list[Problem]:
    """Values an op would put out of range at the point estimate (b has one draw)."""
    values, labels = _raw_values(b, op)
    if values.size == 0 or np.isnan(values).all():
        return [Problem(path, f"this change touches no {op.field} value (no matching stance has one)",
                        "check the actors and issues it names")]
    lo, hi = _bounds(op.field)
    bad = ~np.isnan(values) & ((values < lo - 1e-9) | (values > hi + 1e-9))
    if op.field == "capability":
        bad = values <= 0
    if not bad.any():
        return []
    n = int(np.flatnonzero(bad.ravel())[0])
    value, label = float(values.ravel()[n]), labels[n]
    if op.field == "capability":
        msg = f"makes {label} {value:g} at the point estimate; capability must stay > 0"
        fix = "use `scale:` with a positive factor, or a smaller negative shift"
    else:
        shown = value if op.field != "salience" else value * 100
        msg = (f"pushes {label} to {shown:.4g} at the point estimate, outside the valid range "
               f"{lo if op.field != 'salience' else 0:g}–{100:g} (on the 0–100 scale)")
        fix = "use a smaller shift or factor, or `set:` the value you mean"
    return [Problem(path, msg, fix)]


def _bounds(field: str) -> tuple[float, float]:
    if field == "salience":
        return 0.0, 1.0
    if field == "capability":
        return CAPABILITY_FLOOR, np.inf
    return 0.0, 100.0


# --- compiling and applying -------------------------------------------------------------------
def compile_change(s: Scenario, ch: Change) -> Op:
    """Indices and per-issue unit maps for one change (ids already validated)."""
    actor_ids, issue_ids = s.actor_ids, s.issue_ids
    if ch.field == "status_quo":
        a_idx: list[int] = []
    else:
        a_idx = [actor_ids.index(a) for a in (ch.actors or actor_ids)]
    if ch.field == "capability":
        k_idx: list[int] = []
    else:
        k_idx = [issue_ids.index(k) for k in (ch.issues or issue_ids)]
    offset = np.zeros(len(k_idx))
    slope = np.ones(len(k_idx))
    if ch.field in ("position", "reservation", "status_quo"):
        for n, k in enumerate(k_idx):
            sc = s.issues[k].scale
            if sc is not None:
                offset[n], slope[n] = sc.at_0, (sc.at_100 - sc.at_0) / 100.0
    kind = "set" if ch.set is not None else "shift" if ch.shift is not None else "scale"
    value = float(ch.set if ch.set is not None else ch.shift if ch.shift is not None else ch.scale)
    return Op(ch.field, np.array(a_idx, int), np.array(k_idx, int), kind, value, offset, slope)


def compile_variant(s: Scenario, levers: tuple[Lever, ...]) -> Variant:
    if not levers:
        return Variant(BASELINE, "Baseline (as written)", (), ())
    ops = tuple(compile_change(s, ch) for lever in levers for ch in lever.changes)
    return Variant("+".join(lv.id for lv in levers), " + ".join(lv.name for lv in levers), levers, ops)


def _operate(x: np.ndarray, op: Op, offset: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """The operation in the units the lever was written in, mapped back to the model scale."""
    if op.field == "salience":
        if op.kind == "set":
            return np.full_like(x, op.value / 100.0)
        if op.kind == "shift":
            return x + op.value / 100.0
        return x * op.value
    if op.kind == "shift":
        return x + op.value / slope
    if op.kind == "set":
        return np.broadcast_to((op.value - offset) / slope, np.shape(x)).astype(float)
    return ((offset + slope * x) * op.value - offset) / slope


def _raw_values(b: Batch, op: Op) -> tuple[np.ndarray, list[str]]:
    """Unclipped new values of the cells an op touches (draw 0), with readable labels."""
    if op.field == "capability":
        x = b.capability[0, op.actors]
        new = _operate(x, op, np.zeros(1), np.ones(1))
        return new, [f"{b.actors[i]}'s capability" for i in op.actors]
    if op.field == "status_quo":
        x = b.status_quo[0, op.issues]
        return _operate(x, op, op.offset, op.slope), [f"the status quo on {b.issues[k]}" for k in op.issues]
    arr = getattr(b, op.field)[0][np.ix_(op.actors, op.issues)]
    new = _operate(arr, op, op.offset[None, :], op.slope[None, :])
    engaged = b.engaged[np.ix_(op.actors, op.issues)]
    new = np.where(engaged, new, np.nan)
    labels = [f"{b.actors[i]}'s {op.field} on {b.issues[k]}" for i in op.actors for k in op.issues]
    return new, labels


def apply(b: Batch, variant: Variant | tuple[Op, ...]) -> Batch:
    """The batch with a variant's changes applied to every draw, clipped to valid ranges.

    Cells where an actor is not engaged, or (for shift/scale) has no reservation, are left as
    they are, so a change over "all actors" touches only the stances that exist.
    """
    ops = variant.ops if isinstance(variant, Variant) else variant
    if not ops:
        return b
    fields = {
        "position": b.position.copy(),
        "salience": b.salience.copy(),
        "reservation": b.reservation.copy(),
        "capability": b.capability.copy(),
        "status_quo": b.status_quo.copy(),
    }
    for op in ops:
        arr = fields[op.field]
        lo, hi = _bounds(op.field)
        if op.field == "capability":
            x = arr[:, op.actors]
            arr[:, op.actors] = np.clip(_operate(x, op, np.zeros(1), np.ones(1)), lo, hi)
        elif op.field == "status_quo":
            x = arr[:, op.issues]
            new = np.clip(_operate(x, op, op.offset[None], op.slope[None]), lo, hi)
            arr[:, op.issues] = new if op.kind == "set" else np.where(np.isnan(x), x, new)
        else:
            ix = np.ix_(np.arange(arr.shape[0]), op.actors, op.issues)
            x = arr[ix]
            new = np.clip(_operate(x, op, op.offset[None, None], op.slope[None, None]), lo, hi)
            keep = ~b.engaged[np.ix_(op.actors, op.issues)][None]
            if op.field == "reservation" and op.kind != "set":
                keep = keep | np.isnan(x)
            arr[ix] = np.where(keep, x, new)
    return replace(b, **fields)


