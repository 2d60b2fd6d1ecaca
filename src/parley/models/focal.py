"""Focal-point model: a probability distribution over the points where a negotiation may land.

Negotiations end at a proposal someone holds far more often than between proposals: on the DEU
development split 65% of EU legislative outcomes equal some actor's stated position. This model
lists the candidate landing points of every issue — each actor's position, the reference point,
the scale's ends and midpoint, the compromise and median, and the procedural points of EU
law-making (`procedural`) — merges candidates closer than `merge` points, and gives each
resulting point a probability by a conditional logit on features of who holds it and where it
lies. The rest of the probability (the remainder) is spread continuously around the compromise
(a truncated Laplace density). The forecast point is the distribution's median.

The coefficients were fitted on EU law-making (the DEU development split, a conditional logit
fitted with scipy, `scripts/fit_focal.py`) and ship in `parley/data/focal_v2.json`; applying
them needs only numpy. On another kind of negotiation they are a transfer, not a measurement: say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np

from parley.core.batch import Batch
from parley.models import compromise, median, procedural
from parley.models.base import Outcome, weights, with_fallback
from parley.models.engine_choice import use_compiled
from parley.models.mixed import (
    KNOTS,
    Mixed,
    TruncatedLaplace,
    _even_step,
    _on_knot,
    laplace_cdf,
    quantile_search,
)

SUMMARY = "probabilities of landing at each actor's position or a focal point, fitted on EU law-making"
VERSION = 2
"""2: three features added (capability_rank, council_median, between_commission_reference)."""
DISTRIBUTIONAL = True
"""The backtest scores its distribution (exact CRPS, prediction sets) and refits it per fold."""
LEARNT_FROM = ("learnt from EU law-making (DEU development split: Commission, Parliament and "
               "Council positions on EU legislative proposals)")

POINTS = ("reference", "low_end", "midpoint", "high_end", "compromise", "median", "qmv_pivot",
          "unanimity_pivot", "agenda", "codecision")
"""Candidate points other than the actors' positions, after the N actor positions."""
POINT_LABELS = {
    "reference": "the reference point (status quo)", "low_end": "the scale's low end (0)",
    "midpoint": "the midpoint (50)", "high_end": "the scale's high end (100)",
    "compromise": "the compromise (weighted mean)", "median": "the weighted median",
    "qmv_pivot": "the qualified-majority pivot", "unanimity_pivot": "the unanimity pivot",
    "agenda": "the agenda setter's best winning point", "codecision": "the codecision bargain",
}
PRIORITY = {"reference": 1, "low_end": 2, "midpoint": 2, "high_end": 2, "median": 4,
            "compromise": 5}
"""Which candidate names a merged point (lower first): actors 0, procedural points 3."""

FEATURES = ("weight_share", "holder_share", "commission", "parliament", "parliament_codecision",
            "reference", "scale_end", "midpoint", "compromise", "median", "rule_pivot", "agenda",
            "codecision", "distance", "signed_distance", "beats_reference", "extreme",
            "capability_rank", "council_median", "between_commission_reference")
REMAINDER_FEATURES = ("remainder", "remainder_spread")
ALL_FEATURES = FEATURES + REMAINDER_FEATURES


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    """The fitted coefficients bundled with parley (focal_v{VERSION}.json)."""
    text = (resources.files("parley") / "data" / f"focal_v{VERSION}.json").read_text("utf-8")
    return json.loads(text)


def _shipped_coefficients() -> tuple[tuple[str, float], ...]:
    c = shipped()["coefficients"]
    return tuple((name, float(c.get(name, 0.0))) for name in ALL_FEATURES)


def _shipped_scale() -> float:
    return float(shipped()["remainder_scale"])


@dataclass(frozen=True)
class Params:
    """`rule`: how the voting actors (all but `commission` and `parliament`) decide — qualified
    majority (`quota` of capability) or unanimity; `procedure`: `codecision` makes the
    Parliament a veto player, `consultation` leaves it advisory, `none` when unknown;
    `coefficients` / `remainder_scale`: the fit (default: the shipped one); `merge`: candidates
    closer than this (0–100 points) count as one landing point; `engine`: "numpy" (blocks of
    draws through array operations; the readable reference), "compiled" (numba, one draw and
    issue at a time: the same algorithm, about ten times less CPU; needs numba) or "auto"
    (compiled when a call has at least `COMPILED_FROM` draws or numba is already loaded). The
    engines give the same landing points; probabilities agree to about 1e-16 and the forecast
    median to about 1e-13 (the exponential function's last bit)."""

    rule: Literal["qmv", "unanimity"] = "qmv"
    procedure: Literal["codecision", "consultation", "none"] = "none"
    quota: float = procedural.QMV_QUOTA
    commission: str = "com"
    parliament: str = "ep"
    coefficients: tuple[tuple[str, float], ...] = field(default_factory=_shipped_coefficients)
    remainder_scale: float = field(default_factory=_shipped_scale)
    merge: float = 0.5
    engine: Literal["auto", "compiled", "numpy"] = "auto"

    def __post_init__(self) -> None:
        if self.rule not in ("qmv", "unanimity"):
            raise ValueError(f"rule must be qmv or unanimity, not {self.rule!r}")
        if self.procedure not in ("codecision", "consultation", "none"):
            raise ValueError(f"procedure must be codecision, consultation or none, not {self.procedure!r}")
        if not 0.5 <= self.quota <= 1.0:
            raise ValueError("quota must be between 0.5 and 1 (share of capability)")
        unknown = sorted({n for n, _ in self.coefficients} - set(ALL_FEATURES))
        if unknown:
            raise ValueError(f"unknown focal feature(s) {unknown}; known: {ALL_FEATURES}")
        if not self.remainder_scale > 0:
            raise ValueError("remainder_scale must be > 0")
        if self.engine not in ("auto", "compiled", "numpy"):
            raise ValueError(f"engine must be 'auto', 'compiled' or 'numpy', not {self.engine!r}")

    def beta(self) -> np.ndarray:
        c = dict(self.coefficients)
        return np.array([c.get(name, 0.0) for name in ALL_FEATURES])


@dataclass(frozen=True)
class Design:
    """Merged landing points of every draw and issue and their features.

    point [D, K, A] (A = N + len(POINTS) slots; unused slots invalid), valid [D, K, A],
    X [D, K, A + 1, F] (the last alternative is the continuous remainder), holders [D, K, A, N],
    kinds [D, K, A, len(POINTS)], centre [D, K] (the compromise), low / high [D, K] (the range
    of the actors' positions, where the continuous remainder lives)."""

    point: np.ndarray
    valid: np.ndarray
    X: np.ndarray
    holders: np.ndarray
    kinds: np.ndarray
    centre: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _actor(batch: Batch, code: str) -> tuple[np.ndarray, np.ndarray]:
    """(position [D, K], present [K]) of an actor, NaN where absent or not engaged."""
    if code not in batch.actors:
        return np.full(batch.status_quo.shape, np.nan), np.zeros(batch.n_issues, bool)
    i = batch.actors.index(code)
    return np.where(batch.engaged[i][None], batch.position[:, i], np.nan), batch.engaged[i].copy()


def candidates(batch: Batch, params: Params) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Candidate values [D, K, N + len(POINTS)] (NaN = not available) and context arrays."""
    pos = batch.position
    eng = batch.engaged[None]
    mean = compromise.solve(batch, compromise.Params()).outcome
    med = median.solve(batch, median.Params()).outcome
    q = batch.status_quo
    council = np.array([a not in (params.commission, params.parliament) for a in batch.actors])
    vote = batch.capability[:, :, None] * (council[None, :, None] & eng)
    quota = params.quota if params.rule == "qmv" else procedural.UNANIMITY
    (qr, ql), (ur, ul) = procedural.pivot_sets(pos, vote, (params.quota, procedural.UNANIMITY))
    rr, rl = (qr, ql) if quota == params.quota else (ur, ul)
    com, _ = _actor(batch, params.commission)
    ep, _ = _actor(batch, params.parliament)
    agenda = procedural.agenda_point(q, com, rr, rl, ur, ul)
    codec = (procedural.codecision_point(q, ep, rr, rl) if params.procedure == "codecision"
             else np.full_like(q, np.nan))
    fixed = np.stack([q, np.zeros_like(q), np.full_like(q, 50.0), np.full_like(q, 100.0), mean,
                      med, procedural.pivot_point(q, qr, ql), procedural.pivot_point(q, ur, ul),
                      agenda, codec], axis=-1)  # [D, K, P]
    actor_vals = np.where(eng, pos, np.nan).transpose(0, 2, 1)  # [D, K, N]
    ctx = {"mean": mean, "q": q, "rr": rr, "rl": rl, "com": com, "ep": ep}
    return np.concatenate([actor_vals, fixed], axis=-1), ctx


def design(batch: Batch, params: Params | None = None) -> Design:
    """Merge candidates into landing points and compute each point's features."""
    params = params or Params()
    vals, ctx = candidates(batch, params)
    d, k, c = vals.shape
    n = batch.n_actors
    avail = np.isfinite(vals)
    order = np.argsort(np.where(avail, vals, np.inf), axis=-1, kind="stable")
    sv = np.take_along_axis(vals, order, axis=-1)
    sa = np.take_along_axis(avail, order, axis=-1)
    gap = np.diff(sv, axis=-1, prepend=-np.inf) > params.merge
    group = np.cumsum(gap, axis=-1) - 1  # [D, K, C], group of each sorted candidate
    onehot = (group[..., None] == np.arange(c)) & sa[..., None]  # [D, K, C, A]
    valid = onehot.any(axis=-2)
    member = np.zeros((d, k, c, c), bool)  # [D, K, original candidate, atom]
    np.put_along_axis(member, order[..., None], onehot, axis=-2)

    prio = np.array([0] * n + [PRIORITY.get(p, 3) for p in POINTS], np.int16) * 100
    score = (prio + np.arange(c, dtype=np.int16))[None, None, :, None]
    lead = np.argmin(np.where(member, score, np.int16(32000)), axis=-2)  # [D, K, A]
    point = np.where(valid, np.take_along_axis(vals, lead, axis=-1), np.nan)

    holders = member[:, :, :n, :].transpose(0, 1, 3, 2)  # [D, K, A, N]
    kinds = member[:, :, n:, :].transpose(0, 1, 3, 2)  # [D, K, A, P]
    w, _ = with_fallback(weights(batch, "capability_salience"), batch)  # [D, N, K]
    wk = w.transpose(0, 2, 1)  # [D, K, N]
    share = (holders * wk[:, :, None, :]).sum(-1) / np.maximum(wk.sum(-1), 1e-300)[..., None]
    n_eng = batch.engaged.sum(0).astype(float)  # [K]
    held = holders.sum(-1) / np.maximum(n_eng, 1)[None, :, None]

    def holds(code: str) -> np.ndarray:
        if code not in batch.actors:
            return np.zeros((d, k, c), bool)
        return holders[..., batch.actors.index(code)]

    kind = {p: kinds[..., j] for j, p in enumerate(POINTS)}
    council = np.array([a not in (params.commission, params.parliament) for a in batch.actors])
    rule_pivot = kind["qmv_pivot"] if params.rule == "qmv" else kind["unanimity_pivot"]
    actor_pos = np.where(batch.engaged[None], batch.position, np.nan)
    lo_act = np.nanmin(actor_pos, axis=1)[..., None]
    hi_act = np.nanmax(actor_pos, axis=1)[..., None]
    pt = np.where(valid, point, 0.0)
    extreme = ((np.abs(pt - lo_act) <= params.merge) | (np.abs(pt - hi_act) <= params.merge)) & (
        holders.any(-1))
    beats = procedural.beats(pt, ctx["q"], ctx["rr"], ctx["rl"])
    rank = _capability_rank(batch)  # [D, K, N]
    cap_rank = np.where(holders, rank[:, :, None, :], 0.0).max(-1)
    vote = batch.capability[:, :, None] * (council[None, :, None] & batch.engaged[None])
    vote = vote.transpose(0, 2, 1)[:, :, None, :]  # [D, K, 1, N]
    at = batch.position.transpose(0, 2, 1)[:, :, None, :]
    below = (vote * (at <= pt[..., None] + params.merge)).sum(-1)
    above = (vote * (at >= pt[..., None] - params.merge)).sum(-1)
    half = 0.5 * vote.sum(-1)
    council_median = (below >= half) & (above >= half) & (half > 0) & holders.any(-1)
    com_q = (ctx["com"], ctx["q"])
    lo_cq = np.fmin(*com_q)[..., None] - params.merge
    hi_cq = np.fmax(*com_q)[..., None] + params.merge
    between = (pt >= lo_cq) & (pt <= hi_cq) & np.isfinite(ctx["com"] + ctx["q"])[..., None]
    cod = params.procedure == "codecision"
    feats = {
        "weight_share": share, "holder_share": held,
        "commission": holds(params.commission), "parliament": holds(params.parliament),
        "parliament_codecision": holds(params.parliament) & cod,
        "reference": kind["reference"], "scale_end": kind["low_end"] | kind["high_end"],
        "midpoint": kind["midpoint"], "compromise": kind["compromise"], "median": kind["median"],
        "rule_pivot": rule_pivot, "agenda": kind["agenda"], "codecision": kind["codecision"],
        "distance": np.abs(pt - ctx["mean"][..., None]) / 100.0,
        "beats_reference": beats, "extreme": extreme,
        "signed_distance": (pt - ctx["mean"][..., None]) / 100.0,
        "capability_rank": cap_rank, "council_median": council_median,
        "between_commission_reference": between,
    }
    X = np.zeros((d, k, c + 1, len(ALL_FEATURES)))
    for j, name in enumerate(FEATURES):
        X[:, :, :c, j] = np.where(valid, feats[name], 0.0)
    spread = np.sqrt((wk * (batch.position.transpose(0, 2, 1) - ctx["mean"][..., None]) ** 2
                      ).sum(-1) / np.maximum(wk.sum(-1), 1e-300)) / 100.0
    X[:, :, c, len(FEATURES)] = 1.0
    X[:, :, c, len(FEATURES) + 1] = spread
    return Design(point, valid, X, holders, kinds, ctx["mean"], lo_act[..., 0], hi_act[..., 0])


BLOCK_DRAWS = 1024
"""solve works through this many draws at a time: the arrays of a block (a few hundred kB per
candidate × issue array) stay in the CPU's cache, which makes the whole run about 25% faster
than one pass over a 16,384-draw chunk; results do not depend on it."""


@dataclass(frozen=True)
class Landing:
    """What `solve` needs of `design` and `probabilities`, computed without the feature tensor:
    point, valid, mass [D, K, A], remainder [D, K], slot [D, K, N + P] (the landing point each
    candidate merged into, -1 where it is not available: actors first, then POINTS), plus
    centre, low and high [D, K]. `holders` and `kinds` are Design's, read off `slot`."""

    point: np.ndarray
    valid: np.ndarray
    mass: np.ndarray
    remainder: np.ndarray
    slot: np.ndarray
    centre: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def holders(self) -> np.ndarray:
        """[D, K, A, N]: which actors' positions each landing point takes in."""
        return members(self.slot, self.point.shape[-1])[..., : self.slot.shape[-1] - len(POINTS)]

    @property
    def kinds(self) -> np.ndarray:
        """[D, K, A, P]: which of POINTS each landing point takes in."""
        return members(self.slot, self.point.shape[-1])[..., self.slot.shape[-1] - len(POINTS) :]


def members(slot: np.ndarray, points: int) -> np.ndarray:
    """[..., points, C]: whether candidate c merged into landing point a, from slot [..., C]."""
    return slot[..., None, :] == np.arange(points)[:, None]


def landing(batch: Batch, params: Params | None = None) -> Landing:
    """`design` then `probabilities` for every draw and issue, the linear predictor folded as it
    is built (Σ coefficient × feature) instead of materialising X [D, K, A + 1, F]. Features of
    who holds a point are summed over the actors (each actor holds one point) and features that
    flag one candidate (the Commission's position, the reference point, a pivot ...) add their
    coefficient to that candidate's point, so the work grows with candidates, not candidates ×
    actors. Same numbers as design() + probabilities() up to the order of the sums (tested)."""
    params = params or Params()
    beta = dict(zip(ALL_FEATURES, params.beta().tolist(), strict=True))
    vals, ctx = candidates(batch, params)
    d, k, c = vals.shape
    n, r, m = batch.n_actors, d * k, params.merge
    v = vals.reshape(r, c)
    avail = np.isfinite(v)
    slot, valid, point = _merge(v, avail, m, n)
    w1 = valid.shape[1]  # the points any row has, and the remainder (slot t)
    t = w1 - 1
    flat = slot + (np.arange(r) * w1)[:, None]  # index of each candidate's slot in [R, W]

    # who holds each point: weight and count of holders, best capability rank
    w, _ = with_fallback(weights(batch, "capability_salience"), batch)
    wk = w.transpose(0, 2, 1).reshape(r, n)
    wsum = np.maximum(wk.sum(-1), 1e-300)
    actor_flat = flat[:, :n].ravel()
    share = np.bincount(actor_flat, weights=wk.ravel(), minlength=r * w1).reshape(r, w1)
    count = np.bincount(actor_flat, minlength=r * w1).reshape(r, w1)
    n_eng = np.tile(np.maximum(batch.engaged.sum(0).astype(float), 1), d)
    rank = _capability_rank(batch).reshape(r, n)
    # Council median and extreme at each actor's position: a held point's value is that of its
    # lowest-index holder (actors lead merged points), written last in the loop below
    council = np.array([a not in (params.commission, params.parliament) for a in batch.actors])
    vote = (batch.capability[:, :, None] * (council[None, :, None] & batch.engaged[None]))
    vote = vote.transpose(0, 2, 1).reshape(r, n)
    at = batch.position.transpose(0, 2, 1).reshape(r, n)
    # summed over the last axis (numpy's pairwise order, as design() sums them), not einsum,
    # whose order depends on the CPU's vector width: a tie (below == half) must not
    below = ((at[:, None, :] <= at[:, :, None] + m) * vote[:, None, :]).sum(-1)
    above = ((at[:, None, :] >= at[:, :, None] - m) * vote[:, None, :]).sum(-1)
    half = 0.5 * vote.sum(-1)[:, None]
    at_median = (below >= half) & (above >= half) & (half > 0)
    lo_act = np.nanmin(np.where(batch.engaged[None], batch.position, np.nan), axis=1)
    hi_act = np.nanmax(np.where(batch.engaged[None], batch.position, np.nan), axis=1)
    extreme = ((np.abs(at - lo_act.reshape(r, 1)) <= m) | (np.abs(at - hi_act.reshape(r, 1)) <= m))
    lead_u = beta["council_median"] * at_median + beta["extreme"] * extreme  # [R, N]
    best = np.zeros(r * w1)
    held_u = np.zeros(r * w1)
    for j in range(n - 1, -1, -1):
        best[flat[:, j]] = np.maximum(best[flat[:, j]], rank[:, j])
        held_u[flat[:, j]] = lead_u[:, j]

    pt = np.where(valid, point, 0.0).reshape(d, k, w1)
    mean = ctx["mean"][..., None]
    com, q = ctx["com"][..., None], ctx["q"][..., None]
    between = ((pt >= np.fmin(com, q) - m) & (pt <= np.fmax(com, q) + m) & np.isfinite(com + q))
    beats = procedural.beats(pt, ctx["q"], ctx["rr"], ctx["rl"])
    dist = ((pt - mean) / 100.0).reshape(r, w1)
    u = (beta["weight_share"] * (share / wsum[:, None]) + beta["holder_share"] * (count / n_eng[:, None])
         + beta["capability_rank"] * best.reshape(r, w1) + beta["distance"] * np.abs(dist)
         + beta["signed_distance"] * dist)
    u += held_u.reshape(r, w1)
    u += beta["beats_reference"] * beats.reshape(r, w1)
    u += beta["between_commission_reference"] * between.reshape(r, w1)
    uf = u.reshape(-1)
    for name, j in _flags(batch.actors, params, n):
        uf[flat[:, j]] += beta[name]
    scale_end = [n + POINTS.index("low_end"), n + POINTS.index("high_end")]
    both = flat[:, scale_end[0]] == flat[:, scale_end[1]]  # one point: flagged once
    uf[flat[:, scale_end[0]]] += beta["scale_end"]
    uf[flat[:, scale_end[1]]] += np.where(both, 0.0, beta["scale_end"])

    # the continuous remainder is the last alternative (slot t)
    spread = np.sqrt((wk * (at - ctx["mean"].reshape(r, 1)) ** 2).sum(-1) / wsum) / 100.0
    u[:, t] = beta["remainder"] + beta["remainder_spread"] * spread
    valid[:, t] = True
    util = np.where(valid, u, -np.inf)
    util -= util.max(axis=-1, keepdims=True)
    e = np.exp(util)
    laid_out = np.zeros((r, c + 1))  # as design lays them out: A slots, then the remainder
    laid_out[:, :t], laid_out[:, c] = e[:, :t], e[:, t]
    p = e / laid_out.sum(axis=-1, keepdims=True)  # the sum in design's order: same bits
    mass, pts, ok = np.zeros((r, c)), np.full((r, c), np.nan), np.zeros((r, c), bool)
    mass[:, :t], pts[:, :t], ok[:, :t] = p[:, :t], point[:, :t], valid[:, :t]
    shape = (d, k, c)
    return Landing(pts.reshape(shape), ok.reshape(shape), mass.reshape(shape),
                   np.clip(1.0 - mass.sum(axis=-1), 0.0, 1.0).reshape(d, k),
                   np.where(avail, slot, -1).astype(_slot_type(c)).reshape(shape),
                   ctx["mean"], lo_act, hi_act)


def _slot_type(candidates: int) -> type:
    """The integer type of slot indices (-1 to candidates - 1): one type for every scenario, so
    the compiled engine compiles once."""
    if candidates > np.iinfo(np.int16).max:
        raise ValueError(f"focal takes at most {np.iinfo(np.int16).max} candidates, not {candidates}")
    return np.int16


def _merge(v: np.ndarray, avail: np.ndarray, merge: float,
           n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates v [R, C] (avail: not NaN) sorted and merged as in `design`: (slot [R, C] of
    each candidate's point; valid [R, W]; point [R, W], the value of the point's leading
    candidate), where W − 1 is the most points any row has: slots beyond it would be empty in
    every row, and slot W − 1 takes the unavailable candidates (later: the remainder)."""
    r, c = v.shape
    order = np.argsort(np.where(avail, v, np.inf), axis=-1, kind="stable")
    sv = np.take_along_axis(v, order, axis=-1)  # NaN (unavailable) last: never a gap
    gap = np.empty((r, c), bool)
    gap[:, 0] = np.isfinite(sv[:, 0])
    np.greater(sv[:, 1:] - sv[:, :-1], merge, out=gap[:, 1:])
    slot = np.empty((r, c), np.intp)
    np.put_along_axis(slot, order, np.cumsum(gap, axis=-1) - 1, axis=-1)
    groups = gap.sum(-1)
    last = int(groups.max(initial=0))
    slot = np.where(avail, slot, last)
    valid = np.arange(last + 1) < groups[:, None]
    flat = slot + (np.arange(r) * (last + 1))[:, None]
    point = np.full(r * (last + 1), np.nan)
    for j in _lead_last(n):  # the leading candidate (actors first, then PRIORITY) is written last
        point[flat[:, j]] = v[:, j]
    return slot, valid, point.reshape(r, last + 1)


def _flags(actors: tuple[str, ...], params: Params, n: int) -> list[tuple[str, int]]:
    """(feature, candidate) pairs of the features that flag the point one candidate lies on."""
    out = [(name, n + POINTS.index(name)) for name in ("reference", "midpoint", "compromise",
                                                       "median", "agenda", "codecision")]
    out.append(("rule_pivot", n + POINTS.index("qmv_pivot" if params.rule == "qmv" else
                                                "unanimity_pivot")))
    for name, code in (("commission", params.commission), ("parliament", params.parliament)):
        if code in actors:
            out.append((name, actors.index(code)))
    if params.procedure == "codecision" and params.parliament in actors:
        out.append(("parliament_codecision", actors.index(params.parliament)))
    return out


@lru_cache(maxsize=64)
def _lead_last(n: int) -> tuple[int, ...]:
    """Candidates of N actors in reverse order of PRIORITY (the leader of a merged point last)."""
    prio = [0] * n + [PRIORITY.get(p, 3) for p in POINTS]
    return tuple(sorted(range(n + len(POINTS)), key=lambda j: (prio[j], j), reverse=True))


def _capability_rank(batch: Batch) -> np.ndarray:
    """[D, K, N]: 1 for the most capable engaged actor(s) of an issue, falling linearly to 0 for
    the least (1 − number of engaged actors strictly more capable / (engaged − 1)); 0 if not
    engaged."""
    cap = batch.capability  # [D, N]
    eng = batch.engaged  # [N, K]
    more = (cap[:, None, :] > cap[:, :, None]).astype(np.int32)  # [D, N, M]
    rank = np.einsum("dnm,mk->dkn", more, eng.astype(np.int32))  # [D, K, N]: engaged and more capable
    n_eng = eng.sum(0)[None, :, None]
    return np.where(eng.T[None], 1.0 - rank / np.maximum(n_eng - 1, 1), 0.0)


def probabilities(des: Design, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mass of each landing point [D, K, A], remainder [D, K]) from the conditional logit."""
    util = des.X @ beta
    ok = np.concatenate([des.valid, np.ones((*des.valid.shape[:-1], 1), bool)], axis=-1)
    util = np.where(ok, util, -np.inf)
    util = util - util.max(axis=-1, keepdims=True)
    e = np.exp(util)
    p = e / e.sum(axis=-1, keepdims=True)
    return p[..., :-1], p[..., -1]


def distribution(batch: Batch, params: Params | None = None,
                 des: Design | None = None) -> tuple[Mixed, Design]:
    """The forecast distribution of every draw and issue, and the design it came from."""
    params = params or Params()
    des = des if des is not None else design(batch, params)
    mass, _ = probabilities(des, params.beta())
    cdf = laplace_cdf(des.centre, params.remainder_scale, des.low, des.high)
    return Mixed(np.where(des.valid, des.point, 100.0), mass, cdf), des


def solve(batch: Batch, params: Params | None = None) -> Outcome:
    """Outcome: the distribution's median; info carries the landing points for display: per draw
    and issue the points (landing_point) and their probabilities (landing_probability) in
    float32, ample for a summary that shows 0.01 points and 0.0001 probability and half the
    memory (10^5 draws of a 7-actor, 6-issue scenario: 82 MB instead of 163), the candidates'
    slots (landing_slot) and the probability of landing elsewhere (landing_remainder)."""
    params = params or Params()
    d, k, n = batch.draws, batch.n_issues, batch.n_actors
    shape = (d, k, n + len(POINTS))
    out = np.empty((d, k))
    point, mass = np.empty(shape, np.float32), np.empty(shape, np.float32)
    remainder = np.empty((d, k))
    slot = np.empty(shape, _slot_type(shape[-1]))
    solve_block = _compiled_block if _use_compiled(params, d, shape[-1]) else _numpy_block
    for start in range(0, d, BLOCK_DRAWS):  # blocks whose arrays stay in the CPU's cache
        part = batch.take(slice(start, start + BLOCK_DRAWS)) if d > BLOCK_DRAWS else batch
        at = slice(start, start + part.draws)
        solve_block(part, params, point[at], mass[at], remainder[at], slot[at], out[at])
    return Outcome.always(
        out, landing_point=point, landing_probability=mass, landing_slot=slot,
        landing_remainder=remainder, landing_actors=batch.actors, learnt_from=LEARNT_FROM,
        version=VERSION if params.coefficients == _shipped_coefficients() else "custom")


COMPILED_FROM = 12_000
"""engine="auto" runs the compiled engine from this many draws in one call on (or once numba is
loaded). Loading numba and the cached machine code costs ~0.5 s a process; the compiled engine
saves ~18 us a draw on the bundled scenario, so the default 10^4 draws (one call) stay on numpy
and a 10^5-draw run (16,384-draw calls) compiles from its first call."""


MAX_COMPILED_CANDIDATES = 127
"""The compiled engine's limit on candidates (actors + POINTS; `_focal_numba.MAX_CANDIDATES`):
its row sums follow numpy's order only up to 128 terms."""


def _use_compiled(params: Params, draws: int, candidates: int = 0) -> bool:
    """Whether this call runs the compiled engine (decided once per call)."""
    if candidates > MAX_COMPILED_CANDIDATES and params.engine != "numpy":
        if params.engine == "compiled":
            raise ValueError(f"engine 'compiled' takes at most {MAX_COMPILED_CANDIDATES - len(POINTS)}"
                             " actors; use engine 'numpy'")
        return False
    return use_compiled(params.engine, draws >= COMPILED_FROM)


def one_run_params(params: Params) -> Params:
    """Params for a single run (a scenario without uncertain inputs, or the answer's line of
    every model at the most likely inputs): "auto" takes the numpy engine, which answers in
    milliseconds, where the compiled one would cost loading (or, after installing, compiling)
    once another model has loaded numba."""
    return replace(params, engine="numpy") if params.engine == "auto" else params


def relative_cost(params: Params) -> float:
    """Time per draw relative to the compromise model (`benchmarks/bench_focal.py`, 10^5 draws
    of the bundled scenario): about 24 with the numpy engine, 5 with the compiled one."""
    return 5.0 if _use_compiled(params, COMPILED_FROM) else 25.0


def compiles_first(params: Params, draws: int, n_actors: int, n_issues: int) -> bool:
    """Whether this run would first compile the compiled engine (no machine code cached yet)."""
    if not _use_compiled(params, draws, n_actors + len(POINTS)):
        return False
    from parley.models import _focal_numba, _numba_cache

    return not _numba_cache.warm(_focal_numba.land)


def _numpy_block(part: Batch, params: Params, point: np.ndarray, mass: np.ndarray,
                 remainder: np.ndarray, slot: np.ndarray, out: np.ndarray) -> None:
    """One block of draws through `landing` and `_median`, into the given views."""
    land = landing(part, params)
    points = np.where(land.valid, land.point, 100.0)
    point[...], mass[...], remainder[...], slot[...] = points, land.mass, land.remainder, land.slot
    out[...] = _median(points, land.mass, land.remainder, land, params.remainder_scale)


def _compiled_block(part: Batch, params: Params, point: np.ndarray, mass: np.ndarray,
                    remainder: np.ndarray, slot: np.ndarray, out: np.ndarray) -> None:
    """One block of draws through the compiled engine (`_focal_numba.land`), into the views."""
    from parley.models import _focal_numba as nb

    r = part.draws * part.n_issues
    actors = part.actors
    council = np.array([a not in (params.commission, params.parliament) for a in actors])
    beta, flag_j, flag_beta, lead, low_j, high_j = _kernel_constants(params, actors)

    def index(code: str) -> int:
        return actors.index(code) if code in actors else -1

    def dense(a: np.ndarray, kind: type = float) -> np.ndarray:  # read-only, as sampled
        arr = np.ascontiguousarray(a, dtype=kind)  # batches are: one compiled signature
        if arr.flags.writeable:
            arr = arr.view()
            arr.flags.writeable = False
        return arr

    nb.land(dense(part.position), dense(part.salience), dense(part.capability),
            dense(part.engaged, bool), dense(part.status_quo), council,
            index(params.commission), index(params.parliament), params.rule == "qmv",
            float(params.quota), params.procedure == "codecision", float(params.merge), lead,
            flag_j, flag_beta, low_j, high_j, beta, _grid(), _on_knot(KNOTS),
            float(params.remainder_scale), point.reshape(r, -1), mass.reshape(r, -1),
            remainder.reshape(r), slot.reshape(r, -1), out.reshape(r))


@lru_cache(maxsize=1)
def _grid() -> tuple[float, float, int]:
    """KNOTS as the compiled engine takes them: (first knot, spacing, number), checked to give
    every knot exactly."""
    step = _even_step(KNOTS)
    grid = (float(KNOTS[0]), float(step), int(KNOTS.size))
    if not (step and np.array_equal(grid[0] + np.arange(grid[2]) * step, KNOTS)):
        raise ValueError("the compiled focal engine needs evenly spaced knots")
    return grid


def _kernel_constants(params: Params, actors: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """The coefficients as `_focal_numba.land` reads them: beta in its BETA order, the flags of
    single candidates (`_flags`, in order), the candidates in reverse order of PRIORITY and the
    scale's ends."""
    from parley.models import _focal_numba as nb

    n = len(actors)
    named = dict(zip(ALL_FEATURES, params.beta().tolist(), strict=True))
    flags = _flags(actors, params, n)
    return (np.array([named[name] for name in nb.BETA]),
            np.array([j for _, j in flags], np.intp), np.array([named[f] for f, _ in flags]),
            np.array(_lead_last(n), np.intp),
            np.intp(n + POINTS.index("low_end")), np.intp(n + POINTS.index("high_end")))


def _median(point: np.ndarray, mass: np.ndarray, remainder: np.ndarray, des: Design | Landing,
            scale: float) -> np.ndarray:
    """The median of `distribution`'s Mixed, without building its continuous CDF table: the
    search evaluates the truncated Laplace at the dozen knots it visits (same numbers)."""
    if np.isnan(point).any():  # the general path (points are never NaN here)
        cdf = laplace_cdf(des.centre, scale, des.low, des.high)
        return Mixed(point, mass, cdf).median()
    # valid points fill the first slots; slots that no draw uses are atoms of mass 0 at 100,
    # which the search treats like the scale's end: leave them out
    a = max(int(des.valid.sum(-1).max(initial=0)), 1)
    lap = TruncatedLaplace(des.centre.ravel(), scale, des.low.ravel(), des.high.ravel())
    q = quantile_search(point[..., :a].reshape(-1, a), mass[..., :a].reshape(-1, a),
                        remainder.ravel(), lap.at, KNOTS, 0.5)
    return q.reshape(point.shape[:-1])


def landing_summary(info: dict[str, Any], actors: tuple[str, ...], issue: int,
                    top: int = 4) -> list[dict[str, Any]]:
    """The most likely landing points of one issue over all draws: probability (mean over
    draws), mean point, and who or what holds it; labels are actor names or POINT_LABELS."""
    pts = np.asarray(info["landing_point"])[:, issue]  # [D, A]
    prob = np.asarray(info["landing_probability"])[:, issue]
    slot = np.asarray(info["landing_slot"])[:, issue]  # [D, N + P]
    d = pts.shape[0]
    n = slot.shape[-1] - len(POINTS)
    # rows of [holders | kinds] (which candidates merged into it) over draws × points
    uniq, inverse = _unique_rows(members(slot, pts.shape[-1]))
    p, x = prob.reshape(-1).astype(float), np.nan_to_num(pts.reshape(-1)).astype(float)
    total = np.bincount(inverse, weights=p, minlength=len(uniq))
    moment = np.bincount(inverse, weights=p * x, minlength=len(uniq))
    rows = [{"label": _label(uniq[u, :n], uniq[u, n:], actors), "probability": total[u] / d,
             "point": moment[u] / total[u]} for u in range(len(uniq)) if total[u] > 0]
    rows.sort(key=lambda r: -r["probability"])
    return rows[:top]


def _unique_rows(*parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, axis=0, return_inverse=True) for the boolean rows keys = the parts
    [..., w_i] side by side, flattened to [rows, Σ w_i], from each row's bits packed into one
    integer (first column most significant, so the rows come out in the same order): np.unique
    on rows sorts them as opaque records, ~50 times slower. Up to 20 columns the integers index
    a table of the codes seen, and nothing is sorted."""
    width = sum(part.shape[-1] for part in parts)
    if width > 64:
        keys = np.concatenate(parts, axis=-1)
        uniq, inverse = np.unique(keys.reshape(-1, width), axis=0, return_inverse=True)
        return uniq, inverse.reshape(-1)
    codes = np.zeros(parts[0].shape[:-1], np.uint64)
    for part in parts:
        w = part.shape[-1]
        packed = np.packbits(part, axis=-1)  # big bit order: column 0 is the top bit
        nb = packed.shape[-1]
        word = np.zeros((*packed.shape[:-1], 8), np.uint8)
        word[..., 8 - nb :] = packed
        bits = word.view(">u8")[..., 0].astype(np.uint64) >> np.uint64(8 * nb - w)
        codes = (codes << np.uint64(w)) | bits
    codes = codes.reshape(-1)
    if width <= 20:
        index = codes.astype(np.intp)
        seen = np.bincount(index, minlength=1 << width) > 0
        found, inverse = np.flatnonzero(seen).astype(np.uint64), (np.cumsum(seen) - 1)[index]
    else:
        found, inverse = np.unique(codes, return_inverse=True)
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64)
    uniq = ((found[:, None] >> shifts) & np.uint64(1)).astype(bool)
    return uniq, inverse.reshape(-1)


def _label(holders: np.ndarray, kinds: np.ndarray, actors: tuple[str, ...]) -> str:
    names = [actors[i] for i in np.flatnonzero(holders)]
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        if len(names) > 1:
            return f"the position of {shown}"
        return f"{shown}' position" if shown.endswith("s") else f"{shown}'s position"
    labels = [POINT_LABELS[POINTS[j]] for j in np.flatnonzero(kinds)]
    return labels[0] if labels else "another point"
