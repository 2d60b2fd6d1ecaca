"""parley's exchange model against Decide's own 40 runs of its three example inputs.

Run: `/work/venv/bin/python benchmarks/decide_replication.py [--outcome voting|preference] [--rounds]`
(needs ../shared: Decide's inputs are GPL and not shipped). For every case and issue it prints
Decide's min / median / max over its 40 repetitions (final round, 0–100) for both outcomes
Decide reports, parley's default run (deterministic, ties="first") and the median of parley's
runs with a seeded random tie order (ties="random", seeds 0..39), and counts how many issues
land inside Decide's range (the default run: within 2 points of it). `--rounds` adds, round by
round, how many issues' 40-seed medians fall inside Decide's per-round range for both outcomes
(from runs.csv) and the mean distance between the two medians. `--issue CASE/ISSUE` (e.g.
cop21/finance_who) prints that issue's voting MDS round by round: Decide's 40-run min / median /
max, parley's default run under both readings of an outcome exactly at a demander's position
(`at_demander`), and the min / median / max of parley's 40 seeded tie orders.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

from parley.core.batch import point
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
    ap.add_argument("--rounds", action="store_true", help="also compare every round (runs.csv)")
    ap.add_argument("--issue", help="CASE/ISSUE: that issue's voting MDS round by round")
    args = ap.parse_args()
    root = shared()
    if root is None:
        print("../shared not found: Decide's inputs and runs are needed (GPL, not shipped)")
        return 0
    ref = summary(root)
    if args.issue:
        return trace_issue(root, *args.issue.split("/", 1))
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
        if args.rounds:
            by_round(root, case, sc, b)
    print(f"default run inside Decide's range ±{SLACK:g}: {inside_default}/{total}")
    print(f"median over {len(SEEDS)} seeded random tie orders inside Decide's range: "
          f"{inside_median}/{total}")
    print("(* marks a value outside)")
    return 0


def by_round(root: Path, case: str, sc: object, b: object) -> None:
    """Per round: Decide's 40-run median and range (runs.csv) against the median of parley's 40
    seeded tie orders, for the preference and the voting MDS."""
    import pandas as pd

    runs = pd.read_csv(root / "reference" / "decide" / "runs40" / "runs.csv")
    runs = runs[runs["case"] == case].assign(issue=lambda f: f["issue"].str.split(" [", regex=False).str[0])
    names = [issue.name for issue in sc.issues]
    pref, vote = [], []
    for seed in SEEDS:
        out = exchange.solve(b, exchange.Params(ties="random", seed=seed))
        traj = out.trajectory[0]
        w = b.capability[0][:, None] * np.where(b.engaged, b.salience[0], 0.0)
        step = 0.1 + 0.4 * (1.0 - np.where(b.engaged, b.salience[0], 0.0))
        x = traj[0]
        p_r, v_r = [], []
        for r in range(1, traj.shape[0]):
            p_r.append((w * x).sum(axis=0) / w.sum(axis=0))
            v_r.append((w * traj[r]).sum(axis=0) / w.sum(axis=0))
            x = x + step * (traj[r] - x)
        pref.append(p_r)
        vote.append(v_r)
    med = {"preference": np.median(pref, axis=0), "voting": np.median(vote, axis=0)}
    print(f"  {'round':>5s} {'pref inside':>11s} {'pref |diff|':>11s} {'vote inside':>11s} "
          f"{'vote |diff|':>11s}")
    for r in range(med["voting"].shape[0]):
        cells = []
        for outcome, col in (("preference", "preference_mds_100"), ("voting", "voting_mds_100")):
            g = runs[runs["round"] == r].groupby("issue")[col]
            lo, mid, hi = (g.min()[names].to_numpy(), g.median()[names].to_numpy(),
                           g.max()[names].to_numpy())
            ours = med[outcome][r]
            inside = (ours >= lo - 1e-9) & (ours <= hi + 1e-9)  # (round 1: one value, to rounding)
            cells += [f"{int(inside.sum()):>7d}/{len(names):<3d}",
                      f"{np.abs(ours - mid).mean():11.2f}"]
        print(f"  {r + 1:>5d} " + " ".join(cells))


def trace_issue(root: Path, case: str, name: str) -> int:
    """One issue's voting MDS per round: Decide's 40 runs against parley's default run (both
    `at_demander` readings) and parley's 40 seeded tie orders."""
    import pandas as pd

    sc = load_decide(root / "data" / "decide" / CASES[case])
    b = point(sc)
    k = [issue.name for issue in sc.issues].index(name)
    runs = pd.read_csv(root / "reference" / "decide" / "runs40" / "runs.csv")
    runs = runs[(runs["case"] == case) & runs["issue"].str.startswith(name + " [")]

    def per_round(**kw: object) -> np.ndarray:
        return np.array([exchange.solve(b, exchange.Params(rounds=r, **kw)).info["voting"][0, k]
                         for r in range(1, 11)])

    passes, stops = per_round(), per_round(at_demander="stops")
    seeded = np.array([per_round(ties="random", seed=s) for s in SEEDS])
    print(f"{case} {name}: voting MDS (0–100) per round")
    print(f"{'round':>5s} {'Decide min/med/max':>20s} {'default passes':>14s} {'stops':>6s} "
          f"{'40 seeds min/med/max':>22s}")
    for r in range(10):
        g = runs[runs["round"] == r]["voting_mds_100"]
        print(f"{r + 1:5d} {g.min():6.2f} {g.median():6.2f} {g.max():6.2f} {passes[r]:14.2f} "
              f"{stops[r]:6.2f} {seeded[:, r].min():7.2f} {np.median(seeded[:, r]):6.2f} "
              f"{seeded[:, r].max():6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
