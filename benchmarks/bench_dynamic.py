"""Speed of the dynamic models (bdm, pce) against the bars of issue 3.

Run: `/work/venv/bin/python benchmarks/bench_dynamic.py [repeats]` (default 3; best of the
repeats is reported, since other work on a shared machine only ever slows a run down).

- pce on each KTAB scenario (tests/data/ktab), one deterministic run, against KTAB's own times
  (../shared/reference/README.md; bar: at least 100x faster, 50 x 5 under 0.4 s);
- bdm, 10 rounds of 50 actors on one issue (bar: under 50 ms);
- bdm, 1,000 Monte Carlo draws of the bundled scenario through the rounds (bar: under 5 s);
- pce, 100 draws of the bundled scenario (no bar; for scale);
- with `--processes`: the wall time of fresh processes, as a command pays it (imports, numba):
  one run of each KTAB file with engine "auto" (numpy for one run), with the compiled engine
  from numba's on-disk cache (warm) and after an empty cache (cold: compiles); with `--cli` also
  the command `parley run FILE -m pce` (bar: max(0.7 s, KTAB's time / 10); meaningful once
  `parley run` computes a scenario without uncertain inputs once instead of 10,000 times).

    python benchmarks/bench_dynamic.py [repeats] [--processes [--cli]]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from parley.core import batch as batching
from parley.core.batch import Batch
from parley.io.ktab import load_ktab
from parley.io.loading import load
from parley.models import bdm, pce

KTAB = Path(__file__).resolve().parents[1] / "tests" / "data" / "ktab"
KTAB_SECONDS = {  # KTAB smpc, -O2, deterministic, minimal logging, median of 3 (wall s)
    "dummyData_3Dim": 0.13, "SOE-Pol-Comp": 0.63, "SOE-Policy": 3.2, "dummyData_6Dim": 5.4,
    "SOE-Competitive": 10.7, "dummyData-a040": 13.5, "random_a025_d3_s7": 5.2,
    "random_a050_d5_s42": 42.9,
}


def best_of(fn, repeats: int, budget: float = 0.5) -> tuple[float, object]:
    """Best time of at least `repeats` runs, more (up to 50) while they fit in `budget` s."""
    best, out, spent, runs = float("inf"), None, 0.0, 0
    while runs < repeats or (spent < budget and runs < 50):
        start = time.perf_counter()
        out = fn()
        took = time.perf_counter() - start
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best, out


def main(repeats: int = 3) -> None:
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cores {os.cpu_count()}, load average {load_avg:.1f}, best of {repeats}")
    engines = ["numpy"]
    try:
        import numba  # noqa: F401

        engines.insert(0, "compiled")
        pce.solve(batching.point(load_ktab(KTAB / "dummyData_3Dim.csv")))  # compile / load cache
    except ImportError:
        print("numba not installed: compiled engine skipped (pip install 'parley[fast]')")
    for engine in engines:
        params = pce.Params(engine=engine)
        print(f"pce, {engine} engine")
        print(f"  {'scenario':20s} {'N x K':>7s} {'turns':>5s} {'parley s':>9s} {'KTAB s':>7s} "
              f"{'speed-up':>8s}")
        for name, ktab_s in KTAB_SECONDS.items():
            b = batching.point(load_ktab(KTAB / f"{name}.csv"))
            secs, out = best_of(lambda b=b, p=params: pce.solve(b, p), repeats)
            dims = f"{b.n_actors}x{b.n_issues}"
            print(f"  {name:20s} {dims:>7s} {int(out.info['rounds'][0]):5d} {secs:9.4f} {ktab_s:7.2f} "
                  f"{ktab_s / secs:7.0f}x")

    rng = np.random.default_rng(1)
    one = Batch.from_arrays(rng.uniform(0, 100, (50, 1)), rng.uniform(0.1, 1, (50, 1)),
                            rng.uniform(1, 100, 50))
    secs, _ = best_of(lambda: bdm.solve(one, bdm.Params(rounds=10)), repeats)
    print(f"bdm 50 actors x 1 issue, 10 rounds: {secs * 1000:.1f} ms (bar 50 ms)")

    scenario = load("ukraine-2025-05")
    draws = batching.sample(scenario, 1000, seed=1)
    secs, out = best_of(lambda: bdm.solve(draws), repeats)
    print(f"bdm 1,000 draws of {scenario.id} ({draws.n_actors} actors x {draws.n_issues} issues): "
          f"{secs:.2f} s (bar 5 s); oscillated in {out.info['oscillated'].mean():.0%} of draws")
    few = draws.take(slice(0, 100))
    for engine in engines:
        secs, out = best_of(lambda e=engine: pce.solve(few, pce.Params(engine=e)), 1)
        print(f"pce ({engine}) 100 draws of {scenario.id}: {secs:.2f} s; turns median "
              f"{int(np.median(out.info['rounds']))}, max {int(out.info['rounds'].max())}")


ONE_RUN = ("import sys; from parley.core.batch import point; from parley.io.ktab import load_ktab; "
           "from parley.models import pce; pce.solve(point(load_ktab(sys.argv[1])), "
           "pce.Params(engine=sys.argv[2]))")


def _wall(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def processes(repeats: int, cli: bool) -> None:
    """Fresh-process wall times (best of `repeats`), as a one-run command sees them."""
    py = sys.executable
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as empty:
        cold_env = {**env, "NUMBA_CACHE_DIR": empty}
        cold = _wall([py, "-c", ONE_RUN, str(KTAB / "dummyData_3Dim.csv"), "compiled"], cold_env)
    print(f"one run, compiled engine, empty numba cache (compiles): {cold:.1f} s")
    print(f"  {'scenario':20s} {'auto s':>7s} {'compiled warm s':>15s} {'parley run s':>12s} "
          f"{'bar s':>6s}")
    for name, ktab_s in KTAB_SECONDS.items():
        f = str(KTAB / f"{name}.csv")
        auto = min(_wall([py, "-c", ONE_RUN, f, "auto"]) for _ in range(repeats))
        warm = min(_wall([py, "-c", ONE_RUN, f, "compiled"]) for _ in range(repeats))
        run = (min(_wall([py, "-m", "parley", "run", f, "-m", "pce"]) for _ in range(repeats))
               if cli else float("nan"))
        print(f"  {name:20s} {auto:7.2f} {warm:15.2f} {run:12.2f} {max(0.7, ktab_s / 10):6.2f}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    reps = int(args[0]) if args else 3
    if "--processes" in sys.argv:
        processes(reps, "--cli" in sys.argv)
    else:
        main(reps)
