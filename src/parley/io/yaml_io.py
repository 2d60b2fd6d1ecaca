"""Read scenario YAML safely and keep the line of every value, so errors can point at it."""

from __future__ import annotations

import contextlib
import difflib
import io
import stat
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from parley.errors import ParleyInputError, Problem
from parley.io.guard import parsing

MAX_BYTES = 5 * 1024 * 1024
"""Input files are hand-written or exported tables; anything larger is a mistake or an attack."""

MAX_LINES = 200_000
"""Lines of any input text file (a KTAB or Decide file of 2,000 actors has a few thousand)."""

MAX_YAML_BYTES = 1_000_000
MAX_YAML_LINES = 30_000
"""Scenario YAML is parsed by a pure-Python parser (about 100 kB/s): these keep the worst file
under about 10 s, and are far above any real scenario (the bundled ones are under 60 kB)."""

MAX_DEPTH = 24
"""Nesting levels of a scenario file (the format needs five)."""


def read_text(path: Path, max_bytes: int = MAX_BYTES, what: str = "scenario file",
              max_lines: int = MAX_LINES) -> str:
    """The file's text, refusing what cannot be a hand-written text file: missing files,
    directories, devices and pipes (reading /dev/zero or a FIFO would never end), binary
    files, and files over `max_bytes` or `max_lines`."""
    src = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ParleyInputError(
            [Problem("", "file not found", "check the path, or run `parley scenarios` for bundled names")],
            src,
        ) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ParleyInputError([Problem("", f"cannot read the file: {reason}")], src) from None
    if stat.S_ISDIR(info.st_mode):
        raise ParleyInputError([Problem("", "this is a directory, not a file", "name a file")], src)
    if not stat.S_ISREG(info.st_mode):
        raise ParleyInputError(
            [Problem("", "this is not a regular file (a device, pipe or socket)",
                     f"save the {what} to a file and name that file")], src)
    if info.st_size > max_bytes:
        raise ParleyInputError([_too_big(info.st_size, max_bytes, what)], src)
    try:
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ParleyInputError([Problem("", f"cannot read the file: {exc.strerror}")], src) from None
    if len(raw) > max_bytes:  # grew since stat
        raise ParleyInputError([_too_big(len(raw), max_bytes, what)], src)
    if b"\x00" in raw[:8192]:
        raise ParleyInputError(
            [Problem("", "this is a binary file, not text", f"give a {what} in text form")], src
        )
    try:
        text = raw.decode("utf-8-sig")
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
    check_lines(text, src, what, max_lines)
    return text


def check_lines(text: str, source: str, what: str, max_lines: int) -> None:
    """Refuse text of more than `max_lines` lines."""
    lines = text.count("\n") + 1
    if lines > max_lines:
        raise ParleyInputError(
            [Problem("", f"the file has {lines:,} lines; {what}s are limited to {max_lines:,}",
                     "check that this is the right file, or split it")], source)


def _too_big(size: int, max_bytes: int, what: str) -> Problem:
    return Problem(
        "",
        f"file is {size / 1e6:.1f} MB; {what}s are limited to {max_bytes / 1e6:.1f} MB",
        "check that this is the right file",
    )


def parse_yaml(text: str, source: str, max_bytes: int = MAX_YAML_BYTES,
               max_lines: int = MAX_YAML_LINES) -> tuple[Any, dict[str, int]]:
    """Parse YAML 1.2 (so `NO` stays a country code) into plain data plus a path -> line map.

    Every exception of the parser ends as a `ParleyInputError` (see `parley.io.guard`)."""
    if not text.strip():
        raise ParleyInputError(
            [Problem("", "the file is empty", "start from `parley scenarios` or docs/scenario-format.md")],
            source,
        )
    if len(text) > max_bytes:
        raise ParleyInputError([_too_big(len(text.encode("utf-8", "replace")), max_bytes,
                                         "YAML file")], source)
    check_lines(text, source, "YAML file", max_lines)
    with parsing(source, "YAML file"):
        return _parse_yaml(text, source)


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
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
    data = _plain(tree, "", lines, set(), source, 0)
    return data, lines


def _alias_error(path: str, source: str, line: int | None = None) -> ParleyInputError:
    return ParleyInputError(
        [
            Problem(
                path or "(top level)",
                "YAML anchors and aliases (&name / *name) are not supported in scenario files",
                "write the repeated values out in full",
                line,
            )
        ],
        source,
    )


def _plain(node: Any, path: str, lines: dict[str, int], seen: set[int], source: str,
           depth: int) -> Any:
    """Copy into dicts/lists, recording lines and refusing aliases (YAML bombs live on them)
    and nesting deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise ParleyInputError(
            [Problem(path, f"nested more than {MAX_DEPTH} levels deep",
                     "scenario files need only a few levels: check the indentation and brackets",
                     _line_for_path(path, lines))], source)
    if isinstance(node, (CommentedMap, CommentedSeq)):
        if id(node) in seen:
            raise _alias_error(path, source, _line_for_path(path, lines))
        seen.add(id(node))
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            if isinstance(key, (CommentedMap, CommentedSeq)):
                raise ParleyInputError([Problem(path or "(top level)", "a key is a mapping or a list",
                                                "keys are plain names such as `title`",
                                                _line_for_path(path, lines))], source)
            if not isinstance(key, str):
                key = str(_scalar(key))
            sub = f"{path}.{key}" if path else key
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                lines[sub] = node.lc.key(key)[0] + 1
            out[key] = _plain(value, sub, lines, seen, source, depth + 1)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            sub = f"{path}[{i}]"
            with contextlib.suppress(KeyError, TypeError, AttributeError, IndexError):
                lines[sub] = node.lc.item(i)[0] + 1
            out_list.append(_plain(value, sub, lines, seen, source, depth + 1))
        return out_list
    anchor = getattr(node, "anchor", None)
    if getattr(anchor, "value", None):
        # a scalar with an anchor: its aliases are indistinguishable copies, so refuse the
        # anchor itself, as the format documentation says
        raise _alias_error(path, source, _line_for_path(path, lines))
    return _scalar(node)


def _line_for_path(path: str, lines: dict[str, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return None
        path = path[:cut]
    return None


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
            msg = f"{_short(err['input'])} is not a valid id"
            fix = "ids start with a letter and use letters, digits, '_', '-' or '.'"
        elif kind in ("string_type",):
            msg = f"expected text, got {type(err['input']).__name__} {_short(err['input'])}"
            fix = "put the value in quotes"
        elif kind in ("bool_type",):
            msg = f"expected true or false, got {_short(err['input'])}"
            fix = "write true or false"
        elif kind in ("list_type",):
            msg = f"expected a list, got {type(err['input']).__name__}"
            fix = "write the entries as a YAML list, each starting with '- '"
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            msg = f"expected a mapping of fields, got {type(err['input']).__name__} {_short(err['input'])}"
            fix = "write `field: value` pairs here"
        elif kind == "too_short":
            msg = "needs at least one entry"
            fix = "add entries"
        elif kind == "too_long":
            limit = (err.get("ctx") or {}).get("max_length")
            if isinstance(err.get("input"), str):
                msg = f"the text is longer than {limit:,} characters"
                fix = "shorten it (put long explanations in a source or the description)"
            else:
                msg = f"more than {limit:,} entries"
                fix = "parley's limit keeps runs within memory and time: split the scenario"
        elif kind in ("less_than_equal", "greater_than_equal", "finite_number"):
            msg = f"{_short(err['input'])} is not a finite number of ordinary size"
            fix = "write a number between -1e15 and 1e15"
        elif kind.startswith("date"):
            fix = "write the date as YYYY-MM-DD"
        elif kind in ("float_type", "int_type", "float_parsing"):
            fix = "write a plain number without quotes"
        problems.append(Problem(path, msg, fix))
    return problems


def _short(value: Any) -> str:
    """A value as it reads in a message, cut to 60 characters (a message must stay short
    whatever the input)."""
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


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
