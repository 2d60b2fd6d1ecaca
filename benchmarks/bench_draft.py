"""Speed of `parley draft`: 20 articles of ~1,000 words, after the model has loaded.

The articles are built from the project's own test texts (tests/data/articles), paragraphs
shuffled with a fixed seed and joined until each has ~1,000 words, written to a temporary folder
and drafted together as the CLI does (one scenario from all files).

    python benchmarks/bench_draft.py            # both readers when spaCy is installed
    python benchmarks/bench_draft.py --rules    # rule-based reader only
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import re
import tempfile
import time
from pathlib import Path

from parley.draft import draft_files
from parley.draft.engines import MODEL, get_engine
from parley.draft.reading import read_article

ARTICLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "articles"


def make_articles(folder: Path, n: int = 20, words: int = 1000, seed: int = 7) -> list[Path]:
    paras = []
    for f in sorted(ARTICLES.glob("*.txt")) + sorted(ARTICLES.glob("*.html")):
        text = read_article(f, "x").text
        paras += [p.strip() for p in re.split(r"\n\s*\n", text) if len(p.split()) > 8]
    rng = random.Random(seed)
    out = []
    for k in range(n):
        chosen, count = [], 0
        while count < words:
            p = rng.choice(paras)
            chosen.append(p)
            count += len(p.split())
        path = folder / f"article_{k:02d}.txt"
        path.write_text(f"Article {k}\n\n" + "\n\n".join(chosen) + "\n", encoding="utf-8")
        out.append(path)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", action="store_true", help="only the rule-based reader")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    have = importlib.util.find_spec("spacy") and importlib.util.find_spec(MODEL)
    engines = ["rules"] if args.rules or not have else ["rules", "spacy"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_articles(Path(tmp))
        total = sum(len(p.read_text(encoding="utf-8").split()) for p in paths)
        print(f"{len(paths)} articles, {total} words in all")
        for name in engines:
            t0 = time.perf_counter()
            eng = get_engine(name)
            load = time.perf_counter() - t0
            best = float("inf")
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                d = draft_files(paths, eng)
                best = min(best, time.perf_counter() - t0)
            print(
                f"{name:6s} reader: load {load:.2f} s, draft {best:.2f} s (best of {args.repeat}); "
                f"{len(d.actors)} actors, {len(d.issues)} issues, {len(d.stances)} stances, "
                f"{sum(len(s.evidence) for s in d.stances)} evidence sentences"
            )


if __name__ == "__main__":
    main()
