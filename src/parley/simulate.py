"""Monte Carlo over a scenario's uncertain inputs, in chunks through an Executor.

A chunk is a whole number of RNG blocks, so the draws a chunk sees do not depend on how the
work is split: one process or many, any chunk size, the results are identical.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from parley import batch as batching
from parley.models import registry
from parley.models.base import Outcome
from parley.scenario import Scenario
from parley.settlement import Rule, evaluate

DEFAULT_CHUNK = 16 * batching.BLOCK
DYNAMIC_CHUNK = 2 * batching.BLOCK
"""Dynamic models keep a trajectory per draw; smaller chunks bound the memory they need."""
PARALLEL_THRESHOLD = 200_000
"""Below this many draws (per model) a process pool costs more to start than it saves."""


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
        fields = ("outcome", "agreement", "accept", "deficit", "drives", "move", "settle")
        merged = {f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
        info: dict[str, Any] = {}
        for p in parts:
            n = p.outcome.shape[0]
            for key, value in p.info.items():
                if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
                    info.setdefault(key, []).append(value)  # per-draw values: concatenated below
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    info[key] = info.get(key, 0) + value
                else:
                    info.setdefault(key, value)
        for key, value in info.items():
            if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
                info[key] = np.concatenate(value)
        return cls(info=info, **merged)


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
    """All draws of one model, in chunks; processes are used for large runs or on request."""
    lay = batching.layout(scenario)
    if registry.MODELS[model].dynamic:
        chunk = min(chunk, DYNAMIC_CHUNK)  # trajectories are [draws, rounds, actors, issues]
    ranges = list(chunks(draws, chunk))
    own_pool = None
    if executor is None and (workers or 0) != 1 and ((workers or 0) > 1 or draws >= PARALLEL_THRESHOLD):
        own_pool = ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1)
        executor = own_pool
    try:
        if executor is None:
            parts = []
            for start, stop in ranges:
                parts.append(run_chunk(lay, model, params, seed, start, stop, rule))
                if progress:
                    progress(stop - start)
        else:
            futures = [
                executor.submit(run_chunk, lay, model, params, seed, start, stop, rule)
                for start, stop in ranges
            ]
            parts = []
            for fut, (start, stop) in zip(futures, ranges, strict=True):
                parts.append(fut.result())
                if progress:
                    progress(stop - start)
    finally:
        if own_pool is not None:
            own_pool.shutdown(cancel_futures=True)
    return Draws.concat(parts)
