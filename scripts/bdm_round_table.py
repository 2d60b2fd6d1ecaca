"""Print one round of Bueno de Mesquita's challenge model number by number (EC emissions case).

Why: the replication of Scholz, Calbert & Smith (2011) hinges on single numbers of the first
round (risk exponents, expected utilities, which offer each actor takes); this prints them so a
reading of the equations can be checked by hand. See docs/models/bdm.md, "The EC emissions case".

Run: `/work/venv/bin/python scripts/bdm_round_table.py [key=value ...]` where key=value are
bdm.Params fields, e.g. `conflict=expected vote_weight=capability`; `round=2` prints round 2.
Positions are printed in years (4–10).
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from parley.backtest.cases import cases_directory, read_bdm_table
from parley.models import bdm


def years(v: np.ndarray | float) -> np.ndarray | float:
    return 4 + np.asarray(v) / 100 * 6


def parse(argv: list[str]) -> tuple[bdm.Params, int]:
    types = {f.name: f.type for f in dataclasses.fields(bdm.Params)}
    kw: dict[str, object] = {}
    rnd = 1
    for item in argv:
        key, _, value = item.partition("=")
        if key == "round":
            rnd = int(value)
        elif types.get(key) in ("int",):
            kw[key] = int(value)
        elif types.get(key) in ("float",):
            kw[key] = float(value)
        else:
            kw[key] = value
    return bdm.Params(**kw), rnd


def main(argv: list[str]) -> None:
    params, rnd = parse(argv)
    batch = read_bdm_table(cases_directory() / "bdm1994_ec_emissions.csv")
    names = [a[:4] for a in batch.actors]
    out = bdm.solve(batch, dataclasses.replace(params, rounds=max(rnd, params.rounds)))
    x = out.trajectory[0, rnd - 1, :, 0][None]
    cap = batch.capability[0]
    sal = batch.salience[0, :, 0]
    w = cap * sal if params.vote_weight == "capability_salience" else cap
    act = np.ones_like(x, bool)
    x0 = out.trajectory[0, 0, :, 0][None]
    span = bdm.position_range(x0 if params.delta == "initial" else x, act)
    res = bdm.play_round(x, w[None], sal[None], act, params, span)
    n = len(names)
    pair = ~np.eye(n, dtype=bool)[None]
    p1 = bdm.win_probability(x, w[None], act, params.voters == "third_parties",
                             params.p_denominator == "pooled")
    e1 = bdm.expected_utilities(x, sal[None], p1, res.mu, span, None, pair, params)
    p, r = res.p, res.r[0]  # as the round used them (risk-adjusted votes, if asked)
    np.set_printoptions(precision=3, suppress=True, linewidth=160)
    print(f"round {rnd}; params: {params}")
    print("positions (years):", dict(zip(names, np.round(years(x[0]), 3).tolist(), strict=True)))
    print(f"median voter before the moves: {years(res.mu[0]):.3f} years")
    print("R_i (first pass, r = 1):", np.round(e1.sum(axis=1 if params.risk_sum == 'target' else 2)[0], 3))
    print("risk exponents r_i:     ", np.round(r, 3))
    head = "       " + " ".join(f"{m:>6s}" for m in names)
    print("\nP_ij (row i beats column j)\n" + head)
    for i in range(n):
        print(f"{names[i]:>6s} " + " ".join(f"{v:6.3f}" for v in p[0, i]))
    print("\nEU_i(i -> j) with risk (row i challenges column j)\n" + head)
    for i in range(n):
        print(f"{names[i]:>6s} " + " ".join(f"{v:6.3f}" for v in res.eu[0, i]))
    print("\noffers received (challenger, kind, E_i, E_j, offer in years); * = accepted")
    for j in range(n):
        got = []
        for i in range(n):
            k = res.kind[0, i, j]
            if k:
                star = "*" if res.chosen[0, j] == i else ""
                ej = res.eu_target[0, i, j]
                got.append(f"{star}{names[i]} {bdm.KINDS[k][:4]} {res.eu[0, i, j]:.3f}/{ej:.3f} "
                           f"-> {years(res.offer[0, i, j]):.3f}")
        print(f"{names[j]:>6s} at {years(x[0, j]):.3f}: " + ("; ".join(got) or "none"))
    after = years(res.new_x[0])
    mu_after = bdm.median_voter(res.new_x, w[None], act)[0]
    print("\npositions after the round:", np.round(after, 3))
    print(f"median voter after the round: {years(mu_after):.3f} years")
    print("median voter by state (0 = initial):", np.round(years(out.info["median"][0, :, 0]), 2))


if __name__ == "__main__":
    main(sys.argv[1:])
