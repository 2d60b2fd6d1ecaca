"""Speed of the exchange model against the bars of issue 4.

Run: `/work/venv/bin/python benchmarks/bench_exchange.py [repeats]` (default 30; the best of the
repeats is reported, since other work on a shared machine only ever slows a run down).

- one deterministic run (10 rounds) on each of Decide's example inputs, in both engines,
  against Decide's own algorithm-only time per run (../shared/reference/README.md; bar: at least
  100x faster). Decide's inputs are GPL and not shipped: this part needs ../shared;
- 50 actors x 10 issues x 10 rounds, one run (bar: under 1 s);
- 10,000 Monte Carlo draws of the bundled scenario, both engines (CPU seconds: the machine is
  shared, and `parley run` spreads the draws over the cores).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from parley.core import batch as batching
from parley.core.batch import Batch
from parley.io.loading import load
from parley.models import exchange

DECIDE_SECONDS = {"sample_data.txt": 0.59, "copenhagen.csv": 0.96, "cop21.csv": 8.3}


def shared_decide() -> Path | None:
    here = Path(__file__).resolve()
    for cand in (os.environ.get("PARLEY_SHARED"), here.parents[2] / "shared", Path("/work/shared")):
        if cand and (Path(cand) / "data" / "decide").is_dir():
            return Path(cand) / "data" / "decide"
    return None


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(repeats: int = 30) -> None:
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cores {os.cpu_count()}, load average {load_avg:.1f}, best of {repeats}")
    decide = shared_decide()
    if decide is None:
        print("Decide's inputs not found (../shared/data/decide): skipping the comparison")
    else:
        from parley.io.decide import load_decide

        print(f"{'Decide input':16s} {'N x K':>7s} {'exch.':>5s} {'engine':>8s} {'parley ms':>9s} "
              f"{'Decide s':>8s} {'speed-up':>8s}")
        for name, decide_s in DECIDE_SECONDS.items():
            b = batching.point(load_decide(decide / name))
            for engine in ("compiled", "numpy"):
                params = exchange.Params(engine=engine)
                exchange.solve(b, params)  # warm-up (and numba's compilation)
                secs, out = best_of(lambda b=b, params=params: exchange.solve(b, params),
                                    repeats if engine == "compiled" else max(3, repeats // 10))
                print(f"{name:16s} {b.n_actors:>3d} x {b.n_issues:<3d} "
                      f"{int(out.info['exchanges_made'][0]):5d} {engine:>8s} {secs * 1e3:9.1f} "
                      f"{decide_s:8.2f} {decide_s / secs:7.0f}x")
    rng = np.random.default_rng(42)
    big = Batch.from_arrays(rng.uniform(0, 100, (50, 10)), rng.uniform(0.05, 1, (50, 10)),
                            rng.uniform(0.1, 1, 50))
    secs, out = best_of(lambda: exchange.solve(big, exchange.Params(rounds=10)), min(5, repeats))
    print(f"50 actors x 10 issues x 10 rounds: {secs:.3f} s "
          f"({int(out.info['exchanges_made'][0])} exchanges; bar < 1 s)")
    scenario = load("ukraine-2025-05")
    b = batching.sample(scenario, 10_000, seed=1)
    for engine in ("compiled", "numpy"):
        for label, params in (("equal gain", exchange.Params(engine=engine)),
                              ("REX p=0.5", exchange.Params(engine=engine, rex=0.5))):
            exchange.solve(b.take(slice(0, 10)), params)
            start = time.process_time()
            exchange.solve(b, params)
            secs = time.process_time() - start
            print(f"bundled scenario ({b.n_actors} x {b.n_issues}), 10,000 draws, {engine}, {label}: "
                  f"{secs:.2f} s CPU")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
