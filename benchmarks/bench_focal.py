"""Time the focal model on the bundled scenario against the compromise model (best of 3).

Run: `PYTHONPATH=src python benchmarks/bench_focal.py [draws]` (default 100,000).

Prints three things, all CPU time of this process (time.process_time, one core):
1. `focal.solve` (numpy and compiled engines) and `compromise.solve` on one batch of `draws`
   draws: the ratio is what `registry.MODELS["focal"].cost` records (time per draw relative to
   the compromise model).
2. Where the numpy engine's time goes: its candidates (compromise, median, pivots), the rest of
   `landing` (merging, features, probabilities) and the median of each mixed distribution.
3. The whole Monte Carlo as a user runs it, `simulate(..., workers=1)`: sampling, model,
   settlement test and merging the chunks' results, for focal and for compromise.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from parley.analysis.simulate import simulate
from parley.core.batch import sample
from parley.io import bundled
from parley.io.loading import load
from parley.models import compromise, focal, registry


def best(fn: Callable[[], Any], reps: int = 3) -> float:
    times = []
    for _ in range(reps):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def parts(batch: Any) -> dict[str, float]:
    """CPU seconds of focal.solve's three stages on `batch`, in solve's blocks of draws."""
    params = focal.Params(engine="numpy")
    spent = {"candidates": 0.0, "landing": 0.0, "median": 0.0}
    for start in range(0, batch.draws, focal.BLOCK_DRAWS):
        part = batch.take(slice(start, start + focal.BLOCK_DRAWS))
        t0 = time.process_time()
        focal.candidates(part, params)
        t1 = time.process_time()
        land = focal.landing(part, params)
        t2 = time.process_time()
        point = np.where(land.valid, land.point, 100.0)
        focal._median(point, land.mass, land.remainder, land, params.remainder_scale)
        t3 = time.process_time()
        spent["candidates"] += t1 - t0
        spent["landing"] += (t2 - t1) - (t1 - t0)  # landing recomputes the candidates
        spent["median"] += t3 - t2
    return spent


def main(draws: int = 100_000) -> None:
    scenario = load(bundled.DEFAULT)
    batch = sample(scenario, draws, seed=1)
    base = best(lambda: compromise.solve(batch))
    out = sys.stdout.write
    out(f"{draws} draws, {batch.n_actors} actors, {batch.n_issues} issues (CPU s, best of 3)\n")
    for engine in ("numpy", "compiled"):
        params = focal.Params(engine=engine)
        focal.solve(batch.take(slice(0, 10)), params)  # load (or compile) the engine first
        foc = best(lambda p=params: focal.solve(batch, p))
        out(f"solve: compromise {base:.3f} s, focal ({engine} engine) {foc:.3f} s "
            f"({foc / base:.0f}x)\n")
    spent = parts(batch)
    out("numpy engine's stages: " + ", ".join(f"{k} {v:.3f} s" for k, v in spent.items()) + "\n")
    for model in ("compromise", "focal"):
        params = registry.make_params(model)
        t = best(lambda m=model, p=params: simulate(scenario, m, p, draws, seed=1, workers=1))
        out(f"simulate {model} (sampling, model, settlement test, merge; 1 worker): {t:.3f} s\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
