"""Property tests of the readers (issue 19): whatever the bytes, a Scenario or a clear error.

A small fixed budget keeps these to a few seconds in the normal suite; scripts/fuzz_campaign.py
runs the same idea at scale (see docs/fuzzing.md).
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.core.errors import ParleyInputError
from parley.io.decide import parse_decide
from parley.io.ktab import parse_csv, parse_xml
from parley.io.loading import load
from parley.io.scenario_file import scenario_from_data
from parley.io.yaml_io import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [ROOT / "docs/examples/ec-car-emissions-veto.yaml", ROOT / "tests/data/ktab/dummyData_3Dim.csv",
         ROOT / "tests/data/ktab/dummyData_3Dim.xml", ROOT / "tests/data/decide/decide_small.csv"]
TEXTS = {p: p.read_text(encoding="utf-8-sig") for p in SEEDS}
TOKENS = ["[/]", "1e308", "-1e308", "9" * 500, "2025-02-30", "!!float x", "&a ", "*a", "\r", '"', "'",
          "{", "[", "[" * 60, "\t", "\x00", "<", "&e;", ";", ",", "#A", "TODO", ".nan", "-0", "\n",
          "- ", ": ", "?", "%", "é", "\u2028", "0x1F", "1_0"]
QUICK = settings(max_examples=100, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])


def loads_cleanly(path: Path, fmt: str) -> None:
    """Loading gives a Scenario or a ParleyInputError with a message, nothing else."""
    try:
        load(path, format=fmt)
    except ParleyInputError as exc:
        assert exc.render().strip()


@QUICK
@given(seed=st.sampled_from(SEEDS),
       edits=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(TOKENS), st.integers(0, 20)),
                      min_size=1, max_size=4))
def test_mutated_inputs_load_or_fail_cleanly(tmp_path_factory, seed: Path, edits) -> None:
    text = TEXTS[seed]
    for where, token, cut in edits:
        i = int(where * len(text))
        text = text[:i] + token + text[i + cut:]
    path = tmp_path_factory.mktemp("case") / ("case" + seed.suffix)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    for fmt in ("auto", "ktab", "decide") if seed.suffix != ".yaml" else ("auto",):
        loads_cleanly(path, fmt)


@QUICK
@given(text=st.text(max_size=300))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    for parse in (lambda t: parse_yaml(t, "s.yaml"), lambda t: parse_decide(t, "d.csv"),
                  lambda t: parse_csv(t, "k.csv"), lambda t: parse_xml(t, "k.xml")):
        with contextlib.suppress(ParleyInputError):
            parse(text)


@QUICK
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(),
                       st.integers(-(10**400), 10**400)))
def test_a_capability_is_a_finite_ordinary_number_or_refused(value) -> None:
    data = {"id": "s", "title": "t", "as_of": "2025-01-01", "question": "q", "settlement_test": False,
            "actors": [{"id": "a", "name": "A", "capability": value},
                       {"id": "b", "name": "B", "capability": 1}],
            "issues": [{"id": "x", "name": "X", "low": "l", "high": "h"}],
            "stances": [{"actor": "a", "issue": "x", "position": 10, "salience": 50},
                        {"actor": "b", "issue": "x", "position": 90, "salience": 50}]}
    try:
        s = scenario_from_data(data)
    except ParleyInputError:
        return
    cap = s.actors[0].capability.mode
    assert math.isfinite(cap) and 0 < cap <= 1e15


@pytest.mark.parametrize("name", ["ukraine-2025-05", "ukraine-2026-02"])
def test_bundled_scenarios_survive_a_round_trip(tmp_path: Path, name: str) -> None:
    from parley.store.runs import yaml_text

    s = load(name)
    path = tmp_path / "s.yaml"
    path.write_text(yaml_text(s.to_yaml_data()), encoding="utf-8")
    assert load(path).content_hash() == s.content_hash()
