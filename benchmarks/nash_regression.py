"""Same answers before and after a change to the Nash solver: save its results, then compare.

Run the old code and the new code on the same draws (e.g. an archive of the old revision on
PYTHONPATH for the first run), then compare:

    PYTHONPATH=OLD/src python benchmarks/nash_regression.py save /tmp/old.npz
    PYTHONPATH=src     python benchmarks/nash_regression.py save /tmp/new.npz
    python benchmarks/nash_regression.py compare /tmp/old.npz /tmp/new.npz

To compare the two engines of the current code instead (numpy reference against compiled):

    PYTHONPATH=src python benchmarks/nash_regression.py save /tmp/numpy.npz --engine numpy
    PYTHONPATH=src python benchmarks/nash_regression.py save /tmp/compiled.npz --engine compiled
    python benchmarks/nash_regression.py compare /tmp/numpy.npz /tmp/compiled.npz

`save` solves --draws draws (default 10^5, seed 1) of every bundled scenario and of the
tutorial's examples under three parameter sets (linear loss with the reservation rule, the
default; linear with the status-quo rule; quadratic loss) and stores agreement flags, packages
and the objective of each package. `compare` prints, per case, whether the agreement flags are
identical, the largest package difference (scale points) and the largest objective difference,
and whether everything is identical bit for bit.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from parley.core import batch as batching
from parley.io.loading import load
from parley.models import nash

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "src/parley/data/scenarios").glob("*.yaml")) + sorted(
    (ROOT / "docs/examples").glob("*.yaml"))
PARAMS = {
    "linear-reservation": nash.Params(),
    "linear-status_quo": nash.Params(disagreement="status_quo"),
    "quadratic-reservation": nash.Params(loss="quadratic"),
}


def save(path: str, draws: int, seed: int, engine: str | None = None) -> None:
    out = {}
    for file in SCENARIOS:
        batch = batching.sample(load(file), draws, seed)
        for name, params in PARAMS.items():
            key = f"{file.stem}/{name}"
            w0, c0 = time.perf_counter(), time.process_time()
            if engine is not None:  # (older revisions have no engine parameter)
                params = replace(params, engine=engine)
            res = nash.solve(batch, params)
            print(f"{key:50s} cpu {time.process_time() - c0:7.3f} s  wall"
                  f" {time.perf_counter() - w0:7.3f} s  agreement {res.agreement.mean():.4f}")
            out[key + "/agreement"] = res.agreement
            out[key + "/outcome"] = res.outcome
            out[key + "/objective"] = nash.objective(batch, np.nan_to_num(res.outcome), params)
    np.savez_compressed(path, **out)


def compare(old_path: str, new_path: str) -> None:
    old, new = np.load(old_path), np.load(new_path)
    keys = sorted({k.rsplit("/", 1)[0] for k in old.files})
    all_same = True
    for key in keys:
        a_old, a_new = old[key + "/agreement"], new[key + "/agreement"]
        o_old, o_new = old[key + "/outcome"], new[key + "/outcome"]
        f_old, f_new = old[key + "/objective"], new[key + "/objective"]
        flags = np.array_equal(a_old, a_new)
        both = a_old & a_new
        du = float(np.max(np.abs(o_old[both] - o_new[both]), initial=0.0))
        df = float(np.max(np.abs(f_old[both] - f_new[both]), initial=0.0))
        worse = float(np.max(f_old[both] - f_new[both], initial=0.0))
        bitwise = flags and np.array_equal(o_old, o_new, equal_nan=True)
        all_same &= bitwise
        print(f"{key:50s} flags {'same' if flags else 'DIFFER'}  agreements {int(a_new.sum()):6d}"
              f"  max |package diff| {du:.2e}  max |objective diff| {df:.2e}"
              f" (new lower by at most {worse:.2e})  {'bitwise' if bitwise else ''}")
    print("identical bit for bit" if all_same else "not bitwise identical (see above)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("save")
    s.add_argument("path")
    s.add_argument("--draws", type=int, default=100_000)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--engine", choices=["auto", "compiled", "numpy"],
                   help="engine of the current code (default: the parameters' default)")
    c = sub.add_parser("compare")
    c.add_argument("old")
    c.add_argument("new")
    args = parser.parse_args()
    if args.cmd == "save":
        save(args.path, args.draws, args.seed, args.engine)
    else:
        compare(args.old, args.new)


if __name__ == "__main__":
    main()
