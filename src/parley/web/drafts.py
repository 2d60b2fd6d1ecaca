"""Scenarios being edited in the web app ("drafts"): stored, edited cell by cell, validated.

A draft keeps the scenario as the plain data people write (numbers, `{low, mode, high}`,
`{mean, sd}`), so it can hold a half-edited, invalid scenario and show every problem next to
the cell that causes it. Drafts live as JSON files named by a random id inside the app's data
directory; nothing a user sends ever becomes part of a path except through `safe_stem`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import Scenario
from parley.web.cells import _NUM, ID_RE, MAX_CELL, _new_id  # noqa: F401 - re-exported

DRAFT_ID = re.compile(r"^[a-f0-9]{32}$")


@dataclass
class Draft:
    id: str
    name: str  # where it came from: a bundled name or the uploaded file's name (display only)
    fmt: str  # yaml, ktab, decide
    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    original: str | None = None  # the YAML text it was opened from: its comments go into downloads
    undo: dict[str, Any] | None = None  # {"data": before, "what": "stance of US on ..."} after a removal


def plain(value: Any) -> Any:
    """The data with YAML's dates (`as_of: 2026-02-20` unquoted) written as ISO strings, as a
    scenario file may also write them, so a draft can be stored as JSON."""
    import datetime as dt

    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


class DraftStore:
    """Drafts as JSON files in `<data dir>/drafts/`, with a lock so threads do not interleave."""

    def __init__(self, root: Path):
        self.root = root / "drafts"
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _file(self, draft_id: str) -> Path:
        if not DRAFT_ID.match(draft_id or ""):
            raise KeyError(draft_id)
        return self.root / f"{draft_id}.json"

    def create(self, name: str, fmt: str, data: dict[str, Any], original: str | None = None) -> Draft:
        d = Draft(secrets.token_hex(16), name[:200], fmt, plain(data), original=original)
        self.save(d)
        return d

    def save(self, d: Draft) -> None:
        path = self._file(d.id)
        tmp = path.with_suffix(".tmp")
        with self._lock:
            raw = {"name": d.name, "fmt": d.fmt, "data": d.data}
            if d.original is not None:
                raw["original"] = d.original
            if d.undo is not None:
                raw["undo"] = d.undo
            tmp.write_text(json.dumps(raw), encoding="utf-8")
            os.replace(tmp, path)

    def get(self, draft_id: str) -> Draft:
        path = self._file(draft_id)
        with self._lock:
            if not path.is_file():
                raise KeyError(draft_id)
            raw = json.loads(path.read_text(encoding="utf-8"))
        original = raw.get("original")
        undo = raw.get("undo")
        return Draft(draft_id, raw["name"], raw["fmt"], raw["data"],
                     original=original if isinstance(original, str) else None,
                     undo=undo if isinstance(undo, dict) else None)


    def recent(self, limit: int = 8) -> list[dict[str, Any]]:
        """The most recently edited drafts: id, source name, title, when."""
        import datetime as dt

        files = sorted(self.root.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        out = []
        for path in files[:limit]:
            if not DRAFT_ID.match(path.stem):
                continue
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
            when = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            out.append({"id": path.stem, "name": str(raw.get("name", "")),
                        "title": str(data.get("title", "")), "edited": when.strftime("%Y-%m-%d %H:%M")})
        return out


# --- estimates as table cells -----------------------------------------------------------------
CELL_HELP = "write a number (50), low/mode/high (40/50/70) or mean±sd (50±10)"
_TRI = re.compile(rf"^\s*({_NUM})\s*/\s*({_NUM})\s*/\s*({_NUM})\s*$")
_NORM = re.compile(rf"^\s*({_NUM})\s*(?:±|\+-|\+/-)\s*({_NUM})\s*$")
_ONE = re.compile(rf"^\s*({_NUM})\s*$")


def estimate_text(value: Any) -> str:
    """How a cell shows an estimate as people write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, dict):
        if {"low", "mode", "high"} <= set(value):
            return "/".join(_g(value[k]) for k in ("low", "mode", "high"))
        if {"mean", "sd"} <= set(value):
            return f"{_g(value['mean'])}±{_g(value['sd'])}"
    return str(value)


def _g(x: Any) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def parse_estimate(text: str) -> tuple[Any, str | None]:
    """Cell text -> (value for the data, error message or None). Empty text is None."""
    text = text.strip()
    if not text:
        return None, None
    if m := _ONE.match(text):
        return _num(m.group(1)), None
    if m := _TRI.match(text):
        lo, mo, hi = (_num(g) for g in m.groups())
        return {"low": lo, "mode": mo, "high": hi}, None
    if m := _NORM.match(text):
        return {"mean": _num(m.group(1)), "sd": _num(m.group(2))}, None
    return text, f"'{text[:40]}' is not a value: {CELL_HELP}"


def _num(s: str) -> float | int:
    x = float(s)
    return int(x) if x.is_integer() and "." not in s and "e" not in s.lower() else x


# --- the editable cells -----------------------------------------------------------------------
ESTIMATE_FIELDS = {
    "actors": ("capability",),
    "issues": ("status_quo",),
    "stances": ("position", "salience", "reservation"),
}
TEXT_FIELDS = {"actors": ("name",), "issues": ("name", "low", "high"), "stances": ()}
BOOL_FIELDS = {"actors": ("veto",), "issues": (), "stances": ()}
OPTIONAL = {"status_quo", "reservation"}
_CELL = re.compile(r"^(actors|issues|stances)\[(\d{1,4})\]\.([a-z_]+)$")


def set_cell(data: dict[str, Any], path: str, text: str) -> str | None:
    """Write one cell (e.g. `stances[3].salience`) into the data; returns a message for text
    that is not a value (kept in the cell so the user sees what they typed)."""
    m = _CELL.match(path or "")
    if m is None:
        raise KeyError(path)
    section, index, name = m.group(1), int(m.group(2)), m.group(3)
    rows = data.get(section)
    if not isinstance(rows, list) or index >= len(rows) or not isinstance(rows[index], dict):
        raise KeyError(path)
    row = rows[index]
    text = (text or "")[:MAX_CELL]
    if name in ESTIMATE_FIELDS[section]:
        value, error = parse_estimate(text)
        if value is None and name in OPTIONAL:
            row.pop(name, None)
            return None
        row[name] = "" if value is None else value
        return error
    if name in TEXT_FIELDS[section]:
        row[name] = text
        return None
    if name in BOOL_FIELDS[section]:
        row[name] = text.lower() in ("on", "true", "1", "yes")
        return None
    raise KeyError(path)


def set_settlement_test(data: dict[str, Any], on: bool) -> None:
    """Switch the settlement test on (the format's default, so the key is dropped) or off
    (outcomes only: what imported KTAB and Decide files start with, having no veto players)."""
    if on:
        data.pop("settlement_test", None)
    else:
        data["settlement_test"] = False


def validate(data: dict[str, Any], source: str = "draft") -> tuple[Scenario | None, list[Problem]]:
    """The scenario if the data is valid (else None) and every problem found."""
    from parley.io.scenario_file import scenario_from_data

    problems = cell_problems(data)
    try:
        scenario = scenario_from_data(copy.deepcopy(data), source)
    except ParleyInputError as exc:
        from parley.web.lever_edit import explain

        rest = explain(exc.problems, data)
        return None, problems + [p for p in rest if p.path not in {q.path for q in problems}]
    return (scenario, []) if not problems else (None, problems)


def cell_problems(data: dict[str, Any]) -> list[Problem]:
    """Cells holding text that is not a value (set_cell keeps it so the user can fix it)."""
    from parley.web.lever_edit import value_problems

    out = value_problems(data)
    for section, names in ESTIMATE_FIELDS.items():
        rows = data.get(section)
        if not isinstance(rows, list):
            continue
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                continue
            for name in names:
                if isinstance(row.get(name), str):
                    out.append(Problem(f"{section}[{i}].{name}", f"'{row[name][:40]}' is not a value",
                                       CELL_HELP))
    return out


def problems_by_cell(problems: list[Problem]) -> dict[str, list[Problem]]:
    """Problems keyed by the cell they belong to (others go in the page-level list)."""
    from parley.web.lever_edit import cell_of

    out: dict[str, list[Problem]] = {}
    for p in problems:
        out.setdefault(cell_of(p.path), []).append(p)
    return out


def tables_ok(data: Any) -> bool:
    """Whether the data has the shape the tables need (lists of mappings)."""
    return isinstance(data, dict) and all(
        isinstance(data.get(k), list) and all(isinstance(r, dict) for r in data[k])
        for k in ("actors", "issues", "stances")
    )


_STEM = re.compile(r"[^A-Za-z0-9_-]+")


def safe_stem(filename: str) -> str:
    """A file stem made only of letters, digits, '_' and '-' (never a path), from a user's name."""
    base = re.split(r"[\\/]", filename or "")[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _STEM.sub("_", stem).strip("_-")[:60]
    if not stem or not stem[0].isalpha():
        stem = "upload" + ("_" + stem if stem else "")
    return stem[:60]


# --- adding and removing rows -----------------------------------------------------------------


def add_row(data: dict[str, Any], kind: str, form: dict[str, str]) -> None:
    """Add an actor, an issue or a stance with neutral values the user then edits.
    Raises ValueError with a message for the page."""
    if not tables_ok(data):
        raise ValueError("fix the file's structure first")
    actors = [a.get("id") for a in data["actors"]]
    issues = [i.get("id") for i in data["issues"]]
    if kind == "actor":
        new = _new_id(form.get("id", ""), actors, "actor")
        data["actors"].append({"id": new, "name": (form.get("name") or new)[:MAX_CELL], "capability": 1})
    elif kind == "issue":
        new = _new_id(form.get("id", ""), issues, "issue")
        data["issues"].append({"id": new, "name": (form.get("name") or new)[:MAX_CELL],
                               "low": "what 0 means", "high": "what 100 means"})
    elif kind == "stance":
        actor, issue = form.get("actor", ""), form.get("issue", "")
        if actor not in actors or issue not in issues:
            raise ValueError("choose an existing actor and issue")
        if any(s.get("actor") == actor and s.get("issue") == issue for s in data["stances"]):
            raise ValueError(f"{actor} already has a stance on {issue}")
        data["stances"].append({"actor": actor, "issue": issue, "position": 50, "salience": 50})
    else:
        raise KeyError(kind)


_ROW = re.compile(r"^(actors|issues|stances)\[(\d{1,4})\]$")


def remove_row(data: dict[str, Any], path: str) -> str:
    """Remove `actors[i]`, `issues[k]` or `stances[j]`; removing an actor or an issue also
    removes its stances (they would point at nothing). Returns what was removed, in words."""
    m = _ROW.match(path or "")
    if m is None or not tables_ok(data):
        raise KeyError(path)
    section, index = m.group(1), int(m.group(2))
    rows = data[section]
    if index >= len(rows):
        raise KeyError(path)
    if section != "stances" and len(rows) == 1:
        raise ValueError(f"a scenario needs at least one {section[:-1]}")
    row = rows.pop(index)
    if section == "stances":
        return f"stance of {row.get('actor')} on {row.get('issue')}"
    key = "actor" if section == "actors" else "issue"
    before = len(data["stances"])
    data["stances"] = [s for s in data["stances"] if s.get(key) != row.get("id")]
    gone = before - len(data["stances"])
    return f"{key} {row.get('id')}" + (f" and its {gone} stance{'s' if gone != 1 else ''}" if gone else "")
