"""A draft downloaded as the file it came from: every comment kept, only the edits changed.

A draft holds plain data (what the editor changes cell by cell); the file it was opened from
holds comments, key order and styles that plain data cannot carry (the bundled scenarios' header
says every number is an analyst estimate). On download the original text is parsed with
ruamel's round-trip loader and the draft's data is written into that tree: unchanged values keep
the original node (and its comments and style), changed ones replace it, removed rows and keys are
deleted, added ones appended. List items are matched by their `id` (actors, issues, sources,
levers) or their (actor, issue) pair (stances) when rows were added or removed, so removing a row
does not shift the comments of the rows after it onto the wrong one; lists of the same length are
matched row by row (an edit, a renamed id included, keeps the row where it was).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from ruamel.yaml import YAML


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # long lines stay as written, not re-wrapped
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def merged_text(original: str, data: dict[str, Any]) -> str:
    """The original YAML text with `data` written into it (comments and styles kept)."""
    y = _yaml()
    tree = y.load(io.StringIO(original))
    tree = merge(tree, data)
    buf = io.StringIO()
    y.dump(tree, buf)
    return buf.getvalue()


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, (dt.date, dt.datetime)) and isinstance(new, str):
        return old.isoformat() == new
    return not isinstance(old, (dict, list)) and old == new


def _key(item: Any) -> Any:
    if isinstance(item, dict):
        if "id" in item:
            return ("id", item["id"])
        if "actor" in item and "issue" in item:
            return ("stance", item["actor"], item["issue"])
    return None


def merge(old: Any, new: Any) -> Any:
    """`new` written into `old` in place where both are mappings or lists; otherwise `old` when
    equal (its style kept), else `new`."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in [k for k in old if k not in new]:
            del old[k]
        for k, v in new.items():
            old[k] = merge(old[k], v) if k in old else v
        return old
    if isinstance(old, list) and isinstance(new, list):
        return _merge_list(old, new)
    return old if _same(old, new) else new


def _merge_list(old: list[Any], new: list[Any]) -> list[Any]:
    old_keys = [_key(x) for x in old]
    new_keys = [_key(x) for x in new]
    if len(old) == len(new):  # cell edits, renames included: row i is still row i
        for i, v in enumerate(new):
            old[i] = merge(old[i], v)
        return old
    keyed = all(k is not None for k in old_keys + new_keys) and len(set(old_keys)) == len(old_keys)
    if not keyed:
        return new
    wanted = set(new_keys)
    for i in reversed(range(len(old))):  # removed rows go, taking their own comments
        if old_keys[i] not in wanted:
            del old[i]
    position = {_key(x): i for i, x in enumerate(old)}
    if [k for k in new_keys if k in position] != [_key(x) for x in old]:
        return new  # rows reordered: nothing sensible to keep in place
    for v, k in zip(new, new_keys, strict=True):
        if k in position:
            i = position[k]
            old[i] = merge(old[i], v)
        else:
            old.append(v)
    return old
