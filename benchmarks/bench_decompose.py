"""Time of `parley sensitivity --decompose` on the bundled scenario, as the user runs it.

Run:  python benchmarks/bench_decompose.py [--repeat 3]

Bar (issue 16, 2 cores): under 30 s. The figure is the process wall time (start-up included),
best of --repeat runs (other work on a shared machine only ever slows a run down).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cmd = [sys.executable, "-m", "parley", "sensitivity", "--decompose"]
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    print(f"parley sensitivity --decompose (bundled scenario, defaults): best {min(times):.2f} s "
          f"of {args.repeat} (bar 30 s)")


if __name__ == "__main__":
    main()
