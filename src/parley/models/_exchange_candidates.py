"""Candidate exchanges of the Stokman–Van Oosten model, for all draws at once.

A candidate is an unordered pair of actors and an unordered pair of issues (p < q) on which the
two actors sit on opposite sides of the round's starting outcome. Roles follow the saliences:
actor `I` is relatively keener on p (s_Ip / s_Iq > s_Jp / s_Jq), so it demands on p and
supplies (moves) on q; `J` demands on q and supplies on p.

`Cells` fixes a round's candidates as flat arrays over (draw, candidate) cells; `evaluate`
values them on the round's current state (where each actor stands after the concessions made
so far in the round, and which concessions each demander has received), the way Decide
recalculates an exchange after another one touched it. Everything here is a pure function of
its arguments, so the greedy loop in `_exchange_round.py` can re-evaluate any cell at any time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_MOVE = 1e-10
"""Moves (and gains) at or below this are no exchange (Decide's threshold)."""

REACHED = 1e-9
"""An outcome this close to a demander's position is at it (float noise of an exact tie)."""
EDGE = 1e-9
"""Tolerance at the ends of the 0–100 scale."""


@dataclass(frozen=True)
class Pairs:
    """Static index arrays of every (actor pair, issue pair) combination, length C, plus the
    actor pairs (ai, aj) and issue pairs (ip, iq) they are the product of."""

    i: np.ndarray
    j: np.ndarray
    p: np.ndarray
    q: np.ndarray
    ai: np.ndarray
    aj: np.ndarray
    ip: np.ndarray
    iq: np.ndarray

    @classmethod
    def build(cls, n_actors: int, n_issues: int) -> Pairs:
        ai, aj = np.triu_indices(n_actors, k=1)
        ip, iq = np.triu_indices(n_issues, k=1)
        return cls(
            i=np.repeat(ai, ip.size),
            j=np.repeat(aj, ip.size),
            p=np.tile(ip, ai.size),
            q=np.tile(iq, ai.size),
            ai=ai,
            aj=aj,
            ip=ip,
            iq=iq,
        )

    @property
    def size(self) -> int:
        return int(self.i.size)


@dataclass
class Cells:
    """One round's candidates as flat arrays over (draw, candidate) cells.

    Flat indices `*_at` point into [D, N, K] arrays raveled (`Iq`: actor I on issue q, ...);
    `rank` orders equally profitable cells (lower first) and is unique among the cells of a
    draw; `sign_I`, `sign_J` are the directions the suppliers move in (towards the partner).
    """

    d: np.ndarray
    c: np.ndarray
    I: np.ndarray
    J: np.ndarray
    p: np.ndarray
    q: np.ndarray
    Iq: np.ndarray
    Ip: np.ndarray
    Jp: np.ndarray
    Jq: np.ndarray
    dp_: np.ndarray  # flat [D, K] index of (draw, p)
    dq_: np.ndarray  # flat [D, K] index of (draw, q)
    ratio: np.ndarray  # dq / dp under equal gain: (s_Ip + s_Jp) / (s_Iq + s_Jq)
    sign_I: np.ndarray
    sign_J: np.ndarray
    rank: np.ndarray

    def take(self, keep: np.ndarray) -> Cells:
        return Cells(**{k: v[keep] for k, v in self.__dict__.items()})

    @property
    def size(self) -> int:
        return int(self.d.size)


def build_cells(pairs: Pairs, x: np.ndarray, s: np.ndarray, w: np.ndarray,
                outcome: np.ndarray) -> Cells:
    """The round's candidates for positions x[D, N, K], saliences s, weights w (0 where not
    engaged) and starting outcomes O[D, K].

    An actor is "left" of an issue's outcome when x <= O (Decide counts a tie as left); two
    actors can trade on (p, q) when they are on opposite sides on both. `rank` is Decide's
    order of creating candidates: issue pair, then the pairs right/right-left/left before
    left/right-right/left, then the actor right of the outcome on q, then its partner.
    """
    d_n, n, k = x.shape
    left = x <= outcome[:, None, :]
    eng = w > 0
    li, lj = left[:, pairs.ai, :], left[:, pairs.aj, :]  # [D, actor pairs, K]
    both = eng[:, pairs.ai, :] & eng[:, pairs.aj, :]
    opp = (li != lj) & both
    ok = opp[:, :, pairs.ip] & opp[:, :, pairs.iq]
    dd, cc = np.nonzero(ok.reshape(d_n, -1))
    i, j, p, q = pairs.i[cc], pairs.j[cc], pairs.p[cc], pairs.q[cc]
    row = dd * (n * k)
    sf = s.reshape(-1)
    s_ip, s_iq = sf[row + i * k + p], sf[row + i * k + q]
    s_jp, s_jq = sf[row + j * k + p], sf[row + j * k + q]
    # I demands on p: the one with the larger s_p / s_q (Decide gives ties to its first actor,
    # the one right of the outcome on q; a tie means no gain either way)
    j_keener = s_ip * s_jq < s_jp * s_iq
    big_i, big_j = np.where(j_keener, j, i), np.where(j_keener, i, j)
    lf = left.reshape(-1)
    right_q_is_i = ~lf[row + i * k + q]
    first = np.where(right_q_is_i, i, j)  # Decide's "i": right of the outcome on q
    second = np.where(right_q_is_i, j, i)
    same_p = lf[row + first * k + p] == lf[row + first * k + q]  # right/right with left/left
    n_ipairs = pairs.ip.size
    ipair = cc % n_ipairs
    rank = ((ipair * 2 + np.where(same_p, 0, 1)) * n + first) * n + second
    xf = x.reshape(-1)
    Iq, Ip = row + big_i * k + q, row + big_i * k + p
    Jp, Jq = row + big_j * k + p, row + big_j * k + q
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (sf[Ip] + sf[Jp]) / (sf[Iq] + sf[Jq])
    return Cells(
        d=dd, c=cc, I=big_i, J=big_j, p=p, q=q, Iq=Iq, Ip=Ip, Jp=Jp, Jq=Jq,
        dp_=dd * k + p, dq_=dd * k + q, ratio=ratio,
        sign_I=np.sign(xf[Jq] - xf[Iq]), sign_J=np.sign(xf[Ip] - xf[Jp]), rank=rank,
    )


@dataclass
class Valued:
    """What `evaluate` finds for each cell: whether it can trade, the outcome shifts on p and
    q, the suppliers' signed moves and the common gain."""

    valid: np.ndarray
    dp: np.ndarray
    dq: np.ndarray
    move_I: np.ndarray
    move_J: np.ndarray
    gain: np.ndarray


@dataclass
class State:
    """A round's state, flat over [D, N, K] (and [D, N, K, N] for `recv`).

    `x0`: positions at the round's start; `pos`: where each actor stands after its concessions
    so far in the round; `recv[d, a, k, b]`: where supplier b stood after its first concession
    to demander a on issue k this round (NaN: none); `shift[d, a, k]`: the sum of those
    concessions' weighted moves, i.e. how far they moved the outcome of k (times W_k).
    """

    x0: np.ndarray
    pos: np.ndarray
    w: np.ndarray
    total: np.ndarray  # [D, K] flat: W_k
    outcome: np.ndarray  # [D, K] flat: O_k at the round's start
    recv: np.ndarray
    shift: np.ndarray
    n: int
    k: int


def evaluate(cells: Cells, st: State, s: np.ndarray, hist_I: np.ndarray, hist_J: np.ndarray,
             cap_mode: str, budget: bool) -> Valued:
    """Value every cell on the current state, following Decide's recalculation of an exchange.

    1. Partner caps: J moves all the way to I's position on p unless that would take I past J's
       position on q, in which case I moves all the way and J's move follows from equal gain
       (dq = ratio x dp).
    2. Validity: both moves > 1e-10, still towards the partner and ending on the scale, the
       gain > 1e-10 and, with `budget`, Decide's move budget: the moves computed for a supplier
       so far this round (`hist_*`, signed) plus this one may not sum to more than 100.
    3. Outcome caps, first on q (I supplies, J demands) then on p: the outcome as this exchange
       knows it (the round's start, plus the concessions the demander already received, plus
       the supplier where it now stands) may not be carried past the demander's position.
       `cap_mode` says what happens once that outcome is at or beyond it (see `_cap`).
    """
    sf = s.reshape(-1)
    s_Ip, s_Iq = sf[cells.Ip], sf[cells.Iq]
    w_Iq, w_Jp = st.w[cells.Iq], st.w[cells.Jp]
    t_p, t_q = st.total[cells.dp_], st.total[cells.dq_]
    pos_I, pos_J = st.pos[cells.Iq], st.pos[cells.Jp]
    dem_I, dem_J = st.x0[cells.Ip], st.x0[cells.Jq]  # demanders stay where the round began
    r = cells.ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        dist_I = (dem_J - pos_I) * cells.sign_I  # > 0 while I has not reached J
        dist_J = (dem_I - pos_J) * cells.sign_J
        dp = dist_J * w_Jp / t_p
        dq = dp * r
        m_I = dq * t_q / w_Iq
        m_J = dist_J.copy()
        over = m_I > dist_I
        dq = np.where(over, dist_I * w_Iq / t_q, dq)
        dp = np.where(over, dq / r, dp)
        m_I = np.where(over, dist_I, m_I)
        m_J = np.where(over, dp * t_p / w_Jp, m_J)
        gain0 = s_Ip * dp - s_Iq * dq
        valid = (dist_I > MIN_MOVE) & (dist_J > MIN_MOVE) & (m_I > MIN_MOVE) & (m_J > MIN_MOVE)
        valid &= gain0 > MIN_MOVE
        if budget:
            valid &= hist_I + cells.sign_I * m_I <= 100.0
            valid &= hist_J + cells.sign_J * m_J <= 100.0
        # outcome cap on q: demander J, supplier I
        capped = _cap(st, cells.d, cells.J, cells.I, cells.q, cells.dq_, dem_J, pos_I, w_Iq,
                      cells.sign_I, dq, cap_mode)
        dp = np.where(capped != dq, capped / r, dp)
        dq = capped
        capped = _cap(st, cells.d, cells.I, cells.J, cells.p, cells.dp_, dem_I, pos_J, w_Jp,
                      cells.sign_J, dp, cap_mode)
        dq = np.where(capped != dp, capped * r, dq)
        dp = capped
        m_I = dq * t_q / w_Iq
        m_J = dp * t_p / w_Jp
        valid &= (m_I > MIN_MOVE) & (m_J > MIN_MOVE)
        # Decide's check that a move stays on the scale (a cap counted from an earlier position
        # can overshoot)
        end_I, end_J = pos_I + cells.sign_I * m_I, pos_J + cells.sign_J * m_J
        valid &= (end_I >= -EDGE) & (end_I <= 100.0 + EDGE) & (end_J >= -EDGE)
        valid &= end_J <= 100.0 + EDGE
        gain = s_Ip * dp - s_Iq * dq
    return Valued(valid=valid, dp=dp, dq=dq, move_I=cells.sign_I * m_I,
                  move_J=cells.sign_J * m_J, gain=gain)


def _cap(st: State, d: np.ndarray, dem: np.ndarray, sup: np.ndarray, k: np.ndarray,
         dk: np.ndarray, x_dem: np.ndarray, pos: np.ndarray, w_sup: np.ndarray,
         sign: np.ndarray, shift: np.ndarray, cap_mode: str) -> np.ndarray:
    """The outcome shift on issue k (towards the demander) after the cap at the demander.

    The outcome the exchange knows: start + concessions received by the demander on k (with
    the supplier's own earlier concession to this demander replaced by where it stands now) +
    the supplier's own move so far. Decide applies the cap only when the exchange would carry
    that outcome across the demander's position; the capped shift is computed with the
    supplier's first concession to this demander where it made one (Decide's bookkeeping).

    `cap_mode` (from `Params.passed` and `Params.at_demander`): "passes" (Decide): an outcome
    beyond the demander's position or exactly at it (to `REACHED`) is not capped at all, since
    Decide's `check_nbs` caps only a strict crossing; "stops": exactly at it, no further shift;
    "blocked": at or beyond it, no further shift.
    """
    n, issues = st.n, st.k
    slot = (d * n + dem) * issues + k  # (draw, demander, issue)
    rec = st.recv[slot * n + sup]
    had = ~np.isnan(rec)
    t_k = st.total[dk]
    x0_sup = st.x0[(d * n + sup) * issues + k]
    own_rec = np.where(had, w_sup * (rec - x0_sup), 0.0)
    base = st.outcome[dk] * t_k + st.shift[slot] - own_rec  # outcome x W without the supplier
    known = (base + w_sup * (pos - x0_sup)) / t_k
    gap = (x_dem - known) * sign  # > 0: the known outcome has not reached the demander
    if cap_mode == "blocked":
        return np.where(gap <= REACHED, 0.0, np.minimum(shift, gap))
    at = np.where(had, rec, pos)
    needed = np.abs(x_dem * t_k - base - w_sup * (at - x0_sup)) / t_k
    capped = np.where((gap > REACHED) & (shift > gap), needed, shift)
    if cap_mode == "stops":
        return np.where(np.abs(gap) <= REACHED, 0.0, capped)
    return capped


def randomise(
    rex: tuple[float, np.ndarray, np.ndarray, np.ndarray],
    dp: np.ndarray,
    dq: np.ndarray,
    dp_max: np.ndarray,
    dq_max: np.ndarray,
    s_ap: np.ndarray,
    s_aq: np.ndarray,
    s_bp: np.ndarray,
    s_bq: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """REX: one side's gain eu is redrawn and its partner's move recomputed.

    u < 1/2 picks side a, else b; v < 1/2 raises the gain to eu + p z (eu_max - eu), else lowers
    it to eu - p z eu. eu_max is the gain that leaves the partner with nothing. The chosen side
    keeps its own move; the partner's move is recomputed (and capped as in the equal-gain case),
    so both gains stay >= 0.
    """
    prob, u, v, z = rex
    eu = s_ap * dp - s_aq * dq  # equal for both sides here
    side_a = u < 0.5
    up = v < 0.5
    # side a keeps dq (its own supply) and gets dp' from its partner b
    eu_max_a = dq * (s_ap * s_bq / s_bp - s_aq)
    eu_max_b = dp * (s_bq * s_ap / s_aq - s_bp)
    eu_max = np.where(side_a, eu_max_a, eu_max_b)
    new = np.where(up, eu + prob * z * (eu_max - eu), eu - prob * z * eu)
    dp_a = np.minimum((new + s_aq * dq) / s_ap, dp_max)
    dq_b = np.minimum((new + s_bp * dp) / s_bq, dq_max)
    return np.where(side_a, dp_a, dp), np.where(side_a, dq, dq_b)
