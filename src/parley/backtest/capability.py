"""Capability conventions: DEU codes no capabilities, so how much each actor counts is a choice.

Conventions (the `--capability` option):
- `equal`: every actor 1 (the compromise model is then the salience-weighted mean).
- `votes`: Council votes of the decision's era (pre-Nice for decisions before May 2004, Nice after).
- `votes_pre_nice` / `votes_nice`: one weighting for every issue (a state without votes under it,
  such as Poland before Nice, gets its era's votes rescaled so the largest states match).
- `ssi`: the Shapley–Shubik index of each state in the Council of the era under the issue's voting
  rule (QMV: the era's weights and quota; unanimity: every member 1/n).
- `population`: population in millions (about 2019).
- `column`: the actors file's own `capability` column (for data that codes capability).

The Commission and the Parliament are not Council members; each gets a multiple of the largest
member state's capability under the convention (`commission`, `parliament`; default 1.0, the
literature's usual choice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np

from parley.backtest.data import Dataset, Issue
from parley.core.errors import ParleyInputError, Problem

if TYPE_CHECKING:  # pandas is imported where a table is read, not for `parley --help`
    import pandas as pd

Convention = Literal["equal", "votes", "votes_pre_nice", "votes_nice", "ssi", "population",
                     "column"]
CONVENTIONS: tuple[str, ...] = ("equal", "votes", "votes_pre_nice", "votes_nice", "ssi",
                                "population", "column")
INSTITUTIONS = ("com", "ep")


@dataclass(frozen=True)
class Era:
    """A Council composition: which vote column, who is a member, the QMV threshold."""

    name: str
    column: str
    start: tuple[int, int, int]  # (year, month, day) from which it applies
    excluded: tuple[str, ...]  # codes with votes in the column who were not yet members
    quota: int  # votes needed for a qualified majority


ERAS: tuple[Era, ...] = (
    Era("EU-15 pre-Nice", "council_votes_pre_nice", (1995, 1, 1), (), 62),
    Era("EU-25 Nice", "council_votes_nice", (2004, 5, 1), ("bu", "ro", "cr"), 232),
    Era("EU-27 Nice", "council_votes_nice", (2007, 1, 1), ("cr",), 255),
    Era("EU-28 Nice", "council_votes_nice", (2013, 7, 1), (), 260),
)
"""Nice weights took effect in November 2004; the transitional weights of May–October 2004 are
not modelled (that era counts as Nice). After 2014 the double majority replaced weighted votes;
issues decided then keep the EU-28 Nice weights under `votes` and `ssi` (use `population` to
weight by population instead)."""


@dataclass(frozen=True)
class CapabilitySpec:
    convention: Convention = "votes"
    commission: float = 1.0
    parliament: float = 1.0

    def label(self) -> str:
        extra = "" if (self.commission, self.parliament) == (1.0, 1.0) else (
            f" (com x{self.commission:g}, ep x{self.parliament:g})")
        return self.convention + extra


def check_spec(spec: CapabilitySpec) -> None:
    problems = []
    if spec.convention not in CONVENTIONS:
        problems.append(Problem("capability", f"unknown capability convention '{spec.convention}'",
                                f"choose one of: {', '.join(CONVENTIONS)}"))
    for name, value in (("commission", spec.commission), ("parliament", spec.parliament)):
        if not (value >= 0 and np.isfinite(value)):
            problems.append(Problem(name, f"{name} weight {value} must be a number >= 0",
                                    "give a multiple of the largest member state's capability"))
    if problems:
        raise ParleyInputError(problems)


def capabilities(dataset: Dataset, spec: CapabilitySpec) -> list[np.ndarray]:
    """Capability of each coded actor of every issue, in the issue's actor order."""
    check_spec(spec)
    if spec.convention == "equal":
        return [_institutions(i, {a: 1.0 for a in i.actors}, spec) for i in dataset.issues]
    actors = _need_actors(dataset, spec.convention)
    out = []
    for issue in dataset.issues:
        era = era_for(issue, actors)
        if spec.convention == "population":
            members = _column(actors, "population_m_2019", dataset)
        elif spec.convention == "column":
            members = _column(actors, "capability", dataset)
        elif spec.convention == "ssi":
            members = shapley_shubik_council(actors, era, issue.rule)
        else:
            column = {"votes": era.column, "votes_pre_nice": "council_votes_pre_nice",
                      "votes_nice": "council_votes_nice"}[spec.convention]
            members = _column(actors, column, dataset)
            fallback = _column(actors, era.column, dataset)
            scale = max(members.values()) / max(fallback.values()) if members else 1.0
            members = {a: members.get(a, fallback[a] * scale) for a in fallback}
        out.append(_institutions(issue, members, spec))
    return out


def era_for(issue: Issue, actors: pd.DataFrame) -> Era:
    """The era of the decision date, moved later if a coded state was not yet a member."""
    when = _parse(issue.date)
    index = 0
    for k, era in enumerate(ERAS):
        if when is not None and when >= era.start:
            index = k
    while index < len(ERAS) - 1 and not _all_members(issue, actors, ERAS[index]):
        index += 1
    return ERAS[index]


def shapley_shubik_council(actors: pd.DataFrame, era: Era, rule: str) -> dict[str, float]:
    """Shapley–Shubik index of every member of the era's Council under the voting rule."""
    members = _members(actors, era)
    codes = tuple(sorted(members))
    weights = tuple(round(members[c]) for c in codes)
    quota = sum(weights) if rule == "Unan" else era.quota
    return dict(zip(codes, shapley_shubik(weights, quota), strict=True))


@lru_cache(maxsize=64)
def shapley_shubik(weights: Sequence[int], quota: int) -> tuple[float, ...]:
    """Exact Shapley–Shubik index of a weighted voting game (via the `powerindex` library).

    powerindex uses the generating-function method, which is exact and takes milliseconds for
    a Council of 28; results are cached because every issue of an era reuses them.
    """
    import powerindex

    game = powerindex.Game(int(quota), weights=[int(w) for w in weights])
    game.calc()
    return tuple(float(x) for x in game.shapley_shubik)


def _members(actors: pd.DataFrame, era: Era) -> dict[str, float]:
    import pandas as pd

    col = pd.to_numeric(actors[era.column], errors="coerce") if era.column in actors else None
    if col is None:
        return {}
    return {a: float(v) for a, v in col.items() if v == v and v > 0 and a not in era.excluded}


def _all_members(issue: Issue, actors: pd.DataFrame, era: Era) -> bool:
    members = _members(actors, era)
    return all(a in members for a in issue.actors if a not in INSTITUTIONS)


def _institutions(issue: Issue, members: dict[str, float | None], spec: CapabilitySpec
                  ) -> np.ndarray:
    """Capabilities in issue order; Commission and Parliament as multiples of the largest state."""
    values = [v for v in members.values() if v is not None and v > 0]
    largest = max(values) if values else 1.0
    cap = []
    for a in issue.actors:
        if a == "com":
            cap.append(spec.commission * largest)
        elif a == "ep":
            cap.append(spec.parliament * largest)
        else:
            v = members.get(a)
            if v is None or not v > 0:
                raise ParleyInputError([Problem(
                    "capability", f"actor '{a}' on issue {issue.isnr} has no capability under "
                    f"the '{spec.convention}' convention",
                    "choose another --capability convention or fill in the actors file")])
            cap.append(float(v))
    return np.array(cap, dtype=float)


def _need_actors(dataset: Dataset, convention: str) -> pd.DataFrame:
    if dataset.actors is None:
        raise ParleyInputError([Problem(
            "capability", f"the '{convention}' convention needs an actors file",
            "pass --actors FILE, or use --capability equal")])
    return dataset.actors


def _column(actors: pd.DataFrame, column: str, dataset: Dataset) -> dict[str, float]:
    import pandas as pd

    if column not in actors.columns:
        raise ParleyInputError([Problem(
            column, f"the actors file has no '{column}' column",
            "add it, or choose another --capability convention")],
            source=dataset.sources.get("actors"))
    values = pd.to_numeric(actors[column], errors="coerce")
    return {a: float(v) for a, v in values.items() if v == v}


def _parse(date: str) -> tuple[int, int, int] | None:
    try:
        day, month, yy = (int(x) for x in date.split("-"))
    except ValueError:
        return None
    return (1900 + yy if yy >= 50 else 2000 + yy, month, day)
