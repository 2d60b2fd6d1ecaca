"""From sentences to evidence: who states which stance on what, quoted with its location.

A sentence yields evidence only when a stance cue has an actor as its holder and the cue's clause
names a topic (or a thing that later clusters into a candidate issue). Precision comes first:
when the holder is unclear (the parse finds a subject that is not an actor, or nobody is named
before the cue in its clause) the sentence yields nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from parley.draft.cues import (
    CLAUSE_BREAK,
    MODAL_RE,
    Cue,
    clause_end,
    clause_start,
    find_cues,
    has_condition,
    salience_words,
)
from parley.draft.engines import Engine, Entity, Sentence
from parley.draft.lexicon import Lexicon, Mention, Person
from parley.draft.reading import Article

QUOTE_MAX = 320

_TITLES = (
    r"president|vice[\s\-]president|prime\s+minister|(?:foreign\s+|trade\s+|commerce\s+|finance\s+"
    r"|defen[cs]e\s+|climate\s+|energy\s+|economy\s+)?minister|secretary(?:\s+of\s+state)?|envoy"
    r"|chancellor|commissioner|(?:chief\s+)?negotiator|ambassador|spokes(?:man|woman|person)|premier"
    r"|representative|adviser|advisor|delegate|foreign\s+secretary|head\s+of\s+delegation"
)
_WORD = r"[A-ZÀ-Þ][^\W\d_]+(?:[\-’'][^\W\d_]+)?"
_NAME = rf"{_WORD}(?:\s+(?:(?:de|da|von|van|der|bin|al)\s+)?{_WORD}){{1,2}}"

_STOP_WORDS = """
    a an the to of for on in at by with from and or but that this these those its his her
    their our your my be been being is are was were will would can could should may might
    must have has had do does did not no any some more most less such as into onto over
    under about against between both each it they them he she we you i also only even still
    just very so than then there here what which who whom whose when where why how all other
    another new further greater full back up down out off make making made take taking took
    give giving gave get getting got begin start keep despite although though while because
    since after before during until within without towards toward across through including
    instead rather already again ever yet soon now later next last first second third one two
    several many much few little really quite far
    """
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Evidence:
    """One stance statement: actor, issue, suggested direction, and the quoted sentence."""

    actor: str
    issue: str  # a topic id, or "other_<word>" for a candidate cluster
    direction: str  # for | against | conditional
    cue_kind: str
    cue: str
    holder: str  # the words that name the actor in the sentence ("Zelensky", "Washington", "he")
    person: str | None
    source: str
    path: str
    line: int
    sentence: int
    quote: str
    salience_up: tuple[str, ...] = ()
    salience_down: tuple[str, ...] = ()
    on: str | None = None  # the actor asked to act, for "X should/must ..." demands

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line} (sentence {self.sentence})"


@dataclass
class ArticleFindings:
    """Everything read from one article."""

    article: Article
    evidence: list[Evidence] = field(default_factory=list)
    mentions: Counter[str] = field(default_factory=Counter)  # actor -> mentions
    forms: dict[str, Counter[str]] = field(default_factory=dict)  # actor -> words used for it
    people: dict[str, Counter[str]] = field(default_factory=dict)  # actor -> people speaking for it
    unmapped_people: Counter[str] = field(default_factory=Counter)
    discovered: dict[str, str] = field(default_factory=dict)  # new actor id -> name
    sentences: int = 0


def title_people(text: str, lexicon: Lexicon) -> list[Person]:
    """People introduced with an actor and a title: "Brazil's chief negotiator Ana Souza",
    "Ana Souza, Brazil's chief negotiator" (the alias table need not know them)."""
    forms = sorted(
        {m for a in lexicon.actors.values() for m in (*a.names, *a.adjectives)}, key=len, reverse=True
    )
    if not forms:
        return []
    who = "|".join(re.escape(f) for f in forms)
    before = re.compile(
        rf"(?<![\w])(?P<who>{who})(?:['’]s)?\s+(?:[\w\-]+\s+){{0,2}}?(?i:{_TITLES})\s+(?P<name>{_NAME})"
    )
    after = re.compile(
        rf"(?P<name>{_NAME}),\s+(?:the\s+|a\s+)?(?P<who>{who})(?:['’]s)?\s+(?:[\w\-]+\s+){{0,2}}?(?i:{_TITLES})\b"
    )
    found: dict[str, Person] = {}
    for rx in (before, after):
        for m in rx.finditer(text):
            name = m.group("name").strip()
            actor = lexicon.resolve(m.group("who"))
            if actor is None or lexicon.resolve(name) is not None or name in found:
                continue
            if any(w in _STOP for w in name.lower().split()):
                continue
            found[name] = Person(name, actor, "named with a title in the text")
    return list(found.values())


def _discovered_mentions(
    sent: Sentence, ents: list[Entity], table: list[Mention], found: ArticleFindings
) -> list[Mention]:
    """Countries and organisations the parser found that the alias table does not know."""
    out = []
    for e in ents:
        if e.label == "PERSON" or not (sent.start <= e.start and e.end <= sent.end):
            continue
        s, t = e.start - sent.start, e.end - sent.start
        if any(m.start < t and s < m.end for m in table):
            continue
        text = re.sub(r"^(?:the|The)\s+", "", e.text).strip()
        if not re.match(r"[A-Z]", text) or len(text) < 2:
            continue
        actor = "X_" + re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:40]
        found.discovered.setdefault(actor, text)
        out.append(Mention(s, t, actor, "adjective" if e.label == "NORP" else "name", e.text))
    return out


_PRON_PERSON = re.compile(r"(?<![\w])(?:[Hh]e|[Ss]he|[Hh]is|[Hh]er|[Hh]im)(?![\w'’])")
_PRON_THING = re.compile(r"(?<![\w])(?:[Ii]t|[Ii]ts|[Tt]hey|[Tt]heir)(?![\w'’])")


def _pronouns(text: str, table: list[Mention], last_person: Mention | None) -> list[Mention]:
    out = []
    for m in _PRON_PERSON.finditer(text):
        earlier = [x for x in table if x.kind == "person" and x.end <= m.start()]
        ref = earlier[0] if earlier else last_person  # the first person named is usually the subject
        if ref is not None:
            out.append(Mention(m.start(), m.end(), ref.actor, "pronoun", m.group(0), ref.person))
    for m in _PRON_THING.finditer(text):
        earlier = [x for x in table if x.kind == "name" and x.end <= m.start()]
        if earlier:
            ref = earlier[-1]
            out.append(Mention(m.start(), m.end(), ref.actor, "pronoun", m.group(0), ref.person))
    return out


def _holder(
    engine: Engine, sent: Sentence, cue: Cue, mentions: list[Mention]
) -> tuple[Mention | None, str | None]:
    """The actor holding the stance a cue expresses, and the actor asked to act (modal demands)."""
    text = sent.text
    holder: Mention | None = None
    subj = engine.subject(sent, cue.start)
    if isinstance(subj, tuple):
        over = [m for m in mentions if m.start < subj[1] and subj[0] < m.end]
        if not over and text[subj[0] : subj[1]].lower() in _GROUP_NOUNS:
            # "Indian officials oppose", "Russia's negotiators rejected"
            over = [m for m in mentions if re.fullmatch(r"(?:['’]s)?\s*", text[m.end : subj[0]])]
        if not over:
            return None, None  # the subject is something else ("the agreement"): not a stance
        holder = over[0]
    if holder is None:
        lo = clause_start(text, cue.start)
        before = [m for m in mentions if lo <= m.start and m.end <= cue.start]
        before = [m for m in before if m.kind != "adjective" or _qualifies(text, m, cue)]
        # with a parse, only a word that is the subject (or owner) of something can hold a stance;
        # without one, a name that modifies a noun ("the Ukraine war") cannot
        before = [m for m in before if engine.dep(sent, m.end - 1) in (None, *_HOLDER_DEPS)]
        before = [m for m in before if not _MODIFIER.match(text, m.end)]
        if not before or cue.start - before[-1].end > 90:
            return None, None
        holder = before[-1]
    if holder.kind == "adjective" and not _qualifies(text, holder, cue):
        return None, None
    gap = text[holder.end : cue.start] if holder.end <= cue.start else ""
    if _OBJECT_GAP.fullmatch(gap) or _SUBORDINATE.search(gap):
        # "urged Kyiv to accept": Kyiv is the one asked, the stance is the urger's;
        # "insists that the world recognise": the clause has a subject of its own
        return None, None
    if holder.start < cue.start and MODAL_RE.search(text, holder.end, cue.start):
        speakers = [
            m
            for m in mentions
            if m.start < holder.start and m.actor != holder.actor and m.kind != "adjective"
        ]
        if not speakers:
            return None, None  # "X must ..." said by the article itself: not an actor's stance
        return speakers[0], holder.actor
    return holder, None


_HOLDER_DEPS = ("nsubj", "nsubjpass", "poss", "amod", "appos")
_GROUP_NOUNS = (
    "officials", "leaders", "government", "governments", "negotiators", "diplomats", "authorities",
    "ministers", "delegation", "delegates", "lawmakers", "officers", "administration",
)
_MODIFIER = re.compile(
    r"\s+(?:war|deal|talks|conflict|crisis|sanctions|aid|relations|membership|policy|peace|economy"
    r"|border|front|agreement|accession|question|issue|file|envoy|trip|visit|summit)\b"
)
_OBJECT_GAP = re.compile(r"\s+to\s+(?:\w+\s+)?")
_SUBORDINATE = re.compile(r"(?<![\w])(?:that|which|who|whom|whose|where|when|because|if)(?![\w])", re.I)


def _qualifies(text: str, adjective: Mention, cue: Cue) -> bool:
    """A demonym holds a stance only when it qualifies the cue or a group that acts:
    "American support", "Indian officials oppose" (not "European wines in exchange for")."""
    if cue.kind == "condition":
        return False
    gap = text[adjective.end : cue.start].strip().lower()
    return gap == "" or gap in _GROUP_NOUNS


def _headline(text: str) -> bool:
    """Title-case lines ("A Sign That Support Might Continue?") are headings, not statements."""
    words = re.findall(r"[A-Za-z][\w'’\-]*", text)
    caps = sum(w[0].isupper() for w in words)
    return len(words) >= 3 and caps >= 0.6 * len(words)


_ANTECEDENT_GAP = re.compile(r"[\s,;:—–\-]*(?:something|which|that|what|the\s+thing)?\s*", re.I)


def _topics_for(lexicon: Lexicon, text: str, lo: int, hi: int, holder_start: int) -> list[str]:
    """Topics named in the cue's scope, or, for a relative clause ("guarantees, something Kyiv
    has long sought"), the topic named just before the holder."""
    hits = lexicon.topic_hits(text)
    near = [h.topic.id for h in hits if lo <= h.start and h.end <= hi]
    if near:
        return list(dict.fromkeys(near))
    return [
        h.topic.id
        for h in hits
        if h.end <= holder_start and _ANTECEDENT_GAP.fullmatch(text[h.end : holder_start])
    ][:1]


def _candidate_key(
    engine: Engine, sent: Sentence, start: int, end: int, mentions: list[Mention]
) -> str | None:
    """The first content word (a noun, when there is a parse) after the cue: what is demanded,
    offered or refused."""
    text = sent.text
    for m in re.finditer(r"[A-Za-z][A-Za-z\-]+", text[start:end]):
        s = start + m.start()
        if any(x.start <= s < x.end for x in mentions):
            continue
        word = m.group(0).lower()
        if word in _STOP or len(word) < 4 or word.endswith("ly"):
            continue
        if engine.pos(sent, s) not in (None, "NOUN"):
            continue
        if word.endswith("ies") and len(word) > 5:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 4:
            word = word[:-1]
        return word
    return None


def _quote(text: str, cue: Cue) -> str:
    flat = " ".join(text.split())
    if len(flat) <= QUOTE_MAX:
        return flat
    # keep the window around the cue; mark the cut with ellipses
    at = " ".join(text[: cue.start].split())
    lo = max(0, len(at) - QUOTE_MAX // 2)
    hi = min(len(flat), lo + QUOTE_MAX)
    return ("…" if lo else "") + flat[lo:hi].strip() + ("…" if hi < len(flat) else "")


def extract(article: Article, engine: Engine, lexicon: Lexicon) -> ArticleFindings:
    """All stance evidence in one article."""
    found = ArticleFindings(article)
    lexicon = lexicon.with_people(title_people(article.text, lexicon))
    sentences, ents = engine.analyse(
        article.text, covered=lambda t: [(m.start, m.end) for m in lexicon.mentions(t)]
    )
    found.sentences = len(sentences)
    last_person: Mention | None = None
    last_person_at = -10
    for n, sent in enumerate(sentences, start=1):
        text = sent.text
        table = lexicon.mentions(text)
        for m in table:
            found.mentions[m.actor] += 1
            found.forms.setdefault(m.actor, Counter())[m.text] += 1
            if m.person:
                found.people.setdefault(m.actor, Counter())[m.person] += 1
        for e in ents:
            if e.label == "PERSON" and sent.start <= e.start < sent.end:
                s = e.start - sent.start
                if not any(m.start <= s < m.end for m in table):
                    found.unmapped_people[e.text] += 1
        recent = last_person if n - last_person_at <= 3 else None
        mentions = sorted(
            table + _pronouns(text, table, recent) + _discovered_mentions(sent, ents, table, found),
            key=lambda m: m.start,
        )
        persons = [m for m in table if m.kind == "person"]
        if persons:
            last_person, last_person_at = persons[0], n
        if not mentions or _headline(text):
            continue
        cues = find_cues(text)
        if not cues:
            continue
        conditional = has_condition(cues)
        up, down = salience_words(text)
        seen: set[tuple[str, str]] = set()
        last: tuple[Mention, Cue] | None = None
        # a condition ("as long as", "in exchange for") belongs to the stance the sentence
        # already states, so it takes that stance's holder rather than the nearest name
        ordered = [c for c in cues if c.kind != "condition"] + [c for c in cues if c.kind == "condition"]
        first: tuple[Mention, str | None] | None = None
        for cue in ordered:
            if cue.kind == "condition" and first is not None:
                holder, on = first
            else:
                holder, on = _holder(engine, sent, cue, mentions)
            if holder is None:
                continue
            first = first or (holder, on)
            same = last is not None and last[0] == holder and cue.kind != "condition"
            if same and not CLAUSE_BREAK.search(text, last[1].end, cue.start):
                continue  # "called for more weapons and financial support": one stance, not two
            last = (holder, cue)
            window = (cue.start, min(clause_end(text, cue.end), cue.end + 70))
            scope = engine.scope(sent, cue.start)
            if cue.kind == "condition":  # a trade names both sides: the whole sentence
                scope = (0, len(text))
            elif scope is None:  # no parse: the rest of the clause, within reach
                scope = window
            lo, hi = min(scope[0], cue.start), max(scope[1], cue.end)
            topics = _topics_for(lexicon, text, lo, hi, holder.start)
            if not topics and scope != window:  # a parse that went astray (quotes, dashes)
                topics = _topics_for(lexicon, text, *window, holder.start)
            if not topics:
                key = _candidate_key(engine, sent, cue.end, hi, mentions)
                topics = [f"other_{key}"] if key else []
            direction = "conditional" if conditional else cue.direction
            for topic in topics:
                if (holder.actor, topic) in seen:
                    continue
                seen.add((holder.actor, topic))
                found.evidence.append(
                    Evidence(
                        actor=holder.actor,
                        issue=topic,
                        direction=direction,
                        cue_kind=cue.kind,
                        cue=" ".join(cue.text.split()),
                        holder=holder.text,
                        person=holder.person,
                        source=article.source,
                        path=article.path,
                        line=article.line_of(sent.start + cue.start),
                        sentence=n,
                        quote=_quote(text, cue),
                        salience_up=tuple(up),
                        salience_down=tuple(down),
                        on=on,
                    )
                )
    return found
