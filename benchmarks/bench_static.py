"""Throughput of the static models on the bundled scenario, sampling and settlement included.

    python benchmarks/bench_static.py            # draws/s per model, one process and two
    python benchmarks/bench_static.py --million  # also 10^6 draws with peak memory (RSS)

Prints one line per measurement; figures go in the closing notes, not in tests.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import parley
from parley.analysis.simulate import simulate
from parley.models import registry


def rate(scenario: parley.Scenario, model: str, draws: int, workers: int) -> float:
    params = registry.make_params(model)
    simulate(scenario, model, params, 2048, seed=0, workers=1)  # warm-up (imports, caches)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        simulate(scenario, model, params, draws, seed=1, workers=workers)
        best = min(best, time.perf_counter() - t0)
    return draws / best


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="ukraine-2025-05")
    ap.add_argument("--million", action="store_true")
    args = ap.parse_args()
    s = parley.load(args.scenario)
    sizes = {"compromise": 200_000, "median": 200_000, "nash": 20_000}
    for model, draws in sizes.items():
        for workers in (1, 2):
            r = rate(s, model, draws, workers)
            print(f"{model:10s} draws={draws:>8,d} workers={workers}  {r:>12,.0f} draws/s")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "parley", "run"], capture_output=True, text=True)
    print(f"`parley run` (default draws, all static models, imports included): "
          f"{time.perf_counter() - t0:.2f} s wall, exit {out.returncode}")
    if args.million:
        for model in ("compromise", "median"):
            t0 = time.perf_counter()
            d = simulate(s, model, registry.make_params(model), 1_000_000, seed=1, workers=2)
            size = sum(a.nbytes for a in (d.outcome, d.accept, d.move, d.drives)) / 1e6
            print(
                f"{model:10s} 10^6 draws: {time.perf_counter() - t0:.2f} s, result arrays {size:.0f} MB, "
                f"peak RSS of this process {peak_rss_mb():.0f} MB"
            )


if __name__ == "__main__":
    main()
