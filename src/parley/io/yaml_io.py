"""Read scenario YAML safely and keep the line of every value, so errors can point at it."""

from __future__ import annotations

import difflib
import stat
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from parley.core.errors import ParleyInputError, Problem
from parley.io.guard import parsing
from parley.io.yaml_events import load_plain

MAX_BYTES = 5 * 1024 * 1024
"""Input files are hand-written or exported tables; anything larger is a mistake or an attack."""

MAX_LINES = 200_000
"""Lines of any input text file (a KTAB or Decide file of 2,000 actors has a few thousand)."""

MAX_YAML_BYTES = 2_000_000
MAX_YAML_LINES = 100_000
"""Scenario YAML limits: libyaml reads about 1 MB/s even on a loaded machine, so the largest
file parses in a few seconds; the bundled scenarios are under 20 kB, and a scenario at the
size limits (1,000 actors, 10 stances each) fits in under 1 MB."""

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
    """Parse YAML 1.2 (so `NO` stays a country code) into plain data plus a path -> line map
    (see `parley.io.yaml_events`). Every exception of the parser ends as a `ParleyInputError`
    (see `parley.io.guard`)."""
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
        return load_plain(text, source, MAX_DEPTH)


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
        elif kind == "string_too_long":
            limit = (err.get("ctx") or {}).get("max_length")
            msg = f"the text is longer than {limit:,} characters"
            fix = "shorten it (put long explanations in a source or the description)"
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
