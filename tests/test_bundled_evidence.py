"""The bundled scenarios show their evidence: every stance cites a dated public source or says,
in a note, why its coding is a judgement; passages quoted from the seed article are the
article's own words, one sentence at most."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import parley

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_b4be94d62b7cfcbf.txt"
DATED = re.compile(r"\d{4}-\d{2}-\d{2}")
"""Sources that are not a dated report: the seed (dated by its description), the coding itself
and the treaty rule on EU sanctions."""
UNDATED_OK = {"analyst", "seed", "eu_sanctions"}


def unsupported(s) -> list[str]:
    """Stances that cite nothing but a bare "analyst" and carry no note."""
    return [f"{st.actor}/{st.issue}" for st in s.stances
            if not (set(st.sources) - {"analyst"}) and not st.note.strip()]


@pytest.mark.parametrize("name", ["ukraine-2025-05", "ukraine-2026-02"])
def test_every_stance_has_a_source_or_a_note(name) -> None:
    s = parley.load(name)
    assert len(s.stances) >= 34
    assert unsupported(s) == []


@pytest.mark.parametrize("name", ["ukraine-2025-05", "ukraine-2026-02"])
def test_cited_reports_are_dated_and_no_later_than_the_scenario(name) -> None:
    s = parley.load(name)
    for key, text in s.sources.items():
        if key in UNDATED_OK:
            continue
        dates = DATED.findall(text)
        assert dates, f"{name}: source {key} has no date"
        assert min(dates) <= s.as_of.isoformat(), f"{name}: source {key} is later than as_of"


def test_the_count_catches_a_bare_analyst_stance() -> None:
    s = parley.load("ukraine-2025-05")
    st = s.stances[0].model_copy(update={"sources": ["analyst"], "note": ""})
    bare = s.model_copy(update={"stances": [st, *s.stances[1:]]})
    assert unsupported(bare) == [f"{st.actor}/{st.issue}"]


def test_the_eu_can_block_only_sanctions_relief() -> None:
    """Lifting EU sanctions needs unanimity: the EU is a veto player through that one reservation."""
    for name in ("ukraine-2025-05", "ukraine-2026-02"):
        s = parley.load(name)
        assert s.actor("EU").veto
        reserved = [st.issue for st in s.stances if st.actor == "EU" and st.reservation is not None]
        assert reserved == ["sanctions"]


def test_may_2025_has_the_live_ceasefire_question_and_a_horizon() -> None:
    s = parley.load("ukraine-2025-05")
    assert "sequencing" in s.issue_ids and "30-day" in s.issue("sequencing").low
    assert s.horizon is not None and s.horizon.isoformat() == "2026-05-10"


def _plain(text: str) -> str:
    return (text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
            .replace("\u201d", '"').replace("\u2014", "—"))


@pytest.mark.skipif(not SEED.exists(), reason="../shared (the seed article) is not present")
def test_seed_quotes_are_the_articles_words_and_at_most_a_sentence() -> None:
    seed = _plain(SEED.read_text(encoding="utf-8"))
    s = parley.load("ukraine-2025-05")
    quoted = 0
    for st in s.stances:
        if "seed" not in st.sources:
            continue
        passages = re.findall(r'"([^"]+)"', st.note)
        assert passages, f"{st.actor}/{st.issue} cites the seed without quoting it"
        for passage in passages:
            for part in (p.strip() for p in passage.split("...")):
                assert part in seed, f"{st.actor}/{st.issue}: {part!r} is not in the seed"
            inner = passage.replace("...", "").rstrip(".!? ")
            assert not re.search(r"[.!?]\s", inner), passage  # at most one sentence
            quoted += 1
    assert quoted >= 8
