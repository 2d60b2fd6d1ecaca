"""Speed of lever comparisons, Sobol analysis and the HTML report on the bundled scenario.

Run:  python benchmarks/bench_levers.py [--repeat 3] [--models compromise,median,nash]

Bars (issue 6, 2 cores): 5 levers x 10^4 draws with static models < 3 s; Sobol with
compromise / median < 30 s; report < 10 s and < 3 MB. Each figure is the best of --repeat runs
(the machine is shared, so the minimum is the fairest estimate of the code's own cost).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", default="compromise,median,nash")
    args = ap.parse_args()

    import parley
    from parley.analysis import levers as lv
    from parley.analysis.compare import compare
    from parley.analysis.sensitivity import sensitivity
    from parley.present.report import build_report, render

    s = parley.load("ukraine-2025-05")
    five = [x.id for x in s.levers][:5]
    variants = lv.variants(s, five)
    models = args.models.split(",")
    print(f"cpus: {os.cpu_count()}  load: {os.getloadavg()[0]:.1f}  repeat: {args.repeat}")
    print("\n5 levers x 10^4 draws (baseline + 5 variants on common random numbers)")
    sets = [["compromise", "median"], models] + [[m] for m in models]
    for ms in sets:
        for workers in (1, 2):
            t = best(lambda ms=ms, w=workers: compare(s, variants, ms, draws=10_000, seed=1, workers=w),
                     args.repeat)
            print(f"  {'+'.join(ms):28s} workers={workers}: {t:6.2f} s")

    print("\nSobol (Saltelli/Jansen, first + total order), all outputs, bundled scenario")
    for m in ("compromise", "median"):
        for n in (256, 512):
            runs = {}

            def go(m=m, n=n, runs=runs):
                runs["r"] = sensitivity(s, m, n=n, seed=1).runs

            t = best(go, max(1, args.repeat - 1))
            print(f"  {m:10s} n={n:4d} ({runs['r']:6d} runs): {t:6.2f} s")

    print("\nReport (default models, 10^4 draws, levers on 2000 common draws, Sobol n=128)")
    holder = {}

    def report() -> None:
        holder["html"] = render(build_report(s, models))

    t = best(report, max(1, args.repeat - 1))
    print(f"  in-process build + render: {t:6.2f} s, {len(holder['html'].encode()) / 1e6:.2f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.html"
        model_args = [arg for m in models for arg in ("-m", m)]
        entry = "from parley.cli import main; main()"
        cmd = [sys.executable, "-c", entry, "report", "-o", str(out), *model_args]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        print(f"  CLI `parley report` wall time incl. start-up: {time.perf_counter() - t0:6.2f} s, "
              f"{out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
