"""Throughput of the Nash bargaining solver: draws per second on random 6-actor, 5-issue inputs.

Run: python benchmarks/bench_nash.py [--quadratic] [--draws 1000 10000 100000]
Reports wall-clock and CPU time (the CPU figure is the fair one on a shared machine), the share
of draws with an agreement and the number of draws that hit the iteration limit.

`--scenario ID_OR_FILE` times draws of a scenario instead (e.g. the bundled ukraine-2025-05,
sampled with seed 1 as `parley run` would), the best of `--repeat` runs, and splits the time
into the cheap part (certificates, starting points) and the interior-point method.

`--engine compiled|numpy|auto` picks the engine (default auto: compiled from 12,000 draws when
numba is installed). `--startup` instead times, in fresh processes, the first compiled solve after
installing (numba's cache pointed at an empty directory: compiling) and the next one (loading
numba and the cached machine code).

`--deu` instead prints the accuracy figures of docs/models/nash.md ("DEU note"): the Nash
solution issue by issue on the DEU development split with the reference point as disagreement.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from parley.core.batch import Batch
from parley.models import nash


def random_inputs(draws: int, actors: int = 6, issues: int = 5, seed: int = 0) -> Batch:
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, 100, (draws, actors, issues))
    sal = rng.uniform(0, 1, (draws, actors, issues))
    cap = rng.uniform(0.1, 1, (draws, actors))
    sq = rng.uniform(0, 100, (draws, issues))
    return Batch.from_arrays(pos, sal, cap, status_quo=sq)


def deu(loss: str) -> None:
    """Nash issue by issue on the DEU development split (equal capabilities, salience weights)."""
    from parley.backtest.data import load_deu

    params = nash.Params(loss=loss, disagreement="status_quo")  # type: ignore[arg-type]
    rows = {"with reference point": [], "without (worst-end fallback)": []}
    for issue in load_deu().issues:
        if np.isnan(issue.outcome):
            continue
        n = len(issue.actors)
        ref = issue.reference_point
        batch = Batch.from_arrays(issue.position[:, None], issue.salience[:, None], np.ones(n),
                                  status_quo=None if np.isnan(ref) else np.array([ref]))
        out = nash.solve(batch, params)
        key = "without (worst-end fallback)" if np.isnan(ref) else "with reference point"
        rows[key].append((out.agreement[0], out.outcome[0, 0], issue.outcome, ref,
                          float(np.mean(issue.position))))
    print(f"DEU development split, loss={loss}, equal capabilities, status_quo = reference point")
    for key, r in rows.items():
        agree, pred, outcome, ref, mean = (np.array(col) for col in zip(*r, strict=True))
        agree = agree.astype(bool)
        line = (f"  {key}: {len(r)} issues, agreement in {agree.sum()} ({agree.mean():.0%});"
                f" MAE where agreed {np.mean(np.abs(pred[agree] - outcome[agree])):.1f}"
                f" (mean of positions there {np.mean(np.abs(mean[agree] - outcome[agree])):.1f})")
        if key == "with reference point":
            stand_in = np.where(agree, pred, ref)
            line += (f"; reference point where no agreement: MAE {np.mean(np.abs(stand_in - outcome)):.1f}"
                     f" (reference point alone {np.mean(np.abs(ref - outcome)):.1f})")
        print(line)


def scenario(source: str, draws: list[int], params: nash.Params, repeat: int) -> None:
    """Best-of-`repeat` CPU and wall time of nash.solve on draws of a scenario."""
    from parley.core import batch as batching
    from parley.io.loading import load

    scen = load(source)
    spent = {"ip": 0.0}
    inner = {name: getattr(nash, name) for name in ("_interior_point", "_interior_point_compiled")}

    def timer(name):
        def timed(*args):  # time inside the interior-point method (CPU)
            c0 = time.process_time()
            try:
                return inner[name](*args)
            finally:
                spent["ip"] += time.process_time() - c0
        return timed

    print(f"scenario {scen.id}: loss={params.loss} disagreement={params.disagreement}"
          f" engine={params.engine}, best of {repeat} runs (after one warm-up run)")
    print(f"{'draws':>8} {'wall s':>8} {'cpu s':>8} {'of which IP':>12} {'draws/s (cpu)':>14}"
          f" {'agree':>6} {'unconv':>6}")
    nash.solve(batching.sample(scen, 3000, 1), params)  # loads numba and the compiled code
    for name in inner:
        setattr(nash, name, timer(name))
    try:
        for d in draws:
            batch = batching.sample(scen, d, 1)
            best = (np.inf, np.inf, np.inf)
            for _ in range(repeat):
                spent["ip"] = 0.0
                w0, c0 = time.perf_counter(), time.process_time()
                out = nash.solve(batch, params)
                best = min(best, (time.process_time() - c0, time.perf_counter() - w0, spent["ip"]))
            cpu, wall, ip = best
            print(f"{d:>8} {wall:>8.3f} {cpu:>8.3f} {ip:>12.3f} {d / cpu:>14,.0f}"
                  f" {out.agreement.mean():>6.3f} {out.info['unconverged_draws']:>6}")
    finally:
        for name, fn in inner.items():
            setattr(nash, name, fn)


STARTUP = """
import time
c0, w0 = time.process_time(), time.perf_counter()
from parley.core import batch as batching
from parley.io.loading import load
from parley.models import nash
b = batching.sample(load("ukraine-2025-05"), 3000, 1)
c1, w1 = time.process_time(), time.perf_counter()
nash.solve(b, nash.Params(engine="compiled"))
print(f"{time.process_time() - c1:.2f} {time.perf_counter() - w1:.2f}")
"""


def startup() -> None:
    """First compiled solve in a fresh process: with an empty numba cache (the first use after
    installing: compiles) and again with the cache it left (loads numba and the cached code)."""
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold (empty cache: compile)", "warm (cached code)", "warm (cached code)"):
            out = subprocess.run([sys.executable, "-c", STARTUP], env=env, check=True,
                                 capture_output=True, text=True).stdout.split()
            print(f"first compiled solve of 3,000 draws, {label}: cpu {out[0]} s, wall {out[1]} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--quadratic", action="store_true")
    parser.add_argument("--disagreement", choices=["status_quo", "reservation"],
                        help="default: status_quo on random inputs, nash's own default"
                        " (reservation) with --scenario")
    parser.add_argument("--deu", action="store_true", help="DEU accuracy figures instead of speed")
    parser.add_argument("--scenario", help="time draws of this scenario (id or file) instead")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size with --scenario")
    parser.add_argument("--engine", choices=["auto", "compiled", "numpy"], default="auto")
    parser.add_argument("--startup", action="store_true",
                        help="time the compiled engine's first use (cold and warm cache)")
    args = parser.parse_args()
    if args.deu:
        deu("quadratic" if args.quadratic else "linear")
        return
    if args.startup:
        startup()
        return
    loss = "quadratic" if args.quadratic else "linear"
    if args.scenario:
        params = nash.Params(loss=loss, disagreement=args.disagreement or "reservation",
                             engine=args.engine)
        scenario(args.scenario, args.draws, params, args.repeat)
        return
    params = nash.Params(loss=loss, disagreement=args.disagreement or "status_quo",
                         engine=args.engine)
    nash.solve(random_inputs(3000), params)  # warm-up (loads numba and the compiled code)
    print(f"loss={params.loss} disagreement={params.disagreement} engine={params.engine}"
          " actors=6 issues=5")
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
