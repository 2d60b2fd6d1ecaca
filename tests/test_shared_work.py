"""parallel.Shared: items computed by a forked process and this one, from the two ends."""

from __future__ import annotations

import numpy as np
import pytest

from parley.analysis.parallel import Shared, can_fork


def _square_block(i: int) -> np.ndarray:
    return np.full(50_000, float(i)) ** 2  # 400 kB: larger than a pipe's buffer


def test_every_item_once_in_order_whoever_computed_it() -> None:
    items = list(range(9))
    got = Shared(_square_block, items).results()
    assert [float(g[0]) for g in got] == [float(i * i) for i in items]


def test_results_larger_than_the_pipe_do_not_serialise_the_work() -> None:
    """The forked process keeps its results until it has no item left: a send larger than the
    pipe would otherwise wait for this process to read, i.e. to run out of items itself."""
    if not can_fork():
        pytest.skip("no fork here")
    shared = Shared(_square_block, list(range(6)))
    import time

    time.sleep(0.3)  # the other process can take several items meanwhile
    got = shared.results()
    assert len(got) == 6 and all(g.shape == (50_000,) for g in got)


def test_an_item_that_fails_in_the_other_process_fails_here_with_its_error() -> None:
    def fn(i: int) -> int:
        if i == 0:
            raise ValueError("bad item 0")
        return i

    with pytest.raises(ValueError, match="bad item 0"):
        Shared(fn, [0, 1, 2]).results()


def test_one_item_needs_no_other_process() -> None:
    shared = Shared(_square_block, [3])
    assert shared._proc is None
    assert float(shared.results()[0][0]) == 9.0
