"""Write a draft as a scenario YAML a person can read and finish, or as JSON for tools.

Numbers the text cannot give (capability, position, salience) are the literal `TODO`, which
`parley validate` reports field by field; the evidence sits in each stance's `note` and in
comments, so the file stays loadable YAML.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from parley.draft.assemble import Draft, DraftStance
from parley.draft.extract import Evidence

TODO = "TODO"
NOTE_MAX = 3800  # the scenario format allows 4000 characters per text field
TEXT_MAX = 1000

DIRECTION_HELP = (
    "direction = the actor's attitude to what the quoted words name; place it on the issue's "
    "0-100 scale yourself"
)


def _clean(text: str) -> str:
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text)


def evidence_line(e: Evidence) -> str:
    who = e.holder if not e.person or e.person == e.holder else f"{e.holder} = {e.person}"
    asked = f", asks {e.on}" if e.on else ""
    where = f"{Path(e.path).name}:{e.line} (sentence {e.sentence})"
    return f'- {where} [{who}; {e.cue_kind} "{e.cue}"; {e.direction}{asked}] "{_clean(e.quote)}"'


def stance_note(st: DraftStance, known: set[str] = frozenset()) -> tuple[str, int]:
    """The note text for a stance (evidence lines not in `known`), and how many lines were cut."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(st.directions.items()))
    head = [f"Suggested direction: {st.direction} ({counts}); {DIRECTION_HELP}."]
    if st.salience_up or st.salience_down:
        head.append(
            "Salience cues: "
            + "; ".join(
                p
                for p in (
                    f"raise: {', '.join(st.salience_up)}" if st.salience_up else "",
                    f"lower: {', '.join(st.salience_down)}" if st.salience_down else "",
                )
                if p
            )
            + "."
        )
    head.append("Evidence (parley draft):")
    lines, cut = evidence_lines(st.evidence, known, NOTE_MAX - sum(len(h) + 1 for h in head))
    return "\n".join(head + lines), cut


def evidence_lines(evs: list[Evidence], known: set[str], budget: int) -> tuple[list[str], int]:
    lines: list[str] = []
    cut = 0
    for e in evs:
        line = evidence_line(e)
        if _clean(e.quote) in known or line in lines:
            continue
        if budget - len(line) - 1 < 60:
            cut += 1
            continue
        lines.append(line)
        budget -= len(line) + 1
    if cut:
        lines.append(f"- (+{cut} more sentences: run `parley draft --json` to see all)")
    return lines, cut


def to_data(draft: Draft, title: str | None = None) -> CommentedMap:
    """The draft as round-trip YAML data with comments."""
    doc = CommentedMap()
    doc["id"] = "draft"
    doc["title"] = _clean(title or "TODO: title")[:200]
    doc["as_of"] = TODO
    doc.yaml_add_eol_comment("TODO: the date the evidence describes, YYYY-MM-DD", "as_of")
    doc["question"] = "TODO: what outcome is being forecast?"
    sources = CommentedMap()
    for sid, path, n in draft.articles:
        sources[sid] = f"{path} ({n} sentences), read by parley draft"
    doc["sources"] = sources
    actors = CommentedSeq()
    for a in draft.actors:
        m = CommentedMap()
        m["id"] = a.id
        m["name"] = a.name
        m["capability"] = TODO
        m.yaml_add_eol_comment(
            "TODO: relative ability to shape the outcome (> 0; only ratios matter)", "capability"
        )
        m["veto"] = False
        m.yaml_add_eol_comment("TODO: true if a settlement needs this actor's acceptance", "veto")
        forms = ", ".join(f"{f} ({n})" for f, n in a.forms[:8])
        desc = f"Named {a.mentions} times" + (f" as {forms}" if forms else "") + "."
        if a.people:
            desc += " Speaking for it: " + "; ".join(f"{p} ({r}, {n}x)" for p, r, n in a.people[:8]) + "."
        if not a.known:
            desc += " Not in the alias table (found by the parser): check it is a negotiating actor."
        m["description"] = _clean(desc)[:TEXT_MAX]
        m["sources"] = _flow(a.sources)
        actors.append(m)
    doc["actors"] = actors
    issues = CommentedSeq()
    for i in draft.issues:
        m = CommentedMap()
        m["id"] = i.id
        m["name"] = i.name
        m["low"] = i.low or "TODO: what 0 on this issue's scale means"
        m["high"] = i.high or "TODO: what 100 on this issue's scale means"
        if i.candidate:
            m["description"] = (
                f"Candidate issue clustered from {_n(i.evidence, 'stance sentence')} around the word "
                f"'{i.name.split(' (')[0].lower()}': rename, merge or delete it."
            )
        else:
            m["description"] = (
                f"Lexicon topic found in {_n(i.evidence, 'stance sentence')}; scale ends are suggestions."
            )
        m["sources"] = _flow(i.sources)
        issues.append(m)
    doc["issues"] = issues
    stances = CommentedSeq()
    for st in draft.stances:
        m = CommentedMap()
        m["actor"] = st.actor
        m["issue"] = st.issue
        m["position"] = TODO
        m.yaml_add_eol_comment(f"suggested direction: {st.direction}", "position")
        m["salience"] = TODO
        cues = ", ".join(st.salience_up + st.salience_down)
        m.yaml_add_eol_comment(f"cue words: {cues}" if cues else "no salience cue words found", "salience")
        m["sources"] = _flow(st.sources)
        m["note"] = LiteralScalarString(stance_note(st)[0])
        stances.append(m)
    doc["stances"] = stances
    doc.yaml_set_start_comment(_header(draft))
    return doc


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _header(draft: Draft) -> str:
    lines = [
        "Draft scenario written by `parley draft` "
        f"({draft.engine or 'unknown'} reader) from: " + ", ".join(p for _, p, _ in draft.articles),
        "Actors, issues and quoted evidence come from the text; every number is TODO.",
        "Fill them in (see docs/draft.md), then check with `parley validate FILE`.",
        "Suggested directions are the actor's attitude to what the quoted words name.",
    ]
    if draft.unmapped_people:
        names = ", ".join(f"{p} ({n})" for p, n in draft.unmapped_people[:12])
        lines.append(f"People named but not mapped to an actor: {names}.")
        lines.append("Map them with --aliases FILE (see docs/draft.md) to use their statements.")
    if not draft.stances:
        lines.append("No stance sentences were found: the scenario needs at least one stance.")
    return "\n".join(lines)


def _flow(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def yaml_engine() -> YAML:
    y = YAML(typ="rt")
    y.width = 120  # wide enough that most hand-written lines are not re-wrapped on merge
    y.indent(mapping=2, sequence=4, offset=2)
    y.allow_unicode = True
    return y


def dump(data: Any) -> str:
    buf = io.StringIO()
    yaml_engine().dump(data, buf)
    return buf.getvalue()


def to_json(draft: Draft) -> dict[str, Any]:
    """Everything the draft found, including all evidence (nothing cut)."""
    return {
        "engine": draft.engine,
        "articles": [{"source": s, "path": p, "sentences": n} for s, p, n in draft.articles],
        "actors": [
            {
                "id": a.id,
                "name": a.name,
                "mentions": a.mentions,
                "forms": dict(a.forms),
                "people": [{"name": p, "role": r, "mentions": n} for p, r, n in a.people],
                "in_alias_table": a.known,
                "sources": a.sources,
            }
            for a in draft.actors
        ],
        "issues": [
            {
                "id": i.id,
                "name": i.name,
                "low": i.low,
                "high": i.high,
                "candidate": i.candidate,
                "evidence": i.evidence,
                "sources": i.sources,
            }
            for i in draft.issues
        ],
        "stances": [
            {
                "actor": s.actor,
                "issue": s.issue,
                "direction": s.direction,
                "directions": s.directions,
                "salience_up": s.salience_up,
                "salience_down": s.salience_down,
                "evidence": [
                    {
                        "source": e.source,
                        "path": e.path,
                        "line": e.line,
                        "sentence": e.sentence,
                        "holder": e.holder,
                        "person": e.person,
                        "cue": e.cue,
                        "cue_kind": e.cue_kind,
                        "direction": e.direction,
                        "asks": e.on,
                        "quote": e.quote,
                    }
                    for e in s.evidence
                ],
            }
            for s in draft.stances
        ],
        "unmapped_people": [{"name": p, "mentions": n} for p, n in draft.unmapped_people],
    }
