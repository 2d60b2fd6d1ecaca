"""Throughput of the Nash bargaining solver: draws per second on random 6-actor, 5-issue inputs.

Run: python benchmarks/bench_nash.py [--quadratic] [--draws 1000 10000 100000]
Reports wall-clock and CPU time (the CPU figure is the fair one on a shared machine), the share
of draws with an agreement and the number of draws that hit the iteration limit.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from parley.batch import Batch
from parley.models import nash


def random_inputs(draws: int, actors: int = 6, issues: int = 5, seed: int = 0) -> Batch:
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, 100, (draws, actors, issues))
    sal = rng.uniform(0, 1, (draws, actors, issues))
    cap = rng.uniform(0.1, 1, (draws, actors))
    sq = rng.uniform(0, 100, (draws, issues))
    return Batch.from_arrays(pos, sal, cap, status_quo=sq)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--quadratic", action="store_true")
    parser.add_argument("--disagreement", default="status_quo", choices=["status_quo", "reservation"])
    args = parser.parse_args()
    params = nash.Params(loss="quadratic" if args.quadratic else "linear",
                         disagreement=args.disagreement)
    nash.solve(random_inputs(100), params)  # warm-up
    print(f"loss={params.loss} disagreement={params.disagreement} actors=6 issues=5")
    print(f"{'draws':>8} {'wall s':>8} {'cpu s':>8} {'draws/s (wall)':>15} {'draws/s (cpu)':>14}"
          f" {'agree':>6} {'unconv':>6}")
    for d in args.draws:
        batch = random_inputs(d)
        w0, c0 = time.perf_counter(), time.process_time()
        out = nash.solve(batch, params)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        print(f"{d:>8} {wall:>8.3f} {cpu:>8.3f} {d / wall:>15,.0f} {d / cpu:>14,.0f}"
              f" {out.agreement.mean():>6.3f} {out.info['unconverged_draws']:>6}")


if __name__ == "__main__":
    main()
