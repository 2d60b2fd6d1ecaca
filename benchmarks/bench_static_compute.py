"""Issue 13's bar on the static models: 10^5 draws of the bundled scenario in under 1 s of compute.

    python benchmarks/bench_static_compute.py                # every static model, 10^5 draws
    python benchmarks/bench_static_compute.py --draws 10000  # another size
    python benchmarks/bench_static_compute.py --model nash   # one model

For each static model (`dynamic` False in the registry) it runs `simulate` as `parley run` does
(default workers: the first chunk here, a pool of one worker per core when the rest pays for
it), after a warm-up run of one chunk that loads the model's code and engine (numba's, for
nash's compiled engine), and prints:

- wall: seconds from the call to the merged result (what the user waits for, imports excluded);
- cpu: CPU seconds of this process and its worker processes together (the compute);
- one-core: the same draws with workers=1 (inline), wall seconds;
- where the time goes on one core: sampling, the model, the settlement test (one timed chunk
  scaled to the draws).

Each figure is the best of `--repeat` runs (default 3): on a virtual machine that hands freed
memory back to its host, a run that first touches a few hundred MB of fresh pages can take
twice as long as the next one.

The bar is on the compute of the model's Monte Carlo (sampling, model and settlement test):
PASS when the one-core run takes under 1 s. The pooled run's CPU column is larger by what the
pool costs (forking, shipping each chunk's results back): its wall time is what a default run
waits.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from parley.analysis.settlement import evaluate
from parley.analysis.simulate import DEFAULT_CHUNK, simulate
from parley.core import batch as batching
from parley.io.loading import load
from parley.models import registry

BAR = 1.0


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (pool workers do, at
    shutdown)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def parts(lay: batching.Layout, model: str, params: object, draws: int) -> tuple[float, float, float]:
    """Sampling, model and settlement seconds for `draws` draws on one core, from one chunk of
    the engine's size timed (best of 3) and scaled."""
    n = min(draws, DEFAULT_CHUNK)
    best = [float("inf")] * 3
    for seed in (11, 12, 13):  # other seeds each time: `sample` keeps its last block
        t0 = time.perf_counter()
        b = batching.sample(lay, n, seed, 0)
        t1 = time.perf_counter()
        out = registry.module(model).solve(b, params)
        t2 = time.perf_counter()
        evaluate(b, out, "compensatory")
        t3 = time.perf_counter()
        best = [min(a, x) for a, x in zip(best, (t1 - t0, t2 - t1, t3 - t2), strict=True)]
    scale = draws / n
    return best[0] * scale, best[1] * scale, best[2] * scale


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="ukraine-2025-05")
    ap.add_argument("--draws", type=int, default=100_000)
    ap.add_argument("--model", action="append")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each measurement; the best is shown (default 3)")
    args = ap.parse_args()
    scenario = load(args.scenario)
    lay = batching.layout(scenario)
    models = args.model or [m for m in registry.names() if not registry.MODELS[m].dynamic]
    print(f"{args.draws:,} draws of {args.scenario}; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    print(f"{'model':11s} {'wall s':>7s} {'cpu s':>7s} {'one-core s':>10s}  "
          f"{'sample':>6s} {'model':>6s} {'settle':>6s}  bar {BAR:.0f} s (one core)")
    for model in models:
        params = registry.make_params(model)
        # warm-up at the engine's chunk size, so that the engine the measured run picks (nash's
        # compiled one from 12,000 draws a call) is loaded: start-up is not compute
        simulate(scenario, model, params, min(args.draws, DEFAULT_CHUNK), seed=0, workers=1)
        wall = cpu = inline = float("inf")
        for _ in range(args.repeat):
            c0, t0 = cpu_seconds(), time.perf_counter()
            simulate(scenario, model, params, args.draws, seed=1)
            wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, cpu_seconds() - c0)
            t0 = time.perf_counter()
            simulate(scenario, model, params, args.draws, seed=1, workers=1)
            inline = min(inline, time.perf_counter() - t0)
        s, m, e = parts(lay, model, params, args.draws)
        verdict = "PASS" if inline < BAR else "FAIL"
        print(f"{model:11s} {wall:7.2f} {cpu:7.2f} {inline:10.2f}  {s:6.2f} {m:6.2f} {e:6.2f}  {verdict}")


if __name__ == "__main__":
    main()
