"""The alias table (who a word stands for) and the topic lexicon (which issue a sentence is about).

Both ship as YAML data files in `parley/data/draft/` and can be extended by the user with files in
the same format; entries with an existing id add to it, new ids add entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from parley.core.errors import ParleyInputError, Problem
from parley.io.yaml_io import parse_yaml, read_text


@dataclass(frozen=True)
class Person:
    name: str
    actor: str
    role: str = ""
    match: tuple[str, ...] = ()


@dataclass
class ActorEntry:
    id: str
    name: str
    names: list[str] = field(default_factory=list)
    adjectives: list[str] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    low: str
    high: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Mention:
    """A stretch of a sentence that stands for an actor."""

    start: int
    end: int
    actor: str
    kind: str  # "name", "adjective", "person" or "pronoun"
    text: str
    person: str | None = None  # full name when a person speaks for the actor


@dataclass(frozen=True)
class TopicHit:
    topic: Topic
    start: int
    end: int
    term: str


class Lexicon:
    """Compiled matchers for actors (case-sensitive names) and topics (case-insensitive terms)."""

    def __init__(self, actors: list[ActorEntry], topics: list[Topic]):
        self.actors = {a.id: a for a in actors}
        self.topics = list(topics)
        self._forms: dict[str, tuple[str, str, str | None]] = {}
        for a in actors:
            for n in a.names:
                self._forms.setdefault(n, (a.id, "name", None))
            for p in a.people:
                for m in p.match or _default_match(p.name):
                    self._forms.setdefault(m, (a.id, "person", p.name))
            for adj in a.adjectives:
                self._forms.setdefault(adj, (a.id, "adjective", None))
        self._actor_re = _alternation(self._forms, flags=0)
        self._topic_res = [(t, _topic_regex(t.terms)) for t in self.topics]
        self.people = {p.name: p for a in actors for p in a.people}

    # --- actors -------------------------------------------------------------------------
    def mentions(self, text: str) -> list[Mention]:
        """Every non-overlapping actor mention, longest form first."""
        out = []
        if self._actor_re is None:
            return out
        for m in self._actor_re.finditer(text):
            actor, kind, person = self._forms[m.group(0)]
            out.append(Mention(m.start(), m.end(), actor, kind, m.group(0), person))
        return out

    def resolve(self, name: str) -> str | None:
        """The actor a name stands for (exact form, or case-insensitive, or an actor's id)."""
        name = name.strip()
        if name in self._forms:
            return self._forms[name][0]
        if name in self.actors:
            return name
        low = name.lower().removeprefix("the ")
        for form, (actor, _, _) in self._forms.items():
            if form.lower() == low:
                return actor
        for a in self.actors.values():
            if a.name.lower() == low or a.id.lower() == low:
                return a.id
        return None

    def with_people(self, people: Iterable[Person]) -> Lexicon:
        """A copy that also knows these people (found in the text itself, e.g. by their title)."""
        actors = [
            ActorEntry(a.id, a.name, list(a.names), list(a.adjectives), list(a.people))
            for a in self.actors.values()
        ]
        by_id = {a.id: a for a in actors}
        for p in people:
            if p.actor in by_id and p.name not in self.people:
                by_id[p.actor].people.append(p)
        return Lexicon(actors, self.topics)

    # --- topics -------------------------------------------------------------------------
    def topic_hits(self, text: str) -> list[TopicHit]:
        """Topic terms in the text; where terms of two topics overlap the longer one wins
        ("secondary tariffs" is sanctions, not tariffs)."""
        hits = []
        for topic, rx in self._topic_res:
            for m in rx.finditer(text):
                hits.append(TopicHit(topic, m.start(), m.end(), m.group(0)))
        return [
            h
            for h in hits
            if not any(
                o.topic.id != h.topic.id
                and o.start <= h.start
                and h.end <= o.end
                and o.end - o.start > h.end - h.start
                for o in hits
            )
        ]

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


def _default_match(name: str) -> tuple[str, ...]:
    parts = name.split()
    return (name, parts[-1]) if len(parts) > 1 else (name,)


def _alternation(forms: Iterable[str], flags: int) -> re.Pattern[str] | None:
    ordered = sorted(set(forms), key=len, reverse=True)
    if not ordered:
        return None
    body = "|".join(re.escape(f) for f in ordered)
    return re.compile(rf"(?<![\w\-])(?:{body})(?![\w])", flags)


def _topic_regex(terms: Iterable[str]) -> re.Pattern[str]:
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        if term.endswith("*"):
            parts.append(re.escape(term[:-1]) + r"\w*")
        else:
            parts.append(re.escape(term) + r"(?:s|es)?")
    body = "|".join(p.replace(r"\ ", r"[\s\-]+") for p in parts)
    return re.compile(rf"(?<![\w\-])(?:{body})(?![\w])", re.IGNORECASE)


# --- loading ------------------------------------------------------------------------------
def _data_file(name: str) -> str:
    return (resources.files("parley") / "data" / "draft" / name).read_text(encoding="utf-8")


def load_lexicon(
    alias_files: Iterable[str | Path] = (), topic_files: Iterable[str | Path] = ()
) -> Lexicon:
    """The shipped tables extended by the user's files (later files add to earlier ones)."""
    actors: dict[str, ActorEntry] = {}
    topics: dict[str, Topic] = {}
    _add_actors(actors, parse_yaml(_data_file("aliases.yaml"), "aliases.yaml")[0], "aliases.yaml")
    _add_topics(topics, parse_yaml(_data_file("topics.yaml"), "topics.yaml")[0], "topics.yaml")
    for f in alias_files:
        text = read_text(Path(f), MAX_TABLE_BYTES, what="alias file")
        _add_actors(actors, parse_yaml(text, str(f))[0], str(f))
    for f in topic_files:
        text = read_text(Path(f), MAX_TABLE_BYTES, what="topic file")
        _add_topics(topics, parse_yaml(text, str(f))[0], str(f))
    _check_size(actors, topics, [*map(str, alias_files), *map(str, topic_files)])
    return Lexicon(list(actors.values()), list(topics.values()))


MAX_TABLE_BYTES = 500_000
MAX_LEXICON_ACTORS = 2_000
MAX_LEXICON_TERMS = 20_000
"""Limits of the alias and topic tables: every name becomes part of one regular expression,
and compiling 100,000 alternatives took minutes (the shipped tables have about 80 actors and
1,000 names)."""


def _check_size(actors: dict[str, ActorEntry], topics: dict[str, Topic], files: list[str]) -> None:
    terms = sum(len(a.names) + len(a.adjectives) + sum(len(p.match) for p in a.people)
                for a in actors.values()) + sum(len(t.terms) for t in topics.values())
    if len(actors) > MAX_LEXICON_ACTORS or terms > MAX_LEXICON_TERMS:
        raise ParleyInputError([Problem(
            "", f"the alias and topic tables hold {len(actors):,} actors and {terms:,} names and "
            f"terms; `parley draft` handles at most {MAX_LEXICON_ACTORS:,} actors and "
            f"{MAX_LEXICON_TERMS:,} names", "keep the actors and terms of the negotiations you "
            "draft")], ", ".join(files) or "alias tables")


def _strings(value: Any, path: str, source: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ParleyInputError(
            [Problem(path, "expected a list of names", "write them as [Name one, Name two]")], source
        )
    return [v.strip() for v in value]


def _entries(data: Any, key: str, source: str) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ParleyInputError(
            [Problem(key, f"the file needs a top-level `{key}:` list", "see docs/draft.md for the format")],
            source,
        )
    for n, e in enumerate(data[key]):
        if not isinstance(e, dict) or not isinstance(e.get("id"), str) or not e["id"].strip():
            raise ParleyInputError(
                [Problem(f"{key}[{n}]", "each entry needs an `id:`", "add `id: SHORT_ID`")], source
            )
    return data[key]


def _add_actors(actors: dict[str, ActorEntry], data: Any, source: str) -> None:
    for n, e in enumerate(_entries(data, "actors", source)):
        path = f"actors[{n}]"
        entry = actors.setdefault(e["id"], ActorEntry(e["id"], str(e.get("name") or e["id"])))
        if e.get("name"):
            entry.name = str(e["name"])
        entry.names += _strings(e.get("names"), f"{path}.names", source)
        entry.adjectives += _strings(e.get("adjectives"), f"{path}.adjectives", source)
        people = e.get("people") or []
        if not isinstance(people, list):
            raise ParleyInputError(
                [Problem(f"{path}.people", "expected a list", "write `- {name: ..., role: ...}` entries")],
                source,
            )
        for j, p in enumerate(people):
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                raise ParleyInputError(
                    [Problem(f"{path}.people[{j}]", "each person needs a `name:`", "add `name: Full Name`")],
                    source,
                )
            match = tuple(_strings(p.get("match"), f"{path}.people[{j}].match", source))
            entry.people.append(Person(p["name"], entry.id, str(p.get("role") or ""), match))


def _add_topics(topics: dict[str, Topic], data: Any, source: str) -> None:
    for n, e in enumerate(_entries(data, "topics", source)):
        terms = tuple(_strings(e.get("terms"), f"topics[{n}].terms", source))
        old = topics.get(e["id"])
        if old is None:
            if not terms:
                raise ParleyInputError(
                    [
                        Problem(
                            f"topics[{n}].terms", "a new topic needs terms", "list the words that signal it"
                        )
                    ],
                    source,
                )
            topics[e["id"]] = Topic(
                e["id"],
                str(e.get("name") or e["id"]),
                str(e.get("low") or ""),
                str(e.get("high") or ""),
                terms,
            )
        else:
            topics[e["id"]] = Topic(
                old.id,
                str(e.get("name") or old.name),
                str(e.get("low") or old.low),
                str(e.get("high") or old.high),
                old.terms + terms,
            )
