"""Stokman–Van Oosten exchange model (issue linkage), equal-gain variant, with the REX option.

Actors trade support across issues: each concedes on the issue it cares less about in return
for a concession on the issue it cares more about. The outcome of an issue is the weighted mean
of positions (capability x salience); an exchange moves both partners' positions, and hence the
outcomes, so that both gain equally. Each round follows Decide's loop: carry out the most
profitable exchange, recalculate the exchanges it touched (an actor may concede again on the same
issue from where it now stands), repeat; between rounds actors move part of the way to the
positions they voted with. Decide's accidents are reproduced by default under named parameters
(`passed`, `at_demander`, `move_budget`), and both of its outcomes are returned (voting and
preference MDS).

Two engines give the same results: a compiled loop (numba, one exchange at a time per draw) and
vectorised sweeps over draws (Python loops over rounds and sweeps only). Ties go to Decide's
order of creating exchanges (or a seeded random order), so the same input always gives the same
result, where Decide flips an unseeded coin. See docs/models/exchange.md for every choice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from parley.core.batch import Batch
from parley.core.errors import ParleyInputError, Problem
from parley.models._exchange_candidates import Pairs
from parley.models._exchange_round import run_round
from parley.models.base import Outcome
from parley.models.engine_choice import use_compiled

SUMMARY = "Stokman–Van Oosten exchange model: equal-gain trades of support across issues"

Update = Literal["salience", "full"]
_CAP_MODES = {"passes": 0, "stops": 1, "blocked": 2}
"""Cap modes as the compiled engine numbers them (`_exchange_numba.CAP_*`)."""


@dataclass(frozen=True)
class Params:
    """Parameters of the exchange model (defaults: Decide's equal-gain model, p = 0).

    `rounds`: maximum number of rounds (Decide runs exactly 10); a draw stops earlier when a
    round finds no exchange, since nothing can change after that.
    `update`: how positions move after a round towards the position y an actor voted for in it.
    "salience" (default): x' = x + (0.1 + 0.4 (1 - s)) (y - x), the less an actor cares the
    further it goes; "full": x' = y.
    `outcome`: which of Decide's two outcomes of the last round `solve` returns: "voting"
    (default: Decide's voting MDS, the weighted mean of the positions actors vote with after
    the round's exchanges) or "preference" (its preference MDS: the weighted mean of the
    positions the round started from). Both are in `info`.
    `rex`: the randomised variant's p in [0, 1]; 0 is the deterministic equal-gain model.
    `seed`: seeds REX's random numbers and the random tie order.
    `min_gain`: exchanges gaining this much or less (salience x scale points) are not made.
    `ties`: which of equally profitable exchanges goes first: "first" (Decide's order of
    creating them: issue pair, then actor pair) or "random" (a seeded random order, like
    Decide's coin flips but reproducible). Gains equal to 9 decimals tie.
    `passed`: an exchange whose demander has already had the outcome (as the exchange knows
    it) carried to or past its position: "uncapped" (Decide: the cap at the demander's position
    is not applied at all) or "blocked" (no further shift towards that demander).
    `at_demander`: an outcome (as the exchange knows it) exactly at the demander's position,
    to 1e-9: "passes" (Decide: its `check_nbs` caps only a strict crossing, so such an exchange
    goes uncapped) or "stops" (treated as reached: no further shift towards that demander).
    Only with `passed="uncapped"`; "blocked" always stops there.
    `move_budget`: Decide's check that the moves computed for a supplier within a round,
    summed with their signs, stay <= 100 (it bites only on upward moves); False drops it.
    `engine`: "compiled" (numba loops, one exchange at a time; numba is a dependency, numpy is
    the fallback where it is missing), "numpy" (vectorised sweeps over draws) or "auto"
    (compiled when numba is installed and the batch is large, see `COMPILED_FROM`). Both give
    the same results.
    `explain`: record draw `log_draw`'s exchanges and per-round outcomes in `info["exchanges"]`
    and `info["round_log"]` (what `parley exchanges` shows).
    """

    rounds: int = 10
    update: Update = "salience"
    outcome: Literal["voting", "preference"] = "voting"
    rex: float = 0.0
    ties: Literal["first", "random"] = "first"
    seed: int = 0
    min_gain: float = 0.0
    passed: Literal["uncapped", "blocked"] = "uncapped"
    at_demander: Literal["passes", "stops"] = "passes"
    move_budget: bool = True
    engine: Literal["auto", "compiled", "numpy"] = "auto"
    explain: bool = False
    log_draw: int = 0

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ValueError(f"rounds must be >= 1, got {self.rounds}")
        if not 0.0 <= self.rex <= 1.0:
            raise ValueError(f"rex must lie in [0, 1], got {self.rex}")
        if self.update not in ("salience", "full"):
            raise ValueError(f"update must be 'salience' or 'full', got {self.update!r}")
        if self.outcome not in ("voting", "preference"):
            raise ValueError(f"outcome must be 'voting' or 'preference', got {self.outcome!r}")
        if self.ties not in ("first", "random"):
            raise ValueError(f"ties must be 'first' or 'random', got {self.ties!r}")
        if self.passed not in ("uncapped", "blocked"):
            raise ValueError(f"passed must be 'uncapped' or 'blocked', got {self.passed!r}")
        if self.at_demander not in ("passes", "stops"):
            raise ValueError(
                f"at_demander must be 'passes' or 'stops', got {self.at_demander!r}")
        if self.engine not in ("auto", "compiled", "numpy"):
            raise ValueError(f"engine must be 'auto', 'compiled' or 'numpy', got {self.engine!r}")
        if self.min_gain < 0:
            raise ValueError(f"min_gain must be >= 0, got {self.min_gain}")

    @property
    def cap_mode(self) -> str:
        """How the cap at the demander treats an outcome at or past it: "passes", "stops" or
        "blocked" (`_exchange_candidates._cap`)."""
        return "blocked" if self.passed == "blocked" else self.at_demander

    @property
    def own_randomness(self) -> bool:
        """True when the model draws random numbers of its own under these parameters (REX or a
        random tie order): then draws of a scenario without uncertain inputs still differ."""
        return self.rex > 0 or self.ties == "random"


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
        for key in ("rounds", "converged", "oscillated", "exchanges_made", "voting", "preference")
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
    """All rounds for the draws of one slice, in the engine `params.engine` picks."""
    if _use_compiled(params, _cells(batch.draws, batch.n_actors, batch.n_issues)):
        return _solve_compiled(batch, params)
    return _solve_numpy(batch, params)


def _cells(draws: int, n_actors: int, n_issues: int) -> int:
    """Candidate (draw, actor pair, issue pair) cells: the size `_use_compiled` decides on."""
    n, k = n_actors, n_issues
    return draws * n * (n - 1) // 2 * (k * (k - 1) // 2)


COMPILED_FROM = 5_000
"""engine="auto" compiles from this many draw x candidate cells on (or once numba is loaded):
below it the vectorised engine finishes before numba would have loaded (~0.3 s a process)."""


def one_run_params(params: Params) -> Params:
    """Params for a single run (a scenario without uncertain inputs, or the answer's line of
    every model at the most likely inputs): "auto" takes the numpy engine, which answers a
    Decide-sized file in a tenth of a second, where loading the compiled one takes about half a
    second (the engines give the same numbers, tested)."""
    return replace(params, engine="numpy") if params.engine == "auto" else params


def compiles_first(params: Params, draws: int, n_actors: int, n_issues: int) -> bool:
    """Whether this run would first compile the compiled engine (no machine code cached yet)."""
    if not _use_compiled(params, _cells(draws, n_actors, n_issues)):
        return False
    from parley.models import _exchange_numba, _numba_cache

    return not _numba_cache.warm(_exchange_numba.run_rounds)


def _use_compiled(params: Params, cells: int) -> bool:
    return use_compiled(params.engine, cells >= COMPILED_FROM)


def _inputs(batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions (0–100), saliences (0 where not engaged), weights and their totals per issue."""
    x = np.clip(batch.position.astype(float), 0.0, 100.0)
    s = np.where(batch.engaged[None], batch.salience, 0.0)
    w = batch.capability[:, :, None] * s
    total = w.sum(axis=1)
    if (total <= 0).any():
        raise _no_weight_error(batch, total)
    return x, s, w, total


def _solve_compiled(batch: Batch, params: Params) -> Outcome:
    """The compiled engine: every draw's rounds in numba loops (`_exchange_numba`)."""
    from parley.models import _exchange_numba

    d, n, k = batch.position.shape
    x, s, w, total = _inputs(batch)
    pairs = Pairs.build(n, k)
    rng = _Noise(batch, params) if params.own_randomness else None
    rounds = params.rounds
    tie_u = np.zeros((0, d, pairs.size))
    rex_u = np.zeros((0, d, 3, pairs.size))
    if rng is not None:
        ties, rexs = [], []
        for r in range(rounds):  # the order the numpy engine draws them in
            if params.ties == "random":
                ties.append(rng.uniforms((2, r), (pairs.size,)))
            if params.rex > 0:
                rexs.append(rng.uniforms((1, r), (3, pairs.size)))
        tie_u = np.stack(ties) if ties else tie_u
        rex_u = np.stack(rexs) if rexs else rex_u
    step = 0.1 + 0.4 * (1.0 - s) if params.update == "salience" else np.ones_like(s)
    trajectory = np.zeros((d, rounds + 1, n, k))
    made = np.zeros((d, rounds), np.int64)
    preference = np.zeros((d, k))
    log_draw = params.log_draw if params.explain and 0 <= params.log_draw < d else -1
    log_rows = np.full((rounds, pairs.size if log_draw >= 0 else 0, 12), -1.0)
    _exchange_numba.run_rounds(
        x, s, w, total, step, rounds, pairs.i, pairs.j, pairs.p, pairs.q, pairs.ip.size,
        tie_u, rex_u, float(params.rex), _CAP_MODES[params.cap_mode], params.move_budget,
        float(params.min_gain), trajectory, made, preference, log_draw, log_rows)
    voting = (w * trajectory[:, -1]).sum(axis=1) / total
    converged = (made == 0).any(axis=1)
    info: dict[str, Any] = {
        "rounds": (made > 0).sum(axis=1),
        "converged": converged,
        "oscillated": np.zeros(d, bool),
        "exchanges_made": made.sum(axis=1),
        "voting": voting,
        "preference": preference,
    }
    if log_draw >= 0:
        log = _Log(batch.actors, batch.issues)
        x_r = x[log_draw]
        for r in range(rounds):
            before = (w[log_draw] * x_r).sum(axis=0) / total[log_draw]
            y_r = trajectory[log_draw, r + 1]
            after = (w[log_draw] * y_r).sum(axis=0) / total[log_draw]
            for row in log_rows[r]:
                if row[0] < 0:
                    break
                log.exchanges.append(_exchange_record(log, r, _row_dict(row)))
            log.rounds.append(_round_record(r, before, after, int(made[log_draw, r]), batch))
            if made[log_draw, r] == 0:
                break
            x_r = x_r + step[log_draw] * (y_r - x_r)
        info.update(exchanges=log.exchanges, round_log=log.rounds, log_draw=log_draw)
    outcome = voting if params.outcome == "voting" else preference
    return Outcome(outcome=outcome, agreement=np.ones(d, bool), trajectory=trajectory, info=info)


def _row_dict(row: np.ndarray) -> dict[str, Any]:
    keys = ("I", "J", "p", "q", "from_I", "to_I", "from_J", "to_J", "dp", "dq", "gain_I",
            "gain_J")
    return {key: (int(v) if i < 4 else float(v)) for i, (key, v) in enumerate(zip(keys, row,
                                                                                  strict=True))}


def _solve_numpy(batch: Batch, params: Params) -> Outcome:
    """All rounds for the draws of one slice, vectorised over draws (`_exchange_round`).

    Round r starts from positions x_r (Decide's "preference" positions, whose weighted mean is
    its preference MDS), carries out exchanges (giving the voting positions y_r, whose mean is
    its voting MDS) and hands x_{r+1} = x_r + step (y_r - x_r) to the next round.
    `trajectory[:, 0]` holds the initial positions and `trajectory[:, r]` the voting positions
    of round r; `info["preference"]` the preference MDS of the last round.
    """
    d, n, k = batch.position.shape
    x, s, w, total = _inputs(batch)
    pairs = Pairs.build(n, k)
    rng = _Noise(batch, params) if params.own_randomness else None
    log_draw = params.log_draw if params.explain and 0 <= params.log_draw < d else -1
    log = _Log(batch.actors, batch.issues)
    step = 0.1 + 0.4 * (1.0 - s) if params.update == "salience" else np.ones_like(s)

    trajectory = np.empty((d, params.rounds + 1, n, k))
    trajectory[:, 0] = x
    y = x
    preference = (w * x).sum(axis=1) / total
    active = np.ones(d, bool)
    rounds_run = np.zeros(d, int)
    n_exchanges = np.zeros(d, int)
    for r in range(params.rounds):
        idx = np.flatnonzero(active)
        outcome = (w * x).sum(axis=1) / total
        preference = np.where(active[:, None], outcome, preference)
        tie_u = rex = None
        if rng is not None and params.ties == "random":
            tie_u = rng.uniforms((2, r), (pairs.size,))[idx]
        if rng is not None and params.rex > 0:
            u3 = rng.uniforms((1, r), (3, pairs.size))[idx]
            rex = (params.rex, u3[:, 0], u3[:, 1], u3[:, 2])
        sub_log = int(np.searchsorted(idx, log_draw)) if log_draw >= 0 and active[log_draw] else -1
        y_new, made_sub, rows = run_round(
            pairs, x[idx], s[idx], w[idx], total[idx], outcome[idx], tie_u=tie_u, rex=rex,
            cap_mode=params.cap_mode, budget=params.move_budget, min_gain=params.min_gain,
            log_draw=sub_log)
        made = np.zeros(d, int)
        made[idx] = made_sub
        y = y.copy()
        y[idx] = y_new
        trajectory[:, r + 1] = y
        rounds_run += made > 0
        n_exchanges += made
        if sub_log >= 0:
            for row in rows:
                log.exchanges.append(_exchange_record(log, r, row))
            after = (w[log_draw] * y[log_draw]).sum(axis=0) / total[log_draw]
            log.rounds.append(_round_record(r, outcome[log_draw], after, int(made[log_draw]), batch))
        active &= made > 0
        x = np.where(active[:, None, None], x + step * (y - x), x)
        if not active.any():
            trajectory[:, r + 2 :] = y[:, None]
            break
    voting = (w * y).sum(axis=1) / total
    info: dict[str, Any] = {
        "rounds": rounds_run,  # rounds in which exchanges were made
        "converged": ~active,  # a round without any exchange was reached
        "oscillated": np.zeros(d, bool),  # (the key other dynamic models report)
        "exchanges_made": n_exchanges,
        "voting": voting,  # Decide's voting MDS of the last round
        "preference": preference,  # Decide's preference MDS of the last round
    }
    if log_draw >= 0:
        info["exchanges"] = log.exchanges
        info["round_log"] = log.rounds
        info["log_draw"] = log_draw
    outcome = voting if params.outcome == "voting" else preference
    return Outcome(outcome=outcome, agreement=np.ones(d, bool), trajectory=trajectory, info=info)


def _no_weight_error(batch: Batch, total: np.ndarray) -> ParleyInputError:
    """Why an issue has no outcome: nobody engaged on it has salience (Decide divides by zero;
    parley used to fall back to the plain mean without a word)."""
    bad = sorted({batch.issues[j] for j in np.flatnonzero((total <= 0).any(axis=0))})
    return ParleyInputError([Problem(
        f"issues.{issue}", "no actor gives this issue any salience, so the exchange model's "
        "weighted-mean outcome is undefined (Decide stops with a division by zero here)",
        "give at least one actor a salience above 0 on it, or leave the issue out")
        for issue in bad])


def _exchange_record(log: _Log, r: int, row: dict[str, Any]) -> dict[str, Any]:
    """One exchange as plain data: who supplies what on which issue to whom, and the gains.
    `actor_a` demands on the issue `actor_b` supplies on, and the reverse."""
    p, q = log.issues[row["p"]], log.issues[row["q"]]
    return {
        "round": r + 1,
        "actor_a": log.actors[row["I"]],
        "actor_b": log.actors[row["J"]],
        "supply_a": {"issue": q, "from": row["from_I"], "to": row["to_I"]},
        "supply_b": {"issue": p, "from": row["from_J"], "to": row["to_J"]},
        "gain_a": row["gain_I"],
        "gain_b": row["gain_J"],
        "outcome_shift": {p: row["dp"], q: row["dq"]},
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
