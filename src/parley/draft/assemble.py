"""Gather the evidence of several articles into a draft: actors, candidate issues, stances."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from parley.draft.extract import ArticleFindings, Evidence
from parley.draft.lexicon import Lexicon

MIN_MENTIONS = 2
"""An actor mentioned this often is listed even without stance evidence (it may hold one the
rules missed); actors found only by the parser (not in the alias table) need evidence."""

MIN_CANDIDATE = 2
"""A cluster outside the topic lexicon becomes a candidate issue only with this many sentences."""


@dataclass
class DraftActor:
    id: str
    name: str
    mentions: int
    forms: list[tuple[str, int]]
    people: list[tuple[str, str, int]]  # name, role, mentions
    sources: list[str]
    known: bool  # in the alias table (False: found by the parser only)


@dataclass
class DraftIssue:
    id: str
    name: str
    low: str
    high: str
    candidate: bool  # True: clustered from the text, not a lexicon topic
    sources: list[str]
    evidence: int


@dataclass
class DraftStance:
    actor: str
    issue: str
    direction: str  # for | against | conditional | mixed
    directions: dict[str, int]
    salience_up: list[str]
    salience_down: list[str]
    evidence: list[Evidence]

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(e.source for e in self.evidence))


@dataclass
class Draft:
    articles: list[tuple[str, str, int]]  # source id, path, sentences
    actors: list[DraftActor] = field(default_factory=list)
    issues: list[DraftIssue] = field(default_factory=list)
    stances: list[DraftStance] = field(default_factory=list)
    unmapped_people: list[tuple[str, int]] = field(default_factory=list)
    engine: str = ""


def assemble(findings: list[ArticleFindings], lexicon: Lexicon, engine: str = "") -> Draft:
    """Merge per-article findings; keep candidate clusters only when they recur."""
    draft = Draft([(f.article.source, f.article.path, f.sentences) for f in findings], engine=engine)
    evidence = [e for f in findings for e in f.evidence]
    cand = Counter(e.issue for e in evidence if e.issue.startswith("other_"))
    cand_quotes: dict[str, set[str]] = {}
    for e in evidence:
        if e.issue.startswith("other_"):
            cand_quotes.setdefault(e.issue, set()).add(e.quote)
    keep_cand = {k for k in cand if len(cand_quotes[k]) >= MIN_CANDIDATE}
    evidence = [e for e in evidence if not e.issue.startswith("other_") or e.issue in keep_cand]

    mentions: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    people: dict[str, Counter[str]] = {}
    actor_sources: dict[str, list[str]] = {}
    discovered: dict[str, str] = {}
    unmapped: Counter[str] = Counter()
    for f in findings:
        mentions.update(f.mentions)
        for a, c in f.forms.items():
            forms.setdefault(a, Counter()).update(c)
            actor_sources.setdefault(a, [])
            if f.article.source not in actor_sources[a]:
                actor_sources[a].append(f.article.source)
        for a, c in f.people.items():
            people.setdefault(a, Counter()).update(c)
        discovered.update(f.discovered)
        unmapped.update(f.unmapped_people)
    with_evidence = {e.actor for e in evidence}
    for e in evidence:
        actor_sources.setdefault(e.actor, [])
        if e.source not in actor_sources[e.actor]:
            actor_sources[e.actor].append(e.source)
    for e in evidence:
        if e.actor in discovered:
            mentions[e.actor] += 1
    ids = [a for a in mentions if (a in lexicon.actors and mentions[a] >= MIN_MENTIONS) or a in with_evidence]
    ids.sort(key=lambda a: (-len([e for e in evidence if e.actor == a]), -mentions[a], a))
    for a in ids:
        entry = lexicon.actors.get(a)
        known_people = lexicon.people
        draft.actors.append(
            DraftActor(
                id=a,
                name=entry.name if entry else discovered.get(a, a),
                mentions=mentions[a],
                forms=forms.get(a, Counter()).most_common(),
                people=[
                    (p, known_people[p].role if p in known_people else "named with a title in the text", n)
                    for p, n in people.get(a, Counter()).most_common()
                ],
                sources=actor_sources.get(a, []),
                known=entry is not None,
            )
        )
    # people the parser found who are neither in the table nor mapped by title
    mapped_words = {w for c in people.values() for p in c for w in p.split()}
    draft.unmapped_people = [
        (p, n)
        for p, n in unmapped.most_common()
        if not set(p.split()) <= mapped_words and lexicon.resolve(p) is None
    ]

    by_issue = Counter(e.issue for e in evidence)
    for issue_id, n in by_issue.most_common():
        topic = lexicon.topic(issue_id)
        srcs = list(dict.fromkeys(e.source for e in evidence if e.issue == issue_id))
        if topic is not None:
            draft.issues.append(DraftIssue(topic.id, topic.name, topic.low, topic.high, False, srcs, n))
        else:
            word = issue_id.removeprefix("other_")
            draft.issues.append(
                DraftIssue(_safe_id(issue_id), f"{word.capitalize()} (candidate)", "", "", True, srcs, n)
            )
    issue_order = {i.id: k for k, i in enumerate(draft.issues)}
    actor_order = {a.id: k for k, a in enumerate(draft.actors)}
    pairs: dict[tuple[str, str], list[Evidence]] = {}
    for e in evidence:
        pairs.setdefault((e.actor, _safe_id(e.issue)), []).append(e)
    for (a, i), evs in sorted(pairs.items(), key=lambda kv: (issue_order[kv[0][1]], actor_order[kv[0][0]])):
        dirs = Counter(e.direction for e in evs)
        top = dirs.most_common()
        direction = top[0][0] if len(top) == 1 or top[0][1] > top[1][1] else "mixed"
        draft.stances.append(
            DraftStance(
                a,
                i,
                direction,
                dict(dirs),
                sorted({w for e in evs for w in e.salience_up}),
                sorted({w for e in evs for w in e.salience_down}),
                sorted(evs, key=lambda e: (e.source, e.line, e.sentence)),
            )
        )
    return draft


def _safe_id(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_.\-]+", "_", text).strip("_") or "issue"
    return out if out[0].isalpha() else "x" + out
