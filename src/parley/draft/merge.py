"""Add a draft's evidence to an existing scenario file without changing anything already written.

Only additions happen: new sources, actors, issues and stances are appended (numbers TODO); an
existing stance gets new source ids appended to its `sources` and new evidence lines appended to
its `note`. Existing values, comments and order stay as they are. Actors and issues are matched
by id, or by name through the alias table and topic lexicon ("United States" = `US`,
"Security guarantees" = `security`), so a user's own ids are kept.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from parley.core.errors import ParleyInputError, Problem
from parley.draft.assemble import Draft
from parley.draft.lexicon import Lexicon
from parley.draft.render import NOTE_MAX, evidence_lines, stance_note, to_data, yaml_engine
from parley.io.yaml_io import parse_yaml, read_text


@dataclass
class MergeReport:
    sources: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    stances: list[str] = field(default_factory=list)
    evidence: int = 0  # evidence lines added to existing stances
    cut: int = 0  # evidence lines that did not fit in a note

    def as_dict(self) -> dict[str, Any]:
        return {
            "added_sources": self.sources,
            "added_actors": self.actors,
            "added_issues": self.issues,
            "added_stances": self.stances,
            "evidence_added_to_existing_stances": self.evidence,
            "evidence_not_fitting_in_notes": self.cut,
        }


def load_existing(path: str | Path) -> CommentedMap:
    """Round-trip load (comments kept); the same safety checks as scenario loading."""
    text = read_text(Path(path), what="scenario file")
    parse_yaml(text, str(path))  # refuses empty files, syntax errors, anchors, with line numbers
    try:
        data = yaml_engine().load(io.StringIO(text))
    except YAMLError as exc:  # pragma: no cover - parse_yaml already caught it
        raise ParleyInputError([Problem("", f"YAML error: {exc}")], str(path)) from None
    if not isinstance(data, CommentedMap):
        raise ParleyInputError(
            [Problem("", "the top level must be a mapping (title:, actors:, ...)", "name a scenario file")],
            str(path),
        )
    for key in ("actors", "issues", "stances"):
        if key in data and not isinstance(data[key], CommentedSeq):
            raise ParleyInputError(
                [Problem(key, "expected a list", "write the entries as a YAML list")], str(path)
            )
    return data


def _match_actors(existing: list[Any], draft: Draft, lexicon: Lexicon) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in draft.actors:
        for e in existing:
            if not isinstance(e, dict):
                continue
            eid, name = str(e.get("id", "")), str(e.get("name", ""))
            if eid == a.id or lexicon.resolve(eid) == a.id or lexicon.resolve(name) == a.id:
                out[a.id] = eid
                break
    return out


def _match_issues(existing: list[Any], draft: Draft, lexicon: Lexicon) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in draft.issues:
        for e in existing:
            if not isinstance(e, dict):
                continue
            eid, name = str(e.get("id", "")), str(e.get("name", ""))
            if eid == i.id or name.lower() == i.name.lower():
                out[i.id] = eid
                break
        else:
            if i.candidate:
                continue
            for e in existing:
                if not isinstance(e, dict):
                    continue
                label = f"{e.get('id', '')} {e.get('name', '')}".replace("_", " ")
                if any(h.topic.id == i.id for h in lexicon.topic_hits(label)):
                    out[i.id] = str(e.get("id"))
                    break
    return out


def merge(existing: CommentedMap, draft: Draft, lexicon: Lexicon) -> MergeReport:
    """Add the draft to `existing` in place; return what was added."""
    report = MergeReport()
    new = to_data(draft)
    # sources: reuse an id whose citation names the same file, never overwrite one
    sources = existing.setdefault("sources", CommentedMap())
    rename: dict[str, str] = {}
    for sid, text in new["sources"].items():
        path = text.split(" (")[0]
        same = next((k for k, v in sources.items() if isinstance(v, str) and v.split(" (")[0] == path), None)
        if same is not None:
            rename[sid] = same
            continue
        final, n = sid, 2
        while final in sources:
            final, n = f"{sid}_{n}", n + 1
        sources[final] = text
        rename[sid] = final
        report.sources.append(final)

    def srcs(items: list[str]) -> list[str]:
        return [rename.get(s, s) for s in items]

    actors = existing.setdefault("actors", CommentedSeq())
    issues = existing.setdefault("issues", CommentedSeq())
    stances = existing.setdefault("stances", CommentedSeq())
    amap = _match_actors(list(actors), draft, lexicon)
    imap = _match_issues(list(issues), draft, lexicon)
    taken_actor_ids = {str(e.get("id")) for e in actors if isinstance(e, dict)}
    for entry, a in zip(new["actors"], draft.actors, strict=True):
        if a.id in amap:
            _add_sources(_find(actors, "id", amap[a.id]), srcs(a.sources))
            continue
        if a.id in taken_actor_ids:  # same id, different actor: should not happen, keep theirs
            continue
        entry["sources"] = _seq(srcs(a.sources))
        actors.append(entry)
        amap[a.id] = a.id
        report.actors.append(a.id)
    taken_issue_ids = {str(e.get("id")) for e in issues if isinstance(e, dict)}
    for entry, i in zip(new["issues"], draft.issues, strict=True):
        if i.id in imap:
            _add_sources(_find(issues, "id", imap[i.id]), srcs(i.sources))
            continue
        if i.id in taken_issue_ids:
            continue
        entry["sources"] = _seq(srcs(i.sources))
        issues.append(entry)
        imap[i.id] = i.id
        report.issues.append(i.id)
    for entry, st in zip(new["stances"], draft.stances, strict=True):
        if st.actor not in amap or st.issue not in imap:
            continue
        actor, issue = amap[st.actor], imap[st.issue]
        old = next(
            (
                s
                for s in stances
                if isinstance(s, dict) and str(s.get("actor")) == actor and str(s.get("issue")) == issue
            ),
            None,
        )
        if old is None:
            entry["actor"], entry["issue"] = actor, issue
            entry["sources"] = _seq(srcs(st.sources))
            entry["note"] = LiteralScalarString(stance_note(st)[0])
            stances.append(entry)
            report.stances.append(f"{actor}/{issue}")
            continue
        _add_sources(old, srcs(st.sources))
        note = str(old.get("note") or "")
        budget = NOTE_MAX - len(note) - 40
        lines, cut = evidence_lines(st.evidence, {_q for _q in _quotes_in(note)}, budget)
        lines = [ln for ln in lines if not ln.startswith("- (+")]
        report.cut += cut
        if lines:
            if old.fa.flow_style():  # a one-line {...} entry: block style keeps the quotes readable
                old.fa.set_block_style()
            sep = "\n" if note.endswith("\n") or not note else "\n\n"
            added = "Evidence added by parley draft:\n" + "\n".join(lines)
            old["note"] = LiteralScalarString(note + sep + added)
            report.evidence += len(lines)
    return report


def _quotes_in(note: str) -> set[str]:
    """Quotes already recorded in a note (the text between the last pair of double quotes)."""
    out = set()
    for line in note.splitlines():
        if line.startswith("- ") and line.endswith('"'):
            start = line.rfind('] "')
            if start >= 0:
                out.add(line[start + 3 : -1])
    return out


def _find(items: CommentedSeq, key: str, value: str) -> CommentedMap:
    return next(e for e in items if isinstance(e, dict) and str(e.get(key)) == value)


def _seq(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(list(dict.fromkeys(items)))
    seq.fa.set_flow_style()
    return seq


def _add_sources(entry: CommentedMap, new: list[str]) -> None:
    """Append source ids an entry does not list yet (its own list, order and style kept)."""
    have = entry.get("sources")
    if have is None:
        entry["sources"] = _seq(new)
        return
    if not isinstance(have, list):
        return  # not ours to repair: `parley validate` will point at it
    for s in new:
        if s not in have:
            have.append(s)
