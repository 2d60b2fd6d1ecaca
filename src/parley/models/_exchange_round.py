"""One round of the exchange model: Decide's greedy loop, batched over draws.

Decide carries out the most profitable exchange, recalculates every remaining exchange it
touched (one that moves the same actor on the same issue starts from where that actor now
stands, so an actor can concede on an issue again; one whose demander just received a
concession on that issue caps its own shift at the demander's position counting that
concession), and repeats until none is left. Recalculation only ever lowers a gain, so an
exchange that ranks first among every live exchange it shares an (actor, issue, role) with is
carried out at exactly the value and moment Decide's sequential loop would give it. Each sweep
here carries out all such exchanges at once (in all draws), re-values what they touched and
repeats: the same exchanges as the one-at-a-time loop, in a few dozen vectorised sweeps instead
of one Python step per exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.models._exchange_candidates import Cells, Pairs, State, build_cells, evaluate, randomise

_SEQUENTIAL = False
"""True: each sweep carries out only each draw's best exchange (Decide's loop literally; tests)."""
GAIN_DECIMALS = 9
"""Gains equal to this many decimals tie (so exact ties survive floating-point noise)."""


@dataclass
class Executed:
    """The exchanges one round carried out in one draw (for the log), in Decide's order."""

    key: list[int] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def run_round(pairs: Pairs, x: np.ndarray, s: np.ndarray, w: np.ndarray, total: np.ndarray,
              outcome: np.ndarray, *, tie_u: np.ndarray | None, rex: tuple | None,
              cap_mode: str, budget: bool, min_gain: float = 0.0, log_draw: int = -1
              ) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Voting positions y[D, N, K] after one round, exchanges made per draw, and the log of
    draw `log_draw` (dicts with the cell's actors, issues, moves and gains, in order)."""
    d_n, n, k = x.shape
    cells = build_cells(pairs, x, s, w, outcome)
    if tie_u is not None:  # a seeded random order among equal gains, unique across cells
        order = np.lexsort((tie_u[cells.d, cells.c], cells.d))
        cells.rank = np.empty_like(order)
        cells.rank[order] = np.arange(order.size)
    span = int(cells.rank.max()) + 1 if cells.size else 1
    st = State(x0=x.reshape(-1), pos=x.reshape(-1).copy(), w=w.reshape(-1),
               total=total.reshape(-1), outcome=outcome.reshape(-1),
               recv=np.full(d_n * n * k * n, np.nan), shift=np.zeros(d_n * n * k), n=n, k=k)
    hist_I = np.zeros(cells.size)
    hist_J = np.zeros(cells.size)
    u = None if rex is None else tuple(a[cells.d, cells.c] for a in rex[1:])
    made = np.zeros(d_n, int)
    dnk = d_n * n * k
    log = Executed()
    val = _values(cells, st, s, hist_I, hist_J, cap_mode, budget, rex, u)
    while cells.size:
        keep = val.valid & (val.gain > min_gain)
        if not keep.all():
            cells, hist_I, hist_J = cells.take(keep), hist_I[keep], hist_J[keep]
            val = _take(val, keep)
            u = None if u is None else tuple(a[keep] for a in u)
        if not cells.size:
            break
        key = _key(val.gain, cells.rank, span)
        win = _first_within_two(cells, key, dnk)
        if _SEQUENTIAL:
            best = np.full(d_n, -1, dtype=np.int64)
            np.maximum.at(best, cells.d, key)
            win &= key == best[cells.d]
        wi = np.flatnonzero(win)
        c = cells
        y_I = np.clip(st.pos[c.Iq[wi]] + val.move_I[wi], 0.0, 100.0)  # (float noise at the ends)
        y_J = np.clip(st.pos[c.Jp[wi]] + val.move_J[wi], 0.0, 100.0)
        undo = _apply(st, c, wi, y_I, y_J)
        several = np.bincount(c.d[wi], minlength=d_n) > 1
        if several.any():
            # Recalculation can also raise a gain (an outcome carried past a demander lifts
            # its cap): if one did, a sweep's later winners could come after it in Decide's
            # loop, so such draws carry out only their best exchange this sweep.
            near = np.flatnonzero(_touched_by(c, wi, win, dnk) & several[c.d])
            v2 = _values(c.take(near), st, s, hist_I[near], hist_J[near], cap_mode, budget, rex,
                         None if u is None else tuple(a[near] for a in u))
            rose = v2.valid & (_key(v2.gain, c.rank[near], span) > key[near])
            if rose.any():
                bad = np.zeros(d_n, bool)
                bad[c.d[near[rose]]] = True
                best = np.full(d_n, -1, dtype=np.int64)
                np.maximum.at(best, c.d[wi], key[wi])
                reject = bad[c.d[wi]] & (key[wi] != best[c.d[wi]])
                _undo(st, undo, reject)
                win[wi[reject]] = False
                wi, y_I, y_J = wi[~reject], y_I[~reject], y_J[~reject]
                undo = (undo[0][~reject], undo[1][~reject], *undo[2:])
        if log_draw >= 0:
            for at in np.flatnonzero(c.d[wi] == log_draw):
                m = int(wi[at])
                log.key.append(int(key[m]))
                log.rows.append(_row(c, int(m), float(undo[0][at]), float(y_I[at]),
                                     float(undo[1][at]), float(y_J[at]), float(val.dp[m]),
                                     float(val.dq[m]), s))
        made += np.bincount(c.d[wi], minlength=d_n)
        touched = np.zeros(dnk, bool)
        touched[c.Iq[wi]] = True
        touched[c.Jp[wi]] = True
        # a supplier that just moved keeps this cell's move in its history (Decide's budget)
        hist_I = hist_I + np.where(touched[c.Iq], val.move_I, 0.0)
        hist_J = hist_J + np.where(touched[c.Jp], val.move_J, 0.0)
        # only the exchanges the winners touched change value: re-value those
        dirty = np.flatnonzero(_touched_by(c, wi, win, dnk))
        if dirty.size:
            fresh = _values(c.take(dirty), st, s, hist_I[dirty], hist_J[dirty], cap_mode, budget,
                            rex, None if u is None else tuple(a[dirty] for a in u))
            for f in val.__dataclass_fields__:
                getattr(val, f)[dirty] = getattr(fresh, f)
        rest = ~win
        cells, hist_I, hist_J = cells.take(rest), hist_I[rest], hist_J[rest]
        val = _take(val, rest)
        u = None if u is None else tuple(a[rest] for a in u)
    order = np.argsort(-np.asarray(log.key, dtype=np.int64), kind="stable")
    return st.pos.reshape(d_n, n, k), made, [log.rows[i] for i in order]


@dataclass
class Values:
    """Each cell's current value: validity, outcome shifts, gain (REX applied) and the
    suppliers' signed moves."""

    valid: np.ndarray
    dp: np.ndarray
    dq: np.ndarray
    gain: np.ndarray
    move_I: np.ndarray
    move_J: np.ndarray


def _values(cells: Cells, st: State, s: np.ndarray, hist_I: np.ndarray, hist_J: np.ndarray,
            cap_mode: str, budget: bool, rex: tuple | None, u: tuple | None) -> Values:
    v = evaluate(cells, st, s, hist_I, hist_J, cap_mode, budget)
    if rex is None:
        return Values(v.valid, v.dp, v.dq, v.gain, v.move_I, v.move_J)
    dp, dq, gain = _rex(cells, s, v, rex[0], u)
    move_I = cells.sign_I * dq * st.total[cells.dq_] / st.w[cells.Iq]
    move_J = cells.sign_J * dp * st.total[cells.dp_] / st.w[cells.Jp]
    return Values(v.valid, dp, dq, gain, move_I, move_J)


def _touched_by(c: Cells, wi: np.ndarray, win: np.ndarray, dnk: int) -> np.ndarray:
    """Live cells (not among the winners `wi`) that the winners' exchanges re-value: the same
    supplier on the same issue, or the same demander on the same issue."""
    sup = np.zeros(dnk, bool)
    sup[c.Iq[wi]] = True
    sup[c.Jp[wi]] = True
    dem = np.zeros(dnk, bool)
    dem[c.Jq[wi]] = True
    dem[c.Ip[wi]] = True
    return ~win & (sup[c.Iq] | sup[c.Jp] | dem[c.Jq] | dem[c.Ip])


def _key(gain: np.ndarray, rank: np.ndarray, span: int) -> np.ndarray:
    """One int64 per cell ordering by gain (to GAIN_DECIMALS), then by rank (lower first)."""
    return np.rint(gain * 10.0**GAIN_DECIMALS).astype(np.int64) * span + (span - 1 - rank)


def _apply(st: State, c: Cells, wi: np.ndarray, y_I: np.ndarray, y_J: np.ndarray) -> tuple:
    """Carry out the winners `wi` (they move distinct suppliers and feed distinct demanders);
    returns what `_undo` needs to take any of them back."""
    old = (st.pos[c.Iq[wi]].copy(), st.pos[c.Jp[wi]].copy())
    rec = (_record(st, c.d[wi], c.J[wi], c.q[wi], c.I[wi], y_I, c.Iq[wi]),
           _record(st, c.d[wi], c.I[wi], c.p[wi], c.J[wi], y_J, c.Jp[wi]))
    st.pos[c.Iq[wi]] = y_I
    st.pos[c.Jp[wi]] = y_J
    return old[0], old[1], rec, c.Iq[wi], c.Jp[wi]


def _undo(st: State, undo: tuple, mask: np.ndarray) -> None:
    old_I, old_J, rec, at_I, at_J = undo
    st.pos[at_I[mask]] = old_I[mask]
    st.pos[at_J[mask]] = old_J[mask]
    for idx, slot, first, before in rec:
        back = first & mask
        st.recv[idx[back]] = np.nan
        st.shift[slot[back]] = before[back]


def _first_within_two(cells: Cells, key: np.ndarray, dnk: int) -> np.ndarray:
    """The cells that rank first among every live cell within two steps of them.

    Two cells are neighbours when one's exchange would re-value the other: they move the same
    supplier on the same issue, or feed the same demander on the same issue. A cell first among
    its neighbours is carried out at the value Decide's one-at-a-time loop gives it; being first
    within two steps also keeps the order in which the cells around it are re-valued, which
    matters because a re-valued exchange may die on the way or keep the move of that moment in
    its move budget.
    """
    slots = (cells.Iq, cells.Jp, dnk + cells.Jq, dnk + cells.Ip)
    top = np.full(2 * dnk, -1, dtype=np.int64)
    for sl in slots:
        np.maximum.at(top, sl, key)
    near = top[slots[0]]
    for sl in slots[1:]:
        near = np.maximum(near, top[sl])
    top2 = np.full(2 * dnk, -1, dtype=np.int64)
    for sl in slots:
        np.maximum.at(top2, sl, near)
    win = np.ones(cells.size, bool)
    for sl in slots:
        win &= top2[sl] == key
    return win


def _record(st: State, d: np.ndarray, dem: np.ndarray, k: np.ndarray, sup: np.ndarray,
            y: np.ndarray, at: np.ndarray) -> tuple:
    """Demander `dem` received a concession on k from `sup`: keep the supplier's first position
    after conceding to it this round (Decide's `updates`) and what it did to the outcome."""
    slot = (d * st.n + dem) * st.k + k
    idx = slot * st.n + sup
    first = np.isnan(st.recv[idx])
    before = st.shift[slot].copy()
    st.recv[idx[first]] = y[first]
    st.shift[slot[first]] += st.w[at[first]] * (y[first] - st.x0[at[first]])
    return idx, slot, first, before


def _take(v: Any, keep: np.ndarray) -> Any:
    return type(v)(**{f: getattr(v, f)[keep] for f in v.__dataclass_fields__})


def _rex(cells: Cells, s: np.ndarray, v: Any, prob: float, u: tuple) -> tuple:
    """REX: one side's gain redrawn, its partner's shift recomputed (see `randomise`) and kept
    within the equal-gain shift; exchanges are then ranked by the larger of the two gains."""
    sf = s.reshape(-1)
    s_ap, s_aq, s_bp, s_bq = sf[cells.Ip], sf[cells.Iq], sf[cells.Jp], sf[cells.Jq]
    with np.errstate(divide="ignore", invalid="ignore"):
        # redrawn shifts stay within the equal-gain ones (all caps hold, neither side loses)
        dp, dq = randomise((prob, *u), v.dp, v.dq, v.dp, v.dq, s_ap, s_aq, s_bp, s_bq)
        gain = np.maximum(s_ap * dp - s_aq * dq, s_bq * dq - s_bp * dp)
    return dp, dq, np.nan_to_num(gain, nan=0.0)


def _row(c: Cells, m: int, from_I: float, y_I: float, from_J: float, y_J: float, dp: float,
         dq: float, s: np.ndarray) -> dict[str, Any]:
    sf = s.reshape(-1)
    return {
        "I": int(c.I[m]), "J": int(c.J[m]), "p": int(c.p[m]), "q": int(c.q[m]),
        "from_I": from_I, "to_I": y_I,
        "from_J": from_J, "to_J": y_J,
        "dp": float(c.sign_J[m]) * dp, "dq": float(c.sign_I[m]) * dq,  # signed outcome shifts
        "gain_I": float(sf[c.Ip[m]] * dp - sf[c.Iq[m]] * dq),
        "gain_J": float(sf[c.Jq[m]] * dq - sf[c.Jp[m]] * dp),
    }
