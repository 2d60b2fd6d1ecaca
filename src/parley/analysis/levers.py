"""Levers in the analyses: choosing variants by name, lever files, and describing levers.

The operations themselves (compiling a lever, applying it to sampled arrays, checking it against
the point estimate) live in `parley.core.levers`, since the scenario validates its levers with
them; they are imported here under their old names.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from parley.core.batch import layout
from parley.core.errors import ParleyInputError, Problem
from parley.core.levers import (
    Op,  # noqa: F401 - re-exported: compare imports the operations from here
    Variant,
    apply,  # noqa: F401
    compile_change,  # noqa: F401
    compile_variant,
    lever_problems,
    point_problems,
)
from parley.core.scenario import Change, Lever, Scenario


# --- choosing variants ------------------------------------------------------------------------
def variants(s: Scenario, names: list[str], levers: list[Lever] | None = None,
             *, baseline: bool = True) -> list[Variant]:
    """Baseline plus the named levers; `a+b` applies levers a and b together."""
    pool = {lv.id: lv for lv in (levers if levers is not None else s.levers)}
    out = [compile_variant(s, ())] if baseline else []
    problems = []
    for n, name in enumerate(names):
        parts = [p.strip() for p in name.split("+") if p.strip()]
        missing = [p for p in parts if p not in pool]
        if not parts or missing:
            known = ", ".join(pool) or "none (add a `levers:` section to the scenario or pass --levers FILE)"
            import difflib

            close = difflib.get_close_matches(missing[0] if missing else name, list(pool), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(Problem(f"--lever[{n}]", f"unknown lever '{missing[0] if missing else name}'",
                                    f"{hint}levers defined: {known}"))
            continue
        chosen = tuple(pool[p] for p in parts)
        if len(chosen) > 1:
            problems += point_problems(s, layout(s), chosen, f"--lever[{n}] '{name}'")
        out.append(compile_variant(s, chosen))
    if problems:
        raise ParleyInputError(problems)
    return out


def load_lever_file(path: str | Path, scenario: Scenario) -> list[Lever]:
    """Levers from a separate YAML file (`levers:` list, optional `sources:`), checked against
    the scenario they will be applied to."""
    from parley.io.yaml_io import parse_yaml, read_text, validation_problems

    path = Path(path)
    src = str(path)
    data, lines = parse_yaml(read_text(path, what="lever file"), src)
    if isinstance(data, list):
        data = {"levers": data}
    if not isinstance(data, dict) or "levers" not in data:
        raise ParleyInputError(
            [Problem("", "a lever file is a mapping with a `levers:` list",
                     "see docs/levers.md for the format")], src)
    extra = sorted(set(data) - {"levers", "sources"})
    if extra:
        raise ParleyInputError(
            [Problem(extra[0], f"unknown top-level field `{extra[0]}` in a lever file",
                     "a lever file has only `levers:` and optionally `sources:`")], src
        ).with_source(src, lines)
    try:
        levers = TypeAdapter(list[Lever]).validate_python(data["levers"])
    except ValidationError as exc:
        problems = [replace(p, path=f"levers{p.path}" if p.path.startswith("[") else f"levers.{p.path}")
                    for p in validation_problems(exc, {})]
        raise ParleyInputError(problems, src).with_source(src, lines) from None
    sources = dict(scenario.sources)
    if isinstance(data.get("sources"), dict):
        sources.update({str(k): str(v) for k, v in data["sources"].items()})
    problems = []
    for i, lever in enumerate(levers):
        for j, ref in enumerate(lever.sources):
            if ref not in sources:
                problems.append(Problem(f"levers[{i}].sources[{j}]", f"source '{ref}' is not defined",
                                        "define it under `sources:` in the lever file or the scenario"))
    problems += lever_problems(scenario, levers)
    if problems:
        raise ParleyInputError(problems, src).with_source(src, lines)
    return levers


def all_levers(scenario: Scenario, extra: list[Lever] | None = None) -> list[Lever]:
    """The scenario's levers followed by those from a lever file (file wins on a clash)."""
    extra = extra or []
    ids = {lv.id for lv in extra}
    return [lv for lv in scenario.levers if lv.id not in ids] + list(extra)


def describe_change(s: Scenario, ch: Change) -> str:
    """A change in words, for tables and the report."""
    who = ", ".join(ch.actors) if ch.actors else ("all actors" if ch.field != "status_quo" else "")
    where = ", ".join(ch.issues) if ch.issues else ("all issues" if ch.field != "capability" else "")
    target = " on ".join(x for x in (who, where) if x)
    unit = ""
    if ch.field in ("position", "reservation", "status_quo"):
        scales = {s.issue(k).scale.unit if s.issue(k).scale else "" for k in (ch.issues or s.issue_ids)}
        unit = f" {scales.pop()}" if len(scales) == 1 and "" not in scales else ""
    if ch.set is not None:
        op = f"set to {ch.set:g}{unit}"
    elif ch.shift is not None:
        op = f"shifted by {ch.shift:+g}{unit}"
    else:
        op = f"scaled by {ch.scale:g}"
    return f"{ch.field} of {target} {op}"


def lever_records(s: Scenario, levers: list[Lever]) -> list[dict[str, Any]]:
    """Levers as plain rows (id, name, what they change, sources) for tables and JSON."""
    return [
        {
            "id": lv.id,
            "name": lv.name,
            "description": lv.description,
            "counterfactual_of": lv.counterfactual_of,
            "changes": [describe_change(s, ch) for ch in lv.changes],
            "sources": list(lv.sources),
        }
        for lv in levers
    ]
