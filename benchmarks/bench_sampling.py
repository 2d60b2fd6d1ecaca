"""Time of the two steps every Monte Carlo run pays whatever the model: sampling a batch and the
settlement test; and of the zone check `parley run` does on 2,000 draws.

    python benchmarks/bench_sampling.py                  # ukraine-2025-05, 10^5 draws
    python benchmarks/bench_sampling.py --draws 1000000 --scenario ukraine-2026-02
    python benchmarks/bench_sampling.py --simulate compromise median   # also whole runs, one core

Sampling and the test are timed at the engine's chunk size (analysis/simulate.py DEFAULT_CHUNK,
as `simulate` runs them) and as one chunk of all draws; best of --repeat runs, one core. Only
functions that existed before the speed work are used, so pointing PYTHONPATH at an older
checkout's src/ gives the "before" figures with the same script.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import parley
from parley.analysis.agreement_zone import zone
from parley.analysis.settlement import evaluate
from parley.analysis.simulate import DEFAULT_CHUNK, chunks, simulate
from parley.core import batch as batching
from parley.models import registry
from parley.models.base import Outcome


def best(fn: Callable[[], object], repeat: int) -> str:
    """Best wall time and best CPU time of this process (the machine may be shared: CPU time
    is less disturbed by other processes)."""
    fn()  # warm-up: imports, caches, page-ins
    wall = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return f"{wall:7.3f} s wall {cpu:7.3f} s CPU"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="ukraine-2025-05")
    ap.add_argument("--draws", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--simulate", nargs="*", default=[], metavar="MODEL",
                    help="also time simulate() of these models on one core (sampling, model, test)")
    args = ap.parse_args()
    s = parley.load(args.scenario)
    lay = batching.layout(s)
    d = args.draws
    print(f"{args.scenario}: {len(lay.actors)} actors x {len(lay.issues)} issues, {lay.n_inputs} uncertain "
          f"inputs, {d:,} draws, chunk {DEFAULT_CHUNK:,}, best of {args.repeat}")
    for label, size in ((f"chunks of {DEFAULT_CHUNK:,}", DEFAULT_CHUNK), ("one chunk", d)):
        ranges = list(chunks(d, size)) if size < d else [(0, d)]

        def sample(ranges: list[tuple[int, int]] = ranges) -> None:
            for a, z in ranges:
                batching._LAST_SAMPLE.clear()  # time the sampling, not the cache of the last block
                batching.sample(lay, z - a, 1, a)

        batching._LAST_SAMPLE.clear()
        parts = []
        for a, z in ranges:
            b = batching.sample(lay, z - a, 1, a)
            parts.append((b, registry.module("compromise").solve(b, registry.make_params("compromise"))))
        batching._LAST_SAMPLE.clear()

        def settle(parts: list[tuple[batching.Batch, Outcome]] = parts) -> None:
            for b, result in parts:
                evaluate(b, Outcome(outcome=result.outcome, agreement=result.agreement))

        print(f"  sample    {label:18s} {best(sample, args.repeat)}")
        print(f"  evaluate  {label:18s} {best(settle, args.repeat)}  (compromise's packages)")
    b = batching.sample(lay, 2000, 1, 0)
    if b.veto.any():
        for rule in ("compensatory", "strict"):
            print(f"  zone      {rule:18s} {best(lambda r=rule: zone(b, r), args.repeat)}  (2,000 draws)")
    for model in args.simulate:
        params = registry.make_params(model)

        def run(model: str = model, params: object = params) -> None:
            batching._LAST_SAMPLE.clear()
            simulate(s, model, params, d, seed=1, workers=1)

        print(f"  simulate  {model:18s} {best(run, max(1, args.repeat // 2))}  (whole run, one core)")


if __name__ == "__main__":
    main()
