"""KTAB's turn tables: what `smpc` records turn by turn (read back from its database as tab-
separated files, ../shared/reference/ktab/turns), so pce can be compared with it turn by turn.

`<name>.tsv` holds every actor's position per turn and dimension, `<name>_winprob.tsv` the
reported probability that each actor's position wins, `<name>_bargains.tsv` every bargain with
each side's probability in its own election and which one it adopted.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class KtabTurns:
    """Positions x[T, N, K] (0–100) and win probabilities p[T, N] (NaN at turns a cut table
    leaves out); the option each actor adopted per turn, chosen[T - 1, N] (-1 unknown, 0 kept
    its position, m + 1 the bargain initiated by m), and each option's probability in that
    actor's election, prob[T - 1, N, N + 1]."""

    x: np.ndarray
    p: np.ndarray
    chosen: np.ndarray
    prob: np.ndarray

    @property
    def turns(self) -> int:
        return self.x.shape[0] - 1


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def read_turns(folder: str | Path, name: str) -> KtabTurns:
    """The three tables of KTAB file `name` in `folder`."""
    folder = Path(folder)
    pos = _rows(folder / f"{name}.tsv")
    t_n = 1 + max(int(r["turn"]) for r in pos)
    n = 1 + max(int(r["actor"]) for r in pos)
    k = 1 + max(int(r["dim"]) for r in pos)
    x = np.full((t_n, n, k), np.nan)
    for r in pos:
        x[int(r["turn"]), int(r["actor"]), int(r["dim"])] = float(r["position"])
    p = np.full((t_n, n), np.nan)
    for r in _rows(folder / f"{name}_winprob.tsv"):
        p[int(r["turn"]), int(r["actor"])] = float(r["p_pos_wins"])
    chosen = np.full((t_n - 1, n), -1)
    prob = np.full((t_n - 1, n, n + 1), np.nan)
    for r in _rows(folder / f"{name}_bargains.tsv"):
        t, i, j = int(r["from_turn"]), int(r["initiator"]), int(r["receiver"])
        if t >= t_n - 1:
            continue
        opt = 0 if i == j else i + 1
        prob[t, i, opt] = float(r["init_prob"])
        if r["init_chosen"] == "1":
            chosen[t, i] = opt
        if i != j:
            prob[t, j, opt] = float(r["recv_prob"])
        if r["recv_chosen"] == "1":
            chosen[t, j] = opt
    return KtabTurns(x, p, chosen, prob)
