"""CPU seconds that `parley run` (default options, bundled scenario) spends sampling, in the
settlement test and in the zone check, measured in-process around those three functions.

    python benchmarks/bench_run_parts.py            # best of 3 fresh processes
    python benchmarks/bench_run_parts.py --repeat 5

Only names that existed before the speed work are wrapped, so pointing PYTHONPATH at an older
checkout's src/ gives the "before" figures with the same script.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time


def child() -> None:
    from parley.analysis import agreement_zone, settlement, simulate
    from parley.core import batch

    spent = {"sample": 0.0, "evaluate": 0.0, "zone": 0.0}

    def timed(module: object, name: str, key: str) -> object:
        fn = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += time.process_time() - t0

        setattr(module, name, wrapper)
        return wrapper

    timed(batch, "sample", "sample")
    simulate.evaluate = timed(settlement, "evaluate", "evaluate")  # imported by name there
    timed(agreement_zone, "zone", "zone")
    from parley.cli import main

    t0 = time.process_time()
    sys.argv = ["parley", "run"]
    with contextlib.suppress(SystemExit):  # the command line ends with sys.exit
        main()
    spent["command"] = time.process_time() - t0  # the whole command, after the imports above
    print("PARTS " + json.dumps(spent), file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child()
        return
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True,
                             env=os.environ.copy())
        line = next(ln for ln in out.stderr.splitlines() if ln.startswith("PARTS "))
        for key, value in json.loads(line[6:]).items():
            best[key] = min(best.get(key, float("inf")), value)
    print(f"`parley run`, CPU seconds, best of {args.repeat} processes:")
    for key, value in best.items():
        print(f"  {key:10s} {value:6.3f} s")
    print("  (command: all of `parley run` after importing numpy and the three modules)")


if __name__ == "__main__":
    main()
