"""simulate's _Merger collects the chunks' per-draw info into preallocated arrays: the result
must be what merge_info (concatenation at the end) gives."""

from __future__ import annotations

import numpy as np

from parley.analysis.simulate import DRAW_FIELDS, Draws, _Merger, merge_info


def _part(n: int, seed: int, info: dict) -> Draws:
    rng = np.random.default_rng(seed)
    arrays = {f: rng.random((n, 2)) for f in DRAW_FIELDS}
    return Draws(info=info, **arrays)


def test_merger_gives_merge_info():
    parts = []
    for i, n in enumerate((5, 3, 4)):
        info = {
            "per_draw": np.full((n, 2, 3), float(i)),
            "flags": np.arange(n) % 2 == 0,
            "count": i + 1,
            "label": f"first is kept ({i})",
            "fixed": np.arange(7.0),  # not per draw: the first chunk's
            "widening": np.full(n, i, dtype=np.int32 if i < 2 else np.float64),  # promoted
        }
        if i == 1:
            info["late"] = np.ones((n, 1))  # only in some chunks: concatenated where present
        parts.append(_part(n, i, info))
    merger = _Merger(12)
    start = 0
    for p in parts:
        merger.add(start, p)
        start += p.outcome.shape[0]
    got = merger.result()
    want = merge_info([(p.outcome.shape[0], p.info) for p in parts])
    assert list(got.info) == list(want)
    for key, value in want.items():
        if isinstance(value, np.ndarray):
            assert got.info[key].dtype == value.dtype, key
            assert np.array_equal(got.info[key], value), key
        else:
            assert got.info[key] == value, key
    for f in DRAW_FIELDS:
        assert np.array_equal(getattr(got, f), np.concatenate([getattr(p, f) for p in parts]))


def test_run_constants_are_not_added_across_chunks():
    """A coefficients file's version and nash's first-draw fallback count are the same in every
    chunk: merged, they stay what one chunk says; counts of draws are added."""
    parts = [(3, {"version": 2, "disagreement_fallbacks": 1, "no_agreement_draws": 2}),
             (2, {"version": 2, "disagreement_fallbacks": 1, "no_agreement_draws": 1})]
    merged = merge_info(parts)
    assert merged == {"version": 2, "disagreement_fallbacks": 1, "no_agreement_draws": 3}


def test_a_many_chunk_run_reports_the_focal_version_once():
    import parley
    from parley.analysis.simulate import simulate
    from parley.models import focal, registry

    sc = parley.load("ukraine-2025-05")
    d = simulate(sc, "focal", registry.make_params("focal"), 3000, seed=1, workers=1, chunk=1024)
    assert d.info["version"] == focal.VERSION
