"""Draft a scenario from news text, offline: actors, candidate issues and quoted stance evidence.

    from parley.draft import draft_files
    d = draft_files(["article.txt"])            # spaCy reader when `parley[nlp]` is installed
    d = draft_files(["article.txt"], engine="rules")   # plain rules, always available

The pipeline: `reading` (text/HTML with line map) -> `engines` (sentences, entities, subjects)
-> `extract` (cues, holders, topics per sentence) -> `assemble` (actors, issues, stances) ->
`render` (scenario YAML with TODO numbers, or JSON) and `merge` (into an existing scenario).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from parley.draft.assemble import Draft, assemble
from parley.draft.engines import Engine, get_engine
from parley.draft.extract import extract
from parley.draft.lexicon import Lexicon, load_lexicon
from parley.draft.reading import Article, read_article

__all__ = ["Draft", "draft_articles", "draft_files", "headline", "source_ids"]


def source_ids(paths: Sequence[str | Path], taken: Iterable[str] = ()) -> list[str]:
    """Short unique source ids from file names ("Kyiv talks.txt" -> "kyiv_talks")."""
    used = set(taken)
    out = []
    for p in paths:
        base = re.sub(r"[^A-Za-z0-9]+", "_", Path(p).stem).strip("_").lower()[:40] or "article"
        if not base[0].isalpha():
            base = "a_" + base
        sid, n = base, 2
        while sid in used:
            sid, n = f"{base}_{n}", n + 1
        used.add(sid)
        out.append(sid)
    return out


def draft_articles(articles: Sequence[Article], engine: Engine, lexicon: Lexicon) -> Draft:
    return assemble([extract(a, engine, lexicon) for a in articles], lexicon, engine.name)


def draft_files(
    paths: Sequence[str | Path],
    engine: str | Engine = "auto",
    alias_files: Iterable[str | Path] = (),
    topic_files: Iterable[str | Path] = (),
    taken_ids: Iterable[str] = (),
) -> Draft:
    """Read the files and draft one scenario from all of them."""
    eng = get_engine(engine) if isinstance(engine, str) else engine
    lexicon = load_lexicon(alias_files, topic_files)
    articles = [read_article(p, s) for p, s in zip(paths, source_ids(paths, taken_ids), strict=True)]
    return draft_articles(articles, eng, lexicon)


def headline(path: str | Path) -> str | None:
    """The first line of an article when it reads like a headline (short, no final full stop)."""
    try:
        art = read_article(path, "x")
    except Exception:  # the caller already reported unreadable files
        return None
    first = next((ln.strip() for ln in art.text.splitlines() if ln.strip()), "")
    if 0 < len(first) <= 160 and not first.endswith("."):
        return first
    return None
