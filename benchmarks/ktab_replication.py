"""How closely parley's `pce` follows KTAB's `smpc`, turn by turn, on the nine KTAB files.

Reference: KTAB's own turn tables (../shared/reference/ktab/turns: every actor's position at
every turn, every bargain, the reported win probabilities), read when ../shared is present;
without it, the cut fixtures in tests/data/ktab/turns are used (fewer turns). Per file it prints
turns (parley / KTAB), the first turn and actor whose position differs by more than 0.005
(positions are on 0–100, KTAB's printed to 4 decimals, parley's bargains rounded to 0.01), the
worst difference over all common turns and at the final state, the first turn whose adopted
bargains differ, and the largest difference in the reported win probability.

    python benchmarks/ktab_replication.py                # default Params (KTAB's defaults)
    python benchmarks/ktab_replication.py --json         # machine-readable
    python benchmarks/ktab_replication.py --engine numpy
    python benchmarks/ktab_replication.py --clean        # bargain_min_weight=0, win prob "own"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from parley.core.batch import point
from parley.io.ktab import load_ktab
from parley.io.ktab_turns import read_turns
from parley.models import pce

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests" / "data" / "ktab"
SHARED = ROOT.parent / "shared" / "reference" / "ktab" / "turns"
NAMES = ["dummyData_3Dim", "SOE-Pol-Comp", "SOE-Policy", "dummyData_6Dim", "SOE-Competitive",
         "dummyData-a040", "random_a025_d3_s7", "random_a050_d5_s42", "random_a050_d5_seed2026"]
SAME = 0.005
"""Positions further apart than this (0–100) count as diverged: both sides hold 4 decimals on
KTAB's 0–1 scale, so equal positions agree to about 1e-12."""


def input_file(name: str) -> Path:
    for path in (TESTS / f"{name}.csv", TESTS / "turns" / f"{name}.input.csv",
                 SHARED / f"{name}.input.csv"):
        if path.exists():
            return path
    raise FileNotFoundError(f"no input for {name}")


def compare(name: str, params: pce.Params, where: Path) -> dict[str, object]:
    """Replay one file and compare it with KTAB's tables, turn by turn."""
    ref = read_turns(where, name)
    batch = point(load_ktab(input_file(name)))
    out = pce.solve(batch, params)
    ours = out.trajectory[0]
    ours_p = out.info["win_probability"][0]
    choice = np.array([rec["choice"] for rec in out.info["bargain_table"]])
    t_ref, t_own = ref.x.shape[0], ours.shape[0]
    common = min(t_ref, t_own)
    known = ~np.isnan(ref.x[:common, 0, 0])
    diff = np.abs(ours[:common] - ref.x[:common])  # [T, N, K]
    diff[~known] = 0.0
    first = None
    bad = np.argwhere(diff.max(axis=-1) > SAME)
    if bad.size:
        t, a = (int(v) for v in bad[0])
        first = {"turn": t, "actor": a, "parley": ours[t, a].round(4).tolist(),
                 "ktab": ref.x[t, a].round(4).tolist()}
    # adopted bargains: (turn, actor) where parley's choice is not KTAB's; a difference is a
    # "near tie" when KTAB's own election gives the two options probabilities within 1e-5
    # (relative) of each other: then the ranking is floating-point noise in KTAB's sums
    m = min(len(choice), ref.chosen.shape[0])
    other = np.argwhere((choice[:m] != ref.chosen[:m]) & (ref.chosen[:m] >= 0))
    near_ties = 0
    first_bargain = None
    for t, a in other.tolist():
        p_k = ref.prob[t, a, ref.chosen[t, a]]
        p_p = ref.prob[t, a, choice[t, a]]
        tie = bool(abs(p_k - p_p) <= 1e-5 * p_k)
        near_ties += tie
        if first_bargain is None and not tie:
            first_bargain = {"turn": t + 1, "actor": a, "parley": int(choice[t, a]),
                             "ktab": int(ref.chosen[t, a])}
    pdiff = np.abs(ours_p[:common] - ref.p[:common])
    p_off = int((np.abs(np.round(ours_p[:common], 4) - ref.p[:common]) > 1e-9).sum())
    final = np.abs(ours[-1] - ref.x[-1]).max()
    return {
        "file": name,
        "actors": batch.n_actors,
        "dims": batch.n_issues,
        "turns": t_own - 1,
        "ktab_turns": t_ref - 1,
        "worst_turn_diff": round(float(diff.max()), 4),
        "worst_final_diff": round(float(final), 4),
        "winprob_max_diff": round(float(np.nanmax(pdiff)), 6),
        "winprob_not_equal_at_4_decimals": p_off,
        "bargain_differences": len(other),
        "bargain_near_ties": near_ties,
        "first_divergence": first,
        "first_bargain_difference": first_bargain,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--engine", default="auto", choices=["auto", "numpy", "compiled"])
    ap.add_argument("--clean", action="store_true", help="the clean variants of KTAB's accidents")
    ap.add_argument("--reference", type=Path, default=SHARED if SHARED.exists() else TESTS / "turns",
                    help="directory of turn tables (default: ../shared's, else the cut fixtures)")
    args = ap.parse_args()
    params = pce.Params(engine=args.engine, explain=True)
    if args.clean:
        params = pce.Params(engine=args.engine, explain=True, bargain_min_weight=0.0,
                            win_probability_shown="own")
    where = args.reference
    rows = [compare(name, params, where) for name in NAMES]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"reference: {where}")
    print(f"{'file':24s} {'N x K':>7s} {'turns':>9s} {'worst turn':>10s} {'final':>7s} "
          f"{'win p':>8s} {'!=4dp':>5s}  first divergence (turn, actor)")
    for r in rows:
        first = r["first_divergence"]
        fb = r["first_bargain_difference"]
        where_txt = "none" if first is None else f"turn {first['turn']}, actor {first['actor']}"
        if fb is not None:
            where_txt += f"; bargains first differ at turn {fb['turn']}, actor {fb['actor']}"
        if r["bargain_near_ties"]:
            where_txt += (f"; {r['bargain_near_ties']} adopted bargain(s) differ on a near tie"
                          " in KTAB's own election (same coordinates)")
        print(f"{r['file']:24s} {r['actors']:>3d} x {r['dims']:<2d} {r['turns']:>4d}/{r['ktab_turns']:<4d} "
              f"{r['worst_turn_diff']:10.4f} {r['worst_final_diff']:7.4f} "
              f"{r['winprob_max_diff']:8.6f} {r['winprob_not_equal_at_4_decimals']:5d}  {where_txt}")


if __name__ == "__main__":
    main()
