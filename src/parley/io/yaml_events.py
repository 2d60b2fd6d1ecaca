"""Scenario YAML to plain data plus the line of every value, from libyaml's event stream.

Why not ruamel's round-trip loader (still used to *write* YAML): it is pure Python and reads
about 10–100 kB/s, so a 200 kB file of repeated lines took 20–40 s, and one deeply nested file
ended in a RecursionError. libyaml (through PyYAML) parses about 1 MB/s, and building the data
here from its flat event stream, with an explicit stack, needs no recursion, so nesting is
bounded by `max_depth` with a clear message.

Values follow the YAML 1.2 core schema, as the format documentation says (so `NO` stays the
text "NO", a country code, and is not false), plus YYYY-MM-DD dates. Anchors, aliases and tags
other than the standard `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq` are
refused: scenario files need none of them, and YAML bombs live on aliases.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from parley.core.errors import ParleyInputError, Problem

try:  # libyaml's C parser when PyYAML was built with it (every binary wheel is)
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python PyYAML: same events, slower
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$")
_TAG = "tag:yaml.org,2002:"
MAX_DIGITS = 400
"""Longer integers are refused before conversion (Python refuses over 4,300 digits anyway)."""


@dataclass
class _Open:
    """A mapping or sequence being filled: its value, path, and for a mapping the pending key."""

    value: Any
    path: str
    key: str | None = None
    key_line: int | None = None
    seen_keys: dict[str, int] = field(default_factory=dict)


def load_plain(text: str, source: str, max_depth: int) -> tuple[Any, dict[str, int]]:
    """The document in `text` as dicts, lists and scalars, and a map path -> line."""
    lines: dict[str, int] = {}
    stack: list[_Open] = []
    result: Any = None
    documents = 0
    try:
        events = yaml.parse(text, Loader=_Loader)
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _problem("", "the file holds more than one YAML document ('---')",
                                   "keep one scenario per file", event, source)
                continue
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _problem(stack[-1].path if stack else "",
                               "YAML anchors and aliases (&name / *name) are not supported in "
                               "scenario files", "write the repeated values out in full",
                               event, source)
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                _check_tag(event, kind, stack, source)
                path = _child_path(stack, event, lines, source)
                if len(stack) >= max_depth:
                    raise _problem(path, f"nested more than {max_depth} levels deep",
                                   "scenario files need only a few levels: check the "
                                   "indentation and brackets", event, source)
                stack.append(_Open({} if kind == "map" else [], path))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done = stack.pop()
                if done.key is not None:  # pragma: no cover - libyaml pairs every key
                    raise _problem(done.path, "a key has no value", "give it a value", event, source)
                if stack:
                    _attach(stack[-1], done.value)
                else:
                    result = done.value
            elif isinstance(event, yaml.ScalarEvent):
                value = _scalar(event, stack, source)
                if stack and isinstance(stack[-1].value, dict) and stack[-1].key is None:
                    _take_key(stack[-1], value, event, lines, source)
                    continue
                path = _child_path(stack, event, lines, source)
                if stack:
                    _attach(stack[-1], value)
                else:
                    result = value
                    lines.setdefault(path, event.start_mark.line + 1)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, source, text) from None
    except yaml.YAMLError as exc:
        raise ParleyInputError([Problem("", f"YAML error: {exc}", "fix the YAML syntax")], source) from None
    return result, lines


def _child_path(stack: list[_Open], event: Any, lines: dict[str, int], source: str) -> str:
    """The path of the value that starts with `event`, recording its line."""
    if not stack:
        return ""
    top = stack[-1]
    if isinstance(top.value, dict):
        path = f"{top.path}.{top.key}" if top.path else str(top.key)
        return path
    path = f"{top.path}[{len(top.value)}]"
    lines[path] = event.start_mark.line + 1
    return path


def _take_key(top: _Open, key: Any, event: Any, lines: dict[str, int], source: str) -> None:
    text = str(key).lower() if isinstance(key, bool) else str(key) if key is not None else "null"
    line = event.start_mark.line + 1
    path = f"{top.path}.{text}" if top.path else text
    if text in top.seen_keys:
        raise ParleyInputError([Problem(
            "", "YAML syntax error: a key appears twice in the same mapping",
            f"keep one of the two entries (`{text}` is also on line {top.seen_keys[text]})",
            line)], source)
    top.seen_keys[text] = line
    top.key, top.key_line = text, line
    lines[path] = line


def _attach(top: _Open, value: Any) -> None:
    if isinstance(top.value, dict):
        top.value[top.key] = value
        top.key = None
    else:
        top.value.append(value)


def _check_tag(event: Any, kind: str, stack: list[_Open], source: str) -> None:
    tag = event.tag
    if tag is None or tag == "!" or tag == _TAG + kind:
        return
    raise _problem(stack[-1].path if stack else "", f"the YAML tag {tag} is not supported",
                   "remove the tag (`!...`): scenario files use plain values", event, source)


def _scalar(event: Any, stack: list[_Open], source: str) -> Any:
    """A scalar's value: tagged, quoted (always text) or plain (resolved by the core schema)."""
    text, tag = event.value, event.tag
    if tag is not None and tag != "!":
        return _tagged(text, tag, event, stack, source)
    if not event.implicit[0]:  # quoted
        return text
    return _plain(text, event, stack, source)


def _tagged(text: str, tag: str, event: Any, stack: list[_Open], source: str) -> Any:
    where = stack[-1].path if stack else ""
    if tag == _TAG + "str":
        return text
    if tag in (_TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"):
        value = _plain(text, event, stack, source)
        kind = tag.removeprefix(_TAG)
        ok = {"int": isinstance(value, int) and not isinstance(value, bool),
              "float": isinstance(value, (int, float)) and not isinstance(value, bool),
              "bool": isinstance(value, bool), "null": value is None}[kind]
        if not ok:
            raise _problem(where, f"'{_short(text)}' is tagged !!{kind} but is not one",
                           f"remove the !!{kind} tag or write a {kind}", event, source)
        return float(value) if kind == "float" else value
    raise _problem(where, f"the YAML tag {tag} is not supported",
                   "remove the tag (`!...`): scenario files use plain values", event, source)


def _plain(text: str, event: Any, stack: list[_Open], source: str) -> Any:
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    where = stack[-1].path if stack else ""
    if _INT.match(text) or _OCT.match(text) or _HEX.match(text):
        if len(text) > MAX_DIGITS:
            raise _problem(where, f"a number of {len(text):,} digits", "write ordinary numbers "
                           "(at most 15 digits before the decimal point)", event, source)
        if _INT.match(text):
            return int(text)
        return int(text[2:], 8 if text.startswith("0o") else 16)
    if _FLOAT.match(text):
        if len(text) > MAX_DIGITS:
            raise _problem(where, f"a number of {len(text):,} characters", "write ordinary "
                           "numbers (at most 15 digits before the decimal point)", event, source)
        return float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    if _DATE.match(text):
        try:
            return dt.date(*(int(p) for p in text.split("-")))
        except ValueError as exc:
            raise _problem(where, f"{text} is not a valid date ({exc})",
                           "write an existing date as YYYY-MM-DD", event, source) from None
    return text


def _problem(path: str, message: str, fix: str, event: Any, source: str) -> ParleyInputError:
    mark = getattr(event, "start_mark", None)
    return ParleyInputError([Problem(path, message, fix, mark.line + 1 if mark else None)], source)


def _syntax_error(exc: yaml.MarkedYAMLError, source: str, text: str) -> ParleyInputError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    fix = "check indentation, colons and quotes around this line"
    bad = text[mark.index:mark.index + 1] if mark is not None and 0 <= mark.index < len(text) else ""
    if bad == "\t" or "tab" in problem.lower():
        problem = "a tab character where YAML expects spaces"
        fix = "YAML does not allow tab characters for indentation: indent with spaces"
    return ParleyInputError([Problem("", f"YAML syntax error: {problem}", fix, line)], source)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
