"""Which actor the advice is for: an id or a display name, in any letter case."""

from __future__ import annotations

from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario


def resolve_actor(scenario: Scenario, name: str) -> int:
    """The index of the actor called `name` (its id or its name, case-insensitive); a clear
    error listing the scenario's actors otherwise."""
    key = name.strip().casefold()
    for i, actor in enumerate(scenario.actors):
        if key == actor.id.casefold():
            return i
    named = [i for i, actor in enumerate(scenario.actors) if key == actor.name.casefold()]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(scenario.actors[i].id for i in named)
        raise ParleyInputError([Problem(
            "actor", f"{len(named)} actors of scenario '{scenario.id}' are called '{name}'",
            f"name one by its id: {ids}")])
    import difflib

    known = [a.id for a in scenario.actors] + [a.name for a in scenario.actors]
    close = difflib.get_close_matches(name.strip(), known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    listing = ", ".join(f"{a.id} ({a.name})" for a in scenario.actors)
    raise ParleyInputError([Problem(
        "actor", f"unknown actor '{name}' in scenario '{scenario.id}'",
        f"{hint}use an id or a name of one of its actors: {listing}")])


def display_names(scenario: Scenario) -> list[str]:
    """Each actor's name for advice text; its id where names repeat (imported KTAB files often
    call every actor the same, and the name then says nothing)."""
    names = [a.name for a in scenario.actors]
    return [n if names.count(n) == 1 else a.id for n, a in zip(names, scenario.actors, strict=True)]
