"""Read an article (plain text or HTML) into text whose every character knows its source line.

Articles are refused with a message, never a traceback, when they cannot be news text: missing,
empty, binary, not UTF-8, or larger than any article (`MAX_ARTICLE_BYTES`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from parley.core.errors import ParleyInputError, Problem
from parley.io.yaml_io import read_text

MAX_ARTICLE_CHARS = 100_000
"""Characters of article text (after HTML is stripped): a long feature is ~50,000 (8,000 words).
The sentence parser reads about 5 kB/s, so a 2 MB text took minutes; this keeps a draft under
half a minute."""

MAX_ARTICLE_BYTES = 2 * 1024 * 1024
"""A long news article is ~50 kB and a saved web page a few hundred kB; 2 MB leaves a wide margin
while keeping one mistaken file (a data dump, a book) from tying up the parser for minutes."""


@dataclass(frozen=True)
class Article:
    """An article's text with a map from character offsets back to lines of the original file."""

    source: str  # id used in the scenario's `sources`
    path: str  # file name as given
    text: str
    line_starts: tuple[int, ...] = field(repr=False)  # offset where each text segment starts
    line_numbers: tuple[int, ...] = field(repr=False)  # source line of that segment

    def line_of(self, offset: int) -> int:
        """Line in the original file of the character at `offset` (1-based)."""
        k = bisect.bisect_right(self.line_starts, offset) - 1
        return self.line_numbers[max(k, 0)]


def read_article(path: str | Path, source: str) -> Article:
    """Read one article file; HTML is recognised by its extension or its first tag."""
    path = Path(path)
    if not path.exists():
        raise ParleyInputError([Problem("", "file not found", "check the article's path")], str(path))
    text = read_text(path, MAX_ARTICLE_BYTES, what="article")
    if not text.strip():
        raise ParleyInputError(
            [Problem("", "the article is empty", "give a file that contains the article's text")],
            str(path),
        )
    if _looks_like_html(path, text):
        body, starts, lines = html_to_text(text)
        if not body.strip():
            raise ParleyInputError(
                [Problem("", "the HTML page contains no readable text", "save the article's text")],
                str(path),
            )
        _check_length(body, path)
        return Article(source, str(path), body, starts, lines)
    _check_length(text, path)
    return from_text(text, source, str(path))


def _check_length(text: str, path: Path) -> None:
    if len(text) > MAX_ARTICLE_CHARS:
        raise ParleyInputError([Problem(
            "", f"the article has {len(text):,} characters of text; `parley draft` reads at most "
            f"{MAX_ARTICLE_CHARS:,} per article", "give the article itself, or split a long "
            "document into its articles")], str(path))


def from_text(text: str, source: str, path: str = "<text>") -> Article:
    """An article from plain text in memory (lines map one to one)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return Article(source, path, text, tuple(starts), tuple(range(1, len(starts) + 1)))


_HTML_START = re.compile(
    r"\A\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|article|p|div)\b", re.I | re.S
)


def _looks_like_html(path: Path, text: str) -> bool:
    return path.suffix.lower() in (".html", ".htm", ".xhtml") or bool(_HTML_START.match(text[:2000]))


_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
    "table", "section", "article", "header", "footer", "blockquote", "pre", "figcaption", "title",
    "dd", "dt", "hr", "main", "aside",
}
_SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav", "form", "button", "iframe"}


class _Stripper(HTMLParser):
    """Collect visible text; block elements end a paragraph; record each piece's source line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[tuple[str, int]] = []
        self.skip_depth = 0
        self.title: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag in _BLOCK:
            self.pieces.append(("\n\n", self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK:
            self.pieces.append(("\n\n", self.getpos()[0]))

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        if self.skip_depth == 0 and data:
            line = self.getpos()[0]
            # text inside one element may span lines: keep each line's own number
            for k, part in enumerate(data.split("\n")):
                self.pieces.append((part + (" " if k < data.count("\n") else ""), line + k))


def html_to_text(html: str) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """Visible text of an HTML page, paragraphs separated by blank lines, with a line map."""
    parser = _Stripper()
    parser.feed(html)
    parser.close()
    out: list[str] = []
    starts: list[int] = []
    lines: list[int] = []
    pos = 0
    title = " ".join("".join(parser.title).split())
    if title:  # the <title> lives in <head>, which is skipped; keep it as the first paragraph
        out.append(title + "\n\n")
        starts.append(0)
        lines.append(1)
        pos = len(out[0])
    pending_break = False
    for text, line in parser.pieces:
        if text == "\n\n":
            pending_break = pos > 0
            continue
        chunk = re.sub(r"[ \t\f\v\u00a0]+", " ", text)
        if not chunk.strip():
            if chunk and out and not out[-1].endswith((" ", "\n")):
                out.append(" ")
                pos += 1
            continue
        if pending_break and out and not out[-1].endswith("\n"):
            kept = out[-1].rstrip(" ")
            pos -= len(out[-1]) - len(kept)
            out[-1] = kept
            out.append("\n\n")
            pos += 2
        pending_break = False
        if not out or out[-1].endswith("\n"):
            chunk = chunk.lstrip()
        starts.append(pos)
        lines.append(line)
        out.append(chunk)
        pos += len(chunk)
    return "".join(out).rstrip(), tuple(starts) or (0,), tuple(lines) or (1,)
