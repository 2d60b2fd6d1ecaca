"""Bueno de Mesquita's expected-utility ("challenge") model, after Scholz, Calbert & Smith (2011).

Each issue is bargained separately. In every round each actor weighs challenging every other
actor (expected utility of a challenge against doing nothing), the pair's two expected utilities
decide the kind of offer (conflict, compromise, capitulation), and each actor accepts one of the
offers it received. All moves of a round happen together; the forecast of a round is the median
voter position. Every interpretive choice is listed in docs/models/bdm.md.

All arrays run over *slabs*: one slab is one (draw, issue) pair, so Monte Carlo draws and issues
go through the rounds together, in cache-sized blocks. One round is computed in _bdm_round on
slab-minor [actors(, actors), slabs] arrays; the public functions here take and return
[slabs, actors(, actors)] arrays. Two readings: the printed equations (default) and
reading="scholz_code" (Scholz et al.'s code, see READINGS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from parley.core.batch import Batch
from parley.models import _bdm_round as _kernel
from parley.models._bdm_round import EPS_EU, TIE_REL  # noqa: F401  (documented constants)
from parley.models.base import Outcome

SUMMARY = "Bueno de Mesquita's expected-utility challenge model (rounds of offers)"

KINDS = ("none", "conflict", "compromise", "capitulation")
"""Offer kinds, in the integer coding of the challenge log."""


_CHOICES: dict[str, tuple[str, ...]] = {
    "reading": ("spec", "scholz_code"),
    "t_rule": ("closer", "fixed"),
    "acceptance": ("least_move", "strongest", "conflicts_first"),
    "forecast": ("median", "mean"),
    "vote_weight": ("capability_salience", "capability"),
    "eu_salience": ("target", "challenger"),
    "risk_sum": ("target", "challenger"),
    "risk_map": ("spec", "inverted"),
    "target_view": ("own", "challenger", "neutral"),
    "compromise": ("ratio", "complement", "share"),
    "conflict": ("winner", "expected"),
    "tie_break": ("challenger_eu", "index"),
    "delta": ("current", "initial"),
    "voters": ("all", "third_parties"),
    "p_denominator": ("pair", "pooled"),
    "eu_exponent": ("own", "receiver"),
    "votes": ("linear", "risk"),
    "capitulation": ("offer", "never"),
}

READINGS: dict[str, dict[str, str]] = {
    "spec": {"acceptance": "least_move", "delta": "current", "p_denominator": "pair",
             "eu_exponent": "own", "votes": "linear", "capitulation": "offer"},
    "scholz_code": {"acceptance": "conflicts_first", "delta": "initial", "p_denominator": "pooled",
                    "eu_exponent": "receiver", "votes": "risk", "capitulation": "never"},
}
"""Values of the fields a `reading` fills when they are left unset (None). "spec": the printed
equations (../shared/models/bdm.md). "scholz_code": Scholz et al.'s code as ported by jmckib
(bdm-scholz-expected-utility-model @55f63e9; 7 of the 8 medians of their Table 2); on the EC case it
gives jmckib's positions in every round (docs/models/bdm.md, "Matches")."""


@dataclass(frozen=True)
class Params:
    """Parameters of the challenge model; defaults follow Scholz et al. (2011) as specified in
    ../shared/models/bdm.md. Every reading the equations leave open is a field here, so a
    replication attempt can be stated as a parameter set (docs/models/bdm.md, EC case).

    - `rounds`: most rounds of challenges (default 10, as in Scholz et al.).
    - `q`: probability that the status quo persists when i does not challenge j (Scholz: 1.0;
      BDM's text: 0.5). With q = 1 the T rule has no effect.
    - `t_rule`: probability T that, without a challenge, the outcome moves in i's favour:
      "closer" sets T = 1 when i is closer to the median voter than j is (else 0); "fixed"
      uses `t`.
    - `reading`: which set of readings fills the fields below left unset (None): "spec" (the
      printed equations, default) or "scholz_code" (Scholz et al.'s code, which reproduces their
      Table 2); see READINGS. Fields set explicitly win over the reading.
    - `acceptance`: which received offer an actor takes: "least_move" (the one that moves it
      least, Scholz et al.'s text), "strongest" (the one from the challenger with the highest
      expected utility of challenging it) or "conflicts_first" (Scholz's code: the nearest
      conflict offer if there is one, else the compromise with the lowest
      (|E_j| x_j + |E_i| x_i) / (|E_i| + |E_j|)).
    - `p_denominator`: P_ij's denominator: "pair" sum_k |v_k(i, j)| (eq. 31 as printed) or
      "pooled" sum_k sum_a sum_b |v_k(a, b)| over all pairs (Scholz's code; P is then small).
    - `eu_exponent`: risk exponent in the offer rules: "own" (EU_i(i -> j) with r_i; E_j as
      `target_view` says) or "receiver" (Scholz's code: both EU_i(i -> j) and EU_j(j -> i) with
      the receiving actor j's r_j; needs target_view="own").
    - `votes`: votes in P_ij after the risk pass: "linear" w_k (d_kj - d_ki) or "risk"
      w_k (d_kj^r_k - d_ki^r_k) with k's risk exponent (Scholz's code; the first pass, with r = 1,
      is linear either way).
    - `capitulation`: "offer" (the specification's capitulation offers x_i) or "never" (Scholz's
      code, where a typo in the test, `eu_ji < abs(eu_ji)`, keeps it from ever firing).
    - `forecast`: "median" (median voter position of the final positions) or "mean"
      (capability x salience weighted mean of the final positions).
    - `vote_weight`: weight of actor k's vote (in P_ij and the median voter):
      "capability_salience" c_k s_k (specification) or "capability" c_k.
    - `eu_salience`: whose salience weighs the contested branch of EU_i(i -> j): "target"
      s_j (specification: j may not care to resist) or "challenger" s_i.
    - `risk_sum`: R_i sums "target": EU_j(j -> i) over j (i's vulnerability, specification)
      or "challenger": EU_i(i -> j) over j.
    - `risk_map`: "spec" r_i = (1 - R^_i/3)/(1 + R^_i/3) (the most vulnerable actor gets
      r = 1/2) or "inverted" (its reciprocal: the most vulnerable gets r = 2).
    - `target_view`: how i reckons E_j = EU_j(j -> i) in the offer rules: "own" with j's own
      r_j (complete information, specification), "challenger" with i's r_i (i projects its
      own risk attitude), "neutral" with r = 1.
    - `compromise`: fraction of the way j is offered towards x_i in a compromise: "ratio"
      |E_j/E_i| (specification), "complement" 1 - |E_j/E_i|, "share" |E_j|/(E_i + |E_j|).
    - `conflict`: offer in a conflict i expects to win: "winner" x_i (specification) or
      "expected" the expected outcome x_j + P_ij (x_i - x_j) of the contest.
    - `tie_break`: among offers that move an actor equally little, "challenger_eu" takes the
      one from the challenger with the highest EU_i(i -> j), then the lowest position (so actor
      order never matters); "index" the lowest challenger index (the earlier behaviour).
    - `voters`: who votes in P_ij: "all" engaged actors, i and j included (specification:
      sum over k), or "third_parties" (everyone but i and j). The median voter always counts all.
    - `delta`: the range Delta that scales distances in the utilities: "current" (range of the
      positions in each round, so utilities rescale as actors converge) or "initial" (range of
      the initial positions, the issue's scale, kept through the rounds).
    - `tolerance`: moves smaller than this (0–100 scale) count as standing still, for the
      convergence and cycle tests.
    - `chunk_elements`: slabs go through the rounds in blocks of at most this many
      [actors x actors x slabs] elements (about 650 slabs of 7 actors: small enough to stay in
      the processor's cache, large enough for numpy's per-call overhead not to matter).
    - `explain`: record the per-round challenge log (who challenged whom, offer kind, offer,
      accepted); recorded automatically for a single draw.
    """

    rounds: int = 10
    reading: Literal["spec", "scholz_code"] = "spec"
    q: float = 1.0
    t_rule: Literal["closer", "fixed"] = "closer"
    t: float = 1.0
    acceptance: Literal["least_move", "strongest", "conflicts_first"] | None = None
    forecast: Literal["median", "mean"] = "median"
    vote_weight: Literal["capability_salience", "capability"] = "capability_salience"
    eu_salience: Literal["target", "challenger"] = "target"
    risk_sum: Literal["target", "challenger"] = "target"
    risk_map: Literal["spec", "inverted"] = "spec"
    target_view: Literal["own", "challenger", "neutral"] = "own"
    compromise: Literal["ratio", "complement", "share"] = "ratio"
    conflict: Literal["winner", "expected"] = "winner"
    tie_break: Literal["challenger_eu", "index"] = "challenger_eu"
    delta: Literal["current", "initial"] | None = None
    voters: Literal["all", "third_parties"] = "all"
    p_denominator: Literal["pair", "pooled"] | None = None
    eu_exponent: Literal["own", "receiver"] | None = None
    votes: Literal["linear", "risk"] | None = None
    capitulation: Literal["offer", "never"] | None = None
    tolerance: float = 1e-6
    chunk_elements: int = 32_768
    explain: bool = False

    def __post_init__(self) -> None:
        if self.reading in READINGS:
            for name, value in READINGS[self.reading].items():
                if getattr(self, name) is None:
                    object.__setattr__(self, name, value)
        if self.rounds < 1:
            raise ValueError(f"rounds must be >= 1, got {self.rounds}")
        if not 0.0 <= self.q <= 1.0:
            raise ValueError(f"q must lie in [0, 1], got {self.q}")
        if not 0.0 <= self.t <= 1.0:
            raise ValueError(f"t must lie in [0, 1], got {self.t}")
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
        if self.eu_exponent == "receiver" and self.target_view != "own":
            raise ValueError("eu_exponent='receiver' fixes how E_j is valued (with the receiver's r_j): "
                             "leave target_view at 'own'")


# --- one round, [slabs, actors(, actors)] view of the kernel in _bdm_round -----------------
def _t(a: np.ndarray) -> np.ndarray:
    """[B, ...] -> slab-minor [..., B] (contiguous)."""
    return np.ascontiguousarray(np.moveaxis(a, 0, -1))


def _b(a: np.ndarray) -> np.ndarray:
    """Slab-minor [..., B] -> [B, ...]."""
    return np.moveaxis(a, -1, 0)


def median_voter(x: np.ndarray, w: np.ndarray, act: np.ndarray) -> np.ndarray:
    """Weighted Condorcet winner among active actors' positions, per slab: [B].

    In one dimension the position beating every other in the pairwise vote
    sum_k w_k (|x_k - x_j| - |x_k - x_i|) is the one minimising sum_k w_k |x_k - x_i|
    (the weighted median). When several distinct positions tie, the midpoint of the lowest and
    highest of them is returned, so actor order cannot matter.
    """
    xt, at = _t(x), _t(act)
    wa = np.where(at, _t(w), 0.0)
    return _kernel.median_voter(xt, wa, at, _kernel.vote_cost(_kernel.pair_distances(xt), wa))


def weighted_mean(x: np.ndarray, w: np.ndarray, act: np.ndarray) -> np.ndarray:
    """Capability x salience weighted mean of active positions (equal weights if all are 0)."""
    return _kernel.weighted_mean(_t(x), _t(w), _t(act))


def win_probability(x: np.ndarray, w: np.ndarray, act: np.ndarray, third_parties: bool = False,
                    pooled: bool = False, dist: np.ndarray | None = None) -> np.ndarray:
    """P[b, i, j]: share of the (capability x salience) vote for i in a contest with j.

    Votes v_k(i, j) = w_k (|x_k - x_j| - |x_k - x_i|); P = sum of positive votes / sum of
    absolute votes, 1/2 when nobody cares (the range Delta cancels out of the ratio).
    With `third_parties`, i and j do not vote. With `pooled` the denominator is the sum of
    |v_k(a, b)| over every voter and every pair (Scholz's code). `dist[b, a, k]` replaces
    |x_a - x_k| as voter k's distance to position a (risk-adjusted votes use
    (|x_a - x_k| / Delta)^r_k).
    """
    wa = np.where(_t(act), _t(w), 0.0)
    symmetric = dist is None
    d = _kernel.pair_distances(_t(x)) if dist is None else _t(dist)
    return _b(_kernel.win_probability(d, wa, third_parties, pooled, symmetric))


def expected_utilities(x: np.ndarray, s: np.ndarray, p: np.ndarray, mu: np.ndarray, span: np.ndarray,
                       rr: np.ndarray | None, pair: np.ndarray, params: Params) -> np.ndarray:
    """E[b, i, j] = EU_i(i -> j) (0 on invalid pairs), with risk exponents rr broadcastable to
    [B, i, j] (r[:, :, None]: each challenger's own; r[:, None, :]: the target's); None: r = 1."""
    xt = _t(x)
    tm = _kernel.terms(xt, _t(s), _t(p), mu, span, ~_t(pair), _kernel.pair_distances(xt), params)
    rr_t = None if rr is None else _t(np.broadcast_to(rr, p.shape))
    return _b(_kernel.expected_utilities(tm, rr_t, params))


def risk_exponents(e1: np.ndarray, act: np.ndarray, params: Params) -> np.ndarray:
    """r[b, i] in [0.5, 2] from how attractive a target i is (R_i = sum_j EU_j(j -> i)), or
    from i's own prospects (risk_sum="challenger": R_i = sum_j EU_i(i -> j))."""
    return _b(_kernel.risk_exponents(_t(e1), _t(act), params))


def position_range(x: np.ndarray, act: np.ndarray) -> np.ndarray:
    """Delta per slab: range of the engaged actors' positions (1 where it is 0 or empty)."""
    return _kernel.position_range(_t(x), _t(act))


@dataclass(frozen=True)
class RoundResult:
    """One round for a block of slabs: the median before the moves, the moves, the offers."""

    mu: np.ndarray  # [B]
    new_x: np.ndarray  # [B, N]
    kind: np.ndarray  # [B, i, j] int8 offer kind i -> j (index into KINDS)
    offer: np.ndarray  # [B, i, j] position offered to j by i (NaN: none)
    eu: np.ndarray  # [B, i, j] E_i = EU_i(i -> j) as the offer rules value it
    eu_target: np.ndarray  # [B, i, j] E_j = EU_j(j -> i) as the offer rules value it
    chosen: np.ndarray  # [B, j] index of the challenger whose offer j accepted (-1: none)
    p: np.ndarray  # [B, i, j] P_ij as the expected utilities used it
    r: np.ndarray  # [B, i] risk exponents of the round


def _result(rd: _kernel.Round) -> RoundResult:
    """The kernel's slab-minor round as [slabs, ...] arrays (with the taken offers)."""
    taken = rd.taken
    chosen = np.where(taken.any(axis=0), taken.argmax(axis=0), -1)  # [j, B]
    return RoundResult(rd.mu, _b(rd.new_x), _b(rd.kind), _b(np.where(rd.kind > 0, rd.offer, np.nan)),
                       _b(rd.eu), _b(rd.eu_target), _b(chosen), _b(rd.p), _b(rd.r))


def play_round(x: np.ndarray, w: np.ndarray, s: np.ndarray, act: np.ndarray, params: Params,
               span: np.ndarray | None = None) -> RoundResult:
    """Challenges, offers and moves of one round for slabs x[B, N]; `span` is Delta per slab
    (default: the current range, see Params.delta)."""
    return _result(_kernel.play(_t(x), _t(w), _t(s), _t(act), params, span, explain=True))


# --- the rounds ----------------------------------------------------------------------------
@dataclass
class _Run:
    """Per-slab histories of a block of slabs through the rounds (slab-minor arrays)."""

    positions: list[np.ndarray]  # T + 1 arrays [N, B]
    medians: list[np.ndarray]  # [B] per state
    means: list[np.ndarray]
    stop: np.ndarray  # [B] round at which the slab converged / closed a cycle (-1: not yet)
    cycle: np.ndarray  # [B] cycle length (0: none; 1 means converged)
    log: list[dict[str, np.ndarray]]


def _run_block(x0: np.ndarray, w: np.ndarray, cs: np.ndarray, s: np.ndarray, act: np.ndarray,
               params: Params, explain: bool, slab0: int) -> _Run:
    """Rounds for a block of slabs, all arrays slab-minor [N, B]: w weighs votes and the median
    voter, cs (capability x salience) the reported mean."""
    x = x0
    b = x.shape[1]
    run = _Run([x], [], [], np.full(b, -1), np.zeros(b, int), [])
    hist = np.empty((params.rounds + 1, *x.shape))
    hist[0] = x
    tol = params.tolerance
    span0 = _kernel.position_range(x0, act)
    for t in range(params.rounds):
        rd = _kernel.play(x, w, s, act, params, span0 if params.delta == "initial" else None, explain)
        run.medians.append(rd.mu)
        run.means.append(_kernel.weighted_mean(x, cs, act))
        if explain:
            run.log.append(_offer_columns(t + 1, _result(rd), _b(x), slab0))
        new = rd.new_x
        # Compare the new state with every earlier state: equal to the last = converged
        # (cycle length 1); equal to an earlier one = a cycle (the most recent match counts).
        same = (np.abs(hist[:t + 1] - new[None]).max(axis=1) <= tol)  # [state, B]
        hit = (run.stop < 0) & same.any(axis=0)
        latest = t - np.argmax(same[::-1], axis=0)  # most recent matching state
        run.stop[hit] = t + 1
        run.cycle[hit] = (t + 1 - latest)[hit]
        x = new
        hist[t + 1] = x
        run.positions.append(x)
        if (run.cycle == 1).all():
            break
    wa = np.where(act, w, 0.0)
    run.medians.append(_kernel.median_voter(x, wa, act, _kernel.vote_cost(_kernel.pair_distances(x), wa)))
    run.means.append(_kernel.weighted_mean(x, cs, act))
    return run


def _offer_columns(rnd: int, res: RoundResult, x: np.ndarray, slab0: int) -> dict[str, np.ndarray]:
    """Every offer made in a round, as columns (slab = draw * issues + issue)."""
    bb, i, j = np.nonzero(res.kind)
    return {
        "round": np.full(bb.shape, rnd),
        "slab": bb + slab0,
        "challenger": i,
        "target": j,
        "kind": res.kind[bb, i, j],
        "eu_challenger": res.eu[bb, i, j],
        "eu_target": res.eu_target[bb, i, j],
        "from": x[bb, j],
        "offer": res.offer[bb, i, j],
        "accepted": res.chosen[bb, j] == i,
    }


def challenge_log(outcome: Outcome, draw: int = 0) -> list[dict[str, Any]]:
    """Plain records of the offers of one draw (for `--explain` and JSON): round, issue,
    challenger, target, kind, both expected utilities, position before, offer, accepted.

    Needs a solve with `explain=True` (automatic for a single draw)."""
    table = outcome.info.get("challenge_table")
    if table is None:
        raise ValueError("no challenge log recorded: solve with Params(explain=True)")
    actors, issues = outcome.info["actors"], outcome.info["issues"]
    k = len(issues)
    keep = table["slab"] // k == draw
    cols = {name: col[keep].tolist() for name, col in table.items()}
    return [
        {
            "round": r, "issue": issues[sl % k], "challenger": actors[i], "target": actors[j],
            "kind": KINDS[kd], "eu_challenger": ei, "eu_target": ej, "from": fr, "offer": of,
            "accepted": ac,
        }
        for r, sl, i, j, kd, ei, ej, fr, of, ac in zip(
            cols["round"], cols["slab"], cols["challenger"], cols["target"], cols["kind"],
            cols["eu_challenger"], cols["eu_target"], cols["from"], cols["offer"], cols["accepted"],
            strict=True,
        )
    ]


def solve(batch: Batch, params: Params | None = None) -> Outcome:
    """Run the challenge rounds for every draw and issue; forecast = median voter (default)."""
    params = params or Params()
    d, n, k = batch.position.shape
    # slabs: (draw, issue) pairs, slab = draw * k + issue, as slab-minor [N, B] arrays
    x = batch.position.transpose(1, 0, 2).reshape(n, d * k)
    s = batch.salience.transpose(1, 0, 2).reshape(n, d * k)
    cap = np.broadcast_to(batch.capability.T[:, :, None], (n, d, k)).reshape(n, d * k)
    cs = cap * s
    w = cs if params.vote_weight == "capability_salience" else cap
    act = np.broadcast_to(batch.engaged[:, None, :], (n, d, k)).reshape(n, d * k)
    explain = params.explain or d == 1
    per_slab = max(1, n * n)
    step = max(1, params.chunk_elements // per_slab)
    runs = [
        _run_block(*(np.ascontiguousarray(a[:, lo:lo + step]) for a in (x, w, cs, s, act)),
                   params, explain, lo)
        for lo in range(0, d * k, step)
    ]
    t_max = max(len(r.positions) for r in runs)
    traj = np.concatenate([_pad(np.stack(r.positions), t_max) for r in runs], axis=-1)  # [T, N, B]
    med = np.concatenate([_pad(np.stack(r.medians), t_max) for r in runs], axis=-1)  # [T, B]
    mean = np.concatenate([_pad(np.stack(r.means), t_max) for r in runs], axis=-1)
    stop = np.concatenate([r.stop for r in runs])
    cycle = np.concatenate([r.cycle for r in runs])
    series = (med if params.forecast == "median" else mean).T  # [B, T]
    forecast = _forecast(series, stop, cycle)
    trajectory = traj.reshape(t_max, n, d, k).transpose(2, 0, 1, 3)
    stop_dk = stop.reshape(d, k)
    cyc_dk = cycle.reshape(d, k)
    converged = ((cyc_dk == 1) | ~batch.engaged.any(axis=0)[None]).all(axis=1)
    oscillated = (cyc_dk > 1).any(axis=1)
    info: dict[str, Any] = {
        "rounds": np.where(stop_dk >= 0, stop_dk, t_max - 1).max(axis=1),
        "converged": converged,
        "oscillated": oscillated,
        "cap": ~converged & ~oscillated,
        "cycle_length": np.where(cyc_dk > 1, cyc_dk, 0),
        "median": med.reshape(t_max, d, k).transpose(1, 0, 2),
        "mean": mean.reshape(t_max, d, k).transpose(1, 0, 2),
        "forecast": params.forecast,
    }
    if explain:
        parts = [cols for r in runs for cols in r.log]
        info["challenge_table"] = {
            name: np.concatenate([p[name] for p in parts]) if parts else np.zeros(0)
            for name in ("round", "slab", "challenger", "target", "kind", "eu_challenger",
                         "eu_target", "from", "offer", "accepted")
        }
        info["actors"] = batch.actors
        info["issues"] = batch.issues
    return Outcome(outcome=forecast.reshape(d, k), agreement=np.ones(d, bool),
                   trajectory=trajectory, info=info)


def _pad(a: np.ndarray, t: int) -> np.ndarray:
    """Repeat the last state along axis 0 up to length t (blocks that stopped early)."""
    if a.shape[0] == t:
        return a
    return np.concatenate([a, np.repeat(a[-1:], t - a.shape[0], axis=0)])


def _forecast(series: np.ndarray, stop: np.ndarray, cycle: np.ndarray) -> np.ndarray:
    """Final value per slab; for a cycle, the average over the states of the cycle.

    series[B, T] holds the value of each state (state 0 = initial positions). A slab that
    closed a cycle of length L at round t repeats states t-L .. t-1.
    """
    b, t = series.shape
    end = np.where(stop >= 0, stop, t - 1)
    out = series[np.arange(b), end]
    length = np.maximum(cycle, 1)
    csum = np.concatenate([np.zeros((b, 1)), np.cumsum(series, axis=1)], axis=1)
    cyc_mean = (csum[np.arange(b), end] - csum[np.arange(b), np.maximum(end - length, 0)]) / length
    return np.where(cycle > 1, cyc_mean, out)
