"""Monte Carlo over a scenario's uncertain inputs, in chunks through an Executor.

A chunk is a whole number of RNG blocks, so the draws a chunk sees do not depend on how the
work is split: one process or many, any chunk size, the results are identical.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from parley.analysis.parallel import worker_init
from parley.analysis.settlement import Rule, evaluate
from parley.core import batch as batching
from parley.core.scenario import Scenario
from parley.models import registry
from parley.models.base import Outcome

DEFAULT_CHUNK = 16 * batching.BLOCK
DYNAMIC_CHUNK = 2 * batching.BLOCK
"""Dynamic models keep a trajectory per draw; smaller chunks bound the memory they need."""
PARALLEL_THRESHOLD = 200_000
"""Sweeps (compare): below this much work, in compromise-model draws, a pool costs more than
it saves."""
POOL_PAYS = 0.5
"""Seconds of remaining one-core work from which `simulate` starts a process pool."""


@dataclass(frozen=True)
class Draws:
    """Per-draw results of one model on one scenario."""

    outcome: np.ndarray  # [D, K]
    agreement: np.ndarray  # [D]
    accept: np.ndarray  # [D, N]
    deficit: np.ndarray  # [D, N]
    drives: np.ndarray  # [D, N, K]
    move: np.ndarray  # [D, N, K] float32
    settle: np.ndarray  # [D]
    info: dict[str, Any]

    @classmethod
    def concat(cls, parts: list[Draws]) -> Draws:
        merged = {f: np.concatenate([getattr(p, f) for p in parts]) for f in DRAW_FIELDS}
        return cls(info=merge_info([(p.outcome.shape[0], p.info) for p in parts]), **merged)


DRAW_FIELDS = ("outcome", "agreement", "accept", "deficit", "drives", "move", "settle")


NOT_COUNTS = frozenset({"version", "disagreement_fallbacks"})
"""Numbers in model info that describe the run, not its draws (a coefficients file's version;
nash's fallbacks, counted on the first draw): every chunk has the same, so they are not added."""


def merge_info(parts: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """Model info of consecutive chunks (draw count, info): per-draw arrays are concatenated,
    counts added, anything else (e.g. a log of the first draw, or a number in `NOT_COUNTS`)
    taken from the first chunk."""
    info: dict[str, Any] = {}
    for n, part in parts:
        for key, value in part.items():
            if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
                info.setdefault(key, []).append(value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and key not in NOT_COUNTS:
                info[key] = info.get(key, 0) + value
            else:
                info.setdefault(key, value)
    for key, value in info.items():
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            info[key] = np.concatenate(value)
    return info


class InlineExecutor(Executor):
    """Runs each task at once in this process: the executor for small runs, where starting
    worker processes would cost more than the work (same interface, same results)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            fut.set_exception(exc)
        return fut


def chunks(draws: int, chunk: int = DEFAULT_CHUNK) -> Iterator[tuple[int, int]]:
    """Draw ranges [start, stop) aligned to RNG blocks."""
    chunk = max(batching.BLOCK, (chunk // batching.BLOCK) * batching.BLOCK)
    for start in range(0, draws, chunk):
        yield start, min(draws, start + chunk)


def run_chunk(
    scenario: Scenario | batching.Layout,
    model: str,
    params: Any,
    seed: int,
    start: int,
    stop: int,
    rule: Rule = "compensatory",
) -> Draws:
    """Sample draws [start, stop), solve the model and apply the settlement test."""
    lay = scenario if isinstance(scenario, batching.Layout) else batching.layout(scenario)
    b = batching.sample(lay, stop - start, seed, start)
    return solve_batch(b, model, params, rule)


def solve_batch(b: batching.Batch, model: str, params: Any, rule: Rule = "compensatory") -> Draws:
    """Model and settlement test on an already built batch (levers and sensitivity use this)."""
    result: Outcome = registry.module(model).solve(b, params)
    s = evaluate(b, result, rule)
    return Draws(
        outcome=result.outcome,
        agreement=result.agreement,
        accept=s.accept,
        deficit=s.deficit,
        drives=s.drives,
        move=s.move,
        settle=s.settle,
        info=dict(result.info),
    )


def simulate(
    scenario: Scenario,
    model: str,
    params: Any,
    draws: int,
    seed: int,
    rule: Rule = "compensatory",
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> Draws:
    """All draws of one model, in chunks through an Executor.

    Without an explicit executor: `workers` 1 runs inline, `workers` > 1 in a process pool of
    that size. By default (`workers` None or 0) the first chunk runs in this process and is
    timed; a pool of one worker per core takes the remaining chunks only when they would
    take at least POOL_PAYS seconds on one core and there are at least two of them (a pool
    costs a fork per worker and a copy of each chunk's results). Running the first chunk here
    also loads the model's code (e.g. pce's compiled engine) before the workers are forked, so
    they inherit it instead of loading it each. Each chunk's arrays are copied into the result
    as soon as it arrives, so memory holds the result plus the chunks in flight. The numbers
    do not depend on where a chunk ran.
    """
    lay = batching.layout(scenario)
    if registry.MODELS[model].dynamic:
        chunk = min(chunk, DYNAMIC_CHUNK)  # trajectories are [draws, rounds, actors, issues]
    ranges = list(chunks(draws, chunk))
    merger = _Merger(draws)
    cores = os.cpu_count() or 1
    if executor is None and not workers and cores >= 2 and len(ranges) >= 3:
        start, stop = ranges[0]
        t0 = time.perf_counter()
        merger.add(start, run_chunk(lay, model, params, seed, start, stop, rule))
        if progress:
            progress(stop - start)
        ranges = ranges[1:]
        if (time.perf_counter() - t0) * len(ranges) >= POOL_PAYS:
            workers = cores
        else:
            executor = InlineExecutor()
    own_pool: Executor | None = None
    if executor is None:
        if (workers or 0) > 1:
            own_pool = ProcessPoolExecutor(max_workers=workers, initializer=worker_init)
            executor = own_pool
        else:
            executor = InlineExecutor()
    window = 1 if isinstance(executor, InlineExecutor) else 2 * cores
    pending: deque[tuple[Future[Draws], int, int]] = deque()
    try:
        for start, stop in ranges:  # at most `window` chunks in flight: memory stays bounded
            fut = executor.submit(run_chunk, lay, model, params, seed, start, stop, rule)
            pending.append((fut, start, stop))
            while len(pending) >= window:
                _collect(pending.popleft(), merger, progress)
        while pending:
            _collect(pending.popleft(), merger, progress)
    finally:
        if own_pool is not None:
            own_pool.shutdown(cancel_futures=True)
    return merger.result()


def _collect(item: tuple[Future[Draws], int, int], merger: _Merger,
             progress: Callable[[int], None] | None) -> None:
    fut, start, stop = item
    merger.add(start, fut.result())
    if progress:
        progress(stop - start)


def merge_chunks(draws: int, starts: list[int], parts: list[Draws]) -> Draws:
    """Chunks computed anywhere, in draw order, merged as `simulate` merges them."""
    merger = _Merger(draws)
    for start, part in zip(starts, parts, strict=True):
        merger.add(start, part)
    return merger.result()


class _Merger:
    """Collects chunks into preallocated arrays (no list of parts, no second full copy): the
    Draws fields, and the per-draw arrays of the model's info (the focal model's landing points
    are ~340 MB per 10^5 draws; concatenating them at the end cost a second copy). The info
    comes out as `merge_info` gives it: same keys in the same order, same values and dtypes."""

    def __init__(self, draws: int):
        self.draws = draws
        self.arrays: dict[str, np.ndarray] = {}
        self.infos: list[tuple[int, dict[str, Any]]] = []
        self.info_arrays: dict[str, np.ndarray] = {}
        self.filled: dict[str, int] = {}
        self.keys: dict[str, None] = {}

    def add(self, start: int, part: Draws) -> None:
        n = part.outcome.shape[0]
        for name in DRAW_FIELDS:
            value = getattr(part, name)
            if name not in self.arrays:
                self.arrays[name] = np.empty((self.draws, *value.shape[1:]), dtype=value.dtype)
            self.arrays[name][start : start + n] = value
        rest: dict[str, Any] = {}
        for key, value in part.info.items():
            self.keys.setdefault(key)
            if self._per_draw(key, value, n):
                self._put(key, value)
            else:
                rest[key] = value
        self.infos.append((n, rest))

    def _per_draw(self, key: str, value: Any, n: int) -> bool:
        """An array merge_info would concatenate, and that fits the one collected so far."""
        if not (isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n):
            return False
        if key in self.info_arrays:
            return True  # a different shape fails in _put, as np.concatenate would
        return not any(key in info for _, info in self.infos)  # else merge_info decides

    def _put(self, key: str, value: np.ndarray) -> None:
        have = self.info_arrays.get(key)
        if have is None:
            have = np.empty((self.draws, *value.shape[1:]), dtype=value.dtype)
            self.filled[key] = 0
        elif np.result_type(have, value) != have.dtype:  # as np.concatenate would promote
            have = have.astype(np.result_type(have, value))
        at = self.filled[key]
        have[at : at + value.shape[0]] = value
        self.info_arrays[key] = have
        self.filled[key] = at + value.shape[0]

    def result(self) -> Draws:
        rest = merge_info(self.infos)
        info = {}
        for key in self.keys:
            if key in self.info_arrays:
                info[key] = self.info_arrays[key][: self.filled[key]]
            elif key in rest:
                info[key] = rest[key]
        return Draws(info=info, **self.arrays)
