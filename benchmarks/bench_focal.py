"""Time the focal model on the bundled scenario against the compromise model (best of 3).

Run: `PYTHONPATH=src python benchmarks/bench_focal.py [draws]`. The ratio is what
`registry.MODELS["focal"].cost` records (about 300 on 2 loaded cores, 4 Dec 2026: 0.2 s per
1,024 draws of the bundled scenario, most of it the exact median of each mixed distribution).
"""

from __future__ import annotations

import sys
import time

from parley.core.batch import sample
from parley.io import bundled
from parley.io.loading import load
from parley.models import compromise, focal


def best(fn, reps: int = 3) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(draws: int = 10_000) -> None:
    batch = sample(load(bundled.DEFAULT), draws, seed=1)
    base = best(lambda: compromise.solve(batch))
    foc = best(lambda: focal.solve(batch))
    sys.stdout.write(f"{draws} draws, {batch.n_actors} actors, {batch.n_issues} issues: compromise "
                     f"{base:.3f} s, focal {foc:.3f} s ({foc / base:.0f}x)\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
