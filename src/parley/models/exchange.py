"""Stokman–Van Oosten exchange model (issue linkage), equal-gain variant, with the REX option.

Actors trade support across issues: each concedes on the issue it cares less about in return
for a concession on the issue it cares more about. The outcome of an issue is the weighted mean
of positions (capability x salience); an exchange moves both partners' positions, and hence the
outcomes, so that both gain equally. Each round carries out the most profitable exchanges
greedily; between rounds actors move part of the way to the positions they voted for.

Python loops run over rounds, over the greedy sweeps within a round and over memory-sized
slices of draws; inside them all draws advance together as arrays. Ties between equally
profitable exchanges go to the lowest (actor pair, issue pair) index, so
the same input always gives the same result (Decide, the reference implementation, flips an
unseeded coin instead). See docs/models/exchange.md for every interpretive choice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np

from parley.batch import Batch
from parley.models._exchange_candidates import Candidates, Pairs, compute
from parley.models.base import Outcome

SUMMARY = "Stokman–Van Oosten exchange model: equal-gain trades of support across issues"

Update = Literal["salience", "full"]


@dataclass(frozen=True)
class Params:
    """Parameters of the exchange model.

    `rounds`: maximum number of rounds (Decide runs exactly 10); a draw stops earlier when a
    round finds no exchange, since nothing can change after that.
    `update`: how positions move after a round towards the position y an actor voted for in it.
    "salience" (default): x' = x + (0.1 + 0.4 (1 - s)) (y - x), the less an actor cares the
    further it goes; "full": x' = y.
    `rex`: the randomised variant's p in [0, 1]; 0 is the deterministic equal-gain model.
    `seed`: seeds REX's random numbers (combined with a hash of the inputs, see `_rex_rng`).
    `min_gain`: exchanges gaining less than this (salience x scale points) are not made.
    `ties`: which of equally profitable exchanges goes first: "first" (lowest actor-pair,
    issue-pair index) or "random" (a seeded random order, as Decide's coin flips but
    reproducible; for studying how much tie order matters). Gains equal to 9 decimals tie.
    `explain`: record draw `log_draw`'s exchanges and per-round outcomes in `info["exchanges"]`
    and `info["round_log"]` (what `parley exchanges` shows).
    """

    rounds: int = 10
    update: Update = "salience"
    rex: float = 0.0
    ties: Literal["first", "random"] = "first"
    seed: int = 0
    min_gain: float = 1e-9
    explain: bool = False
    log_draw: int = 0

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ValueError(f"rounds must be >= 1, got {self.rounds}")
        if not 0.0 <= self.rex <= 1.0:
            raise ValueError(f"rex must lie in [0, 1], got {self.rex}")
        if self.update not in ("salience", "full"):
            raise ValueError(f"update must be 'salience' or 'full', got {self.update!r}")
        if self.ties not in ("first", "random"):
            raise ValueError(f"ties must be 'first' or 'random', got {self.ties!r}")
        if self.min_gain < 0:
            raise ValueError(f"min_gain must be >= 0, got {self.min_gain}")


@dataclass
class _Log:
    """Exchanges and per-round outcomes of one draw, as plain data for `info`."""

    actors: tuple[str, ...]
    issues: tuple[str, ...]
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)


CELLS_PER_SLICE = 1 << 21
"""Draws x candidates handled at once: a candidate array then takes 16 MB, and the two dozen
of them a round needs stay well under a gigabyte however many draws a chunk has."""


def solve(batch: Batch, params: Params | None = None) -> Outcome:
    """Run the exchange rounds for every draw and return the final weighted-mean outcomes.

    Draws are solved in slices of at most `CELLS_PER_SLICE` draw-candidate cells (memory); each
    slice is vectorised over its draws.
    """
    params = params or Params()
    n, k = batch.n_actors, batch.n_issues
    per_draw = max(1, n * (n - 1) // 2 * (k * (k - 1) // 2))
    step = max(1, CELLS_PER_SLICE // per_draw)
    if batch.draws <= step:
        return _solve(batch, params)
    parts = []
    for start in range(0, batch.draws, step):
        stop = min(batch.draws, start + step)
        log_draw = params.log_draw - start if start <= params.log_draw < stop else -1
        parts.append(_solve(batch.take(slice(start, stop)), replace(params, log_draw=log_draw)))
    info: dict[str, Any] = {
        key: np.concatenate([p.info[key] for p in parts])
        for key in ("rounds", "converged", "oscillated", "exchanges_made")
    }
    for p in parts:
        for key in ("exchanges", "round_log"):
            if key in p.info:
                info[key] = p.info[key]
                info["log_draw"] = params.log_draw
    return Outcome(
        outcome=np.concatenate([p.outcome for p in parts]),
        agreement=np.concatenate([p.agreement for p in parts]),
        trajectory=np.concatenate([p.trajectory for p in parts]),
        info=info,
    )


def _solve(batch: Batch, params: Params) -> Outcome:
    """All rounds for the draws of one slice.

    Round r starts from positions x_r, carries out exchanges (giving voting positions y_r) and
    hands x_{r+1} = x_r + step (y_r - x_r) to the next round. The forecast is the outcome of
    the last round's vote, the weighted mean of y_R; `trajectory[:, 0]` holds the initial
    positions and `trajectory[:, r]` the voting positions of round r.
    """
    d, n, k = batch.position.shape
    x = np.clip(batch.position.astype(float), 0.0, 100.0)
    s = np.where(batch.engaged[None], batch.salience, 0.0)
    w = batch.capability[:, :, None] * s
    total = w.sum(axis=1)
    empty = total <= 0
    if empty.any():  # nobody with weight on an issue: equal weights among the engaged
        eng = np.broadcast_to(batch.engaged[None].astype(float), w.shape)
        w = np.where(empty[:, None, :], eng, w)
        total = w.sum(axis=1)
    total = np.where(total > 0, total, 1.0)
    pairs = Pairs.build(n, k)
    rng = _Noise(batch, params) if params.rex > 0 or params.ties == "random" else None
    log_draw = params.log_draw if params.explain and 0 <= params.log_draw < d else -1
    log = _Log(batch.actors, batch.issues)
    step = 0.1 + 0.4 * (1.0 - s) if params.update == "salience" else np.ones_like(s)

    trajectory = np.empty((d, params.rounds + 1, n, k))
    trajectory[:, 0] = x
    y = x
    active = np.ones(d, bool)
    rounds_run = np.zeros(d, int)
    n_exchanges = np.zeros(d, int)
    for r in range(params.rounds):
        outcome = (w * x).sum(axis=1) / total
        y_new, made = _round(pairs, x, s, w, outcome, total, params, rng, log, r, log_draw)
        made = np.where(active, made, 0)  # a converged draw stays where it is
        y = np.where(active[:, None, None], y_new, y)
        trajectory[:, r + 1] = y
        rounds_run += made > 0
        n_exchanges += made
        if log_draw >= 0 and active[log_draw]:
            after = (w[log_draw] * y[log_draw]).sum(axis=0) / total[log_draw]
            log.rounds.append(_round_record(r, outcome[log_draw], after, int(made[log_draw]), batch))
        active &= made > 0
        x = np.where(active[:, None, None], x + step * (y - x), x)
        if not active.any():
            trajectory[:, r + 2 :] = y[:, None]
            break
    outcome = (w * y).sum(axis=1) / total
    info: dict[str, Any] = {
        "rounds": rounds_run,  # rounds in which exchanges were made
        "converged": ~active,  # a round without any exchange was reached
        "oscillated": np.zeros(d, bool),  # (the key other dynamic models report)
        "exchanges_made": n_exchanges,
    }
    if log_draw >= 0:
        info["exchanges"] = log.exchanges
        info["round_log"] = log.rounds
        info["log_draw"] = log_draw
    return Outcome(outcome=outcome, agreement=np.ones(d, bool), trajectory=trajectory, info=info)


def _round(
    pairs: Pairs,
    x: np.ndarray,
    s: np.ndarray,
    w: np.ndarray,
    outcome: np.ndarray,
    total: np.ndarray,
    params: Params,
    rng: _Noise | None,
    log: _Log,
    r: int,
    log_draw: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One round: the voting positions y[D, N, K] and the number of exchanges made per draw.

    All candidates are evaluated once, on the positions and outcomes at the start of the round
    (as Decide computes the outcome once per round). The most profitable is carried out; an
    actor moves at most once per issue in a round, so every candidate that would move an
    (actor, issue) that has already moved is dropped; repeat until nothing profitable is left.
    An actor may still demand on an issue several times (from different partners).
    """
    d, n, k = x.shape
    rex = None
    if rng is not None and params.rex > 0:
        u, v, z = rng.uniforms((1, r), (3, pairs.size)).transpose(1, 0, 2)
        rex = (params.rex, u, v, z)
    c = compute(pairs, x, s, w, outcome, total, rex)
    score = np.maximum(c.gain_a, c.gain_b)
    keep = score > params.min_gain
    if not keep.all():
        c = Candidates(*(getattr(c, f.name)[keep] for f in fields(Candidates)))
        score = score[keep]
    tiebreak = c.c  # lowest (actor pair, issue pair) index first
    if rng is not None and params.ties == "random":
        tiebreak = rng.uniforms((2, r), (pairs.size,))[c.d, c.c]
    # by draw, then gain (rounded, so exchanges that tie in exact arithmetic tie here too,
    # whatever the float noise), then the tie-break
    order = np.lexsort((tiebreak, -np.round(score, 9), c.d))
    nk = n * k
    key_a = c.d * nk + c.a * k + pairs.q[c.c]  # the (draw, actor, issue) each candidate moves
    key_b = c.d * nk + c.b * k + pairs.p[c.c]
    chosen = order[_greedy(key_a[order], key_b[order], d * nk)]  # by draw, in greedy order
    dr, cb = c.d[chosen], c.c[chosen]
    a, b = c.a[chosen], c.b[chosen]
    p, q = pairs.p[cb], pairs.q[cb]
    dp, dq = c.dp[chosen], c.dq[chosen]
    # b supplies on p (moves towards a), a supplies on q (moves towards b); every (actor,
    # issue) moves at most once, so these assignments never collide
    move_b = np.sign(x[dr, a, p] - x[dr, b, p]) * dp * total[dr, p] / w[dr, b, p]
    move_a = np.sign(x[dr, b, q] - x[dr, a, q]) * dq * total[dr, q] / w[dr, a, q]
    y = x.copy()
    y[dr, b, p] = np.clip(x[dr, b, p] + move_b, 0.0, 100.0)
    y[dr, a, q] = np.clip(x[dr, a, q] + move_a, 0.0, 100.0)
    made = np.bincount(dr, minlength=d)
    if log_draw >= 0:
        for m in np.flatnonzero(dr == log_draw):
            log.exchanges.append(_exchange_record(
                log, r, x, y, outcome, int(dr[m]), int(a[m]), int(b[m]), int(p[m]), int(q[m]),
                float(dp[m]), float(dq[m]), float(c.gain_a[chosen[m]]), float(c.gain_b[chosen[m]]),
            ))
    return y, made


def _greedy(key_a: np.ndarray, key_b: np.ndarray, n_keys: int) -> np.ndarray:
    """Greedy selection of candidates listed best first, where no two chosen ones share a key
    (a moving (draw, actor, issue)). Returns the chosen positions, in list order.

    Equivalent to scanning the list from the top and taking each candidate whose keys are
    still free, but done in a few vectorised sweeps: a candidate that comes first among the
    live users of both its keys is taken (nothing before it can block it), candidates sharing
    a key with a taken one die, and the sweep repeats until none is live.
    """
    m = key_a.size
    pos = np.arange(m)
    live = np.ones(m, bool)
    taken = np.zeros(m, bool)
    while live.any():
        first = np.full(n_keys, m, dtype=np.intp)
        np.minimum.at(first, key_a[live], pos[live])
        np.minimum.at(first, key_b[live], pos[live])
        win = live & (first[key_a] == pos) & (first[key_b] == pos)
        taken |= win
        used = np.zeros(n_keys, bool)
        used[key_a[win]] = True
        used[key_b[win]] = True
        live &= ~win & ~used[key_a] & ~used[key_b]
    return np.flatnonzero(taken)


def _exchange_record(
    log: _Log, r: int, x: np.ndarray, y: np.ndarray, outcome: np.ndarray,
    d: int, a: int, b: int, p: int, q: int, dp: float, dq: float, gain_a: float, gain_b: float,
) -> dict[str, Any]:
    """One exchange as plain data: who supplies what on which issue to whom, and the gains."""
    sign_p = np.sign(x[d, a, p] - outcome[d, p])
    sign_q = np.sign(x[d, b, q] - outcome[d, q])
    return {
        "round": r + 1,
        "actor_a": log.actors[a],
        "actor_b": log.actors[b],
        "supply_a": {"issue": log.issues[q], "from": float(x[d, a, q]), "to": float(y[d, a, q])},
        "supply_b": {"issue": log.issues[p], "from": float(x[d, b, p]), "to": float(y[d, b, p])},
        "gain_a": gain_a,
        "gain_b": gain_b,
        "outcome_shift": {
            log.issues[p]: float(sign_p * dp),
            log.issues[q]: float(sign_q * dq),
        },
    }


def _round_record(r: int, before: np.ndarray, after: np.ndarray, made: int, batch: Batch) -> dict:
    return {
        "round": r + 1,
        "exchanges": made,
        "outcome_before": {k: float(v) for k, v in zip(batch.issues, before, strict=True)},
        "outcome_after": {k: float(v) for k, v in zip(batch.issues, after, strict=True)},
    }


class _Noise:
    """REX's and the random tie-break's uniforms, per draw, round and purpose.

    For sampled draws (a Monte Carlo run) they come from the run's seeded stream at each
    draw's global index (`Batch.noise`), keyed by `params.seed`: the same numbers however the
    draws are chunked, and different numbers for every draw even when the scenario has no
    uncertain input. A batch built by hand has no stream: then one generator seeded by
    `params.seed` and a hash of the batch's inputs is used (same batch + seed, same numbers).
    """

    def __init__(self, batch: Batch, params: Params):
        self.batch = batch
        self.key = params.seed % 2**63  # spawn keys are non-negative
        self.rng: np.random.Generator | None = None
        if batch.seed is None:
            h = hashlib.sha256()
            for arr in (batch.position, batch.salience, batch.capability):
                h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
            digest = int.from_bytes(h.digest()[:8], "little")
            self.rng = np.random.default_rng(np.random.SeedSequence([params.seed, digest]))

    def uniforms(self, key: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
        """U[D, *shape] for one purpose (1: REX, 2: tie-break) in one round."""
        if self.rng is not None:
            return self.rng.random((self.batch.draws, *shape))
        out = self.batch.noise((0xE5C, self.key, *key), shape)
        assert out is not None
        return out
