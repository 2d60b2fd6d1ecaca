"""Print bdm's EC car-emissions rounds under both readings beside the published references.

Why: docs/models/bdm.md's "Matches" table cites these numbers. The specification's reading
(printed equations, the default) and reading="scholz_code" are run on the EC case (Bueno de
Mesquita 1994, p. 78; Q = 1); the medians and c*s-weighted means after each round are printed
beside Scholz, Calbert & Smith's Table 2 (2011) and jmckib's port of Scholz's code
(bdm-scholz-expected-utility-model @55f63e9, run in ../shared/reference/bdm/). When that
directory is present, every actor's position per state is also compared with jmckib's.

Run: `PYTHONPATH=src /work/venv/bin/python scripts/bdm_ec_matches.py`
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from parley.backtest.cases import cases_directory, read_bdm_table
from parley.models import bdm

SCHOLZ_TABLE2 = [8.4, 9.9, 9.9, 9.9, 9.9, 7.4, 8.8, 9.6]  # medians after rounds 1-8 (truncated)
JMCKIB_MEDIANS = [8.415932, 9.610859, 9.961980, 9.961980, 9.961980, 7.472046, 8.824594, 9.671130,
                  9.671130, 7.000000]
JMCKIB_MEANS = [7.461314, 7.552501, 7.590145, 7.358131, 7.349174, 7.414878, 7.510457, 7.572447,
                7.324989, 7.242131]
POSITIONS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "bdm" / "ec_jmckib_positions.tsv"


def years(v: np.ndarray) -> np.ndarray:
    return 4 + np.asarray(v) / 100 * 6


def main() -> None:
    batch = read_bdm_table(cases_directory() / "bdm1994_ec_emissions.csv")
    runs = {name: bdm.solve(batch, bdm.Params(reading=name)) for name in ("spec", "scholz_code")}
    print("EC car emissions (years), median voter / c*s-weighted mean after each round, Q = 1")
    print(f"{'round':>5} {'Scholz T2':>9} {'jmckib med':>10} {'scholz_code':>11} {'spec':>7} | "
          f"{'jmckib mean':>11} {'scholz_code':>11} {'spec':>7}")
    med = {k: years(o.info["median"][0, :, 0]) for k, o in runs.items()}
    mean = {k: years(o.info["mean"][0, :, 0]) for k, o in runs.items()}
    for t in range(1, 11):
        pub = f"{SCHOLZ_TABLE2[t - 1]:.1f}" if t <= len(SCHOLZ_TABLE2) else ""
        print(f"{t:>5} {pub:>9} {JMCKIB_MEDIANS[t - 1]:>10.6f} {med['scholz_code'][t]:>11.6f} "
              f"{med['spec'][t]:>7.4f} | {JMCKIB_MEANS[t - 1]:>11.6f} {mean['scholz_code'][t]:>11.6f} "
              f"{mean['spec'][t]:>7.4f}")
    worst_med = np.abs(med["scholz_code"][1:11] - JMCKIB_MEDIANS).max()
    worst_mean = np.abs(mean["scholz_code"][1:11] - JMCKIB_MEANS).max()
    print(f"scholz_code vs jmckib, rounds 1-10: medians within {worst_med:.1e}, "
          f"means within {worst_mean:.1e} years")
    if POSITIONS.exists():
        ref = np.loadtxt(POSITIONS, skiprows=1)[:, 1:]
        got = years(runs["scholz_code"].trajectory[0, :, :, 0])
        print(f"every actor's position, states 0-10: largest difference {np.abs(got - ref).max():.1e} years")
    else:
        print(f"({POSITIONS} not found: per-actor comparison skipped)")


if __name__ == "__main__":
    main()
