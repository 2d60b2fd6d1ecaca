"""Read input files of Decide's exchange model (`#A`, `#P`, `#M`, `#D` rows) into a Scenario.

The format, one record per row, fields separated by a delimiter the file chooses (`;`, tab or
`,`, sniffed) and optionally quoted with `'` or `"`:

    #A; actor id; name; comment                 an actor
    #P; issue id; name; description             an issue
    #M; issue id; value; meaning                a point of the issue's scale (two give its range)
    #D; actor id; issue id; position; salience; power    a stance (salience, power in 0–1)

Decide's files carry no veto players and no reservations, so the Scenario built here has
neither. The scenario validator asks for at least one veto actor with a reservation (the
settlement test needs one); an imported Scenario is checked against every other rule and built
without that one, and the settlement test then reports a deal whenever the model finds one.
See docs/models/exchange.md ("Decide files").
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Actor, Issue, Scale, Scenario, Stance
from parley.io.guard import csv_rows, parsing
from parley.io.imported import as_of_note, check_size, date_in, imported_scenario, pydantic_error
from parley.io.yaml_io import read_text

ROW_TYPES = ("#A", "#P", "#M", "#D")
_FIELDS = {"#A": 2, "#P": 2, "#M": 3, "#D": 6}
"""Minimum number of fields of each row type (the type itself included)."""
_FORMAT = "rows are #A;actor;name;comment, #P;issue;name;description, #M;issue;value;meaning, " \
          "#D;actor;issue;position;salience;power"


@dataclass
class _IssueRows:
    row: int
    name: str
    description: str
    points: list[tuple[float, str, int]] = field(default_factory=list)  # value, meaning, row


@dataclass
class _Parsed:
    actors: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # id -> row, name, comment
    issues: dict[str, _IssueRows] = field(default_factory=dict)
    stances: list[tuple[int, str, str, float, float, float]] = field(default_factory=list)


def load_decide(path: str | Path) -> Scenario:
    """A Scenario from a Decide input file; errors name the row and say how to fix it."""
    path = Path(path)
    text = read_text(path, what="Decide input file")
    return parse_decide(text, str(path), scenario_id=_slug(path.stem, "decide"))


def parse_decide(
    text: str,
    source: str = "<decide>",
    *,
    scenario_id: str = "decide",
    as_of: dt.date | None = None,
) -> Scenario:
    """Parse the text of a Decide file (see the module docstring) into a Scenario. Without
    `as_of`, the date is the first YYYY-MM-DD written in the file's names and comments, else a
    stated placeholder (`parley.io.imported.UNDATED`)."""
    with parsing(source, "Decide input file"):
        parsed = _parse_rows(text, source)
        check_size(len(parsed.actors), len(parsed.issues), source)
        return _build(parsed, source, scenario_id, as_of or _file_date(parsed))


def _file_date(parsed: _Parsed) -> dt.date | None:
    texts = [t for _row, name, comment in parsed.actors.values() for t in (name, comment)]
    texts += [t for rows in parsed.issues.values() for t in (rows.name, rows.description)]
    return date_in(*texts)


# --- rows ------------------------------------------------------------------------------------
_ROW_START = re.compile(r"\s*(['\"]?)#[APMD]\1\s*([;\t,])", re.IGNORECASE)


def sniff_delimiter(text: str) -> str:
    """`;`, tab or `,`: the character that follows the row type (`#A`, `'#A'`) on the first
    row that has one; else the most frequent of the three in the first lines. Linear in the
    text (csv.Sniffer's regular expressions were slow, or failed, on long or quoted lines)."""
    lines = [ln[:1000] for ln in text.splitlines()[:200] if ln.strip()][:50]
    for line in lines:
        match = _ROW_START.match(line)
        if match:
            return match.group(2)
    counts = {d: sum(ln.count(d) for ln in lines) for d in (";", "\t", ",")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ";"


def sniff_quote(text: str, delimiter: str) -> str:
    """`'` or `"`: whichever more fields start with (Decide's own files use `'`)."""
    starts = {q: 0 for q in "'\""}
    for line in text.splitlines()[:200]:
        for f in line.split(delimiter):
            f = f.strip()
            if f[:1] in starts:
                starts[f[:1]] += 1
    return "'" if starts["'"] > starts['"'] else '"'


def _unquote(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        v = v[1:-1].strip()
    return v


def _parse_rows(text: str, source: str) -> _Parsed:
    _refuse_foreign(text, source)
    delimiter = sniff_delimiter(text)
    quote = sniff_quote(text, delimiter)
    out = _Parsed()
    problems: list[Problem] = []
    lines = text.splitlines()
    reader = csv.reader(lines, delimiter=delimiter, quotechar=quote, skipinitialspace=True)
    try:
        numbered = list(csv_rows(reader))
    except ParleyInputError as exc:
        raise ParleyInputError(exc.problems, source) from None
    for n, raw in numbered:
        fields = [_unquote(f) for f in raw]
        while fields and fields[-1] == "":
            fields.pop()
        if not fields:
            continue
        kind = fields[0].upper()
        where = f"{kind} row" if kind in ROW_TYPES else "row"
        if kind not in ROW_TYPES:
            problems.append(Problem(where, f"unknown row type {fields[0]!r}",
                                    f"start every row with #A, #P, #M or #D; {_FORMAT}", n))
            continue
        if len(fields) < _FIELDS[kind]:
            problems.append(Problem(where, f"{kind} row has {len(fields)} fields, needs at least "
                                    f"{_FIELDS[kind]}", _FORMAT, n))
            continue
        try:
            _take(out, kind, fields, n, delimiter)
        except _RowError as exc:
            problems.append(Problem(where, exc.message, exc.fix, n))
    problems += _cross_check(out, complete=not problems)
    problems.sort(key=lambda pr: pr.line or 0)
    if problems:
        raise ParleyInputError(problems, source)
    return out


def _refuse_foreign(text: str, source: str) -> None:
    """One clear error for a file that is no Decide file at all (an XML or YAML file given to
    `parley import decide`), instead of one 'unknown row type' per line."""
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()][:20]
    if not lines or any(_ROW_START.match(ln) or ln.strip().lstrip("'\"").upper()[:2] in ROW_TYPES
                        for ln in lines):
        return
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        hint = "this looks like XML: a KTAB XML file is read by `parley import ktab`"
    elif lines and ":" in lines[0] and not any(d in lines[0] for d in ";\t"):
        hint = "this looks like YAML: a parley scenario is run directly (`parley run FILE`)"
    else:
        hint = f"a Decide file's rows start with #A, #P, #M or #D; {_FORMAT}"
    raise ParleyInputError([Problem("", "this is not a Decide input file: none of its first rows "
                                    "starts with #A, #P, #M or #D", hint, 1)], source)


class _RowError(Exception):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix


def _number(value: str, what: str, delimiter: str) -> float:
    text = value.strip()
    if delimiter != "," and re.fullmatch(r"[+-]?\d+,\d+", text):
        text = text.replace(",", ".")  # decimal comma, as Dutch spreadsheets write it
    try:
        x = float(text)
    except ValueError:
        raise _RowError(f"{what} {value!r} is not a number", f"write the {what} as a number, "
                        "e.g. 0.5") from None
    if not math.isfinite(x):
        raise _RowError(f"{what} {value!r} is not a finite number", f"give a finite {what}")
    return x


def _take(out: _Parsed, kind: str, f: list[str], n: int, delimiter: str) -> None:
    if kind == "#A":
        if not f[1]:
            raise _RowError("the actor id is empty", "give the actor an id in the second field")
        if f[1] in out.actors:
            raise _RowError(f"actor {f[1]!r} is defined twice (first on row {out.actors[f[1]][0]})",
                            "keep one #A row per actor")
        out.actors[f[1]] = (n, f[2] if len(f) > 2 and f[2] else f[1], f[3] if len(f) > 3 else "")
    elif kind == "#P":
        if not f[1]:
            raise _RowError("the issue id is empty", "give the issue an id in the second field")
        if f[1] in out.issues:
            raise _RowError(f"issue {f[1]!r} is defined twice (first on row {out.issues[f[1]].row})",
                            "keep one #P row per issue")
        out.issues[f[1]] = _IssueRows(n, f[2] if len(f) > 2 and f[2] else f[1],
                                      f[3] if len(f) > 3 else "")
    elif kind == "#M":
        if f[1] not in out.issues:
            raise _RowError(f"scale point for issue {f[1]!r}, which no #P row above defines",
                            "put the #P row of the issue before its #M rows, or fix the issue id")
        value = _number(f[2], "scale value", delimiter)
        out.issues[f[1]].points.append((value, f[3] if len(f) > 3 else "", n))
    else:
        position = _number(f[3], "position", delimiter)
        salience = _number(f[4], "salience", delimiter)
        power = _number(f[5], "power", delimiter)
        if not 0 <= salience <= 1:
            raise _RowError(f"salience {salience:g} lies outside 0–1",
                            "give salience as a share between 0 and 1")
        if power <= 0:
            raise _RowError(f"power {power:g} must be > 0",
                            "give every actor a positive power, or leave out its #D rows")
        out.stances.append((n, f[1], f[2], position, salience, power))


def _cross_check(out: _Parsed, complete: bool = True) -> list[Problem]:
    """References, scale ranges, duplicate stances and one power per actor; with `complete`
    also what is missing (which would be misleading while some rows failed to parse)."""
    problems: list[Problem] = []
    if not complete:
        pass
    elif not out.actors:
        problems.append(Problem("", "no #A rows: the file defines no actors", _FORMAT))
    if complete and not out.issues:
        problems.append(Problem("", "no #P rows: the file defines no issues", _FORMAT))
    for issue_id, rows in out.issues.items():
        values = {v for v, _, _ in rows.points}
        if len(values) < 2:
            problems.append(Problem("#P row", f"issue {issue_id!r} needs two #M rows with "
                                    f"different values (its scale's ends), has {len(rows.points)}",
                                    "add e.g. `#M;issue;0;...` and `#M;issue;100;...`", rows.row))
    seen: dict[tuple[str, str], int] = {}
    power: dict[str, tuple[float, int]] = {}
    for n, actor, issue, position, _s, c in out.stances:
        where = "#D row"
        if actor not in out.actors:
            problems.append(Problem(where, f"stance of actor {actor!r}, which no #A row defines",
                                    "add an #A row for it or fix the actor id", n))
        if issue not in out.issues:
            problems.append(Problem(where, f"stance on issue {issue!r}, which no #P row defines",
                                    "add a #P row for it or fix the issue id", n))
        elif len({v for v, _, _ in out.issues[issue].points}) >= 2:
            lo, hi = _bounds(out.issues[issue])
            if not lo - 1e-9 <= position <= hi + 1e-9:
                problems.append(Problem(where, f"position {position:g} lies outside the scale of "
                                        f"issue {issue!r} ({lo:g} to {hi:g})",
                                        f"give a position between {lo:g} and {hi:g}, or widen the "
                                        "issue's #M rows", n))
        if (actor, issue) in seen:
            problems.append(Problem(where, f"second stance of {actor!r} on {issue!r} (first on "
                                    f"row {seen[actor, issue]})", "keep one #D row per actor and "
                                    "issue", n))
        seen.setdefault((actor, issue), n)
        if actor in power and not math.isclose(power[actor][0], c, rel_tol=1e-9):
            problems.append(Problem(where, f"power of {actor!r} is {c:g} here but "
                                    f"{power[actor][0]:g} on row {power[actor][1]}; parley gives "
                                    "each actor one capability", "use the same power on all of "
                                    "the actor's #D rows", n))
        power.setdefault(actor, (c, n))
    if not complete:
        return problems
    for issue_id, rows in out.issues.items():
        if not any(st[2] == issue_id for st in out.stances):
            problems.append(Problem("#P row", f"no #D row gives a stance on issue "
                                    f"{issue_id!r}", "add stances for it or remove the issue",
                                    rows.row))
    for actor_id, (row, _, _) in out.actors.items():
        if actor_id not in power:
            problems.append(Problem("#A row", f"actor {actor_id!r} has no #D rows, so parley "
                                    "cannot know its power", "add its stances or remove the actor",
                                    row))
    return problems


def _bounds(rows: _IssueRows) -> tuple[float, float]:
    values = [v for v, _, _ in rows.points]
    return min(values), max(values)


# --- scenario ---------------------------------------------------------------------------------
def _slug(text: str, fallback: str) -> str:
    """A parley id from a Decide id: letters, digits, `_`, `-`, `.`; starts with a letter."""
    s = re.sub(r"[^A-Za-z0-9_.\-]+", "_", text.strip()).strip("_")
    if not s or not s[0].isalpha():
        s = f"{fallback}_{s}" if s else fallback
    return s[:64]


def _unique_ids(names: list[str], fallback: str) -> dict[str, str]:
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = _slug(name, fallback)
        cand, k = base, 2
        while cand in used:
            cand, k = f"{base[:60]}_{k}", k + 1
        used.add(cand)
        out[name] = cand
    return out


def _build(parsed: _Parsed, source: str, scenario_id: str, as_of: dt.date | None) -> Scenario:
    as_of, as_of_text = as_of_note(as_of)
    actor_ids = _unique_ids(list(parsed.actors), "actor")
    issue_ids = _unique_ids(list(parsed.issues), "issue")
    power = {}
    for _n, actor, _i, _x, _s, c in parsed.stances:
        power.setdefault(actor, c)
    try:
        actors = [
            Actor(id=actor_ids[a], name=name, capability=power[a], description=comment)
            for a, (_row, name, comment) in parsed.actors.items()
        ]
        issues = []
        for key, rows in parsed.issues.items():
            lo, hi = _bounds(rows)
            meaning = {v: m for v, m, _ in rows.points}
            scale = None if (lo, hi) == (0.0, 100.0) else Scale(
                unit="on Decide's scale", at_0=lo, at_100=hi)
            issues.append(Issue(
                id=issue_ids[key], name=rows.name,
                low=meaning.get(lo) or f"{lo:g}", high=meaning.get(hi) or f"{hi:g}",
                scale=scale, description=rows.description,
            ))
        stances = [
            Stance(actor=actor_ids[a], issue=issue_ids[i], position=x, salience=s * 100.0,
                   note=f"Decide row {n}")
            for n, a, i, x, s, _c in parsed.stances
        ]
    except ValidationError as exc:  # e.g. a name longer than parley's texts allow
        raise pydantic_error(exc, source) from None
    name = Path(source).name
    return imported_scenario(
        source,
        id=scenario_id,
        title=f"Imported from Decide file {name}",
        as_of=as_of,
        question=f"Outcome of {len(issues)} issues negotiated by {len(actors)} actors ({name})",
        description="Converted from a Decide exchange-model input file by `parley import decide`; "
        "Decide files have no veto players or reservations. " + as_of_text,
        actors=actors,
        issues=issues,
        stances=stances,
    )

