"""Read KTAB's spatial-model scenario files (CSV and XML) into a parley Scenario.

KTAB (KAPSARC Toolkit for Behavioral Analysis) describes a scenario by actors with a capability
("influence", "power") and, per dimension, a position and a salience on 0–100, an actor's
saliences summing to at most 100.

CSV: row 1 `name, description, nActors, nDims`; row 2 a header (actor, description, capability,
then position and salience per dimension); then one row per actor. Rows may or may not end with
a trailing comma, and extra empty fields are ignored (KTAB itself treats the two forms
differently; parley reads both the same way).

XML (smpSchema.xsd): `<Scenario>` with `name`, `desc`, `prngSeed`, optional `ModelParameters`,
`Dimensions/dName`, `Actors/Actor` (name, description, capability, Position/dCoord,
Salience/dSal) and optional `IdealAdjustment`.

KTAB scenarios have no veto players and no reservations, so the Scenario built here has neither:
it is checked against every other validation rule and built without the one asking for a veto
actor (the same choice as the Decide importer). The settlement test then reports a deal
whenever the model finds one. See docs/models/pce.md ("KTAB files").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Actor, Issue, Scenario, Stance
from parley.io.guard import csv_rows, parsing
from parley.io.imported import as_of_note, check_size, date_in, imported_scenario, pydantic_error
from parley.io.yaml_io import read_text

_CSV_FORMAT = ("row 1: name,description,nActors,nDims; row 2: a header; then one row per actor: "
               "name,description,capability, then position,salience for each dimension (0–100)")

# XML <ModelParameters> values -> parley.models.pce.Params fields
_XML_PARAMS: dict[str, tuple[str, dict[str, Any]]] = {
    "VictoryProbModel": ("victory_model", {"Linear": "linear", "Square": "square",
                                            "Quartic": "quartic", "Octic": "octic",
                                            "Binary": "binary"}),
    "PCEModel": ("pce_model", {"Conditional": "conditional", "MarkovIncentive": "markov_incentive",
                               "MarkovUniform": "markov_uniform"}),
    "StateTransitions": ("stochastic", {"Deterministic": False, "Stochastic": True}),
    "VotingRule": ("voting_rule", {"Binary": "binary", "PropBin": "prop_bin", "Proportional": "prop",
                                   "PropCbc": "prop_cbc", "Cubic": "cubic",
                                   "ASymProsp": "asym_prosp"}),
    "BigRAdjust": ("big_r_adjust", {"Full": "full", "TwoThirds": "two_thirds", "Half": "half",
                                    "OneThird": "one_third", "No": "none"}),
    "BigRRange": ("big_r_range", {"Min": "min", "Mid": "mid", "Max": "max"}),
    "ThirdPartyCommit": ("third_party", {"NoCommit": "none", "SemiCommit": "semi",
                                         "FullCommit": "full"}),
    "InterVecBrgn": ("interpolation", {"S1P1": "s1p1", "S2P2": "s2p2"}),
    "BargnModel": ("bargain_model", {"InitOnlyInterp": "init_only"}),
}


@dataclass
class KtabData:
    """A KTAB scenario as read, before conversion (positions and saliences on 0–100)."""

    name: str
    description: str
    dims: list[str]
    actors: list[str]
    descriptions: list[str]
    capability: list[float]
    position: list[list[float]]
    salience: list[list[float]]
    params: dict[str, Any] = field(default_factory=dict)
    """pce.Params overrides from an XML <ModelParameters> block."""
    rows: list[int] = field(default_factory=list)
    """Line (CSV) of each actor, for error messages."""
    ideal_adjustment: list[tuple[str, str, float]] = field(default_factory=list)


def load_ktab(path: str | Path) -> Scenario:
    """A Scenario from a KTAB CSV or XML file; errors name the line and how to fix it."""
    path = Path(path)
    data = read_ktab(path)
    return to_scenario(data, str(path), _slug(path.stem, "ktab"), date_in(data.name, data.description))


def read_ktab(path: str | Path) -> KtabData:
    """Parse a KTAB file (format chosen by content: XML if it starts with '<')."""
    path = Path(path)
    text = read_text(path, what="KTAB scenario file")
    with parsing(str(path), "KTAB scenario file"):
        if text.lstrip("\ufeff \t\r\n").startswith("<"):
            return parse_xml(text, str(path))
        return parse_csv(text, str(path))


# --- CSV ---------------------------------------------------------------------------------------
def parse_csv(text: str, source: str = "<ktab>") -> KtabData:
    """Parse KTAB's CSV scenario format (with or without trailing commas)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        rows = [(n, _trim(r)) for n, r in csv_rows(reader)]
    except ParleyInputError as exc:
        raise ParleyInputError(exc.problems, source) from None
    rows = [(n, r) for n, r in rows if r]
    if len(rows) < 3:
        raise ParleyInputError([Problem("", "a KTAB CSV needs a title row, a header row and at "
                                        "least one actor row", _CSV_FORMAT)], source)
    (n1, first), (n2, header) = rows[0], rows[1]
    if len(first) < 4:
        raise ParleyInputError([Problem("row 1", f"expected name,description,nActors,nDims, got "
                                        f"{len(first)} field(s)", _CSV_FORMAT, n1)], source)
    n_act = _count(first[2], "nActors (field 3 of row 1)", n1, source)
    n_dim = _count(first[3], "nDims (field 4 of row 1)", n1, source)
    width = 3 + 2 * n_dim
    if len(header) < width:
        raise ParleyInputError([Problem("row 2", f"the header has {len(header)} columns but "
                                        f"{n_dim} dimension(s) need {width}: actor, description, "
                                        "capability, then position and salience per dimension",
                                        "fix nDims in row 1 or the header", n2)], source)
    dims = [_dim_name(header[3 + 2 * k], k) for k in range(n_dim)]
    body = rows[2:]
    problems: list[Problem] = []
    if len(body) != n_act:
        problems.append(Problem("row 1", f"row 1 announces {n_act} actors but the file has "
                                f"{len(body)} actor rows", "make nActors (field 3 of row 1) equal "
                                "the number of actor rows", n1))
    data = KtabData(first[0], first[1], dims, [], [], [], [], [])
    for line, r in body:
        if len(r) != width:
            problems.append(Problem(f"row {line}", f"expected {width} values (name, description, "
                                    f"capability, then position and salience for {n_dim} "
                                    f"dimension(s)), got {len(r)}", _CSV_FORMAT, line))
            continue
        try:
            cap = _number(r[2], "capability")
            pos = [_number(r[3 + 2 * k], f"position on '{dims[k]}'") for k in range(n_dim)]
            sal = [_number(r[4 + 2 * k], f"salience on '{dims[k]}'") for k in range(n_dim)]
        except ValueError as exc:
            problems.append(Problem(f"row {line}", str(exc), "write plain numbers such as 42.5",
                                    line))
            continue
        data.actors.append(r[0])
        data.descriptions.append(r[1])
        data.capability.append(cap)
        data.position.append(pos)
        data.salience.append(sal)
        data.rows.append(line)
    problems += _value_problems(data)
    if problems:
        raise ParleyInputError(problems, source)
    return data


def _trim(row: list[str]) -> list[str]:
    """Strip fields and drop trailing empty ones (the trailing-comma variants)."""
    out = [f.strip() for f in row]
    while out and out[-1] == "":
        out.pop()
    return out


def _count(value: str, what: str, line: int, source: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 1:
        raise ParleyInputError([Problem("row 1", f"{what} must be a positive whole number, got "
                                        f"'{value}'", _CSV_FORMAT, line)], source)
    return n


def _number(value: str, what: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f"{what} is not a number: '{value}'") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"{what} must be finite, got '{value}'")
    return x


def _dim_name(column: str, k: int) -> str:
    name = re.sub(r"\s*(position|pstn|pos)\s*$", "", column, flags=re.IGNORECASE).strip()
    return name or column or f"Dim{k}"


def _value_problems(data: KtabData) -> list[Problem]:
    out = []
    for i, name in enumerate(data.actors):
        where = f"actor '{name[:40]}'"
        line = data.rows[i] if data.rows else None
        if max(len(name), len(data.descriptions[i])) > 4000:
            out.append(Problem(where, "a name or description is longer than 4,000 characters",
                               "shorten it", line))
        if data.capability[i] <= 0:
            out.append(Problem(where, f"capability must be > 0, got {data.capability[i]:g}",
                               "give every actor a positive capability or remove the actor", line))
        for k, dim in enumerate(data.dims):
            if not 0 <= data.position[i][k] <= 100:
                out.append(Problem(where, f"position on '{dim}' must lie in 0–100, got "
                                   f"{data.position[i][k]:g}", "use KTAB's 0–100 scale", line))
            if not 0 <= data.salience[i][k] <= 100:
                out.append(Problem(where, f"salience on '{dim}' must lie in 0–100, got "
                                   f"{data.salience[i][k]:g}", "use KTAB's 0–100 scale", line))
        total = sum(data.salience[i])
        if total > 100 + 1e-6:
            out.append(Problem(where, f"saliences add up to {total:g}, more than 100",
                               "KTAB splits at most 100 points of salience across dimensions: "
                               "scale them down", line))
    return out


# --- XML ---------------------------------------------------------------------------------------
def parse_xml(text: str, source: str = "<ktab>") -> KtabData:
    """Parse KTAB's XML scenario format (smpSchema.xsd)."""
    try:
        root = ET.fromstring(text.lstrip("\ufeff").encode("utf-8"))
    except ET.ParseError as exc:
        line = exc.position[0] if hasattr(exc, "position") else None
        raise ParleyInputError([Problem("", f"not well-formed XML: {exc}",
                                        "fix the XML syntax (see KTAB's smpSchema.xsd)", line)],
                               source) from None
    except LookupError as exc:  # e.g. encoding="x-bogus" in the XML declaration
        raise ParleyInputError([Problem("", f"the XML declaration names an encoding Python does not "
                                        f"know ({exc})", 'save the file as UTF-8 and declare '
                                        'encoding="UTF-8"', 1)], source) from None
    if root.tag != "Scenario":
        raise ParleyInputError([Problem("", f"the root element is <{root.tag}>, expected <Scenario>",
                                        "use KTAB's smpSchema.xsd layout")], source)
    problems: list[Problem] = []
    dims = [(d.text or "").strip() for d in root.findall("./Dimensions/dName")]
    data = KtabData((root.findtext("name") or "").strip(), (root.findtext("desc") or "").strip(),
                    dims, [], [], [], [], [])
    actors = root.findall("./Actors/Actor")
    if not actors:
        problems.append(Problem("Scenario/Actors", "no <Actor> elements",
                                "list the actors under <Actors>"))
    for a, node in enumerate(actors, 1):
        where = f"Actors/Actor[{a}]"
        name = (node.findtext("name") or "").strip()
        try:
            cap = _number((node.findtext("capability") or "").strip(), "capability")
            pos = [_number((c.text or "").strip(), "dCoord") for c in node.findall("./Position/dCoord")]
            sal = [_number((c.text or "").strip(), "dSal") for c in node.findall("./Salience/dSal")]
        except ValueError as exc:
            problems.append(Problem(where, str(exc), "write plain numbers such as 42.5"))
            continue
        if not name:
            problems.append(Problem(where, "actor without a <name>", "give every actor a name"))
            continue
        if not data.dims:
            data.dims = [f"Dim{k}" for k in range(len(pos))]
        if len(pos) != len(data.dims) or len(sal) != len(data.dims):
            problems.append(Problem(where, f"actor '{name}' has {len(pos)} dCoord and {len(sal)} "
                                    f"dSal values for {len(data.dims)} dimension(s)",
                                    "give one dCoord and one dSal per dimension"))
            continue
        data.actors.append(name)
        data.descriptions.append((node.findtext("description") or "").strip())
        data.capability.append(cap)
        data.position.append(pos)
        data.salience.append(sal)
    params_node = root.find("ModelParameters")
    if params_node is not None:
        for child in params_node:
            key, value = child.tag, (child.text or "").strip()
            if key not in _XML_PARAMS:
                problems.append(Problem(f"ModelParameters/{key}", "unknown model parameter",
                                        f"use one of: {', '.join(_XML_PARAMS)}"))
                continue
            name, choices = _XML_PARAMS[key]
            if value not in choices:
                problems.append(Problem(f"ModelParameters/{key}", f"'{value}' is not supported by "
                                        "parley's pce model", f"use one of: {', '.join(choices)}"))
                continue
            if name != "bargain_model":
                data.params[name] = choices[value]
    for pair in root.findall("./IdealAdjustment/iaPair"):
        try:
            adj = _number((pair.findtext("adjust") or "").strip(), "adjust")
        except ValueError as exc:
            problems.append(Problem("IdealAdjustment/iaPair", str(exc), "write a number"))
            continue
        data.ideal_adjustment.append(((pair.findtext("adjustingIdeal") or "").strip(),
                                      (pair.findtext("referencePos") or "").strip(), adj))
    if data.ideal_adjustment:
        problems.append(Problem("IdealAdjustment", "ideal adjustment ('pragmatic affinity') is not "
                                "supported: parley's pce model moves ideals with positions, as "
                                "KTAB does for CSV input", "remove the <IdealAdjustment> block"))
    problems += _value_problems(data)
    if problems:
        raise ParleyInputError(problems, source)
    return data


# --- conversion ---------------------------------------------------------------------------------
def to_scenario(data: KtabData, source: str, scenario_id: str, as_of: dt.date | None) -> Scenario:
    """Build the Scenario: one issue per dimension (0–100), one stance per actor and dimension.
    Without `as_of` (the file names no date) the date is a stated placeholder."""
    as_of, as_of_text = as_of_note(as_of)
    check_size(len(data.actors), len(data.dims), source)
    actor_ids = _unique_ids(data.actors, "actor")
    issue_ids = _unique_ids(data.dims, "dim")
    try:
        actors = [Actor(id=actor_ids[i], name=data.descriptions[i] or name,
                        capability=data.capability[i], description=f"KTAB actor '{name}'")
                  for i, name in enumerate(data.actors)]
        issues = [Issue(id=issue_ids[k], name=dim, low=f"0 on KTAB's '{dim}' scale",
                        high=f"100 on KTAB's '{dim}' scale")
                  for k, dim in enumerate(data.dims)]
        stances = [Stance(actor=actor_ids[i], issue=issue_ids[k], position=data.position[i][k],
                          salience=data.salience[i][k])
                   for i in range(len(data.actors)) for k in range(len(data.dims))]
    except ValidationError as exc:  # e.g. a name longer than parley's texts allow
        raise pydantic_error(exc, source) from None
    name = Path(source).name
    return imported_scenario(
        source,
        id=scenario_id,
        title=data.name or f"Imported from KTAB file {name}",
        as_of=as_of,
        question=f"Where do {len(actors)} actors settle on {len(issues)} dimension(s)? ({name})",
        description=(data.description + "\n\n" if data.description else "")
        + "Converted from a KTAB scenario file; KTAB files have no veto players or reservations. "
        + as_of_text,
        actors=actors,
        issues=issues,
        stances=stances,
    )



def _slug(text: str, fallback: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "_", text.strip()).strip("_.-")
    if not slug or not slug[0].isalpha():
        slug = f"{fallback}_{slug}" if slug else fallback
    return slug[:64]


def _unique_ids(names: list[str], fallback: str) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = _slug(name, fallback)
        cand, n = base, 2
        while cand in seen:
            cand = f"{base[:60]}_{n}"
            n += 1
        seen.add(cand)
        out.append(cand)
    return out
