"""parley's exchange model against Decide's own 40 runs of its three example inputs.

Run: `/work/venv/bin/python benchmarks/decide_replication.py [--outcome voting|preference]`
(needs ../shared: Decide's inputs are GPL and not shipped). For every case and issue it prints
Decide's min / median / max over its 40 repetitions (final round, 0–100) for both outcomes
Decide reports, parley's default run (deterministic, ties="first") and the median of parley's
runs with a seeded random tie order (ties="random", seeds 0..39), and counts how many issues
land inside Decide's range (the default run: within 2 points of it).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

from parley.batch import point
from parley.io.decide import load_decide
from parley.models import exchange

CASES = {"sample_data": "sample_data.txt", "copenhagen": "copenhagen.csv", "cop21": "cop21.csv"}
SEEDS = range(40)
SLACK = 2.0


def shared() -> Path | None:
    here = Path(__file__).resolve()
    for cand in (os.environ.get("PARLEY_SHARED"), here.parents[2] / "shared", Path("/work/shared")):
        if cand and (Path(cand) / "reference" / "decide" / "runs40").is_dir():
            return Path(cand)
    return None


def summary(root: Path) -> dict[tuple[str, str], dict[str, float]]:
    """Decide's min/median/max per (case, issue name), both outcomes, 0–100."""
    with open(root / "reference" / "decide" / "runs40" / "summary.csv", newline="") as fh:
        return {(r["case"], r["issue"].split(" [")[0]): {k: float(v) for k, v in r.items()
                if k.endswith(("_min", "_median", "_max"))} for r in csv.DictReader(fh)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outcome", choices=("voting", "preference"), default="voting",
                    help="which of Decide's outcomes parley reports and is counted (default voting)")
    args = ap.parse_args()
    root = shared()
    if root is None:
        print("../shared not found: Decide's inputs and runs are needed (GPL, not shipped)")
        return 0
    ref = summary(root)
    key = "voting_mds" if args.outcome == "voting" else "preference_mds"
    inside_default = inside_median = total = 0
    print(f"outcome counted: Decide's {key.replace('_', ' ')} (final round, 0–100)")
    head = (f"{'case':11s} {'issue':22s} {'pref min/med/max':>20s} {'vote min/med/max':>20s} "
            f"{'default':>8s} {'med 40':>7s}")
    print(head)
    for case, fname in CASES.items():
        sc = load_decide(root / "data" / "decide" / fname)
        b = point(sc)
        start = time.perf_counter()
        out = exchange.solve(b, exchange.Params(outcome=args.outcome))
        secs = time.perf_counter() - start
        seeded = np.array([exchange.solve(b, exchange.Params(ties="random", seed=s,
                                                             outcome=args.outcome)).outcome[0]
                           for s in SEEDS])
        med = np.median(seeded, axis=0)
        for k, issue in enumerate(sc.issues):
            r = ref[case, issue.name]
            lo, hi = r[f"{key}_min"], r[f"{key}_max"]
            val = out.outcome[0, k]
            ok_d = lo - SLACK <= val <= hi + SLACK
            ok_m = lo <= med[k] <= hi
            inside_default += ok_d
            inside_median += ok_m
            total += 1
            p, v = ("/".join(f"{r[f'{o}_mds_{s}']:.1f}" for s in ("min", "median", "max"))
                    for o in ("preference", "voting"))
            print(f"{case:11s} {issue.name[:22]:22s} {p:>20s} {v:>20s} {val:8.2f}{'' if ok_d else '*'}"
                  f" {med[k]:7.2f}{'' if ok_m else '*'}")
        print(f"  ({case}: one default run {secs * 1e3:.0f} ms, "
              f"{int(out.info['exchanges_made'][0])} exchanges)")
    print(f"default run inside Decide's range ±{SLACK:g}: {inside_default}/{total}")
    print(f"median over {len(SEEDS)} seeded random tie orders inside Decide's range: "
          f"{inside_median}/{total}")
    print("(* marks a value outside)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
