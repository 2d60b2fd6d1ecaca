"""Loaders of the tidy backtest format: valid files load, malformed ones name file and row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.backtest.data import load_deu, load_tidy
from parley.core.errors import ParleyInputError

ISSUES = "isnr,prnr,proc,counvte,introduced,final_act,reference_point,outcome\n" \
         "i1,p1,COD,QMV,01-01-00,01-06-01,0,40\n" \
         "i2,p1,COD,Unan,01-01-00,999,,100\n" \
         "i3,p2,CNS,QMV,01-01-05,999,50,\n"
STANCES = "isnr,actor,position,salience\n" \
          "i1,com,100,50\ni1,de,0,80\ni1,fr,50,40\n" \
          "i2,com,100,50\ni2,de,100,80\ni2,fr,0,40\n" \
          "i3,com,0,50\ni3,de,0,80\ni3,fr,10,40\n"
ACTORS = "actor,council_votes_pre_nice,council_votes_nice,population_m_2019\n" \
         "com,,,\nde,10,29,83\nfr,10,29,67\n"


def write(tmp_path: Path, issues: str = ISSUES, stances: str = STANCES,
          actors: str | None = ACTORS) -> tuple[Path, Path, Path | None]:
    i, s = tmp_path / "issues.csv", tmp_path / "stances.csv"
    i.write_text(issues)
    s.write_text(stances)
    a = None
    if actors is not None:
        a = tmp_path / "actors.csv"
        a.write_text(actors)
    return i, s, a


def error_text(tmp_path: Path, **files: str) -> str:
    with pytest.raises(ParleyInputError) as info:
        load_tidy(*write(tmp_path, **files))
    return info.value.render()


def test_valid_files_load_and_blank_outcomes_are_skipped(tmp_path):
    d = load_tidy(*write(tmp_path))
    assert [i.isnr for i in d.issues] == ["i1", "i2"]
    assert d.skipped == {"i3": "no outcome"}
    first = d.issues[0]
    assert first.actors == ("com", "de", "fr")
    np.testing.assert_allclose(first.salience, [0.5, 0.8, 0.4])  # 0–100 in the file, 0–1 inside
    assert first.rule == "QMV" and first.proc == "COD" and first.date == "01-06-01"
    assert np.isnan(d.issues[1].reference_point)
    assert d.issues[1].date == "01-01-00"  # final act unknown (999): introduction date


def test_bundled_deu_split_matches_its_readme():
    d = load_deu()
    assert len(d.issues) == 229  # "229 with an outcome and at least three coded actors"
    assert len(set(d.groups)) + len({k[:-2] for k in d.skipped}) >= 91
    assert all(0 <= i.outcome <= 100 for i in d.issues)


def test_missing_column_names_file_column_and_line(tmp_path):
    text = error_text(tmp_path, issues=ISSUES.replace("outcome", "result"))
    assert "issues.csv:1" in text and "missing column 'outcome'" in text


def test_outcome_out_of_range_names_the_row(tmp_path):
    text = error_text(tmp_path, issues=ISSUES.replace(",100\n", ",140\n"))
    assert "issues.csv:3" in text and "outcome 140 is outside 0–100" in text


def test_unknown_actor_code_names_stances_row(tmp_path):
    text = error_text(tmp_path, stances=STANCES.replace("i2,fr,", "i2,xx,"))
    assert "stances.csv:7" in text and "unknown actor code 'xx'" in text


def test_empty_and_header_only_files(tmp_path):
    assert "the file is empty" in error_text(tmp_path, stances="")
    text = error_text(tmp_path, issues="isnr,prnr,outcome\n")
    assert "issues.csv:2" in text and "no rows" in text


def test_non_numbers_duplicates_and_unknown_issues_are_all_listed(tmp_path):
    stances = STANCES + "i1,de,abc,10\ni9,fr,10,10\n"
    text = error_text(tmp_path, stances=stances)
    assert "stances.csv:11" in text and "position 'abc' is not a number" in text
    assert "duplicate row (isnr=i1, actor=de)" in text
    assert "stances.csv:12" in text and "issue 'i9' is not in issues.csv" in text


def test_salience_out_of_range_and_missing_file(tmp_path):
    text = error_text(tmp_path, stances=STANCES.replace("i3,fr,10,40", "i3,fr,10,400"))
    assert "stances.csv:10" in text and "salience 400" in text
    with pytest.raises(ParleyInputError, match="file not found"):
        load_tidy(tmp_path / "nope.csv", tmp_path / "stances.csv")


def test_nothing_scorable_is_an_error(tmp_path):
    issues = "isnr,prnr,outcome\ni1,p1,\n"
    stances = "isnr,actor,position,salience\ni1,a,0,50\ni1,b,100,50\ni1,c,50,50\n"
    with pytest.raises(ParleyInputError, match="no issue has both an outcome"):
        load_tidy(*write(tmp_path, issues=issues, stances=stances, actors=None))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100)), min_size=3, max_size=8),
       st.integers(0, 100))
def test_any_valid_issue_round_trips(tmp_path_factory, stances, outcome):
    tmp = tmp_path_factory.mktemp("rt")
    (tmp / "i.csv").write_text(f"isnr,prnr,outcome\nx1,p1,{outcome}\n")
    rows = "".join(f"x1,a{k},{p},{s}\n" for k, (p, s) in enumerate(stances))
    (tmp / "s.csv").write_text("isnr,actor,position,salience\n" + rows)
    issue = load_tidy(tmp / "i.csv", tmp / "s.csv").issues[0]
    np.testing.assert_allclose(issue.position, [p for p, _ in stances])
    np.testing.assert_allclose(issue.salience, [s / 100 for _, s in stances])
    assert issue.outcome == outcome and len(issue.actors) == len(stances)
