"""Editing a draft's levers in the page: cells, added and removed levers and changes.

Like the rest of the editor this only writes plain data into the draft (what a YAML file would
hold); whether it makes sense is decided by the scenario's own models and `check()` when the
draft is validated, so a lever written in the page is held to exactly the rules of a file.
Two cells exist only in the page: `op` (set, shift or scale) and `value`, which together are
the one of `set:`, `shift:` or `scale:` a change carries; problems the models report on those
keys, or on one id of a list, are shown at the page's cell (see `cell_of`).
"""

from __future__ import annotations

import math
import re
from typing import Any, get_args

from parley.core.errors import Problem
from parley.core.scenario import LeverField
from parley.web.cells import _NUM, MAX_CELL, _new_id

FIELDS: tuple[str, ...] = get_args(LeverField)
OPS = ("set", "shift", "scale")
LEVER_TEXT = ("id", "name", "description", "counterfactual_of")
CHANGE_CELLS = ("field", "actors", "issues", "op", "value", "note")
OPTIONAL_TEXT = {"description", "counterfactual_of", "note"}
VALUE_HELP = "write a number: e.g. 90 with set, -10 with shift, 0.8 with scale"

_LEVER = re.compile(r"^levers\[(\d{1,4})\]\.(id|name|description|counterfactual_of)$")
_CHANGE = re.compile(r"^levers\[(\d{1,4})\]\.changes\[(\d{1,4})\]\.(field|actors|issues|op|value|note)$")
_ROW = re.compile(r"^levers\[(\d{1,4})\](?:\.changes\[(\d{1,4})\])?$")
_FINITE = re.compile(rf"^\s*{_NUM}\s*$")
_FIELD = re.compile(r"^levers\[(\d+)\]\.changes\[(\d+)\]\.field$")
_ON_VALUE = re.compile(r"^(levers\[\d+\]\.changes\[\d+\])\.(?:set|shift|scale)$")
_ON_LIST_ITEM = re.compile(r"^(levers\[\d+\]\.changes\[\d+\]\.(?:actors|issues))\[\d+\]$")


def levers_ok(data: Any) -> bool:
    """Whether the levers have the shape the tables need (absent counts as none)."""
    levers = data.get("levers", []) if isinstance(data, dict) else None
    return isinstance(levers, list) and all(
        isinstance(lv, dict) and isinstance(lv.get("changes", []), list)
        and all(isinstance(ch, dict) for ch in lv.get("changes", []))
        for lv in levers
    )


def op_of(change: dict[str, Any]) -> str:
    """Which operation a change carries (the first present; shift for a change with none)."""
    return next((k for k in OPS if change.get(k) is not None), "shift")


def set_cell(data: dict[str, Any], path: str, text: str) -> None:
    """Write one lever cell, e.g. `levers[0].name` or `levers[0].changes[1].value`.
    Raises KeyError for a path (or an operation) the editor does not have."""
    text = (text or "")[:MAX_CELL]
    if m := _LEVER.match(path or ""):
        lever = _lever(data, int(m.group(1)))
        _text(lever, m.group(2), text)
        return
    m = _CHANGE.match(path or "")
    if m is None:
        raise KeyError(path)
    changes = _lever(data, int(m.group(1))).get("changes")
    index = int(m.group(2))
    if not isinstance(changes, list) or index >= len(changes):
        raise KeyError(path)
    _write(changes[index], m.group(3), text)


def _lever(data: dict[str, Any], index: int) -> dict[str, Any]:
    if not levers_ok(data) or index >= len(data.get("levers", [])):
        raise KeyError(index)
    return data["levers"][index]


def _text(row: dict[str, Any], name: str, text: str) -> None:
    if not text.strip() and name in OPTIONAL_TEXT:
        row.pop(name, None)
    else:
        row[name] = text if name not in ("id", "field") else text.strip()


def _write(change: dict[str, Any], name: str, text: str) -> None:
    """One cell of a change: ids split on commas or spaces (none = all), the operation moves
    the value to its key, the value is a finite number or kept as typed (then reported)."""
    if name in ("actors", "issues"):
        ids = [x for x in re.split(r"[,\s]+", text) if x]
        if ids:
            change[name] = ids
        else:
            change.pop(name, None)
    elif name == "op":
        if text not in OPS:
            raise KeyError(text)
        old = next((change.pop(k) for k in OPS if k in change), None)
        for k in OPS:
            change.pop(k, None)
        change[text] = old if old is not None else (1 if text == "scale" else 0)
    elif name == "value":
        op = op_of(change)
        for k in OPS:
            change.pop(k, None)
        change[op] = parse_value(text)
    else:
        _text(change, name, text)


def parse_value(text: str) -> float | int | str:
    """A finite number, or the text itself (the editor shows it with the fix)."""
    text = text.strip()
    if _FINITE.match(text):
        x = float(text)
        if math.isfinite(x):
            return int(x) if x.is_integer() and abs(x) < 2**53 and re.fullmatch(r"[-+]?\d+", text) else x
    return text


def value_problems(data: Any) -> list[Problem]:
    """Change values that are not numbers (kept as typed so the user sees them)."""
    if not levers_ok(data):
        return []
    out = []
    for i, lever in enumerate(data.get("levers", [])):
        for j, change in enumerate(lever.get("changes", [])):
            for k in OPS:
                v = change.get(k)
                if isinstance(v, str):
                    what = f"'{v[:40]}' is not a finite number" if v else "the change has no value"
                    out.append(Problem(f"levers[{i}].changes[{j}].{k}", what, VALUE_HELP))
    return out


def explain(problems: list[Problem], data: Any) -> list[Problem]:
    """Give the model's bare "Input should be 'position', ..." on a change's field the
    editor's words and a fix (the page offers the fields as a menu)."""
    out = []
    for p in problems:
        m = _FIELD.match(p.path)
        if m and not p.fix and levers_ok(data):
            typed = str(data["levers"][int(m.group(1))]["changes"][int(m.group(2))].get("field", ""))
            p = Problem(p.path, f"'{typed[:40]}' is not a field a lever can change",
                        "choose one of " + ", ".join(FIELDS), p.line)
        out.append(p)
    return out


def cell_of(path: str) -> str:
    """The page cell a problem belongs to: `set`/`shift`/`scale` are shown at the value cell,
    one id of a list (`actors[2]`) at the list's cell; other paths are their own cell."""
    if m := _ON_VALUE.match(path):
        return m.group(1) + ".value"
    if m := _ON_LIST_ITEM.match(path):
        return m.group(1)
    return path


def cell_paths(data: Any) -> set[str]:
    """Every lever cell and row a problem can be shown at."""
    if not levers_ok(data):
        return set()
    out: set[str] = set()
    for i, lever in enumerate(data.get("levers", [])):
        out.update({f"levers[{i}]", f"levers[{i}].changes"})
        out.update(f"levers[{i}].{n}" for n in LEVER_TEXT)
        for j in range(len(lever.get("changes", []))):
            out.add(f"levers[{i}].changes[{j}]")
            out.update(f"levers[{i}].changes[{j}].{n}" for n in CHANGE_CELLS)
    return out


def default_change(data: dict[str, Any]) -> dict[str, Any]:
    """A change that does nothing yet (shift the first stance's position by 0), so a new lever
    is valid at once and the user edits it into what they mean."""
    stances = data.get("stances") if isinstance(data.get("stances"), list) else []
    first = next((s for s in stances if isinstance(s, dict)), {})
    change: dict[str, Any] = {"field": "position"}
    if isinstance(first.get("actor"), str) and isinstance(first.get("issue"), str):
        change.update(actors=[first["actor"]], issues=[first["issue"]])
    change["shift"] = 0
    return change


def add_lever(data: dict[str, Any], lever_id: str, name: str) -> None:
    """Append a lever with one do-nothing change. Raises ValueError with a message."""
    if not levers_ok(data):
        raise ValueError("fix the file's `levers:` first")
    existing = [lv.get("id") for lv in data.get("levers", [])]
    new = _new_id(lever_id, existing, "lever")
    if new == "baseline":
        raise ValueError("'baseline' is reserved for the scenario as written: choose another lever id")
    data.setdefault("levers", []).append(
        {"id": new, "name": (name.strip() or new)[:MAX_CELL], "changes": [default_change(data)]}
    )


def add_change(data: dict[str, Any], lever: int, form: dict[str, str]) -> None:
    """Append a change to lever `lever` from the add form's cells (checked on validation)."""
    changes = _lever(data, lever).setdefault("changes", [])
    field = (form.get("field") or "position")[:MAX_CELL]
    change: dict[str, Any] = {"field": field.strip()}
    for name in ("actors", "issues", "op", "value", "note"):
        if form.get(name) is not None and (name != "op" or form[name]):
            _write(change, name, form[name][:MAX_CELL])
    if not any(k in change for k in OPS):
        change["shift"] = 0
    changes.append(change)


def remove(data: dict[str, Any], path: str) -> str:
    """Remove `levers[i]` or `levers[i].changes[j]` (not a lever's last change: a lever needs
    one). Returns what was removed, in words."""
    m = _ROW.match(path or "")
    if m is None:
        raise KeyError(path)
    lever = _lever(data, int(m.group(1)))
    if m.group(2) is None:
        data["levers"].pop(int(m.group(1)))
        return f"lever {lever.get('id')}"
    changes = lever.get("changes", [])
    j = int(m.group(2))
    if j >= len(changes):
        raise KeyError(path)
    if len(changes) == 1:
        raise ValueError("a lever needs at least one change: add another first, or remove the lever")
    changes.pop(j)
    return f"change {j + 1} of lever {lever.get('id')}"
