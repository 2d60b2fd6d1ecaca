"""Cut the small KTAB turn-table fixtures in tests/data/ktab/turns from ../shared.

Keeps, per file, the turns 0–4 and the last turn (every turn of dummyData_3Dim): positions and
reported win probabilities at those turns, and the adopted bargains (rows with init_chosen or
recv_chosen = 1) of the turns that lead from them. Also copies the ninth file's input
(random_a050_d5_seed2026, not among the samples in tests/data/ktab). Run from the repository:

    python scripts/cut_ktab_turns.py
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT.parent / "shared" / "reference" / "ktab" / "turns"
DST = ROOT / "tests" / "data" / "ktab" / "turns"
NAMES = ["dummyData_3Dim", "SOE-Pol-Comp", "SOE-Policy", "dummyData_6Dim", "SOE-Competitive",
         "dummyData-a040", "random_a025_d3_s7", "random_a050_d5_s42", "random_a050_d5_seed2026"]
FIRST = 5  # turns 0..4


def _cut(src: Path, dst: Path, column: str, turns: set[int], adopted_only: bool = False) -> None:
    """Copy the header and the rows whose `column` is one of `turns` (and, for bargains, that
    some actor adopted)."""
    with src.open(newline="") as fh, dst.open("w", newline="") as out:
        rows = csv.reader(fh, delimiter="\t")
        w = csv.writer(out, delimiter="\t", lineterminator="\n")
        header = next(rows)
        w.writerow(header)
        for row in rows:
            r = dict(zip(header, row, strict=False))
            if int(r[column]) not in turns:
                continue
            if adopted_only and "1" not in (r["init_chosen"], r["recv_chosen"]):
                continue
            w.writerow(row)


def main() -> None:
    DST.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        with (SRC / f"{name}.tsv").open() as fh:
            last = max(int(line.split("\t")[0]) for line in list(fh)[1:])
        turns = set(range(last + 1)) if name == "dummyData_3Dim" else set(range(FIRST)) | {last}
        _cut(SRC / f"{name}.tsv", DST / f"{name}.tsv", "turn", turns)
        _cut(SRC / f"{name}_winprob.tsv", DST / f"{name}_winprob.tsv", "turn", turns)
        _cut(SRC / f"{name}_bargains.tsv", DST / f"{name}_bargains.tsv", "from_turn",
             turns - {last}, adopted_only=True)
    shutil.copy(SRC / "random_a050_d5_seed2026.input.csv", DST / "random_a050_d5_seed2026.input.csv")


if __name__ == "__main__":
    main()
