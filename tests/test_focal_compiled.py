"""The focal model's compiled engine against its numpy engine (the readable reference).

The engines must merge the candidates into the same landing points and name them alike (slot of
every candidate, point of every slot: exactly); probabilities and the forecast median may differ
by the exponential function's last bit (numpy's vectorised exp and the C library's). The
remainder and the median are float64, so they check the probabilities to ~1e-14."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from parley.core import batch as batching
from parley.core.batch import Batch
from parley.io.loading import load
from parley.models import focal, mixed

pytest.importorskip("numba")
from parley.models import _focal_numba as nb


def _both(b: Batch, **kw: object) -> tuple:
    ref = focal.solve(b, focal.Params(engine="numpy", **kw))
    got = focal.solve(b, focal.Params(engine="compiled", **kw))
    return ref, got


def _assert_same(ref, got) -> None:
    for key in ("landing_point", "landing_slot"):
        assert got.info[key].dtype == ref.info[key].dtype, key
        assert np.array_equal(got.info[key], ref.info[key]), key
    # stored as float32: values 1e-16 apart may round to neighbouring float32s
    assert np.allclose(got.info["landing_probability"], ref.info["landing_probability"],
                       rtol=0, atol=np.finfo(np.float32).eps)
    assert np.allclose(got.info["landing_remainder"], ref.info["landing_remainder"],
                       rtol=0, atol=1e-14)
    assert np.allclose(got.outcome, ref.outcome, rtol=0, atol=1e-9)
    assert np.array_equal(got.agreement, ref.agreement)


@pytest.mark.parametrize("name,kw", [
    ("ukraine-2025-05", {}),
    ("ukraine-2026-02", {"rule": "unanimity", "merge": 3.0}),
    ("docs/examples/ec-car-emissions.yaml", {}),  # one issue, ten actors: pairwise actor sums
    ("docs/examples/ec-car-emissions-veto.yaml", {"rule": "unanimity", "procedure": "codecision"}),
])
def test_scenarios_give_the_same_landing_points(name: str, kw: dict) -> None:
    scenario = load(name)
    b = batching.sample(batching.layout(scenario), 3000, 5, 0)
    _assert_same(*_both(b, **kw))


_values = st.sampled_from([0.0, 20.0, 20.4, 33.3, 50.0, 80.0, 99.8, 100.0]) | st.floats(0, 100)


@settings(max_examples=60, deadline=None)
@given(arrays(float, st.tuples(st.integers(1, 3), st.integers(2, 11), st.integers(1, 3)),
              elements=_values),
       st.data(),
       st.sampled_from(["qmv", "unanimity"]), st.sampled_from(["codecision", "consultation", "none"]),
       st.sampled_from([0.5, 0.0, 3.0, 150.0]), st.sampled_from([10.0, 50.0, np.nan]))
def test_any_batch_gives_the_same_landing_points(pos, data, rule, procedure, merge, q):
    _, n, k = pos.shape
    engaged = data.draw(arrays(bool, (n, k), elements=st.booleans()))
    engaged[:2] = True  # at least two engaged actors on every issue
    cap = data.draw(arrays(float, (n,), elements=st.sampled_from([1.0, 2.0, 3.0]) | st.floats(0.1, 10)))
    sal = data.draw(arrays(float, (n, k), elements=st.sampled_from([0.0, 0.5, 1.0])))
    codes = ("a", "ep", "com", *(f"x{i}" for i in range(n - 3)))
    b = Batch.from_arrays(pos, sal, cap, engaged=engaged, status_quo=np.full(k, q),
                          actors=codes[:n])
    _assert_same(*_both(b, rule=rule, procedure=procedure, merge=merge))


def test_the_most_actors_the_engine_takes() -> None:
    """117 actors, 127 candidates: row sums of up to 128 terms, all in numpy's first block."""
    rng = np.random.default_rng(4)
    n = focal.MAX_COMPILED_CANDIDATES - len(focal.POINTS)
    pos = np.round(rng.uniform(0, 100, (40, n, 2)), 1)
    b = Batch.from_arrays(pos, np.full((n, 2), 0.7), rng.uniform(0.5, 3, n))
    _assert_same(*_both(b))


def test_more_actors_take_the_numpy_engine() -> None:
    n = focal.MAX_COMPILED_CANDIDATES - len(focal.POINTS) + 1
    b = Batch.from_arrays(np.full((2, n, 1), 50.0), np.full((n, 1), 0.7), np.ones(n))
    assert not focal._use_compiled(focal.Params(), 10**6, n + len(focal.POINTS))
    with pytest.raises(ValueError, match="engine 'numpy'"):
        focal.solve(b, focal.Params(engine="compiled"))


@settings(max_examples=80, deadline=None)
@given(arrays(float, st.integers(0, 128), elements=st.floats(-1e6, 1e6)))
def test_row_sum_is_numpys(a: np.ndarray) -> None:
    assert nb._row_sum(a, 0, a.size) == a.sum()


def test_kernel_constants_match_the_model() -> None:
    assert set(nb.BETA) <= set(focal.ALL_FEATURES)
    assert nb.MAX_CANDIDATES == focal.MAX_COMPILED_CANDIDATES
    assert nb.EPS == mixed.EPS
    assert focal.POINTS == nb.POINTS  # the kernel writes the candidates in this order


def test_engine_choice() -> None:
    with pytest.raises(ValueError, match="engine"):
        focal.Params(engine="gpu")  # type: ignore[arg-type]
    assert not focal._use_compiled(focal.Params(engine="numpy"), 10**6)
    assert focal._use_compiled(focal.Params(engine="compiled"), 1)
    assert focal._use_compiled(focal.Params(), focal.COMPILED_FROM)
    # one run (the answer's line of every model): numpy, never a compile for one draw
    assert focal.one_run_params(focal.Params()).engine == "numpy"
    assert focal.one_run_params(focal.Params(engine="compiled")).engine == "compiled"
