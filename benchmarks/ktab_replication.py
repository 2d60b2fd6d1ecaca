"""How closely parley's `pce` reproduces KTAB's `smpc` on the bundled KTAB samples.

For each scenario in tests/data/ktab: turns (parley / KTAB), the largest and mean difference
between an actor's final position and KTAB's (0–100, per actor and dimension; KTAB's are printed
to one decimal, so 0.05 is exact), and the forecast (parley's `cluster` rule applied to both
parley's and KTAB's final positions and win probabilities).

    python benchmarks/ktab_replication.py            # default Params (KTAB's defaults)
    python benchmarks/ktab_replication.py --json     # machine-readable
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from parley.batch import point
from parley.io.ktab import load_ktab
from parley.models import pce

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "ktab"


def reference(name: str) -> tuple[int, np.ndarray, np.ndarray]:
    """KTAB's turns, final positions [N, K] and final win probabilities [N]."""
    lines = (DATA / "reference" / f"{name}.tsv").read_text().splitlines()
    states = int(re.search(r"states=(\d+)", lines[1]).group(1))
    final, prob = [], []
    for line in lines[3:]:
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")[1:]
        final.append([float(c.split("->")[1]) for c in cells[:-1]])
        prob.append(float(cells[-1].split("->")[1]))
    return states - 1, np.array(final), np.array(prob)


def compare(name: str, params: pce.Params) -> dict[str, object]:
    batch = point(load_ktab(DATA / f"{name}.csv"))
    turns, ref_x, ref_p = reference(name)
    out = pce.solve(batch, params)
    ours = out.trajectory[0, -1]
    err = np.abs(ours - ref_x)
    ktab_forecast = pce.forecast(ref_x[None] / 100.0, ref_p[None], batch.capability,
                                 batch.engaged, params)[0]
    return {
        "scenario": name,
        "actors": batch.n_actors,
        "dims": batch.n_issues,
        "turns": int(out.info["rounds"][0]),
        "ktab_turns": turns,
        "max_error": round(float(err.max()), 2),
        "mean_error": round(float(err.mean()), 2),
        "forecast": [round(float(v), 1) for v in out.outcome[0]],
        "ktab_forecast": [round(float(v), 1) for v in ktab_forecast],
    }


def main() -> None:
    params = pce.Params()
    names = sorted(p.stem for p in DATA.glob("*.csv"))
    rows = [compare(name, params) for name in names]
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'scenario':20s} {'N x K':>7s} {'turns':>9s} {'max err':>8s} {'mean':>6s}  "
          "forecast parley / KTAB")
    for r in rows:
        print(f"{r['scenario']:20s} {r['actors']:>3d} x {r['dims']:<2d} "
              f"{r['turns']:>4d}/{r['ktab_turns']:<4d} {r['max_error']:8.2f} {r['mean_error']:6.2f}  "
              f"{r['forecast']} / {r['ktab_forecast']}")


if __name__ == "__main__":
    main()
