"""Speed of `parley advise` on the bundled scenario, measured as a whole process.

Run:  python benchmarks/bench_advise.py [--repeat 5] [--actor Ukraine] [--models compromise,median]

Bar (issue 15, 2 cores): `parley advise Ukraine --json` returns in under 5 s, start-up included.
It runs the command in a fresh interpreter each time (as a user does) and prints every time and
the best; the machine is shared, so the minimum is the fairest estimate of the code's own cost.
Also times the library call alone and, for reference, other models (their cost per what-if).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def process(args: list[str]) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system, of the child) and stdout of one `parley` process.
    On a shared machine the CPU time shows the command's own cost when the wall time is mostly
    waiting for a core."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "parley", *args], env=env, capture_output=True,
                         text=True, check=True).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--actor", default="Ukraine")
    ap.add_argument("--models", default="", help="comma-separated; default: the command's default")
    ap.add_argument("--others", action="store_true", help="also time nash, bdm and pce (slow)")
    args = ap.parse_args()
    cmd = ["advise", args.actor, "--json"]
    for m in filter(None, args.models.split(",")):
        cmd += ["-m", m]
    print(f"cpus: {os.cpu_count()}  load: {os.getloadavg()[0]:.1f}  repeat: {args.repeat}")
    times, cpus = [], []
    for _ in range(args.repeat):
        t, cpu, out = process(cmd)
        times.append(t)
        cpus.append(cpu)
    data = json.loads(out)
    moves = {m: len(v) for m, v in data["own_moves"].items()}
    targets = len(data["persuasion"])
    print(f"parley {' '.join(cmd)}: best {min(times):.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"  CPU time (user + system) per run: best {min(cpus):.2f} s")
    print(f"  {data['provenance']['variants']} what-ifs x {data['provenance']['draws']:,} draws; "
          f"ranked own moves per model {moves}; persuasion rows {targets}")

    sys.path.insert(0, str(SRC))
    import parley
    from parley.analysis.advice import advise

    s = parley.load("ukraine-2025-05")
    for models, draws in [(("compromise", "median"), 2000)] + (
            [(("nash",), 500), (("bdm",), 100), (("pce",), 100)] if args.others else []):
        best = float("inf")
        for _ in range(max(1, args.repeat // 2)):
            t0 = time.perf_counter()
            advise(s, args.actor, models, draws=draws)
            best = min(best, time.perf_counter() - t0)
        print(f"  library advise({'+'.join(models)}, draws={draws}): {best:.2f} s")


if __name__ == "__main__":
    main()
