"""The scenario format: actors, issues and stances, validated with messages a person can act on.

Values on an issue are written on its 0–100 scale, or in the issue's own units when it declares
a `scale` (e.g. army size in thousands); they are mapped linearly to 0–100 for the models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from parley.core.errors import ParleyInputError, Problem, unknown_ref
from parley.core.estimate import MAX_MAGNITUDE, Estimate

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", max_length=64),
    Field(strict=True),
]
Text = Annotated[str, Field(strict=True, max_length=4000)]

Number = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]
"""A finite number of ordinary size (see `MAX_MAGNITUDE`)."""

_STRICT = ConfigDict(frozen=True, extra="forbid", strict=True)

MAX_ACTORS = 1_000
MAX_ISSUES = 100
MAX_STANCES = 50_000
MAX_LEVERS = 200
"""Size limits of a scenario: far above any negotiation analysed by hand (the largest shipped
KTAB sample has 50 actors), low enough that validation and every model stay within memory
and time; `parley.core.sizing` estimates a run's memory before it starts."""


class Scale(BaseModel):
    """Units of an issue: `at_0` and `at_100` are the values in units at the two scale ends."""

    model_config = _STRICT

    unit: Text
    at_0: Number
    at_100: Number

    @model_validator(mode="after")
    def _distinct(self) -> Scale:
        if self.at_0 == self.at_100:
            raise ValueError("`at_0` and `at_100` must differ, or the scale maps every value to one point")
        if abs(self.at_100 - self.at_0) < 1e-9 * max(abs(self.at_0), abs(self.at_100)):
            raise ValueError(
                f"`at_0` ({self.at_0:g}) and `at_100` ({self.at_100:g}) are too close for their size "
                "to tell values apart; write the scale in a unit that makes the two ends differ "
                "clearly (e.g. thousands)")
        return self

    def to_scale(self, value: float) -> float:
        return (value - self.at_0) / (self.at_100 - self.at_0) * 100.0

    def to_units(self, value: float) -> float:
        return self.at_0 + value / 100.0 * (self.at_100 - self.at_0)

    def show(self, value: float) -> str:
        """A 0–100 value in units, rounded to `decimals` (e.g. '7.4' years)."""
        return self.rounded(self.to_units(value))

    def rounded(self, units: float) -> str:
        """A value already in units, rounded to `decimals`."""
        return f"{units:.{self.decimals}f}"

    def move(self, points: float) -> str:
        """The size of a move of `points` on the 0–100 scale, in units (e.g. '220 thousand
        troops'): what a smallest winning move means to a reader of the issue's units."""
        size = abs(self.to_units(points) - self.to_units(0.0))
        return f"{size:.{self.decimals}f} {self.unit}"

    @property
    def decimals(self) -> int:
        """Decimals that resolve about ten points of the 0–100 scale in units, so forecasts in
        units are neither falsely precise nor rounded away (0 for the army cap's 85–1000
        thousand troops, 1 for a 4–10 year delay)."""
        ten_points = abs(self.at_100 - self.at_0) / 10.0
        return max(0, min(3, math.ceil(-math.log10(ten_points))))


class Issue(BaseModel):
    """A dimension of the negotiation, with what its two ends mean."""

    model_config = _STRICT

    id: Id
    name: Text
    low: Text = Field(description="What 0 on the scale means.")
    high: Text = Field(description="What 100 on the scale means.")
    status_quo: Estimate | None = Field(None, description="Where things stand if nothing is agreed.")
    scale: Scale | None = Field(None, description="Units; stance values are then written in them.")
    description: Text = ""
    sources: list[Id] = []

    def to_scale(self, estimate: Estimate) -> Estimate:
        """Map an estimate written in this issue's units onto 0–100."""
        if self.scale is None:
            return estimate
        slope = 100.0 / (self.scale.at_100 - self.scale.at_0)
        return estimate.mapped(slope, -self.scale.at_0 * slope)

    def display(self, value: float) -> str:
        """A 0–100 value, with the issue's units where it has them."""
        if self.scale is None:
            return f"{value:.1f}"
        return f"{value:.1f} ({self.scale.to_units(value):.4g} {self.scale.unit})"


class Actor(BaseModel):
    """A party to the negotiation. Capability is relative: only ratios matter."""

    model_config = _STRICT

    id: Id
    name: Text
    capability: Estimate = Field(description="Ability to shape the outcome (> 0, any scale).")
    veto: bool = Field(False, description="True when a settlement needs this actor's acceptance.")
    description: Text = ""
    sources: list[Id] = []


class Stance(BaseModel):
    """What one actor wants on one issue, how much it cares, and what it would still accept."""

    model_config = _STRICT

    actor: Id
    issue: Id
    position: Estimate = Field(description="Preferred outcome, on the issue's scale or units.")
    salience: Estimate = Field(description="How much the issue matters to the actor, 0–100.")
    reservation: Estimate | None = Field(
        None, description="Worst outcome still accepted rather than walking away."
    )
    sources: list[Id] = []
    note: Text = ""


LeverField = Literal["position", "salience", "reservation", "capability", "status_quo"]


class Change(BaseModel):
    """One edit a lever makes: `set`, `shift` or `scale` one field for some actors and issues.

    Values are written like the scenario's own: positions, reservations and status quo on the
    issue's 0–100 scale (or its units when it declares a `scale`), salience 0–100, capability
    on the actors' scale. Omitted `actors` / `issues` mean all of them.
    """

    model_config = _STRICT

    field: LeverField
    actors: list[Id] | None = None
    issues: list[Id] | None = None
    set: Number | None = None
    shift: Number | None = None
    scale: Number | None = None
    note: Text = ""

    @model_validator(mode="after")
    def _one_operation(self) -> Change:
        given = [k for k in ("set", "shift", "scale") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a change needs exactly one of `set`, `shift` or `scale`, got {given or 'none'}; "
                "e.g. `shift: -10` moves the value 10 points down"
            )
        return self


class Lever(BaseModel):
    """A named, declarative change to the scenario (what `parley compare` tests)."""

    model_config = _STRICT

    id: Id
    name: Text
    description: Text = ""
    counterfactual_of: Text = Field(
        "", description="Set when the lever removes something in force (e.g. 'the minerals deal'): "
        "its effect is then reported as what that thing changes (baseline minus lever)."
    )
    changes: list[Change] = Field(min_length=1)
    sources: list[Id] = []
    owner: Id | None = Field(
        None, description="The actor who can pull this lever (an actor id); `parley advise ACTOR` "
        "ranks the levers an actor owns by their effect for it."
    )


class Scenario(BaseModel):
    """A whole negotiation as analysts describe it."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    id: Id
    title: Text
    as_of: dt.date = Field(strict=False)
    question: Text
    horizon: dt.date | None = Field(
        None, strict=False,
        description="Optional: the date by which the question asks for the outcome (e.g. "
        "2026-05-10), on or after as_of. The answer states it; the models have no clock.",
    )
    description: Text = ""
    disclaimer: Text = ""
    sources: dict[Id, Text] = {}
    actors: list[Actor] = Field(min_length=1, max_length=MAX_ACTORS)
    issues: list[Issue] = Field(min_length=1, max_length=MAX_ISSUES)
    stances: list[Stance] = Field(min_length=1, max_length=MAX_STANCES)
    settlement_test: bool = Field(
        True,
        description="False for scenarios that only forecast outcomes (e.g. imported KTAB or Decide "
        "files): no veto players or reservations are then required and no settlement is assessed.",
    )
    levers: list[Lever] = Field([], max_length=MAX_LEVERS)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = check(self)
        if problems:
            raise ParleyInputError(problems)
        return self

    # --- convenient views -------------------------------------------------------------
    @property
    def actor_ids(self) -> list[str]:
        return [a.id for a in self.actors]

    @property
    def issue_ids(self) -> list[str]:
        return [i.id for i in self.issues]

    @property
    def tests_settlement(self) -> bool:
        """Whether results include the settlement test (needs veto players)."""
        return self.settlement_test and any(a.veto for a in self.actors)

    def actor(self, actor_id: str) -> Actor:
        return next(a for a in self.actors if a.id == actor_id)

    def issue(self, issue_id: str) -> Issue:
        return next(i for i in self.issues if i.id == issue_id)

    def stance(self, actor_id: str, issue_id: str) -> Stance | None:
        return next((s for s in self.stances if s.actor == actor_id and s.issue == issue_id), None)

    def _repr_html_(self) -> str:
        """Jupyter shows the actors and stances as tables (registered by parley.present)."""
        from parley.core import hooks

        return hooks.html("scenario", self)

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON form: what a result's provenance records."""
        skip = {k for k in ("levers", "horizon") if not getattr(self, k)}  # hashes stay as before
        data = self.model_dump(mode="json", exclude=skip or None)
        for lever in data.get("levers", []):  # a lever without an owner hashes as before owners existed
            if lever.get("owner") is None:
                lever.pop("owner", None)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def to_yaml_data(self) -> dict[str, Any]:
        """The scenario as plain data in the form people write (uncertain values compact)."""
        return _compact(self.model_dump(mode="json", exclude_defaults=True))


def _compact(obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) >= {"kind", "low", "mode", "high"}:
            return Estimate.model_validate(obj).to_yaml()
        return {k: _compact(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_compact(v) for v in obj]
    return obj


# --- cross-field checks ------------------------------------------------------------------
def check(s: Scenario) -> list[Problem]:
    """Everything the field-level schema cannot see: references, ranges, consistency."""
    problems: list[Problem] = []
    problems += _unique(s.actors, "actors")
    problems += _unique(s.issues, "issues")
    if s.horizon is not None and s.horizon < s.as_of:
        problems.append(Problem("horizon", f"the horizon {s.horizon} is before as_of {s.as_of}",
                                "give the date by which the question asks for the outcome, on or "
                                "after as_of (or remove `horizon`)"))
    for where, refs in _source_refs(s):
        for j, ref in enumerate(refs):
            if ref not in s.sources:
                problems.append(
                    Problem(
                        f"{where}.sources[{j}]",
                        f"source '{ref}' is not defined",
                        "add it under the top-level `sources:` mapping (id: citation) or fix the id",
                    )
                )
    issues = {i.id: i for i in s.issues}
    actors = {a.id: a for a in s.actors}
    for i, actor in enumerate(s.actors):
        cap = actor.capability
        if cap.mode <= 0 or (cap.kind != "normal" and cap.low <= 0):
            problems.append(
                Problem(
                    f"actors[{i}].capability",
                    f"capability must be > 0, got {actor.capability.describe()}",
                    "give every actor a positive capability (only ratios between actors matter); "
                    "leave an actor out of an issue by omitting its stance",
                )
            )
    for k, issue in enumerate(s.issues):
        if issue.status_quo is not None:
            problems += _in_range(issue, issue.status_quo, f"issues[{k}].status_quo", "status quo")
    seen: dict[tuple[str, str], int] = {}
    for j, st in enumerate(s.stances):
        path = f"stances[{j}]"
        if st.actor not in actors:
            problems.append(unknown_ref(f"{path}.actor", "actor", st.actor, list(actors)))
        if st.issue not in issues:
            problems.append(unknown_ref(f"{path}.issue", "issue", st.issue, list(issues)))
        if (st.actor, st.issue) in seen:
            problems.append(
                Problem(
                    path,
                    f"second stance for actor '{st.actor}' on issue '{st.issue}' "
                    f"(first at stances[{seen[(st.actor, st.issue)]}])",
                    "keep one stance per actor and issue",
                )
            )
        seen.setdefault((st.actor, st.issue), j)
        sal_lo, sal_hi = st.salience.low, st.salience.high
        if (st.salience.kind != "normal" and (sal_lo < 0 or sal_hi > 100)) or not (
            0 <= st.salience.mode <= 100
        ):
            problems.append(
                Problem(
                    f"{path}.salience",
                    f"salience must lie in 0–100, got {st.salience.describe()}",
                    "use 0 (does not care) to 100 (matters above all else)",
                )
            )
        if st.issue in issues:
            issue = issues[st.issue]
            problems += _in_range(issue, st.position, f"{path}.position", "position")
            if st.reservation is not None:
                problems += _in_range(issue, st.reservation, f"{path}.reservation", "reservation")
    if not problems:
        problems += _reservation_sides(s)
        problems += _coverage(s)
    if not problems and s.levers:
        from parley.core.levers import lever_problems  # lazy: it needs batch, which reads scenarios

        problems += lever_problems(s, s.levers)
    return problems


def _unique(items: list[Any], kind: str) -> list[Problem]:
    first: dict[str, int] = {}
    out = []
    for n, item in enumerate(items):
        if item.id in first:
            out.append(
                Problem(
                    f"{kind}[{n}].id",
                    f"duplicate id '{item.id}' (also {kind}[{first[item.id]}])",
                    "give every entry its own id",
                )
            )
        first.setdefault(item.id, n)
    return out


def _source_refs(s: Scenario) -> list[tuple[str, list[str]]]:
    refs = [(f"actors[{i}]", a.sources) for i, a in enumerate(s.actors)]
    refs += [(f"issues[{i}]", x.sources) for i, x in enumerate(s.issues)]
    refs += [(f"stances[{i}]", x.sources) for i, x in enumerate(s.stances)]
    refs += [(f"levers[{i}]", x.sources) for i, x in enumerate(s.levers)]
    return refs


def _in_range(issue: Issue, est: Estimate, path: str, what: str) -> list[Problem]:
    mapped = issue.to_scale(est)
    lo, hi = (mapped.low, mapped.high) if mapped.kind != "normal" else (mapped.mode, mapped.mode)
    if lo >= -1e-9 and hi <= 100 + 1e-9:
        return []
    if issue.scale is None:
        return [
            Problem(
                path,
                f"{what} must lie on the issue's 0–100 scale, got {est.describe()}",
                f"use 0 for '{issue.low}' and 100 for '{issue.high}', or declare a `scale` "
                "with units on the issue",
            )
        ]
    sc = issue.scale
    return [
        Problem(
            path,
            f"{what} {est.describe()} {sc.unit} lies outside the issue's scale "
            f"({sc.at_0:g} to {sc.at_100:g} {sc.unit})",
            f"give a value between {sc.at_0:g} and {sc.at_100:g} {sc.unit}, or widen the issue's scale",
        )
    ]


def _reservation_sides(s: Scenario) -> list[Problem]:
    """A reservation lies between the actor's position and the others' weighted centre.

    Beyond the position, away from everyone else, it would say the actor walks away from
    outcomes *better* for it than its own ideal, which is never what the analyst meant; and
    when the position's and the reservation's ranges overlap, some draws would swap sides.

    Linear in the stances: each issue's weighted sums are taken once, and a stance's "others"
    are the issue's sums minus its own term.
    """
    out: list[Problem] = []
    issues = {i.id: i for i in s.issues}
    capability = {a.id: a.capability.mode for a in s.actors}
    weight: dict[str, float] = {}
    moment: dict[str, float] = {}
    mode: list[float] = []
    for st in s.stances:
        x = issues[st.issue].to_scale(st.position).mode
        w = capability[st.actor] * st.salience.mode
        mode.append(x)
        weight[st.issue] = weight.get(st.issue, 0.0) + w
        moment[st.issue] = moment.get(st.issue, 0.0) + w * x
    for j, st in enumerate(s.stances):
        if st.reservation is None:
            continue
        issue = issues[st.issue]
        pos, res = issue.to_scale(st.position), issue.to_scale(st.reservation)
        own = capability[st.actor] * st.salience.mode
        total = weight[st.issue] - own
        if total > 1e-9 * weight[st.issue]:
            centre = (moment[st.issue] - own * mode[j]) / total
            if (res.mode - pos.mode) * (centre - pos.mode) < 0 and abs(res.mode - pos.mode) > 1e-9:
                side = "above" if centre > pos.mode else "below"
                out.append(
                    Problem(
                        f"stances[{j}].reservation",
                        f"reservation {st.reservation.describe()} lies on the far side of the position "
                        f"{st.position.describe()}, away from the other actors (weighted centre "
                        f"{centre:.0f} on 0–100)",
                        f"a reservation is the worst outcome the actor still accepts: put it {side} "
                        "its position, towards the other actors",
                    )
                )
                continue
        p_lo, p_hi = pos.support(0, 100)
        r_lo, r_hi = res.support(0, 100)
        crossing = p_lo < r_hi and r_lo < p_hi if res.mode > pos.mode else r_lo < p_hi and p_lo < r_hi
        if crossing and res.mode != pos.mode and (pos.is_uncertain or res.is_uncertain):
            out.append(
                Problem(
                    f"stances[{j}].reservation",
                    f"the ranges of the position ({p_lo:.0f}–{p_hi:.0f}) and the reservation "
                    f"({r_lo:.0f}–{r_hi:.0f}) overlap, so some draws would put the reservation on "
                    "the wrong side of the position",
                    "narrow one of the two ranges (use {low, mode, high} bounds that do not overlap)",
                )
            )
    return out


def _coverage(s: Scenario) -> list[Problem]:
    out: list[Problem] = []
    engaged = {st.issue for st in s.stances}
    for k, issue in enumerate(s.issues):
        if issue.id not in engaged:
            out.append(
                Problem(
                    f"issues[{k}]",
                    f"no actor has a stance on issue '{issue.id}'",
                    "add stances for it or remove the issue",
                )
            )
    cared = {st.issue for st in s.stances if st.salience.kind == "normal" or st.salience.high > 0}
    for k, issue in enumerate(s.issues):
        if issue.id in engaged and issue.id not in cared:
            out.append(
                Problem(
                    f"issues[{k}]",
                    f"every stance on issue '{issue.id}' has salience 0, so no model can weigh the "
                    "positions on it (their weighted mean is undefined)",
                    "give the actors who care about the issue a positive salience, or remove it",
                )
            )
    if not s.settlement_test:
        return out
    vetoes = [a for a in s.actors if a.veto]
    if not vetoes:
        out.append(
            Problem(
                "actors",
                "no actor has `veto: true`, so nobody's acceptance is needed and the settlement "
                "test has nothing to test",
                "mark the actors who must sign a settlement with `veto: true` (or set "
                "`settlement_test: false` to forecast outcomes only)",
            )
        )
    reserving = {st.actor for st in s.stances if st.reservation is not None}
    for i, actor in enumerate(s.actors):
        if actor.veto and actor.id not in reserving:
            out.append(
                Problem(
                    f"actors[{i}].veto",
                    f"veto actor '{actor.id}' has no reservation on any issue, so it would accept "
                    "any package",
                    "give it a `reservation` on the issues where it would rather walk away, or set "
                    "`veto: false`",
                )
            )
    return out
