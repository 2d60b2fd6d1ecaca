"""The batched sampler gives the same bits as the plain definition: each input's uniforms pushed
through its own `inverse_cdf` and written into the point-value arrays, one column at a time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import parley
from parley.core import batch as batching
from parley.core.batch import Batch, Input, Layout
from parley.core.estimate import Estimate

FIELDS = ("position", "salience", "reservation", "capability", "status_quo")


def column_by_column(lay: Layout, u: np.ndarray) -> Batch:
    """The definition the fast path must reproduce (the sampler as it was written first)."""
    d = u.shape[0]
    b = lay.base
    arrays = {name: np.repeat(getattr(b, name), d, axis=0) for name in FIELDS}
    for p, inp in enumerate(lay.inputs):
        values = inp.transform(u[:, p])
        if inp.field == "capability":
            arrays["capability"][:, inp.actor] = values
        elif inp.field == "status_quo":
            arrays["status_quo"][:, inp.issue] = values
        elif inp.field == "salience":
            arrays["salience"][:, inp.actor, inp.issue] = values / 100.0
        else:
            arrays[inp.field][:, inp.actor, inp.issue] = values
    return replace(b, **arrays)


def assert_same_bits(a: Batch, b: Batch) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name


@st.composite
def estimates(draw: st.DrawFn, capability: bool) -> Estimate:
    hi_bound = 1e6 if capability else 100.0
    lo_bound = 1e-3 if capability else 0.0
    value = st.floats(lo_bound, hi_bound, allow_nan=False)
    if draw(st.booleans()):
        a, m, c = sorted(draw(st.lists(value, min_size=3, max_size=3)))
        if a == c:
            c = a + 1.0
        m = draw(st.sampled_from([a, m, c]))  # the mode also at either end
        return Estimate.model_validate({"low": a, "mode": m, "high": c})
    return Estimate.model_validate({"mean": draw(value), "sd": draw(st.floats(0.01, 50.0))})


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    reservation = np.where(rng.random((n, k)) < 0.5, rng.uniform(0, 100, (n, k)), np.nan)
    base = Batch.from_arrays(rng.uniform(0, 100, (n, k)), rng.uniform(0, 1, (n, k)), rng.uniform(1, 9, n),
                             reservation=reservation, status_quo=rng.uniform(0, 100, k))
    cells = [(f, i, j) for f in ("position", "salience", "reservation") for i in range(n) for j in range(k)]
    cells += [("capability", i, None) for i in range(n)] + [("status_quo", None, j) for j in range(k)]
    chosen = draw(st.lists(st.sampled_from(cells), min_size=1, max_size=12, unique=True))
    inputs = []
    for field, i, j in chosen:
        est = draw(estimates(field == "capability"))
        lower, upper = (1e-9 * max(est.mode, 1e-300), np.inf) if field == "capability" else (0.0, 100.0)
        inputs.append(Input(field, i, j, est, lower, upper, f"{field}{i}{j}"))
    return Layout(base.actors, base.issues, base, tuple(inputs))


@settings(max_examples=60, deadline=None)
@given(layouts(), st.integers(1, 2500), st.integers(0, 2**32 - 1))
def test_batched_inverse_cdf_matches_the_column_by_column_definition(
    lay: Layout, draws: int, seed: int
) -> None:
    u = np.random.default_rng(seed).random((draws, lay.n_inputs))
    u[: min(draws, 4)] = np.array([1e-300, 0.5, 1 - 1e-16, 0.0])[: min(draws, 4), None]
    assert_same_bits(batching.from_uniforms(lay, u), column_by_column(lay, u))


@settings(max_examples=30, deadline=None)
@given(layouts(), st.integers(0, 3000), st.integers(1, 2500), st.integers(0, 2**32 - 1))
def test_sample_is_from_uniforms_of_the_seeded_stream(lay: Layout, start: int, draws: int, seed: int) -> None:
    batching._LAST_SAMPLE.clear()
    got = batching.sample(lay, draws, seed, start)
    assert_same_bits(got, column_by_column(lay, batching.uniforms(seed, lay.n_inputs, start, start + draws)))


def test_the_bundled_scenarios_sample_as_defined() -> None:
    for name in ("ukraine-2025-05", "ukraine-2026-02"):
        lay = batching.layout(parley.load(name))
        batching._LAST_SAMPLE.clear()
        got = batching.sample(lay, 5000, 11, 700)
        assert_same_bits(got, column_by_column(lay, batching.uniforms(11, lay.n_inputs, 700, 5700)))


def test_a_scenario_without_uncertain_inputs_repeats_its_point_values() -> None:
    b = Batch.from_arrays(np.array([[10.0, 90.0]]), np.array([[0.5, 1.0]]), np.array([2.0]))
    lay = Layout(b.actors, b.issues, b, ())
    got = batching.sample(lay, 3, seed=0)
    np.testing.assert_array_equal(got.position, np.repeat(b.position, 3, axis=0))
    assert batching.sample(lay, 0, seed=0).position.shape == (0, 1, 2)
