"""Which actor the advice is for: an id or a display name, in any letter case."""

from __future__ import annotations

from parley.errors import ParleyInputError, Problem
from parley.scenario import Scenario


def resolve_actor(scenario: Scenario, name: str) -> int:
    """The index of the actor called `name` (its id or its name, case-insensitive); a clear
    error listing the scenario's actors otherwise."""
    key = name.strip().casefold()
    for i, actor in enumerate(scenario.actors):
        if key in (actor.id.casefold(), actor.name.casefold()):
            return i
    import difflib

    known = [a.id for a in scenario.actors] + [a.name for a in scenario.actors]
    close = difflib.get_close_matches(name.strip(), known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    listing = ", ".join(f"{a.id} ({a.name})" for a in scenario.actors)
    raise ParleyInputError([Problem(
        "actor", f"unknown actor '{name}' in scenario '{scenario.id}'",
        f"{hint}use an id or a name of one of its actors: {listing}")])
