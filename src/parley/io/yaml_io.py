"""Read scenario YAML safely and keep the line of every value, so errors can point at it."""

from __future__ import annotations

import contextlib
import difflib
import io
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from parley.errors import ParleyInputError, Problem

MAX_BYTES = 5 * 1024 * 1024
"""Scenario files are hand-written; anything larger is a mistake or an attack."""


def read_text(path: Path, max_bytes: int = MAX_BYTES, what: str = "scenario file") -> str:
    """The file's text, refusing what cannot be a hand-written text file."""
    src = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ParleyInputError(
            [Problem("", "file not found", "check the path, or run `parley scenarios` for bundled names")],
            src,
        ) from None
    except OSError as exc:
        raise ParleyInputError([Problem("", f"cannot read the file: {exc.strerror}")], src) from None
    if path.is_dir():
        raise ParleyInputError([Problem("", "this is a directory, not a file", "name a file")], src)
    if size > max_bytes:
        raise ParleyInputError(
            [
                Problem(
                    "",
                    f"file is {size / 1e6:.1f} MB; {what}s are limited to {max_bytes / 1e6:.0f} MB",
                    "check that this is the right file",
                )
            ],
            src,
        )
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise ParleyInputError(
            [Problem("", "this is a binary file, not text", f"give a {what} in text form")], src
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ParleyInputError(
            [
                Problem(
                    "",
                    f"byte {exc.start} is not valid UTF-8",
                    "save the file as UTF-8 text",
                    line=line,
                )
            ],
            src,
        ) from None


def parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """Parse YAML 1.2 (so `NO` stays a country code) into plain data plus a path -> line map."""
    if not text.strip():
        raise ParleyInputError(
            [Problem("", "the file is empty", "start from `parley scenarios` or docs/scenario-format.md")],
            source,
        )
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        fix = "check indentation, colons and quotes around this line"
        if "\t" in problem or "\\t" in problem or "tab" in problem.lower():
            fix = "YAML does not allow tab characters for indentation: indent with spaces"
        if "duplicate key" in problem.lower() or "duplicate" in str(exc).lower():
            problem = "a key appears twice in the same mapping"
            fix = "keep one of the two entries"
        raise ParleyInputError([Problem("", f"YAML syntax error: {problem}", fix, line)], source) from None
    except YAMLError as exc:
        raise ParleyInputError([Problem("", f"YAML error: {exc}", "fix the YAML syntax")], source) from None
    lines: dict[str, int] = {}
    data = _plain(tree, "", lines, set(), source)
    return data, lines


def _plain(node: Any, path: str, lines: dict[str, int], seen: set[int], source: str) -> Any:
    """Copy into dicts/lists, recording lines and refusing aliases (YAML bombs live on them)."""
    if isinstance(node, (CommentedMap, CommentedSeq)):
        if id(node) in seen:
            raise ParleyInputError(
                [
                    Problem(
                        path or "(top level)",
                        "YAML anchors and aliases (&name / *name) are not supported in scenario files",
                        "write the repeated values out in full",
                    )
                ],
                source,
            )
        seen.add(id(node))
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            if not isinstance(key, str):
                key = str(key)
            sub = f"{path}.{key}" if path else key
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                lines[sub] = node.lc.key(key)[0] + 1
            out[key] = _plain(value, sub, lines, seen, source)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            sub = f"{path}[{i}]"
            with contextlib.suppress(KeyError, TypeError, AttributeError, IndexError):
                lines[sub] = node.lc.item(i)[0] + 1
            out_list.append(_plain(value, sub, lines, seen, source))
        return out_list
    if hasattr(node, "anchor") and getattr(node.anchor, "value", None):
        # scalar aliases are harmless but unsupported for the same reason
        pass
    return _scalar(node)


def _scalar(node: Any) -> Any:
    """Turn ruamel's scalar subclasses into plain Python values."""
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def validation_problems(exc: ValidationError, model_fields: dict[str, list[str]]) -> list[Problem]:
    """Translate pydantic's errors into paths, messages and fixes a scenario author understands."""
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        path = _loc_to_path(loc)
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        fix = ""
        if kind == "missing":
            field = loc[-1]
            msg = f"required field `{field}` is missing"
            fix = f"add `{field}:` here"
        elif kind == "extra_forbidden":
            field = str(loc[-1])
            allowed = model_fields.get(_parent_kind(loc), [])
            close = difflib.get_close_matches(field, allowed, n=1)
            msg = f"unknown field `{field}`"
            fix = (f"did you mean `{close[0]}`? " if close else "") + (
                f"allowed fields here: {', '.join(allowed)}" if allowed else "remove it"
            )
        elif kind == "value_error" and "; " in msg:
            msg, fix = msg.split("; ", 1)
        elif kind == "value_error":
            fix = "correct the value"
        elif kind == "string_pattern_mismatch":
            msg = f"'{err['input']}' is not a valid id"
            fix = "ids start with a letter and use letters, digits, '_', '-' or '.'"
        elif kind in ("string_type",):
            msg = f"expected text, got {type(err['input']).__name__} {err['input']!r}"
            fix = "put the value in quotes"
        elif kind in ("bool_type",):
            msg = f"expected true or false, got {err['input']!r}"
            fix = "write true or false"
        elif kind in ("list_type",):
            msg = f"expected a list, got {type(err['input']).__name__}"
            fix = "write the entries as a YAML list, each starting with '- '"
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            msg = f"expected a mapping of fields, got {type(err['input']).__name__} {err['input']!r}"
            fix = "write `field: value` pairs here"
        elif kind == "too_short":
            msg = "needs at least one entry"
            fix = "add entries"
        elif kind.startswith("date"):
            fix = "write the date as YYYY-MM-DD"
        elif kind in ("float_type", "int_type", "float_parsing"):
            fix = "write a plain number without quotes"
        problems.append(Problem(path, msg, fix))
    return problems


_KIND_BY_TOP = {"actors": "actor", "issues": "issue", "stances": "stance", "levers": "lever"}


def _parent_kind(loc: tuple[Any, ...]) -> str:
    """Which model the offending key sat in, to list the fields allowed there."""
    parents = [p for p in loc[:-1] if isinstance(p, str)]
    if not parents:
        return "scenario"
    if parents[-1] in ("position", "salience", "reservation", "capability", "status_quo"):
        return "estimate"
    if parents[-1] == "scale":
        return "scale"
    if parents[0] == "levers" and "changes" in parents:
        return "change"
    return _KIND_BY_TOP.get(parents[0], "scenario")


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after[_parse(), Estimate]",) or str(part).startswith("function-"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out
