"""Reading articles: HTML to text with a line map, encodings, and robustness on arbitrary text."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.draft.cues import find_cues
from parley.draft.engines import RuleEngine, paragraphs
from parley.draft.extract import extract
from parley.draft.lexicon import load_lexicon
from parley.draft.reading import from_text, html_to_text, read_article

LEXICON = load_lexicon()


def test_html_text_and_lines():
    html = (
        "<html><head><title>Talks stall</title><script>var a = 'Kyiv demanded';</script></head>\n"
        "<body><p>Kyiv demanded\nguarantees.</p>\n"
        "<p>Brussels &amp; Washington <b>agreed</b> to talk.</p></body></html>\n"
    )
    text, starts, lines = html_to_text(html)
    assert text == "Talks stall\n\nKyiv demanded guarantees.\n\nBrussels & Washington agreed to talk."
    from parley.draft.reading import Article

    art = Article("s", "x.html", text, starts, lines)
    assert art.line_of(text.index("Kyiv")) == 2
    assert art.line_of(text.index("guarantees")) == 3
    assert art.line_of(text.index("agreed")) == 4
    assert "var a" not in text


def test_bom_and_crlf(tmp_path: Path):
    f = tmp_path / "a.txt"
    f.write_bytes("\ufeffTitle\r\n\r\nKyiv demanded guarantees.\r\n".encode())
    art = read_article(f, "a")
    assert art.text.startswith("Title\n\nKyiv")
    assert art.line_of(art.text.index("Kyiv")) == 3


def test_html_detected_by_content(tmp_path: Path):
    f = tmp_path / "page.txt"
    f.write_text("<!DOCTYPE html><html><body><p>Hello there.</p></body></html>", encoding="utf-8")
    assert read_article(f, "a").text == "Hello there."


def test_long_paragraphs_are_cut():
    block = "Word " * 30_000
    parts = paragraphs(block, limit=20_000)
    assert all(len(p) <= 20_000 for _, p in parts)
    assert "".join(p for _, p in parts) == block.rstrip("\n")


WORDS = [
    "Kyiv", "Moscow", "Washington", "Trump", "He", "it", "demanded", "refused", "to", "lift",
    "sanctions", "security", "guarantees", "not", "in", "exchange", "for", "Crimea", "aid", "the",
    "and", "said", "that", "should", "never", "U.S.", "Mr.", ",", ".", "?", "—", "’", "\n", "\n\n",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=80))
def test_extraction_never_invents_text(words):
    """Whatever the text, evidence quotes come from it and locations point inside it."""
    text = " ".join(words)
    art = from_text(text, "t")
    found = extract(art, RuleEngine(), LEXICON)
    flat = " ".join(text.split())
    n_lines = text.count("\n") + 1
    for e in found.evidence:
        assert e.quote.strip("…") in flat
        assert 1 <= e.line <= n_lines
        assert e.direction in ("for", "against", "conditional")
        assert e.actor in LEXICON.actors


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_cues_on_any_text(text):
    for c in find_cues(text):
        assert 0 <= c.start < c.end <= len(text)
